/** Transactions: 1.6 StartTransaction / StopTransaction, 2.0.1 TransactionEvent, and what a CSMS refusal does. */
import type { V16, V201 } from '@csms/ocpp';
import { idToken201, meterValue16, meterValue201 } from '../model/messages';
import { freeConnector } from './sessions';
import type { MeterSigner } from './signing';
import type { Connector, Session, StationCore, StopReason, TxEventOptions, TxTrigger } from './types';

export function startTransaction(st: StationCore, c: Connector, sess: Session, trigger: TxTrigger): void {
  const at = st.sched.current;
  sess.txStarted = true;
  sess.startAt = at;
  sess.meterStartWh = c.registerWh;
  sess.record.meterStartWh = c.registerWh;
  sess.record.startedAt = st.ts(at);
  st.summary.sessionsStarted++;
  st.summary.sessions.push(sess.record);
  const idTag = sess.planned.idTag;
  const signer = st.cfg.signer;
  if (signer) {
    sess.signedBegin = signer.sign({
      tx: 'B',
      registerWh: sess.meterStartWh,
      at: st.ts(at),
      idTag,
      connectorId: c.id,
      tamper: false,
    });
  }
  if (st.v16) {
    const payload: V16.StartTransactionRequest = {
      connectorId: c.id,
      idTag,
      meterStart: sess.meterStartWh,
      timestamp: st.ts(at),
    };
    void st
      .send('StartTransaction', () => payload, 'tx')
      .then((res) => {
        if (!res) return;
        sess.transactionId = res.transactionId;
        sess.record.transactionId = res.transactionId;
        st.emit({ kind: 'session-started', detail: { connectorId: c.id, transactionId: res.transactionId, idTag } });
        if (res.idTagInfo.status !== 'Accepted') deauthorize(st, c, sess);
      });
  } else {
    const txId = `${st.cfg.runTag}-${c.id}-${st.summary.sessionsStarted}`;
    sess.transactionId = txId;
    sess.record.transactionId = txId;
    txEvent(st, c, sess, at, 'Started', trigger, {
      chargingState: 'EVConnected',
      ...(sess.remoteStartId !== undefined ? { remoteStartId: sess.remoteStartId } : {}),
      extra: {
        idToken: idToken201(idTag),
        evse: { id: c.id, connectorId: 1 },
        numberOfPhasesUsed: sess.planned.charging.phases,
      },
      meter: [
        signed201(
          meterValue201(
            st.ts(at),
            { registerWh: sess.meterStartWh, phases: sess.planned.charging.phases },
            'Transaction.Begin',
            false,
          ),
          signer,
          sess.signedBegin,
        ),
      ],
    });
    st.emit({ kind: 'session-started', detail: { connectorId: c.id, transactionId: txId, idTag } });
  }
  sess.events.push(
    st.at(at + sess.planned.authToChargeSeconds * 1000, `charge ${c.id}`, () => st.beginCharging(c, sess)),
  );
}

/** A 2.0.1 TransactionEvent (seqNo counted per transaction; `offline` when sent from the outbox). */
export function txEvent(
  st: StationCore,
  c: Connector,
  sess: Session,
  at: number,
  eventType: V201.TransactionEventRequest['eventType'],
  triggerReason: V201.TriggerReasonEnumType,
  o: TxEventOptions,
): Promise<V201.TransactionEventResponse | undefined> {
  const offline = !st.online;
  const payload: V201.TransactionEventRequest = {
    eventType,
    timestamp: st.ts(at),
    triggerReason,
    seqNo: sess.seqNo++,
    ...(offline ? { offline: true } : {}),
    transactionInfo: {
      transactionId: String(sess.transactionId),
      ...(o.chargingState ? { chargingState: o.chargingState } : {}),
      ...(o.timeSpentCharging !== undefined ? { timeSpentCharging: o.timeSpentCharging } : {}),
      ...(o.stoppedReason ? { stoppedReason: o.stoppedReason } : {}),
      ...(o.remoteStartId !== undefined ? { remoteStartId: o.remoteStartId } : {}),
    },
    ...(o.meter ? { meterValue: o.meter as [V201.MeterValueType, ...V201.MeterValueType[]] } : {}),
    ...(o.extra ?? {}),
  };
  const p = st.send('TransactionEvent', () => payload, 'tx');
  if (eventType !== 'Ended') {
    void p.then((res) => {
      if (res?.idTokenInfo && res.idTokenInfo.status !== 'Accepted') deauthorize(st, c, sess);
    });
  }
  return p;
}

/** The CSMS refused the tag of a running transaction: it stops (DeAuthorized). */
function deauthorize(st: StationCore, c: Connector, sess: Session): void {
  if (sess.ended) return;
  st.at(st.now(), `deauthorize ${c.id}`, () => stopTransaction(st, c, sess, 'DeAuthorized'));
}

const STOP_201: Record<StopReason, [V201.TriggerReasonEnumType, V201.ReasonEnumType]> = {
  Local: ['StopAuthorized', 'Local'],
  EVDisconnected: ['EVCommunicationLost', 'EVDisconnected'],
  Remote: ['RemoteStop', 'Remote'],
  DeAuthorized: ['Deauthorized', 'DeAuthorized'],
  SoftReset: ['ResetCommand', 'Reboot'],
  HardReset: ['ResetCommand', 'ImmediateReset'],
  ImmediateReset: ['ResetCommand', 'ImmediateReset'],
  UnlockCommand: ['UnlockCommand', 'Other'],
};

export function stopTransaction(st: StationCore, c: Connector, sess: Session, reason: StopReason): void {
  if (sess.ended || c.session !== sess) return;
  sess.ended = true;
  for (const e of sess.events) st.sched.cancel(e);
  sess.events = [];
  const at = st.sched.current;
  const reading = st.reading(sess, at);
  const meterStop = sess.meterStartWh + (reading?.energyWh ?? 0);
  c.registerWh = meterStop;
  const unplugged = reason === 'EVDisconnected';
  Object.assign(sess.record, {
    endedAt: st.ts(at),
    meterStopWh: meterStop,
    energyWh: meterStop - sess.meterStartWh,
    stopReason: reason,
  });
  const idTag = sess.planned.idTag;
  const signer = st.cfg.signer;
  const signedEnd = signer?.sign({
    tx: 'E',
    registerWh: meterStop,
    at: st.ts(at),
    idTag,
    connectorId: c.id,
    tamper: signer.tampers(c.id, sess.record.n),
  });
  if (st.v16) {
    const startTs = st.ts(sess.startAt ?? at);
    const phases = sess.planned.charging.phases;
    const reason16 = reason === 'ImmediateReset' ? 'HardReset' : reason;
    const build = (): V16.StopTransactionRequest | undefined =>
      sess.transactionId === undefined
        ? undefined
        : {
            transactionId: sess.transactionId as number,
            ...(reason === 'Local' ? { idTag } : {}),
            meterStop,
            timestamp: st.ts(at),
            reason: reason16,
            transactionData: [
              signed16(
                meterValue16(startTs, { registerWh: sess.meterStartWh, phases }, 'Transaction.Begin', false),
                signer,
                sess.signedBegin,
                'Transaction.Begin',
              ),
              signed16(
                meterValue16(st.ts(at), { registerWh: meterStop, phases }, 'Transaction.End', false),
                signer,
                signedEnd,
                'Transaction.End',
              ),
            ],
          };
    void st.send('StopTransaction', build, 'tx');
    st.setStatus(c, unplugged ? 'Available' : 'Finishing', at);
  } else {
    const [trigger, stoppedReason] = STOP_201[reason];
    txEvent(st, c, sess, at, 'Ended', trigger, {
      chargingState: unplugged ? 'Idle' : 'EVConnected',
      stoppedReason,
      timeSpentCharging: reading?.chargingSeconds ?? 0,
      meter: [
        signed201(
          meterValue201(
            st.ts(at),
            { registerWh: meterStop, phases: sess.planned.charging.phases },
            'Transaction.End',
            false,
          ),
          signer,
          signedEnd,
        ),
      ],
      extra: reason === 'Local' ? { idToken: idToken201(idTag) } : {},
    });
    if (unplugged) st.setStatus(c, 'Available', at);
  }
  st.summary.sessionsCompleted++;
  st.summary.energyWh += meterStop - sess.meterStartWh;
  st.emit({
    kind: 'session-ended',
    detail: { connectorId: c.id, transactionId: sess.transactionId, reason, energyWh: meterStop - sess.meterStartWh },
  });
  if (unplugged) freeConnector(st, c, sess, at);
  else st.at(at + sess.planned.unplugAfterStopSeconds * 1000, `unplug ${c.id}`, () => st.unplug(c, sess));
}

/** 1.6: the signed record next to the raw register reading, as a `format: SignedData` sampled value. */
function signed16(
  mv: V16.MeterValuesRequest['meterValue'][number],
  signer: MeterSigner | undefined,
  record: string | undefined,
  context: 'Transaction.Begin' | 'Transaction.End',
): V16.MeterValuesRequest['meterValue'][number] {
  if (!signer || record === undefined) return mv;
  return { ...mv, sampledValue: [...mv.sampledValue, signer.sampledValue16(record, context)] } as typeof mv;
}

/** 2.0.1: the signed record on the energy register's sampled value (`signedMeterValue`). */
function signed201(
  mv: V201.MeterValueType,
  signer: MeterSigner | undefined,
  record: string | undefined,
): V201.MeterValueType {
  if (!signer || record === undefined) return mv;
  const [register, ...rest] = mv.sampledValue;
  return { ...mv, sampledValue: [{ ...register, signedMeterValue: signer.signedMeterValue201(record) }, ...rest] };
}
