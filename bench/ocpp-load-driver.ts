/**
 * The load driver the gateway and full-chain benchmarks' child processes share: simulated OCPP 1.6 charge points as
 * raw `ws` clients (one outstanding CALL each, as OCPP-J requires), optionally password-authenticated (HTTP Basic
 * on the upgrade), and the two ways of loading them: closed loop (every station calls back to back: the saturated
 * rate) and open loop (a fixed rate spread over the stations: the latency at that rate).
 */
import WebSocket from 'ws';
import { benchPassword } from './gateway-password';

export interface CallResult {
  ok: boolean;
  /** CALL -> CALLRESULT in µs; -1 when the connection closed first */
  us: number;
  payload: unknown;
}

export interface DriverStation {
  id: string;
  ws: WebSocket;
  pending: { id: string; sentAt: bigint; resolve: (r: CallResult) => void } | null;
  seq: number;
}

/** Sends one CALL; resolves with its outcome (a CALLERROR is `ok: false`, a close `us: -1`). */
export function call(s: DriverStation, action: string, payload: object): Promise<CallResult> {
  return new Promise((resolve) => {
    const id = `${process.pid}-${++s.seq}`;
    s.pending = { id, sentAt: process.hrtime.bigint(), resolve };
    s.ws.send(JSON.stringify([2, id, action, payload]));
  });
}

/** Opens one station's connection (with its bench password when `password`); null when refused. */
export function connect<S extends DriverStation>(
  url: string,
  id: string,
  password: boolean,
  make: (base: DriverStation) => S = (b) => b as S,
): Promise<S | null> {
  return new Promise((resolve) => {
    const headers = password
      ? { authorization: `Basic ${Buffer.from(`${id}:${benchPassword(id)}`).toString('base64')}` }
      : undefined;
    const ws = new WebSocket(`${url}/${id}`, ['ocpp1.6'], { perMessageDeflate: false, headers });
    const s = make({ id, ws, pending: null, seq: 0 });
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

/**
 * Connects `ids` `batch` at a time; a refused attempt (e.g. 503 over the gateway's pending-upgrade cap while it
 * computes scrypts) is retried after a second, up to 5 attempts, as a charger would. Returns the stations connected
 * and how many gave up.
 */
export async function connectAll<S extends DriverStation>(
  url: string,
  ids: readonly string[],
  opts: { password: boolean; batch: number; make?: (base: DriverStation) => S },
): Promise<{ stations: S[]; failed: number }> {
  const stations: S[] = [];
  let failed = 0;
  for (let i = 0; i < ids.length; i += opts.batch) {
    for (let attempt = 1, left = ids.slice(i, i + opts.batch); left.length > 0; attempt++) {
      const got = await Promise.all(left.map((id) => connect(url, id, opts.password, opts.make)));
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
  return { stations, failed };
}

export interface LoopResult {
  completed: number;
  errors: number;
  latencies: number[];
}

/** Every station calls back to back for `durationMs` (the saturated rate); at most `maxLatencies` kept. */
export async function closedLoop<S extends DriverStation>(
  stations: readonly S[],
  durationMs: number,
  next: (s: S) => { action: string; payload: object },
  maxLatencies = 500_000,
): Promise<LoopResult> {
  const end = Date.now() + durationMs;
  const out: LoopResult = { completed: 0, errors: 0, latencies: [] };
  await Promise.all(
    stations.map(async (s) => {
      while (Date.now() < end && s.ws.readyState === WebSocket.OPEN) {
        const { action, payload } = next(s);
        const r = await call(s, action, payload);
        if (!r.ok) out.errors++;
        else {
          out.completed++;
          if (out.latencies.length < maxLatencies) out.latencies.push(r.us);
        }
      }
    }),
  );
  return out;
}

/**
 * A fixed rate of CALLs spread round-robin over the stations for `durationMs` (open loop); a station whose CALL is
 * still outstanding is skipped (counted). The credit follows the wall clock, not the number of timer callbacks, so a
 * late timer does not lower the rate.
 */
export async function openLoop<S extends DriverStation>(
  stations: readonly S[],
  ratePerS: number,
  durationMs: number,
  next: (s: S) => { action: string; payload: object },
): Promise<LoopResult & { skipped: number }> {
  const tickMs = 10;
  const perTick = ratePerS / (1000 / tickMs);
  const out = { completed: 0, errors: 0, skipped: 0, latencies: [] as number[] };
  const inflight: Array<Promise<void>> = [];
  const start = Date.now();
  let credit = 0;
  let ticks = 0;
  let k = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Date.now() - start;
      if (elapsed >= durationMs) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor(elapsed / tickMs) + 1;
      credit += perTick * (due - ticks);
      ticks = due;
      while (credit >= 1) {
        credit -= 1;
        const s = stations[k++ % stations.length];
        if (s.pending || s.ws.readyState !== WebSocket.OPEN) {
          out.skipped++;
          continue;
        }
        const { action, payload } = next(s);
        inflight.push(
          call(s, action, payload).then((r) => {
            if (!r.ok) out.errors++;
            else {
              out.completed++;
              out.latencies.push(r.us);
            }
          }),
        );
      }
    }, tickMs);
  });
  await Promise.all(inflight);
  return out;
}
