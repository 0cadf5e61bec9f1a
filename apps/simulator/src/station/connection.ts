/** The connection: connecting with back-off, what a close does to the outbox, and the message log. */
import { RPCClient } from 'ocpp-rpc';
import { afterConnect } from './boot';
import { registerCommands } from './commands';
import type { Outgoing, StationCore } from './types';

/** ocpp-rpc's typings make every client option required; the library fills in the ones not given. */
type ClientOptions = ConstructorParameters<typeof RPCClient>[0];

export async function connectLoop(st: StationCore): Promise<void> {
  while (!st.stopped) {
    const wait = st.clock.realDelay(st.offlineUntil);
    if (wait > 0) {
      await sleepReal(st, wait);
      continue;
    }
    const options: Partial<ClientOptions> = {
      identity: st.id,
      endpoint: st.cfg.url.replace(/\/+$/, ''),
      protocols: [st.protocol],
      password: st.cfg.password ?? null,
      reconnect: false,
      callTimeoutMs: st.cfg.callTimeoutMs,
      pingIntervalMs: 0,
      strictMode: st.cfg.strict,
    };
    const client = new RPCClient(options as ClientOptions);
    attachLog(st, client);
    registerCommands(st, client);
    st.emit({ kind: 'connecting', detail: { attempt: st.connectAttempts + 1 } });
    try {
      await client.connect();
    } catch (err) {
      st.connectAttempts++;
      st.summary.connectFailures++;
      const delay = backoffDelay(st, st.connectAttempts);
      st.emit({ kind: 'connect-failed', detail: { error: (err as Error).message, retryInMs: delay } });
      await sleepReal(st, delay);
      continue;
    }
    if (st.stopped) {
      await client.close({ force: true }).catch(() => undefined);
      return;
    }
    st.connectAttempts = 0;
    if (st.connectedOnce) st.summary.reconnects++;
    st.connectedOnce = true;
    st.client = client;
    client.once('close', () => onClose(st, client));
    st.emit({ kind: 'connected' });
    try {
      await afterConnect(st, client);
    } catch (err) {
      if (st.client === client) {
        st.error(`after connect: ${(err as Error).message}`);
        void client.close({ force: true }).catch(() => undefined);
      }
    }
    return;
  }
}

function backoffDelay(st: StationCore, attempt: number): number {
  const b = st.cfg.backoff;
  const base = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, attempt - 1));
  return Math.max(0, Math.round(base * (1 + b.jitter * (2 * st.backoffRng.next() - 1))));
}

function sleepReal(st: StationCore, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      st.wakeConnect = undefined;
      resolve();
    }, ms);
    st.wakeConnect = () => {
      clearTimeout(t);
      st.wakeConnect = undefined;
      resolve();
    };
  });
}

function onClose(st: StationCore, client: RPCClient): void {
  if (st.client !== client) return;
  st.client = undefined;
  st.online = false;
  st.pendingActions.clear();
  // only what must survive an outage stays queued: transaction messages and status notifications
  const keep: Outgoing[] = [];
  for (const o of st.outbox) {
    if (o.kind === 'other') o.resolve(undefined);
    else keep.push(o);
  }
  st.outbox = keep;
  st.emit({ kind: 'disconnected', detail: { queued: keep.length } });
  if (!st.stopped) void st.connectLoop();
}

function attachLog(st: StationCore, client: RPCClient): void {
  client.on('message', ({ message, outbound }: { message: string; outbound: boolean }) => {
    let frame: unknown;
    try {
      frame = JSON.parse(message);
    } catch {
      return;
    }
    if (!Array.isArray(frame)) return;
    const [type, messageId] = frame as [number, string];
    const direction = outbound ? 'out' : 'in';
    if (outbound) st.summary.messagesSent++;
    else st.summary.messagesReceived++;
    if (type === 2) {
      const action = frame[2] as string;
      st.pendingActions.set(messageId, action);
      st.emit({ kind: 'message', direction, frame: 'call', messageId, action, payload: frame[3] });
    } else {
      const action = st.pendingActions.get(messageId);
      st.pendingActions.delete(messageId);
      if (type === 3) st.emit({ kind: 'message', direction, frame: 'result', messageId, action, payload: frame[2] });
      else
        st.emit({
          kind: 'message',
          direction,
          frame: 'error',
          messageId,
          action,
          payload: { code: frame[2], description: frame[3], details: frame[4] },
        });
    }
  });
  client.on('strictValidationFailure', (e: { method?: string; error?: Error; outbound?: boolean }) => {
    st.error(
      `schema validation failed (${e.outbound ? 'outbound' : 'inbound'} ${e.method ?? ''}): ${e.error?.message ?? ''}`,
    );
  });
}
