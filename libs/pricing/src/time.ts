/**
 * Time primitives of the engine, pure and allocation-light:
 * - parse RFC 3339 date-times to epoch milliseconds (integers, exact);
 * - local wall-clock parts of an instant in an IANA time zone, using the platform's ICU time zone
 *   data (Intl), correct across DST changes.
 *
 * Offsets are looked up once per zone and UTC hour and cached: no real time zone changes its
 * offset twice within one hour, so when the offsets at both ends of an hour agree they hold for
 * the whole hour; an hour that contains a transition is resolved per instant.
 */

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

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

/**
 * Epoch milliseconds of an RFC 3339 date-time ("2024-01-16T15:00:00Z", "...T16:00:00.250+01:00"),
 * or null when the text is not one. Fractions beyond milliseconds are accepted only when they are
 * zeros (no silent truncation). Leap seconds (":60") are refused.
 */
export function parseRfc3339(text: string): number | null {
  if (typeof text !== 'string' || text.length < 20) return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const t = text.charCodeAt(10);
  if (
    year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 ||
    text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || (t !== 84 && t !== 116) || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58
  ) {
    return null;
  }
  if (day > daysInMonth(year, month)) return null;
  let pos = 19;
  let ms = 0;
  if (text.charCodeAt(pos) === 46) {
    pos++;
    const fracStart = pos;
    while (pos < text.length) {
      const c = text.charCodeAt(pos) - 48;
      if (c < 0 || c > 9) break;
      if (pos - fracStart >= 3) {
        if (c !== 0) return null;
      } else {
        ms += c * (pos - fracStart === 0 ? 100 : pos - fracStart === 1 ? 10 : 1);
      }
      pos++;
    }
    if (pos === fracStart) return null;
  }
  let offsetMinutes = 0;
  const z = text.charCodeAt(pos);
  if (z === 90 || z === 122) {
    if (pos + 1 !== text.length) return null;
  } else if (z === 43 || z === 45) {
    if (pos + 6 !== text.length || text.charCodeAt(pos + 3) !== 58) return null;
    const oh = digits(text, pos + 1, 2);
    const om = digits(text, pos + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return null;
    offsetMinutes = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return null;
  }
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute - offsetMinutes) * 60000 + second * 1000 + ms;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n >= 1000 ? `${n}` : `${n}`.padStart(4, '0');
}

/** Format epoch ms as RFC 3339 UTC, with milliseconds only when non-zero ("2024-01-16T15:00:00Z"). */
export function formatUtc(epochMs: number): string {
  const days = Math.floor(epochMs / 86_400_000);
  const rest = epochMs - days * 86_400_000;
  const [y, m, d] = civilFromDays(days);
  const secs = Math.floor(rest / 1000);
  const ms = rest - secs * 1000;
  const base = `${pad4(y)}-${pad2(m)}-${pad2(d)}T${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor((secs % 3600) / 60))}:${pad2(secs % 60)}`;
  return ms === 0 ? `${base}Z` : `${base}.${`${ms}`.padStart(3, '0')}Z`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when `zone` is an IANA time zone name the platform knows ("Europe/Amsterdam", "UTC"). */
export function isValidTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.length === 0) return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** UTC offset in minutes of `zone` at instant `epochMs` (Europe/Amsterdam in summer: 120). */
function computeOffsetMinutes(zone: string, epochMs: number): number {
  const secondFloor = Math.floor(epochMs / 1000) * 1000;
  const parts = formatterFor(zone).formatToParts(new Date(secondFloor));
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const p of parts) {
    switch (p.type) {
      case 'year':
        year = +p.value;
        break;
      case 'month':
        month = +p.value;
        break;
      case 'day':
        day = +p.value;
        break;
      case 'hour':
        hour = +p.value;
        break;
      case 'minute':
        minute = +p.value;
        break;
      case 'second':
        second = +p.value;
        break;
      case 'era':
        bc = p.value === 'BC' || p.value === 'B';
        break;
    }
  }
  if (bc) year = 1 - year;
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  return Math.round((asUtc - secondFloor) / 60000);
}

const HOUR = 3_600_000;
const MAX_CACHED_HOURS_PER_ZONE = 200_000;
/** An hour in which the offset changes once: before `atMs` it is `before`, from `atMs` on `after`. */
interface Transition {
  atMs: number;
  before: number;
  after: number;
}
/** UTC hour bucket -> the offset for the whole hour, or the transition inside it. */
const zoneCaches = new Map<string, Map<number, number | Transition>>();

/** UTC offset in minutes of `zone` at instant `epochMs` (Europe/Amsterdam in summer: 120). */
let lastZone = '';
let lastBucket = NaN;
let lastEntry: number | Transition = 0;

export function offsetMinutes(zone: string, epochMs: number): number {
  const bucket = Math.floor(epochMs / HOUR);
  // Consecutive periods of a session mostly fall in the same UTC hour: skip the map lookups.
  if (bucket === lastBucket && zone === lastZone) {
    return typeof lastEntry === 'number' ? lastEntry : epochMs < lastEntry.atMs ? lastEntry.before : lastEntry.after;
  }
  let cache = zoneCaches.get(zone);
  if (!cache) {
    cache = new Map();
    zoneCaches.set(zone, cache);
  }
  let entry = cache.get(bucket);
  if (entry === undefined) {
    const startMs = bucket * HOUR;
    const before = computeOffsetMinutes(zone, startMs);
    const after = computeOffsetMinutes(zone, startMs + HOUR - 1000);
    if (before === after) {
      entry = before;
    } else {
      // Binary search (whole seconds) for the first instant with the new offset.
      let lo = startMs; // offset `before`
      let hi = startMs + HOUR - 1000; // offset `after`
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (computeOffsetMinutes(zone, mid) === before) lo = mid;
        else hi = mid;
      }
      entry = { atMs: hi, before, after };
    }
    if (cache.size >= MAX_CACHED_HOURS_PER_ZONE) cache.clear();
    cache.set(bucket, entry);
  }
  lastZone = zone;
  lastBucket = bucket;
  lastEntry = entry;
  if (typeof entry === 'number') return entry;
  return epochMs < entry.atMs ? entry.before : entry.after;
}

/** Local wall-clock view of an instant. */
export interface LocalParts {
  /** Days since 1970-01-01 of the local date. */
  epochDay: number;
  /** Local date as a sortable integer YYYYMMDD. */
  dateKey: number;
  year: number;
  month: number;
  day: number;
  /** Seconds since local midnight (wall clock), 0..86399. */
  secondOfDay: number;
  /** 0 = MONDAY ... 6 = SUNDAY. */
  weekday: number;
}

/** Civil date from days since 1970-01-01 (H. Hinnant's algorithm). */
function civilFromDays(z: number): [number, number, number] {
  z += 719468;
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

/** The civil date of the last local day converted (consecutive periods mostly share their day). */
let lastDay: LocalParts | null = null;

export function localParts(zone: string, epochMs: number): LocalParts {
  const localMs = epochMs + offsetMinutes(zone, epochMs) * 60000;
  const epochDay = Math.floor(localMs / 86_400_000);
  const secondOfDay = Math.floor((localMs - epochDay * 86_400_000) / 1000);
  const d = lastDay;
  if (d !== null && d.epochDay === epochDay) {
    return { epochDay, dateKey: d.dateKey, year: d.year, month: d.month, day: d.day, secondOfDay, weekday: d.weekday };
  }
  // civilFromDays, inlined (no array allocation on the hot path).
  const z = epochDay + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  // 1970-01-01 was a Thursday (index 3 when MONDAY = 0).
  const weekday = (((epochDay + 3) % 7) + 7) % 7;
  const parts = { epochDay, dateKey: year * 10000 + month * 100 + day, year, month, day, secondOfDay, weekday };
  lastDay = parts;
  return parts;
}

/** "00" ... "59". */
const TWO_DIGITS: readonly string[] = Array.from({ length: 60 }, (_, i) => pad2(i));
/** "YYYY-MM-DDT" of the last local day formatted (consecutive periods mostly share their day). */
let lastPrefixDay = NaN;
let lastPrefix = '';

/** "YYYY-MM-DDTHH:MM:SS" of local parts. */
export function formatLocal(p: LocalParts): string {
  if (p.epochDay !== lastPrefixDay) {
    lastPrefix = `${pad4(p.year)}-${pad2(p.month)}-${pad2(p.day)}T`;
    lastPrefixDay = p.epochDay;
  }
  const sod = p.secondOfDay;
  const h = Math.floor(sod / 3600);
  const rest = sod - h * 3600;
  const mi = Math.floor(rest / 60);
  return `${lastPrefix}${TWO_DIGITS[h]}:${TWO_DIGITS[mi]}:${TWO_DIGITS[rest - mi * 60]}`;
}
