import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { KafkaRecordPublisher } from '@csms/messaging';
import {
  TEST_DATABASE_URL,
  TEST_KAFKA_BROKERS,
  TopicCollector,
  createTestTopics,
  freePort,
  startServiceProcess,
  testKafka,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from '@csms/testing';
import { loadSessionServiceConfig } from '../src/config';
import { rebuildSessionStore } from '../src/rebuild';
import { ocpp16Session, ocpp201Session, type Recording } from './recordings';
import { referenceFold } from './reference-fold';

const STATIONS = 120;

describe('session service as a process: kill -9 mid-stream, restart, rebuild from offset zero', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let pg: Client;
  const children: ServiceProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const dbName = `csms_test_sessions_crash_${process.pid}`;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    const inbound = uniqueName('test.ocpp-inbound');
    const sessions = uniqueName('test.session-events');
    await createTestTopics(kafka, [inbound, sessions], 3);
    const db = new URL(TEST_DATABASE_URL);
    db.pathname = `/${dbName}`;
    Object.assign(env, {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: db.toString(),
      HTTP_PORT: '0',
      SESSION_CONSUMER_GROUP: uniqueName('session-service'),
      OCPP_INBOUND_TOPIC: inbound,
      SESSION_EVENTS_TOPIC: sessions,
      LOG_LEVEL: 'warn',
    });
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    while (cleanups.length) await cleanups.pop()!();
    await pg?.end();
    await publisher.disconnect();
    const admin = new Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  });

  /** Starts the service as a process and waits until it answers /health/ready (its signal handlers are installed by then). */
  async function startService(): Promise<ServiceProcess> {
    const child = await startServiceProcess('session-service', { ...env, HTTP_PORT: String(await freePort()) });
    children.push(child);
    return child;
  }

  async function endedRows(): Promise<number> {
    if (!pg) {
      try {
        pg = new Client({ connectionString: env.DATABASE_URL });
        await pg.connect();
      } catch {
        pg = undefined as unknown as Client;
        return 0;
      }
    }
    try {
      const r = await pg.query(`select count(*)::int as c from sessions where status = 'ended'`);
      return r.rows[0].c;
    } catch {
      return 0; // not migrated yet
    }
  }

  async function storedEnded(): Promise<Record<string, unknown>> {
    const r = await pg.query(`select session_id, ended from sessions where status = 'ended' order by session_id`);
    return Object.fromEntries(r.rows.map((x) => [x.session_id, x.ended]));
  }

  it('gives every session exactly one session.ended after a crash, and identical ones after a rebuild', async () => {
    const recordings: Recording[] = Array.from({ length: STATIONS }, (_, i) =>
      i % 2 === 0
        ? ocpp16Session(`CRASH-${i}`, '2026-03-10', 2000 + i)
        : ocpp201Session(`CRASH-${i}`, '2026-03-10', `TX-${i}`),
    );
    const toRecords = (rs: Recording[]) =>
      rs.flatMap((r) =>
        r.records.map((e) => ({ topic: env.OCPP_INBOUND_TOPIC, key: e.key, value: JSON.stringify(e) })),
      );
    // the log arrives in two waves: the service is killed while it works through the second
    await publisher.publish(toRecords(recordings.slice(0, STATIONS / 2)));
    const out = await new TopicCollector(kafka, [env.SESSION_EVENTS_TOPIC]).start();
    const inbound = await new TopicCollector(kafka, [env.OCPP_INBOUND_TOPIC]).start();
    cleanups.push(
      () => out.close(),
      () => inbound.close(),
    );

    // first run: killed with SIGKILL once some sessions have ended and while the second wave comes in
    const first = await startService();
    await waitFor(async () => (await endedRows()) >= 10, { what: 'some sessions ended', timeoutMs: 60_000 });
    await publisher.publish(toRecords(recordings.slice(STATIONS / 2)));
    first.kill('SIGKILL');
    await first.exited();
    const atKill = await endedRows();

    // restart: finishes the log
    const second = await startService();
    await waitFor(async () => (await endedRows()) === STATIONS, {
      what: `all ${STATIONS} sessions ended`,
      timeoutMs: 90_000,
    });
    second.kill('SIGTERM');
    expect(await second.exited()).toBe(0);

    const endedEvents = () => out.records.filter((r) => r.headers['event-type'] === 'session.ended');
    await waitFor(() => new Set(endedEvents().map((r) => r.headers['event-id'])).size === STATIONS, {
      what: 'every session.ended on the topic',
    });
    // copies (republished after the crash) are byte-identical; one logical session.ended per session
    const byId = new Map<string, Set<string>>();
    for (const r of endedEvents())
      byId.set(r.headers['event-id'], (byId.get(r.headers['event-id']) ?? new Set()).add(r.value!));
    expect([...byId.values()].every((copies) => copies.size === 1)).toBe(true);
    const sessionIds = [...byId.values()].map((c) => JSON.parse([...c][0]).payload.sessionId);
    expect(new Set(sessionIds).size).toBe(STATIONS);
    // and they are what the pure pipeline gives over the same log
    await waitFor(() => inbound.records.length === recordings.reduce((n, r) => n + r.records.length, 0), {
      what: 'the whole inbound log',
    });
    const reference = referenceFold(inbound.records).filter((e) => e.type === 'session.ended');
    expect(reference).toHaveLength(STATIONS);
    for (const e of reference) expect(JSON.parse([...byId.get(e.id)!][0])).toEqual(e);
    const before = await storedEnded();
    const countBefore = endedEvents().length;
    expect(atKill).toBeLessThanOrEqual(STATIONS);

    // rebuild from offset zero into an empty store
    await pg.end();
    pg = undefined as unknown as Client;
    await rebuildSessionStore(loadSessionServiceConfig(env));
    expect(await endedRows()).toBe(0);
    const third = await startService();
    await waitFor(async () => (await endedRows()) === STATIONS, { what: 'the rebuilt store', timeoutMs: 90_000 });
    await waitFor(() => endedEvents().length >= countBefore + STATIONS, {
      what: 'the re-emitted session.ended events',
    });
    third.kill('SIGTERM');
    expect(await third.exited()).toBe(0);
    expect(await storedEnded()).toEqual(before);
    // re-emitted events: same ids, same bytes
    for (const r of endedEvents().slice(countBefore))
      expect(byId.get(r.headers['event-id'])).toEqual(new Set([r.value]));
    // three service processes start one after another (each waits for readiness up to 90 s): more than jest's default
  }, 300_000);
});
