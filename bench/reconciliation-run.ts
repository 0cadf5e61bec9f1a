/**
 * Benchmark of one reconciliation run (the reporting service's `runReconciliation`, what the scheduler and
 * POST /api/v1/reconciliation/runs do) on the real PostgreSQL, no Kafka:
 *
 *   npx tsx bench/reconciliation-run.ts [--sessions 100000] [--runs 3]
 *
 * Seeds `--sessions` card sessions that reconcile cleanly (the session's energy, its CDR, and on payment.events its
 * authorisation, CDR record, capture, two ledger transfers and the PSP's paid-out charge line: 6 facts a session)
 * and one settlement report, then times full runs: each reads every fact into memory (no incremental run). Prints
 * one JSON line: wall time per run (median), this process's CPU time per run (user + system), resident memory at
 * the end above the start, and the breaks found (0 expected).
 */
import { loadavg } from 'node:os';
import { systemCatalogue } from '@csms/contracts';
import type { OutboxRelay } from '@csms/messaging';
import { createTestDatabase } from '@csms/testing';
import { reportingServiceMigrations } from '../apps/reporting-service/src/migrations';
import { runReconciliation } from '../apps/reporting-service/src/reconciliation.run';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('sessions', 100_000);
const RUNS = arg('runs', 3);
const T0 = '2026-03-01T10:00:00.000Z';

async function main(): Promise<void> {
  const db = await createTestDatabase('recon_bench', reportingServiceMigrations);
  const ds = db.dataSource;
  try {
    const s0 = performance.now();
    await ds.query(
      `insert into recon_sessions select md5('s' || g)::uuid, 1, $2::timestamptz, 12 from generate_series(1, $1) g`,
      [N, T0],
    );
    await ds.query(
      `insert into finance_cdrs
       select 'CDR' || g, 0, g, false, null, md5('s' || g)::uuid, 'CP-1', 'site-1', 'CP-1*1', '1', 'T1', 1, 'EUR',
         'acct-1', $2::timestamptz, 'UTC', '2026-03-01', '2026-03-01', 1, 12, 1, 0, 7.00, 1.47, 8.47, '{}'::jsonb
       from generate_series(1, $1) g`,
      [N, T0],
    );
    // six payment facts per session, payloads as the payment service writes them (the fields reconcile reads)
    const fact = (type: string, id: string, payload: string) =>
      ds.query(
        `insert into recon_payment_facts (event_id, type, at, day, currency, amount_minor, fee_minor, payload)
         select md5('${type}' || g)::uuid, '${type}', $2::timestamptz, '2026-03-01', 'EUR', 847, null,
           jsonb_build_object('type', '${type}', 'accountId', 'acct-1', 'sourceEventId', '${id}' || g, 'at', $2::text)
             || ${payload}
         from generate_series(1, $1) g`,
        [N, T0],
      );
    const session = `'sessionId', md5('s' || g)::uuid::text`;
    await fact('payment.authorized', 'auth-', `jsonb_build_object('paymentRef', 'pi_' || g, ${session})`);
    await fact(
      'payment.cdr_recorded',
      'cdr-',
      `jsonb_build_object('cdrId', 'CDR' || g, ${session}, 'credit', false, 'currency', 'EUR', 'totalInclVatMinor', '847', 'method', 'card')`,
    );
    await fact(
      'payment.captured',
      'cap-',
      `jsonb_build_object('intentId', 'ci_' || g, 'holdId', 'h_' || g, 'paymentRef', 'pi_' || g, ${session},
        'cdrId', 'CDR' || g, 'currency', 'EUR', 'amountMinor', '847')`,
    );
    await fact(
      'ledger.transfer_posted',
      'cdr-',
      `jsonb_build_object('reason', 'cdr', 'currency', 'EUR', 'postings', jsonb_build_array(
        jsonb_build_object('account', 'customer_receivable:EUR:acct-1', 'amountMinor', '847'),
        jsonb_build_object('account', 'revenue_net:EUR', 'amountMinor', '-700'),
        jsonb_build_object('account', 'vat_payable:EUR', 'amountMinor', '-147')))`,
    );
    await ds.query(
      `insert into recon_payment_facts (event_id, type, at, day, currency, amount_minor, fee_minor, payload)
       select md5('ledger.capture' || g)::uuid, 'ledger.transfer_posted', $2::timestamptz, '2026-03-01', 'EUR', null, null,
         jsonb_build_object('type', 'ledger.transfer_posted', 'accountId', 'acct-1', 'sourceEventId', 'cap-' || g,
           'at', $2::text, 'reason', 'capture', 'currency', 'EUR', 'postings', jsonb_build_array(
             jsonb_build_object('account', 'psp_clearing:EUR', 'amountMinor', '847'),
             jsonb_build_object('account', 'customer_receivable:EUR:acct-1', 'amountMinor', '-847')))
       from generate_series(1, $1) g`,
      [N, T0],
    );
    await fact(
      'payment.settlement_line_recorded',
      'line-',
      `jsonb_build_object('accountId', 'platform', 'balanceTransactionId', 'txn_' || g, 'category', 'charge',
        'paymentRef', 'pi_' || g, 'currency', 'EUR', 'grossMinor', '847', 'payoutRef', 'po_1')`,
    );
    await ds.query(
      `insert into recon_payment_facts (event_id, type, at, day, currency, amount_minor, fee_minor, payload)
       values (md5('report')::uuid, 'payment.settlement_report_imported', '2026-03-02T00:00:00Z', '2026-03-02', null,
         null, null, jsonb_build_object('type', 'payment.settlement_report_imported', 'accountId', 'platform',
           'sourceEventId', 'report', 'at', '2026-03-02T00:00:00.000Z', 'reportId', 'r1',
           'intervalStart', '2026-03-01T00:00:00.000Z', 'intervalEnd', '2026-03-02T00:00:00.000Z'))`,
    );
    for (const t of ['recon_payment_facts', 'recon_sessions', 'finance_cdrs']) await ds.query(`vacuum analyze ${t}`);
    const seedSeconds = (performance.now() - s0) / 1000;
    const [{ n: facts }] = (await ds.query('select count(*)::int as n from recon_payment_facts')) as Array<{
      n: number;
    }>;

    const deps = {
      catalogue: systemCatalogue(),
      relay: { nudge: () => undefined, maxMessageBytes: 1_000_000 } as unknown as OutboxRelay,
      unsettledDays: 3,
      graceSeconds: 3600,
    };
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const wall: number[] = [];
    const cpu: number[] = [];
    let breaks = -1;
    let peak = rss0;
    for (let i = 0; i < RUNS; i++) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      const r = await runReconciliation(ds, deps, 'bench', 'wait');
      wall.push(performance.now() - w0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      peak = Math.max(peak, process.memoryUsage().rss);
      breaks = r?.breaks ?? -1;
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      JSON.stringify({
        bench: 'reconciliation-run',
        sessions: N,
        paymentFacts: facts,
        seedSeconds: Math.round(seedSeconds * 10) / 10,
        runs: RUNS,
        medianRunMs: Math.round(median(wall)),
        medianNodeCpuMs: Math.round(median(cpu)),
        rssAboveStartMbAtPeak: Math.round((peak - rss0) / 1e6),
        breaks,
        loadAverage1m: loadavg()[0],
      }),
    );
  } finally {
    await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
