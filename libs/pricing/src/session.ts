import * as kernel from '@csms/kernel';
import type { TimeZones } from '@csms/kernel';
import * as money from '@csms/money';
import { PricingError, PricingErrorCode } from './errors';
import * as fixed from './fixed';
import { CdrDimensionOut, PERIOD_DIMENSION_TYPES, PeriodDimensionType, PricingSession } from './types';

// Hot-path functions bound once at load (see engine.ts).
const { findCurrency, isDecimalString } = money;
const { formatScaled, hoursFromMs, parseScaled } = fixed;
const { formatUtc, parseRfc3339 } = kernel;

/** A period of the session with its values parsed. Internal to the engine. */
export interface ParsedPeriod {
  readonly index: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly startText: string;
  /** mWh (1e-6 kWh), exact; null when the period has no ENERGY dimension. */
  readonly energy: bigint | null;
  /** Milliseconds, exact; null when absent. */
  readonly time: bigint | null;
  readonly parking: bigint | null;
  readonly reservationTime: bigint | null;
  /** Decimal strings as given (parsed only when a restriction compares them). */
  readonly minCurrent: string | null;
  readonly maxCurrent: string | null;
  readonly minPower: string | null;
  readonly maxPower: string | null;
  readonly isReservation: boolean;
  /** OCPI CDR dimensions in input order: kWh, HOURS (4 decimals, HALF_UP) for time, A, kW. */
  readonly dimensions: CdrDimensionOut[];
}

export interface ParsedSession {
  readonly sessionId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly startText: string;
  readonly endText: string;
  readonly timeZone: string;
  readonly currency: string;
  /** mWh, exact. */
  readonly totalEnergy: bigint;
  readonly expired: boolean;
  readonly periods: readonly ParsedPeriod[];
}

function fail(code: PricingErrorCode, field: string, reason: string): never {
  throw new PricingError(code, field, reason);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function dateTime(v: unknown, field: string): number {
  const ms = typeof v === 'string' ? parseRfc3339(v) : null;
  if (ms === null) fail('PRICING_INVALID_DATE_TIME', field, `must be an RFC 3339 date-time with at most millisecond precision, got ${JSON.stringify(v)}`);
  return ms;
}

/** Field path of a dimension volume, or of a top-level field when period < 0. */
function volumeField(name: string, period: number, dimension: number): string {
  return period < 0 ? name : `charging_periods[${period}].dimensions[${dimension}].volume`;
}

function scaled(v: unknown, decimals: number, name: string, period: number, dimension: number, unit: string): bigint {
  if (typeof v === 'string') {
    const fast = parseScaled(v, decimals);
    if (fast !== null) return fast;
  }
  const field = volumeField(name, period, dimension);
  if (!isDecimalString(v)) fail('PRICING_INVALID_DECIMAL', field, `must be a decimal string such as "12.5", got ${JSON.stringify(v)}`);
  if (v.startsWith('-')) fail('PRICING_INVALID_DECIMAL', field, `must not be negative, got ${v}`);
  const n = parseScaled(v, decimals);
  if (n === null) fail('PRICING_INVALID_DECIMAL', field, `${unit} with at most ${decimals} decimals and 15 significant digits, got ${v}`);
  return n;
}

/** A non-negative plain decimal string ("12", "0.5"): digits, optionally a point and digits. */
function isNonNegativeDecimal(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const n = v.length;
  let i = 0;
  while (i < n && v.charCodeAt(i) >= 48 && v.charCodeAt(i) <= 57) i++;
  if (i === 0) return false;
  if (i === n) return true;
  if (v.charCodeAt(i) !== 46 || i === n - 1) return false;
  for (i++; i < n; i++) if (v.charCodeAt(i) < 48 || v.charCodeAt(i) > 57) return false;
  return true;
}

/**
 * True when a plain decimal string (already validated) is in canonical form: no leading zero
 * before another digit, no trailing zero after the point.
 */
function isCanonical(text: string): boolean {
  if (text.charCodeAt(0) === 48 && text.length > 1 && text.charCodeAt(1) !== 46) return false;
  return text.indexOf('.') < 0 || text.charCodeAt(text.length - 1) !== 48;
}

/** The input text when it already is canonical UTC ("YYYY-MM-DDTHH:MM:SSZ"), else formatUtc. */
function canonicalUtc(text: string, ms: number): string {
  if (text.length === 20 && text.charCodeAt(19) === 90 && text.charCodeAt(10) === 84) return text;
  if (text.length === 24 && text.endsWith('.000Z') && text.charCodeAt(10) === 84) return `${text.slice(0, 19)}Z`;
  return formatUtc(ms);
}

/** Position of a dimension type in PERIOD_DIMENSION_TYPES, -1 when unknown. */
function dimensionIndex(type: unknown): number {
  switch (type) {
    case 'ENERGY':
      return 0;
    case 'TIME':
      return 1;
    case 'PARKING_TIME':
      return 2;
    case 'RESERVATION_TIME':
      return 3;
    case 'MIN_CURRENT':
      return 4;
    case 'MAX_CURRENT':
      return 5;
    case 'MIN_POWER':
      return 6;
    case 'MAX_POWER':
      return 7;
    default:
      return -1;
  }
}

/**
 * Check a PricingSession and parse it. Throws PricingError with a stable code and the field path
 * (e.g. "charging_periods[2].dimensions[0].volume"). `zones` checks the time zone (and caches its formatter).
 */
export function parseSession(input: PricingSession, zones: TimeZones): ParsedSession {
  if (!isObject(input)) fail('PRICING_INVALID_SESSION', '$', 'a session must be an object');
  const s = input as unknown as Record<string, unknown>;
  if (typeof s.session_id !== 'string' || s.session_id.length === 0) fail('PRICING_INVALID_SESSION', 'session_id', 'must be a non-empty string');
  const startMs = dateTime(s.start_date_time, 'start_date_time');
  const endMs = dateTime(s.end_date_time, 'end_date_time');
  if (endMs < startMs) fail('PRICING_INVALID_SESSION', 'end_date_time', 'must not be before start_date_time');
  if (!zones.isValid(s.time_zone)) fail('PRICING_INVALID_TIME_ZONE', 'time_zone', `must be an IANA time zone, got ${JSON.stringify(s.time_zone)}`);
  if (typeof s.currency !== 'string' || !findCurrency(s.currency)) fail('PRICING_INVALID_SESSION', 'currency', `must be an ISO 4217 code, got ${JSON.stringify(s.currency)}`);
  const totalEnergy = scaled(s.total_energy, 6, 'total_energy', -1, -1, 'kWh');
  let expired = false;
  if (s.reservation !== undefined) {
    if (!isObject(s.reservation) || typeof s.reservation.expired !== 'boolean') fail('PRICING_INVALID_SESSION', 'reservation.expired', 'must be a boolean');
    expired = s.reservation.expired;
  }
  const rawPeriods = s.charging_periods;
  if (!Array.isArray(rawPeriods) || rawPeriods.length === 0) fail('PRICING_INVALID_SESSION', 'charging_periods', 'must be a non-empty list');

  const starts: number[] = new Array(rawPeriods.length);
  for (let i = 0; i < rawPeriods.length; i++) {
    const p: unknown = rawPeriods[i];
    if (!isObject(p)) fail('PRICING_INVALID_SESSION', `charging_periods[${i}]`, 'must be an object');
    const v = p.start_date_time;
    // the field path is built only for an error (this runs for every period)
    const ms = typeof v === 'string' ? parseRfc3339(v) : null;
    starts[i] = ms !== null ? ms : dateTime(v, `charging_periods[${i}].start_date_time`);
    if (i > 0 && starts[i] <= starts[i - 1]) {
      fail('PRICING_PERIODS_NOT_ORDERED', `charging_periods[${i}].start_date_time`, 'periods must have strictly increasing start_date_time');
    }
  }
  const periods: ParsedPeriod[] = [];
  for (let i = 0; i < rawPeriods.length; i++) {
    const p = rawPeriods[i] as Record<string, unknown>;
    const pStart = starts[i];
    if (pStart > endMs || (pStart === endMs && i > 0)) fail('PRICING_PERIOD_AFTER_SESSION_END', `charging_periods[${i}].start_date_time`, 'a period must start before the session end_date_time');
    const pEnd = i + 1 < rawPeriods.length ? starts[i + 1] : endMs;
    if (!Array.isArray(p.dimensions)) fail('PRICING_INVALID_SESSION', `charging_periods[${i}].dimensions`, 'must be a list');
    let energy: bigint | null = null;
    let time: bigint | null = null;
    let parking: bigint | null = null;
    let reservationTime: bigint | null = null;
    let minCurrent: string | null = null;
    let maxCurrent: string | null = null;
    let minPower: string | null = null;
    let maxPower: string | null = null;
    let seen = 0;
    const dims: CdrDimensionOut[] = [];
    for (let j = 0; j < p.dimensions.length; j++) {
      const d: unknown = p.dimensions[j];
      if (!isObject(d)) fail('PRICING_INVALID_SESSION', `charging_periods[${i}].dimensions[${j}]`, 'must be an object {type, volume}');
      const type = d.type as PeriodDimensionType;
      const index = dimensionIndex(type);
      if (index < 0) {
        fail('PRICING_INVALID_SESSION', `charging_periods[${i}].dimensions[${j}].type`, `unknown dimension ${JSON.stringify(d.type)}; expected one of ${PERIOD_DIMENSION_TYPES.join(', ')}`);
      }
      const bit = 1 << index;
      if ((seen & bit) !== 0) fail('PRICING_INVALID_SESSION', `charging_periods[${i}].dimensions[${j}].type`, `dimension ${type} appears twice in one period`);
      seen |= bit;
      switch (type) {
        case 'ENERGY':
          energy = scaled(d.volume, 6, '', i, j, 'kWh');
          // A volume already written canonically is its own text (most are): no formatting.
          dims.push({ type, volume: isCanonical(d.volume as string) ? (d.volume as string) : formatScaled(energy, 6) });
          break;
        case 'TIME':
        case 'PARKING_TIME':
        case 'RESERVATION_TIME': {
          const ms = scaled(d.volume, 3, '', i, j, 'seconds');
          if (type === 'TIME') time = ms;
          else if (type === 'PARKING_TIME') parking = ms;
          else reservationTime = ms;
          dims.push({ type, volume: hoursFromMs(ms) });
          break;
        }
        default: {
          const v = d.volume;
          if (!isNonNegativeDecimal(v)) fail('PRICING_INVALID_DECIMAL', volumeField('', i, j), `must be a non-negative decimal string, got ${JSON.stringify(v)}`);
          if (type === 'MIN_CURRENT') minCurrent = v;
          else if (type === 'MAX_CURRENT') maxCurrent = v;
          else if (type === 'MIN_POWER') minPower = v;
          else maxPower = v;
          dims.push({ type, volume: v });
        }
      }
    }
    const isReservation = reservationTime !== null;
    if (isReservation) {
      if (energy !== null || time !== null || parking !== null) {
        fail('PRICING_RESERVATION_MIXED_PERIOD', `charging_periods[${i}].dimensions`, 'a reservation period (RESERVATION_TIME) must not also carry ENERGY, TIME or PARKING_TIME: start a new period when charging starts');
      }
      if (s.reservation === undefined) fail('PRICING_RESERVATION_INFO_MISSING', 'reservation', 'required when a period carries RESERVATION_TIME (was the reservation used or did it expire?)');
    }
    const timeSum = (time ?? 0n) + (parking ?? 0n) + (reservationTime ?? 0n);
    if (timeSum > BigInt(pEnd - pStart)) {
      fail(
        'PRICING_PERIOD_TIME_EXCEEDS_DURATION',
        `charging_periods[${i}].dimensions`,
        `TIME + PARKING_TIME + RESERVATION_TIME (${formatScaled(timeSum, 3)} s) exceed the period's length (${formatScaled(BigInt(pEnd - pStart), 3)} s)`,
      );
    }
    periods.push({
      index: i,
      startMs: pStart,
      endMs: pEnd,
      startText: canonicalUtc(p.start_date_time as string, pStart),
      energy,
      time,
      parking,
      reservationTime,
      minCurrent,
      maxCurrent,
      minPower,
      maxPower,
      isReservation,
      dimensions: dims,
    });
  }
  return {
    sessionId: s.session_id as string,
    startMs,
    endMs,
    startText: canonicalUtc(s.start_date_time as string, startMs),
    endText: canonicalUtc(s.end_date_time as string, endMs),
    timeZone: s.time_zone as string,
    currency: s.currency as string,
    totalEnergy,
    expired,
    periods,
  };
}
