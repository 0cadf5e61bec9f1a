import type { EntityManager } from 'typeorm';
import type { CdrCreated, MaintenanceDeclared, PeriodClosed, StationRegistered } from '@csms/contracts';
import type { EventHandler } from '@csms/messaging';
import { TimeZones } from '@csms/kernel';
import {
  amountText,
  assignPeriod,
  nextPeriod,
  revenueFactOf,
  type Cut,
  type Period,
  type StatusFact,
} from '@csms/finance';

/**
 * The finance read models, folded from billing.events (cdr.created), finance.events (finance.period_closed) and
 * registry.stations; the status facts and maintenance windows come with the monitoring consumer
 * (`monitoring.handler.ts`). Where a CDR counts depends on its position in billing.events and the cuts of the
 * closed periods (libs/finance `assignPeriod`), never on the order the topics are read in.
 */

/**
 * The cut is read and written under one advisory lock: a CDR is placed holding it shared, a period is closed
 * holding it exclusively, so no CDR can be placed by the cuts known before a close and saved after it.
 */
const CUT_LOCK = 0x6669_6e31;

interface Position {
  partition: number;
  offset: string;
}

interface CdrRow {
  cdr_id: string;
  partition: number;
  offset: string;
  issue_day: string;
  reported_day: string;
  currency: string;
  site_id: string;
  station_id: string;
  evse_uid: string;
  tariff_id: string;
  tariff_version: number;
  account_id: string;
  sessions: number;
  energy_kwh: string;
  charging_hours: string;
  parking_hours: string;
  net: string;
  vat: string;
  gross: string;
}

export async function loadCuts(m: EntityManager): Promise<Map<Period, Cut>> {
  const rows: Array<{ period: string; cut: Array<{ partition: number; offset: string }> }> = await m.query(
    'select period, cut from finance_period_closes',
  );
  return new Map(rows.map((r) => [r.period, new Map(r.cut.map((c) => [c.partition, BigInt(c.offset)]))]));
}

const SUMS = `cdrs = d.cdrs + excluded.cdrs, sessions = d.sessions + excluded.sessions,
  energy_kwh = d.energy_kwh + excluded.energy_kwh, charging_hours = d.charging_hours + excluded.charging_hours,
  parking_hours = d.parking_hours + excluded.parking_hours, net = d.net + excluded.net,
  vat = d.vat + excluded.vat, gross = d.gross + excluded.gross`;

/**
 * A CDR's 12 keys in revenue_rollup ($1 its day, $9 its month, $3..$8 its dimensions as in revenue_daily's key):
 * the day and the month x no dimension, site, station, EVSE, tariff and version, account.
 */
const ROLLUP_KEYS = `(select g.grain, k.dimension, case g.grain when 'd' then $1::date else $9::date end as day, k.k1, k.k2
  from (values ('d'), ('m')) g (grain)
  cross join (values ('', '', 0), ('site', $3::text, 0), ('station', $4::text, 0), ('evse', $5::text, 0),
    ('tariff', $6::text, $7::int), ('account', $8::text, 0)) k (dimension, k1, k2))`;

/**
 * Adds (sign 1) or takes away (sign -1) one CDR's figures on its reported day, in revenue_daily (every
 * dimension), revenue_monthly (every dimension, the day's month) and revenue_rollup (the day and the month x
 * none or one dimension); a bucket left with no CDR goes, so the tables hold the same rows
 * whatever order the CDRs and closes were folded in.
 */
async function addToRevenue(m: EntityManager, r: CdrRow, day: string, sign: 1 | -1): Promise<void> {
  const month = `${day.slice(0, 7)}-01`;
  const key = [day, r.currency, r.site_id, r.station_id, r.evse_uid, r.tariff_id, r.tariff_version, r.account_id];
  const figures = [
    sign,
    sign * r.sessions,
    ...[r.energy_kwh, r.charging_hours, r.parking_hours, r.net, r.vat, r.gross].map((v) =>
      sign === 1 ? v : v.startsWith('-') ? v.slice(1) : `-${v}`,
    ),
  ];
  await m.query(
    `insert into revenue_daily as d (day, currency, site_id, station_id, evse_uid, tariff_id, tariff_version, account_id,
       cdrs, sessions, energy_kwh, charging_hours, parking_hours, net, vat, gross)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     on conflict (day, currency, site_id, station_id, evse_uid, tariff_id, tariff_version, account_id) do update set ${SUMS}`,
    [...key, ...figures],
  );
  // the month's row at the same grain (revenue_monthly): the year's reports by month read it
  await m.query(
    `insert into revenue_monthly as d (month, currency, site_id, station_id, evse_uid, tariff_id, tariff_version,
       account_id, cdrs, sessions, energy_kwh, charging_hours, parking_hours, net, vat, gross)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     on conflict (month, currency, site_id, station_id, evse_uid, tariff_id, tariff_version, account_id) do update set ${SUMS}`,
    [month, ...key.slice(1), ...figures],
  );
  // per grain x currency x one dimension (revenue_rollup): what a report by none or one dimension reads
  await m.query(
    `insert into revenue_rollup as d (grain, dimension, day, currency, k1, k2, cdrs, sessions, energy_kwh,
       charging_hours, parking_hours, net, vat, gross)
     select k.grain, k.dimension, k.day, $2::text, k.k1, k.k2,
       $10::int, $11::int, $12::numeric, $13::numeric, $14::numeric, $15::numeric, $16::numeric, $17::numeric
     from ${ROLLUP_KEYS} k
     on conflict (grain, dimension, day, currency, k1, k2) do update set ${SUMS}`,
    [...key, month, ...figures],
  );
  if (sign === -1) {
    await m.query(
      `delete from revenue_rollup d using ${ROLLUP_KEYS} k
       where d.grain = k.grain and d.dimension = k.dimension and d.day = k.day and d.currency = $2 and d.k1 = k.k1
         and d.k2 = k.k2 and d.cdrs = 0`,
      [...key, month],
    );
    await m.query(
      `delete from revenue_daily where day = $1 and currency = $2 and site_id = $3 and station_id = $4 and evse_uid = $5
         and tariff_id = $6 and tariff_version = $7 and account_id = $8 and cdrs = 0`,
      key,
    );
    await m.query(
      `delete from revenue_monthly where month = $1 and currency = $2 and site_id = $3 and station_id = $4
         and evse_uid = $5 and tariff_id = $6 and tariff_version = $7 and account_id = $8 and cdrs = 0`,
      [month, ...key.slice(1)],
    );
  }
}

/** A CDR (or credit CDR): its fact, placed in its period, added to its day's revenue. Idempotent by CDR id. */
export async function applyCdrCreated(
  m: EntityManager,
  p: CdrCreated['payload'],
  at: Position,
  zones: TimeZones,
): Promise<void> {
  await m.query('select pg_advisory_xact_lock_shared($1)', [CUT_LOCK]);
  const f = revenueFactOf(p, zones);
  const placement = assignPeriod(f.day, at.partition, BigInt(at.offset), await loadCuts(m));
  // the OCPI object as OCPI has it: the audit and the account are this system's, not the roaming partner's
  const row: CdrRow = {
    cdr_id: f.cdrId,
    partition: at.partition,
    offset: at.offset,
    issue_day: f.day,
    reported_day: placement.day,
    currency: f.currency,
    site_id: f.siteId,
    station_id: f.stationId,
    evse_uid: f.evseUid,
    tariff_id: f.tariffId,
    tariff_version: f.tariffVersion,
    account_id: f.accountId ?? '',
    sessions: f.sessions,
    energy_kwh: f.energyKwh,
    charging_hours: f.chargingHours,
    parking_hours: f.parkingHours,
    // with the currency's minor units, as the exports write them
    net: amountText(f.net, f.currency),
    vat: amountText(f.vat, f.currency),
    gross: amountText(f.gross, f.currency),
  };
  const inserted: unknown[] = await m.query(
    `insert into finance_cdrs (cdr_id, partition, "offset", credit, credit_reference_id, session_id, station_id, site_id,
       evse_uid, connector_id, tariff_id, tariff_version, currency, account_id, issued_at, time_zone, issue_day,
       reported_day, sessions, energy_kwh, charging_hours, parking_hours, net, vat, gross, cdr)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
     on conflict (cdr_id) do nothing returning cdr_id`,
    [
      f.cdrId,
      at.partition,
      at.offset,
      f.credit,
      f.creditReferenceId,
      f.sessionId,
      f.stationId,
      f.siteId,
      f.evseUid,
      f.connectorId,
      f.tariffId,
      f.tariffVersion,
      f.currency,
      row.account_id,
      f.issuedAt,
      f.timeZone,
      f.day,
      placement.day,
      f.sessions,
      f.energyKwh,
      f.chargingHours,
      f.parkingHours,
      row.net,
      row.vat,
      row.gross,
      JSON.stringify(p.cdr),
    ],
  );
  if (inserted.length === 0) return;
  await addToRevenue(m, row, placement.day, 1);
}

const ROW_COLUMNS = `cdr_id, partition, "offset"::text as "offset", to_char(issue_day, 'YYYY-MM-DD') as issue_day,
  to_char(reported_day, 'YYYY-MM-DD') as reported_day, currency, site_id, station_id, evse_uid, tariff_id, tariff_version,
  account_id, sessions, energy_kwh::text as energy_kwh, charging_hours::text as charging_hours,
  parking_hours::text as parking_hours, net::text as net, vat::text as vat, gross::text as gross`;

/**
 * A period closed: its cut recorded and the CDRs reported in it placed again with the cut known (those after the
 * cut move to the next open period; in a live service none do, the cut being what was folded; in a rebuild that
 * read CDRs before the close, the late ones move now). Returns false when it was recorded already.
 */
export async function applyPeriodClosed(m: EntityManager, p: PeriodClosed['payload']): Promise<boolean> {
  await m.query('select pg_advisory_xact_lock($1)', [CUT_LOCK]);
  const inserted: unknown[] = await m.query(
    `insert into finance_period_closes (period, cut, revenue_report_sha256, closed_at, closed_by, closed_by_role)
     values ($1, $2, $3, $4, $5, $6) on conflict (period) do nothing returning period`,
    [p.period, JSON.stringify(p.billingEvents), p.revenueReportSha256, p.closedAt, p.closedBy, p.closedByRole],
  );
  if (inserted.length === 0) return false;
  const cuts = await loadCuts(m);
  const rows: CdrRow[] = await m.query(
    `select ${ROW_COLUMNS} from finance_cdrs where reported_day >= $1::date and reported_day < $2::date order by cdr_id`,
    [`${p.period}-01`, `${nextPeriod(p.period)}-01`],
  );
  for (const r of rows) {
    const placed = assignPeriod(r.issue_day, r.partition, BigInt(r.offset), cuts);
    if (placed.day === r.reported_day) continue;
    await addToRevenue(m, r, r.reported_day, -1);
    await addToRevenue(m, r, placed.day, 1);
    await m.query('update finance_cdrs set reported_day = $2 where cdr_id = $1', [r.cdr_id, placed.day]);
  }
  return true;
}

/** The cut of a close made now: per partition of billing.events, the last offset folded (-1: none). */
export async function currentCut(
  m: EntityManager,
  partitions: number,
): Promise<Array<{ partition: number; offset: string }>> {
  const rows: Array<{ partition: number; offset: string }> = await m.query(
    `select partition, max("offset")::text as offset from finance_cdrs group by partition`,
  );
  const known = new Map(rows.map((r) => [r.partition, r.offset]));
  const all = new Set([...Array.from({ length: partitions }, (_, i) => i), ...known.keys()]);
  return [...all].sort((a, b) => a - b).map((partition) => ({ partition, offset: known.get(partition) ?? '-1' }));
}

export const CUT_LOCK_KEY = CUT_LOCK;

export async function applyStationRegistered(m: EntityManager, p: StationRegistered['payload']): Promise<void> {
  await m.query(
    `insert into finance_stations (station_id, site_id, time_zone) values ($1, $2, $3)
     on conflict (station_id) do update set site_id = excluded.site_id, time_zone = excluded.time_zone`,
    [p.stationId, p.siteId, p.timeZone],
  );
}

export async function saveStatusFacts(m: EntityManager, facts: readonly StatusFact[]): Promise<void> {
  if (facts.length === 0) return;
  await m.query(
    `insert into evse_status_facts (station_id, evse_id, kind, at, seq, value)
     select * from unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::bigint[], $6::text[])
     on conflict do nothing`,
    [
      facts.map((f) => f.stationId),
      facts.map((f) => f.evseId),
      facts.map((f) => f.kind),
      facts.map((f) => new Date(f.atMs).toISOString()),
      facts.map((f) => f.seq.toString()),
      facts.map((f) => f.value),
    ],
  );
}

export async function applyMaintenanceDeclared(m: EntityManager, p: MaintenanceDeclared['payload']): Promise<void> {
  await m.query(
    `insert into maintenance_windows (maintenance_id, station_id, evse_id, from_at, to_at, reason, declared_at, declared_by, declared_by_role)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (maintenance_id) do nothing`,
    [p.maintenanceId, p.stationId, p.evseId ?? 0, p.from, p.to, p.reason, p.declaredAt, p.declaredBy, p.declaredByRole],
  );
}

/** One TimeZones cache per handler (the kernel's rule: a cache is an object its owner creates). */
const ZONES = 'finance.zones';

export const financeHandler: EventHandler = async (event, ctx) => {
  if (event.type === 'cdr.created') {
    let zones = ctx.scratch.get(ZONES) as TimeZones | undefined;
    if (!zones) {
      zones = new TimeZones();
      ctx.scratch.set(ZONES, zones);
    }
    await applyCdrCreated(ctx.manager, (event as CdrCreated).payload, ctx.position, zones);
  } else if (event.type === 'finance.period_closed')
    await applyPeriodClosed(ctx.manager, (event as PeriodClosed).payload);
  else if (event.type === 'registry.station_registered')
    await applyStationRegistered(ctx.manager, (event as StationRegistered).payload);
};
