import { OcppNormaliseError } from './errors';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?$/;

export interface ParsedInstant {
  /** UTC, millisecond precision: `2026-03-29T01:30:00.000Z` */
  iso: string;
  /** the timestamp had no offset and was read as UTC */
  offsetMissing: boolean;
}

/**
 * Parses an OCPP date-time into a UTC instant without the process time zone ever being involved
 * (`new Date('2026-01-01T10:00:00')` would read local time: not deterministic across machines).
 * A timestamp without offset is read as UTC and reported. Fractions beyond milliseconds are truncated.
 */
export function parseInstant(value: unknown, path: string): ParsedInstant {
  if (typeof value !== 'string') throw new OcppNormaliseError('INVALID_TIMESTAMP', `${path} must be a date-time string`, path);
  const m = RFC3339.exec(value);
  if (!m) throw new OcppNormaliseError('INVALID_TIMESTAMP', `${path} is not an RFC 3339 date-time: ${value}`, path);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number((frac + '00').slice(0, 3)) : 0;
  let offsetMinutes = 0;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(local);
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    throw new OcppNormaliseError('INVALID_TIMESTAMP', `${path} is not a valid date-time: ${value}`, path);
  }
  return { iso: new Date(local - offsetMinutes * 60_000).toISOString(), offsetMissing: zone === undefined };
}
