/** Charging and MeterValues: the charging states of a session and its periodic (or triggered) samples. */
import type { ChargingState, MeterReading } from '../model/charging';
import { meterValue16, meterValue201 } from '../model/messages';
import type { Connector, Session, StationCore, StopReason } from './types';

/** Energy starts flowing: schedules the state changes, the samples, the planned stop and a planned outage. */
export function beginCharging(st: StationCore, c: Connector, sess: Session): void {
  if (sess.ended) return;
  const at = st.sched.current;
  sess.chargeAt = at;
  for (const ch of sess.meter.stateChanges) {
    sess.events.push(st.at(at + ch.t * 1000, `state ${c.id}`, () => chargingState(st, c, sess, ch.state)));
  }
  sess.events.push(st.at(at + st.sampleIntervalMs(), `sample ${c.id}`, () => sample(st, c, sess)));
  const stopAt = at + (sess.meter.endSecond + sess.planned.idleSeconds) * 1000;
  const reason: StopReason = sess.planned.stopBy === 'unplug' ? 'EVDisconnected' : 'Local';
  sess.events.push(st.at(stopAt, `stop ${c.id}`, () => st.stopTransaction(c, sess, reason)));
  const off = sess.planned.offline;
  if (off && !sess.remote)
    sess.events.push(st.at(at + off.atChargingSecond * 1000, `offline`, () => st.goOffline(off.seconds)));
}

export function reading(sess: Session, at: number): MeterReading | undefined {
  if (sess.chargeAt === undefined) return undefined;
  return sess.meter.at(Math.max(0, Math.floor((at - sess.chargeAt) / 1000)));
}

/** 1.6 reports a charging state as the connector status, 2.0.1 as a TransactionEvent. */
export function chargingState(st: StationCore, c: Connector, sess: Session, state: ChargingState): void {
  if (sess.ended || sess.state === state) return;
  sess.state = state;
  const at = st.sched.current;
  if (st.v16) st.setStatus(c, state, at);
  else st.txEvent(c, sess, at, 'Updated', 'ChargingStateChanged', { chargingState: state });
}

export function meterSample(
  st: StationCore,
  c: Connector,
  sess: Session,
  at: number,
  context: 'Sample.Periodic' | 'Trigger',
): void {
  const r = reading(sess, at);
  const registerWh = sess.meterStartWh + (r?.energyWh ?? 0);
  const s = { registerWh, reading: r, phases: sess.planned.charging.phases };
  if (st.v16) {
    const mv = meterValue16(st.ts(at), s, context);
    void st.send(
      'MeterValues',
      () =>
        sess.transactionId === undefined
          ? { connectorId: c.id, meterValue: [mv] }
          : { connectorId: c.id, transactionId: sess.transactionId as number, meterValue: [mv] },
      'tx',
    );
  } else {
    st.txEvent(c, sess, at, 'Updated', context === 'Trigger' ? 'Trigger' : 'MeterValuePeriodic', {
      meter: [meterValue201(st.ts(at), s, context)],
    });
  }
}

function sample(st: StationCore, c: Connector, sess: Session): void {
  if (sess.ended) return;
  const at = st.sched.current;
  meterSample(st, c, sess, at, 'Sample.Periodic');
  sess.events.push(st.at(at + st.sampleIntervalMs(), `sample ${c.id}`, () => sample(st, c, sess)));
}
