/**
 * What a platform engineer scales and alerts on, read from a real service's /metrics (real Kafka, real PostgreSQL,
 * a service started with `startService`, nothing mocked): a consumer over a two-partition topic shows its lag
 * while a record is held in its handler, and back at zero once it is released; the applied counter equals the
 * records applied; a record failing once with a retriable error counts one failure and one retry; a poison record
 * counts as a failure (park) and a dead letter; emitted events are counted by type and code; the outbox drains to
 * depth 0; every metric of the service kit's catalogue is exported.
 */
import { Type } from '@sinclair/typebox';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CsmsError, EventCatalogue, closed, defineEvent, deriveId, type Envelope } from '@csms/contracts';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { KafkaRecordPublisher, messagingMigrations, type HandlerContext } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { ConsumerController, SERVICE_METRICS, startService, type RunningService } from '@csms/service-kit';
import { TEST_KAFKA_BROKERS, dropTestDatabases, testDatabaseUrl, testKafka, uniqueName, waitFor } from '@csms/testing';

class Effects1764300000100 implements MigrationInterface {
  name = 'Effects1764300000100';
  async up(q: QueryRunner): Promise<void> {
    await q.query('create table effects (event_id uuid primary key, key text not null)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table effects');
  }
}

describe('service metrics: lag, throughput, failures, dead letters, emitted events and outbox of a running service', () => {
  const inTopic = uniqueName('test.metrics-orders');
  const outTopic = uniqueName('test.metrics-results');
  const group = uniqueName('metrics-orders');
  const db = `csms_test_service_metrics_${process.pid}_${Math.floor(performance.now())}`;
  const Placed = defineEvent({
    type: 'test.order_placed',
    version: 1,
    topic: inTopic,
    description: 'test',
    schema: closed({ key: Type.String(), n: Type.Integer() }),
    example: { key: 'a', n: 1 },
  });
  const Confirmed = defineEvent({
    type: 'test.order_confirmed',
    version: 1,
    topic: outTopic,
    description: 'test',
    schema: closed({ key: Type.String() }),
    example: { key: 'a' },
  });
  const Rejected = defineEvent({
    type: 'test.order_rejected',
    version: 1,
    topic: outTopic,
    description: 'test',
    schema: closed({ key: Type.String(), code: Type.String() }),
    example: { key: 'a', code: 'OUT_OF_STOCK' },
  });
  const catalogue = new EventCatalogue([Placed, Confirmed, Rejected]);
  const spec = (name: string) => ({
    name,
    description: 'test',
    key: 'k',
    retentionMs: -1,
    cleanupPolicy: 'delete' as const,
  });
  const order = (key: string, n: number): Envelope =>
    catalogue.create(Placed, {
      id: deriveId('order', inTopic, key, n),
      key,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: { key, n },
    });

  // the handler is held on the `gate` key until the test releases it; `flaky` fails twice (in its chunk, then alone) with a retriable error
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let gateReached = false;
  let flakyCalls = 0;

  @ConsumerController()
  class OrdersHandler {
    @EventPattern(Placed.type)
    async placed(@Payload() event: Envelope, @Ctx() { manager, emit }: HandlerContext): Promise<void> {
      const { key } = event.payload as { key: string };
      if (key === 'gate') {
        gateReached = true;
        await gate;
      }
      if (key === 'bad') throw new CsmsError('KEY_POISONED', 'orders of bad are refused', { retriable: false });
      if (key === 'flaky' && ++flakyCalls <= 2) throw new CsmsError('TRY_AGAIN', 'not yet', { retriable: true });
      await manager.query('insert into effects (event_id, key) values ($1, $2)', [event.id, key]);
      const base = {
        id: deriveId('result', event.id),
        key,
        occurredAt: event.occurredAt,
        source: 'test',
        causationId: event.id,
      };
      if (key === 'reject') emit(catalogue.create(Rejected, { ...base, payload: { key, code: 'OUT_OF_STOCK' } }));
      else emit(catalogue.create(Confirmed, { ...base, payload: { key } }));
    }
  }

  let svc: RunningService;
  let publisher: KafkaRecordPublisher;

  beforeAll(async () => {
    svc = await startService(
      {
        name: 'metrics-test',
        title: 'metrics test',
        description: 'test',
        databaseUrl: testDatabaseUrl(db),
        migrations: [...messagingMigrations, Effects1764300000100],
        http: { port: 0, host: '127.0.0.1' },
        kafka: { brokers: TEST_KAFKA_BROKERS.join(','), partitions: 2 },
        topics: [spec(inTopic), spec(outTopic)],
        consumers: () => [{ name: group, topics: [inTopic], catalogue, retryInitialMs: 20, controller: OrdersHandler }],
        controllers: [],
      },
      silentLogger(),
    );
    publisher = new KafkaRecordPublisher(testKafka());
  }, 120_000);

  afterAll(async () => {
    release?.();
    await publisher?.disconnect();
    await svc?.stop();
    await dropTestDatabases([db]);
  }, 60_000);

  const scrape = async () => (await fetch(`${svc.url}/metrics`)).text();
  /** Values of the samples of `name` whose labels include every `label="value"` given. */
  const samples = (text: string, name: string, labels: Record<string, string> = {}): number[] =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
      .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  const one = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
    const v = samples(text, name, labels);
    expect({ name, labels, series: v.length <= 1 }).toEqual({ name, labels, series: true });
    return v[0];
  };
  const sum = (text: string, name: string, labels: Record<string, string> = {}) =>
    samples(text, name, labels).reduce((a, b) => a + b, 0);

  it('shows lag while a record is held and zero after, applied records, failures, retries, dead letters, emitted events and the outbox drained', async () => {
    const good = Array.from({ length: 40 }, (_, i) => order(`k${i}`, i));
    const all = [
      order('gate', 0),
      ...good.slice(0, 20),
      order('flaky', 0),
      order('bad', 0),
      order('reject', 0),
      ...good.slice(20),
    ];
    await publisher.publish(all.map((e) => ({ topic: inTopic, key: e.key, value: catalogue.encode(e) })));
    const consumer = svc.consumers[0];

    // held: the gate's partition is behind (records and seconds), read from /metrics
    await waitFor(() => gateReached, { what: 'the gate record in the handler' });
    const behind = await waitFor(
      async () => {
        const text = await scrape();
        const records = sum(text, 'csms_consumer_lag_records', { consumer: group, topic: inTopic });
        return records > 0 ? { text, records } : undefined;
      },
      { what: 'lag above zero while the gate is held' },
    );
    expect(behind.records).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1100));
    expect(Math.max(...samples(await scrape(), 'csms_consumer_lag_seconds', { consumer: group }))).toBeGreaterThan(0);

    release();
    const applied = all.length - 1; // all but the poison record
    await waitFor(() => consumer.stats().applied === applied && consumer.stats().parked === 1, {
      what: `${applied} applied, 1 parked`,
      timeoutMs: 60_000,
    });
    await waitFor(
      async () => Number((await svc.dataSource.query('select count(*)::int as n from outbox'))[0].n) === 0,
      { what: 'the outbox drained' },
    );

    // caught up: lag zero on every partition assigned (both: one instance), after a broker read of the ends
    const text = await waitFor(
      async () => {
        const t = await scrape();
        return sum(t, 'csms_consumer_lag_records', { consumer: group }) === 0 ? t : undefined;
      },
      { what: 'lag back to zero', timeoutMs: 30_000 },
    );
    expect(samples(text, 'csms_consumer_lag_records', { consumer: group, topic: inTopic })).toEqual([0, 0]);
    expect(samples(text, 'csms_consumer_lag_seconds', { consumer: group, topic: inTopic })).toEqual([0, 0]);

    // throughput and chunk time
    expect(one(text, 'csms_consumer_records_applied_total', { consumer: group, topic: inTopic })).toBe(applied);
    expect(one(text, 'csms_consumer_chunk_seconds_count', { consumer: group })).toBeGreaterThan(0);
    expect(one(text, 'csms_consumer_chunk_seconds_sum', { consumer: group })).toBeGreaterThan(0);

    // failures: the flaky record once (retried), the poison record once (parked as a dead letter)
    expect(one(text, 'csms_consumer_failures_total', { consumer: group, code: 'TRY_AGAIN', verdict: 'retry' })).toBe(1);
    expect(one(text, 'csms_consumer_failures_total', { consumer: group, code: 'KEY_POISONED', verdict: 'park' })).toBe(
      1,
    );
    expect(one(text, 'csms_consumer_retries_total', { consumer: group })).toBe(1);
    expect(one(text, 'csms_consumer_give_ups_total', { consumer: group })).toBe(0);
    expect(one(text, 'csms_dead_letters_parked_total', { consumer: group })).toBe(1);
    expect(one(text, 'csms_dead_letters_open', { consumer: group })).toBe(1);

    // emitted events by type and code
    expect(one(text, 'csms_domain_events_total', { consumer: group, type: 'test.order_confirmed', code: '' })).toBe(
      applied - 1,
    );
    expect(
      one(text, 'csms_domain_events_total', { consumer: group, type: 'test.order_rejected', code: 'OUT_OF_STOCK' }),
    ).toBe(1);

    // outbox drained, service ready, consumer up
    expect(one(text, 'csms_outbox_depth')).toBe(0);
    expect(one(text, 'csms_outbox_oldest_age_seconds')).toBe(0);
    expect(one(text, 'csms_service_ready')).toBe(1);
    expect(one(text, 'csms_consumer_up', { consumer: group })).toBe(1);

    // every metric of the catalogue is exported, with the service label
    for (const m of Object.values(SERVICE_METRICS))
      expect({ m: m.name, exported: text.includes(`# TYPE ${m.name} ${m.type}`) }).toEqual({
        m: m.name,
        exported: true,
      });
    expect(text).toMatch(/^csms_outbox_depth\{service="metrics-test"\} 0$/m);
  }, 120_000);
});
