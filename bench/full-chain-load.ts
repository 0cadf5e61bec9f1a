/**
 * Child process of bench/full-chain.ts: password-authenticated OCPP 1.6 stations (raw `ws` clients, HTTP Basic on
 * the upgrade, one outstanding CALL each as OCPP-J requires), each in one open session whose meter values it
 * reports. Commands arrive over IPC; results go back over IPC.
 * The session started 10 hours ago (meter time) and each MeterValues is 60 s of meter time after the previous one,
 * with the register rising by 180 Wh (10.8 kW): the session service's periodic session.updated (every 900 s of
 * session time by default) and so the tariff service's running-cost estimates and the payment service's hold checks
 * happen at the rate a real network's long sessions make them, not never (as with receive-time stamps) or always.
 */
import WebSocket from 'ws';
import { benchPassword } from './gateway-password';

interface Station {
  id: string;
  ws: WebSocket;
  pending: { id: string; resolve: (r: { ok: boolean; us: number; payload: unknown }) => void; sentAt: bigint } | null;
  seq: number;
  transactionId?: number;
  register: number;
  meterAtMs: number;
}

const stations: Station[] = [];
const send = (m: unknown) => process.send!(m);
const STARTED_MS = Date.now() - 10 * 3600_000;

function call(s: Station, action: string, payload: object): Promise<{ ok: boolean; us: number; payload: unknown }> {
  return new Promise((resolve) => {
    const id = `${++s.seq}`;
    const sentAt = process.hrtime.bigint();
    s.pending = { id, sentAt, resolve };
    s.ws.send(JSON.stringify([2, id, action, payload]));
  });
}

function connect(url: string, id: string): Promise<Station | null> {
  return new Promise((resolve) => {
    const authorization = `Basic ${Buffer.from(`${id}:${benchPassword(id)}`).toString('base64')}`;
    const ws = new WebSocket(`${url}/${id}`, ['ocpp1.6'], { perMessageDeflate: false, headers: { authorization } });
    const s: Station = { id, ws, pending: null, seq: 0, register: 100_000, meterAtMs: STARTED_MS };
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as [number, string, unknown];
      if (s.pending && msg[1] === s.pending.id) {
        const p = s.pending;
        s.pending = null;
        p.resolve({ ok: msg[0] === 3, us: Number((process.hrtime.bigint() - p.sentAt) / 1000n), payload: msg[2] });
      }
    });
    ws.on('open', () => resolve(s));
    ws.on('error', () => resolve(null));
    ws.on('close', () => {
      const p = s.pending;
      s.pending = null;
      p?.resolve({ ok: false, us: -1, payload: null });
    });
  });
}

function meterValues(s: Station): object {
  s.meterAtMs += 60_000;
  s.register += 180;
  return {
    connectorId: 1,
    transactionId: s.transactionId,
    meterValue: [
      {
        timestamp: new Date(s.meterAtMs).toISOString(),
        sampledValue: [
          { value: String(s.register), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          { value: '10800', measurand: 'Power.Active.Import', unit: 'W' },
        ],
      },
    ],
  };
}

/** connects (retrying a refused upgrade after 1 s, up to 5 times, as a charger would), boots, starts a session */
async function setUp(url: string, ids: string[], idTag: string): Promise<{ connected: number; started: number }> {
  for (let i = 0; i < ids.length; i += 100) {
    for (let attempt = 1, left = ids.slice(i, i + 100); left.length > 0 && attempt <= 5; attempt++) {
      const got = await Promise.all(left.map((id) => connect(url, id)));
      left = left.filter((_, k) => !got[k]);
      for (const s of got) if (s) stations.push(s);
      if (left.length > 0) await new Promise((r) => setTimeout(r, 1000));
    }
  }
  let started = 0;
  for (let i = 0; i < stations.length; i += 100) {
    await Promise.all(
      stations.slice(i, i + 100).map(async (s) => {
        await call(s, 'BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'FullChain' });
        await call(s, 'StatusNotification', {
          connectorId: 1,
          errorCode: 'NoError',
          status: 'Preparing',
          timestamp: new Date(STARTED_MS - 1000).toISOString(),
        });
        const r = await call(s, 'StartTransaction', {
          connectorId: 1,
          idTag,
          meterStart: s.register,
          timestamp: new Date(STARTED_MS).toISOString(),
        });
        const tx = (r.payload as { transactionId?: number } | null)?.transactionId;
        if (r.ok && typeof tx === 'number') {
          s.transactionId = tx;
          started++;
        }
      }),
    );
  }
  return { connected: stations.length, started };
}

/** Every station calls MeterValues back to back for `durationMs`: the saturated rate. */
async function closedLoop(durationMs: number): Promise<{ completed: number; errors: number; latencies: number[] }> {
  const end = Date.now() + durationMs;
  let completed = 0;
  let errors = 0;
  const latencies: number[] = [];
  await Promise.all(
    stations.map(async (s) => {
      while (Date.now() < end && s.ws.readyState === WebSocket.OPEN) {
        const r = await call(s, 'MeterValues', meterValues(s));
        if (!r.ok) errors++;
        else {
          completed++;
          if (latencies.length < 500_000) latencies.push(r.us);
        }
      }
    }),
  );
  return { completed, errors, latencies };
}

/** A fixed rate of MeterValues spread over the stations (open loop): CALL -> CALLRESULT at that rate. */
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
  let ticks = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Date.now() - start;
      if (elapsed >= durationMs) {
        clearInterval(timer);
        resolve();
        return;
      }
      // credit follows the wall clock, not the number of timer callbacks (a late timer does not lower the rate)
      const due = Math.floor(elapsed / tickMs) + 1;
      credit += perTick * (due - ticks);
      ticks = due;
      while (credit >= 1) {
        credit -= 1;
        const s = stations[next++ % stations.length];
        if (s.pending || s.ws.readyState !== WebSocket.OPEN) {
          skipped++;
          continue;
        }
        inflight.push(
          call(s, 'MeterValues', meterValues(s)).then((r) => {
            if (!r.ok) errors++;
            else {
              completed++;
              latencies.push(r.us);
            }
          }),
        );
      }
    }, tickMs);
  });
  await Promise.all(inflight);
  return { completed, errors, skipped, latencies };
}

/** every station stops its session */
async function stopAll(idTag: string): Promise<{ stopped: number }> {
  let stopped = 0;
  for (let i = 0; i < stations.length; i += 100) {
    await Promise.all(
      stations.slice(i, i + 100).map(async (s) => {
        if (s.transactionId === undefined || s.ws.readyState !== WebSocket.OPEN) return;
        const r = await call(s, 'StopTransaction', {
          transactionId: s.transactionId,
          idTag,
          meterStop: s.register,
          timestamp: new Date(s.meterAtMs + 1000).toISOString(),
          reason: 'Local',
        });
        if (r.ok) stopped++;
      }),
    );
  }
  return { stopped };
}

process.on(
  'message',
  async (m: { cmd: string; url: string; ids: string[]; idTag: string; durationMs: number; rate: number }) => {
    if (m.cmd === 'setUp') send({ cmd: 'setUp', ...(await setUp(m.url, m.ids, m.idTag)) });
    if (m.cmd === 'closedLoop') send({ cmd: 'closedLoop', ...(await closedLoop(m.durationMs)) });
    if (m.cmd === 'openLoop') send({ cmd: 'openLoop', ...(await openLoop(m.rate, m.durationMs)) });
    if (m.cmd === 'stopAll') send({ cmd: 'stopAll', ...(await stopAll(m.idTag)) });
    if (m.cmd === 'close') {
      for (const s of stations) s.ws.terminate();
      stations.length = 0;
      send({ cmd: 'close' });
    }
  },
);
