/** BootNotification (and its retries), the heartbeat, and the reboot a reset causes. */
import type { RPCClient } from 'ocpp-rpc';
import type { V16, V201 } from '@csms/ocpp';
import { bootNotification16, bootNotification201, statusNotification16, type Identity } from '../model/messages';
import { drained } from './outbox';
import type { StationCore, StopReason } from './types';

/** After a connection opens: boot when needed (then report every connector), then start or resume the plan. */
export async function afterConnect(st: StationCore, client: RPCClient): Promise<void> {
  if (st.needBoot) {
    for (;;) {
      const payload = st.v16 ? bootNotification16(st.identity()) : bootNotification201(st.identity(), st.bootReason);
      const res = (await client.call('BootNotification', payload)) as
        V16.BootNotificationResponse | V201.BootNotificationResponse;
      if (res.interval > 0) st.setHeartbeat(res.interval);
      if (res.status === 'Accepted' || (res.status === 'Pending' && st.cfg.onPending === 'proceed')) break;
      // Pending / Rejected: try again after the interval (1.6 §4.2, 2.0.1 B02/B03)
      const retryMs = Math.min(Math.max(res.interval || 10, 1) * 1000, 60_000);
      await new Promise((r) => setTimeout(r, retryMs));
      if (st.client !== client) throw new Error('connection closed during boot');
    }
    st.needBoot = false;
    st.rebooting = false;
    st.emit({ kind: 'booted', detail: { reason: st.bootReason } });
    const at = Math.max(st.bootAt, st.sched.current);
    if (st.v16) await client.call('StatusNotification', statusNotification16(0, 'Available', st.clock.iso(at)));
    for (const c of st.connectors) await client.call('StatusNotification', st.statusPayload(c, at));
  }
  if (st.client !== client) return;
  st.online = true;
  if (!st.booted) {
    st.booted = true;
    for (const c of st.connectors) st.scheduleNext(c, 0);
    st.scheduleHeartbeat();
    st.sched.start();
  }
  void st.pump();
  st.checkDone();
}

export function identity(st: StationCore): Identity {
  const id = st.cfg.identity ?? {};
  return {
    vendor: id.vendor ?? 'CSMS-Sim',
    model: id.model ?? `Sim-${st.connectors.length}x${Math.round(st.cfg.shape.maxPowerW[1] / 1000)}kW`,
    serialNumber: id.serialNumber ?? st.id.slice(-25),
    firmwareVersion: st.firmwareVersion,
  };
}

export function setHeartbeat(st: StationCore, seconds: number): void {
  st.heartbeatSeconds = seconds;
  st.config.get('HeartbeatInterval')!.value = String(seconds);
  if (st.booted) st.scheduleHeartbeat();
}

export function scheduleHeartbeat(st: StationCore): void {
  st.sched.cancel(st.heartbeatEvent);
  if (!(st.heartbeatSeconds > 0)) return;
  const every = Math.max(st.heartbeatSeconds * 1000, Math.ceil(st.cfg.minHeartbeatRealMs * st.clock.speed));
  const next = (Math.floor(st.sched.current / every) + 1) * every;
  st.heartbeatEvent = st.at(next, 'heartbeat', () => {
    void st.send('Heartbeat', () => ({}), 'other');
    st.scheduleHeartbeat();
  });
}

/** A reset: running transactions stop, plugged-in sessions give up, and the station boots again after rebootSeconds. */
export function reboot(st: StationCore, reason: StopReason): void {
  if (st.rebooting) return;
  st.rebooting = true;
  const at = st.sched.current;
  st.emit({ kind: 'reboot', detail: { reason } });
  for (const c of st.connectors) {
    const s = c.session;
    if (!s) continue;
    if (s.txStarted && !s.ended) st.stopTransaction(c, s, reason);
    else if (!s.txStarted && !s.ended) {
      // plugged in, not yet started: the driver gives up and unplugs
      for (const e of s.events) st.sched.cancel(e);
      s.ended = true;
      st.at(at + s.planned.unplugAfterStopSeconds * 1000, `unplug ${c.id}`, () => st.unplug(c, s));
    }
  }
  st.needBoot = true;
  st.bootReason = 'RemoteReset';
  st.bootAt = at + st.cfg.rebootSeconds * 1000;
  void drained(st, 10_000).then(() => {
    st.offlineUntil = Math.max(st.offlineUntil, st.bootAt);
    const c = st.client;
    if (c) void c.close({ code: 1012, reason: 'reset' }).catch(() => undefined);
    else st.wakeConnect?.();
  });
}
