/**
 * Civil (proleptic Gregorian) date arithmetic in plain integers, no `Date` and no time zone:
 * H. Hinnant's days_from_civil / civil_from_days, as ECMAScript's MakeDay but without the
 * two-digit-year quirk of `Date.UTC` (year 50 is year 50, not 1950).
 */

export const MS_PER_DAY = 86_400_000;
export const MS_PER_HOUR = 3_600_000;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days in `month` (1..12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a civil date (month 1..12; the day may be any integer). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date `[year, month, day]` of a day number (days since 1970-01-01). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [m <= 2 ? y + 1 : y, m, d];
}

/**
 * Epoch ms of a civil date and time read as UTC: `Date.UTC(y, mo - 1, d, h, mi, s, f)` for month 1..12
 * (the other fields may be any integers, as `Date.UTC` is linear in them), in plain arithmetic.
 */
export function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, f: number): number {
  return daysFromCivil(y, mo, d) * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + s * 1000 + f;
}

/** Day of the week of a day number: 0 = Monday ... 6 = Sunday (ISO order; 1970-01-01 was a Thursday). */
export function weekdayOfDays(days: number): number {
  return (((days + 3) % 7) + 7) % 7;
}

/** The civil date `n` days after (or before, when negative) a civil date. */
export function addDays(year: number, month: number, day: number, n: number): [number, number, number] {
  return civilFromDays(daysFromCivil(year, month, day) + n);
}

/** The day number (days since 1970-01-01, UTC) of an epoch ms. */
export function daysOfEpochMs(epochMs: number): number {
  return Math.floor(epochMs / MS_PER_DAY);
}
