/**
 * Benchmark: how much OCPP traffic the simulator drives from one process.
 *
 *   npx tsx bench/simulator.ts      # BENCH_STATIONS=500 BENCH_CONNECTORS=2 BENCH_SESSIONS=1 BENCH_SPEED=600
 *
 * A plain ocpp-rpc RPCServer (no schema validation, instant answers) runs in the same process on
 * 127.0.0.1; the simulator plays a mixed 1.6/2.0.1 fleet with the `quick` shape (sessions of 10-20 station
 * minutes, a sample every 60 s) at BENCH_SPEED and strict client-side validation. One JSON line: wall time,
 * CALLs per second, CPU, peak RSS. The server shares the process, so the figures are a lower bound.
 */
import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import { Simulation } from '../apps/simulator/src';

const STATIONS = Number(process.env.BENCH_STATIONS ?? 500);
const CONNECTORS = Number(process.env.BENCH_CONNECTORS ?? 2);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1);
const SPEED = Number(process.env.BENCH_SPEED ?? 600);

type Client = {
  protocol?: string;
  handle: (m: (o: { method?: string; params?: Record<string, unknown> }) => Promise<Record<string, unknown>>) => void;
};

async function main(): Promise<void> {
  const server = new RPCServer({ protocols: ['ocpp1.6', 'ocpp2.0.1'], strictMode: false });
  let tx = 1;
  let calls = 0;
  server.on('client', (raw: unknown) => {
    const c = raw as Client;
    c.handle(async ({ method }) => {
      calls++;
      const now = new Date().toISOString();
      switch (method) {
        case 'BootNotification':
          return { status: 'Accepted', currentTime: now, interval: 300 };
        case 'Heartbeat':
          return { currentTime: now };
        case 'Authorize':
          return c.protocol === 'ocpp1.6'
            ? { idTagInfo: { status: 'Accepted' } }
            : { idTokenInfo: { status: 'Accepted' } };
        case 'StartTransaction':
          return { transactionId: tx++, idTagInfo: { status: 'Accepted' } };
        default:
          return {};
      }
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ocpp`;

  const sim = new Simulation({
    url,
    stations: STATIONS,
    connectors: CONNECTORS,
    sessions: SESSIONS,
    protocol: 'mixed',
    seed: 1,
    shape: 'quick',
    speed: SPEED,
    keepLog: false,
    backoff: { initialMs: 200, maxMs: 5000 },
  });
  let peakRss = 0;
  const probe = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const summary = await sim.run();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(probe);
  await server.close({ force: true });
  console.log(
    JSON.stringify({
      bench: 'simulator',
      stations: STATIONS,
      connectors: CONNECTORS,
      sessionsCompleted: summary.totals.sessionsCompleted,
      errors: summary.totals.errors,
      calls,
      wallMs: Math.round(wallMs),
      callsPerSecond: Math.round((calls / wallMs) * 1000),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      peakRssMb: Math.round(peakRss / 2 ** 20),
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
