import * as civil from './civil';

// bound once at load: a call through a CommonJS module namespace (as esbuild / tsx emit) goes through an accessor
const { civilFromDays, daysFromCivil, daysInMonth, MS_PER_DAY } = civil;

/**
 * RFC 3339 / ISO 8601 date-times to epoch milliseconds: one hand-written scanner (no regular expression,
 * no `Date.parse`, so the process time zone is never involved) and the rules it applies, one set per
 * kind of input:
 * - `RFC3339`: what a tariff or a priced session carries: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`;
 * - `API_INSTANT`: every date input of the APIs: RFC 3339 within what PostgreSQL `timestamptz` and ISO 8601
 *   without expansion hold (years 0001-9999, offsets within ±15:59, at most 9 fraction digits);
 * - `OCPP_DATE_TIME`: what stations send: also a space for the `T`, `±HHMM`, and no offset at all (read as
 *   UTC and reported), fractions beyond milliseconds truncated.
 * Leap seconds (`:60`) are refused by every set.
 */
export interface InstantRules {
  /** named in the reason when the text does not have the shape at all */
  readonly shape: string;
  /** a space may separate the date and the time (besides `T` / `t`) */
  readonly spaceSeparator: boolean;
  /** the offset may be missing: the date-time is read as UTC (and reported as `offsetMissing`) */
  readonly offsetOptional: boolean;
  /** the offset may be written `±HHMM` (besides `±HH:MM`) */
  readonly compactOffset: boolean;
  /** the largest offset hours and minutes accepted */
  readonly maxOffsetHours: number;
  readonly maxOffsetMinutes: number;
  /** digits of the fraction beyond milliseconds: `zeros`: they must be zeros (no silent truncation); `truncate`: dropped */
  readonly subMillisecond: 'zeros' | 'truncate';
  readonly maxFractionDigits: number;
  /** the smallest year written */
  readonly minYear: number;
  /** the instant in UTC must lie within [minMs, maxMs] */
  readonly minMs: number;
  readonly maxMs: number;
}

/** `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as RFC 3339 section 5.6 (offsets up to ±23:59). */
export const RFC3339: InstantRules = {
  shape: 'RFC 3339 date-time',
  spaceSeparator: false,
  offsetOptional: false,
  compactOffset: false,
  maxOffsetHours: 23,
  maxOffsetMinutes: 59,
  subMillisecond: 'zeros',
  maxFractionDigits: Infinity,
  minYear: 0,
  minMs: -Infinity,
  maxMs: Infinity,
};

/** What the API inputs accept, described in one line for error messages and API documentation. */
export const INSTANT_RULES =
  'RFC 3339 date-time, years 0001-9999, offset Z or within ±15:59, seconds 00-59 (no leap second)';

/** The date-times of the APIs: see `INSTANT_RULES`. */
export const API_INSTANT: InstantRules = {
  shape: INSTANT_RULES,
  spaceSeparator: false,
  offsetOptional: false,
  compactOffset: false,
  maxOffsetHours: 15,
  maxOffsetMinutes: 59,
  subMillisecond: 'zeros',
  maxFractionDigits: 9,
  minYear: 1,
  minMs: -62135596800000, // 0001-01-01T00:00:00Z
  maxMs: 253402300799999, // 9999-12-31T23:59:59.999Z
};

/** The date-times stations send (OCPP): RFC 3339 and its common liberties. */
export const OCPP_DATE_TIME: InstantRules = {
  shape: 'RFC 3339 date-time',
  spaceSeparator: true,
  offsetOptional: true,
  compactOffset: true,
  maxOffsetHours: 99,
  maxOffsetMinutes: 99,
  subMillisecond: 'truncate',
  maxFractionDigits: Infinity,
  minYear: 100,
  minMs: -Infinity,
  maxMs: Infinity,
};

export type InstantParse =
  { ok: true; epochMs: number; offsetMissing: boolean } | { ok: false; reason: string; shape: boolean };

/** Value of `len` ASCII digits at `pos`, or -1 when one of them is not a digit. */
function digits(text: string, pos: number, len: number): number {
  let v = 0;
  for (let i = pos; i < pos + len; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const NOT_A_STRING = 'must be a string';
/** marks a reason about the shape (the text is no date-time at all) rather than a field out of range */
const SHAPE = '\u0000shape';

/**
 * The scanner: epoch ms, or the reason the text is not a date-time under the rules (`SHAPE` when it does
 * not even have the shape). On success, `offsetMissing` is known from the text's end (see `parseInstant`).
 */
function scan(text: string, r: InstantRules): number | string {
  const n = text.length;
  if (n < 19) return SHAPE;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const t = text.charCodeAt(10);
  if (
    year < 0 ||
    month < 0 ||
    day < 0 ||
    hour < 0 ||
    minute < 0 ||
    second < 0 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58 ||
    (t !== 84 && t !== 116 && !(t === 32 && r.spaceSeparator))
  ) {
    return SHAPE;
  }
  // fraction
  let pos = 19;
  let ms = 0;
  let subMsNonZero = false;
  if (text.charCodeAt(pos) === 46) {
    pos++;
    const start = pos;
    while (pos < n) {
      const c = text.charCodeAt(pos) - 48;
      if (c < 0 || c > 9) break;
      const k = pos - start;
      if (k < 3) ms += c * (k === 0 ? 100 : k === 1 ? 10 : 1);
      else if (c !== 0) subMsNonZero = true;
      pos++;
    }
    if (pos === start || pos - start > r.maxFractionDigits) return SHAPE;
  }
  // offset
  let sign = 0;
  let oh = 0;
  let om = 0;
  const z = pos < n ? text.charCodeAt(pos) : -1;
  if (z === 90 || z === 122) {
    if (pos + 1 !== n) return SHAPE;
  } else if (z === 43 || z === 45) {
    sign = z === 45 ? -1 : 1;
    oh = digits(text, pos + 1, 2);
    if (pos + 6 === n && text.charCodeAt(pos + 3) === 58) om = digits(text, pos + 4, 2);
    else if (r.compactOffset && pos + 5 === n) om = digits(text, pos + 3, 2);
    else return SHAPE;
    if (oh < 0 || om < 0) return SHAPE;
  } else if (z !== -1 || !r.offsetOptional) {
    return SHAPE;
  }
  if (year < r.minYear)
    return r.minYear === 1
      ? 'year must be 0001 to 9999'
      : `year must be ${String(r.minYear).padStart(4, '0')} or later`;
  if (month < 1 || month > 12) return 'month must be 01 to 12';
  if (day < 1 || day > daysInMonth(year, month))
    return `day ${text.slice(8, 10)} does not exist in ${text.slice(0, 7)}`;
  if (hour > 23) return 'hour must be 00 to 23';
  if (minute > 59) return 'minute must be 00 to 59';
  if (second === 60) return 'leap seconds (:60) are not accepted';
  if (second > 59) return 'second must be 00 to 59';
  if (subMsNonZero && r.subMillisecond === 'zeros')
    return 'at most millisecond precision (further digits must be zeros)';
  if (om > r.maxOffsetMinutes) return `offset minutes must be 00 to ${r.maxOffsetMinutes}`;
  if (oh > r.maxOffsetHours) return `offset must be within ±${r.maxOffsetHours}:59`;
  const epochMs =
    ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute - sign * (oh * 60 + om)) * 60_000 + second * 1000 + ms;
  if (epochMs < r.minMs || epochMs > r.maxMs) return 'the instant in UTC must lie within years 0001 to 9999';
  return epochMs;
}

/** True when the date-time text ends without an offset (only possible under rules with `offsetOptional`). */
function endsWithoutOffset(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  if (last === 90 || last === 122) return false;
  // ±HH:MM or ±HHMM: a sign 6 or 5 characters from the end, after the seconds
  const a = text.length - 6;
  const b = text.length - 5;
  const signAt = (i: number): boolean => i >= 19 && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45);
  return !signAt(a) && !signAt(b);
}

/** Epoch ms of a date-time under `rules` (RFC 3339 by default), or why the text is not one. */
export function parseInstant(text: unknown, rules: InstantRules = API_INSTANT): InstantParse {
  if (typeof text !== 'string') return { ok: false, reason: NOT_A_STRING, shape: true };
  const v = scan(text, rules);
  if (typeof v === 'number')
    return { ok: true, epochMs: v, offsetMissing: rules.offsetOptional && endsWithoutOffset(text) };
  return v === SHAPE
    ? { ok: false, reason: `must be an ${rules.shape}`, shape: true }
    : { ok: false, reason: v, shape: false };
}

/** Whether the text is a date-time under `rules` (the API rules by default). */
export function isInstant(text: unknown, rules: InstantRules = API_INSTANT): boolean {
  return typeof text === 'string' && typeof scan(text, rules) === 'number';
}

/**
 * Epoch ms of an RFC 3339 date-time ("2024-01-16T15:00:00Z", "...T16:00:00.250+01:00"), or null when the
 * text is not one. Fractions beyond milliseconds are accepted only when they are zeros. The fast path.
 */
export function parseRfc3339(text: string): number | null {
  if (typeof text !== 'string') return null;
  const fast = canonicalMs(text);
  if (fast === fast) return fast;
  const v = scan(text, RFC3339);
  return typeof v === 'number' ? v : null;
}

/**
 * Epoch ms of the two shapes nearly every date-time here has, `YYYY-MM-DDTHH:MM:SSZ` and
 * `YYYY-MM-DDTHH:MM:SS.sssZ`, read without the general scanner; NaN for any other text (or an out-of-range
 * field), which then goes through the scanner. Agrees with `scan(text, RFC3339)` wherever it returns a number.
 */
function canonicalMs(iso: string): number {
  const n = iso.length;
  if ((n !== 20 && n !== 24) || iso.charCodeAt(n - 1) !== 90 || iso.charCodeAt(10) !== 84) return NaN;
  if (iso.charCodeAt(4) !== 45 || iso.charCodeAt(7) !== 45 || iso.charCodeAt(13) !== 58 || iso.charCodeAt(16) !== 58)
    return NaN;
  const y = digits(iso, 0, 4);
  const mo = digits(iso, 5, 2);
  const d = digits(iso, 8, 2);
  const h = digits(iso, 11, 2);
  const mi = digits(iso, 14, 2);
  const s = digits(iso, 17, 2);
  const f = n === 20 ? 0 : iso.charCodeAt(19) === 46 ? digits(iso, 20, 3) : -1;
  if (
    y < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    d > daysInMonth(y, mo) ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    s < 0 ||
    s > 59 ||
    f < 0
  )
    return NaN;
  return (daysFromCivil(y, mo, d) * 24 + h) * 3_600_000 + mi * 60_000 + s * 1000 + f;
}

/**
 * Epoch ms of a date-time that is almost always canonical (`YYYY-MM-DDTHH:mm:ss.sssZ`, what `toIsoString`
 * and the normaliser write): that shape is read directly, anything else goes through the RFC 3339 scanner.
 * NaN when the text is no RFC 3339 date-time.
 */
export function epochMsOf(iso: string): number {
  const fast = canonicalMs(iso);
  if (fast === fast) return fast;
  const v = scan(iso, RFC3339);
  return typeof v === 'number' ? v : NaN;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n >= 1000 ? `${n}` : `${n}`.padStart(4, '0');
}

/** "YYYY-MM-DDTHH:MM:SS" and the milliseconds of an epoch ms in UTC (years 0000-9999). */
function utcParts(epochMs: number): [string, number] {
  const days = Math.floor(epochMs / MS_PER_DAY);
  const rest = epochMs - days * MS_PER_DAY;
  const [y, m, d] = civilFromDays(days);
  const secs = Math.floor(rest / 1000);
  return [
    `${pad4(y)}-${pad2(m)}-${pad2(d)}T${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor((secs % 3600) / 60))}:${pad2(secs % 60)}`,
    rest - secs * 1000,
  ];
}

/** Epoch ms as RFC 3339 UTC, with milliseconds only when non-zero ("2024-01-16T15:00:00Z"). */
export function formatUtc(epochMs: number): string {
  const [base, ms] = utcParts(epochMs);
  return ms === 0 ? `${base}Z` : `${base}.${`${ms}`.padStart(3, '0')}Z`;
}

/**
 * Epoch ms as the canonical `YYYY-MM-DDTHH:mm:ss.sssZ` (always milliseconds): `Date#toISOString` for years
 * 0000-9999, which it calls outside them (`+010000-...`).
 */
export function toIsoString(epochMs: number): string {
  // Date#toISOString writes the text as one flat string; a template literal here built a rope of pieces that every
  // later comparison, hash or copy of the text walks (and that kept ~10 objects alive per instant: README "Performance")
  if (Number.isInteger(epochMs) || epochMs < -62167219200000 || epochMs > 253402300799999)
    return new Date(epochMs).toISOString();
  const [base, ms] = utcParts(epochMs);
  return `${base}.${ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : ms}Z`;
}
