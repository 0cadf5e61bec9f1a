/**
 * Child process of bench/gateway.ts: simulated charge points (raw `ws` clients speaking OCPP-J 1.6, one
 * outstanding CALL each, as OCPP-J requires). Commands arrive over IPC; results go back over IPC.
 */
import { call, closedLoop, connect, connectAll, openLoop, type DriverStation } from './ocpp-load-driver';

/** BENCH_PASSWORDS=1: stations are registered with security profile 1 and send HTTP Basic on the upgrade */
const PASSWORDS = process.env.BENCH_PASSWORDS === '1';

const stations: DriverStation[] = [];
const send = (m: unknown) => process.send!(m);

function meterValues(): { action: string; payload: object } {
  return {
    action: 'MeterValues',
    payload: {
      connectorId: 1,
      transactionId: 42,
      meterValue: [
        {
          timestamp: new Date().toISOString(),
          sampledValue: [
            { value: '12345', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            { value: '11000', measurand: 'Power.Active.Import', unit: 'W' },
          ],
        },
      ],
    },
  };
}

const BOOT = { chargePointVendor: 'Bench', chargePointModel: 'Sim' };

async function connectEvery(url: string, ids: string[]): Promise<{ connected: number; failed: number }> {
  const got = await connectAll(url, ids, { password: PASSWORDS, batch: 250 });
  stations.push(...got.stations);
  // every station boots
  for (let i = 0; i < stations.length; i += 500)
    await Promise.all(stations.slice(i, i + 500).map((s) => call(s, 'BootNotification', BOOT)));
  return { connected: stations.length, failed: got.failed };
}

/**
 * A reconnect storm: the first `count` stations lose their connections at once (as when a gateway instance or a
 * load balancer goes away), and each reconnects at an evenly spread point of the next `windowMs` and sends
 * BootNotification, retrying after 1 s on failure, as chargers do. Latency: from the reconnect attempt to the
 * BootNotification CALLRESULT, retries included.
 */
async function storm(
  url: string,
  count: number,
  windowMs: number,
): Promise<{ stations: number; booted: number; failedAttempts: number; seconds: number; latencies: number[] }> {
  const victims = stations.splice(0, count);
  for (const s of victims) s.ws.terminate();
  await new Promise((r) => setTimeout(r, 500));
  const t0 = Date.now();
  let failedAttempts = 0;
  const latencies: number[] = [];
  const deadline = t0 + windowMs + 120_000;
  await Promise.all(
    victims.map(async (old, i) => {
      await new Promise((r) => setTimeout(r, Math.floor((i / victims.length) * windowMs)));
      const start = process.hrtime.bigint();
      while (Date.now() < deadline) {
        const s = await connect(url, old.id, PASSWORDS);
        if (s && (await call(s, 'BootNotification', BOOT)).ok) {
          latencies.push(Number((process.hrtime.bigint() - start) / 1000n));
          stations.push(s);
          return;
        }
        failedAttempts++;
        s?.ws.terminate();
        await new Promise((r) => setTimeout(r, 1000));
      }
    }),
  );
  return {
    stations: victims.length,
    booted: latencies.length,
    failedAttempts,
    seconds: (Date.now() - t0) / 1000,
    latencies,
  };
}

process.on(
  'message',
  async (m: {
    cmd: string;
    url: string;
    ids: string[];
    durationMs: number;
    rate: number;
    concurrency: number;
    count: number;
    windowMs: number;
  }) => {
    if (m.cmd === 'storm') send({ cmd: 'storm', ...(await storm(m.url, m.count, m.windowMs)) });
    if (m.cmd === 'connect') send({ cmd: 'connect', ...(await connectEvery(m.url, m.ids)) });
    if (m.cmd === 'closedLoop')
      send({
        cmd: 'closedLoop',
        ...(await closedLoop(stations.slice(0, m.concurrency), m.durationMs, meterValues, 200_000)),
      });
    if (m.cmd === 'openLoop')
      send({ cmd: 'openLoop', ...(await openLoop(stations, m.rate, m.durationMs, meterValues)) });
    if (m.cmd === 'close') {
      for (const s of stations) s.ws.terminate();
      stations.length = 0;
      send({ cmd: 'close' });
    }
  },
);
