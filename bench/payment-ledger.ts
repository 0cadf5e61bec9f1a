/**
 * The payment service's ledger alone: transfers per second written through the projection (the live path's and the
 * rebuild's `projectPaymentEvents`: the event row, the transfer, its postings and state, the balance check at
 * commit) on PostgreSQL, with no Kafka, no decider and no PSP.
 *   npx tsx bench/payment-ledger.ts [transfers=20000] [perTransaction=250] [concurrency=4] [accounts=50]
 * The transfers are a CDR's (receivable against revenue net and VAT payable: 3 postings), made by libs/payments'
 * posting rules and enveloped as the service does, before the clock starts. Prints transfers/s and the CPU per
 * transfer of this process and of the PostgreSQL backends of its database (from /proc); a human line and a JSON line.
 * Then (BENCH_LEDGER_STATEMENTS=0: not) where the database's time goes: the same transfers again, one transaction at a
 * time on one connection, each statement's CPU of that backend (from /proc/<pid>/schedstat, nanoseconds) summed per
 * statement and per transfer — the event rows, the ledger's four inserts, the commit (the deferred balance check).
 * BENCH_SQL: statements run on the fresh database after its migrations (to try a schema change, e.g. an index
 * dropped, against the same workload).
 */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { deriveId, systemCatalogue, type Envelope } from '@csms/contracts';
import { PostingRules } from '@csms/payments';
import { createTestDatabase } from '@csms/testing';
import { paymentServiceMigrations } from '../apps/payment-service/src/migrations';
import { projectPaymentEvents } from '../apps/payment-service/src/projection';
import { paymentRules } from '../apps/payment-service/src/rules';
import { cpuOfPids } from './db-cpu';

/** CPU (user + system, ms) of the PostgreSQL backends of the database, by pid (not `except`). */
async function dbCpu(ds: DataSource, except: number): Promise<Map<number, number>> {
  const rows: Array<{ pid: number }> = await ds.query(
    'select pid from pg_stat_activity where datname = current_database() and pid <> $1',
    [except],
  );
  return cpuOfPids(rows.map((r) => r.pid));
}

export function ledgerEnvelopes(count: number, perTransaction: number, accounts: number): Envelope[][] {
  const rules = paymentRules();
  const catalogue = systemCatalogue();
  const run = randomUUID();
  const at = new Date().toISOString();
  const batches: Envelope[][] = [];
  for (let k = 0; k < count; k += perTransaction) {
    const batch: Envelope[] = [];
    for (let n = k; n < Math.min(count, k + perTransaction); n++) {
      const accountId = `bench-ledger-${n % accounts}`;
      const sourceEventId = deriveId('bench-ledger', run, String(n));
      const t = PostingRules.cdr(
        { billingAccountId: accountId, currency: 'EUR', sourceEventId, at },
        `L${n}`,
        847n,
        700n,
      )!;
      batch.push(
        rules.envelope(
          catalogue,
          {
            type: 'ledger.transfer_posted',
            accountId,
            sourceEventId,
            at,
            transferId: t.transferId,
            currency: t.currency,
            pendingId: t.pendingId,
            postings: t.postings.map((x) => ({ account: x.account, amountMinor: x.amountMinor.toString() })),
            reason: t.reason,
            state: 'posted',
          },
          0,
        ),
      );
    }
    batches.push(batch);
  }
  return batches;
}

/** CPU time (ns) a process has run, from /proc/<pid>/schedstat */
function runNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

/**
 * The backend's CPU per transfer by statement (its first words), one transaction of 250 at a time on one connection.
 */
async function perStatement(ds: DataSource, count: number, accounts: number): Promise<Record<string, number>> {
  const spent = new Map<string, number>();
  const add = (k: string, ns: number) => spent.set(k, (spent.get(k) ?? 0) + ns);
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    const [{ pid }]: Array<{ pid: number }> = await qr.query('select pg_backend_pid() as pid');
    const m = qr.manager;
    const query = m.query.bind(m);
    m.query = (async (sql: string, params?: unknown[]) => {
      const t = runNs(pid);
      const r: unknown = await query(sql, params);
      add(/^\s*(\w+(?:\s+into)?\s+\w+)/.exec(sql)?.[1].replace(/\s+/g, ' ') ?? 'other', runNs(pid) - t);
      return r;
    }) as typeof m.query;
    let total = 0;
    for (const batch of ledgerEnvelopes(count, 250, accounts)) {
      const t0 = runNs(pid);
      await qr.startTransaction();
      await projectPaymentEvents(m, batch);
      const t1 = runNs(pid);
      await qr.commitTransaction();
      add('commit (balance check)', runNs(pid) - t1);
      total += runNs(pid) - t0;
    }
    add('total', total);
  } finally {
    await qr.release();
  }
  return Object.fromEntries(
    [...spent].sort((a, b) => b[1] - a[1]).map(([k, ns]) => [k, Math.round(ns / count / 100) / 10]),
  );
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 20_000);
  const perTransaction = Number(process.argv[3] ?? 250);
  const concurrency = Number(process.argv[4] ?? 4);
  const accounts = Number(process.argv[5] ?? 50);
  const db = await createTestDatabase('payledger', paymentServiceMigrations);
  try {
    const ds = db.dataSource;
    if (process.env.BENCH_SQL) await ds.query(process.env.BENCH_SQL);
    // warm: the pool's connections open, the statements planned once
    await Promise.all(
      ledgerEnvelopes(concurrency * 10, 10, accounts).map((b) => ds.transaction((m) => projectPaymentEvents(m, b))),
    );
    const batches = ledgerEnvelopes(count, perTransaction, accounts);
    const [{ pid }]: Array<{ pid: number }> = await ds.query('select pg_backend_pid() as pid');
    const d0 = await dbCpu(ds, pid);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < batches.length) {
          const batch = batches[next++];
          await ds.transaction((m) => projectPaymentEvents(m, batch));
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    let dbMs = 0;
    for (const [p, v] of await dbCpu(ds, pid)) dbMs += v - (d0.get(p) ?? 0);
    const statements = process.env.BENCH_LEDGER_STATEMENTS === '0' ? null : await perStatement(ds, count, accounts);
    const result = {
      bench: 'payment-ledger',
      transfers: count,
      perTransaction,
      concurrency,
      transfersPerSecond: Math.round(count / seconds),
      cpuMsPerTransfer: Math.round(((c.user + c.system) / 1000 / count) * 1000) / 1000,
      dbCpuMsPerTransfer: Math.round((dbMs / count) * 1000) / 1000,
      dbCpuUsPerTransferByStatement: statements,
      cpus: os.cpus().length,
      loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    };
    console.log(
      `ledger alone: ${result.transfersPerSecond} transfers/s (${count}, ${perTransaction} per transaction, ${concurrency} at a time); CPU per transfer: process ${result.cpuMsPerTransfer} ms, PostgreSQL ${result.dbCpuMsPerTransfer} ms; load ${result.loadavg.join(' ')}`,
    );
    if (statements)
      console.log(
        `PostgreSQL CPU per transfer, one transaction at a time: ${Object.entries(statements)
          .map(([k, v]) => `${k} ${v} µs`)
          .join(', ')}`,
      );
    console.log(JSON.stringify(result));
  } finally {
    await db.drop();
  }
}

if (require.main === module)
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
