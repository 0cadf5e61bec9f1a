/**
 * What the payment service costs while nothing happens: the process (service and the in-process PSP emulator) and
 * the PostgreSQL backends of its database, over a window with no input, after a short settling time.
 *   npx tsx bench/payment-idle.ts [seconds=30]
 * The service runs with its own defaults (the test harness's short runner poll is put back to the default);
 * `PAYMENT_RUNNER_IDLE_POLL_MS=200 PAYMENT_OUTBOX_IDLE_POLL_MS=100` gives the polling of the code before the
 * wake-on-write (a poll every 200 ms by the runner, every 100 ms by the outbox relay). Prints the CPU as a share of
 * one core and the statements PostgreSQL ran (pg_stat_database's transactions) per second, and a JSON line.
 * BENCH_PROFILE=<file>: a CPU profile of the idle window (open it in Chrome's DevTools).
 */
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Client } from 'pg';
import { PaymentHarness } from '../apps/payment-service/test/harness';
import { dbCpu, dbCpuSince } from './db-cpu';

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 30);
  const h = new PaymentHarness();
  const env: Record<string, string> = { PAYMENT_RUNNER_POLL_MS: '200', LOG_LEVEL: 'silent' };
  for (const k of ['PAYMENT_RUNNER_IDLE_POLL_MS', 'PAYMENT_OUTBOX_IDLE_POLL_MS'])
    if (process.env[k]) env[k] = process.env[k]!;
  await h.start(env);
  await Promise.all([h.payments.close(), h.commands.close(), h.standings.close()]);
  const poll = new Client({ connectionString: h.cfg.DATABASE_URL });
  await poll.connect();
  const xacts = async () =>
    Number(
      (
        await poll.query<{ n: string }>(
          'select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()',
        )
      ).rows[0].n,
    );
  try {
    await new Promise((r) => setTimeout(r, 5000));
    const x0 = await xacts();
    const d0 = await dbCpu(poll);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const session = process.env.BENCH_PROFILE ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const ms = performance.now() - t0;
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(process.env.BENCH_PROFILE!, JSON.stringify(profile));
      session.disconnect();
    }
    const c = process.cpuUsage(c0);
    const db = await dbCpuSince(poll, d0);
    // pg_stat_database is updated by each backend at most every 500 ms or so: good enough over seconds
    const x1 = await xacts();
    const result = {
      bench: 'payment-idle',
      seconds,
      processCoreShare: Math.round(((c.user + c.system) / 1000 / ms) * 1000) / 1000,
      dbCoreShare: Math.round((db / ms) * 1000) / 1000,
      transactionsPerSecond: Math.round(((x1 - x0) / ms) * 1000 * 10) / 10,
      runnerIdlePollMs: h.cfg.PAYMENT_RUNNER_IDLE_POLL_MS,
      outboxIdlePollMs: h.cfg.PAYMENT_OUTBOX_IDLE_POLL_MS,
      cpus: os.cpus().length,
      loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    };
    console.log(
      `idle for ${seconds} s: process ${result.processCoreShare} of a core, its PostgreSQL backends ${result.dbCoreShare}, ${result.transactionsPerSecond} transactions/s (load ${result.loadavg.join(' ')})`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await poll.end();
    await h.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
