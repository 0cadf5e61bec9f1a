import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import {
  CdrCreatedV3,
  SettlementReportImportedV1,
  deriveId,
  systemCatalogue,
  type CdrCreatedPayload,
  type Envelope,
} from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
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
import { loadReportingServiceConfig } from '../src/config';
import { startReportingService } from '../src/service';

const finance = newApiKey('fin-lifecycle', 'finance');
const catalogue = systemCatalogue();
const T0 = '2026-03-01T10:00:00.000Z';

interface Break {
  breakId: string;
  reason: string;
  status: string;
  sessionId: string | null;
  runId: string;
  detectedAt: string;
  detectedBy: string;
  resolution: unknown;
  clearance: { clearedAt: string; runId: string; clearedBy: string } | null;
}

/**
 * A break's lifecycle end to end: the scheduled reconciliation (RECONCILIATION_INTERVAL_S) finds a session ended
 * without a CDR (MISSING_CDR); the CDR arrives late on billing.events; the next scheduled run no longer finds the
 * break and clears it with `finance.reconciliation_break_cleared`, which goes through Kafka and back.
 */
describe('reporting service: a reconciliation break opens, then clears when the healing fact arrives (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let svc: RunningService;
  let pg: Client;
  const db = `csms_test_recon_life_${process.pid}_${Math.floor(performance.now())}`;
  const group = uniqueName('reporting');
  const topics = {
    sessions: uniqueName('test.session-events'),
    billing: uniqueName('test.billing-events'),
    finance: uniqueName('test.finance-events'),
    payments: uniqueName('test.payment-events'),
  };

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, Object.values(topics), 3);
    const cfg = loadReportingServiceConfig({
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(db),
      HTTP_PORT: '0',
      API_KEYS: finance.entry,
      REPORTING_CONSUMER_GROUP: group,
      OCPP_INBOUND_TOPIC: uniqueName('test.ocpp-inbound'),
      MONITORING_EVENTS_TOPIC: uniqueName('test.monitoring-events'),
      SESSION_EVENTS_TOPIC: topics.sessions,
      BILLING_EVENTS_TOPIC: topics.billing,
      FINANCE_EVENTS_TOPIC: topics.finance,
      PAYMENT_EVENTS_TOPIC: topics.payments,
      REGISTRY_STATIONS_TOPIC: uniqueName('test.registry-stations'),
      TARIFF_CONSUMER_GROUP: uniqueName('tariffs'),
      RECONCILIATION_INTERVAL_S: '1',
      LOG_LEVEL: 'silent',
    });
    svc = await startReportingService(cfg, silentLogger());
    pg = new Client({ connectionString: testDatabaseUrl(db) });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await svc?.stop();
    await publisher?.disconnect();
    await dropTestDatabases([db]);
  });

  const breaks = async (query: string) => {
    const r = await fetch(`${svc.url}/api/v1/reconciliation/breaks?${query}`, {
      headers: { authorization: `Bearer ${finance.key}` },
    });
    const text = await r.text();
    return {
      status: r.status,
      text,
      body: (r.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : {},
    };
  };
  const publish = (topic: string, e: Envelope) => publisher.publish([{ topic, key: e.key, value: JSON.stringify(e) }]);

  it('MISSING_CDR is detected by a scheduled run and cleared by a later one once the CDR arrives', async () => {
    const sessionId = deriveId('lifecycle-session', 1);
    const ended = sessionEnded(T0.slice(0, 10), sessionId, 'CP-LIFE-1', 1, deriveId('lifecycle-ended', 1));
    const energy = (ended.payload as { totals: { energyKwh: string } }).totals.energyKwh;
    await publish(topics.sessions, { ...ended, occurredAt: T0, payload: { ...ended.payload, endedAt: T0 } });
    // the settlement report's interval end is the time the runs are as of (event time)
    await publish(
      topics.payments,
      catalogue.create(SettlementReportImportedV1, {
        id: deriveId('lifecycle-report', 1),
        key: 'platform',
        occurredAt: '2026-03-02T00:00:00.000Z',
        source: 'test',
        payload: { ...SettlementReportImportedV1.example, payouts: [], lines: 0, linesNew: 0 },
      }),
    );

    // 1. the scheduler's run finds the session without a CDR
    let open: Break[] = [];
    await waitFor(
      async () => {
        open = (await breaks('status=open')).body.items as Break[];
        return open.length > 0;
      },
      { what: 'a scheduled run detecting the break' },
    );
    expect(open.map((b) => [b.reason, b.sessionId, b.detectedBy])).toEqual([
      ['MISSING_CDR', sessionId, 'reconciliation-scheduler'],
    ]);
    const missing = open[0];

    // 2. the CDR arrives late, with the session's metered energy
    const ex = CdrCreatedV3.example as CdrCreatedPayload;
    const cdr: CdrCreatedPayload = {
      ...ex,
      cdr: { ...ex.cdr, id: 'CDR-LIFE-1', session_id: sessionId, total_energy: energy },
      audit: { ...ex.audit, sessionId, stationId: 'CP-LIFE-1' },
      billingAccountId: null,
    };
    await publish(
      topics.billing,
      catalogue.create(CdrCreatedV3, {
        id: deriveId('cdr-created', 'CDR-LIFE-1'),
        key: sessionId,
        occurredAt: ex.cdr.last_updated,
        source: 'test',
        payload: cdr,
      }),
    );

    // 3. a later scheduled run no longer finds it: cleared by that run, an event read back from finance.events
    let cleared: Break[] = [];
    await waitFor(
      async () => {
        cleared = (await breaks('status=cleared')).body.items as Break[];
        return cleared.length > 0;
      },
      { what: 'a scheduled run clearing the break' },
    );
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatchObject({
      breakId: missing.breakId,
      status: 'cleared',
      resolution: null,
      clearance: { clearedAt: '2026-03-02T00:00:00.000Z', clearedBy: 'reconciliation-scheduler' },
    });
    expect(cleared[0].clearance!.runId).not.toBe(missing.runId);
    const clearedEventId = deriveId('reconciliation-break-cleared', missing.breakId, cleared[0].clearance!.runId);
    await waitFor(
      async () => (await pg.query('select 1 from inbox where event_id = $1', [clearedEventId])).rowCount === 1,
      { what: 'finance.reconciliation_break_cleared read back from the topic' },
    );
    expect((await breaks('status=open')).body.items).toEqual([]);
    // the CSV has the clearance apart from a resolution
    const csv = await breaks('status=all&format=csv');
    expect(csv.status).toBe(200);
    const [header, row] = csv.text.split('\r\n');
    expect(header.split(',').slice(-4)).toEqual(['resolved_by', 'note', 'cleared_at', 'cleared_by_run']);
    expect(row.split(',').slice(-4)).toEqual(['', '', '2026-03-02T00:00:00.000Z', cleared[0].clearance!.runId]);
    expect(row.split(',')[2]).toBe('cleared');
    // a cleared break cannot be resolved by a person
    const resolve = await fetch(`${svc.url}/api/v1/reconciliation/breaks/${missing.breakId}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${finance.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'too late' }),
    });
    expect(resolve.status).toBe(409);
    expect(await resolve.json()).toMatchObject({ code: 'BREAK_CLEARED', field: 'path/breakId' });

    // the period filter: detection time (the run's asOf) in [from, to)
    expect(
      ((await breaks('status=all&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z')).body.items as Break[]).length,
    ).toBe(1);
    expect(((await breaks('status=all&from=2026-03-02T00:00:01Z')).body.items as Break[]).length).toBe(0);
    expect(((await breaks('status=all&to=2026-03-02T00:00:00Z')).body.items as Break[]).length).toBe(0);
    const bad = await breaks('from=2026-03-03T00:00:00Z&to=2026-03-02T00:00:00Z');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'query/to' });
    const notInstant = await breaks('from=yesterday');
    expect(notInstant.status).toBe(400);
    expect(notInstant.body).toMatchObject({ field: 'query/from' });

    // the runs' cost for operators: the first runs were full (before any payment fact, and the first with one), the
    // later ones incremental (the one that cleared the break read the late CDR's history: its session, the CDR)
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    const value = (name: string, scope: string) =>
      Number(new RegExp(`^${name}\\{[^}]*scope="${scope}"[^}]*\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    expect(value('csms_reconciliation_run_seconds_count', 'full')).toBeGreaterThanOrEqual(1);
    expect(value('csms_reconciliation_run_seconds_count', 'incremental')).toBeGreaterThanOrEqual(1);
    expect(value('csms_reconciliation_rows_read_total', 'full')).toBeGreaterThanOrEqual(2);
    expect(value('csms_reconciliation_rows_read_total', 'incremental')).toBeGreaterThanOrEqual(2);
  });
});
