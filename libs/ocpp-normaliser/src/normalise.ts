import { parse as uuidParse, v5 as uuidv5 } from 'uuid';
import { OcppNormaliseError } from './errors';
import type {
  ChargerEvent,
  ChargerEventSource,
  ChargingState,
  ConnectorStatus,
  EventQualityFlag,
  IdToken,
  OcppProtocol,
  TransactionEventInfo,
} from './events';
import { CHARGING_STATES } from './events';
import type { OcppInboundRecord, SourceIdentity } from './inbound-record';
import { normaliseSample16, normaliseSample201, registerWh, samplesOf } from './meter';
import { arr, instantAt, int, obj, oneOf, optBool, optInt, optOneOf, optStr, str, type Obj } from './read';

/** Namespace of the charger-event ids: uuidv5(`${source.eventId}#${index}`, CHARGER_EVENT_NAMESPACE). */
export const CHARGER_EVENT_NAMESPACE = '6f1c3a52-8d0e-5b7a-9c41-2f6e0d9b7a13';
const CHARGER_EVENT_NS = uuidParse(CHARGER_EVENT_NAMESPACE);

export type NormaliseResult =
  | { ok: true; events: ChargerEvent[]; /** why the record gives no events, when it gives none on purpose */ ignored?: string }
  | { ok: false; error: OcppNormaliseError };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Draft = DistributiveOmit<ChargerEvent, 'eventId' | 'stationId' | 'protocol' | 'receivedAt' | 'source' | 'occurredAt' | 'flags'> & {
  occurredAt?: string;
  flags?: EventQualityFlag[];
};

interface Ctx {
  record: OcppInboundRecord;
  source: ChargerEventSource;
  receivedAt: string;
  payload: Obj;
}

/** 1.6 actions a charge point sends that carry no charger event (answered by the gateway, or not billing facts). */
const IGNORED_16 = new Set(['Authorize', 'Heartbeat', 'DataTransfer', 'SignCertificate']);
const IGNORED_201 = new Set([
  'Authorize',
  'Heartbeat',
  'DataTransfer',
  'SignCertificate',
  'ClearedChargingLimit',
  'Get15118EVCertificate',
  'GetCertificateStatus',
  'NotifyChargingLimit',
  'NotifyCustomerInformation',
  'NotifyDisplayMessages',
  'NotifyEVChargingNeeds',
  'NotifyEVChargingSchedule',
  'NotifyMonitoringReport',
  'NotifyReport',
  'ReportChargingProfiles',
  'ReservationStatusUpdate',
]);

/**
 * Maps one raw inbound record to the charger events it states. Pure and deterministic: the same record
 * and source always give the same events with the same ids. Never throws: invalid input is an error
 * result with a stable code.
 */
export function normalise(record: OcppInboundRecord, source: SourceIdentity): NormaliseResult {
  try {
    return normaliseOrThrow(record, source);
  } catch (e: unknown) {
    if (e instanceof OcppNormaliseError) return { ok: false, error: e };
    return { ok: false, error: new OcppNormaliseError('INVALID_RECORD', e instanceof Error ? e.message : String(e)) };
  }
}

/** As normalise, but throws OcppNormaliseError. */
export function normaliseOrThrow(record: OcppInboundRecord, source: SourceIdentity): NormaliseResult & { ok: true } {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new OcppNormaliseError('INVALID_RECORD', 'the inbound record must be an object', 'record');
  }
  const r = record as unknown as Obj;
  const stationId = str(r, 'stationId', 'record');
  if (r.protocol !== 'ocpp1.6' && r.protocol !== 'ocpp2.0.1') {
    throw new OcppNormaliseError('UNSUPPORTED_PROTOCOL', `unsupported protocol ${String(r.protocol)}`, 'record.protocol');
  }
  const src = obj(source, 'source');
  str(src, 'eventId', 'source');
  const receivedAt = instantAt(r.receivedAt, 'record.receivedAt').iso;
  const kind = oneOf(r, 'kind', 'record', ['call', 'callresult', 'callerror', 'connected', 'disconnected', 'rejected'] as const);
  const provenance: ChargerEventSource = {
    eventId: source.eventId,
    connectionId: str(r, 'connectionId', 'record'),
    gatewayInstance: str(r, 'gatewayInstance', 'record'),
  };
  if (source.topic !== undefined) provenance.topic = source.topic;
  if (source.partition !== undefined) provenance.partition = source.partition;
  if (source.offset !== undefined) provenance.offset = source.offset;
  if (record.messageId !== undefined) provenance.messageId = record.messageId;
  if (record.action !== undefined) provenance.action = record.action;

  let drafts: Draft[];
  let ignored: string | undefined;
  if (kind === 'connected') drafts = [{ type: 'station.connected' }];
  else if (kind === 'disconnected') drafts = [{ type: 'station.disconnected', ...(record.reason !== undefined ? { reason: record.reason } : {}) }];
  else if (kind !== 'call') {
    // Results of CSMS-initiated calls (reset, remote start, ...) are command outcomes, not charger facts;
    // a frame the gateway rejected (answered with a CALLERROR) is kept in the log for audit, and is no fact either.
    drafts = [];
    ignored = `${kind} records carry no charger event`;
  } else {
    const action = str(r, 'action', 'record');
    const ignoredSet = r.protocol === 'ocpp1.6' ? IGNORED_16 : IGNORED_201;
    const ctx: Ctx = { record, source: provenance, receivedAt, payload: obj(r.payload, 'payload') };
    if (ignoredSet.has(action)) {
      drafts = [];
      ignored = `${action} carries no charger event`;
    } else {
      const handler = (r.protocol === 'ocpp1.6' ? HANDLERS_16 : HANDLERS_201)[action];
      if (!handler) throw new OcppNormaliseError('UNKNOWN_ACTION', `${r.protocol} action ${action} is not a charge point message`, 'record.action');
      drafts = handler(ctx);
    }
  }

  const events = drafts.map((d, i): ChargerEvent => {
    const { occurredAt, flags, ...rest } = d;
    const e = {
      ...rest,
      eventId: uuidv5(`${source.eventId}#${i}`, CHARGER_EVENT_NS),
      stationId,
      protocol: r.protocol as OcppProtocol,
      occurredAt: occurredAt ?? receivedAt,
      receivedAt,
      source: provenance,
    } as ChargerEvent;
    if (occurredAt === undefined) e.occurredAtIsReceiveTime = true;
    if (flags && flags.length > 0) e.flags = flags;
    return e;
  });
  return ignored === undefined ? { ok: true, events } : { ok: true, events, ignored };
}

// ---------------------------------------------------------------------------------------------------------
// helpers

function at(value: unknown, path: string): { occurredAt: string; flags?: EventQualityFlag[] } {
  const p = instantAt(value, path);
  return p.offsetMissing ? { occurredAt: p.iso, flags: ['TIMESTAMP_WITHOUT_OFFSET'] } : { occurredAt: p.iso };
}

function optAt(o: Obj, key: string, path: string): { occurredAt?: string; flags?: EventQualityFlag[] } {
  return o[key] === undefined ? {} : at(o[key], `${path}.${key}`);
}

/**
 * Marks the events of one message whose own time differs from the message's timestamp with `messageAt`
 * (samples inside a message keep their sample time; delivery delay is judged by the message's).
 */
function stampedBy(drafts: Draft[], messageAt: string): Draft[] {
  for (const d of drafts) if (d.occurredAt !== undefined && d.occurredAt !== messageAt) d.messageAt = messageAt;
  return drafts;
}

/** MeterValues carry no timestamp of their own: the newest sample stands for the message's (canonical ISO strings sort by time). */
function stampedByNewest(drafts: Draft[]): Draft[] {
  let newest: string | undefined;
  for (const d of drafts) if (d.occurredAt !== undefined && (newest === undefined || d.occurredAt > newest)) newest = d.occurredAt;
  return newest === undefined ? drafts : stampedBy(drafts, newest);
}

/** A copy without the undefined fields (built by adding, never `delete`: deleting makes V8 objects slow). */
function defined<T extends Obj>(o: T): T {
  const out: Obj = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out as T;
}

/**
 * Charging state implied by a 1.6 connector status. Preparing/Finishing mean "EV connected, no energy
 * requested"; Available means unplugged. Reserved/Unavailable/Faulted imply nothing about the EV.
 */
export function chargingStateFrom16Status(status: ConnectorStatus): ChargingState | undefined {
  switch (status) {
    case 'Charging':
      return 'Charging';
    case 'SuspendedEV':
      return 'SuspendedEV';
    case 'SuspendedEVSE':
      return 'SuspendedEVSE';
    case 'Preparing':
    case 'Finishing':
      return 'EVConnected';
    case 'Available':
      return 'Idle';
    default:
      return undefined;
  }
}

const STATUS_16 = ['Available', 'Preparing', 'Charging', 'SuspendedEVSE', 'SuspendedEV', 'Finishing', 'Reserved', 'Unavailable', 'Faulted'] as const;
const STATUS_201 = ['Available', 'Occupied', 'Reserved', 'Unavailable', 'Faulted'] as const;

// ---------------------------------------------------------------------------------------------------------
// OCPP 1.6

type Handler = (ctx: Ctx) => Draft[];

function boot16({ payload: p, record }: Ctx): Draft[] {
  const res = record.response === undefined ? undefined : obj(record.response, 'response');
  const details: Record<string, string> = {};
  for (const k of ['chargeBoxSerialNumber', 'iccid', 'imsi', 'meterType', 'meterSerialNumber']) {
    const v = optStr(p, k, 'payload');
    if (v !== undefined) details[k] = v;
  }
  return [
    defined({
      type: 'station.booted' as const,
      vendor: str(p, 'chargePointVendor', 'payload'),
      model: str(p, 'chargePointModel', 'payload'),
      serialNumber: optStr(p, 'chargePointSerialNumber', 'payload'),
      firmwareVersion: optStr(p, 'firmwareVersion', 'payload'),
      registrationStatus: res && optStr(res, 'status', 'response'),
      heartbeatIntervalSeconds: res && optInt(res, 'interval', 'response'),
      details,
    }),
  ];
}

function status16({ payload: p }: Ctx): Draft[] {
  const status = oneOf(p, 'status', 'payload', STATUS_16);
  const errorCode = str(p, 'errorCode', 'payload');
  const connectorId = int(p, 'connectorId', 'payload');
  const when = optAt(p, 'timestamp', 'payload');
  const common = defined({
    info: optStr(p, 'info', 'payload'),
    vendorId: optStr(p, 'vendorId', 'payload'),
    vendorErrorCode: optStr(p, 'vendorErrorCode', 'payload'),
  });
  const out: Draft[] = [
    defined({
      type: 'connector.status.changed' as const,
      ...when,
      connectorId,
      status,
      chargingState: chargingStateFrom16Status(status),
      errorCode,
      ...common,
    }),
  ];
  if (errorCode !== 'NoError' || status === 'Faulted') {
    out.push(defined({ type: 'fault.reported' as const, ...when, connectorId, origin: 'status' as const, errorCode, ...common }));
  }
  return out;
}

function idTag16(p: Obj, key: string): IdToken | undefined {
  const v = optStr(p, key, 'payload');
  return v === undefined ? undefined : { idToken: v, type: 'ocpp1.6-idTag' };
}

function startTransaction16({ payload: p, record }: Ctx): Draft[] {
  if (record.response === undefined) {
    throw new OcppNormaliseError('MISSING_TRANSACTION_ID', 'StartTransaction without the response carrying the transactionId', 'response');
  }
  const res = obj(record.response, 'response');
  const transactionId = int(res, 'transactionId', 'response');
  const info = res.idTagInfo === undefined ? undefined : obj(res.idTagInfo, 'response.idTagInfo');
  return [
    defined({
      type: 'transaction.started' as const,
      ...at(p.timestamp, 'payload.timestamp'),
      transactionId: String(transactionId),
      connectorId: int(p, 'connectorId', 'payload'),
      idToken: idTag16(p, 'idTag'),
      meterStartWh: String(int(p, 'meterStart', 'payload')),
      reservationId: optInt(p, 'reservationId', 'payload'),
      authorizationStatus: info && optStr(info, 'status', 'response.idTagInfo'),
    }),
  ];
}

function meterDrafts16(list: unknown[], path: string, base: Obj): Draft[] {
  return list.map((mv, i) => {
    const { timestamp, samples } = samplesOf(mv, `${path}[${i}]`, normaliseSample16);
    return defined({ type: 'meter.sampled' as const, ...at(timestamp, `${path}[${i}].timestamp`), ...base, samples });
  });
}

function meterValues16({ payload: p }: Ctx): Draft[] {
  const tx = optInt(p, 'transactionId', 'payload');
  return stampedByNewest(
    meterDrafts16(arr(p.meterValue, 'payload.meterValue'), 'payload.meterValue', {
      connectorId: int(p, 'connectorId', 'payload'),
      transactionId: tx === undefined ? undefined : String(tx),
    }),
  );
}

function stopTransaction16({ payload: p }: Ctx): Draft[] {
  const transactionId = String(int(p, 'transactionId', 'payload'));
  const data = p.transactionData === undefined ? [] : arr(p.transactionData, 'payload.transactionData');
  const when = at(p.timestamp, 'payload.timestamp');
  return [
    ...stampedBy(meterDrafts16(data, 'payload.transactionData', { transactionId }), when.occurredAt),
    defined({
      type: 'transaction.ended' as const,
      ...when,
      transactionId,
      meterStopWh: String(int(p, 'meterStop', 'payload')),
      stoppedReason: optStr(p, 'reason', 'payload') ?? 'Local',
      idToken: idTag16(p, 'idTag'),
    }),
  ];
}

function firmware(origin: string): Handler {
  return ({ payload: p, record }) => [
    defined({
      type: 'firmware.status.reported' as const,
      status: str(p, 'status', 'payload'),
      requestId: optInt(p, 'requestId', 'payload'),
      origin: origin || (record.action as string),
    }),
  ];
}

function diagnostics(kind: 'diagnostics' | 'log'): Handler {
  return ({ payload: p }) => [
    defined({ type: 'diagnostics.status.reported' as const, kind, status: str(p, 'status', 'payload'), requestId: optInt(p, 'requestId', 'payload') }),
  ];
}

function security({ payload: p }: Ctx): Draft[] {
  return [
    defined({
      type: 'security.event.reported' as const,
      ...at(p.timestamp, 'payload.timestamp'),
      securityEventType: str(p, 'type', 'payload'),
      techInfo: optStr(p, 'techInfo', 'payload'),
    }),
  ];
}

const HANDLERS_16: Record<string, Handler> = {
  BootNotification: boot16,
  StatusNotification: status16,
  StartTransaction: startTransaction16,
  MeterValues: meterValues16,
  StopTransaction: stopTransaction16,
  FirmwareStatusNotification: firmware('FirmwareStatusNotification'),
  SignedFirmwareStatusNotification: firmware('SignedFirmwareStatusNotification'),
  DiagnosticsStatusNotification: diagnostics('diagnostics'),
  LogStatusNotification: diagnostics('log'),
  SecurityEventNotification: security,
};

// ---------------------------------------------------------------------------------------------------------
// OCPP 2.0.1

function boot201({ payload: p, record }: Ctx): Draft[] {
  const cs = obj(p.chargingStation, 'payload.chargingStation');
  const res = record.response === undefined ? undefined : obj(record.response, 'response');
  const details: Record<string, string> = {};
  if (cs.modem !== undefined) {
    const m = obj(cs.modem, 'payload.chargingStation.modem');
    for (const k of ['iccid', 'imsi']) {
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

function status201({ payload: p }: Ctx): Draft[] {
  const status = oneOf(p, 'connectorStatus', 'payload', STATUS_201);
  const when = at(p.timestamp, 'payload.timestamp');
  const evseId = int(p, 'evseId', 'payload');
  const connectorId = int(p, 'connectorId', 'payload');
  const out: Draft[] = [{ type: 'connector.status.changed', ...when, evseId, connectorId, status }];
  if (status === 'Faulted') out.push({ type: 'fault.reported', ...when, evseId, connectorId, origin: 'status', errorCode: 'Faulted' });
  return out;
}

function idToken201(v: unknown, path: string): IdToken | undefined {
  if (v === undefined) return undefined;
  const o = obj(v, path);
  return { idToken: str(o, 'idToken', path), type: str(o, 'type', path) };
}

function transactionEvent201({ payload: p }: Ctx): Draft[] {
  const eventType = oneOf(p, 'eventType', 'payload', ['Started', 'Updated', 'Ended'] as const);
  const when = at(p.timestamp, 'payload.timestamp');
  const info = obj(p.transactionInfo, 'payload.transactionInfo');
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
  const where: Obj = {};
  if (p.evse !== undefined) {
    const e = obj(p.evse, 'payload.evse');
    where.evseId = int(e, 'id', 'payload.evse');
    const c = optInt(e, 'connectorId', 'payload.evse');
    if (c !== undefined) where.connectorId = c;
  }
  const idToken = idToken201(p.idToken, 'payload.idToken');
  const meter = p.meterValue === undefined ? [] : arr(p.meterValue, 'payload.meterValue');
  const sampled = meter.map((mv, i) => {
    const { timestamp, samples } = samplesOf(mv, `payload.meterValue[${i}]`, normaliseSample201);
    return { ...at(timestamp, `payload.meterValue[${i}].timestamp`), samples };
  });
  const meterDrafts: Draft[] = stampedBy(
    sampled.map((s) => ({ type: 'meter.sampled', ...s, transactionId, ...where, tx })),
    when.occurredAt,
  );
  const stateDraft: Draft[] = chargingState ? [{ type: 'charging.state.changed', ...when, transactionId, ...where, chargingState, tx }] : [];
  const all = sampled.flatMap((s) => s.samples);

  if (eventType === 'Started') {
    return [
      defined({
        type: 'transaction.started' as const,
        ...when,
        transactionId,
        ...where,
        idToken,
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
        idToken,
        tx,
      }),
    ];
  }
  const updates = [...stateDraft, ...meterDrafts];
  if (updates.length > 0 && idToken === undefined) return updates;
  return [...updates, defined({ type: 'transaction.updated' as const, ...when, transactionId, ...where, idToken, tx })];
}

/** Variables whose monitoring events are alarms (Problem includes Fault, per the 2.0.1 device model). */
const ALARM_VARIABLES = new Set(['Problem', 'Tripped', 'Overload', 'Fallback']);

function notifyEvent201({ payload: p }: Ctx): Draft[] {
  const data = arr(p.eventData, 'payload.eventData');
  const out: Draft[] = [];
  data.forEach((d, i) => {
    const path = `payload.eventData[${i}]`;
    const e = obj(d, path);
    const trigger = str(e, 'trigger', path);
    const component = obj(e.component, `${path}.component`);
    const variable = obj(e.variable, `${path}.variable`);
    const variableName = str(variable, 'name', `${path}.variable`);
    if (trigger !== 'Alerting' && !ALARM_VARIABLES.has(variableName)) return;
    const evse = component.evse === undefined ? undefined : obj(component.evse, `${path}.component.evse`);
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

function meterValues201({ payload: p }: Ctx): Draft[] {
  const evseId = int(p, 'evseId', 'payload');
  return stampedByNewest(
    arr(p.meterValue, 'payload.meterValue').map((mv, i) => {
      const { timestamp, samples } = samplesOf(mv, `payload.meterValue[${i}]`, normaliseSample201);
      return { type: 'meter.sampled', ...at(timestamp, `payload.meterValue[${i}].timestamp`), evseId, samples };
    }),
  );
}

const HANDLERS_201: Record<string, Handler> = {
  BootNotification: boot201,
  StatusNotification: status201,
  TransactionEvent: transactionEvent201,
  MeterValues: meterValues201,
  NotifyEvent: notifyEvent201,
  FirmwareStatusNotification: firmware('FirmwareStatusNotification'),
  PublishFirmwareStatusNotification: firmware('PublishFirmwareStatusNotification'),
  LogStatusNotification: diagnostics('log'),
  SecurityEventNotification: security,
};
