import * as kernel from '@csms/kernel';
import type { TimeZones } from '@csms/kernel';
import * as money from '@csms/money';
import { PricingError, PricingErrorCode } from './errors';
import type {
  CdrDimensionOut,
  PeriodDimensionType,
  PricingDimension,
  PricingInput,
  PricingPeriod,
  PricingSession,
} from './types';
import { PERIOD_DIMENSION_TYPES } from './types';

// Hot-path functions bound once at load (see engine.ts).
const { findCurrency } = money;
const {
  formatScaled,
  formatUtc,
  hoursFromMs,
  isCanonicalDecimal,
  isDecimalString,
  isNonNegativeDecimal,
  parseRfc3339,
  parseScaled,
  pow10,
} = kernel;

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
  if (ms === null)
    fail(
      'PRICING_INVALID_DATE_TIME',
      field,
      `must be an RFC 3339 date-time with at most millisecond precision, got ${JSON.stringify(v)}`,
    );
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
  if (!isDecimalString(v))
    fail('PRICING_INVALID_DECIMAL', field, `must be a decimal string such as "12.5", got ${JSON.stringify(v)}`);
  if (v.startsWith('-')) fail('PRICING_INVALID_DECIMAL', field, `must not be negative, got ${v}`);
  const n = parseScaled(v, decimals);
  if (n === null)
    fail(
      'PRICING_INVALID_DECIMAL',
      field,
      `${unit} with at most ${decimals} decimals and 15 significant digits, got ${v}`,
    );
  return n;
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

/** The bit of a dimension type (its position in PERIOD_DIMENSION_TYPES); fails on an unknown type or one already `seen`. */
function dimensionBit(type: unknown, seen: number, i: number, j: number): number {
  const index = dimensionIndex(type);
  if (index < 0) {
    fail(
      'PRICING_INVALID_SESSION',
      `charging_periods[${i}].dimensions[${j}].type`,
      `unknown dimension ${JSON.stringify(type)}; expected one of ${PERIOD_DIMENSION_TYPES.join(', ')}`,
    );
  }
  const bit = 1 << index;
  if ((seen & bit) !== 0)
    fail(
      'PRICING_INVALID_SESSION',
      `charging_periods[${i}].dimensions[${j}].type`,
      `dimension ${String(type)} appears twice in one period`,
    );
  return bit;
}

/** The checks on a whole period: reservation periods carry nothing else, and time fits in the period. */
function checkPeriod(
  i: number,
  pStart: number,
  pEnd: number,
  energy: bigint | null,
  time: bigint | null,
  parking: bigint | null,
  reservationTime: bigint | null,
  hasReservation: boolean,
): void {
  if (reservationTime !== null) {
    if (energy !== null || time !== null || parking !== null) {
      fail(
        'PRICING_RESERVATION_MIXED_PERIOD',
        `charging_periods[${i}].dimensions`,
        'a reservation period (RESERVATION_TIME) must not also carry ENERGY, TIME or PARKING_TIME: start a new period when charging starts',
      );
    }
    if (!hasReservation)
      fail(
        'PRICING_RESERVATION_INFO_MISSING',
        'reservation',
        'required when a period carries RESERVATION_TIME (was the reservation used or did it expire?)',
      );
  }
  const timeSum = (time ?? 0n) + (parking ?? 0n) + (reservationTime ?? 0n);
  if (timeSum > BigInt(pEnd - pStart)) {
    fail(
      'PRICING_PERIOD_TIME_EXCEEDS_DURATION',
      `charging_periods[${i}].dimensions`,
      `TIME + PARKING_TIME + RESERVATION_TIME (${formatScaled(timeSum, 3)} s) exceed the period's length (${formatScaled(BigInt(pEnd - pStart), 3)} s)`,
    );
  }
}

/** What a period's dimensions state, filled one dimension at a time by either parser (text form or PricingInput). */
interface PeriodValues {
  energy: bigint | null;
  time: bigint | null;
  parking: bigint | null;
  reservationTime: bigint | null;
  minCurrent: string | null;
  maxCurrent: string | null;
  minPower: string | null;
  maxPower: string | null;
  readonly dims: CdrDimensionOut[];
}

const noPeriodValues = (): PeriodValues => ({
  energy: null,
  time: null,
  parking: null,
  reservationTime: null,
  minCurrent: null,
  maxCurrent: null,
  minPower: null,
  maxPower: null,
  dims: [],
});

/** A TIME, PARKING_TIME or RESERVATION_TIME dimension of `ms` milliseconds (OCPI hours in the CDR). */
function addTime(v: PeriodValues, type: PeriodDimensionType, ms: bigint): void {
  if (type === 'TIME') v.time = ms;
  else if (type === 'PARKING_TIME') v.parking = ms;
  else v.reservationTime = ms;
  v.dims.push({ type, volume: hoursFromMs(ms) });
}

/** A MIN/MAX_CURRENT or MIN/MAX_POWER dimension: a non-negative decimal string, kept as given. */
function addLimit(v: PeriodValues, type: PeriodDimensionType, value: unknown, i: number, j: number): void {
  if (!isNonNegativeDecimal(value))
    fail(
      'PRICING_INVALID_DECIMAL',
      volumeField('', i, j),
      `must be a non-negative decimal string, got ${JSON.stringify(value)}`,
    );
  if (type === 'MIN_CURRENT') v.minCurrent = value;
  else if (type === 'MAX_CURRENT') v.maxCurrent = value;
  else if (type === 'MIN_POWER') v.minPower = value;
  else v.maxPower = value;
  v.dims.push({ type, volume: value });
}

/** The period, once its dimensions are read: the whole-period checks, then the parsed period. */
function periodOf(
  v: PeriodValues,
  i: number,
  pStart: number,
  pEnd: number,
  startText: string,
  hasReservation: boolean,
): ParsedPeriod {
  checkPeriod(i, pStart, pEnd, v.energy, v.time, v.parking, v.reservationTime, hasReservation);
  return {
    index: i,
    startMs: pStart,
    endMs: pEnd,
    startText,
    energy: v.energy,
    time: v.time,
    parking: v.parking,
    reservationTime: v.reservationTime,
    minCurrent: v.minCurrent,
    maxCurrent: v.maxCurrent,
    minPower: v.minPower,
    maxPower: v.maxPower,
    isReservation: v.reservationTime !== null,
    dimensions: v.dims,
  };
}

/** Fails unless `ms` starts a period at or before the session end (only the first may start at it). */
function checkPeriodStart(pStart: number, endMs: number, i: number): void {
  if (pStart > endMs || (pStart === endMs && i > 0))
    fail(
      'PRICING_PERIOD_AFTER_SESSION_END',
      `charging_periods[${i}].start_date_time`,
      'a period must start before the session end_date_time',
    );
}

function checkHeader(
  sessionId: unknown,
  startMs: number,
  endMs: number,
  timeZone: unknown,
  currency: unknown,
  zones: TimeZones,
): void {
  if (typeof sessionId !== 'string' || sessionId.length === 0)
    fail('PRICING_INVALID_SESSION', 'session_id', 'must be a non-empty string');
  if (endMs < startMs) fail('PRICING_INVALID_SESSION', 'end_date_time', 'must not be before start_date_time');
  if (!zones.isValid(timeZone))
    fail('PRICING_INVALID_TIME_ZONE', 'time_zone', `must be an IANA time zone, got ${JSON.stringify(timeZone)}`);
  if (typeof currency !== 'string' || !findCurrency(currency))
    fail('PRICING_INVALID_SESSION', 'currency', `must be an ISO 4217 code, got ${JSON.stringify(currency)}`);
}

function reservationExpired(reservation: unknown): boolean {
  if (reservation === undefined) return false;
  if (!isObject(reservation) || typeof reservation.expired !== 'boolean')
    fail('PRICING_INVALID_SESSION', 'reservation.expired', 'must be a boolean');
  return reservation.expired;
}

/**
 * Check a PricingSession and parse it. Throws PricingError with a stable code and the field path
 * (e.g. "charging_periods[2].dimensions[0].volume"). `zones` checks the time zone (and caches its formatter).
 */
export function parseSession(input: PricingSession, zones: TimeZones): ParsedSession {
  if (!isObject(input)) fail('PRICING_INVALID_SESSION', '$', 'a session must be an object');
  const s = input as unknown as Record<string, unknown>;
  if (typeof s.session_id !== 'string' || s.session_id.length === 0)
    fail('PRICING_INVALID_SESSION', 'session_id', 'must be a non-empty string');
  const startMs = dateTime(s.start_date_time, 'start_date_time');
  const endMs = dateTime(s.end_date_time, 'end_date_time');
  checkHeader(s.session_id, startMs, endMs, s.time_zone, s.currency, zones);
  const totalEnergy = scaled(s.total_energy, 6, 'total_energy', -1, -1, 'kWh');
  const expired = reservationExpired(s.reservation);
  const rawPeriods = s.charging_periods;
  if (!Array.isArray(rawPeriods) || rawPeriods.length === 0)
    fail('PRICING_INVALID_SESSION', 'charging_periods', 'must be a non-empty list');

  const starts: number[] = new Array(rawPeriods.length);
  for (let i = 0; i < rawPeriods.length; i++) {
    const p: unknown = rawPeriods[i];
    if (!isObject(p)) fail('PRICING_INVALID_SESSION', `charging_periods[${i}]`, 'must be an object');
    const v = p.start_date_time;
    // the field path is built only for an error (this runs for every period)
    const ms = typeof v === 'string' ? parseRfc3339(v) : null;
    starts[i] = ms !== null ? ms : dateTime(v, `charging_periods[${i}].start_date_time`);
    if (i > 0 && starts[i] <= starts[i - 1]) {
      fail(
        'PRICING_PERIODS_NOT_ORDERED',
        `charging_periods[${i}].start_date_time`,
        'periods must have strictly increasing start_date_time',
      );
    }
  }
  const periods: ParsedPeriod[] = [];
  const hasReservation = s.reservation !== undefined;
  for (let i = 0; i < rawPeriods.length; i++) {
    const p = rawPeriods[i] as Record<string, unknown>;
    const pStart = starts[i];
    checkPeriodStart(pStart, endMs, i);
    const pEnd = i + 1 < rawPeriods.length ? starts[i + 1] : endMs;
    if (!Array.isArray(p.dimensions))
      fail('PRICING_INVALID_SESSION', `charging_periods[${i}].dimensions`, 'must be a list');
    const v = noPeriodValues();
    let seen = 0;
    for (let j = 0; j < p.dimensions.length; j++) {
      const d: unknown = p.dimensions[j];
      if (!isObject(d))
        fail('PRICING_INVALID_SESSION', `charging_periods[${i}].dimensions[${j}]`, 'must be an object {type, volume}');
      const type = d.type as PeriodDimensionType;
      seen |= dimensionBit(type, seen, i, j);
      switch (type) {
        case 'ENERGY':
          v.energy = scaled(d.volume, 6, '', i, j, 'kWh');
          // A volume already written canonically is its own text (most are): no formatting.
          v.dims.push({
            type,
            volume: isCanonicalDecimal(d.volume as string) ? (d.volume as string) : formatScaled(v.energy, 6),
          });
          break;
        case 'TIME':
        case 'PARKING_TIME':
        case 'RESERVATION_TIME':
          addTime(v, type, scaled(d.volume, 3, '', i, j, 'seconds'));
          break;
        default:
          addLimit(v, type, d.volume, i, j);
      }
    }
    periods.push(periodOf(v, i, pStart, pEnd, canonicalUtc(p.start_date_time as string, pStart), hasReservation));
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

/** Largest value + 1 of a quantity the text form accepts: 15 significant digits (see parseScaled). */
const SCALED_LIMIT = pow10(15);

/** The checks the text form's `scaled` makes, on a parsed value (messages show the value as text). */
function checkedValue(
  v: unknown,
  decimals: number,
  name: string,
  period: number,
  dimension: number,
  unit: string,
): bigint {
  const field = volumeField(name, period, dimension);
  if (typeof v !== 'bigint') fail('PRICING_INVALID_DECIMAL', field, `must be an exact value (bigint), got ${typeof v}`);
  if (v < 0n) fail('PRICING_INVALID_DECIMAL', field, `must not be negative, got ${formatScaled(v, decimals)}`);
  if (v >= SCALED_LIMIT)
    fail(
      'PRICING_INVALID_DECIMAL',
      field,
      `${unit} with at most ${decimals} decimals and 15 significant digits, got ${formatScaled(v, decimals)}`,
    );
  return v;
}

function instantValue(ms: unknown, field: string): number {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms))
    fail('PRICING_INVALID_DATE_TIME', field, `must be an integer epoch millisecond, got ${String(ms)}`);
  return ms;
}

/**
 * Check a PricingInput (a session whose values are already parsed) as parseSession checks the text form,
 * with the same codes and field paths, and give the engine's view of it. Nothing is parsed from text.
 * `zones` checks the time zone (and caches its formatter).
 */
export function parseInput(input: PricingInput, zones: TimeZones): ParsedSession {
  if (!isObject(input)) fail('PRICING_INVALID_SESSION', '$', 'a session must be an object');
  if (typeof input.sessionId !== 'string' || input.sessionId.length === 0)
    fail('PRICING_INVALID_SESSION', 'session_id', 'must be a non-empty string');
  const startMs = instantValue(input.startMs, 'start_date_time');
  const endMs = instantValue(input.endMs, 'end_date_time');
  checkHeader(input.sessionId, startMs, endMs, input.timeZone, input.currency, zones);
  const totalEnergy = checkedValue(input.totalEnergy, 6, 'total_energy', -1, -1, 'kWh');
  const expired = reservationExpired(input.reservation);
  const inPeriods = input.periods;
  if (!Array.isArray(inPeriods) || inPeriods.length === 0)
    fail('PRICING_INVALID_SESSION', 'charging_periods', 'must be a non-empty list');
  for (let i = 0; i < inPeriods.length; i++) {
    const p = inPeriods[i];
    if (!isObject(p as unknown)) fail('PRICING_INVALID_SESSION', `charging_periods[${i}]`, 'must be an object');
    const ms = instantValue(p.startMs, `charging_periods[${i}].start_date_time`);
    if (i > 0 && ms <= inPeriods[i - 1].startMs) {
      fail(
        'PRICING_PERIODS_NOT_ORDERED',
        `charging_periods[${i}].start_date_time`,
        'periods must have strictly increasing start_date_time',
      );
    }
  }
  const periods: ParsedPeriod[] = [];
  const hasReservation = input.reservation !== undefined;
  for (let i = 0; i < inPeriods.length; i++) {
    const p = inPeriods[i];
    const pStart = p.startMs;
    checkPeriodStart(pStart, endMs, i);
    const pEnd = i + 1 < inPeriods.length ? inPeriods[i + 1].startMs : endMs;
    if (!Array.isArray(p.dimensions))
      fail('PRICING_INVALID_SESSION', `charging_periods[${i}].dimensions`, 'must be a list');
    const v = noPeriodValues();
    let seen = 0;
    for (let j = 0; j < p.dimensions.length; j++) {
      const d = p.dimensions[j];
      if (!isObject(d as unknown))
        fail('PRICING_INVALID_SESSION', `charging_periods[${i}].dimensions[${j}]`, 'must be an object {type, value}');
      seen |= dimensionBit(d.type, seen, i, j);
      switch (d.type) {
        case 'ENERGY':
          v.energy = checkedValue(d.mwh, 6, '', i, j, 'kWh');
          v.dims.push({ type: d.type, volume: formatScaled(v.energy, 6) });
          break;
        case 'TIME':
        case 'PARKING_TIME':
        case 'RESERVATION_TIME':
          addTime(v, d.type, checkedValue(d.ms, 3, '', i, j, 'seconds'));
          break;
        default:
          addLimit(v, d.type, d.volume, i, j);
      }
    }
    periods.push(periodOf(v, i, pStart, pEnd, formatUtc(pStart), hasReservation));
  }
  return {
    sessionId: input.sessionId,
    startMs,
    endMs,
    startText: canonicalUtc(input.startText ?? formatUtc(startMs), startMs),
    endText: canonicalUtc(input.endText ?? formatUtc(endMs), endMs),
    timeZone: input.timeZone,
    currency: input.currency,
    totalEnergy,
    expired,
    periods,
  };
}

/** True for a PricingInput (parsed values), false for the text form. */
export function isPricingInput(input: PricingSession | PricingInput): input is PricingInput {
  return typeof input === 'object' && input !== null && typeof (input as PricingInput).startMs === 'number';
}

/**
 * The text form of a PricingInput: what parseSession reads back to the same session (instants in
 * canonical UTC, or the texts given; volumes in canonical decimal text, time in seconds).
 */
export function formatPricingInput(input: PricingInput): PricingSession {
  const periods: PricingPeriod[] = input.periods.map((p) => ({
    start_date_time: formatUtc(p.startMs),
    dimensions: p.dimensions.map((d): PricingDimension => {
      switch (d.type) {
        case 'ENERGY':
          return { type: d.type, volume: formatScaled(d.mwh, 6) };
        case 'TIME':
        case 'PARKING_TIME':
        case 'RESERVATION_TIME':
          return { type: d.type, volume: formatScaled(d.ms, 3) };
        default:
          return { type: d.type, volume: d.volume };
      }
    }),
  }));
  return {
    session_id: input.sessionId,
    start_date_time: input.startText ?? formatUtc(input.startMs),
    end_date_time: input.endText ?? formatUtc(input.endMs),
    time_zone: input.timeZone,
    currency: input.currency,
    total_energy: formatScaled(input.totalEnergy, 6),
    charging_periods: periods,
    ...(input.reservation ? { reservation: { expired: input.reservation.expired } } : {}),
  };
}
