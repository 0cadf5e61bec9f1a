import { DomainError, floorToScale, formatScaled, ratio, roundToScale, type Ratio } from '@csms/kernel';

/** The minutes of a year in the NEVI formula (23 CFR 680.116(b)): 365 x 24 x 60. */
export const NEVI_YEAR_MINUTES = 525_600n;
const MS_PER_MINUTE = 60_000n;

export class UptimeInputError extends DomainError {
  constructor(message: string, field: string) {
    super('INVALID_UPTIME_INPUT', message, { field, retriable: false });
  }
}

export interface NeviUptime {
  /** the exact percentage */
  exact: Ratio;
  /** rounded DOWN to 2 decimals: a charger at 96.999 % never shows as meeting 97 % */
  percent: string;
}

/**
 * The uptime percentage of 23 CFR 680.116(b): ((P - (T_outage - T_excluded)) / P) x 100, where P is 525,600
 * minutes for the trailing 12 months, or the minutes of any other period the same way. Inputs are exact
 * milliseconds (outage and excluded time as measured; excluded time is the part of the outage the rule lets
 * one leave out, so never more than the outage). Nothing in floating point; below 0 % (an outage longer than
 * P, possible only when P is 525,600 minutes and the 12 months had 366 days) it is 0 %.
 */
export function neviUptime(periodMs: bigint, outageMs: bigint, excludedMs: bigint): NeviUptime {
  if (periodMs <= 0n) throw new UptimeInputError('the period must be longer than zero', 'periodMs');
  if (outageMs < 0n) throw new UptimeInputError('outage time cannot be negative', 'outageMs');
  if (excludedMs < 0n || excludedMs > outageMs)
    throw new UptimeInputError('excluded time is part of the outage: 0 <= excluded <= outage', 'excludedMs');
  let counted = periodMs - (outageMs - excludedMs);
  if (counted < 0n) counted = 0n;
  const exact = ratio(counted * 100n, periodMs);
  return { exact, percent: formatFixed(floorToScale(exact, 2), 2) };
}

/** NEVI over the trailing 12 months: P = 525,600 minutes. */
export function neviTrailingYear(outageMs: bigint, excludedMs: bigint): NeviUptime {
  return neviUptime(NEVI_YEAR_MINUTES * MS_PER_MINUTE, outageMs, excludedMs);
}

/** Minutes of a count of milliseconds, rounded HALF_UP to 2 decimals (display; the percentage uses the exact ms). */
export function minutesOf(ms: bigint): string {
  return formatFixed(roundToScale(ratio(ms, MS_PER_MINUTE), 2, 'HALF_UP'), 2);
}

/** Seconds of a count of milliseconds, exact (3 decimals at most). */
export function secondsOf(ms: bigint): string {
  return formatScaled(ms, 3);
}

/** `units` x 10^-decimals with exactly `decimals` decimals ("97.00", "0.50", "-1.25"). */
export function formatFixed(units: bigint, decimals: number): string {
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(decimals + 1, '0');
  const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return neg ? `-${text}` : text;
}
