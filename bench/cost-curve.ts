/**
 * The chain's cost curve by station count: bench/full-chain.ts once per count, one after another, each with every
 * service as its own process and every station password-authenticated and in an open session (see that file).
 *
 *   npx tsx bench/cost-curve.ts [--counts=1000,5000,10000,20000] [--rate=2000] [--seconds=20] [--workers=2]
 *                               [--scrypt-n=N] [--accounts=N] [--session-cache=N] (passed to bench/full-chain.ts: the
 *                               cost of the stations' password hashes; card accounts the sessions are spread over;
 *                               the session service's state cache)
 *
 * Per count: registration time, CALL -> CALLRESULT p50/p99 at the fixed rate and whether the consumers kept up,
 * CALLs/s saturated and the records/s the chain sustained, CPU ms per inbound record summed over the services and
 * over PostgreSQL + Kafka, and each service's resident memory with the stations connected and its peak. A Markdown
 * table (for the README) and one JSON line. Each run's own JSON is kept in --out (default /tmp/cost-curve).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg } from './args';

const COUNTS = (arg('counts') ?? '1000,5000,10000,20000').split(',').map(Number);
const RATE = arg('rate') ?? '2000';
const SECONDS = arg('seconds') ?? '20';
const WORKERS = arg('workers') ?? '2';
const OUT = arg('out') ?? '/tmp/cost-curve';
const SCRYPT_N = arg('scrypt-n');
const SESSION_CACHE = arg('session-cache');
const ACCOUNTS = arg('accounts');

interface Phase {
  callsPerS: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  maxLagRecords: number;
  drainSeconds: number;
  sustainedRecordsPerS: number;
  cpuMsPerRecord: Record<string, number>;
  loadavg: number[];
}
interface FullChain {
  stations: { registered: number; connected: number; sessionsStarted: number; registerSeconds: number };
  memoryMb: { connected: Record<string, number>; peak: Record<string, number> };
  fixedRate: Phase;
  saturated: Phase;
}

function runOne(stations: number): Promise<FullChain> {
  return new Promise((resolve, reject) => {
    const args = [
      'tsx',
      path.join(__dirname, 'full-chain.ts'),
      `--stations=${stations}`,
      `--rate=${RATE}`,
      `--seconds=${SECONDS}`,
      `--workers=${WORKERS}`,
      ...(SCRYPT_N ? [`--scrypt-n=${SCRYPT_N}`] : []),
      ...(ACCOUNTS ? [`--accounts=${ACCOUNTS}`] : []),
      ...(SESSION_CACHE ? [`--session-cache=${SESSION_CACHE}`] : []),
    ];
    const child = spawn('npx', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.on('exit', (code) => {
      const json = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (code !== 0 || !json) reject(new Error(`full-chain at ${stations} stations exited ${code}`));
      else resolve(JSON.parse(json) as FullChain);
    });
  });
}

const SERVICES = ['ocpp-gateway', 'session-service', 'tariff-service', 'reporting-service', 'payment-service'];
const sum = (r: Record<string, number>, keys: (k: string) => boolean) =>
  Object.entries(r)
    .filter(([k]) => keys(k))
    .reduce((n, [, v]) => n + v, 0);

const cpu = (p: Phase) => ({
  services: +sum(p.cpuMsPerRecord, (k) => SERVICES.includes(k) || k === 'psp-emulator').toFixed(2),
  infra: +sum(p.cpuMsPerRecord, (k) => !SERVICES.includes(k) && k !== 'psp-emulator').toFixed(2),
});

function row(n: number, r: FullChain) {
  return {
    stations: n,
    connected: r.stations.connected,
    registerSeconds: r.stations.registerSeconds,
    fixed: {
      callsPerS: r.fixedRate.callsPerS,
      p50ms: r.fixedRate.p50ms,
      p99ms: r.fixedRate.p99ms,
      maxLagRecords: r.fixedRate.maxLagRecords,
      drainSeconds: r.fixedRate.drainSeconds,
      cpuMsPerRecord: cpu(r.fixedRate),
      loadavg: r.fixedRate.loadavg[0],
    },
    saturated: {
      callsPerS: r.saturated.callsPerS,
      p99ms: r.saturated.p99ms,
      sustainedRecordsPerS: r.saturated.sustainedRecordsPerS,
      cpuMsPerRecord: cpu(r.saturated),
      loadavg: r.saturated.loadavg[0],
    },
    memoryMbConnected: r.memoryMb.connected,
    memoryMbPeak: r.memoryMb.peak,
  };
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const rows: Array<ReturnType<typeof row>> = [];
  for (const n of COUNTS) {
    const r = await runOne(n);
    writeFileSync(`${OUT}/full-chain-${n}.json`, JSON.stringify(r));
    rows.push(row(n, r));
  }
  const mb = (m: Record<string, number>, k: string) => m[k] ?? '?';
  console.log(
    `\n| stations | register s (scrypt N = ${SCRYPT_N ?? 16384}) | fixed-rate CALLs/s, p50 / p99 ms, consumers behind at most | saturated CALLs/s, p99 ms | sustained records/s | CPU ms/record services + PG&Kafka (fixed; saturated) | MB resident connected / peak: gateway, sessions, tariffs, reporting, payments |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const mem = SERVICES.map((k) => `${mb(r.memoryMbConnected, k)}/${mb(r.memoryMbPeak, k)}`).join(', ');
    console.log(
      `| ${r.stations} (${r.connected} connected) | ${r.registerSeconds} | ${r.fixed.callsPerS}, ${r.fixed.p50ms} / ${r.fixed.p99ms}, ${r.fixed.maxLagRecords} | ${r.saturated.callsPerS}, ${r.saturated.p99ms} | ${r.saturated.sustainedRecordsPerS} | ${r.fixed.cpuMsPerRecord.services} + ${r.fixed.cpuMsPerRecord.infra}; ${r.saturated.cpuMsPerRecord.services} + ${r.saturated.cpuMsPerRecord.infra} | ${mem} |`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'cost-curve',
      rate: Number(RATE),
      seconds: Number(SECONDS),
      workers: Number(WORKERS),
      scryptN: Number(SCRYPT_N ?? 16384),
      accounts: Number(ACCOUNTS ?? 1),
      rows,
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
