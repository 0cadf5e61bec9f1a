import type { V16 } from '@csms/ocpp';
import { OcppNormaliseError } from '../errors';
import type { ChargingState, ConnectorStatus, IdToken } from '../events';
import { normaliseSample16, samplesOf } from '../meter';
import { arr, int, obj, oneOf, optInt, optStr, str, type Unchecked } from '../read';
import { at, defined, diagnostics, firmware, optAt, security, stampedBy, stampedByNewest } from './common';
import { noFact, type Draft, type FactInput, type StationActionTable } from './declaration';

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

const STATUS_16 = [
  'Available',
  'Preparing',
  'Charging',
  'SuspendedEVSE',
  'SuspendedEV',
  'Finishing',
  'Reserved',
  'Unavailable',
  'Faulted',
] as const;
const BOOT_DETAILS = ['chargeBoxSerialNumber', 'iccid', 'imsi', 'meterType', 'meterSerialNumber'] as const;

function bootNotification({ payload: p, record }: FactInput<V16.BootNotificationRequest>): Draft[] {
  const res =
    record.response === undefined ? undefined : obj<V16.BootNotificationResponse>(record.response, 'response');
  const details: Record<string, string> = {};
  for (const k of BOOT_DETAILS) {
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

function statusNotification({ payload: p }: FactInput<V16.StatusNotificationRequest>): Draft[] {
  const status = oneOf(p, 'status', 'payload', STATUS_16);
  const errorCode = str(p, 'errorCode', 'payload');
  const connectorId = int(p, 'connectorId', 'payload');
  const when = optAt(p.timestamp, 'payload.timestamp');
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
    out.push(
      defined({
        type: 'fault.reported' as const,
        ...when,
        connectorId,
        origin: 'status' as const,
        errorCode,
        ...common,
      }),
    );
  }
  return out;
}

function idTag(p: Unchecked<{ idTag?: string }>): IdToken | undefined {
  const v = optStr(p, 'idTag', 'payload');
  return v === undefined ? undefined : { idToken: v, type: 'ocpp1.6-idTag' };
}

function startTransaction({ payload: p, record }: FactInput<V16.StartTransactionRequest>): Draft[] {
  if (record.response === undefined) {
    throw new OcppNormaliseError(
      'MISSING_TRANSACTION_ID',
      'StartTransaction without the response carrying the transactionId',
      'response',
    );
  }
  const res = obj<V16.StartTransactionResponse>(record.response, 'response');
  const transactionId = int(res, 'transactionId', 'response');
  const info =
    res.idTagInfo === undefined
      ? undefined
      : obj<V16.StartTransactionResponse['idTagInfo']>(res.idTagInfo, 'response.idTagInfo');
  return [
    defined({
      type: 'transaction.started' as const,
      ...at(p.timestamp, 'payload.timestamp'),
      transactionId: String(transactionId),
      connectorId: int(p, 'connectorId', 'payload'),
      idToken: idTag(p),
      meterStartWh: String(int(p, 'meterStart', 'payload')),
      reservationId: optInt(p, 'reservationId', 'payload'),
      authorizationStatus: info && optStr(info, 'status', 'response.idTagInfo'),
    }),
  ];
}

function meterDrafts(list: unknown[], path: string, base: { connectorId?: number; transactionId?: string }): Draft[] {
  return list.map((mv, i) => {
    const { timestamp, samples } = samplesOf(mv, `${path}[${i}]`, normaliseSample16);
    return defined({ type: 'meter.sampled' as const, ...at(timestamp, `${path}[${i}].timestamp`), ...base, samples });
  });
}

function meterValues({ payload: p }: FactInput<V16.MeterValuesRequest>): Draft[] {
  const tx = optInt(p, 'transactionId', 'payload');
  return stampedByNewest(
    meterDrafts(arr(p.meterValue, 'payload.meterValue'), 'payload.meterValue', {
      connectorId: int(p, 'connectorId', 'payload'),
      transactionId: tx === undefined ? undefined : String(tx),
    }),
  );
}

function stopTransaction({ payload: p }: FactInput<V16.StopTransactionRequest>): Draft[] {
  const transactionId = String(int(p, 'transactionId', 'payload'));
  const data = p.transactionData === undefined ? [] : arr(p.transactionData, 'payload.transactionData');
  const when = at(p.timestamp, 'payload.timestamp');
  return [
    ...stampedBy(meterDrafts(data, 'payload.transactionData', { transactionId }), when.occurredAt),
    defined({
      type: 'transaction.ended' as const,
      ...when,
      transactionId,
      meterStopWh: String(int(p, 'meterStop', 'payload')),
      stoppedReason: optStr(p, 'reason', 'payload') ?? 'Local',
      idToken: idTag(p),
    }),
  ];
}

/**
 * OCPP 1.6: every action a charge point sends (core and security whitepaper), declared once: whether the
 * gateway answers it (its handler: apps/ocpp-gateway/src/ocpp/handlers/v16/) and the charger events it
 * states. An action missing here is not a charge point message: the gateway answers it NotImplemented or
 * NotSupported and the normaliser refuses it (UNKNOWN_ACTION).
 */
export const OCPP16_STATION_ACTIONS = {
  BootNotification: { gateway: 'answers', facts: bootNotification },
  Heartbeat: { gateway: 'answers', facts: noFact('liveness only; the gateway answers with its clock') },
  StatusNotification: { gateway: 'answers', facts: statusNotification },
  Authorize: {
    gateway: 'answers',
    facts: noFact('answered from the token registry; the transaction messages carry the token'),
  },
  StartTransaction: { gateway: 'answers', facts: startTransaction },
  StopTransaction: { gateway: 'answers', facts: stopTransaction },
  MeterValues: { gateway: 'answers', facts: meterValues },
  DataTransfer: { gateway: 'answers', facts: noFact('vendor-specific; recorded verbatim, answered UnknownVendorId') },
  DiagnosticsStatusNotification: { gateway: 'answers', facts: diagnostics('diagnostics') },
  FirmwareStatusNotification: { gateway: 'answers', facts: firmware('FirmwareStatusNotification') },
  LogStatusNotification: { gateway: 'notSupported', facts: diagnostics('log') },
  SecurityEventNotification: { gateway: 'notSupported', facts: security },
  SignCertificate: { gateway: 'notSupported', facts: noFact('certificate management, not a charging fact') },
  SignedFirmwareStatusNotification: { gateway: 'notSupported', facts: firmware('SignedFirmwareStatusNotification') },
} as const satisfies StationActionTable<'ocpp1.6'>;
