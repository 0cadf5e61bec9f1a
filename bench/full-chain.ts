/**
 * The whole chain as a deployment runs it, under load, with the CPU each part spends per inbound record.
 *
 *   npx tsx bench/full-chain.ts [--stations=1000] [--rate=2000] [--seconds=20] [--workers=1]
 *                               [--cpu-prof=DIR] [--prof=session-service,reporting-service] [--skip-saturated]
 *                               [--scrypt-n=16384] [--accounts=1] [--session-cache=50000] [--statements]
 *                               [--compiled]
 *
 * Every service is its own process (gateway, session, tariff, reporting and payment services, and the PSP emulator
 * the payment service calls through its Stripe adapter), on the real Kafka and PostgreSQL, with the Node flags
 * `npm start` gives them (scripts/services.ts), the consumers at its CPU priority (`CONSUMER_NICE`, default 5; set it
 * to 0 to run them at the gateway's). Stations are registered with security profile 1 and a password of
 * their own (scrypt, through the gateway API) and send HTTP Basic on the upgrade: no provisional stations.
 * --scrypt-n sets the gateway's OCPP_PASSWORD_SCRYPT_N (the cost of the hashes it makes; default the gateway's,
 * 16384): set-up pays a scrypt per station to register and another at its first connect, which the measured phases
 * do not (verified passwords are remembered), so 10,000+ stations are set up at 1024 in minutes instead of an hour.
 * --accounts spreads the stations' sessions over that many card accounts, each with its own token (station i uses
 * token i mod N; default 1: every session on one account, as the earlier figures were taken). --session-cache sets the
 * session service's SESSION_STATE_CACHE_STATIONS (default the service's, 50,000): a deployment sizes it above the
 * stations an instance folds (apps/session-service/README.md). Their
 * token maps to a billing account paying by card (a PSP customer made on the emulator), so the payment service
 * holds at each session's start and captures at its end as in production. The load runs in --workers child
 * processes (bench/full-chain-load.ts): each station boots, starts one session (10 h ago in meter time) and then
 * sends MeterValues, one in flight at a time, each 60 s of meter time after the previous one.
 * Two measured phases:
 *   1. fixed rate: --rate MeterValues/s in total for --seconds (open loop) -> CALL -> CALLRESULT p50/p99/max, and
 *      whether the consumers kept up (the longest any consumer group was behind, and how long after the phase it
 *      took them to reach the end of their topics);
 *   2. saturated (unless --skip-saturated): every station back to back for --seconds -> CALLs/s the gateway
 *      accepted; then the time until every consumer group has reached the end of its topics; the sustained rate of
 *      the chain = records / (phase + drain).
 * For each phase, from its start until every consumer group has caught up and the payment service has made every PSP
 * call asked for (holds at session start, captures at the end): CPU (user + system, /proc/<pid>/stat) of
 * each service process, of the PostgreSQL backends serving each service's database (its backends' CPU, found by
 * the database name in their process title), of the rest of PostgreSQL (writer, checkpointer, WAL) and of the Kafka
 * broker, each in ms per inbound record. The broker and PostgreSQL's own processes are shared with whatever else runs
 * on the machine. --cpu-prof=DIR writes a V8 CPU profile of the services named in --prof (at their exit).
 * --statements: the statements each service's database ran in the last phase, per inbound record, from
 * `pg_stat_statements` (bench/statements.ts; PostgreSQL must load it), printed before the summary.
 * --compiled: the services run as `npm start` runs them, the compiled `dist/` (built first with `npm run build`), not
 * their TypeScript through the tsx loader (`SERVICES_FROM_DIST`, libs/testing `serviceMain`).
 * A human summary and one JSON line.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Client } from 'pg';
import { newApiKey } from '@csms/service-kit';
import { createTestTopics, freePort, startServiceProcess, testKafka, type ServiceProcess } from '@csms/testing';
import { benchPassword } from './gateway-password';
import { arg } from './args';
import { printStatements, resetStatements } from './statements';
import { infraCpu, procCpuMs } from './db-cpu';
// what `npm start` gives the consuming services: their Node flags and CPU priority (CONSUMER_NICE)
import { CONSUMER_NICE, CONSUMER_NODE_ARGS } from '../scripts/services';

const num = (name: string, fallback: number) => Number(arg(name) ?? fallback);
const STATIONS = num('stations', 1000);
const RATE = num('rate', 2000);
const SECONDS = num('seconds', 20);
const WORKERS = num('workers', 1);
const CPU_PROF = arg('cpu-prof');
const PROF = (arg('prof') ?? 'session-service,reporting-service').split(',');
const SATURATED = !process.argv.includes('--skip-saturated');
const SCRYPT_N = arg('scrypt-n');
const SESSION_CACHE = arg('session-cache');
const ACCOUNTS = num('accounts', 1);
const STATEMENTS = process.argv.includes('--statements');
const COMPILED = process.argv.includes('--compiled');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** resident memory of a process in MB now (VmRSS) and at its peak so far (VmHWM), or undefined if it is gone */
function memoryMb(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return undefined;
  }
}

interface CpuSnapshot {
  at: number;
  services: Map<string, number>;
  infra: Map<number, { who: string; ms: number }>;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function child(file: string): ChildProcess {
  return fork(`${__dirname}/${file}`, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function next<T>(p: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>) => {
      if (m.cmd === cmd) {
        p.off('message', on);
        resolve(m as T);
      }
    };
    p.on('message', on);
    p.once('exit', (code) => reject(new Error(`load worker ${p.pid} exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  if (COMPILED) {
    const b = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
    if (b.status !== 0) throw new Error('npm run build failed');
    process.env.SERVICES_FROM_DIST = '1';
  }
  const loadAtStart = os.loadavg().map((l) => +l.toFixed(2));
  const tag = `${process.pid}`;
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const t = (s: string) => `bench.fc.${s}-${tag}`;
  const topics = {
    OCPP_INBOUND_TOPIC: t('ocpp-inbound'),
    SESSION_EVENTS_TOPIC: t('session-events'),
    TARIFF_EVENTS_TOPIC: t('tariff-events'),
    BILLING_EVENTS_TOPIC: t('billing-events'),
    FINANCE_EVENTS_TOPIC: t('finance-events'),
    PAYMENT_EVENTS_TOPIC: t('payment-events'),
    REGISTRY_STATIONS_TOPIC: t('registry-stations'),
    REGISTRY_TOKENS_TOPIC: t('registry-tokens'),
    REGISTRY_ACCOUNTS_TOPIC: t('registry-accounts'),
    OCPP_COMMANDS_TOPIC: t('ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: t('ocpp-command-results'),
    MONITORING_EVENTS_TOPIC: t('monitoring-events'),
  };
  const kafka = testKafka('bench-full-chain');
  await createTestTopics(kafka, Object.values(topics), Number(process.env.KAFKA_PARTITIONS ?? 3));
  const admin = newApiKey('bench', 'admin');
  const dbName = (n: string) => `csms_bench_fc_${n}_${tag}`;
  const db = (n: string) => {
    const u = new URL(base);
    u.pathname = `/${dbName(n)}`;
    return u.toString();
  };
  const group = (s: string) => `bench-fc-${tag}-${s}`;
  const pspKey = `sk_test_bench${tag}`;
  const webhookSecret = `whsec_bench_${tag}_secret`;
  const webhookPort = await freePort();
  const pspPort = await freePort();
  const common = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    API_KEYS: admin.entry,
    LOG_LEVEL: 'warn',
    ...topics,
  };
  const ocppPort = await freePort();
  const services: Array<{ name: string; db?: string; env: Record<string, string>; consumer: boolean }> = [
    {
      name: 'psp-emulator',
      consumer: false,
      env: {
        HTTP_PORT: String(pspPort),
        PSP_EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/webhooks/psp`,
        PSP_EMULATOR_WEBHOOK_SECRET: webhookSecret,
        PSP_EMULATOR_API_KEY: pspKey,
        LOG_LEVEL: 'warn',
      },
    },
    {
      name: 'ocpp-gateway',
      db: 'gateway',
      consumer: false,
      env: {
        OCPP_PORT: String(ocppPort),
        OCPP_HOST: '127.0.0.1',
        GATEWAY_INSTANCE: `bench-fc-${tag}`,
        ...(SCRYPT_N ? { OCPP_PASSWORD_SCRYPT_N: SCRYPT_N } : {}),
      },
    },
    {
      name: 'session-service',
      db: 'sessions',
      consumer: true,
      env: {
        SESSION_CONSUMER_GROUP: group('sessions'),
        ...(SESSION_CACHE ? { SESSION_STATE_CACHE_STATIONS: SESSION_CACHE } : {}),
      },
    },
    { name: 'tariff-service', db: 'tariffs', consumer: true, env: { TARIFF_CONSUMER_GROUP: group('tariffs') } },
    {
      name: 'reporting-service',
      db: 'reporting',
      consumer: true,
      env: { REPORTING_CONSUMER_GROUP: group('reporting'), TARIFF_CONSUMER_GROUP: group('tariffs') },
    },
    {
      name: 'payment-service',
      db: 'payments',
      consumer: true,
      env: {
        PAYMENT_CONSUMER_GROUP: group('payments'),
        PSP_API_URL: `http://127.0.0.1:${pspPort}`,
        PSP_API_KEY: pspKey,
        PSP_WEBHOOK_SECRET: webhookSecret,
        PAYMENT_WEBHOOK_PORT: String(webhookPort),
      },
    },
  ];
  const procs = new Map<string, ServiceProcess>();
  // a crash of this process must not leave the services running
  process.once('exit', () => {
    for (const p of procs.values()) p.kill('SIGKILL');
  });
  // one at a time: TypeScript start-ups at once starve a 2-core machine
  for (const s of services) {
    const env = {
      ...(s.name === 'psp-emulator' ? {} : common),
      ...(s.db ? { DATABASE_URL: db(s.db), HTTP_PORT: String(await freePort()) } : {}),
      ...s.env,
    };
    const flags = [
      ...(s.consumer ? CONSUMER_NODE_ARGS : []),
      ...(CPU_PROF && PROF.includes(s.name) ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : []),
    ];
    procs.set(s.name, await startServiceProcess(s.name, env, 400_000, flags, s.consumer ? CONSUMER_NICE : 0));
  }
  const databases = new Map(services.filter((s) => s.db).map((s) => [dbName(s.db!), s.name]));
  const api = async (name: string, method: string, path: string, body?: unknown) => {
    for (let attempt = 1; ; attempt++) {
      let r: Response;
      try {
        r = await fetch(`${procs.get(name)!.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        // a reset connection on a loaded machine (the PUTs are idempotent): again, a few times
        if (attempt >= 5) throw e;
        await sleep(500 * attempt);
        continue;
      }
      if (r.status >= 300) throw new Error(`${method} ${name}${path}: ${r.status} ${await r.text()}`);
      return r.json() as Promise<Record<string, unknown>>;
    }
  };

  /**
   * The gateway's own CALL -> answer histogram of MeterValues (`ocpp_call_duration_seconds`: from the frame read to
   * the answer written, the broker's acknowledgement included), cumulative counts by bucket bound in seconds, summed
   * over its labels: a phase's delta shows how much of the latency the load driver sees is the gateway's.
   */
  const gatewayHistogram = async (): Promise<Map<number, number>> => {
    const r = await fetch(`${procs.get('ocpp-gateway')!.url}/metrics`, {
      headers: { authorization: `Bearer ${admin.key}` },
    });
    const buckets = new Map<number, number>();
    for (const line of (await r.text()).split('\n')) {
      if (!line.startsWith('ocpp_call_duration_seconds_bucket{') || !line.includes('action="MeterValues"')) continue;
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
    return buckets;
  };
  /** the smallest bucket bound (ms) at or below which a share q of the phase's calls were answered, by the gateway's histogram */
  const bucketQuantileMs = (before: Map<number, number>, after: Map<number, number>, q: number): number | null => {
    const bounds = [...after.keys()].sort((a, b) => a - b);
    const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
    if (total <= 0) return null;
    for (const b of bounds)
      if ((after.get(b) ?? 0) - (before.get(b) ?? 0) >= q * total) return b === Infinity ? null : b * 1000;
    return null;
  };

  // per account: a card customer on the PSP, its billing account, the token that charges on it (station i uses token
  // i mod ACCOUNTS: one account for all by default, as the earlier figures were taken; a network of thousands of
  // stations has about one account a session, and a single account's holds queue on its state)
  const idTags: string[] = [];
  for (let k = 0; k < ACCOUNTS; k++) {
    const customer = (await (
      await fetch(`http://127.0.0.1:${pspPort}/v1/customers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pspKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'payment_method=pm_card_visa',
      })
    ).json()) as { id: string; invoice_settings: { default_payment_method: string } };
    const accountId = ACCOUNTS === 1 ? 'bench-card' : `bench-card-${k}`;
    await api('payment-service', 'POST', '/api/v1/accounts', {
      accountId,
      currency: 'EUR',
      method: {
        kind: 'card',
        customerRef: customer.id,
        paymentMethodRef: customer.invoice_settings.default_payment_method,
      },
      policy: { onHoldNearlyUsed: 'increase', onShortfall: 'block' },
    });
    const idTag = ACCOUNTS === 1 ? 'BENCH-FC' : `BENCH-FC-${k}`;
    await api('ocpp-gateway', 'PUT', `/api/v1/tokens/${idTag}`, {
      type: 'ISO14443',
      status: 'Accepted',
      billingAccountId: accountId,
    });
    idTags.push(idTag);
  }
  await api('tariff-service', 'PUT', '/api/v1/tariffs/BENCH', {
    country_code: 'NL',
    party_id: 'CSM',
    id: 'BENCH',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: 1, vat: 21, step_size: 1 },
          { type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 },
        ],
      },
    ],
  });
  await api('tariff-service', 'POST', '/api/v1/tariff-assignments', { tariffId: 'BENCH', scope: { kind: 'default' } });
  const ids = Array.from({ length: STATIONS }, (_, i) => `FC-${tag}-${i}`);
  const r0 = Date.now();
  for (let i = 0; i < ids.length; i += 20)
    await Promise.all(
      ids.slice(i, i + 20).map((id) =>
        api('ocpp-gateway', 'PUT', `/api/v1/stations/${id}`, {
          securityProfile: 1,
          password: benchPassword(id),
          timeZone: 'Europe/Amsterdam',
        }),
      ),
    );
  const registerSeconds = (Date.now() - r0) / 1000;
  const pay = new Client({ connectionString: db('payments') });
  await pay.connect();
  // the payment service resolves a session's account from its copy of the token registry
  for (
    let i = 0;
    Number((await pay.query(`select count(*) as n from tokens where uid = any($1)`, [idTags])).rows[0].n) <
    idTags.length;
    i++
  ) {
    if (i > 600) throw new Error("the tokens never reached the payment service's registry copy");
    await sleep(100);
  }
  await pay.end();
  await sleep(2000); // let the registry reach the gateway's cache

  // consumer groups of this run and how far behind they are
  const kadmin = kafka.admin();
  await kadmin.connect();
  const ourGroups = async () =>
    (await kadmin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`bench-fc-${tag}-`));
  const topicEnds = new Map<string, Map<number, number>>();
  const ends = async (topic: string) => {
    const o = await kadmin.fetchTopicOffsets(topic);
    const m = new Map(o.map((p) => [p.partition, Number(p.high)]));
    topicEnds.set(topic, m);
    return m;
  };
  /** records the consumer groups of this run are behind, in total and per group */
  const lag = async (): Promise<{ total: number; byGroup: Record<string, number> }> => {
    const byGroup: Record<string, number> = {};
    let total = 0;
    const groups = await ourGroups();
    const cache = new Map<string, Map<number, number>>();
    for (const g of groups) {
      const offsets = await kadmin.fetchOffsets({ groupId: g });
      let behind = 0;
      for (const t of offsets) {
        if (!Object.values(topics).includes(t.topic)) continue; // dead-letter topics: not the load
        const high = cache.get(t.topic) ?? (await ends(t.topic));
        cache.set(t.topic, high);
        for (const p of t.partitions) {
          const committed = Number(p.offset);
          behind += Math.max(0, (high.get(p.partition) ?? 0) - (committed < 0 ? 0 : committed));
        }
      }
      byGroup[g.slice(`bench-fc-${tag}-`.length)] = behind;
      total += behind;
    }
    return { total, byGroup };
  };
  const inboundEnd = async () => [...(await ends(topics.OCPP_INBOUND_TOPIC)).values()].reduce((a, b) => a + b, 0);

  const snapshot = (): CpuSnapshot => ({
    at: performance.now(),
    services: new Map([...procs].map(([name, p]) => [name, procCpuMs(p.child.pid!) ?? NaN])),
    infra: infraCpu(databases),
  });
  /** CPU between two snapshots per part, in ms */
  const cpuBetween = (a: CpuSnapshot, b: CpuSnapshot): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [name, ms] of b.services) out[name] = ms - (a.services.get(name) ?? NaN);
    for (const [pid, x] of b.infra) out[x.who] = (out[x.who] ?? 0) + x.ms - (a.infra.get(pid)?.ms ?? 0);
    return out;
  };

  // the payment service calls the PSP after its consumer has committed (the runner): a hold, capture or refund asked
  // for is done when no intent is open, which the consumer lag does not show
  const payments = new Client({ connectionString: db('payments') });
  await payments.connect();
  const openIntents = async () =>
    Number(
      (
        await payments.query(
          `select count(*) as n from psp_intents where status in ('pending', 'in_flight', 'unknown') and kind <> 'hosted'`,
        )
      ).rows[0].n,
    );
  /**
   * waits until every group of this run is at the end of its topics and the payment service has made every PSP call
   * asked for; the longest lag seen while waiting
   */
  const drain = async (timeoutMs = 900_000) => {
    const t0 = performance.now();
    let maxLag = 0;
    for (;;) {
      const l = await lag();
      maxLag = Math.max(maxLag, l.total);
      if (l.total === 0 && (await openIntents()) === 0) return { seconds: (performance.now() - t0) / 1000, maxLag };
      if (performance.now() - t0 > timeoutMs)
        throw new Error(
          `consumers or PSP calls still behind: ${JSON.stringify(l.byGroup)}, ${await openIntents()} intents`,
        );
      await sleep(250);
    }
  };

  const workers = Array.from({ length: WORKERS }, () => child('full-chain-load.ts'));
  process.once('exit', () => workers.forEach((w) => w.kill('SIGKILL')));
  const all = <T>(msg: (i: number) => Record<string, unknown>) =>
    Promise.all(
      workers.map((w, i) => {
        const m = msg(i);
        const r = next<T>(w, m.cmd as string);
        w.send(m);
        return r;
      }),
    );
  const url = `ws://127.0.0.1:${ocppPort}/ocpp`;
  const per = Math.ceil(STATIONS / WORKERS);
  const setUp = await all<{ connected: number; started: number }>((i) => ({
    cmd: 'setUp',
    url,
    ids: ids.slice(i * per, (i + 1) * per),
    idTags,
  }));
  const connected = setUp.reduce((n, s) => n + s.connected, 0);
  const started = setUp.reduce((n, s) => n + s.started, 0);
  await drain();
  // what each part spends with the stations connected and idle (polls, heartbeats, timers, other work on the
  // machine for the shared processes): a phase's CPU net of it is `cpuMsPerRecordNetOfIdle`
  // memory with every station connected and in its session, before the measured phases
  const memory = () => Object.fromEntries([...procs].map(([name, p]) => [name, memoryMb(p.child.pid!)]));
  const memoryIdle = memory();
  const idle0 = snapshot();
  await sleep(5000);
  const idle1 = snapshot();
  const idleCores = Object.fromEntries(
    Object.entries(cpuBetween(idle0, idle1)).map(([k, ms]) => [k, +(ms / (idle1.at - idle0.at)).toFixed(3)]),
  );

  type PhaseResult = {
    calls: number;
    errors: number;
    skipped?: number;
    callsPerS: number;
    p50ms: number;
    p99ms: number;
    maxMs: number;
    /** the gateway's own histogram: the bucket bounds (ms) that hold the phase's p50 and p99 (null: above the last) */
    gatewayP50AtMostMs: number | null;
    gatewayP99AtMostMs: number | null;
    records: number;
    drainSeconds: number;
    maxLagRecords: number;
    sustainedRecordsPerS: number;
    cpuMsPerRecord: Record<string, number>;
    cpuMsPerRecordNetOfIdle: Record<string, number>;
    cpuSharePerCore: Record<string, number>;
    /**
     * the load driver (the stations' side, in --workers processes on the same cores: not part of the system, and not
     * in the figures above): its CPU per record and its share of a core over the load
     */
    driverCpuMsPerRecord: number;
    driverCores: number;
    loadavg: number[];
  };
  const driverCpu = () => workers.reduce((ms, w) => ms + (procCpuMs(w.pid!) ?? 0), 0);
  const statements = new Client({ connectionString: base });
  if (STATEMENTS) await statements.connect();
  let statementsRecords = 0;
  const phase = async (
    run: () => Promise<Array<{ completed: number; errors: number; skipped?: number; latencies: number[] }>>,
  ): Promise<PhaseResult> => {
    if (STATEMENTS) await resetStatements(statements);
    const histogram0 = await gatewayHistogram();
    const before = snapshot();
    const driver0 = driverCpu();
    const inbound0 = await inboundEnd();
    // the lag while the load runs, sampled
    let maxLagDuring = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxLagDuring = Math.max(maxLagDuring, (await lag()).total);
        await sleep(1000);
      }
    })();
    const t0 = performance.now();
    const res = await run();
    const loadSeconds = (performance.now() - t0) / 1000;
    const driverMs = driverCpu() - driver0;
    sampling = false;
    await sampler;
    const d = await drain();
    const after = snapshot();
    const records = (await inboundEnd()) - inbound0;
    const histogram1 = await gatewayHistogram();
    statementsRecords = records;
    const cpu = cpuBetween(before, after);
    const wall = after.at - before.at;
    const lat = res.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const calls = res.reduce((n, r) => n + r.completed, 0);
    const round = (x: number, k = 3) => +x.toFixed(k);
    return {
      calls,
      errors: res.reduce((n, r) => n + r.errors, 0),
      ...(res[0].skipped === undefined ? {} : { skipped: res.reduce((n, r) => n + (r.skipped ?? 0), 0) }),
      callsPerS: Math.round(calls / loadSeconds),
      p50ms: round(percentile(lat, 0.5) / 1000, 1),
      p99ms: round(percentile(lat, 0.99) / 1000, 1),
      maxMs: round((lat[lat.length - 1] ?? NaN) / 1000, 1),
      gatewayP50AtMostMs: bucketQuantileMs(histogram0, histogram1, 0.5),
      gatewayP99AtMostMs: bucketQuantileMs(histogram0, histogram1, 0.99),
      records,
      drainSeconds: round(d.seconds, 1),
      maxLagRecords: Math.max(maxLagDuring, d.maxLag),
      sustainedRecordsPerS: Math.round(records / (loadSeconds + d.seconds)),
      cpuMsPerRecord: Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, round(ms / records)])),
      cpuMsPerRecordNetOfIdle: Object.fromEntries(
        Object.entries(cpu).map(([k, ms]) => [k, round(Math.max(0, ms - (idleCores[k] ?? 0) * wall) / records)]),
      ),
      // share of one core over the phase (load + drain): 2.0 would be the whole 2-core machine
      cpuSharePerCore: Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, round(ms / wall, 2)])),
      driverCpuMsPerRecord: round(driverMs / records),
      driverCores: round(driverMs / (loadSeconds * 1000), 2),
      loadavg: os.loadavg().map((l) => +l.toFixed(2)),
    };
  };

  const fixed = await phase(() =>
    all<{ completed: number; errors: number; skipped: number; latencies: number[] }>(() => ({
      cmd: 'openLoop',
      rate: RATE / WORKERS,
      durationMs: SECONDS * 1000,
    })),
  );
  const saturated = SATURATED
    ? await phase(() =>
        all<{ completed: number; errors: number; latencies: number[] }>(() => ({
          cmd: 'closedLoop',
          durationMs: SECONDS * 1000,
        })),
      )
    : null;
  if (STATEMENTS) {
    await printStatements(statements, databases, statementsRecords, 'inbound record of the last phase');
    await statements.end();
  }
  const stopped = (await all<{ stopped: number }>(() => ({ cmd: 'stopAll', idTags }))).reduce(
    (n, s) => n + s.stopped,
    0,
  );
  await drain();
  // peak (VmHWM) over the whole run, and what is resident after the phases
  const memoryEnd = memory();
  await all(() => ({ cmd: 'close' }));
  for (const w of workers) w.kill();
  await kadmin.disconnect();
  await payments.end();
  for (const p of procs.values()) p.kill('SIGTERM');
  await Promise.all([...procs.values()].map((p) => p.exited()));
  const pg = new Client({ connectionString: base });
  await pg.connect();
  for (const name of databases.keys()) await pg.query(`drop database if exists "${name}" with (force)`);
  await pg.end();

  const result = {
    bench: 'full-chain',
    stations: { registered: STATIONS, connected, sessionsStarted: started, sessionsStopped: stopped, registerSeconds },
    config: {
      rate: RATE,
      seconds: SECONDS,
      workers: WORKERS,
      scryptN: Number(SCRYPT_N ?? 16384),
      services: COMPILED ? 'dist (compiled)' : 'tsx',
      accounts: ACCOUNTS,
      // the service's default when not given (apps/session-service/src/config.ts)
      sessionCacheStations: Number(SESSION_CACHE ?? 50000),
      partitions: Number(process.env.KAFKA_PARTITIONS ?? 3),
      consumerNice: CONSUMER_NICE,
    },
    idleCores,
    memoryMb: {
      connected: Object.fromEntries(Object.entries(memoryIdle).map(([k, m]) => [k, m?.rss])),
      afterPhases: Object.fromEntries(Object.entries(memoryEnd).map(([k, m]) => [k, m?.rss])),
      peak: Object.fromEntries(Object.entries(memoryEnd).map(([k, m]) => [k, m?.peak])),
    },
    fixedRate: fixed,
    saturated,
    loadavgAtStart: loadAtStart,
    loadavgAtEnd: os.loadavg().map((l) => +l.toFixed(2)),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  };
  const human = (name: string, p: PhaseResult) => {
    console.log(
      `${name}: ${p.calls} MeterValues at ${p.callsPerS} CALLs/s (${p.errors} errors${p.skipped ? `, ${p.skipped} skipped: station busy` : ''}); CALL -> CALLRESULT p50 ${p.p50ms} ms, p99 ${p.p99ms} ms, max ${p.maxMs} ms (the gateway's own histogram: p50 ≤ ${p.gatewayP50AtMostMs ?? '∞'} ms, p99 ≤ ${p.gatewayP99AtMostMs ?? '∞'} ms); ${p.records} inbound records, consumers at most ${p.maxLagRecords} records behind, caught up ${p.drainSeconds} s after the load: ${p.sustainedRecordsPerS} records/s sustained; load average ${p.loadavg.join(' ')}`,
    );
    const width = Math.max(...Object.keys(p.cpuMsPerRecord).map((k) => k.length));
    for (const [k, v] of Object.entries(p.cpuMsPerRecord).sort((a, b) => b[1] - a[1]))
      console.log(
        `  ${k.padEnd(width)}  ${v.toFixed(3)} ms CPU per record  (${p.cpuSharePerCore[k].toFixed(2)} cores)`,
      );
    console.log(
      `  (the load driver, the stations' side on the same cores, not counted above: ${p.driverCpuMsPerRecord.toFixed(3)} ms per record, ${p.driverCores.toFixed(2)} cores over the load)`,
    );
  };
  console.log(
    `full chain: ${connected}/${STATIONS} password-authenticated stations, ${started} sessions; consumers at nice ${CONSUMER_NICE}; load average at start ${loadAtStart.join(' ')}`,
  );
  console.log(
    `memory (MB resident with the stations connected / peak): ${Object.keys(memoryEnd)
      .map((k) => `${k} ${memoryIdle[k]?.rss ?? '?'} / ${memoryEnd[k]?.peak ?? '?'}`)
      .join(', ')}`,
  );
  human(`fixed rate ${RATE}/s`, fixed);
  if (saturated) human('saturated', saturated);
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
