import type { Kafka } from 'kafkajs';
import { TariffVersionPublishedV1, deriveId, systemCatalogue, type Envelope } from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  TopicCollector,
  createTestTopics,
  dropTestDatabases,
  testDatabaseUrl,
  testKafka,
  topicSize,
  uniqueName,
  waitFor,
} from '@csms/testing';
import { loadReportingServiceConfig } from '../../reporting-service/src/config';
import { startReportingService } from '../../reporting-service/src/service';
import type { RunningService } from '@csms/service-kit';
import { buildCdr, sha256, type Pricer } from '@csms/billing';
import { startTariffService, type RunningTariffService } from '../src/service';
import { chainTariffConfig, chainTopics, sessionEnded, tomorrow } from './chain';

const finance = newApiKey('finance', 'finance');

interface Json {
  [k: string]: unknown;
}

/**
 * The pricing function of this suite: buildCdr, except for the stations whose id says otherwise (the engine
 * throws; the CDR breaks the contract; the CDR is larger than a record may be; an infrastructure failure once).
 */
const calls = new Map<string, number>();
const price: Pricer = (ctx) => {
  const station = ctx.session.stationId;
  calls.set(station, (calls.get(station) ?? 0) + 1);
  if (station.startsWith('THROWS')) throw new TypeError("Cannot read properties of undefined (reading 'price')");
  if (station.startsWith('FLAKY') && calls.get(station) === 1)
    throw Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' });
  const o = buildCdr(ctx);
  if (o.kind !== 'priced') return o;
  // 10^45 euros: longer than the contract's decimals
  if (station.startsWith('HUGE'))
    return { ...o, cdr: { ...o.cdr, total_cost: { excl_vat: `1${'0'.repeat(45)}`, incl_vat: `1${'0'.repeat(45)}` } } };
  // a token uid with a NUL character: valid JSON and contract, but PostgreSQL stores no NUL in text or jsonb
  if (station.startsWith('NUL'))
    return { ...o, cdr: { ...o.cdr, cdr_token: { ...o.cdr.cdr_token, uid: 'TAG\u0000X' } } };
  // ~1.3 MB of charging periods (each within the contract: OCPI ids of at most 36 characters): more than the broker takes in one record
  if (station.startsWith('OVERSIZE')) {
    const period = o.cdr.charging_periods[0];
    const dimensions = Array.from({ length: 12 }, () => period.dimensions[0]);
    return {
      ...o,
      cdr: { ...o.cdr, charging_periods: Array.from({ length: 3000 }, () => ({ ...period, dimensions })) },
    };
  }
  return o;
};

describe('tariff service: every session.ended gives exactly one CDR or pricing failure (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let tariffs: RunningTariffService;
  let reporting: RunningService;
  let billing: TopicCollector;
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const dbs = [`csms_test_tfail_${tag}`, `csms_test_tfail_reporting_${tag}`];
  const topics = chainTopics();

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, Object.values(topics), 3);
    const cfg = chainTariffConfig(topics, dbs[0], finance.entry);
    tariffs = await startTariffService(cfg, silentLogger(), { price });
    // the independent observer: billing completeness from the same topics and the tariff service's dead letters
    const reportingCfg = loadReportingServiceConfig({
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(dbs[1]),
      HTTP_PORT: '0',
      API_KEYS: finance.entry,
      // reconciliation only when a test asks (the scheduler has its own test: reconciliation-lifecycle)
      RECONCILIATION_INTERVAL_S: '0',
      REPORTING_CONSUMER_GROUP: uniqueName('reporting'),
      OCPP_INBOUND_TOPIC: topics.inbound,
      MONITORING_EVENTS_TOPIC: uniqueName('test.monitoring-events'),
      SESSION_EVENTS_TOPIC: topics.sessions,
      BILLING_EVENTS_TOPIC: topics.billing,
      TARIFF_CONSUMER_GROUP: cfg.TARIFF_CONSUMER_GROUP,
      LOG_LEVEL: 'silent',
    });
    reporting = await startReportingService(reportingCfg, silentLogger());
    billing = await new TopicCollector(kafka, [topics.billing]).start();
  });

  afterAll(async () => {
    await billing?.close();
    await reporting?.stop();
    await tariffs?.stop();
    await publisher.disconnect();
    await dropTestDatabases(dbs);
  });

  const api = async <T = Json>(
    method: string,
    path: string,
    body?: unknown,
    base = () => tariffs.url,
  ): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${base()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${finance.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as T };
  };

  it('turns a broken tariff, an engine error, a CDR that breaks its contract, an oversize CDR and a CDR the database refuses into pricing failures; the rest of the chunk is priced; nothing is parked; billing complete', async () => {
    const tariffId = uniqueName('FAIL');
    const tariff = {
      country_code: 'NL',
      party_id: 'CSM',
      id: tariffId,
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'FLAT', price: 1.0, vat: 21, step_size: 1 },
            { type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 },
          ],
        },
      ],
      last_updated: '2026-01-01T00:00:00Z',
    };
    expect((await api('PUT', `/api/v1/tariffs/${tariffId}`, tariff)).status).toBe(200);
    expect((await api('POST', '/api/v1/tariff-assignments', { tariffId, scope: { kind: 'default' } })).status).toBe(
      201,
    );

    // a broken tariff (step_size 0) on the topic, as a laxer API of the past could have accepted it, on one station
    const brokenId = uniqueName('BROKEN');
    const broken = {
      ...tariff,
      id: brokenId,
      elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 0 }] }],
    };
    const published = systemCatalogue().create(TariffVersionPublishedV1, {
      id: deriveId('broken-tariff', brokenId),
      key: brokenId,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: {
        tariffId: brokenId,
        version: 1,
        effectiveFrom: '2026-01-01T00:00:00Z',
        publishedAt: '2026-01-01T00:00:00Z',
        contentHash: sha256(JSON.stringify(broken)),
        tariff: broken,
      },
    });
    await publisher.publish([{ topic: topics.tariffs, key: brokenId, value: JSON.stringify(published) }]);
    await waitFor(
      async () =>
        (await tariffs.dataSource.query('select 1 from tariff_versions where tariff_id = $1', [brokenId])).length === 1,
      { what: 'the broken tariff in the catalogue' },
    );

    const day = tomorrow();
    const stations = ['OK-1', 'THROWS', 'OK-2', 'HUGE', 'OVERSIZE', 'BROKEN', 'OK-3', 'FLAKY', 'NUL'].map((p) =>
      uniqueName(p),
    );
    expect(
      (
        await api('POST', '/api/v1/tariff-assignments', {
          tariffId: brokenId,
          scope: { kind: 'station', stationId: stations[5] },
        })
      ).status,
    ).toBe(201);
    const events = stations.map((st) =>
      sessionEnded(day, deriveId('fail-session', st), st, 1, deriveId('fail-ended', st)),
    );
    const sessionOf = (prefix: string) => events[stations.findIndex((s) => s.startsWith(prefix))].payload.sessionId;
    // one request, one record key: one partition, read as one chunk
    await publisher.publish(
      events.slice(0, 7).map((e) => ({ topic: topics.sessions, key: 'one-chunk', value: JSON.stringify(e) })),
    );

    const outcomesOf = (sessionId: string) =>
      billing.records
        .map((r) => JSON.parse(r.value!) as Envelope<Json>)
        .filter(
          (e) => (e.type === 'cdr.created' ? (e.payload.audit as Json).sessionId : e.payload.sessionId) === sessionId,
        );
    const ids = events.map((e) => e.payload.sessionId);
    await waitFor(() => ids.slice(0, 7).every((id) => outcomesOf(id).length > 0), {
      what: 'an outcome for each of the 7 sessions',
      timeoutMs: 60_000,
    });
    // each priced once: no failed chunk was rolled back and applied again event by event
    expect(stations.slice(0, 7).map((st) => calls.get(st))).toEqual([1, 1, 1, 1, 1, 1, 1]);
    // an infrastructure failure is not a pricing failure: thrown, the chunk is retried
    await publisher.publish([{ topic: topics.sessions, key: 'one-chunk', value: JSON.stringify(events[7]) }]);
    await waitFor(() => outcomesOf(ids[7]).length > 0, { what: 'the flaky session priced' });
    // the service's own SQL refuses what it would write, 5 times: recorded as a pricing failure instead of parked
    await publisher.publish([{ topic: topics.sessions, key: 'one-chunk', value: JSON.stringify(events[8]) }]);
    await waitFor(() => outcomesOf(ids[8]).length > 0, { what: 'the NUL session settled', timeoutMs: 60_000 });
    await waitFor(async () => (await tariffs.dataSource.query('select count(*)::int as n from outbox'))[0].n === 0, {
      what: 'the outbox published',
    });

    // exactly one outcome each
    for (const id of ids) expect(outcomesOf(id)).toHaveLength(1);
    for (const p of ['OK-1', 'OK-2', 'OK-3', 'FLAKY']) {
      expect(outcomesOf(sessionOf(p))[0]).toMatchObject({
        type: 'cdr.created',
        payload: { cdr: { total_cost: { excl_vat: '7.00', incl_vat: '8.47' } } },
      });
    }
    const failure = (p: string) => outcomesOf(sessionOf(p))[0];
    expect(failure('THROWS')).toMatchObject({
      type: 'session.pricing_failed',
      payload: { code: 'ENGINE_ERROR', sessionRevision: 1, detail: expect.stringContaining('TypeError') },
    });
    expect(failure('HUGE')).toMatchObject({
      type: 'session.pricing_failed',
      payload: { code: 'CDR_CONTRACT_VIOLATION', field: '/payload/cdr/total_cost/excl_vat' },
    });
    expect(failure('OVERSIZE')).toMatchObject({
      type: 'session.pricing_failed',
      payload: { code: 'CDR_TOO_LARGE', detail: expect.stringContaining('TARIFF_MAX_EVENT_BYTES') },
    });
    // the CDR row's values go as parameters: PostgreSQL refuses the NUL in the text it is sent (22021), before any
    // jsonb parsing (which refused its \u0000 escape, 22P05, when the rows went as one JSON document)
    expect(failure('NUL')).toMatchObject({
      type: 'session.pricing_failed',
      payload: { code: 'HANDLER_FAILED', detail: expect.stringContaining('22021') },
    });
    expect(failure('BROKEN')).toMatchObject({
      type: 'session.pricing_failed',
      payload: { code: 'TARIFF_INVALID_STEP_SIZE' },
    });
    expect(calls.get(stations[8])).toBe(6);

    // listed with their reasons; the infrastructure failure was retried, not turned into a pricing failure
    const listed = await api<{ items: Json[] }>('GET', '/api/v1/pricing-failures');
    expect(listed.body.items.map((f) => [f.sessionId, f.code]).sort()).toEqual(
      [
        [sessionOf('THROWS'), 'ENGINE_ERROR'],
        [sessionOf('HUGE'), 'CDR_CONTRACT_VIOLATION'],
        [sessionOf('OVERSIZE'), 'CDR_TOO_LARGE'],
        [sessionOf('BROKEN'), 'TARIFF_INVALID_STEP_SIZE'],
        [sessionOf('NUL'), 'HANDLER_FAILED'],
      ].sort(),
    );
    expect(calls.get(stations[7])).toBe(2);
    expect(tariffs.pricingConsumer.stats()).toMatchObject({ parked: 0, givenUp: 1 });
    expect(await topicSize(kafka, tariffs.pricingConsumer.deadLetterTopic)).toBe(0);
    // and the independent observer: every session ended has exactly one outcome, the failures counted as such
    const completeness = await waitFor(
      async () => {
        const r = await api<{ complete: boolean; totals: Json; days: Json[] }>(
          'GET',
          '/api/v1/billing-completeness',
          undefined,
          () => reporting.url,
        );
        return r.body.complete && r.body.totals.sessionsEnded === 9 ? r.body : undefined;
      },
      { what: 'billing complete in the reporting service' },
    );
    expect(completeness.totals).toEqual({
      sessionsEnded: 9,
      cdrs: 4,
      creditCdrs: 0,
      pricingFailures: 5,
      deadLetters: 0,
      missing: 0,
      pending: 0,
      multipleOutcomes: 0,
      outcomesWithoutSession: 0,
    });
    expect(completeness.days.map((d) => [d.currency, d.sessionsEnded, d.cdrs, d.pricingFailures])).toEqual([
      [null, 5, 0, 5],
      ['EUR', 4, 4, 0],
    ]);
    const stored: Array<{ outcome: string; n: number }> = await tariffs.dataSource.query(
      'select outcome, count(*)::int as n from priced_sessions group by outcome order by outcome',
    );
    expect(stored).toEqual([
      { outcome: 'failed', n: 5 },
      { outcome: 'priced', n: 4 },
    ]);
  });
});
