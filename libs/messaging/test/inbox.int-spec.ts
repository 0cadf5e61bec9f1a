import { messagingMigrations, recordManyInInbox } from '@csms/messaging';
import { createTestDatabase, type TestDatabase } from '@csms/testing';

/**
 * The inbox's run statement (real PostgreSQL): which ids of a run are new. A run of new ids is answered with one row
 * and no ids (the ids of the run are then the answer); a run with ids recorded before, or an id twice, with the ids.
 */
describe('inbox: recording a run of events', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('inbox', messagingMigrations);
  });
  afterAll(async () => db.drop());

  const id = (n: number) => `0000000${n}-AAAA-5BBB-8CCC-00000000000${n}`; // upper case: ids compare in lower case
  const run = (...ns: number[]) =>
    ns.map((n, i) => ({ eventId: id(n), position: { topic: 't', partition: 0, offset: String(100 + i) } }));
  const record = (consumer: string, items: ReturnType<typeof run>) =>
    db.dataSource.transaction((m) => recordManyInInbox(m, consumer, items));
  const rows = async (consumer: string) =>
    (
      await db.dataSource.query<Array<{ id: string }>>(
        'select event_id::text as id from inbox where consumer = $1 order by event_id',
        [consumer],
      )
    ).map((r) => r.id);

  it('a run of new ids: every id, in lower case, each recorded once', async () => {
    const fresh = await record('c1', run(1, 2, 3));
    expect([...fresh].sort()).toEqual([id(1), id(2), id(3)].map((s) => s.toLowerCase()));
    expect(await rows('c1')).toEqual([id(1), id(2), id(3)].map((s) => s.toLowerCase()));
  });

  it('ids recorded before are not new; a consumer of its own has its own inbox', async () => {
    await record('c2', run(1, 2));
    const fresh = await record('c2', run(2, 4, 1, 5));
    expect([...fresh].sort()).toEqual([id(4), id(5)].map((s) => s.toLowerCase()));
    expect(await rows('c2')).toHaveLength(4);
    expect([...(await record('c3', run(1)))]).toEqual([id(1).toLowerCase()]);
  });

  it('an id twice in a run counts once; a run all recorded before gives none', async () => {
    const fresh = await record('c4', run(6, 7, 6));
    expect([...fresh].sort()).toEqual([id(6), id(7)].map((s) => s.toLowerCase()));
    expect(await rows('c4')).toHaveLength(2);
    expect((await record('c4', run(7, 6))).size).toBe(0);
    expect((await record('c4', [])).size).toBe(0);
  });

  it('a run with a retention expires that long after its transaction; without one it is kept (no expiry)', async () => {
    await db.dataSource.transaction((m) => recordManyInInbox(m, 'c5', run(1, 2), 3_600_000));
    await record('c5', run(3));
    const expiry = await db.dataSource.query<Array<{ id: string; ms: number | null }>>(
      `select event_id::text as id, (extract(epoch from expires_at - applied_at) * 1000)::int as ms
       from inbox where consumer = 'c5' order by event_id`,
    );
    expect(expiry).toEqual([
      { id: id(1).toLowerCase(), ms: 3_600_000 },
      { id: id(2).toLowerCase(), ms: 3_600_000 },
      { id: id(3).toLowerCase(), ms: null },
    ]);
  });

  it('the inbox is indexed by its primary key (consumer, event id) and, for rows that expire only, by expiry', async () => {
    const indexes = await db.dataSource.query<Array<{ name: string; def: string }>>(
      "select indexname as name, indexdef as def from pg_indexes where tablename = 'inbox' order by indexname",
    );
    expect(indexes).toEqual([
      {
        name: 'inbox_expiry',
        def: expect.stringMatching(/\(consumer, expires_at\) WHERE \(expires_at IS NOT NULL\)$/),
      },
      { name: 'inbox_pkey', def: expect.stringContaining('(consumer, event_id)') },
    ]);
  });
});
