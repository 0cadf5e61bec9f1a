/**
 * The consumer transport (real Kafka, real PostgreSQL, a service started with `startService`): handlers declared
 * as `@EventPattern` methods of a `@ConsumerController()` get the consumer's transaction; their writes, the inbox
 * row and the outbox rows commit in that one transaction (the same PostgreSQL transaction id on all three); a
 * handler that throws rolls everything back and the event is retried, parked or given up exactly as the consumer
 * does it; an event type with no pattern is applied with no effect, one the catalogue does not know is parked.
 */
import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Type } from '@sinclair/typebox';
import type { EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import {
  CsmsError,
  EventCatalogue,
  closed,
  deadLetterSpec,
  defineEvent,
  deriveId,
  type Envelope,
} from '@csms/contracts';
import { DLQ_HEADERS, KafkaRecordPublisher, messagingMigrations, type HandlerContext } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import {
  ConsumerController,
  OnChunkEnd,
  OnChunkStart,
  OnGiveUp,
  Tx,
  startService,
  type ChunkEndContext,
  type ChunkStartContext,
  type GiveUpContext,
  type RunningService,
} from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  TopicCollector,
  dropTestDatabases,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
} from '@csms/testing';

/** xid of the current transaction as `xmin` shows it (32 bits) */
const XID = '(txid_current() % 4294967296)';

class TransportTables1764200000950 implements MigrationInterface {
  name = 'TransportTables1764200000950';
  async up(q: QueryRunner): Promise<void> {
    await q.query('create table effects (event_id uuid primary key, key text not null, xid bigint not null)');
    await q.query(
      'create table chunk_marks (seq bigserial primary key, hook text not null, events integer not null, xid bigint not null)',
    );
    await q.query('create table give_ups (event_id uuid primary key, error text not null, xid bigint not null)');
    // which transaction wrote each outbox row (the relay deletes the rows once published)
    await q.query('create table outbox_xids (event_id uuid primary key, xid bigint not null)');
    await q.query(`create function log_outbox_xid() returns trigger language plpgsql as $$
      begin insert into outbox_xids (event_id, xid) values (new.event_id, ${XID}); return new; end $$`);
    await q.query('create trigger outbox_xid after insert on outbox for each row execute function log_outbox_xid()');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'drop trigger outbox_xid on outbox; drop function log_outbox_xid(); drop table outbox_xids, give_ups, chunk_marks, effects',
    );
  }
}

describe('consumer transport: @EventPattern handlers over the exactly-once consumer (real Kafka and PostgreSQL)', () => {
  const inTopic = uniqueName('test.transport-in');
  const outTopic = uniqueName('test.transport-out');
  const group = uniqueName('transport');
  const db = `csms_test_transport_${process.pid}_${Math.floor(performance.now())}`;
  const payload = closed({ key: Type.String() });
  const Placed = defineEvent({
    type: 'test.order_placed',
    version: 1,
    topic: inTopic,
    description: 'test',
    schema: payload,
    example: { key: 'a' },
  });
  const Noted = defineEvent({
    type: 'test.order_noted',
    version: 1,
    topic: inTopic,
    description: 'test',
    schema: payload,
    example: { key: 'a' },
  });
  const Confirmed = defineEvent({
    type: 'test.order_confirmed',
    version: 1,
    topic: outTopic,
    description: 'test',
    schema: payload,
    example: { key: 'a' },
  });
  const catalogue = new EventCatalogue([Placed, Noted, Confirmed]);
  const spec = (name: string) => ({
    name,
    description: 'test',
    key: 'k',
    retentionMs: -1,
    cleanupPolicy: 'delete' as const,
  });
  const placed = (key: string): Envelope =>
    catalogue.create(Placed, {
      id: deriveId('placed', inTopic, key),
      key,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: { key },
    });
  const noted = (key: string): Envelope =>
    catalogue.create(Noted, {
      id: deriveId('noted', inTopic, key),
      key,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: { key },
    });

  /** How often each key has failed so far (the handler fails `flaky` twice, then succeeds). */
  const FAILURES = Symbol('failures');
  const failures = new Map<string, number>();

  @ConsumerController()
  class OrdersConsumer {
    constructor(@Inject(FAILURES) private readonly failed: Map<string, number>) {}

    @OnChunkStart()
    async start(@Payload() events: Envelope[], @Ctx() ctx: ChunkStartContext): Promise<void> {
      await ctx.manager.query(`insert into chunk_marks (hook, events, xid) values ('start', $1, ${XID})`, [
        events.length,
      ]);
    }

    @EventPattern(Placed.type)
    async placed(@Payload() event: Envelope, @Tx() manager: EntityManager, @Ctx() ctx: HandlerContext): Promise<void> {
      const { key } = event.payload as { key: string };
      // writes and emits first: a failure after this must leave nothing behind
      await manager.query(`insert into effects (event_id, key, xid) values ($1, $2, ${XID})`, [event.id, key]);
      ctx.emit(
        catalogue.create(Confirmed, {
          id: deriveId('confirmed', event.id),
          key,
          occurredAt: event.occurredAt,
          source: 'test',
          causationId: event.id,
          payload: { key },
        }),
      );
      if (key.startsWith('poison'))
        throw new CsmsError('KEY_POISONED', `orders of ${key} are refused`, { retriable: false });
      if (key.startsWith('doomed')) throw new Error(`${key} always fails`);
      if (key.startsWith('flaky')) {
        const n = (this.failed.get(key) ?? 0) + 1;
        this.failed.set(key, n);
        if (n <= 2) throw new Error(`${key} fails (${n})`);
      }
    }

    @OnChunkEnd()
    async end(@Ctx() ctx: ChunkEndContext): Promise<void> {
      await ctx.manager.query(`insert into chunk_marks (hook, events, xid) values ('end', 0, ${XID})`);
    }

    /** `doomed-*` orders are recorded as given up instead of parked; the others, and `doomed-twice-*`, fail here too (then parked). */
    @OnGiveUp()
    async givenUp(@Payload() event: Envelope, @Ctx() ctx: GiveUpContext): Promise<void> {
      const { key } = event.payload as { key: string };
      if (!key.startsWith('doomed-')) throw ctx.error;
      if (key.startsWith('doomed-twice')) throw new Error('recording the failure failed too');
      await ctx.manager.query(`insert into give_ups (event_id, error, xid) values ($1, $2, ${XID})`, [
        event.id,
        (ctx.error as Error).message,
      ]);
    }
  }

  let svc: RunningService;
  let publisher: KafkaRecordPublisher;
  let confirmations: TopicCollector;
  let deadLetters: TopicCollector;

  beforeAll(async () => {
    svc = await startService(
      {
        name: 'transport-test',
        title: 'consumer transport test',
        description: 'test',
        databaseUrl: testDatabaseUrl(db),
        migrations: [...messagingMigrations, TransportTables1764200000950],
        http: { port: 0, host: '127.0.0.1' },
        kafka: { brokers: TEST_KAFKA_BROKERS.join(','), partitions: 1 },
        topics: [spec(inTopic), spec(outTopic), deadLetterSpec(group)],
        consumers: () => [
          { name: group, topics: [inTopic], catalogue, retryInitialMs: 20, maxAttempts: 3, controller: OrdersConsumer },
        ],
        controllers: [],
        providers: () => [{ provide: FAILURES, useValue: failures }],
      },
      silentLogger(),
    );
    publisher = new KafkaRecordPublisher(testKafka());
    confirmations = await new TopicCollector(testKafka(), [outTopic]).start();
    deadLetters = await new TopicCollector(testKafka(), [deadLetterSpec(group).name]).start();
  }, 120_000);

  afterAll(async () => {
    await confirmations?.close();
    await deadLetters?.close();
    await publisher?.disconnect();
    await svc?.stop();
    await dropTestDatabases([db]);
  }, 60_000);

  const send = (...events: Envelope[]) =>
    publisher.publish(events.map((e) => ({ topic: inTopic, key: e.key, value: catalogue.encode(e) })));
  const sendRaw = (key: string, value: string) => publisher.publish([{ topic: inTopic, key, value }]);
  const q = async <T>(sql: string, params: unknown[] = []): Promise<T[]> =>
    (await svc.dataSource.query(sql, params)) as T[];
  const inboxXid = async (eventId: string) =>
    (
      await q<{ xid: string }>('select xmin::text as xid from inbox where consumer = $1 and event_id = $2', [
        group,
        eventId,
      ])
    )[0]?.xid;
  const effect = async (eventId: string) =>
    (await q<{ xid: string }>('select xid::text as xid from effects where event_id = $1', [eventId]))[0]?.xid;
  const outboxXid = async (eventId: string) =>
    (await q<{ xid: string }>('select xid::text as xid from outbox_xids where event_id = $1', [eventId]))[0]?.xid;
  const confirmed = (key: string) => confirmations.records.filter((r) => r.key === key).length;
  const consumer = () => svc.consumers[0];

  it('a handler gets the transaction: its write, its outbox record and the inbox row commit together, with the chunk hooks in it', async () => {
    const a = placed('plain-a');
    const b = placed('plain-b');
    await send(a, b);
    await waitFor(() => confirmed('plain-a') === 1 && confirmed('plain-b') === 1, {
      what: 'both confirmations published',
    });
    for (const e of [a, b]) {
      const xid = await inboxXid(e.id);
      expect(xid).toBeDefined();
      expect(await effect(e.id)).toBe(xid);
      expect(await outboxXid(deriveId('confirmed', e.id))).toBe(xid);
      const marks = await q<{ hook: string; events: number }>(
        'select hook, events from chunk_marks where xid = $1 order by seq',
        [xid],
      );
      expect(marks.map((m) => m.hook)).toEqual(['start', 'end']);
      expect(marks[0].events).toBeGreaterThanOrEqual(1);
    }
    expect(JSON.parse(confirmations.records.find((r) => r.key === 'plain-a')!.value ?? '').causationId).toBe(a.id);
  });

  it('a handler that throws rolls back its write, its outbox record and the inbox row; the event is retried and applied once', async () => {
    const e = placed('flaky-1');
    const retries = consumer().stats().retries;
    await send(e);
    await waitFor(async () => (await inboxXid(e.id)) !== undefined, { what: 'flaky event applied' });
    expect(failures.get('flaky-1')).toBe(3);
    // failed in its chunk, then alone: failed once more (one retry), then applied
    expect(consumer().stats().retries - retries).toBe(1);
    expect(await q('select 1 from effects where event_id = $1', [e.id])).toHaveLength(1);
    expect(await effect(e.id)).toBe(await inboxXid(e.id));
    expect(await outboxXid(deriveId('confirmed', e.id))).toBe(await inboxXid(e.id));
    await waitFor(() => confirmed('flaky-1') === 1, { what: 'one confirmation' });
  });

  it('an error flagged not retriable parks the event with its own code; nothing of it is written and the next event is applied', async () => {
    const bad = placed('poison-1');
    const next = placed('after-poison-1');
    await send(bad, next);
    await waitFor(() => confirmed('after-poison-1') === 1, { what: 'the next event applied' });
    await waitFor(() => deadLetters.records.find((r) => r.key === 'poison-1'), {
      what: 'parked on the dead-letter topic',
    });
    const dl = deadLetters.records.find((r) => r.key === 'poison-1')!;
    expect(dl.headers[DLQ_HEADERS.code]).toBe('KEY_POISONED');
    expect(dl.headers[DLQ_HEADERS.attempts]).toBe('1');
    expect(await q('select error_code from dead_letters where event_id = $1', [bad.id])).toEqual([
      { error_code: 'KEY_POISONED' },
    ]);
    expect(await inboxXid(bad.id)).toBeUndefined();
    expect(await q('select 1 from effects where event_id = $1', [bad.id])).toHaveLength(0);
    expect(await outboxXid(deriveId('confirmed', bad.id))).toBeUndefined();
    expect(confirmed('poison-1')).toBe(0);
  });

  it('an unclassified error is retried maxAttempts times, then given up by the @OnGiveUp hook in a transaction of its own; if that throws too, parked', async () => {
    const doomed = placed('doomed-1');
    const twice = placed('doomed-twice-1');
    await send(doomed, twice);
    await waitFor(async () => (await q('select 1 from give_ups where event_id = $1', [doomed.id])).length === 1, {
      what: 'given up',
    });
    const [g] = await q<{ error: string; xid: string }>(
      'select error, xid::text as xid from give_ups where event_id = $1',
      [doomed.id],
    );
    expect(g.error).toBe('doomed-1 always fails');
    expect(await inboxXid(doomed.id)).toBe(g.xid);
    expect(await q('select 1 from effects where event_id = $1', [doomed.id])).toHaveLength(0);
    await waitFor(() => deadLetters.records.find((r) => r.key === 'doomed-twice-1'), {
      what: 'parked after a failed give-up',
    });
    const dl = deadLetters.records.find((r) => r.key === 'doomed-twice-1')!;
    expect(dl.headers[DLQ_HEADERS.code]).toBe('HANDLER_FAILED');
    expect(dl.headers[DLQ_HEADERS.attempts]).toBe('3');
    expect(await inboxXid(twice.id)).toBeUndefined();
    expect(confirmed('doomed-1') + confirmed('doomed-twice-1')).toBe(0);
  });

  it('an event type with no @EventPattern is applied with no effect (inbox row, offset moves on); a type the catalogue does not know is parked', async () => {
    const n = noted('noted-1');
    const unknown = JSON.stringify({
      ...placed('unknown-1'),
      id: deriveId('unknown', inTopic),
      type: 'test.order_lost',
    });
    const after = placed('after-unknown-1');
    await send(n);
    await sendRaw('unknown-1', unknown);
    await send(after);
    await waitFor(() => confirmed('after-unknown-1') === 1, { what: 'the event after them applied' });
    expect(await inboxXid(n.id)).toBeDefined();
    expect(await q('select 1 from effects where event_id = $1', [n.id])).toHaveLength(0);
    expect(await q('select 1 from dead_letters where event_id = $1', [n.id])).toHaveLength(0);
    await waitFor(() => deadLetters.records.find((r) => r.key === 'unknown-1'), { what: 'unknown type parked' });
    expect(deadLetters.records.find((r) => r.key === 'unknown-1')!.headers[DLQ_HEADERS.code]).toBe(
      'UNKNOWN_EVENT_TYPE',
    );
  });
});
