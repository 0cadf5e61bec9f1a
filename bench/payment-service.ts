/**
 * CDRs settled per second by the payment service (in process, real Kafka and PostgreSQL) with the PSP emulator (its own
 * process, `npm run psp-emulator`, as a deployment's PSP is elsewhere; called through the Stripe adapter over HTTP;
 * BENCH_EMULATOR=inprocess: in this process, as before 2026-12-05), and ledger transfers per second.
 *   npx tsx bench/payment-service.ts [cardSessions=1000] [walletCdrs=2000] [accounts=50] [ledgerTransfers=20000]
 * Card: `accounts` card accounts with a token each; every session gets a hold at session.started (waited for, not
 * timed), then all CDRs are published at once and timed from the publication to the last `payment.captured`
 * (decide, PSP capture, outcome, ledger). Wallet: CDRs of wallet accounts (no PSP call) from publication to the
 * last `payment.wallet_debited`. Ledger transfers/s: the transfers posted during both timed phases over their time;
 * the ledger alone: CDR transfers written straight through the projection (no Kafka, no decider), see below.
 * CPU per CDR / transfer: this process (the service and the bench: the CDRs are serialised before the clock starts,
 * the test collectors of the harness closed; with BENCH_EMULATOR=inprocess the emulator too), the emulator's process
 * (from /proc) and the PostgreSQL backends of its database (not the bench's polling connection).
 * The CDRs are cdr.created v4, as the tariff service publishes them (BENCH_CDR_VERSION=3: v3, as the test harness
 * makes them, upcast to v4 by every decode, which validates both versions).
 * `PAYMENT_*` variables of the environment are passed to the service (its settings, e.g. PAYMENT_RUNNER_BATCH).
 * BENCH_HISTORY=<n>: before the timed phases every card account goes through n sessions one after another (start,
 * hold, CDR, capture: a long-lived account's state, as each design stores it), seeded through the running service.
 * Prints a human line and a JSON line. BENCH_PROFILE=<file prefix>: a CPU profile of each timed phase (card, wallet,
 * ledger) to `<prefix>.<phase>.cpuprofile` (open it in Chrome's DevTools), the rest of the run not profiled.
 * BENCH_STATEMENTS=1: the statements PostgreSQL ran during the card phase, per card CDR (calls, rows, ms), from
 * `pg_stat_statements` (bench/statements.ts), reset when the phase starts; printed before the result lines.
 */
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Client } from 'pg';
import { randomUUID } from 'node:crypto';
import { CdrCreatedV4, systemCatalogue, type Envelope } from '@csms/contracts';
import { waitFor } from '@csms/testing';
import { PaymentHarness } from '../apps/payment-service/test/harness';
import { projectPaymentEvents } from '../apps/payment-service/src/projection';
import { PaymentEngine } from '../apps/payment-service/src/engine';
import { ledgerEnvelopes } from './payment-ledger';
import { dbCpu, dbCpuSince, procCpuMs } from './db-cpu';
import { printStatements, resetStatements } from './statements';

/**
 * BENCH_STATE_BYTES=1: the bytes of every account state the engine writes, as stored (after `offload` where the rules
 * have one), summed by wrapping the engine's state write; the CPU of that measuring is measured and taken off the
 * process's CPU per CDR.
 */
const stateBytes = { writes: 0, bytes: 0, cpuMs: 0 };
if (process.env.BENCH_STATE_BYTES === '1') {
  type Row = { id: string; state: unknown };
  const proto = PaymentEngine.prototype as unknown as {
    writeStates(this: unknown, m: unknown, rows: readonly Row[]): Promise<unknown>;
  };
  const original = proto.writeStates;
  proto.writeStates = function (this: { rules: { offload?(s: unknown): { state: unknown } } }, m, rows) {
    const c = process.cpuUsage();
    for (const r of rows) {
      const o = this.rules.offload?.(r.state);
      stateBytes.writes += 1;
      stateBytes.bytes += Buffer.byteLength(JSON.stringify(o ? o.state : r.state));
    }
    stateBytes.cpuMs += cpuMs(process.cpuUsage(c));
    return original.call(this, m, rows);
  };
}

/** the bench's own connection (its polling is not the service's work: its backend is not counted in the DB CPU) */
let poll: Client;

async function count(sql: string): Promise<number> {
  return Number((await poll.query<{ n: string }>(sql)).rows[0].n);
}

/**
 * A timed phase's own events of one type: a count over the rows after `since` (the largest `seq` when the phase
 * started, nothing in flight then) read through the primary key, not a scan of every event of the run (at 5,000
 * accounts that scan took 19 ms of PostgreSQL's CPU every 100 ms poll: a sixth of a core taken from the service).
 */
async function eventsSince(since: number, type: string): Promise<number> {
  return Number(
    (
      await poll.query<{ n: string }>('select count(*) as n from payment_events where seq > $1 and type = $2', [
        since,
        type,
      ])
    ).rows[0].n,
  );
}
const lastSeq = () => count('select coalesce(max(seq), 0) as n from payment_events');

/**
 * The set-up's accounts, made 50 at a time (one after another it took 5–6 minutes at 5,000 accounts, each waiting on
 * its HTTP calls and its token's copy), in index order.
 */
async function setUp(n: number, make: (i: number) => Promise<string>): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; k < n; k += 50)
    ids.push(...(await Promise.all(Array.from({ length: Math.min(50, n - k) }, (_, j) => make(k + j)))));
  return ids;
}

/** user + system CPU of this process (service and bench; the emulator too when in process) in ms */
function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

/** Profiles `phase` when BENCH_PROFILE is set (the inspector's sampling profiler, this process only). */
async function profiled<T>(phase: string, run: () => Promise<T>): Promise<T> {
  const prefix = process.env.BENCH_PROFILE;
  if (!prefix) return run();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`${prefix}.${phase}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
}

/** A CDR of the harness (v3) as the tariff service publishes it now (v4: the same payload), unless BENCH_CDR_VERSION=3. */
let published: ReturnType<typeof systemCatalogue> | undefined;
function asPublished(e: Envelope): Envelope {
  if (process.env.BENCH_CDR_VERSION === '3') return e;
  return (published ??= systemCatalogue()).create(CdrCreatedV4, { ...e, payload: e.payload as never });
}

async function main(): Promise<void> {
  const cards = Number(process.argv[2] ?? 1000);
  const wallets = Number(process.argv[3] ?? 2000);
  const accounts = Number(process.argv[4] ?? 50);
  const ledgerOnly = Number(process.argv[5] ?? 20_000);
  const h = new PaymentHarness();
  // PAYMENT_* variables of the environment override the service's settings (e.g. PAYMENT_RUNNER_BATCH=32)
  const overrides = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('PAYMENT_') && e[1] !== undefined),
  );
  const inProcess = process.env.BENCH_EMULATOR === 'inprocess';
  await h.start(
    { PAYMENT_RUNNER_CONCURRENCY: '32', LOG_LEVEL: 'silent', ...overrides },
    { emulatorProcess: !inProcess },
  );
  const emuPid = h.emulatorProcess?.child.pid;
  // the harness's topic collectors (for tests) would keep every event in this process: the bench counts in SQL
  await Promise.all([h.payments.close(), h.commands.close(), h.standings.close()]);
  poll = new Client({ connectionString: h.cfg.DATABASE_URL });
  await poll.connect();
  /** a customer with a card on file at the emulator (its Stripe API when it is a process) */
  const createCustomer = async (): Promise<{ id: string; invoice_settings: { default_payment_method: string } }> => {
    if (inProcess)
      return (
        h.emulator.psp as unknown as {
          createCustomer(p: Record<string, unknown>): {
            id: string;
            invoice_settings: { default_payment_method: string };
          };
        }
      ).createCustomer({ payment_method: 'pm_card_visa' });
    const r = await fetch(`${h.emulatorProcess!.url}/v1/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payment_method=pm_card_visa',
    });
    return (await r.json()) as { id: string; invoice_settings: { default_payment_method: string } };
  };
  /** captures the emulator made */
  const emulatorCaptures = async (): Promise<number> => {
    if (inProcess) return h.emulator.ledger().reduce((n, p) => n + p.captures, 0);
    const r = await fetch(`${h.emulatorProcess!.url}/_emulator/ledger`);
    return ((await r.json()) as { totals: { captures: number } }).totals.captures;
  };
  try {
    const cardAccounts = await setUp(accounts, async (i) => {
      const c = await createCustomer();
      const id = `bench-card-${i}-${randomUUID().slice(0, 6)}`;
      const r = await h.api('POST', '/accounts', {
        accountId: id,
        currency: 'EUR',
        method: { kind: 'card', customerRef: c.id, paymentMethodRef: c.invoice_settings.default_payment_method },
      });
      if (r.status !== 201) throw new Error(`open ${id}: ${r.status} ${JSON.stringify(r.body)}`);
      await h.token(`BT-${i}`, id);
      return id;
    });
    // BENCH_HISTORY=n: every card account goes through n sessions one after another first (its start, the hold, its
    // CDR, the capture), through the running service as in the timed phase, so each design stores its own state of a
    // long-lived account; round r's CDRs are published once round r's holds are authorised, round r+1 starts then
    const history = Number(process.env.BENCH_HISTORY ?? 0);
    const h0 = performance.now();
    for (let r = 0; r < history; r++) {
      const round = cardAccounts.map((accountId, i) => ({ sessionId: randomUUID(), i, accountId }));
      await Promise.all(round.map((s) => h.sessionStarted({ sessionId: s.sessionId, uid: `BT-${s.i}` })));
      await waitFor(
        async () =>
          (await count(`select count(*) as n from payment_events where type = 'payment.authorized'`)) >=
          (r + 1) * accounts,
        { what: `history round ${r}: holds`, timeoutMs: 600_000, intervalMs: 20 },
      );
      await h.publisher.publish(
        round.map((s) => {
          const e = asPublished(
            h.cdr({
              cdrId: `HCDR-${s.sessionId.slice(0, 13)}`,
              sessionId: s.sessionId,
              accountId: s.accountId,
              excl: '7.00',
              incl: '8.47',
            }),
          );
          return { topic: h.topics.billing, key: e.key, value: JSON.stringify(e) };
        }),
      );
    }
    if (history > 0)
      await waitFor(
        async () =>
          (await count(`select count(*) as n from payment_events where type = 'payment.captured'`)) >=
          history * accounts,
        { what: 'history: captures', timeoutMs: 600_000, intervalMs: 100 },
      );
    const historySeconds = (performance.now() - h0) / 1000;
    const historyStateBytes = await count(
      `select coalesce(avg(octet_length(state::text)), 0)::bigint as n from account_state where account_id like 'bench-card-%'`,
    );
    const sessions = Array.from({ length: cards }, (_, i) => ({ sessionId: randomUUID(), i }));
    for (let k = 0; k < sessions.length; k += 500)
      await Promise.all(
        sessions
          .slice(k, k + 500)
          .map((s) => h.sessionStarted({ sessionId: s.sessionId, uid: `BT-${s.i % accounts}` })),
      );
    await waitFor(
      async () =>
        (await count(`select count(*) as n from payment_events where type = 'payment.authorized'`)) >=
        cards + history * accounts,
      { what: `${cards} holds`, timeoutMs: 600_000, intervalMs: 200 },
    );
    // every consumer group caught up (the recording group's session starts too), so the timed phase is the CDRs' alone
    await waitFor(
      async () => {
        for (const c of h.svc.consumers) await c.refreshLag(0);
        return h.svc.consumers.every((c) => c.lagSnapshot().every((p) => p.records === 0));
      },
      { what: 'consumer groups caught up', timeoutMs: 600_000, intervalMs: 200 },
    );
    const transfers0 = await count('select count(*) as n from ledger_transfers');
    // webhooks that settled an intent (a decision of their own) rather than arriving after the runner recorded it
    const applied0 = await count(`select count(*) as n from psp_webhooks_seen where outcome = 'applied'`);
    // the decider's states written (each a whole account's state); PostgreSQL's counters lag by up to a second
    const stateWrites = async () => {
      await new Promise((r) => setTimeout(r, 1500));
      return count(`select n_tup_ins + n_tup_upd as n from pg_stat_user_tables where relname = 'account_state'`);
    };
    const states0 = await stateWrites();
    const cdrs = sessions.map((s) =>
      asPublished(
        h.cdr({
          cdrId: `BCDR-${s.sessionId.slice(0, 13)}`,
          sessionId: s.sessionId,
          accountId: cardAccounts[s.i % accounts],
          excl: '7.00',
          incl: '8.47',
        }),
      ),
    );
    // serialised before the clock starts (the billing service's work, not this one's)
    const cardRecords = cdrs.map((e) => ({ topic: h.topics.billing, key: e.key, value: JSON.stringify(e) }));
    const sb0 = { ...stateBytes };
    if (process.env.BENCH_STATEMENTS === '1') {
      await resetStatements(poll);
    }
    const seq0 = await lastSeq();
    const d0 = await dbCpu(poll);
    const e0 = emuPid === undefined ? 0 : (procCpuMs(emuPid) ?? 0);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await profiled('card', async () => {
      for (let k = 0; k < cardRecords.length; k += 500) await h.publisher.publish(cardRecords.slice(k, k + 500));
      await waitFor(async () => (await eventsSince(seq0, 'payment.captured')) >= cards, {
        what: `${cards} captures`,
        timeoutMs: 600_000,
        intervalMs: 100,
      });
    });
    const cardSeconds = (performance.now() - t0) / 1000;
    const cardCpu = cpuMs(process.cpuUsage(c0)) - (stateBytes.cpuMs - sb0.cpuMs);
    const cardStateBytesPerWrite =
      stateBytes.writes > sb0.writes
        ? Math.round((stateBytes.bytes - sb0.bytes) / (stateBytes.writes - sb0.writes))
        : null;
    const cardSettledRows = (await count(`select count(to_regclass('payment_settled')) as n`))
      ? await count(`select count(*) as n from payment_settled where account_id like 'bench-card-%'`)
      : 0;
    const cardEmu = (emuPid === undefined ? 0 : (procCpuMs(emuPid) ?? 0)) - e0;
    const cardDb = await dbCpuSince(poll, d0);
    if (process.env.BENCH_STATEMENTS === '1')
      await printStatements(poll, new Map([[poll.database!, 'payment-service']]), cards, 'card CDR');
    const transfers1 = await count('select count(*) as n from ledger_transfers');
    const cardWebhooksApplied =
      (await count(`select count(*) as n from psp_webhooks_seen where outcome = 'applied'`)) - applied0;
    const cardStateWrites = (await stateWrites()) - states0;
    const cardStateBytes = await count(
      `select coalesce(avg(octet_length(state::text)), 0)::bigint as n from account_state where account_id like 'bench-card-%'`,
    );

    // what the card accounts' states are made of: bytes per top-level field, averaged
    const cardStateBytesByField = Object.fromEntries(
      (
        await poll.query<{ k: string; n: string }>(
          `select f.key as k, avg(octet_length(f.value::text))::bigint as n
             from account_state a, json_each(a.state) f where a.account_id like 'bench-card-%'
            group by f.key order by 2 desc`,
        )
      ).rows.map((r) => [r.k, Number(r.n)]),
    );

    const walletAccounts = await setUp(accounts, async (i) => {
      const id = `bench-wallet-${i}-${randomUUID().slice(0, 6)}`;
      await h.api('POST', '/accounts', { accountId: id, currency: 'EUR', method: { kind: 'wallet' } });
      await h.api('POST', `/accounts/${id}/top-ups`, { topUpRef: 'bench', amount: '100000.00' });
      return id;
    });
    const transfers2 = await count('select count(*) as n from ledger_transfers');
    const wcdrs = Array.from({ length: wallets }, (_, i) => {
      const sessionId = randomUUID();
      return asPublished(
        h.cdr({
          cdrId: `BW-${sessionId.slice(0, 13)}`,
          sessionId,
          accountId: walletAccounts[i % accounts],
          excl: '7.00',
          incl: '8.47',
        }),
      );
    });
    const walletRecords = wcdrs.map((e) => ({ topic: h.topics.billing, key: e.key, value: JSON.stringify(e) }));
    const seq1 = await lastSeq();
    const d1 = await dbCpu(poll);
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    await profiled('wallet', async () => {
      for (let k = 0; k < walletRecords.length; k += 500) await h.publisher.publish(walletRecords.slice(k, k + 500));
      await waitFor(async () => (await eventsSince(seq1, 'payment.wallet_debited')) >= wallets, {
        what: `${wallets} wallet debits`,
        timeoutMs: 600_000,
        intervalMs: 100,
      });
    });
    const walletSeconds = (performance.now() - t1) / 1000;
    const walletCpu = cpuMs(process.cpuUsage(c1));
    const walletDb = await dbCpuSince(poll, d1);
    const transfers3 = await count('select count(*) as n from ledger_transfers');
    const captures = await emulatorCaptures();

    // the ledger alone: CDR transfers (3 postings) made by the posting rules, enveloped as the service does, written
    // through the projection (event row, transfer, postings, state, the balance check at commit) 250 per transaction,
    // 4 transactions at a time; the envelopes are made before the clock starts
    const batches = ledgerEnvelopes(ledgerOnly, 250, accounts);
    const d2 = await dbCpu(poll);
    const c2 = process.cpuUsage();
    const t2 = performance.now();
    let next = 0;
    await profiled('ledger', () =>
      Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < batches.length) {
            const batch = batches[next++];
            await h.svc.dataSource.transaction((m) => projectPaymentEvents(m, batch));
          }
        }),
      ),
    );
    const ledgerSeconds = (performance.now() - t2) / 1000;
    const ledgerCpu = cpuMs(process.cpuUsage(c2));
    const ledgerDb = await dbCpuSince(poll, d2);
    const written = await count(`select count(*) as n from ledger_transfers where account_id like 'bench-ledger-%'`);
    if (written !== ledgerOnly) throw new Error(`ledger alone: ${written} transfers written, ${ledgerOnly} expected`);
    const ledgerTransfers = transfers1 - transfers0 + (transfers3 - transfers2);
    const result = {
      bench: 'payment-service',
      cardCdrs: cards,
      cardCdrsSettledPerSecond: Math.round(cards / cardSeconds),
      cardCpuMsPerCdr: Math.round((cardCpu / cards) * 100) / 100,
      cardDbCpuMsPerCdr: Math.round((cardDb / cards) * 100) / 100,
      cardEmulatorCpuMsPerCdr: inProcess ? null : Math.round((cardEmu / cards) * 100) / 100,
      walletCdrs: wallets,
      walletCdrsSettledPerSecond: Math.round(wallets / walletSeconds),
      walletCpuMsPerCdr: Math.round((walletCpu / wallets) * 100) / 100,
      walletDbCpuMsPerCdr: Math.round((walletDb / wallets) * 100) / 100,
      ledgerTransfers,
      ledgerTransfersPerSecond: Math.round(ledgerTransfers / (cardSeconds + walletSeconds)),
      ledgerOnlyTransfers: ledgerOnly,
      ledgerOnlyTransfersPerSecond: Math.round(ledgerOnly / ledgerSeconds),
      ledgerOnlyCpuMsPerTransfer: Math.round((ledgerCpu / ledgerOnly) * 1000) / 1000,
      ledgerOnlyDbCpuMsPerTransfer: Math.round((ledgerDb / ledgerOnly) * 1000) / 1000,
      emulatorCaptures: captures,
      history,
      historySeconds: Math.round(historySeconds * 10) / 10,
      historyStateBytes,
      cardWebhooksApplied,
      cardStateWritesPerCdr: Math.round((cardStateWrites / cards) * 100) / 100,
      cardStateBytes,
      cardStateBytesPerWrite,
      cardSettledRows,
      cardStateBytesByField,
      emulator: inProcess ? 'in process' : 'own process',
      accounts,
      cdrVersion: process.env.BENCH_CDR_VERSION === '3' ? 3 : 4,
      partitions: Number(process.env.KAFKA_PARTITIONS ?? 3),
      cpus: os.cpus().length,
      loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    };
    console.log(
      `card CDRs settled (capture at the PSP emulator): ${result.cardCdrsSettledPerSecond}/s; wallet CDRs: ${result.walletCdrsSettledPerSecond}/s; ledger transfers: ${result.ledgerTransfersPerSecond}/s (${ledgerTransfers} in ${(cardSeconds + walletSeconds).toFixed(1)} s); CPU per CDR (this process / its PostgreSQL backends${inProcess ? '' : ' / the emulator'}): card ${result.cardCpuMsPerCdr} / ${result.cardDbCpuMsPerCdr}${inProcess ? '' : ` / ${result.cardEmulatorCpuMsPerCdr}`} ms, wallet ${result.walletCpuMsPerCdr} / ${result.walletDbCpuMsPerCdr} ms; the ledger alone: ${result.ledgerOnlyTransfersPerSecond} transfers/s (CPU per transfer ${result.ledgerOnlyCpuMsPerTransfer} / ${result.ledgerOnlyDbCpuMsPerTransfer} ms); emulator captures ${captures} for ${cards} card CDRs${history > 0 ? ` (+ ${history * accounts} in the history: ${history} sessions per account, seeded in ${result.historySeconds} s, state then ${historyStateBytes} bytes)` : ''}`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await poll?.end();
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
