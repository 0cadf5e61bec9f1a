/**
 * The one RFC 3339 instant every date input of the APIs goes through (query filters, bodies, tariff
 * date-times): `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with the range both PostgreSQL (`timestamptz`)
 * and ISO 8601 without expansion can hold:
 * - years 0001 to 9999, for the written date and for the instant in UTC (PostgreSQL has no year 0000);
 * - offsets within ±15:59: RFC 3339 allows up to ±23:59, PostgreSQL refuses a displacement past 15:59
 *   (real zones lie within −12:00 and +14:00);
 * - seconds 00–59: a leap second (`23:59:60Z`) is refused (PostgreSQL would roll it into the next minute,
 *   and nothing in this system is stamped with one);
 * - a fraction of 1 to 9 digits, kept to the millisecond only when the rest are zeros (no silent truncation).
 */
export const INSTANT_RULES = 'RFC 3339 date-time, years 0001-9999, offset Z or within ±15:59, seconds 00-59 (no leap second)';

const RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const MIN_MS = -62135596800000; // 0001-01-01T00:00:00Z
const MAX_MS = 253402300799999; // 9999-12-31T23:59:59.999Z

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export type InstantParse = { ok: true; epochMs: number } | { ok: false; reason: string };

/** Epoch milliseconds of an instant within the rules above, or why the text is not one. */
export function parseInstant(text: unknown): InstantParse {
  if (typeof text !== 'string') return { ok: false, reason: 'must be a string' };
  const m = RE.exec(text);
  if (!m) return { ok: false, reason: `must be an ${INSTANT_RULES}` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year < 1) return { ok: false, reason: 'year must be 0001 to 9999' };
  if (month < 1 || month > 12) return { ok: false, reason: 'month must be 01 to 12' };
  if (day < 1 || day > daysInMonth(year, month)) return { ok: false, reason: `day ${m[3]} does not exist in ${m[1]}-${m[2]}` };
  if (hour > 23) return { ok: false, reason: 'hour must be 00 to 23' };
  if (minute > 59) return { ok: false, reason: 'minute must be 00 to 59' };
  if (second === 60) return { ok: false, reason: 'leap seconds (:60) are not accepted' };
  if (second > 59) return { ok: false, reason: 'second must be 00 to 59' };
  const fraction = m[7] ?? '';
  if (/[1-9]/.test(fraction.slice(3))) return { ok: false, reason: 'at most millisecond precision (further digits must be zeros)' };
  let offsetMinutes = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (om > 59) return { ok: false, reason: 'offset minutes must be 00 to 59' };
    if (oh > 15) return { ok: false, reason: 'offset must be within ±15:59' };
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const epochMs = ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + ms;
  if (epochMs < MIN_MS || epochMs > MAX_MS) return { ok: false, reason: 'the instant in UTC must lie within years 0001 to 9999' };
  return { ok: true, epochMs };
}

/** Whether the text is an instant within the rules above. */
export function isInstant(text: unknown): boolean {
  return parseInstant(text).ok;
}
