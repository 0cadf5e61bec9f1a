import type { DataSource } from 'typeorm';
import {
  UPTIME_COLUMNS,
  UTILISATION_COLUMNS,
  dayRange,
  evseSegments,
  measureUptime,
  measureUtilisation,
  minutesOf,
  monthRange,
  neviTrailingYear,
  neviUptime,
  previousPeriod,
  sessionsStarted,
  type MaintenanceWindow,
  type Row,
  type StatusFact,
  type StatusFactKind,
} from '@csms/finance';
import type { TimeZones } from '@csms/kernel';

/**
 * Uptime and utilisation, cut from the status facts (evse_status_facts) and maintenance windows when asked, in
 * each station's time zone (the registry's; UTC for a station the registry has not named).
 */
export interface StationScope {
  stationId: string;
  timeZone: string;
  evses: number[];
}

/** The stations that have stated anything (ordered by id), after `after`, at most `limit`, with their EVSEs. */
export async function stationsInScope(
  ds: DataSource,
  q: { stationId?: string; after?: string; limit: number },
): Promise<StationScope[]> {
  const rows: Array<{ station_id: string; time_zone: string | null; evses: number[] }> = await ds.query(
    `select f.station_id, s.time_zone, array_agg(distinct f.evse_id order by f.evse_id) filter (where f.evse_id > 0) as evses
     from evse_status_facts f left join finance_stations s on s.station_id = f.station_id
     where ($1::text is null or f.station_id = $1) and ($2::text is null or f.station_id > $2 collate "C")
     group by f.station_id, s.time_zone order by f.station_id collate "C" limit $3`,
    [q.stationId ?? null, q.after ?? null, q.limit],
  );
  return rows.map((r) => ({ stationId: r.station_id, timeZone: r.time_zone ?? 'UTC', evses: r.evses ?? [] }));
}

/** The station's facts in [fromMs, toMs), and the last fact of each EVSE and kind before fromMs (the state then). */
async function factsOf(ds: DataSource, stationId: string, fromMs: number, toMs: number): Promise<StatusFact[]> {
  const cols = `station_id, evse_id, kind, value, (extract(epoch from at) * 1000)::bigint::text as at_ms, seq::text as seq`;
  const rows: Array<{ station_id: string; evse_id: number; kind: string; value: string; at_ms: string; seq: string }> =
    await ds.query(
      `(select ${cols} from evse_status_facts where station_id = $1 and at >= $2 and at < $3)
       union all
       (select distinct on (evse_id, kind) ${cols} from evse_status_facts where station_id = $1 and at < $2
        order by evse_id, kind, at desc, seq desc)`,
      [stationId, new Date(fromMs).toISOString(), new Date(toMs).toISOString()],
    );
  return rows.map((r) => ({
    stationId: r.station_id,
    evseId: r.evse_id,
    kind: r.kind as StatusFactKind,
    value: r.value,
    atMs: Number(r.at_ms),
    seq: BigInt(r.seq),
  }));
}

async function maintenanceOf(
  ds: DataSource,
  stationId: string,
  fromMs: number,
  toMs: number,
): Promise<MaintenanceWindow[]> {
  const rows: Array<{ evse_id: number; from_ms: string; to_ms: string }> = await ds.query(
    `select evse_id, (extract(epoch from from_at) * 1000)::bigint::text as from_ms, (extract(epoch from to_at) * 1000)::bigint::text as to_ms
     from maintenance_windows where station_id = $1 and to_at > $2 and from_at < $3 order by from_at, maintenance_id`,
    [stationId, new Date(fromMs).toISOString(), new Date(toMs).toISOString()],
  );
  return rows.map((r) => ({ evseId: r.evse_id, fromMs: Number(r.from_ms), toMs: Number(r.to_ms) }));
}

export type UptimeRow = Row<typeof UPTIME_COLUMNS>;
export interface UptimeOutage {
  from: string;
  to: string;
  cause: string;
  minutes: string;
  excluded_minutes: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Uptime per EVSE over a civil month (`period`) or a range of civil days [from, to), in the station's zone: outage,
 * excluded and unknown minutes, the outages, the NEVI percentage over the period's minutes and, for a month, over
 * the trailing 12 months ending with it (P = 525,600 minutes).
 */
export async function uptimeRows(
  ds: DataSource,
  zones: TimeZones,
  scopes: StationScope[],
  range: { period: string } | { from: string; to: string },
): Promise<Array<UptimeRow & { outage_list: UptimeOutage[] }>> {
  const out: Array<UptimeRow & { outage_list: UptimeOutage[] }> = [];
  for (const s of scopes) {
    const [fromMs, toMs] =
      'period' in range
        ? monthRange(zones, s.timeZone, range.period)
        : [dayRange(zones, s.timeZone, range.from)[0], dayRange(zones, s.timeZone, range.to)[0]];
    let yearFrom = fromMs;
    if ('period' in range) {
      let p = range.period;
      for (let i = 0; i < 11; i++) p = previousPeriod(p);
      yearFrom = monthRange(zones, s.timeZone, p)[0];
    }
    const facts = await factsOf(ds, s.stationId, yearFrom, toMs);
    const windows = await maintenanceOf(ds, s.stationId, yearFrom, toMs);
    for (const evse of s.evses) {
      const u = measureUptime(evseSegments(evse, facts, windows, fromMs, toMs));
      const year = 'period' in range ? measureUptime(evseSegments(evse, facts, windows, yearFrom, toMs)) : null;
      out.push({
        period: 'period' in range ? range.period : `${range.from}/${range.to}`,
        station_id: s.stationId,
        evse_id: evse,
        time_zone: s.timeZone,
        period_minutes: minutesOf(BigInt(toMs - fromMs)),
        outage_minutes: minutesOf(BigInt(u.outageMs)),
        excluded_minutes: minutesOf(BigInt(u.excludedMs)),
        unknown_minutes: minutesOf(BigInt(u.unknownMs)),
        outages: u.outages.length,
        uptime_percent: neviUptime(BigInt(toMs - fromMs), BigInt(u.outageMs), BigInt(u.excludedMs)).percent,
        trailing_12_months_percent: year
          ? neviTrailingYear(BigInt(year.outageMs), BigInt(year.excludedMs)).percent
          : null,
        outage_list: u.outages.map((o) => ({
          from: iso(o.fromMs),
          to: iso(o.toMs),
          cause: o.cause,
          minutes: minutesOf(BigInt(o.toMs - o.fromMs)),
          excluded_minutes: minutesOf(BigInt(o.excludedMs)),
        })),
      });
    }
  }
  return out;
}

export type UtilisationRow = Row<typeof UTILISATION_COLUMNS>;

/** Utilisation per EVSE and civil day of its station's zone, [from, to) (YYYY-MM-DD). */
export async function utilisationRows(
  ds: DataSource,
  zones: TimeZones,
  scopes: StationScope[],
  days: string[],
): Promise<UtilisationRow[]> {
  const out: UtilisationRow[] = [];
  for (const s of scopes) {
    const ranges = days.map((d) => [d, ...dayRange(zones, s.timeZone, d)] as const);
    const facts = await factsOf(ds, s.stationId, ranges[0][1], ranges[ranges.length - 1][2]);
    for (const evse of s.evses)
      for (const [day, a, b] of ranges) {
        const u = measureUtilisation(evseSegments(evse, facts, [], a, b));
        out.push({
          day,
          station_id: s.stationId,
          evse_id: evse,
          time_zone: s.timeZone,
          occupied_minutes: minutesOf(BigInt(u.occupiedMs)),
          charging_minutes: minutesOf(BigInt(u.chargingMs)),
          idle_minutes: minutesOf(BigInt(u.idleMs)),
          unknown_minutes: minutesOf(BigInt(u.unknownMs)),
          sessions: sessionsStarted(evse, facts, a, b),
        });
      }
  }
  return out;
}
