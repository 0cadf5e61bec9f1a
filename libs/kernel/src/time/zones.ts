import * as civil from './civil';

// bound once at load (see instant.ts)
const { MS_PER_DAY, MS_PER_HOUR } = civil;

/**
 * IANA time zones through the platform's ICU data (Intl), correct across DST changes.
 *
 * `TimeZones` is the cache a caller creates once and keeps (the pricing engine owns one per compiled
 * tariff, a service one per process): formatters per zone, and offsets per zone and UTC hour. No real
 * time zone changes its offset twice within one hour, so when the offsets at both ends of an hour agree
 * they hold for the whole hour; an hour that contains a transition is resolved per instant. Nothing is
 * cached at module level: two instances never share state, and results never depend on what was asked before.
 */

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

/** An hour in which the offset changes once: before `atMs` it is `before`, from `atMs` on `after`. */
interface Transition {
  atMs: number;
  before: number;
  after: number;
}

const DEFAULT_MAX_HOURS_PER_ZONE = 200_000;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n >= 1000 ? `${n}` : `${n}`.padStart(4, '0');
}

/** "00" ... "59". */
const TWO_DIGITS: readonly string[] = Array.from({ length: 60 }, (_, i) => pad2(i));

export class TimeZones {
  private readonly formatters = new Map<string, Intl.DateTimeFormat>();
  /** zone → UTC hour bucket → the offset for the whole hour, or the transition inside it */
  private readonly hours = new Map<string, Map<number, number | Transition>>();
  // consecutive periods of a session mostly fall in the same UTC hour and local day: skip the lookups
  private lastZone = '';
  private lastBucket = NaN;
  private lastEntry: number | Transition = 0;
  private lastDay: LocalParts | null = null;
  private lastPrefixDay = NaN;
  private lastPrefix = '';

  /** @param maxHoursPerZone hours remembered per zone before that zone's cache is cleared (memory bound) */
  constructor(private readonly maxHoursPerZone = DEFAULT_MAX_HOURS_PER_ZONE) {}

  private formatterFor(zone: string): Intl.DateTimeFormat {
    let f = this.formatters.get(zone);
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
      this.formatters.set(zone, f);
    }
    return f;
  }

  /** True when `zone` is an IANA time zone name the platform knows ("Europe/Amsterdam", "UTC"). */
  isValid(zone: unknown): zone is string {
    if (typeof zone !== 'string' || zone.length === 0) return false;
    try {
      this.formatterFor(zone);
      return true;
    } catch {
      return false;
    }
  }

  /** UTC offset in minutes of `zone` at `epochMs`, straight from Intl (whole seconds). */
  private computeOffsetMinutes(zone: string, epochMs: number): number {
    const secondFloor = Math.floor(epochMs / 1000) * 1000;
    const parts = this.formatterFor(zone).formatToParts(new Date(secondFloor));
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

  /** UTC offset in minutes of `zone` at instant `epochMs` (Europe/Amsterdam in summer: 120). */
  offsetMinutes(zone: string, epochMs: number): number {
    const bucket = Math.floor(epochMs / MS_PER_HOUR);
    if (bucket === this.lastBucket && zone === this.lastZone) {
      const e = this.lastEntry;
      return typeof e === 'number' ? e : epochMs < e.atMs ? e.before : e.after;
    }
    let cache = this.hours.get(zone);
    if (!cache) {
      cache = new Map();
      this.hours.set(zone, cache);
    }
    let entry = cache.get(bucket);
    if (entry === undefined) {
      const startMs = bucket * MS_PER_HOUR;
      const before = this.computeOffsetMinutes(zone, startMs);
      const after = this.computeOffsetMinutes(zone, startMs + MS_PER_HOUR - 1000);
      if (before === after) {
        entry = before;
      } else {
        // binary search (whole seconds) for the first instant with the new offset
        let lo = startMs; // offset `before`
        let hi = startMs + MS_PER_HOUR - 1000; // offset `after`
        while (hi - lo > 1000) {
          const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
          if (this.computeOffsetMinutes(zone, mid) === before) lo = mid;
          else hi = mid;
        }
        entry = { atMs: hi, before, after };
      }
      if (cache.size >= this.maxHoursPerZone) cache.clear();
      cache.set(bucket, entry);
    }
    this.lastZone = zone;
    this.lastBucket = bucket;
    this.lastEntry = entry;
    if (typeof entry === 'number') return entry;
    return epochMs < entry.atMs ? entry.before : entry.after;
  }

  /** The local wall-clock date, time of day and weekday of an instant in `zone`. */
  localParts(zone: string, epochMs: number): LocalParts {
    const localMs = epochMs + this.offsetMinutes(zone, epochMs) * 60000;
    const epochDay = Math.floor(localMs / MS_PER_DAY);
    const secondOfDay = Math.floor((localMs - epochDay * MS_PER_DAY) / 1000);
    const d = this.lastDay;
    if (d !== null && d.epochDay === epochDay) {
      return {
        epochDay,
        dateKey: d.dateKey,
        year: d.year,
        month: d.month,
        day: d.day,
        secondOfDay,
        weekday: d.weekday,
      };
    }
    // civilFromDays, inlined (no array allocation on the hot path)
    const z = epochDay + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const month = mp < 10 ? mp + 3 : mp - 9;
    const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    // 1970-01-01 was a Thursday (index 3 when MONDAY = 0)
    const weekday = (((epochDay + 3) % 7) + 7) % 7;
    const parts = { epochDay, dateKey: year * 10000 + month * 100 + day, year, month, day, secondOfDay, weekday };
    this.lastDay = parts;
    return parts;
  }

  /** "YYYY-MM-DDTHH:MM:SS" of local parts. */
  formatLocal(p: LocalParts): string {
    if (p.epochDay !== this.lastPrefixDay) {
      this.lastPrefix = `${pad4(p.year)}-${pad2(p.month)}-${pad2(p.day)}T`;
      this.lastPrefixDay = p.epochDay;
    }
    const sod = p.secondOfDay;
    const h = Math.floor(sod / 3600);
    const rest = sod - h * 3600;
    const mi = Math.floor(rest / 60);
    return `${this.lastPrefix}${TWO_DIGITS[h]}:${TWO_DIGITS[mi]}:${TWO_DIGITS[rest - mi * 60]}`;
  }
}

/** "YYYY-MM-DDTHH:MM:SS" of local parts, without a cache. */
export function formatLocal(p: LocalParts): string {
  const sod = p.secondOfDay;
  const h = Math.floor(sod / 3600);
  const rest = sod - h * 3600;
  const mi = Math.floor(rest / 60);
  return `${pad4(p.year)}-${pad2(p.month)}-${pad2(p.day)}T${TWO_DIGITS[h]}:${TWO_DIGITS[mi]}:${TWO_DIGITS[rest - mi * 60]}`;
}
