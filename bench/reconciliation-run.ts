/**
 * Benchmark of reconciliation runs (the reporting service's `runReconciliation`, what the scheduler and
 * POST /api/v1/reconciliation/runs do) on the real PostgreSQL, no Kafka:
 *
 *   npx tsx bench/reconciliation-run.ts [--sessions 100000] [--days 100] [--new 1000] [--runs 3]
 *
 * Seeds `--sessions` card sessions that reconcile cleanly (the session's energy, its CDR, and on payment.events its
 * authorisation, CDR record, capture, two ledger transfers and the PSP's paid-out charge line: 6 facts a session)
 * spread over `--days` days, each day with its settlement report, then times `--runs` full runs (every fact read into memory), then, after a run
 * that leaves the incremental state, `--runs` incremental runs, each after a further day of `--new` sessions and its
 * report (seeded outside the timing). Prints one JSON line: per kind, wall time per run (median), this process's
 * CPU time per run (user + system, median), resident memory at the peak above the start, the rows the last run read
 * and the open breaks after it (0 expected).
 */
import { loadavg } from 'node:os';
import type { DataSource } from 'typeorm';
import { systemCatalogue } from '@csms/contracts';
import type { OutboxRelay } from '@csms/messaging';
import { createTestDatabase } from '@csms/testing';
import { reportingServiceMigrations } from '../apps/reporting-service/src/migrations';
import { runReconciliation, type RunResult } from '../apps/reporting-service/src/reconciliation.run';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('sessions', 100_000);
const RUNS = arg('runs', 3);
const NEW = arg('new', 1000);
const DAYS = arg('days', 100);

/**
 * Sessions `from`..`to`, all on day `day` (0: 2026-03-01) at 10:00 UTC, and that day's settlement report (its
 * interval the day, imported at its end): the report moves the run's asOf to the day's end.
 */
async function seed(ds: DataSource, from: number, to: number, day: number): Promise<void> {
  const T0 = new Date(Date.parse('2026-03-01T10:00:00.000Z') + day * 86_400_000).toISOString();
  const start = `${T0.slice(0, 10)}T00:00:00.000Z`;
  const end = new Date(Date.parse(start) + 86_400_000).toISOString();
  await ds.query(
    `insert into recon_sessions select md5('s' || g)::uuid, 1, $2::timestamptz, 12 from generate_series($3::int, $1) g`,
    [to, T0, from],
  );
  await ds.query(
    `insert into finance_cdrs
       select 'CDR' || g, 0, g, false, null, md5('s' || g)::uuid, 'CP-1', 'site-1', 'CP-1*1', '1', 'T1', 1, 'EUR',
         'acct-1', $2::timestamptz, 'UTC', '2026-03-01', '2026-03-01', 1, 12, 1, 0, 7.00, 1.47, 8.47, '{}'::jsonb
       from generate_series($3::int, $1) g`,
    [to, T0, from],
  );
  // six payment facts per session, payloads as the payment service writes them (the fields reconcile reads)
  const fact = (type: string, id: string, payload: string) =>
    ds.query(
      `insert into recon_payment_facts (event_id, type, at, day, currency, amount_minor, fee_minor, payload)
         select md5('${type}' || g)::uuid, '${type}', $2::timestamptz, '2026-03-01', 'EUR', 847, null,
           jsonb_build_object('type', '${type}', 'accountId', 'acct-1', 'sourceEventId', '${id}' || g, 'at', $2::text)
             || ${payload}
         from generate_series($3::int, $1) g`,
      [to, T0, from],
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
       from generate_series($3::int, $1) g`,
    [to, T0, from],
  );
  await fact(
    'payment.settlement_line_recorded',
    'line-',
    `jsonb_build_object('accountId', 'platform', 'balanceTransactionId', 'txn_' || g, 'category', 'charge',
        'paymentRef', 'pi_' || g, 'currency', 'EUR', 'grossMinor', '847', 'payoutRef', 'po_1')`,
  );
  await ds.query(
    `insert into recon_payment_facts (event_id, type, at, day, currency, amount_minor, fee_minor, payload)
       values (md5('report' || $1)::uuid, 'payment.settlement_report_imported', $3::timestamptz, $3::date, null,
         null, null, jsonb_build_object('type', 'payment.settlement_report_imported', 'accountId', 'platform',
           'sourceEventId', 'report-' || $1, 'at', $3::text, 'reportId', 'r' || $1,
           'intervalStart', $2::text, 'intervalEnd', $3::text))`,
    [day, start, end],
  );
}

const deps = {
  catalogue: systemCatalogue(),
  relay: { nudge: () => undefined, maxMessageBytes: 1_000_000 } as unknown as OutboxRelay,
  unsettledDays: 3,
  graceSeconds: 3600,
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Times `runs` runs, each after `before` (seeding, outside the timing): wall, CPU and memory, median and peak. */
async function timed(
  runs: number,
  run: () => Promise<RunResult | null>,
  before: (i: number) => Promise<void> = async () => undefined,
) {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const wall: number[] = [];
  const cpu: number[] = [];
  let peak = rss0;
  let last: RunResult | null = null;
  for (let i = 0; i < runs; i++) {
    await before(i);
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    last = await run();
    wall.push(performance.now() - w0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  return {
    scope: last?.scope,
    medianRunMs: Math.round(median(wall)),
    medianNodeCpuMs: Math.round(median(cpu)),
    rssAboveStartMbAtPeak: Math.round((peak - rss0) / 1e6),
    read: last?.read,
    openBreaks: last?.breaks,
  };
}

async function main(): Promise<void> {
  const db = await createTestDatabase('recon_bench', reportingServiceMigrations);
  const ds = db.dataSource;
  try {
    const s0 = performance.now();
    // the history: N sessions over DAYS days, each day with its settlement report
    const perDay = Math.ceil(N / DAYS);
    for (let d = 0; d < DAYS; d++) await seed(ds, d * perDay + 1, Math.min(N, (d + 1) * perDay), d);
    for (const t of ['recon_payment_facts', 'recon_sessions', 'finance_cdrs']) await ds.query(`vacuum analyze ${t}`);
    const seedSeconds = (performance.now() - s0) / 1000;
    const [{ n: facts }] = (await ds.query('select count(*)::int as n from recon_payment_facts')) as Array<{
      n: number;
    }>;
    const full = await timed(RUNS, () => runReconciliation(ds, deps, 'bench', 'wait', 'full'));
    // the state a scheduled run leaves, then a day of NEW sessions and its report before each incremental run
    await runReconciliation(ds, deps, 'bench', 'wait');
    let next = N + 1;
    const incremental = await timed(
      RUNS,
      () => runReconciliation(ds, deps, 'bench', 'wait'),
      async (i) => {
        await seed(ds, next, next + NEW - 1, DAYS + i);
        next += NEW;
      },
    );
    console.log(
      JSON.stringify({
        bench: 'reconciliation-run',
        sessions: N,
        paymentFacts: facts,
        days: DAYS,
        newSessionsPerIncrementalRun: NEW,
        seedSeconds: Math.round(seedSeconds * 10) / 10,
        runs: RUNS,
        full,
        incremental,
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
