/** A connector playing its plan: plug-in, unplug, the connector freed, planned faults and recovery. */
import { ChargingMeter } from '../model/charging';
import { problemEvent201 } from '../model/messages';
import type { PlannedFault, PlannedSession } from '../model/plan';
import type { Connector, Session, StationCore } from './types';

/** Schedules the connector's next planned session, when it is free. */
export function scheduleNext(st: StationCore, c: Connector, from: number): void {
  if (c.session || c.nextEvent || c.faulted) return;
  const s = c.plan.sessions[c.next];
  if (!s) {
    st.checkDone();
    return;
  }
  c.nextEvent = st.at(from + s.gapSeconds * 1000, `plug-in ${c.id}`, () => {
    c.nextEvent = undefined;
    if (c.session || !c.operative || c.faulted) return; // picked up again when the connector is free
    c.next++;
    plugIn(st, c, s, false);
  });
}

export function plugIn(
  st: StationCore,
  c: Connector,
  s: PlannedSession,
  remote: boolean,
  remoteStartId?: number,
): Session {
  const at = st.sched.current;
  const sess: Session = {
    record: { connectorId: c.id, n: s.n, remote, idTag: s.idTag, startedAt: st.ts(at), meterStartWh: c.registerWh },
    planned: s,
    remote,
    remoteStartId,
    meter: new ChargingMeter(s.charging),
    meterStartWh: c.registerWh,
    txStarted: false,
    ended: false,
    seqNo: 0,
    state: 'EVConnected',
    events: [],
  };
  c.session = sess;
  st.setStatus(c, 'Preparing', at);
  if (!remote)
    sess.events.push(st.at(at + s.plugToAuthSeconds * 1000, `authorize ${c.id}`, () => st.authorize(c, sess)));
  return sess;
}

export function unplug(st: StationCore, c: Connector, sess: Session): void {
  if (c.session !== sess) return;
  const at = st.sched.current;
  st.setStatus(c, 'Available', at);
  freeConnector(st, c, sess, at);
}

/** The session leaves the connector: a pending availability change or reset applies, then the next fault or session. */
export function freeConnector(st: StationCore, c: Connector, sess: Session, at: number): void {
  if (c.session !== sess) return;
  c.session = undefined;
  if (c.pendingOperative !== undefined) {
    c.operative = c.pendingOperative;
    c.pendingOperative = undefined;
    if (!c.operative) st.setStatus(c, 'Unavailable', at);
  }
  if (st.pendingReset && st.connectors.every((x) => !x.session)) {
    st.pendingReset = false;
    st.at(at, 'reset', () => st.reboot('ImmediateReset'));
  }
  const fault = sess.remote ? undefined : sess.planned.faultAfter;
  if (fault) scheduleFault(st, c, fault, at);
  else scheduleNext(st, c, at);
}

function scheduleFault(st: StationCore, c: Connector, f: PlannedFault, from: number): void {
  c.nextEvent = st.at(from + f.afterSeconds * 1000, `fault ${c.id}`, () => {
    c.nextEvent = undefined;
    if (c.session) return scheduleNext(st, c, st.sched.current);
    const at = st.sched.current;
    c.faulted = true;
    st.emit({ kind: 'fault', detail: { connectorId: c.id, errorCode: f.errorCode, seconds: f.seconds } });
    st.setStatus(c, 'Faulted', at, f.errorCode);
    if (!st.v16)
      void st.send('NotifyEvent', () => problemEvent201(c.id, ++st.eventIds, st.ts(at), true, f.errorCode), 'status');
    c.nextEvent = st.at(at + f.seconds * 1000, `recover ${c.id}`, () => {
      c.nextEvent = undefined;
      const t = st.sched.current;
      c.faulted = false;
      st.setStatus(c, c.operative ? 'Available' : 'Unavailable', t);
      if (!st.v16)
        void st.send('NotifyEvent', () => problemEvent201(c.id, ++st.eventIds, st.ts(t), false, f.errorCode), 'status');
      scheduleNext(st, c, t);
    });
  });
}
