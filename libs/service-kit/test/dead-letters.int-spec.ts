/**
 * Dead letters are visible and can be re-driven exactly once (real Kafka, real PostgreSQL, a real service
 * started with `startService`). The service's handler refuses (not retriable) an order whose key is in the
 * `poison` table; deleting the row is "the fix". One poisoned order is parked: it is on `dlq.<group>`, in
 * `dead_letters`, in /metrics and in the readiness detail; a re-drive before the fix fails and leaves it
 * parked; after the fix a re-drive applies it once (one effect row, one emitted event on the output topic);
 * a second re-drive changes nothing. A record applied meanwhile by redelivery is re-driven as `already_applied`.
 */
import { Type } from '@sinclair/typebox';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  CsmsError,
  EventCatalogue,
  closed,
  defineEvent,
  deadLetterSpec,
  deriveId,
  type Envelope,
} from '@csms/contracts';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DLQ_HEADERS, KafkaRecordPublisher, messagingMigrations, type HandlerContext } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { ConsumerController, deadLettersCli, newApiKey, startService, type RunningService } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  TopicCollector,
  dropTestDatabases,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
} from '@csms/testing';

const admin = newApiKey('dl-admin', 'admin');
const operator = newApiKey('dl-operator', 'operator');

class PoisonTables1764200000900 implements MigrationInterface {
  name = 'PoisonTables1764200000900';
  async up(q: QueryRunner): Promise<void> {
    await q.query('create table poison (key text primary key)');
    await q.query(
      'create table effects (seq bigserial primary key, event_id uuid not null, key text not null, n integer not null)',
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table effects; drop table poison');
  }
}

describe('dead letters: visible in the API, metrics and readiness; re-driven once the cause is fixed, exactly once', () => {
  const inTopic = uniqueName('test.orders');
  const outTopic = uniqueName('test.confirmations');
  const group = uniqueName('dl-orders');
  const db = `csms_test_dead_letters_${process.pid}_${Math.floor(performance.now())}`;
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
    schema: closed({ key: Type.String(), n: Type.Integer() }),
    example: { key: 'a', n: 1 },
  });
  const catalogue = new EventCatalogue([Placed, Confirmed]);
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

  /** The service's handler: refuses (not retriable) an order whose key is poisoned, else records its effect and confirms it. */
  @ConsumerController()
  class OrdersHandler {
    @EventPattern(Placed.type)
    async placed(@Payload() event: Envelope, @Ctx() { manager, emit }: HandlerContext): Promise<void> {
      const { key, n } = event.payload as { key: string; n: number };
      const [{ poisoned }] = await manager.query('select exists (select 1 from poison where key = $1) as poisoned', [
        key,
      ]);
      if (poisoned) throw new CsmsError('KEY_POISONED', `orders of ${key} are refused`, { retriable: false });
      await manager.query('insert into effects (event_id, key, n) values ($1, $2, $3)', [event.id, key, n]);
      emit(
        catalogue.create(Confirmed, {
          id: deriveId('confirmation', event.id),
          key,
          occurredAt: event.occurredAt,
          source: 'test',
          causationId: event.id,
          payload: { key, n },
        }),
      );
    }
  }

  let svc: RunningService;
  let publisher: KafkaRecordPublisher;
  let confirmations: TopicCollector;
  let deadLetters: TopicCollector;

  const start = () =>
    startService(
      {
        name: 'dl-test',
        title: 'dead letters test',
        description: 'test',
        databaseUrl: testDatabaseUrl(db),
        migrations: [...messagingMigrations, PoisonTables1764200000900],
        http: { port: 0, host: '127.0.0.1' },
        apiKeys: [admin.entry, operator.entry].join(','),
        kafka: { brokers: TEST_KAFKA_BROKERS.join(','), partitions: 1 },
        topics: [spec(inTopic), spec(outTopic), deadLetterSpec(group)],
        consumers: () => [
          {
            name: group,
            topics: [inTopic],
            catalogue,
            retryInitialMs: 20,
            controller: OrdersHandler,
          },
        ],
        controllers: [],
      },
      silentLogger(),
    );

  beforeAll(async () => {
    svc = await start();
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
  const api = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    key = admin.key,
  ): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  type Item = {
    id: string;
    status: string;
    consumer: string;
    eventId: string;
    eventType: string;
    key: string;
    error: { code: string; message: string };
    source: { topic: string; offset: string };
    redrive: { attempts: number; outcome: string | null };
    value?: string;
  };
  const list = async (query = '') =>
    (await api<{ items: Item[]; nextCursor?: string }>('GET', `/api/v1/dead-letters${query}`)).body;
  const effects = async (key: string): Promise<number> =>
    Number((await svc.dataSource.query('select count(*)::int as n from effects where key = $1', [key]))[0].n);
  const confirmed = (key: string) => confirmations.records.filter((r) => r.key === key).length;
  const outboxEmpty = async () =>
    Number((await svc.dataSource.query('select count(*)::int as n from outbox'))[0].n) === 0;
  const metric = async (name: string): Promise<number | undefined> => {
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`consumer="${group}"`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const ready = async () => {
    const r = await fetch(`${svc.url}/health/ready`);
    return {
      status: r.status,
      body: (await r.json()) as {
        status: string;
        checks: Record<
          string,
          { ok: boolean; detail?: { status: string; consumers: Record<string, { deadLetters: number }> } }
        >;
      },
    };
  };

  it('parks a poisoned record, shows it everywhere, re-drives it once after the fix, and a second re-drive changes nothing', async () => {
    await svc.dataSource.query("insert into poison (key) values ('bad')");
    const bad = order('bad', 2);
    await send(order('good', 1), bad, order('good', 3));
    const consumer = svc.consumers[0];
    await waitFor(() => consumer.stats().applied === 2 && consumer.stats().parked === 1, {
      what: '2 applied, 1 parked',
    });

    // on the dead-letter topic, verbatim, with its error
    await waitFor(() => deadLetters.records.length === 1, { what: 'the record on the dead-letter topic' });
    expect(deadLetters.records[0]).toMatchObject({ key: 'bad', value: catalogue.encode(bad) });
    expect(deadLetters.records[0].headers[DLQ_HEADERS.code]).toBe('KEY_POISONED');

    // in the table, through the API (operators may read)
    const parked = await api<{ items: Item[] }>('GET', '/api/v1/dead-letters', operator.key);
    expect(parked.status).toBe(200);
    expect(parked.body.items).toHaveLength(1);
    const dl = parked.body.items[0];
    expect(dl).toMatchObject({
      status: 'parked',
      consumer: group,
      eventId: bad.id,
      eventType: 'test.order_placed',
      key: 'bad',
      error: { code: 'KEY_POISONED' },
      source: { topic: inTopic, offset: '1' },
    });
    expect(dl.value).toBeUndefined();
    expect((await api<Item>('GET', `/api/v1/dead-letters/${dl.id}`)).body.value).toBe(catalogue.encode(bad));
    expect((await list('?code=KEY_POISONED')).items).toHaveLength(1);
    expect((await list('?code=SOMETHING_ELSE')).items).toHaveLength(0);
    expect((await list(`?consumer=${group}&since=2020-01-01T00:00:00Z`)).items).toHaveLength(1);
    expect((await list('?status=redriven')).items).toHaveLength(0);
    expect((await api('GET', '/api/v1/dead-letters?since=yesterday')).status).toBe(400);

    // in the metrics and the readiness detail (degraded, still ready)
    expect(await metric('csms_dead_letters_open')).toBe(1);
    expect(await metric('csms_dead_letters_parked_total')).toBe(1);
    let r = await ready();
    expect(r.status).toBe(200);
    expect(r.body.checks.deadLetters).toEqual({
      ok: true,
      detail: { status: 'degraded', consumers: { [group]: { deadLetters: 1 } } },
    });

    // only admin re-drives; before the fix it fails again and stays parked with the error
    expect((await api('POST', `/api/v1/dead-letters/${dl.id}/redrive`, operator.key)).status).toBe(403);
    const early = await api<{ code: string }>('POST', `/api/v1/dead-letters/${dl.id}/redrive`);
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('REDRIVE_FAILED');
    expect((await list()).items[0]).toMatchObject({ status: 'parked', redrive: { attempts: 1, outcome: null } });
    expect(await effects('bad')).toBe(0);

    // the fix, then the re-drive: exactly one effect and one emitted event
    await svc.dataSource.query("delete from poison where key = 'bad'");
    const done = await api('POST', `/api/v1/dead-letters/${dl.id}/redrive`);
    expect(done).toEqual({ status: 200, body: { id: dl.id, outcome: 'applied', status: 'redriven' } });
    expect(await effects('bad')).toBe(1);
    await waitFor(() => confirmed('bad') === 1, { what: 'the confirmation of the re-driven order' });

    // again: nothing changes
    const again = await api('POST', `/api/v1/dead-letters/${dl.id}/redrive`);
    expect(again).toEqual({ status: 200, body: { id: dl.id, outcome: 'already_redriven', status: 'redriven' } });
    await waitFor(outboxEmpty, { what: 'the outbox drained' });
    expect(await effects('bad')).toBe(1);
    expect(confirmed('bad')).toBe(1);
    expect(await effects('good')).toBe(2);

    expect((await list()).items).toHaveLength(0);
    expect((await list('?status=redriven')).items[0]).toMatchObject({
      id: dl.id,
      status: 'redriven',
      redrive: { attempts: 2, outcome: 'applied' },
    });
    expect(await metric('csms_dead_letters_open')).toBe(0);
    r = await ready();
    expect(r.body.checks.deadLetters.detail).toEqual({ status: 'ok', consumers: { [group]: { deadLetters: 0 } } });
    expect((await api('GET', '/api/v1/dead-letters/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it('re-drives a record that was applied meanwhile (redelivered after the fix) as already_applied, with no second effect', async () => {
    await svc.dataSource.query("insert into poison (key) values ('late')");
    const late = order('late', 1);
    const consumer = svc.consumers[0];
    const parkedBefore = consumer.stats().parked;
    await send(late);
    await waitFor(() => consumer.stats().parked === parkedBefore + 1, { what: 'the late order parked' });
    await waitFor(async () => (await list()).items.length === 1, { what: 'its dead letter' });
    const [dl] = (await list()).items;

    await svc.dataSource.query("delete from poison where key = 'late'");
    await send(late); // the same event again: applied this time
    await waitFor(async () => (await effects('late')) === 1, { what: 'the redelivered order applied' });

    // the CLI, against the running service: list, then re-drive everything parked
    const lines: string[] = [];
    const io = { baseUrl: svc.url, apiKey: admin.key, print: (l: string) => lines.push(l) };
    expect(await deadLettersCli(['list'], io)).toBe(0);
    expect(lines).toEqual([expect.stringContaining(`${dl.id} parked ${group} ${inTopic}/0@`), '1 dead letter(s)']);
    lines.length = 0;
    expect(await deadLettersCli(['redrive', '--all'], io)).toBe(0);
    expect(lines).toEqual([`${dl.id} already_applied`, '1 of 1 re-driven']);
    lines.length = 0;
    expect(await deadLettersCli(['redrive', '--id', dl.id], io)).toBe(0);
    expect(lines).toEqual([`${dl.id} already_redriven`]);

    await waitFor(outboxEmpty, { what: 'the outbox drained' });
    expect(await effects('late')).toBe(1);
    await waitFor(() => confirmed('late') === 1, { what: 'one confirmation of the late order' });
    expect((await list('?status=redriven')).items.find((i) => i.id === dl.id)).toMatchObject({
      redrive: { outcome: 'already_applied' },
    });
  });

  it('counts what is parked from the database: a restarted service still shows it', async () => {
    await svc.dataSource.query("insert into poison (key) values ('kept')");
    const consumer = svc.consumers[0];
    const parkedBefore = consumer.stats().parked;
    await send(order('kept', 1));
    await waitFor(() => consumer.stats().parked === parkedBefore + 1, { what: 'the order parked' });
    await svc.stop();
    svc = await start();
    expect(await metric('csms_dead_letters_open')).toBe(1);
    expect(await metric('csms_dead_letters_parked_total')).toBe(0); // parks by this process
    expect((await ready()).body.checks.deadLetters.detail).toEqual({
      status: 'degraded',
      consumers: { [group]: { deadLetters: 1 } },
    });
    expect((await list()).items.map((i) => i.key)).toEqual(['kept']);
  });
});
