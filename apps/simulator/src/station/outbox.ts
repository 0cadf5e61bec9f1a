/** The ordered outbox: every CALL goes out in order; transaction and status messages wait while offline. */
import { RPCClient } from 'ocpp-rpc';
import type { Kind, StationAction, StationCore, StationRequest, StationResponse } from './types';

/**
 * Sends a CALL in order with everything sent before it. While offline, transaction messages and status
 * notifications wait in the outbox (with their original timestamps); other messages are dropped and
 * resolve to undefined. Resolves to the CSMS's answer, or undefined when there was none.
 */
export function send<A extends StationAction>(
  st: StationCore,
  action: A,
  build: () => StationRequest<A> | undefined,
  kind: Kind,
): Promise<StationResponse<A> | undefined> {
  // the answer is the CSMS's CALLRESULT payload (checked against the action's response schema in strict mode)
  return new Promise<unknown>((resolve) => {
    if (!st.online && kind === 'other') {
      st.emit({ kind: 'dropped', action });
      resolve(undefined);
      return;
    }
    if (!st.online) {
      st.summary.queuedWhileOffline++;
      st.emit({ kind: 'queued', action, detail: { queue: st.outbox.length + 1 } });
    }
    st.outbox.push({ action, build, kind, attempts: 0, resolve });
    void st.pump();
  }) as Promise<StationResponse<A> | undefined>;
}

export async function pump(st: StationCore): Promise<void> {
  if (st.pumping) return;
  st.pumping = true;
  try {
    while (st.online && st.outbox.length && st.client) {
      const item = st.outbox[0];
      const client = st.client;
      const payload = item.build();
      if (payload === undefined) {
        st.outbox.shift();
        item.resolve(undefined);
        continue;
      }
      try {
        const res = await client.call(item.action, payload);
        st.outbox.shift();
        item.resolve(res);
      } catch (err) {
        // connection lost: stays queued (tx/status) for the next connection
        if (!st.online || st.client !== client || client.state !== RPCClient.OPEN) break;
        item.attempts++;
        const attempts = Number(st.config.get('TransactionMessageAttempts')?.value ?? 3);
        st.error(`${item.action} failed (attempt ${item.attempts}): ${(err as Error).message}`);
        if (item.kind === 'tx' && item.attempts < attempts) {
          await new Promise((r) => setTimeout(r, Math.min(st.cfg.backoff.initialMs, 5_000)));
          continue;
        }
        st.outbox.shift();
        item.resolve(undefined);
      }
    }
  } finally {
    st.pumping = false;
  }
  if (st.online && st.outbox.length && st.client) void st.pump();
  else st.checkDone();
}

/** Waits (real time, at most maxMs) until the outbox is empty or the station is offline. */
export async function drained(st: StationCore, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (st.outbox.length && st.online && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
