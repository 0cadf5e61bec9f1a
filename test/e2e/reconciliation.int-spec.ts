/**
 * Three-way reconciliation end to end, every service its own process on the real Kafka and PostgreSQL, the PSP
 * emulator in this process: four card sessions charged by an OCPP 1.6 charger, three of them with an injected
 * fault — the PSP never books one capture (emulator `missed_capture`), books another twice (`double_capture`, its
 * webhooks delivered twice as well), and one line of the PSP's settlement report is edited by hand before it is
 * imported — yield exactly the three injected breaks (MISSING_CAPTURE, DOUBLE_CAPTURE, AMOUNT_MISMATCH) and no
 * others; the import posts the payout once; resolving a break is an event; the payments report counts the
 * captures; a rebuild of the reporting service from the topics gives the same breaks and reports byte for byte.
 */
import { Client } from 'pg';
import type { RPCClient } from 'ocpp-rpc';
import { startServiceProcess, uniqueName, waitFor } from '@csms/testing';
import { loadReportingServiceConfig } from '../../apps/reporting-service/src/config';
import { rebuildReportingStore } from '../../apps/reporting-service/src/rebuild';
import type { PspEmulator } from '../../apps/psp-emulator/src';
import {
  openCardAccount,
  plainTariff,
  publishTariffForSite,
  putToken,
  registerStation,
  startSystem,
  stationClient,
  type Json,
  type RunningSystem,
} from './system';

const PASSWORD = 'e2e-recon-station-password';

interface Break {
  breakId: string;
  reason: string;
  status: string;
  sessionId: string | null;
  paymentRef: string | null;
  expected: string | null;
  actual: string | null;
}

describe('reconciliation end to end: injected PSP faults and a hand-edited settlement line give exactly their breaks', () => {
  const clients: RPCClient[] = [];
  let sys: RunningSystem;
  let emulator: PspEmulator;
  let pay: Client;

  beforeAll(async () => {
    sys = await startSystem({
      label: 'e2erec',
      services: ['ocpp-gateway', 'session-service', 'tariff-service', 'payment-service', 'reporting-service'],
      // every capture of this run is older than the run's time: none is "in flight"
      env: () => ({ 'reporting-service': { RECONCILIATION_GRACE_SECONDS: '0' } }),
    });
    emulator = sys.psp;
    pay = new Client({ connectionString: sys.databaseUrls['payment-service'] });
    await pay.connect();
  }, 500_000);

  afterAll(async () => {
    for (const c of clients) await c.close({ force: true }).catch(() => undefined);
    await pay?.end().catch(() => undefined);
    await sys?.stop('SIGTERM');
  }, 120_000);

  const api = <T = Json>(service: Parameters<RunningSystem['api']>[0], method: string, path: string, body?: unknown) =>
    sys.api<T>(service, method, path, body);
  const call = api;

  it('a seeded run with injected faults yields exactly the injected breaks, and a rebuild gives them again', async () => {
    const stationId = uniqueName('E2EREC16');
    await registerStation(sys, stationId, { password: PASSWORD, siteId: 'site-e2erec' });
    await openCardAccount(sys, 'acct-recon', 'pm_card_visa');
    await putToken(sys, 'E2E-RECON', 'acct-recon');
    await publishTariffForSite(sys, plainTariff('E2E-RECON'), 'site-e2erec');
    await waitFor(async () => (await pay.query(`select 1 from tokens where uid = 'E2E-RECON'`)).rowCount === 1, {
      what: "the token in the payment service's registry copy",
      timeoutMs: 60_000,
    });
    await waitFor(async () => (await fetch(`${sys.urls['ocpp-gateway']}/health/ready`)).status === 200, {
      what: 'gateway ready',
    });
    const cp = stationClient(sys, stationId, PASSWORD);
    clients.push(cp);
    await cp.connect();
    expect(await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' })).toMatchObject({
      status: 'Accepted',
    });
    const reportStart = Math.floor(Date.now() / 1000) - 60;

    /** One session of `kwh` kWh; resolves with its session id and payment reference once captured. */
    const done: Array<{ sessionId: string; paymentRef: string }> = [];
    let meter = 1000;
    const charge = async (kwh: number) => {
      const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();
      const start = (await cp.call('StartTransaction', {
        connectorId: 1,
        idTag: 'E2E-RECON',
        meterStart: meter,
        timestamp: at(0),
      })) as { transactionId: number };
      meter += kwh * 1000;
      await cp.call('StopTransaction', {
        transactionId: start.transactionId,
        idTag: 'E2E-RECON',
        meterStop: meter,
        timestamp: at(60),
        reason: 'Local',
      });
      const captured = await waitFor(
        async () => {
          const r = await pay.query<{ session_id: string; payload: { paymentRef: string; amountMinor: string } }>(
            `select session_id, payload from payment_events where type = 'payment.captured'
              and session_id not in (select unnest($1::text[])) limit 1`,
            [done.map((d) => d.sessionId)],
          );
          return r.rows[0];
        },
        { what: `a capture of session ${done.length + 1}`, timeoutMs: 120_000 },
      );
      const s = { sessionId: captured.session_id, paymentRef: captured.payload.paymentRef };
      done.push(s);
      return s;
    };
    // 1: the PSP answers the capture but never books it
    emulator.addFault({ kind: 'missed_capture' });
    const missed = await charge(12);
    // 2: the PSP books the capture twice; its webhooks come twice too (deduplicated: no break of ours)
    emulator.addFault({ kind: 'double_capture' });
    emulator.addFault({ kind: 'duplicate_webhook', count: 4, times: 2 });
    const doubled = await charge(8);
    // 3: its settlement line will be edited by hand; 4: clean
    const edited = await charge(10);
    const clean = await charge(6);
    expect(new Set(done.map((d) => d.paymentRef)).size).toBe(4);
    await emulator.webhooksIdle();

    // the PSP pays out (its webhook books the payout), then its settlement report is pulled and one line edited
    (emulator.psp as unknown as { payout(c?: string): unknown[] }).payout('eur');
    await waitFor(
      async () =>
        (await pay.query(`select 1 from payment_events where type = 'payment.payout_settled'`)).rowCount === 1,
      { what: 'the payout booked from its webhook', timeoutMs: 60_000 },
    );
    const reportEnd = Math.floor(Date.now() / 1000) + 3600;
    const original = (emulator.psp as unknown as { settlementReport(s: number, e: number): string }).settlementReport(
      reportStart,
      reportEnd,
    );
    const lines = original.trimEnd().split('\r\n');
    expect(lines.length).toBe(1 + 4); // header, 2 of the doubled payment, edited, clean (the missed one: none)
    const header = lines[0].split(',');
    const col = (name: string) => header.indexOf(name);
    const editedAt = lines.findIndex((l) => l.split(',')[col('payment_intent_id')] === edited.paymentRef);
    const cells = lines[editedAt].split(',');
    const plus10 = (v: string) => (Number(v) + 0.1).toFixed(2);
    cells[col('gross')] = plus10(cells[col('gross')]);
    cells[col('net')] = plus10(cells[col('net')]);
    const editedGross = cells[col('gross')];
    lines[editedAt] = cells.join(',');
    const csv = `${lines.join('\r\n')}\r\n`;
    const importBody = {
      reportId: uniqueName('frr'),
      intervalStart: new Date(reportStart * 1000).toISOString(),
      intervalEnd: new Date(reportEnd * 1000).toISOString(),
      csv,
    };
    const imported = await api<Json>('payment-service', 'POST', '/api/v1/settlements', importBody);
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ duplicate: false, lines: 4, linesNew: 4 });
    expect(imported.body.payouts).toHaveLength(1);
    // idempotent: the same report again changes nothing; the same id with another file is refused
    expect((await api<Json>('payment-service', 'POST', '/api/v1/settlements', importBody)).body).toMatchObject({
      duplicate: true,
    });
    const other = await api<Json>('payment-service', 'POST', '/api/v1/settlements', { ...importBody, csv: original });
    expect([other.status, other.body.code]).toEqual([409, 'SETTLEMENT_REPORT_CONFLICT']);
    // the payout is booked once (the webhook's), whoever names it
    expect((await pay.query(`select 1 from ledger_transfers where reason = 'payout'`)).rowCount).toBe(1);

    // the reporting service has read everything: four sessions, four CDRs, the four captures, the report
    const rep = new Client({ connectionString: sys.databaseUrls['reporting-service'] });
    await rep.connect();
    try {
      await waitFor(
        async () => {
          const n = async (sql: string) => Number((await rep.query(sql)).rows[0].n);
          return (
            (await n('select count(*) as n from recon_sessions')) === 4 &&
            (await n('select count(*) as n from finance_cdrs')) === 4 &&
            (await n(`select count(*) as n from recon_payment_facts where type = 'payment.captured'`)) === 4 &&
            (await n(
              `select count(*) as n from recon_payment_facts where type = 'payment.settlement_report_imported'`,
            )) === 1 &&
            (await n(`select count(*) as n from recon_payment_facts where type = 'payment.payout_settled'`)) === 1
          );
        },
        { what: 'the reporting service caught up', timeoutMs: 120_000 },
      );
    } finally {
      await rep.end();
    }

    const run = await api<{ breaks: number; newBreaks: number; asOf: string }>(
      'reporting-service',
      'POST',
      '/api/v1/reconciliation/runs',
    );
    expect(run.status).toBe(201);
    expect(run.body.asOf).toBe(importBody.intervalEnd);
    const open = await api<{ items: Break[] }>('reporting-service', 'GET', '/api/v1/reconciliation/breaks');
    const found = open.body.items
      .map((b) => ({
        reason: b.reason,
        sessionId: b.sessionId,
        paymentRef: b.paymentRef,
        expected: b.expected,
        actual: b.actual,
      }))
      .sort((a, b) => a.reason.localeCompare(b.reason));
    const amount = await pay.query<{ a: string }>(
      `select payload->>'amountMinor' as a from payment_events where type = 'payment.captured' and session_id = $1`,
      [edited.sessionId],
    );
    expect(found).toEqual([
      {
        reason: 'AMOUNT_MISMATCH',
        sessionId: edited.sessionId,
        paymentRef: edited.paymentRef,
        expected: amount.rows[0].a,
        actual: editedGross.replace('.', ''),
      },
      {
        reason: 'DOUBLE_CAPTURE',
        sessionId: doubled.sessionId,
        paymentRef: doubled.paymentRef,
        expected: '1',
        actual: '2',
      },
      {
        reason: 'MISSING_CAPTURE',
        sessionId: missed.sessionId,
        paymentRef: missed.paymentRef,
        expected: expect.any(String),
        actual: null,
      },
    ]);
    expect(found.some((b) => b.sessionId === clean.sessionId)).toBe(false);
    expect(run.body).toMatchObject({ breaks: 3, newBreaks: 3, scope: 'full' });
    // a second run finds the same breaks, and records none again: incremental (nothing changed, nothing read); a
    // full run asked for reads everything and agrees
    expect((await api<Json>('reporting-service', 'POST', '/api/v1/reconciliation/runs')).body).toMatchObject({
      breaks: 3,
      newBreaks: 0,
      scope: 'incremental',
      read: 0,
    });
    expect((await api<Json>('reporting-service', 'POST', '/api/v1/reconciliation/runs?scope=full')).body).toMatchObject(
      { breaks: 3, newBreaks: 0, clearedBreaks: 0, scope: 'full', items: expect.any(Array) },
    );

    // resolving one is an event (who, when, a note); it leaves the open queue
    const missing = open.body.items.find((b) => b.reason === 'MISSING_CAPTURE')!;
    const resolved = await api<Json>(
      'reporting-service',
      'POST',
      `/api/v1/reconciliation/breaks/${missing.breakId}/resolve`,
      { note: 'PSP lost the capture; re-captured by hand' },
    );
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({
      status: 'resolved',
      resolution: { resolvedBy: 'api-key:e2erec-admin', note: 'PSP lost the capture; re-captured by hand' },
    });
    const again = await api<Json>(
      'reporting-service',
      'POST',
      `/api/v1/reconciliation/breaks/${missing.breakId}/resolve`,
      {
        note: 'twice',
      },
    );
    expect([again.status, again.body.code]).toEqual([409, 'BREAK_RESOLVED']);
    expect(
      (await api<{ items: Break[] }>('reporting-service', 'GET', '/api/v1/reconciliation/breaks')).body.items
        .map((b) => b.reason)
        .sort(),
    ).toEqual(['AMOUNT_MISMATCH', 'DOUBLE_CAPTURE']);
    // the open breaks on /metrics, per reason
    const metrics = await (await fetch(`${sys.urls['reporting-service']}/metrics`)).text();
    for (const [reason, n] of [
      ['AMOUNT_MISMATCH', 1],
      ['DOUBLE_CAPTURE', 1],
      ['MISSING_CAPTURE', 0],
      ['ENERGY_MISMATCH', 0],
    ] as const)
      expect(metrics).toMatch(new RegExp(`^csms_reconciliation_breaks_open\\{reason="${reason}"[^}]*\\} ${n}$`, 'm'));
    // pagination: one at a time, by cursor
    const page1 = await api<{ items: Break[]; nextCursor: string | null }>(
      'reporting-service',
      'GET',
      '/api/v1/reconciliation/breaks?status=all&limit=2',
    );
    expect(page1.body.items).toHaveLength(2);
    const page2 = await api<{ items: Break[]; nextCursor: string | null }>(
      'reporting-service',
      'GET',
      `/api/v1/reconciliation/breaks?status=all&limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect([page2.body.items.length, page2.body.nextCursor]).toEqual([1, null]);

    // the payments report: the four captures, the payout and its fees (summed over the days the run touched: it may
    // straddle a UTC midnight)
    const today = new Date(reportStart * 1000).toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const payments = await api<{ days: Array<Record<string, string | number>> }>(
      'reporting-service',
      'GET',
      `/api/v1/reports/payments?from=${today}&to=${tomorrow}`,
    );
    const total = (k: string) => payments.body.days.reduce((t, d) => t + BigInt(String(d[k]).replace('.', '')), 0n);
    const captured = BigInt(
      (
        await pay.query<{ n: string }>(
          `select sum((payload->>'amountMinor')::bigint)::text as n from payment_events where type = 'payment.captured'`,
        )
      ).rows[0].n,
    );
    const payout = (
      await pay.query<{ a: string; f: string }>(
        `select payload->>'amountMinor' as a, payload->>'feeMinor' as f from payment_events where type = 'payment.payout_settled'`,
      )
    ).rows[0];
    expect(payments.body.days.every((d) => d.currency === 'EUR')).toBe(true);
    expect(
      ['captures', 'captured', 'refunds', 'refunded', 'receivables_opened', 'psp_fees', 'payouts', 'paid_out'].map(
        total,
      ),
    ).toEqual([4n, captured, 0n, 0n, 0n, BigInt(payout.f), 1n, BigInt(payout.a)]);
    expect(String(payments.body.days[0].captured)).toMatch(/^\d+\.\d{2}$/);

    // a rebuild from the topics: the same breaks (resolution included) and reports, byte for byte
    const paths = [
      '/api/v1/reconciliation/breaks?status=all&format=csv',
      `/api/v1/reports/payments?from=${today}&to=${tomorrow}&format=csv`,
      '/api/v1/reconciliation/breaks?status=all',
    ];
    const before = await Promise.all(paths.map(async (p) => (await call('reporting-service', 'GET', p)).text));
    expect(before[0].split('\r\n')[0]).toBe(
      'break_id,reason,status,session_id,cdr_id,payment_ref,currency,expected,actual,detail,detected_at,detected_by,resolved_at,resolved_by,note,cleared_at,cleared_by_run',
    );
    const repDb = new Client({ connectionString: sys.databaseUrls['reporting-service'] });
    await repDb.connect();
    await waitFor(async () => Number((await repDb.query('select count(*) as n from outbox')).rows[0].n) === 0, {
      what: "the reporting service's outbox drained",
    });
    await repDb.end();
    sys.services['reporting-service'].kill('SIGTERM');
    await sys.services['reporting-service'].exited();
    await rebuildReportingStore(loadReportingServiceConfig(sys.envs['reporting-service']));
    sys.services['reporting-service'] = await startServiceProcess('reporting-service', sys.envs['reporting-service']);
    await waitFor(
      async () =>
        (await call('reporting-service', 'GET', paths[0])).text === before[0] &&
        (await call('reporting-service', 'GET', paths[1])).text === before[1],
      { what: 'the rebuilt reports', timeoutMs: 120_000 },
    );
    const after = await Promise.all(paths.map(async (p) => (await call('reporting-service', 'GET', p)).text));
    expect(after).toEqual(before);
    for (const s of Object.values(sys.services)) expect(s.errorLines()).toEqual([]);
  }, 600_000);
});
