/**
 * OCPP payloads the simulated stations send, built from meter readings. Pure (timestamps are inputs),
 * typed with the generated OCPP types; the unit tests check them against the official schemas.
 */
import type { V16, V16SampledValue, V201 } from '@csms/ocpp';
import { deciToDecimal, type MeterReading } from './charging';

export type Context16 = NonNullable<V16SampledValue['context']>;
export type Context201 = NonNullable<V201.SampledValueType['context']>;

const PHASES = ['L1', 'L2', 'L3'] as const;

/** What a sample reports: the register (absolute Wh), power, per-phase current, SoC. */
export interface Sample {
  registerWh: number;
  reading?: MeterReading;
  phases: 1 | 3;
}

/** 1.6 sampled values: Energy.Active.Import.Register (Wh, integer), Power.Active.Import, Current.Import per phase, SoC. */
export function sampledValues16(s: Sample, context: Context16, full = true): V16SampledValue[] {
  const out: V16SampledValue[] = [
    {
      value: String(s.registerWh),
      context,
      format: 'Raw',
      measurand: 'Energy.Active.Import.Register',
      location: 'Outlet',
      unit: 'Wh',
    },
  ];
  if (!full || !s.reading) return out;
  out.push({
    value: String(s.reading.powerW),
    context,
    format: 'Raw',
    measurand: 'Power.Active.Import',
    location: 'Outlet',
    unit: 'W',
  });
  for (let i = 0; i < s.phases; i++) {
    out.push({
      value: deciToDecimal(s.reading.currentDeciA),
      context,
      format: 'Raw',
      measurand: 'Current.Import',
      phase: PHASES[i],
      location: 'Outlet',
      unit: 'A',
    });
  }
  out.push({
    value: String(s.reading.socPct),
    context,
    format: 'Raw',
    measurand: 'SoC',
    location: 'EV',
    unit: 'Percent',
  });
  return out;
}

export function meterValue16(
  timestamp: string,
  s: Sample,
  context: Context16,
  full = true,
): V16.MeterValuesRequest['meterValue'][number] {
  const sv = sampledValues16(s, context, full);
  return {
    timestamp,
    sampledValue: sv as [V16SampledValue, ...V16SampledValue[]],
  } as V16.MeterValuesRequest['meterValue'][number];
}

export function sampledValues201(s: Sample, context: Context201, full = true): V201.SampledValueType[] {
  const out: V201.SampledValueType[] = [
    {
      value: s.registerWh,
      context,
      measurand: 'Energy.Active.Import.Register',
      location: 'Outlet',
      unitOfMeasure: { unit: 'Wh' },
    },
  ];
  if (!full || !s.reading) return out;
  out.push({
    value: s.reading.powerW,
    context,
    measurand: 'Power.Active.Import',
    location: 'Outlet',
    unitOfMeasure: { unit: 'W' },
  });
  for (let i = 0; i < s.phases; i++) {
    out.push({
      value: s.reading.currentDeciA / 10,
      context,
      measurand: 'Current.Import',
      phase: PHASES[i],
      location: 'Outlet',
      unitOfMeasure: { unit: 'A' },
    });
  }
  out.push({ value: s.reading.socPct, context, measurand: 'SoC', location: 'EV', unitOfMeasure: { unit: 'Percent' } });
  return out;
}

export function meterValue201(timestamp: string, s: Sample, context: Context201, full = true): V201.MeterValueType {
  const sv = sampledValues201(s, context, full);
  return { timestamp, sampledValue: sv as [V201.SampledValueType, ...V201.SampledValueType[]] };
}

export interface Identity {
  vendor: string;
  model: string;
  serialNumber: string;
  firmwareVersion: string;
}

export function bootNotification16(id: Identity): V16.BootNotificationRequest {
  return {
    chargePointVendor: id.vendor,
    chargePointModel: id.model,
    chargePointSerialNumber: id.serialNumber,
    firmwareVersion: id.firmwareVersion,
  };
}

export function bootNotification201(id: Identity, reason: V201.BootReasonEnumType): V201.BootNotificationRequest {
  return {
    reason,
    chargingStation: {
      vendorName: id.vendor,
      model: id.model,
      serialNumber: id.serialNumber,
      firmwareVersion: id.firmwareVersion,
    },
  };
}

export type Status16 = V16.StatusNotificationRequest['status'];
export type ErrorCode16 = V16.StatusNotificationRequest['errorCode'];
export type Status201 = V201.StatusNotificationRequest['connectorStatus'];

export function statusNotification16(
  connectorId: number,
  status: Status16,
  timestamp: string,
  errorCode: ErrorCode16 = 'NoError',
): V16.StatusNotificationRequest {
  return { connectorId, errorCode, status, timestamp };
}

export function statusNotification201(
  evseId: number,
  status: Status201,
  timestamp: string,
): V201.StatusNotificationRequest {
  return { timestamp, connectorStatus: status, evseId, connectorId: 1 };
}

/** 2.0.1 NotifyEvent for a connector problem (raised or cleared): what the normaliser reads as a fault. */
export function problemEvent201(
  evseId: number,
  eventId: number,
  timestamp: string,
  raised: boolean,
  techCode: string,
): V201.NotifyEventRequest {
  return {
    generatedAt: timestamp,
    seqNo: 0,
    eventData: [
      {
        eventId,
        timestamp,
        trigger: 'Delta',
        actualValue: raised ? 'true' : 'false',
        techCode,
        ...(raised ? {} : { cleared: true }),
        eventNotificationType: 'HardWiredNotification',
        component: { name: 'Connector', evse: { id: evseId, connectorId: 1 } },
        variable: { name: 'Problem' },
      },
    ],
  } as V201.NotifyEventRequest;
}

export function idToken201(idTag: string, type: V201.IdTokenEnumType = 'ISO14443'): V201.IdTokenType {
  return { idToken: idTag, type };
}

export function stripUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
