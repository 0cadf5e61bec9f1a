/**
 * Benchmark of the OCPP gateway against a bare ocpp-rpc server (same schema validation, no Kafka).
 *
 *   npx tsx bench/gateway.ts
 *
 * Needs Kafka (KAFKA_BROKERS) and PostgreSQL (DATABASE_URL) like the gateway. The server under test runs
 * in its own process (bench/gateway-server.ts) and the simulated stations in BENCH_WORKERS other processes
 * (bench/gateway-load.ts, raw `ws` clients speaking OCPP-J 1.6, one outstanding CALL per station).
 * Phases, for the gateway and then the baseline:
 *   1. connect BENCH_STATIONS stations, each sends BootNotification; server RSS before/after -> per connection
 *   2. closed loop for BENCH_SECONDS: BENCH_CONCURRENCY stations call MeterValues back to back -> CALLs/s
 *      (for the gateway every one of them is a record acknowledged by Kafka before the CALLRESULT)
 *   3. open loop at BENCH_RATE CALLs/s for BENCH_SECONDS -> p50 / p99 CALL -> CALLRESULT
 *   4. reconnect storm: BENCH_STORM stations drop their connections at once and reconnect, evenly spread over
 *      BENCH_STORM_WINDOW_S, each sending BootNotification (retrying after 1 s on failure) -> how long until all
 *      are back, BootNotification p50 / p99 from the reconnect attempt, failed attempts
 * With BENCH_PASSWORDS=1 the gateway runs without provisional stations: every station is first registered with
 * security profile 1 and a password of its own, through the registry service the REST API uses (scrypt per
 * password), and sends HTTP Basic on every upgrade, the storm's reconnects included; the first connection of a
 * station costs one scrypt, the storm's reconnects none (the verified passwords are remembered and shared by the
 * workers), which the JSON shows (`passwordChecks`: answered from memory / by scrypt, per phase). BENCH_SCRYPT_N
 * (16384, the gateway's) sets the cost of the stored hashes: a lower one sets up 10,000 stations in minutes on a
 * busy machine, and does not change the storm as long as its `passwordChecks.storm.miss` is 0.
 * Prints one JSON line. Environment: BENCH_STATIONS (19000; the process fd limit here is 20000),
 * BENCH_WORKERS (2), BENCH_SECONDS (15), BENCH_RATE (5000), BENCH_CONCURRENCY (2000), BENCH_STORM (10000),
 * BENCH_STORM_WINDOW_S (60), BENCH_SKIP_BASELINE, BENCH_PASSWORDS, BENCH_SKIP_LOAD (only connect and storm).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';

const STATIONS = Number(process.env.BENCH_STATIONS ?? 19000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2000);
const STORM = Number(process.env.BENCH_STORM ?? 10000);
const STORM_WINDOW_S = Number(process.env.BENCH_STORM_WINDOW_S ?? 60);
const PASSWORDS = process.env.BENCH_PASSWORDS === '1';
const SCRYPT_N = Number(process.env.BENCH_SCRYPT_N ?? 16384);
const SKIP_LOAD = process.env.BENCH_SKIP_LOAD === '1';
const run = randomUUID().slice(0, 8);
const loadAtStart = loadavg().map((l) => +l.toFixed(2));

function child(file: string, env: Record<string, string>): ChildProcess {
  return fork(join(__dirname, file), [], {
    env: {
      ...process.env,
      ...env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --max-old-space-size=2048`,
    },
    // BENCH_CPU_PROF=<dir>: a CPU profile of the server under test
    execArgv: [
      '--import',
      'tsx',
      ...(file === 'gateway-server.ts' && process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function next<T>(p: ChildProcess, pred: (m: Record<string, unknown>) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>) => {
      if (pred(m)) {
        p.off('message', on);
        resolve(m as T);
      }
    };
    p.on('message', on);
    p.once('exit', (code) => reject(new Error(`${p.pid} exited with ${code}`)));
  });
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(mode: 'gateway' | 'baseline') {
  const server = child('gateway-server.ts', {
    BENCH_MODE: mode,
    OCPP_PORT: '0',
    OCPP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    OCPP_ALLOW_PROVISIONAL: PASSWORDS && mode === 'gateway' ? 'false' : 'true',
    OCPP_PING_INTERVAL_S: '0',
    LOG_LEVEL: 'warn',
    GATEWAY_INSTANCE: `bench-${run}`,
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/csms_bench_gateway',
    OCPP_INBOUND_TOPIC: `bench.ocpp.inbound-${run}`,
    REGISTRY_STATIONS_TOPIC: `bench.registry.stations-${run}`,
    REGISTRY_TOKENS_TOPIC: `bench.registry.tokens-${run}`,
    OCPP_COMMANDS_TOPIC: `bench.ocpp.commands-${run}`,
    OCPP_COMMAND_RESULTS_TOPIC: `bench.ocpp.command_results-${run}`,
  });
  const { url } = await next<{ url: string }>(server, (m) => m.ready === true);
  const rssOf = async () => {
    const r = next<{ rss: number }>(server, (m) => typeof m.rss === 'number' && !m.initial);
    server.send({ cmd: 'rss' });
    return (await r).rss;
  };
  const statsOf = async () => {
    const r = next<{
      stats: { passwordHit: number; passwordMiss: number; authFailed: number; refused: Record<string, number> };
    }>(server, (m) => m.stats !== undefined);
    server.send({ cmd: 'stats' });
    return (await r).stats;
  };
  const per = Math.ceil(STATIONS / WORKERS);
  const idsOf = (i: number) =>
    Array.from({ length: Math.max(0, Math.min(per, STATIONS - i * per)) }, (_, k) => `BENCH-${run}-${i}-${k}`);
  let registerSeconds: number | null = null;
  if (PASSWORDS && mode === 'gateway') {
    const r0 = Date.now();
    const registered = next(server, (m) => m.registered !== undefined);
    server.send({ cmd: 'register', ids: Array.from({ length: WORKERS }, (_, i) => idsOf(i)).flat() });
    await registered;
    registerSeconds = (Date.now() - r0) / 1000;
  }
  const rssBefore = await rssOf();
  const workers = Array.from({ length: WORKERS }, () => child('gateway-load.ts', {}));
  const all = <T>(cmd: Record<string, unknown> | ((i: number) => Record<string, unknown>)) =>
    Promise.all(
      workers.map((w, i) => {
        const msg = typeof cmd === 'function' ? cmd(i) : cmd;
        const r = next<T>(w, (m) => m.cmd === msg.cmd);
        w.send(msg);
        return r;
      }),
    );
  const t0 = Date.now();
  const conns = await all<{ connected: number; failed: number }>((i) => ({ cmd: 'connect', url, ids: idsOf(i) }));
  const connectSeconds = (Date.now() - t0) / 1000;
  const connected = conns.reduce((n, c) => n + c.connected, 0);
  const rssConnected = await rssOf();

  const hasStats = mode === 'gateway';
  const afterConnect = hasStats ? await statsOf() : null;

  const skipped = { completed: 0, errors: 0, skipped: 0, latencies: [] as number[] };
  const closed = SKIP_LOAD
    ? [skipped]
    : await all<{ completed: number; errors: number; latencies: number[] }>({
        cmd: 'closedLoop',
        durationMs: SECONDS * 1000,
        concurrency: Math.ceil(CONCURRENCY / WORKERS),
      });
  const completed = closed.reduce((n, c) => n + c.completed, 0);
  const closedLat = closed.flatMap((c) => c.latencies).sort((a, b) => a - b);

  const open = SKIP_LOAD
    ? [skipped]
    : await all<{ completed: number; errors: number; skipped: number; latencies: number[] }>({
        cmd: 'openLoop',
        rate: RATE / WORKERS,
        durationMs: SECONDS * 1000,
      });
  const lat = open.flatMap((c) => c.latencies).sort((a, b) => a - b);
  const rssEnd = await rssOf();

  const storm = await all<{
    stations: number;
    booted: number;
    failedAttempts: number;
    seconds: number;
    latencies: number[];
  }>({ cmd: 'storm', url, count: Math.ceil(Math.min(STORM, connected) / WORKERS), windowMs: STORM_WINDOW_S * 1000 });
  const stormLat = storm.flatMap((c) => c.latencies).sort((a, b) => a - b);
  const afterStorm = hasStats ? await statsOf() : null;

  await all({ cmd: 'close' });
  for (const w of workers) w.kill();
  server.send({ cmd: 'stop' });
  await next(server, (m) => m.stopped === true).catch(() => undefined);
  return {
    passwords: PASSWORDS && mode === 'gateway',
    registerSeconds,
    stations: connected,
    connectFailures: conns.reduce((n, c) => n + c.failed, 0),
    connectSeconds,
    rssBeforeMB: +(rssBefore / 2 ** 20).toFixed(1),
    rssConnectedMB: +(rssConnected / 2 ** 20).toFixed(1),
    rssEndMB: +(rssEnd / 2 ** 20).toFixed(1),
    rssPerConnectionKB: +((rssConnected - rssBefore) / connected / 1024).toFixed(2),
    saturatedCallsPerS: Math.round(completed / SECONDS),
    saturatedErrors: closed.reduce((n, c) => n + c.errors, 0),
    saturatedP50ms: +(percentile(closedLat, 0.5) / 1000).toFixed(2),
    saturatedP99ms: +(percentile(closedLat, 0.99) / 1000).toFixed(2),
    fixedRate: RATE,
    fixedRateAchievedPerS: Math.round(open.reduce((n, c) => n + c.completed, 0) / SECONDS),
    fixedRateErrors: open.reduce((n, c) => n + c.errors, 0),
    fixedRateSkipped: open.reduce((n, c) => n + c.skipped, 0),
    p50ms: +(percentile(lat, 0.5) / 1000).toFixed(2),
    p99ms: +(percentile(lat, 0.99) / 1000).toFixed(2),
    storm: {
      stations: storm.reduce((n, c) => n + c.stations, 0),
      windowSeconds: STORM_WINDOW_S,
      booted: storm.reduce((n, c) => n + c.booted, 0),
      allBackSeconds: Math.max(...storm.map((c) => c.seconds)),
      failedAttempts: storm.reduce((n, c) => n + c.failedAttempts, 0),
      bootP50ms: +(percentile(stormLat, 0.5) / 1000).toFixed(1),
      bootP99ms: +(percentile(stormLat, 0.99) / 1000).toFixed(1),
      bootMaxMs: +((stormLat[stormLat.length - 1] ?? NaN) / 1000).toFixed(1),
    },
    // Basic-auth checks: answered from memory (hit) or by scrypt (miss); refusals by HTTP status
    passwordChecks:
      afterConnect && afterStorm
        ? {
            connect: { hit: afterConnect.passwordHit, miss: afterConnect.passwordMiss },
            storm: {
              hit: afterStorm.passwordHit - afterConnect.passwordHit,
              miss: afterStorm.passwordMiss - afterConnect.passwordMiss,
            },
            authFailed: afterStorm.authFailed,
            refused: afterStorm.refused,
          }
        : null,
  };
}

async function main(): Promise<void> {
  const gateway = await measure('gateway');
  const baseline = process.env.BENCH_SKIP_BASELINE ? null : await measure('baseline');
  console.log(
    JSON.stringify({
      bench: 'gateway',
      config: {
        passwords: PASSWORDS,
        scryptN: PASSWORDS ? SCRYPT_N : null,
        loadavgAtStart: loadAtStart,
        loadavgAtEnd: loadavg().map((l) => +l.toFixed(2)),
        stations: STATIONS,
        workers: WORKERS,
        gatewayWorkers: Number(process.env.GATEWAY_WORKERS ?? 1),
        seconds: SECONDS,
        rate: RATE,
        concurrency: CONCURRENCY,
        storm: STORM,
        stormWindowSeconds: STORM_WINDOW_S,
      },
      gateway,
      baseline,
      ratio: baseline
        ? {
            callsPerS: +(gateway.saturatedCallsPerS / baseline.saturatedCallsPerS).toFixed(3),
            p99AtRate: +(gateway.p99ms / baseline.p99ms).toFixed(2),
            rssPerConnection: +(gateway.rssPerConnectionKB / baseline.rssPerConnectionKB).toFixed(2),
          }
        : null,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
