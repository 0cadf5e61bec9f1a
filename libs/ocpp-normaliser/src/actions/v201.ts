import type { V201 } from '@csms/ocpp';
import type { IdToken, TransactionEventInfo } from '../events';
import { CHARGING_STATES } from '../events';
import { normaliseSample201, registerWh, samplesOf } from '../meter';
import { arr, int, obj, oneOf, optBool, optInt, optOneOf, optStr, str } from '../read';
import { at, defined, diagnostics, firmware, security, stampedBy, stampedByNewest } from './common';
import { noFact, type Draft, type FactInput, type StationActionTable } from './declaration';

const STATUS_201 = ['Available', 'Occupied', 'Reserved', 'Unavailable', 'Faulted'] as const;
const MODEM_DETAILS = ['iccid', 'imsi'] as const;

function bootNotification({ payload: p, record }: FactInput<V201.BootNotificationRequest>): Draft[] {
  const cs = obj<V201.ChargingStationType>(p.chargingStation, 'payload.chargingStation');
  const res =
    record.response === undefined ? undefined : obj<V201.BootNotificationResponse>(record.response, 'response');
  const details: Record<string, string> = {};
  if (cs.modem !== undefined) {
    const m = obj<V201.ModemType>(cs.modem, 'payload.chargingStation.modem');
    for (const k of MODEM_DETAILS) {
      const v = optStr(m, k, 'payload.chargingStation.modem');
      if (v !== undefined) details[k] = v;
    }
  }
  return [
    defined({
      type: 'station.booted' as const,
      vendor: str(cs, 'vendorName', 'payload.chargingStation'),
      model: str(cs, 'model', 'payload.chargingStation'),
      serialNumber: optStr(cs, 'serialNumber', 'payload.chargingStation'),
      firmwareVersion: optStr(cs, 'firmwareVersion', 'payload.chargingStation'),
      bootReason: str(p, 'reason', 'payload'),
      registrationStatus: res && optStr(res, 'status', 'response'),
      heartbeatIntervalSeconds: res && optInt(res, 'interval', 'response'),
      details,
    }),
  ];
}

function statusNotification({ payload: p }: FactInput<V201.StatusNotificationRequest>): Draft[] {
  const status = oneOf(p, 'connectorStatus', 'payload', STATUS_201);
  const when = at(p.timestamp, 'payload.timestamp');
  const evseId = int(p, 'evseId', 'payload');
  const connectorId = int(p, 'connectorId', 'payload');
  const out: Draft[] = [{ type: 'connector.status.changed', ...when, evseId, connectorId, status }];
  if (status === 'Faulted')
    out.push({ type: 'fault.reported', ...when, evseId, connectorId, origin: 'status', errorCode: 'Faulted' });
  return out;
}

function idToken(v: unknown, path: string): IdToken | undefined {
  if (v === undefined) return undefined;
  const o = obj<V201.IdTokenType>(v, path);
  return { idToken: str(o, 'idToken', path), type: str(o, 'type', path) };
}

function transactionEvent({ payload: p }: FactInput<V201.TransactionEventRequest>): Draft[] {
  const eventType = oneOf(p, 'eventType', 'payload', ['Started', 'Updated', 'Ended'] as const);
  const when = at(p.timestamp, 'payload.timestamp');
  const info = obj<V201.TransactionType>(p.transactionInfo, 'payload.transactionInfo');
  const transactionId = str(info, 'transactionId', 'payload.transactionInfo');
  const chargingState = optOneOf(info, 'chargingState', 'payload.transactionInfo', CHARGING_STATES);
  const tx: TransactionEventInfo = defined({
    eventType,
    seqNo: int(p, 'seqNo', 'payload'),
    triggerReason: str(p, 'triggerReason', 'payload'),
    offline: optBool(p, 'offline', 'payload') ?? false,
    numberOfPhasesUsed: optInt(p, 'numberOfPhasesUsed', 'payload'),
    timeSpentChargingSeconds: optInt(info, 'timeSpentCharging', 'payload.transactionInfo'),
  });
  const where: { evseId?: number; connectorId?: number } = {};
  if (p.evse !== undefined) {
    const e = obj<V201.EVSEType>(p.evse, 'payload.evse');
    where.evseId = int(e, 'id', 'payload.evse');
    const c = optInt(e, 'connectorId', 'payload.evse');
    if (c !== undefined) where.connectorId = c;
  }
  const token = idToken(p.idToken, 'payload.idToken');
  const meter = p.meterValue === undefined ? [] : arr(p.meterValue, 'payload.meterValue');
  const sampled = meter.map((mv, i) => {
    const { timestamp, samples } = samplesOf(mv, `payload.meterValue[${i}]`, normaliseSample201);
    return { ...at(timestamp, `payload.meterValue[${i}].timestamp`), samples };
  });
  const meterDrafts: Draft[] = stampedBy(
    sampled.map((s) => ({ type: 'meter.sampled', ...s, transactionId, ...where, tx })),
    when.occurredAt,
  );
  const stateDraft: Draft[] = chargingState
    ? [{ type: 'charging.state.changed', ...when, transactionId, ...where, chargingState, tx }]
    : [];
  const all = sampled.flatMap((s) => s.samples);

  if (eventType === 'Started') {
    return [
      defined({
        type: 'transaction.started' as const,
        ...when,
        transactionId,
        ...where,
        idToken: token,
        meterStartWh: registerWh(all, 'Transaction.Begin'),
        reservationId: optInt(p, 'reservationId', 'payload'),
        remoteStartId: optInt(info, 'remoteStartId', 'payload.transactionInfo'),
        chargingState,
        tx,
      }),
      ...stateDraft,
      ...meterDrafts,
    ];
  }
  if (eventType === 'Ended') {
    return [
      ...meterDrafts,
      ...stateDraft,
      defined({
        type: 'transaction.ended' as const,
        ...when,
        transactionId,
        ...where,
        meterStopWh: registerWh(all, 'Transaction.End'),
        stoppedReason: optStr(info, 'stoppedReason', 'payload.transactionInfo') ?? 'Local',
        idToken: token,
        tx,
      }),
    ];
  }
  const updates = [...stateDraft, ...meterDrafts];
  if (updates.length > 0 && token === undefined) return updates;
  return [
    ...updates,
    defined({ type: 'transaction.updated' as const, ...when, transactionId, ...where, idToken: token, tx }),
  ];
}

/** Variables whose monitoring events are alarms (Problem includes Fault, per the 2.0.1 device model). */
const ALARM_VARIABLES = new Set(['Problem', 'Tripped', 'Overload', 'Fallback']);

function notifyEvent({ payload: p }: FactInput<V201.NotifyEventRequest>): Draft[] {
  const data = arr(p.eventData, 'payload.eventData');
  const out: Draft[] = [];
  data.forEach((d, i) => {
    const path = `payload.eventData[${i}]`;
    const e = obj<V201.EventDataType>(d, path);
    const trigger = str(e, 'trigger', path);
    const component = obj<V201.ComponentType>(e.component, `${path}.component`);
    const variable = obj<V201.VariableType>(e.variable, `${path}.variable`);
    const variableName = str(variable, 'name', `${path}.variable`);
    if (trigger !== 'Alerting' && !ALARM_VARIABLES.has(variableName)) return;
    const evse =
      component.evse === undefined ? undefined : obj<V201.EVSEType>(component.evse, `${path}.component.evse`);
    out.push(
      defined({
        type: 'fault.reported' as const,
        ...at(e.timestamp, `${path}.timestamp`),
        evseId: evse && int(evse, 'id', `${path}.component.evse`),
        connectorId: evse && optInt(evse, 'connectorId', `${path}.component.evse`),
        origin: 'monitoring' as const,
        component: str(component, 'name', `${path}.component`),
        variable: variableName,
        trigger,
        actualValue: str(e, 'actualValue', path),
        techCode: optStr(e, 'techCode', path),
        techInfo: optStr(e, 'techInfo', path),
        cleared: optBool(e, 'cleared', path),
      }),
    );
  });
  return out;
}

function meterValues({ payload: p }: FactInput<V201.MeterValuesRequest>): Draft[] {
  const evseId = int(p, 'evseId', 'payload');
  return stampedByNewest(
    arr(p.meterValue, 'payload.meterValue').map((mv, i) => {
      const { timestamp, samples } = samplesOf(mv, `payload.meterValue[${i}]`, normaliseSample201);
      return { type: 'meter.sampled', ...at(timestamp, `payload.meterValue[${i}].timestamp`), evseId, samples };
    }),
  );
}

const REPORT = 'a report or request of the device model, charging limits or certificates, not a charging fact';

/**
 * OCPP 2.0.1: every action a charging station sends, declared once: whether the gateway answers it (its
 * handler: apps/ocpp-gateway/src/ocpp/handlers/v201/) and the charger events it states. An action missing
 * here is not a charging station message: the gateway answers it NotImplemented or NotSupported and the
 * normaliser refuses it (UNKNOWN_ACTION).
 */
export const OCPP201_STATION_ACTIONS = {
  BootNotification: { gateway: 'answers', facts: bootNotification },
  Heartbeat: { gateway: 'answers', facts: noFact('liveness only; the gateway answers with its clock') },
  StatusNotification: { gateway: 'answers', facts: statusNotification },
  Authorize: {
    gateway: 'answers',
    facts: noFact('answered from the token registry; TransactionEvent carries the token'),
  },
  TransactionEvent: { gateway: 'answers', facts: transactionEvent },
  MeterValues: { gateway: 'answers', facts: meterValues },
  NotifyEvent: { gateway: 'answers', facts: notifyEvent },
  SecurityEventNotification: { gateway: 'answers', facts: security },
  FirmwareStatusNotification: { gateway: 'answers', facts: firmware('FirmwareStatusNotification') },
  LogStatusNotification: { gateway: 'answers', facts: diagnostics('log') },
  NotifyReport: { gateway: 'answers', facts: noFact(REPORT) },
  DataTransfer: { gateway: 'answers', facts: noFact('vendor-specific; recorded verbatim, answered UnknownVendorId') },
  ClearedChargingLimit: { gateway: 'notSupported', facts: noFact(REPORT) },
  Get15118EVCertificate: { gateway: 'notSupported', facts: noFact(REPORT) },
  GetCertificateStatus: { gateway: 'notSupported', facts: noFact(REPORT) },
  NotifyChargingLimit: { gateway: 'notSupported', facts: noFact(REPORT) },
  NotifyCustomerInformation: { gateway: 'notSupported', facts: noFact(REPORT) },
  NotifyDisplayMessages: { gateway: 'notSupported', facts: noFact(REPORT) },
  NotifyEVChargingNeeds: { gateway: 'notSupported', facts: noFact(REPORT) },
  NotifyEVChargingSchedule: { gateway: 'notSupported', facts: noFact(REPORT) },
  NotifyMonitoringReport: { gateway: 'notSupported', facts: noFact(REPORT) },
  PublishFirmwareStatusNotification: { gateway: 'notSupported', facts: firmware('PublishFirmwareStatusNotification') },
  ReportChargingProfiles: { gateway: 'notSupported', facts: noFact(REPORT) },
  ReservationStatusUpdate: { gateway: 'notSupported', facts: noFact(REPORT) },
  SignCertificate: { gateway: 'notSupported', facts: noFact(REPORT) },
} as const satisfies StationActionTable<'ocpp2.0.1'>;
