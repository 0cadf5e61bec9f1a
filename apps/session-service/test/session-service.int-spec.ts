import { createHash } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { KafkaRecordPublisher } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  TopicCollector,
  createTestTopics,
  testKafka,
  uniqueName,
  waitFor,
  testDatabaseUrl,
  dropTestDatabases,
} from '@csms/testing';
import { loadSessionServiceConfig, type SessionServiceConfig } from '../src/config';
import { INBOUND_FOLD, type InboundFold } from '../src/inbound.consumer';
import { startSessionService, type RunningSessionService } from '../src/service';
import { ocpp16LongSession, ocpp16Session, ocpp201Session, type Recording } from './recordings';
import { referenceFold } from './reference-fold';

const finance = newApiKey('finance', 'finance');
const operator = newApiKey('ops', 'operator');

describe('session service: recorded OCPP sessions through Kafka and PostgreSQL', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let cfg: SessionServiceConfig;
  let dbName: string;
  let svc: RunningSessionService | undefined;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
  });

  beforeEach(async () => {
    const inbound = uniqueName('test.ocpp-inbound');
    const sessions = uniqueName('test.session-events');
    await createTestTopics(kafka, [inbound, sessions], 3);
    dbName = `csms_test_sessions_${process.pid}_${Math.floor(performance.now())}`;
    cfg = loadSessionServiceConfig({
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(dbName),
      HTTP_PORT: '0',
      API_KEYS: [finance.entry, operator.entry].join(','),
      SESSION_CONSUMER_GROUP: uniqueName('session-service'),
      OCPP_INBOUND_TOPIC: inbound,
      SESSION_EVENTS_TOPIC: sessions,
      LOG_LEVEL: 'silent',
    });
  });

  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
    await svc?.stop();
    svc = undefined;
    await dropTestDatabases([dbName]);
  });

  afterAll(async () => {
    await publisher.disconnect();
  });

  const publish = (...recordings: Recording[]) =>
    publisher.publish(
      recordings.flatMap((r) =>
        r.records.map((e) => ({ topic: cfg.OCPP_INBOUND_TOPIC, key: e.key, value: JSON.stringify(e) })),
      ),
    );

  async function collect(topic: string): Promise<TopicCollector> {
    const c = await new TopicCollector(kafka, [topic]).start();
    cleanups.push(() => c.close());
    return c;
  }

  const ended = (c: TopicCollector) =>
    c.records.filter((r) => r.headers['event-type'] === 'session.ended').map((r) => JSON.parse(r.value!));

  /**
   * GET with the test's API key, once more on ECONNRESET: the long test's many requests over undici's pooled
   * keep-alive sockets met a reset socket twice under a loaded machine (a GET is idempotent; the status is
   * still asserted).
   */
  async function getOnce(url: string, key?: string): Promise<Response> {
    const init = key ? { headers: { authorization: `Bearer ${key}` } } : {};
    try {
      return await fetch(url, init);
    } catch (e) {
      if ((e as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw e;
      return fetch(url, init);
    }
  }

  /** Every item of a paginated list of the session API, following the cursors. */
  async function allPages<T>(path: string, key: string = finance.key): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const res = await getOnce(`${svc!.url}${path}${cursor ? `&cursor=${cursor}` : ''}`, key);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: T[]; nextCursor?: string };
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  /** What an auditor recomputes from a list of source records in log order: per topic + partition, offsets, count, hash. */
  function rangesOf(listed: Array<{ eventId: string; topic: string; partition: number; offset: string }>) {
    const groups = new Map<string, typeof listed>();
    for (const r of listed)
      groups.set(`${r.topic}|${r.partition}`, [...(groups.get(`${r.topic}|${r.partition}`) ?? []), r]);
    return [...groups.values()].map((g) => ({
      topic: g[0].topic,
      partition: g[0].partition,
      firstOffset: g[0].offset,
      lastOffset: g[g.length - 1].offset,
      count: g.length,
      sha256: createHash('sha256')
        .update(g.map((r) => `${r.eventId}\n`).join(''))
        .digest('hex'),
    }));
  }

  it('folds a recorded OCPP 1.6 and a 2.0.1 session into the expected session.ended, served by the API', async () => {
    svc = await startSessionService(cfg, silentLogger());
    const out = await collect(cfg.SESSION_EVENTS_TOPIC);
    const inbound = await collect(cfg.OCPP_INBOUND_TOPIC);
    const s16 = ocpp16Session(uniqueName('CP16'));
    const s201 = ocpp201Session(uniqueName('CP201'));
    await publish(s16, s201);
    await waitFor(() => ended(out).length === 2, { what: 'two session.ended events' });
    await waitFor(() => inbound.records.length === s16.records.length + s201.records.length, {
      what: 'the inbound log',
    });

    const byStation = Object.fromEntries(ended(out).map((e) => [e.payload.stationId, e]));
    const e16 = byStation[s16.stationId];
    expect(e16.payload).toMatchObject({
      protocol: 'ocpp1.6',
      transactionId: '1001',
      connectorId: 1,
      closure: 'stop',
      revision: 1,
      startedAt: '2026-03-10T10:00:05.000Z',
      endedAt: '2026-03-10T11:00:00.000Z',
      idToken: { idToken: 'TAG-16' },
      meterStartWh: '100000',
      meterStopWh: '108000',
      totals: { energyWh: '8000', energyKwh: '8', timeSeconds: '3595', parkingTimeSeconds: '1200' },
      dataQuality: { needsReview: false },
    });
    const e201 = byStation[s201.stationId];
    expect(e201.payload).toMatchObject({
      protocol: 'ocpp2.0.1',
      transactionId: 'TX-201-A',
      evseId: 1,
      closure: 'stop',
      startedAt: '2026-03-10T12:00:00.000Z',
      endedAt: '2026-03-10T13:00:00.000Z',
      totals: { energyWh: '22000', timeSeconds: '3600', parkingTimeSeconds: '900' },
      dataQuality: { needsReview: false, missingSeqNos: [] },
    });
    // provenance: per partition the offset range, count and hash of the inbound records used, which the
    // sources API lists one by one at their log positions
    for (const e of [e16, e201]) {
      const listed = await allPages<{ eventId: string; topic: string; partition: number; offset: string }>(
        `/api/v1/sessions/${e.payload.sessionId}/sources?limit=3`,
      );
      for (const src of listed) {
        const rec = inbound.records.find((r) => JSON.parse(r.value!).id === src.eventId);
        expect(rec).toBeDefined();
        expect({ topic: src.topic, partition: src.partition, offset: src.offset }).toEqual({
          topic: rec!.topic,
          partition: rec!.partition,
          offset: rec!.offset,
        });
      }
      expect(e.payload.sources).toEqual(rangesOf(listed));
    }
    // exactly what the pure pipeline gives over the same log
    const reference = referenceFold(inbound.records).filter((e) => e.type === 'session.ended');
    expect(ended(out).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      reference.sort((a, b) => a.id.localeCompare(b.id)),
    );

    // the API
    interface Page {
      items: Array<Record<string, unknown> & { sessionId: string }>;
      nextCursor?: string;
    }
    const get = async <T>(path: string, key: string = finance.key): Promise<T> =>
      (await fetch(`${svc!.url}${path}`, { headers: { authorization: `Bearer ${key}` } })).json() as Promise<T>;
    const list = await get<Page>(`/api/v1/sessions?stationId=${s16.stationId}`);
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({
      status: 'ended',
      energyWh: '8000',
      transactionId: '1001',
      idToken: 'TAG-16',
    });
    const one = await get<{ ended: unknown }>(`/api/v1/sessions/${e201.payload.sessionId}`);
    expect(one.ended).toEqual(e201.payload);
    expect((await fetch(`${svc.url}/api/v1/sessions`)).status).toBe(401);
    const page1 = await get<Page>('/api/v1/sessions?limit=1', operator.key);
    expect(page1.items).toHaveLength(1);
    const page2 = await get<Page>(`/api/v1/sessions?limit=1&cursor=${page1.nextCursor}`);
    expect(page2.items).toHaveLength(1);
    expect(page2.nextCursor).toBeUndefined();
    expect(new Set([page1.items[0].sessionId, page2.items[0].sessionId]).size).toBe(2);
    const bad = await fetch(`${svc.url}/api/v1/sessions?from=yesterday`, {
      headers: { authorization: `Bearer ${finance.key}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { field: string }).field).toBe('query/from');
  });

  it('a 24-hour session sampled every 5 s gets a bounded session.ended on the topic; every reading and source record is served by the API', async () => {
    svc = await startSessionService(cfg, silentLogger());
    const out = await collect(cfg.SESSION_EVENTS_TOPIC);
    const long = ocpp16LongSession(uniqueName('CPLONG'), 17_280, 5);
    for (let i = 0; i < long.records.length; i += 2000)
      await publish({ stationId: long.stationId, records: long.records.slice(i, i + 2000) });
    await waitFor(() => ended(out).length === 1, { what: 'the session.ended of the long session', timeoutMs: 240_000 });
    // its stored chunks were held without their items and read back for its end (the pieces in PostgreSQL)
    expect(svc!.app.get<InboundFold>(INBOUND_FOLD).stateLoads()).toBeGreaterThanOrEqual(1);
    const [record] = out.records.filter((r) => r.headers['event-type'] === 'session.ended');
    expect(record.headers['event-version']).toBe('2');
    expect(Buffer.byteLength(record.value!)).toBeLessThan(256 * 1024);
    const e = JSON.parse(record.value!);
    expect(e.payload).toMatchObject({
      totals: { energyWh: String(long.energyWh), timeSeconds: String(17_281 * 5) },
      energyTimelineResolution: { mode: 'resampled', gridSeconds: 60, points: 17_282 },
      sources: [{ count: 17_283 }],
    });
    // every reading, in station time
    const readings = await allPages<{ at: string; samples: Array<{ measurand: string; value: string }> }>(
      `/api/v1/sessions/${e.payload.sessionId}/readings?limit=500`,
      operator.key,
    );
    expect(readings).toHaveLength(17_280);
    expect(readings[0].at).toBe('2026-03-10T00:00:05.000Z');
    expect(readings[17_279].samples).toEqual([
      expect.objectContaining({ measurand: 'Energy.Active.Import.Register', value: String(long.energyWh) }),
    ]);
    for (let i = 1; i < readings.length; i++) expect(readings[i].at > readings[i - 1].at).toBe(true);
    // every source record, whose ranges are the event's
    const sources = await allPages<{ eventId: string; topic: string; partition: number; offset: string }>(
      `/api/v1/sessions/${e.payload.sessionId}/sources?limit=500`,
    );
    expect(sources).toHaveLength(17_283);
    expect(rangesOf(sources)).toEqual(e.payload.sources);
    // roles, unknown sessions and bad input as on the other session endpoints
    expect((await getOnce(`${svc.url}/api/v1/sessions/${e.payload.sessionId}/readings`)).status).toBe(401);
    expect(
      (await getOnce(`${svc.url}/api/v1/sessions/00000000-0000-5000-8000-000000000000/sources`, finance.key)).status,
    ).toBe(404);
    expect(
      (await getOnce(`${svc.url}/api/v1/sessions/${e.payload.sessionId}/readings?cursor=nope`, finance.key)).status,
    ).toBe(400);
  }, 300_000);

  it('parks an inbound record the normaliser rejects, and goes on', async () => {
    svc = await startSessionService(cfg, silentLogger());
    const out = await collect(cfg.SESSION_EVENTS_TOPIC);
    const s = ocpp16Session(uniqueName('CP16'));
    const broken = structuredClone(s.records[7]); // a MeterValues
    broken.id = '00000000-0000-5000-8000-000000000001';
    (
      broken.payload.payload as { meterValue: Array<{ sampledValue: Array<{ value: string }> }> }
    ).meterValue[0].sampledValue[0].value = 'lots';
    await publisher.publish([{ topic: cfg.OCPP_INBOUND_TOPIC, key: broken.key, value: JSON.stringify(broken) }]);
    await publish(s);
    await waitFor(() => ended(out).length === 1, { what: 'the session to end' });
    await waitFor(() => svc!.consumer.stats().parked === 1, { what: 'the broken record parked' });
    const dlq = await collect(svc.consumer.deadLetterTopic);
    await waitFor(() => dlq.records.length === 1, { what: 'the dead letter' });
    expect(dlq.records[0].headers['dlq-error-code']).toBe('INVALID_METER_VALUE');
    expect(ended(out)[0].payload.totals.energyWh).toBe('8000');
  });
});
