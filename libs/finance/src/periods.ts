import { DomainError, addDays, type TimeZones } from '@csms/kernel';

/**
 * Reporting periods are civil months (`YYYY-MM`). A closed period is a cut in billing.events: per partition,
 * the last offset folded when it was closed. Which period a CDR counts in (`assignPeriod`) depends only on
 * the CDR (its issue day and its position) and the closes, never on the order the topics were read in, so a
 * rebuild puts every CDR where it was.
 */
export type Period = string;

export class PeriodError extends DomainError {
  constructor(code: 'INVALID_PERIOD' | 'PERIOD_NOT_OVER', message: string, field?: string) {
    super(code, message, { field, retriable: false });
  }
}

const PERIOD = /^([0-9]{4})-(0[1-9]|1[0-2])$/;

export function isPeriod(v: unknown): v is Period {
  return typeof v === 'string' && PERIOD.test(v);
}

export function periodOfDay(day: string): Period {
  return day.slice(0, 7);
}

export function nextPeriod(p: Period): Period {
  const y = Number(p.slice(0, 4));
  const m = Number(p.slice(5, 7));
  return m === 12 ? `${String(y + 1).padStart(4, '0')}-01` : `${p.slice(0, 4)}-${String(m + 1).padStart(2, '0')}`;
}

export function previousPeriod(p: Period): Period {
  const y = Number(p.slice(0, 4));
  const m = Number(p.slice(5, 7));
  return m === 1 ? `${String(y - 1).padStart(4, '0')}-12` : `${p.slice(0, 4)}-${String(m - 1).padStart(2, '0')}`;
}

/** The cut of a closed period: per billing.events partition, the last offset folded (-1n: none). */
export type Cut = ReadonlyMap<number, bigint>;

export interface Placement {
  period: Period;
  /** the day the CDR is reported on: its issue day, or the first day of the open period it was carried into */
  day: string;
}

/**
 * The period a CDR counts in: its issue day's period, unless that period was closed before the CDR was
 * folded (its offset is after the period's cut on its partition); then the next period that was still open
 * when it came (not closed, or closed with the CDR inside its cut), on that period's first day. A correction
 * after a close therefore lands in the next open period; a closed period never gains or loses a CDR.
 */
export function assignPeriod(
  day: string,
  partition: number,
  offset: bigint,
  closes: ReadonlyMap<Period, Cut>,
): Placement {
  let period = periodOfDay(day);
  let carried = false;
  for (;;) {
    const cut = closes.get(period);
    if (cut === undefined || offset <= (cut.get(partition) ?? -1n)) break;
    period = nextPeriod(period);
    carried = true;
  }
  return { period, day: carried ? `${period}-01` : day };
}

/** Every time zone is between UTC-12 and UTC+14: a month is over everywhere 14 hours after it ends in UTC. */
const LATEST_ZONE_MS = 14 * 3_600_000;

/** Throws unless `period` is a month that is over in every time zone at `nowMs` (a period is closed after it ends). */
export function checkClosable(period: string, nowMs: number): void {
  if (!isPeriod(period)) throw new PeriodError('INVALID_PERIOD', 'a period is a month, YYYY-MM', 'path/period');
  const next = nextPeriod(period);
  const endsMs = Date.UTC(Number(next.slice(0, 4)), Number(next.slice(5, 7)) - 1, 1) + LATEST_ZONE_MS;
  if (nowMs < endsMs)
    throw new PeriodError('PERIOD_NOT_OVER', `period ${period} is not over in every time zone yet`, 'path/period');
}

/** The instant local midnight starts the civil date y-m-d in `zone` (the first instant of that date there). */
export function startOfLocalDay(zones: TimeZones, zone: string, y: number, m: number, d: number): number {
  const wall = Date.UTC(y, m - 1, d);
  // two rounds: the offset at the guess decides; a day starting in a DST gap starts at the gap's end
  let t = wall - zones.offsetMinutes(zone, wall) * 60_000;
  t = wall - zones.offsetMinutes(zone, t) * 60_000;
  const p = zones.localParts(zone, t);
  if (p.year * 10000 + p.month * 100 + p.day < y * 10000 + m * 100 + d) t += 3_600_000;
  return t;
}

/** [start, end) of a civil month in `zone`, epoch ms. */
export function monthRange(zones: TimeZones, zone: string, period: Period): [number, number] {
  const next = nextPeriod(period);
  return [
    startOfLocalDay(zones, zone, Number(period.slice(0, 4)), Number(period.slice(5, 7)), 1),
    startOfLocalDay(zones, zone, Number(next.slice(0, 4)), Number(next.slice(5, 7)), 1),
  ];
}

/** [start, end) of a civil day (YYYY-MM-DD) in `zone`, epoch ms. */
export function dayRange(zones: TimeZones, zone: string, day: string): [number, number] {
  const y = Number(day.slice(0, 4));
  const m = Number(day.slice(5, 7));
  const d = Number(day.slice(8, 10));
  const [ny, nm, nd] = addDays(y, m, d, 1);
  return [startOfLocalDay(zones, zone, y, m, d), startOfLocalDay(zones, zone, ny, nm, nd)];
}
