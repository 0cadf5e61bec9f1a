/**
 * Child process of bench/gateway.ts: simulated charge points (raw `ws` clients speaking OCPP-J 1.6, one
 * outstanding CALL each, as OCPP-J requires). Commands arrive over IPC; results go back over IPC.
 */
import WebSocket from 'ws';
import { benchPassword } from './gateway-password';

/** BENCH_PASSWORDS=1: stations are registered with security profile 1 and send HTTP Basic on the upgrade */
const PASSWORDS = process.env.BENCH_PASSWORDS === '1';

interface Station {
  id: string;
  ws: WebSocket;
  pending: { id: string; sentAt: bigint; resolve: (ok: boolean) => void } | null;
  seq: number;
}

const stations: Station[] = [];
const send = (m: unknown) => process.send!(m);

function meterValues(): object {
  return {
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
  };
}

/** Sends one CALL; resolves with its latency in µs (or -1 for a CALLERROR / close). */
function call(s: Station, action: string, payload: object): Promise<number> {
  return new Promise((resolve) => {
    const id = `${process.pid}-${++s.seq}`;
    const sentAt = process.hrtime.bigint();
    s.pending = { id, sentAt, resolve: (ok) => resolve(ok ? Number((process.hrtime.bigint() - sentAt) / 1000n) : -1) };
    s.ws.send(JSON.stringify([2, id, action, payload]));
  });
}

function connect(url: string, id: string): Promise<Station | null> {
  return new Promise((resolve) => {
    const headers = PASSWORDS
      ? { authorization: `Basic ${Buffer.from(`${id}:${benchPassword(id)}`).toString('base64')}` }
      : undefined;
    const ws = new WebSocket(`${url}/${id}`, ['ocpp1.6'], { perMessageDeflate: false, headers });
    const s: Station = { id, ws, pending: null, seq: 0 };
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as [number, string];
      if (s.pending && msg[1] === s.pending.id) {
        const p = s.pending;
        s.pending = null;
        p.resolve(msg[0] === 3);
      }
    });
    ws.on('open', () => resolve(s));
    ws.on('error', () => resolve(null));
    ws.on('close', () => {
      const p = s.pending;
      s.pending = null;
      p?.resolve(false);
    });
  });
}

async function connectAll(url: string, ids: string[]): Promise<{ connected: number; failed: number }> {
  let failed = 0;
  for (let i = 0; i < ids.length; i += 250) {
    const batch = ids.slice(i, i + 250);
    // a refused attempt (e.g. 503 over the gateway's pending-upgrade cap while it computes scrypts) is retried
    // after a second, up to 5 times, as a charger would
    for (let attempt = 1, left = batch; left.length > 0; attempt++) {
      const got = await Promise.all(left.map((id) => connect(url, id)));
      left = left.filter((_, k) => !got[k]);
      for (const s of got) if (s) stations.push(s);
      if (left.length === 0) break;
      if (attempt === 5) {
        failed += left.length;
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  // every station boots
  for (let i = 0; i < stations.length; i += 500) {
    await Promise.all(
      stations
        .slice(i, i + 500)
        .map((s) => call(s, 'BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'Sim' })),
    );
  }
  return { connected: stations.length, failed };
}

/** Every station calls MeterValues back to back for `durationMs`: the saturated throughput. */
async function closedLoop(
  durationMs: number,
  concurrency: number,
): Promise<{ completed: number; errors: number; latencies: number[] }> {
  const end = Date.now() + durationMs;
  let completed = 0;
  let errors = 0;
  const latencies: number[] = [];
  const active = stations.slice(0, concurrency);
  await Promise.all(
    active.map(async (s) => {
      while (Date.now() < end && s.ws.readyState === WebSocket.OPEN) {
        const us = await call(s, 'MeterValues', meterValues());
        if (us < 0) errors++;
        else {
          completed++;
          if (latencies.length < 200_000) latencies.push(us);
        }
      }
    }),
  );
  return { completed, errors, latencies };
}

/** A fixed rate of CALLs spread over the stations (open loop): the latency at that rate. */
async function openLoop(
  ratePerS: number,
  durationMs: number,
): Promise<{ completed: number; errors: number; skipped: number; latencies: number[] }> {
  const tickMs = 10;
  const perTick = ratePerS / (1000 / tickMs);
  let credit = 0;
  let next = 0;
  let completed = 0;
  let errors = 0;
  let skipped = 0;
  const latencies: number[] = [];
  const inflight: Array<Promise<void>> = [];
  const start = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (Date.now() - start >= durationMs) {
        clearInterval(timer);
        resolve();
        return;
      }
      credit += perTick;
      while (credit >= 1) {
        credit -= 1;
        const s = stations[next++ % stations.length];
        if (s.pending || s.ws.readyState !== WebSocket.OPEN) {
          skipped++;
          continue;
        }
        inflight.push(
          call(s, 'MeterValues', meterValues()).then((us) => {
            if (us < 0) errors++;
            else {
              completed++;
              latencies.push(us);
            }
          }),
        );
      }
    }, tickMs);
  });
  await Promise.all(inflight);
  return { completed, errors, skipped, latencies };
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
        const s = await connect(url, old.id);
        if (s && (await call(s, 'BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'Sim' })) >= 0) {
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
    if (m.cmd === 'connect') send({ cmd: 'connect', ...(await connectAll(m.url, m.ids)) });
    if (m.cmd === 'closedLoop') send({ cmd: 'closedLoop', ...(await closedLoop(m.durationMs, m.concurrency)) });
    if (m.cmd === 'openLoop') send({ cmd: 'openLoop', ...(await openLoop(m.rate, m.durationMs)) });
    if (m.cmd === 'close') {
      for (const s of stations) s.ws.terminate();
      stations.length = 0;
      send({ cmd: 'close' });
    }
  },
);
