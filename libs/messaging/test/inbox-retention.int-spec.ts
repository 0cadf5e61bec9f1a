import { CsmsError, deriveId } from '@csms/contracts';
import { EventConsumer, InboxRetention1765600000000, messagingMigrations, type EventHandler } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { createTestDatabase, uniqueName, waitFor } from '@csms/testing';
import {
  messagingSuite,
  appliedCount,
  applyTotals,
  counterEvents,
  counterTopic,
  startCounterConsumer,
  totals,
} from './fixture';

/**
 * ADR 0011: the consumer's position per partition drops redeliveries without the inbox, so the inbox rows of a topic
 * with a retention can be pruned; a copy under the same id at a later offset is still dropped by the inbox while its
 * row lives; a partition that is not the log the consumer applied stops the consumer instead of being skipped.
 * Real Kafka, real PostgreSQL; the fixture's state change counts (a second apply would show).
 */
describe('consumer positions and inbox retention (real Kafka, real PostgreSQL)', () => {
  const suite = messagingSuite('inbox_retention');
  const { cleanups } = suite;

  const setup = () => counterTopic(suite, 'test.retained');
  const startConsumer = (
    topic: string,
    catalogue: ReturnType<typeof counterEvents>['catalogue'],
    name: string,
    extra: Partial<ConstructorParameters<typeof EventConsumer>[0]> = {},
    handler: EventHandler = applyTotals,
  ) => startCounterConsumer(suite, topic, catalogue, name, handler, { retryMaxMs: 200, ...extra });

  async function rewind(group: string, topic: string) {
    const admin = suite.kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: group, topic, earliest: true });
    await admin.disconnect();
  }

  const position = async (group: string) =>
    (
      await suite.db.dataSource.query<Array<{ partition: number; next: string; last: string | null }>>(
        `select partition, next_offset::text as next, last_event_id::text as last from consumer_positions where consumer = $1`,
        [group],
      )
    ).map((r) => ({ partition: r.partition, next: Number(r.next), last: r.last }));
  const inboxRows = async (group: string) =>
    (
      await suite.db.dataSource.query<Array<{ n: number; expiring: number }>>(
        `select count(*)::int as n, count(expires_at)::int as expiring from inbox where consumer = $1`,
        [group],
      )
    )[0];

  it('the position names the last record handled; a redelivery of records whose inbox rows are gone changes nothing', async () => {
    const { topic, catalogue, make, send } = await setup();
    const events = Array.from({ length: 12 }, (_, i) => make('a', i + 1));
    await send(...events);
    const group = uniqueName('positions');
    const first = await startConsumer(topic, catalogue, group, { inboxRetentionMs: { [topic]: 3_600_000 } });
    await waitFor(() => first.consumer.stats().applied === 12, { what: '12 applied' });
    await first.stop();
    expect(await position(group)).toEqual([{ partition: 0, next: 12, last: events[11].id }]);
    expect(await inboxRows(group)).toEqual({ n: 12, expiring: 12 });

    // the inbox rows pruned (as after their retention), the offsets lost (a group idle past the broker's offset
    // retention): the whole partition comes again and is dropped by the position
    await suite.db.dataSource.query('delete from inbox where consumer = $1', [group]);
    await rewind(group, topic);
    const second = await startConsumer(topic, catalogue, group, { inboxRetentionMs: { [topic]: 3_600_000 } });
    await waitFor(() => second.consumer.stats().duplicates === 12, { what: '12 duplicates dropped' });
    expect(second.consumer.stats().applied).toBe(0);
    expect(await inboxRows(group)).toEqual({ n: 0, expiring: 0 });

    // then new records are applied as usual, the position moving on
    await send(make('a', 13));
    await waitFor(() => second.consumer.stats().applied === 1, { what: 'the new record applied' });
    expect(await totals(suite.db.dataSource)).toEqual({ a: { count: 13, sum: 91 } });
    expect(await position(group)).toEqual([{ partition: 0, next: 13, last: make('a', 13).id }]);
  });

  it('a copy under the same event id at a later offset is dropped by the inbox while its row lives', async () => {
    const { topic, catalogue, make, send } = await setup();
    const group = uniqueName('copies');
    const { consumer } = await startConsumer(topic, catalogue, group, { inboxRetentionMs: { [topic]: 3_600_000 } });
    await send(make('b', 1), make('b', 2));
    await waitFor(() => consumer.stats().applied === 2, { what: '2 applied' });
    // a station repeating a call: the gateway records it again under the same id, at a new offset
    await send(make('b', 2), make('b', 3));
    await waitFor(() => consumer.stats().applied === 3 && consumer.stats().duplicates === 1, {
      what: 'the copy dropped, the new record applied',
    });
    expect(await totals(suite.db.dataSource)).toEqual({ b: { count: 3, sum: 6 } });
    expect(await position(group)).toEqual([{ partition: 0, next: 4, last: make('b', 3).id }]);
  });

  it('prunes the expired rows of the topics with a retention only, oldest first, in rounds', async () => {
    const kept = await setup();
    const retained = await setup();
    const group = uniqueName('prune');
    const consumer = new EventConsumer({
      name: group,
      topics: [kept.topic, retained.topic],
      catalogue: kept.catalogue,
      handler: applyTotals,
      kafka: suite.kafka,
      dataSource: suite.db.dataSource,
      publisher: suite.publisher,
      logger: silentLogger(),
      inboxRetentionMs: { [retained.topic]: 1 },
      inboxPruneBatch: 4,
      inboxPruneIntervalMs: 3_600_000, // pruned by hand below
    });
    // the two topics' events are of the one counter type: one catalogue decodes both
    await consumer.start();
    cleanups.push(() => consumer.stop());
    await kept.send(...Array.from({ length: 3 }, (_, i) => kept.make('kept', i + 1)));
    await retained.send(...Array.from({ length: 10 }, (_, i) => retained.make('retained', i + 1)));
    await waitFor(() => consumer.stats().applied === 13, { what: '13 applied' });
    expect(await inboxRows(group)).toEqual({ n: 13, expiring: 10 });

    await new Promise((r) => setTimeout(r, 20));
    expect(await consumer.pruneExpiredInbox()).toBe(10);
    expect(consumer.stats().inboxPruned).toBe(10);
    const left = await suite.db.dataSource.query<Array<{ topic: string }>>(
      'select distinct topic from inbox where consumer = $1',
      [group],
    );
    expect(left).toEqual([{ topic: kept.topic }]);
    expect(await inboxRows(group)).toEqual({ n: 3, expiring: 0 });
    expect(await consumer.pruneExpiredInbox()).toBe(0);
  });

  it('the timer prunes while the consumer runs', async () => {
    const { topic, catalogue, make, send } = await setup();
    const group = uniqueName('prune_timer');
    const { consumer } = await startConsumer(topic, catalogue, group, {
      inboxRetentionMs: { [topic]: 1 },
      inboxPruneIntervalMs: 100,
    });
    await send(make('t', 1), make('t', 2), make('t', 3));
    await waitFor(() => consumer.stats().applied === 3, { what: '3 applied' });
    await waitFor(async () => (await inboxRows(group)).n === 0, { what: 'the expired rows pruned by the timer' });
    expect(consumer.stats().inboxPruned).toBe(3);
  });

  it('a parked record moves the position past it; its re-drive applies it once', async () => {
    const { topic, catalogue, make, send } = await setup();
    const group = uniqueName('parked');
    let broken = true;
    const handler: EventHandler = async (event, ctx) => {
      if (broken && (event.payload as { n: number }).n === 2)
        throw new CsmsError('INVARIANT_BROKEN', 'record 2 breaks an invariant', { retriable: false });
      await applyTotals(event, ctx);
    };
    const { consumer, stop } = await startConsumer(topic, catalogue, group, {}, handler);
    await send(make('p', 1), make('p', 2), '{"not": "an envelope"}');
    await waitFor(() => consumer.stats().applied === 1 && consumer.stats().parked === 2, {
      what: '1 applied, 2 parked',
    });
    // the last record could not be read: the position names no event there
    await waitFor(async () => (await position(group))[0]?.next === 3, { what: 'the position past the parked records' });
    expect(await position(group)).toEqual([{ partition: 0, next: 3, last: null }]);

    broken = false;
    const [{ id }] = await suite.db.dataSource.query<Array<{ id: string }>>(
      `select id from dead_letters where consumer = $1 and "offset" = 1`,
      [group],
    );
    expect(await consumer.redrive(id)).toMatchObject({ outcome: 'applied' });
    expect(await totals(suite.db.dataSource)).toEqual({ p: { count: 2, sum: 3 } });
    await stop();
    // every record comes again: the position drops them all, the re-driven one included, and the unreadable one is
    // not parked a second time
    await rewind(group, topic);
    const again = await startConsumer(topic, catalogue, group, {}, handler);
    await waitFor(() => again.consumer.stats().duplicates === 3, { what: 'the three records dropped' });
    await new Promise((r) => setTimeout(r, 300));
    expect(again.consumer.stats()).toMatchObject({ applied: 0, parked: 0 });
    expect(await appliedCount(suite.db.dataSource)).toBe(2);
  });

  it('a partition that ends below the position stops the consumer (LOG_REPLACED), nothing applied or dropped', async () => {
    const { topic, catalogue, make, send } = await setup();
    const group = uniqueName('shorter');
    const first = await startConsumer(topic, catalogue, group);
    await send(make('r', 1));
    await waitFor(() => first.consumer.stats().applied === 1, { what: '1 applied' });
    await first.stop();
    // as if the topic had held 1,000 records when this consumer applied them, and holds 3 now
    await suite.db.dataSource.query('update consumer_positions set next_offset = 1000 where consumer = $1', [group]);
    await send(make('r', 2), make('r', 3));
    const second = await startConsumer(topic, catalogue, group);
    await waitFor(() => second.consumer.failureCounts().some((f) => f.code === 'LOG_REPLACED' && f.count >= 3), {
      what: 'LOG_REPLACED retried',
    });
    expect(second.consumer.failureCounts().every((f) => f.verdict === 'retry')).toBe(true);
    expect(second.consumer.stats()).toMatchObject({ applied: 0, duplicates: 0, parked: 0 });
    expect(await totals(suite.db.dataSource)).toEqual({ r: { count: 1, sum: 1 } });
  });

  it('another event at the offset below the position stops the consumer (LOG_REPLACED)', async () => {
    const { topic, catalogue, make, send } = await setup();
    const group = uniqueName('other_log');
    const first = await startConsumer(topic, catalogue, group);
    await send(make('s', 1), make('s', 2));
    await waitFor(() => first.consumer.stats().applied === 2, { what: '2 applied' });
    await first.stop();
    await suite.db.dataSource.query(`update consumer_positions set last_event_id = $2 where consumer = $1`, [
      group,
      deriveId('another log'),
    ]);
    await rewind(group, topic);
    const second = await startConsumer(topic, catalogue, group);
    await waitFor(() => second.consumer.failureCounts().some((f) => f.code === 'LOG_REPLACED'), {
      what: 'LOG_REPLACED',
    });
    expect(second.consumer.stats().applied).toBe(0);
    expect(await totals(suite.db.dataSource)).toEqual({ s: { count: 2, sum: 3 } });
  });

  it('the migration seeds each position from the inbox and lets the rows of ocpp.inbound expire', async () => {
    const before = messagingMigrations.filter((m) => m !== InboxRetention1765600000000);
    const db = await createTestDatabase('inbox_retention_migration', before);
    try {
      const id = (n: number) => deriveId('migration', n);
      await db.dataSource.query(
        `insert into inbox (consumer, event_id, topic, partition, "offset", applied_at) values
         ('sessions', $1, 'ocpp.inbound', 0, 7, '2026-12-01T00:00:00Z'),
         ('sessions', $2, 'ocpp.inbound', 0, 9, '2026-12-01T00:00:00Z'),
         ('sessions', $3, 'ocpp.inbound', 1, 4, '2026-12-01T00:00:00Z'),
         ('tariffs', $4, 'session.events', 0, 11, '2026-12-01T00:00:00Z')`,
        [id(1), id(2), id(3), id(4)],
      );
      const runner = db.dataSource.createQueryRunner();
      try {
        await new InboxRetention1765600000000().up(runner);
      } finally {
        await runner.release();
      }
      const positions = await db.dataSource.query(
        `select consumer, topic, partition, next_offset::int as next, last_event_id::text as last
         from consumer_positions order by consumer, topic, partition`,
      );
      expect(positions).toEqual([
        { consumer: 'sessions', topic: 'ocpp.inbound', partition: 0, next: 10, last: id(2) },
        { consumer: 'sessions', topic: 'ocpp.inbound', partition: 1, next: 5, last: id(3) },
        { consumer: 'tariffs', topic: 'session.events', partition: 0, next: 12, last: id(4) },
      ]);
      const expiry = await db.dataSource.query(
        `select topic, to_char(expires_at at time zone 'UTC', 'YYYY-MM-DD') as expires from inbox order by "offset"`,
      );
      expect(expiry).toEqual([
        { topic: 'ocpp.inbound', expires: '2026-12-08' },
        { topic: 'ocpp.inbound', expires: '2026-12-08' },
        { topic: 'ocpp.inbound', expires: '2026-12-08' },
        { topic: 'session.events', expires: null },
      ]);
    } finally {
      await db.drop();
    }
  });
});
