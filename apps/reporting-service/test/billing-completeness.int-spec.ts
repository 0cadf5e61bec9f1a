import type { Kafka } from 'kafkajs';
import { CdrCreatedV1, SessionPricingFailedV1, deriveId, systemCatalogue, type Envelope } from '@csms/contracts';
import { DLQ_HEADERS, KafkaRecordPublisher } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey, type RunningService } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  createTestTopics,
  dropTestDatabases,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
} from '@csms/testing';
import { sessionEnded } from '../../tariff-service/test/chain';
import { loadReportingServiceConfig, tariffPricingDeadLetters, type ReportingServiceConfig } from '../src/config';
import { rebuildReportingStore } from '../src/rebuild';
import { startReportingService } from '../src/service';

const finance = newApiKey('fin', 'finance');
const operator = newApiKey('ops', 'operator');

interface Json {
  [k: string]: unknown;
}

const catalogue = systemCatalogue();
const D1 = '2026-03-10';
const D2 = '2026-03-11';

/** session.ended of `sessionId` revision `revision` at `endedAt` (the contract example, moved) */
function ended(sessionId: string, stationId: string, revision: number, endedAt: string): Envelope {
  const e = sessionEnded(
    endedAt.slice(0, 10),
    sessionId,
    stationId,
    revision,
    deriveId('completeness-ended', sessionId, revision),
  );
  return { ...e, occurredAt: endedAt, payload: { ...e.payload, endedAt } };
}

/** cdr.created of that revision, in `currency` (a credit CDR with `credit`) */
function cdr(
  sessionId: string,
  stationId: string,
  revision: number,
  endedAt: string,
  currency: string,
  credit = false,
): Envelope {
  const ex = CdrCreatedV1.example;
  const id = `CDR${deriveId('completeness-cdr', sessionId, revision).replace(/-/g, '').slice(0, 20)}${credit ? '-C' : ''}`;
  return catalogue.create(CdrCreatedV1, {
    id: deriveId('cdr-created', id),
    key: sessionId,
    occurredAt: endedAt,
    source: 'test',
    payload: {
      cdr: {
        ...ex.cdr,
        id,
        session_id: sessionId,
        currency,
        end_date_time: endedAt,
        last_updated: endedAt,
        ...(credit ? { credit: true, credit_reference_id: id.slice(0, -2) } : {}),
      },
      audit: { ...ex.audit, sessionId, sessionRevision: revision, stationId },
    },
  });
}

function failed(sessionId: string, stationId: string, revision: number, endedAt: string, code: string): Envelope {
  return catalogue.create(SessionPricingFailedV1, {
    id: deriveId('pricing-failed', sessionId, revision),
    key: sessionId,
    occurredAt: endedAt,
    source: 'test',
    payload: {
      ...SessionPricingFailedV1.example,
      sessionId,
      sessionRevision: revision,
      stationId,
      code,
      sessionEndedAt: endedAt,
    },
  });
}

describe('reporting service: billing completeness from session.events, billing.events and the tariff dead letters (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let svc: RunningService;
  let cfg: ReportingServiceConfig;
  const db = `csms_test_completeness_${process.pid}_${Math.floor(performance.now())}`;
  const topics = { sessions: uniqueName('test.session-events'), billing: uniqueName('test.billing-events') };

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, Object.values(topics), 3);
    cfg = loadReportingServiceConfig({
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(db),
      HTTP_PORT: '0',
      API_KEYS: [finance.entry, operator.entry].join(','),
      // reconciliation only when a test asks (the scheduler has its own test: reconciliation-lifecycle)
      RECONCILIATION_INTERVAL_S: '0',
      REPORTING_CONSUMER_GROUP: uniqueName('reporting'),
      OCPP_INBOUND_TOPIC: uniqueName('test.ocpp-inbound'),
      MONITORING_EVENTS_TOPIC: uniqueName('test.monitoring-events'),
      SESSION_EVENTS_TOPIC: topics.sessions,
      BILLING_EVENTS_TOPIC: topics.billing,
      FINANCE_EVENTS_TOPIC: uniqueName('test.finance-events'),
      REGISTRY_STATIONS_TOPIC: uniqueName('test.registry-stations'),
      TARIFF_CONSUMER_GROUP: uniqueName('tariffs'),
      COMPLETENESS_GRACE_SECONDS: '300',
      LOG_LEVEL: 'silent',
    });
    svc = await startReportingService(cfg, silentLogger());
  });

  afterAll(async () => {
    await svc?.stop();
    await publisher.disconnect();
    await dropTestDatabases([db]);
  });

  const get = async <T = Json>(path: string, key = finance.key): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: r.status, body: (await r.json()) as T };
  };
  const publish = (topic: string, events: Envelope[], headers: Record<string, string> = {}) =>
    publisher.publish(events.map((e) => ({ topic, key: e.key, value: JSON.stringify(e), headers })));
  const report = () =>
    get<{
      totals: Json;
      days: Json[];
      missingSessions: Json[];
      complete: boolean;
      newestEventAt: string;
      missingSessionsNext: string | null;
    }>(`/api/v1/billing-completeness?from=${D1}&to=2026-03-12`);

  it('reconciles sessions ended with CDRs, pricing failures and dead letters per day and currency, names the missing one, and rebuilds the same', async () => {
    const s = (name: string) => ({
      id: deriveId('completeness-session', cfg.REPORTING_CONSUMER_GROUP, name),
      station: `CP-${name}`,
    });
    const [priced, failing, parked, lost, corrected, late, swiss] = [
      'priced',
      'failing',
      'parked',
      'lost',
      'corrected',
      'late',
      'swiss',
    ].map(s);
    await publish(topics.sessions, [
      ended(priced.id, priced.station, 1, `${D1}T09:00:00.000Z`),
      ended(failing.id, failing.station, 1, `${D1}T09:30:00.000Z`),
      ended(lost.id, lost.station, 1, `${D1}T10:00:00.000Z`),
      ended(corrected.id, corrected.station, 1, `${D1}T12:00:00.000Z`),
      ended(corrected.id, corrected.station, 2, `${D1}T12:00:00.000Z`),
      ended(late.id, late.station, 1, `${D2}T00:28:00.000Z`),
      ended(swiss.id, swiss.station, 1, `${D2}T00:30:00.000Z`),
    ]);
    // the parked one's session.ended is on session.events and, verbatim, on the tariff service's dead-letter topic
    const parkedEnded = ended(parked.id, parked.station, 1, `${D1}T11:00:00.000Z`);
    await publish(topics.sessions, [parkedEnded]);
    await publish(tariffPricingDeadLetters(cfg), [parkedEnded], {
      [DLQ_HEADERS.code]: 'HANDLER_FAILED',
      [DLQ_HEADERS.message]: 'boom',
      [DLQ_HEADERS.topic]: topics.sessions,
      [DLQ_HEADERS.attempts]: '5',
    });
    await publish(topics.billing, [
      cdr(priced.id, priced.station, 1, `${D1}T09:00:00.000Z`, 'EUR'),
      failed(failing.id, failing.station, 1, `${D1}T09:30:00.000Z`, 'NO_ASSIGNMENT'),
      cdr(corrected.id, corrected.station, 1, `${D1}T12:00:00.000Z`, 'EUR'),
      cdr(corrected.id, corrected.station, 1, `${D1}T12:00:00.000Z`, 'EUR', true),
      cdr(corrected.id, corrected.station, 2, `${D1}T12:00:00.000Z`, 'EUR'),
      cdr(swiss.id, swiss.station, 1, `${D2}T00:30:00.000Z`, 'CHF'),
    ]);

    const expectedTotals = {
      sessionsEnded: 8,
      cdrs: 4,
      creditCdrs: 1,
      pricingFailures: 1,
      deadLetters: 1,
      missing: 1,
      pending: 1,
      multipleOutcomes: 0,
      outcomesWithoutSession: 0,
    };
    const first = await waitFor(
      async () => {
        const r = await report();
        return r.status === 200 && JSON.stringify(r.body.totals) === JSON.stringify(expectedTotals)
          ? r.body
          : undefined;
      },
      { what: 'the completeness of the 8 session revisions', timeoutMs: 60_000 },
    );
    const zero = {
      sessionsEnded: 0,
      cdrs: 0,
      creditCdrs: 0,
      pricingFailures: 0,
      deadLetters: 0,
      missing: 0,
      pending: 0,
      multipleOutcomes: 0,
      outcomesWithoutSession: 0,
    };
    expect(first.days).toEqual([
      // no CDR: the failed one, the dead-lettered one, the missing one
      { ...zero, day: D1, currency: null, sessionsEnded: 3, pricingFailures: 1, deadLetters: 1, missing: 1 },
      // revision 2 of the corrected session, and the credit of its revision 1
      { ...zero, day: D1, currency: 'EUR', sessionsEnded: 3, cdrs: 3, creditCdrs: 1 },
      // ended 2 minutes before the newest event seen (00:30): within the grace period
      { ...zero, day: D2, currency: null, sessionsEnded: 1, pending: 1 },
      { ...zero, day: D2, currency: 'CHF', sessionsEnded: 1, cdrs: 1 },
    ]);
    expect(first).toMatchObject({ complete: false, newestEventAt: `${D2}T00:30:00.000Z`, missingSessionsNext: null });
    // its age by event time: from 10:00 to the newest event, 00:30 the next day
    expect(first.missingSessions).toEqual([
      { sessionId: lost.id, revision: 1, stationId: lost.station, endedAt: `${D1}T10:00:00.000Z`, ageSeconds: 52_200 },
    ]);
    expect((await get('/api/v1/billing-completeness/missing-sessions')).body).toEqual({ items: first.missingSessions });
    expect((await get(`/api/v1/billing-completeness?from=${D2}`)).body).toMatchObject({
      totals: { sessionsEnded: 2, missing: 0, pending: 1 },
    });
    expect((await get('/api/v1/billing-completeness?from=2026-13-01')).status).toBe(400);
    expect((await get('/api/v1/billing-completeness', operator.key)).status).toBe(403);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^csms_billing_sessions_missing\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^csms_billing_sessions_pending\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^csms_billing_sessions\{outcome="dead_letter"[^}]*\} 1$/m);

    // a rebuild from the three topics gives the same answer (event time only)
    await svc.stop();
    await rebuildReportingStore(cfg);
    svc = await startReportingService(cfg, silentLogger());
    const rebuilt = await waitFor(
      async () => {
        const r = await report();
        return r.status === 200 && JSON.stringify(r.body.totals) === JSON.stringify(expectedTotals)
          ? r.body
          : undefined;
      },
      { what: 'the rebuilt completeness', timeoutMs: 60_000 },
    );
    expect(rebuilt).toEqual(first);

    // the missing one is priced late, the pending one fails: complete
    await publish(topics.billing, [
      cdr(lost.id, lost.station, 1, `${D1}T10:00:00.000Z`, 'EUR'),
      failed(late.id, late.station, 1, `${D2}T00:28:00.000Z`, 'ENGINE_ERROR'),
    ]);
    const done = await waitFor(
      async () => {
        const r = await report();
        return r.body.complete ? r.body : undefined;
      },
      { what: 'billing complete' },
    );
    expect(done.totals).toEqual({ ...expectedTotals, cdrs: 5, pricingFailures: 2, missing: 0, pending: 0 });
    expect(done.missingSessions).toEqual([]);
    // two starts, a rebuild and three waits for consumer groups: about 55 s on a quiet 2-core machine
  }, 180_000);
});
