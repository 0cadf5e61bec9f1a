import { Type } from '@sinclair/typebox';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { EventCatalogue, closed, defineEvent, deriveId, type Envelope } from '@csms/contracts';
import type { Kafka } from 'kafkajs';
import {
  EventConsumer,
  KafkaRecordPublisher,
  appendToOutbox,
  messagingMigrations,
  type EventHandler,
} from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { createTestDatabase, createTestTopics, testKafka, uniqueName, type TestDatabase } from '@csms/testing';

/**
 * A tiny service for the messaging tests: a business transaction increments a per-key counter and
 * emits `test.counter_incremented {key, n}`; a consumer folds those events into totals.
 * Its state change is deliberately NOT idempotent (count = count + 1), so a duplicate apply would show.
 */
export function counterEvents(topic: string) {
  const V1 = defineEvent({
    type: 'test.counter_incremented',
    version: 1,
    topic,
    description: 'test',
    schema: closed({ key: Type.String(), n: Type.Integer({ minimum: 1 }) }),
    example: { key: 'a', n: 1 },
  });
  return { V1, catalogue: new EventCatalogue([V1]) };
}

class CounterTables1764200000001 implements MigrationInterface {
  name = 'CounterTables1764200000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query('create table counters (key text primary key, n integer not null)');
    await q.query('create table totals (key text primary key, count integer not null, sum integer not null)');
    await q.query(
      'create table applied_log (seq bigserial primary key, event_id uuid not null, key text not null, n integer not null)',
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table applied_log; drop table totals; drop table counters');
  }
}
export const fixtureMigrations = [...messagingMigrations, CounterTables1764200000001];

/** The business transaction: increments `key` and emits the event through the outbox. */
export async function increment(
  ds: DataSource,
  catalogue: EventCatalogue,
  def: ReturnType<typeof counterEvents>['V1'],
  key: string,
  fail = false,
): Promise<Envelope> {
  return ds.transaction(async (m) => {
    const [{ n }] = await m.query(
      'insert into counters (key, n) values ($1, 1) on conflict (key) do update set n = counters.n + 1 returning n',
      [key],
    );
    const ev = catalogue.create(def, {
      id: deriveId('counter', key, n),
      key,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: { key, n },
    });
    await appendToOutbox(m, catalogue, [ev]);
    if (fail) throw new Error('business rule failed after the outbox append');
    return ev;
  });
}

export const applyTotals: EventHandler = async (event, { manager }) => {
  const { key, n } = event.payload as { key: string; n: number };
  await manager.query(
    'insert into totals (key, count, sum) values ($1, 1, $2) on conflict (key) do update set count = totals.count + 1, sum = totals.sum + $2',
    [key, n],
  );
  await manager.query('insert into applied_log (event_id, key, n) values ($1, $2, $3)', [event.id, key, n]);
};

export async function totals(ds: DataSource): Promise<Record<string, { count: number; sum: number }>> {
  const rows: Array<{ key: string; count: number; sum: number }> = await ds.query(
    'select key, count, sum from totals order by key',
  );
  return Object.fromEntries(rows.map((r) => [r.key, { count: r.count, sum: r.sum }]));
}

export async function appliedCount(ds: DataSource): Promise<number> {
  const [{ c }] = await ds.query('select count(*)::int as c from applied_log');
  return c;
}

export interface MessagingSuite {
  db: TestDatabase;
  kafka: Kafka;
  publisher: KafkaRecordPublisher;
  /** run after each test, last registered first */
  cleanups: Array<() => Promise<void>>;
}

/**
 * The hooks every messaging suite needs: a database of its own with the fixture tables, a Kafka client and
 * publisher, per-test cleanups and an emptied database between tests. Fields are set in beforeAll.
 */
export function messagingSuite(label: string): MessagingSuite {
  const suite = { cleanups: [] } as unknown as MessagingSuite;
  beforeAll(async () => {
    suite.db = await createTestDatabase(label, fixtureMigrations);
    suite.kafka = testKafka();
    suite.publisher = new KafkaRecordPublisher(suite.kafka);
  });
  afterEach(async () => {
    while (suite.cleanups.length) await suite.cleanups.pop()!();
    await suite.db.dataSource.query(
      'truncate outbox, parked_outbox, inbox, consumer_positions, dead_letters, counters, totals, applied_log',
    );
  });
  afterAll(async () => {
    await suite.publisher.disconnect();
    await suite.db.drop();
  });
  return suite;
}

/**
 * A one-partition topic of counter events: `make(key, n)` an event (id derived from topic, key and n), `send(...)`
 * publishes events (keyed by their key) or raw values (key `raw`, e.g. a poison record) in one batch.
 */
export async function counterTopic(suite: MessagingSuite, prefix = 'test.counters') {
  const topic = uniqueName(prefix);
  await createTestTopics(suite.kafka, [topic], 1);
  const ev = counterEvents(topic);
  const make = (key: string, n: number): Envelope =>
    ev.catalogue.create(ev.V1, {
      id: deriveId('counter', topic, key, n),
      key,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: { key, n },
    });
  const send = (...events: Array<Envelope | string>) =>
    suite.publisher.publish(
      events.map((e) =>
        typeof e === 'string' ? { topic, key: 'raw', value: e } : { topic, key: e.key, value: JSON.stringify(e) },
      ),
    );
  return { topic, ...ev, make, send };
}

/** Starts a consumer of `topic` on the suite's database (fast retries, 3 attempts); stopped after the test. */
export async function startCounterConsumer(
  suite: MessagingSuite,
  topic: string,
  catalogue: EventCatalogue,
  name: string,
  handler: EventHandler = applyTotals,
  extra: Partial<ConstructorParameters<typeof EventConsumer>[0]> = {},
) {
  const consumer = new EventConsumer({
    name,
    topics: [topic],
    catalogue,
    handler,
    kafka: suite.kafka,
    dataSource: suite.db.dataSource,
    publisher: suite.publisher,
    logger: silentLogger(),
    retryInitialMs: 20,
    maxAttempts: 3,
    ...extra,
  });
  await consumer.start();
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      await consumer.stop();
    }
  };
  suite.cleanups.push(stop);
  return { consumer, stop };
}
