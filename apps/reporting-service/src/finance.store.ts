import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { DataSource, EntityManager } from 'typeorm';
import {
  REVENUE_COLUMNS,
  REVENUE_DIMENSIONS,
  amountText,
  inOrder,
  nextPeriod,
  type RevenueDimension,
  type Row,
} from '@csms/finance';
import { allCurrencies } from '@csms/money';
import type { Writable } from 'node:stream';
import { COPY_JSON_LINES, JsonLinesToArray, PgCsvToRfc4180, inlineParams, type JsonLinesState } from './csv-copy';

/**
 * RFC 4180: comma, CRLF between records, a field quoted when it holds a comma, a quote or a line break; UTF-8
 * without a byte-order mark; null an empty field, booleans `true` / `false`, decimals as the text they are.
 */
export const CSV_OPTIONS = {
  record_delimiter: 'windows',
  bom: false,
  cast: { boolean: (v: boolean) => (v ? 'true' : 'false') },
} as const;

export type RevenueRow = Row<typeof REVENUE_COLUMNS>;

export interface RevenueQuery {
  from: string;
  to: string;
  granularity: 'day' | 'month';
  groupBy: readonly RevenueDimension[];
  currency?: string;
}

const DIMENSION_COLUMNS: Record<RevenueDimension, string[]> = {
  site: ['site_id'],
  station: ['station_id'],
  evse: ['evse_uid'],
  tariff: ['tariff_id', 'tariff_version'],
  account: ['account_id'],
};
const FIGURES = `sum(cdrs)::int as cdrs, sum(sessions)::int as sessions,
  trim_scale(sum(energy_kwh))::text as energy_kwh, trim_scale(sum(charging_hours))::text as charging_hours,
  trim_scale(sum(parking_hours))::text as parking_hours, trim_scale(sum(net))::text as net,
  trim_scale(sum(vat))::text as vat, trim_scale(sum(gross))::text as gross`;

/** FIGURES of one row that is its own group (the same text: trim_scale of the one value) */
const FIGURES_OF_ROW = FIGURES.replace(/sum\(([a-z_]+)\)/g, '$1');

interface FigureRow {
  currency: string;
  cdrs: number;
  sessions: number;
  energy_kwh: string;
  charging_hours: string;
  parking_hours: string;
  net: string;
  vat: string;
  gross: string;
}

const figures = (r: FigureRow) => ({
  cdrs: r.cdrs,
  sessions: r.sessions,
  energy_kwh: r.energy_kwh,
  charging_hours: r.charging_hours,
  parking_hours: r.parking_hours,
  net: amountText(r.net, r.currency),
  vat: amountText(r.vat, r.currency),
  gross: amountText(r.gross, r.currency),
});

const DIMENSION_KEY = 'currency, site_id, station_id, evse_uid, tariff_id, tariff_version, account_id';
const SUMMED = 'cdrs, sessions, energy_kwh, charging_hours, parking_hours, net, vat, gross';

/** The first day of the first whole month in [from, to) and of the month `to` falls in (YYYY-MM-DD). */
function wholeMonths(from: string, to: string): { first: string; end: string } {
  return {
    first: from.endsWith('-01') ? from : `${nextPeriod(from.slice(0, 7))}-01`,
    end: `${to.slice(0, 7)}-01`,
  };
}

/** revenue_rollup's key columns as a report by one dimension names them. */
const ROLLUP_COLUMNS: Record<RevenueDimension, string> = {
  site: 'k1 as site_id',
  station: 'k1 as station_id',
  evse: 'k1 as evse_uid',
  tariff: 'k1 as tariff_id, k2 as tariff_version',
  account: 'k1 as account_id',
};

/**
 * Whether the report reads its rows as they are stored, each row a group already (no aggregate, the primary key's
 * order, a page stops after its rows): a grouping at a table's own grain. By none or one dimension (revenue_rollup),
 * per day or per whole months; by every dimension, per day (revenue_daily) or whole months (revenue_monthly).
 */
function readsGroups(q: RevenueQuery): boolean {
  const months = wholeMonths(q.from, q.to);
  const grain = q.granularity === 'day' || (months.first === q.from && months.end === q.to && q.from < q.to);
  return grain && (q.groupBy.length <= 1 || q.groupBy.length === REVENUE_DIMENSIONS.length);
}

/**
 * Where a report's rows come from, as `day` + currency + the dimensions + the figures, for days in [$1, $2); a
 * report by month is asked here either for whole months or for days within one month (revenueRows splits a range
 * that cuts into months at the month boundaries):
 * - by none or one dimension: revenue_rollup (days or months x currency x that dimension's keys, whatever the
 *   number of CDRs): its day rows by day, its month rows for whole months, its day rows for part of a month;
 * - by several dimensions: revenue_daily by day or for part of a month, revenue_monthly for whole months (a
 *   month's row stands on its first day, which is what the month's group key reads).
 * Every table holds the same sums of the same CDRs, so each gives the same report.
 */
function revenueSource(q: RevenueQuery): string {
  const { first, end } = wholeMonths(q.from, q.to);
  const monthsWhole = q.granularity === 'month' && first === q.from && end === q.to;
  const dayOf = q.granularity === 'day' ? 'day' : `${MONTH_OF_DAY} as day`;
  if (q.groupBy.length <= 1) {
    const dimension = q.groupBy[0] ?? '';
    const cols = dimension ? `, ${ROLLUP_COLUMNS[dimension as RevenueDimension]}` : '';
    // dimension is one of REVENUE_DIMENSIONS (validated): inlined as a literal
    return `(select ${monthsWhole ? 'day' : dayOf}, currency${cols}, ${SUMMED} from revenue_rollup
       where grain = '${monthsWhole ? 'm' : 'd'}' and dimension = '${dimension}' and day >= $1::date and day < $2::date)`;
  }
  if (monthsWhole)
    return `(select month as day, ${DIMENSION_KEY}, ${SUMMED} from revenue_monthly
      where month >= $1::date and month < $2::date)`;
  // days within one month, by month: that month's entries of revenue_daily_by_month (its order is the report's)
  const sameMonth =
    q.granularity === 'month' && q.to <= `${nextPeriod(q.from.slice(0, 7))}-01`
      ? ` and ${MONTH_OF_DAY} = date_trunc('month', $1::date::timestamp)::date`
      : '';
  return `(select ${dayOf}, ${DIMENSION_KEY}, ${SUMMED} from revenue_daily
    where day >= $1::date and day < $2::date${sameMonth})`;
}

/** A day's month (its first day), immutable (date -> timestamp): the expression revenue_daily_by_month indexes. */
const MONTH_OF_DAY = "date_trunc('month', day::timestamp)::date";

/** A page of the revenue report: at most `limit` rows after the row whose key is `after` (revenueKey's). */
export interface RevenuePage {
  limit: number;
  after?: readonly string[];
}

/** The sort key of a report row as a cursor holds it: day (its month's first day by month), currency, dimensions. */
export function revenueKey(q: RevenueQuery, r: RevenueRow): string[] {
  const cols = REVENUE_DIMENSIONS.filter((d) => q.groupBy.includes(d)).flatMap((d) => DIMENSION_COLUMNS[d]);
  return [
    String(r.day ?? `${String(r.period)}-01`),
    String(r.currency),
    ...cols.map((c) => {
      const v = r[c as keyof RevenueRow];
      return v === null ? '' : String(v);
    }),
  ];
}

/** How many key parts a cursor of this report has, and which is the tariff version (an integer). */
export function revenueKeyShape(q: RevenueQuery): Array<'date' | 'text' | 'int'> {
  const cols = REVENUE_DIMENSIONS.filter((d) => q.groupBy.includes(d)).flatMap((d) => DIMENSION_COLUMNS[d]);
  return ['date', 'text', ...cols.map((c) => (c === 'tariff_version' ? ('int' as const) : ('text' as const)))];
}

/**
 * The revenue report: the pre-aggregated days or months (revenueSource) summed by month or day, currency and the
 * dimensions asked for, in a fixed order: day, then text in byte order (collation "C", the same on every database),
 * the tariff version as a number. Grouped and sorted by the stored columns themselves (formatted only for the
 * answer), so a grouping that is a prefix of a table's key streams from its index, and a page (`page`) stops after
 * its rows. Days are each CDR's site's civil days; `to` is exclusive.
 */
export async function revenueRows(
  m: DataSource | EntityManager,
  q: RevenueQuery,
  page?: RevenuePage,
): Promise<RevenueRow[]> {
  return (await revenueParts(m, q, page, 'rows')) as RevenueRow[];
}

/**
 * The same rows as revenueRows, each as the JSON text of its object (`JSON.stringify` of revenueRows' row, byte for
 * byte), written by PostgreSQL: the JSON answer's rows. A report of tens of thousands of rows costs the service a
 * string per row instead of a parsed row of thirteen fields, an object and its serialisation.
 */
export async function revenueJsonRows(
  m: DataSource | EntityManager,
  q: RevenueQuery,
  page?: RevenuePage,
): Promise<string[]> {
  return (await revenueParts(m, q, page, 'json')) as string[];
}

interface SqlPart {
  sql: string;
  params: unknown[];
}

/**
 * Every row of a report (no page) written to `out` between `head` and `tail` (the answer's JSON around its rows),
 * then `out` ended: revenueJsonRows' texts joined by commas, as PostgreSQL sends them. Each part of the report (a
 * range cut into months has three) is a `COPY (its query) TO STDOUT` (COPY_JSON_LINES: a text and a line feed a
 * row) piped through JsonLinesToArray to `out` with back-pressure, in one read-only repeatable-read transaction on
 * a connection of its own: the service handles buffers, never a string or an object per row. A report by none or
 * one dimension at the rollup's grain is its rows' stored texts (revenue_rollup.json). A failure before anything
 * was written is thrown; after, `out` is destroyed (and the connection closed, as streamRows does: a half-read COPY
 * cannot be stopped).
 */
export async function streamRevenueJson(
  ds: DataSource,
  out: Writable,
  q: RevenueQuery,
  head: string,
  tail: string,
): Promise<void> {
  const parts = (await revenueParts(ds, q, undefined, 'sql')) as SqlPart[];
  const pool = (ds.driver as PostgresDriver).master as Pool;
  const client = await pool.connect();
  let broken: Error | undefined;
  let started = false;
  try {
    await client.query('begin transaction isolation level repeatable read read only');
    started = true;
    out.write(head);
    const state: JsonLinesState = { owed: false };
    for (const p of parts)
      await pipeline(
        client.query(copyTo(`copy (${inlineParams(p.sql, p.params)}) to stdout with ${COPY_JSON_LINES}`)),
        new JsonLinesToArray(state),
        out,
        { end: false },
      );
    await client.query('commit');
    out.end(tail);
  } catch (e) {
    broken = e instanceof Error ? e : new Error(String(e));
    if (started) {
      (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      if (!out.destroyed) out.destroy(broken);
      return;
    }
    throw broken;
  } finally {
    client.release(broken ?? false);
  }
}

/** minor units of a currency (the SQL of libs/money's table; 2 unless listed), as amountText pads to them */
const MINOR_UNITS_SQL = (column: string) => {
  const other = allCurrencies().filter((c) => c.minorUnits !== 2);
  return `(case ${column} ${other.map((c) => `when '${c.code}' then ${c.minorUnits}`).join(' ')} else 2 end)`;
};

/** FIGURES with the amounts as numbers (trim_scale'd), for the JSON rows to pad to the currency's minor units */
const FIGURES_NUMERIC = FIGURES.replace(/trim_scale\(sum\((net|vat|gross)\)\)::text/g, 'trim_scale(sum($1))');
const FIGURES_NUMERIC_OF_ROW = FIGURES_NUMERIC.replace(/sum\(([a-z_]+)\)/g, '$1');

/**
 * A page's keyset condition (the rows after `page.after`, in the report's key order) added to `where`, and its
 * `limit` clause; both as parameters appended to `params`. No page: no condition, no limit.
 */
function pageClauses(
  q: RevenueQuery,
  page: RevenuePage | undefined,
  key: readonly string[],
  params: unknown[],
  where: string[],
): string {
  if (page?.after) {
    const shape = revenueKeyShape(q);
    const values = page.after.map((v, i) => {
      params.push(shape[i] === 'int' ? Number(v) : v);
      return `$${params.length}::${shape[i] === 'date' ? 'date' : shape[i] === 'int' ? 'integer' : 'text'}`;
    });
    where.push(`(${key.join(', ')}) > (${values.join(', ')})`);
  }
  if (!page) return '';
  params.push(page.limit);
  return `limit $${params.length}`;
}

/**
 * A report by none or one dimension as JSON texts, from revenue_rollup: at its grain (readsGroups) each row's stored
 * `json`; by month over days of one month, the day rows summed per month and key and written by the same function
 * (revenue_rollup_json) as a month row's. Keys and order as revenueParts'.
 */
function rollupJsonSql(q: RevenueQuery, page: RevenuePage | undefined): SqlPart {
  const dimension = q.groupBy[0] ?? '';
  const { first, end } = wholeMonths(q.from, q.to);
  const identity = readsGroups(q);
  const monthsWhole = q.granularity === 'month' && first === q.from && end === q.to;
  const keyCols = ['r.day', 'r.currency', ...(dimension ? ['r.k1'] : []), ...(dimension === 'tariff' ? ['r.k2'] : [])];
  const params: unknown[] = [q.from, q.to];
  const where = [
    `r.grain = '${monthsWhole ? 'm' : 'd'}'`,
    `r.dimension = '${dimension}'`,
    'r.day >= $1::date',
    'r.day < $2::date',
  ];
  if (q.currency) {
    params.push(q.currency);
    where.push(`r.currency = $${params.length}`);
  }
  // by month over days: each day's month; days of one month read from revenue_rollup_days_by_month, in the
  // groups' order (no sort)
  const day = identity ? 'r.day' : `date_trunc('month', r.day::timestamp)::date`;
  if (!identity && q.to <= `${nextPeriod(q.from.slice(0, 7))}-01`)
    where.push(`${day} = date_trunc('month', $1::date::timestamp)::date`);
  const key = [day, ...keyCols.slice(1)];
  const limit = pageClauses(q, page, key, params, where);
  // dimension is one of REVENUE_DIMENSIONS (validated): inlined as a literal
  const j = identity
    ? 'r.json'
    : `revenue_rollup_json('m', '${dimension}', ${day}, r.currency, r.k1, r.k2, sum(r.cdrs)::int, sum(r.sessions)::int,
        sum(r.energy_kwh), sum(r.charging_hours), sum(r.parking_hours), sum(r.net), sum(r.vat), sum(r.gross))`;
  const groupBy = identity ? '' : `group by ${day}, r.currency, r.k1, r.k2`;
  const order = [day, 'r.currency', 'r.k1', 'r.k2'];
  return {
    sql: `select ${j} as j from revenue_rollup r where ${where.join(' and ')} ${groupBy} order by ${order.join(', ')} ${limit}`,
    params,
  };
}

async function revenueParts(
  m: DataSource | EntityManager,
  q: RevenueQuery,
  page: RevenuePage | undefined,
  mode: 'rows' | 'json' | 'sql',
): Promise<Array<RevenueRow | string | SqlPart>> {
  const json = mode !== 'rows';
  // by month over a range that cuts into months: the days of the first month, the whole months, the days of the
  // last month, asked one after the other (their groups are disjoint and in that order), each from its own table
  // and the whole months read as stored; a page stops at the part that fills it
  const { first, end } = wholeMonths(q.from, q.to);
  if (q.granularity === 'month' && first < end && (first !== q.from || end !== q.to)) {
    const out: Array<RevenueRow | string | SqlPart> = [];
    for (const part of [
      { ...q, to: first },
      { ...q, from: first, to: end },
      { ...q, from: end },
    ]) {
      if (part.from >= part.to) continue;
      out.push(...(await revenueParts(m, part, page && { limit: page.limit - out.length, after: page.after }, mode)));
      if (page && out.length >= page.limit) break;
    }
    return out;
  }
  if (json && q.groupBy.length <= 1) {
    const r = rollupJsonSql(q, page);
    if (mode === 'sql') return [r];
    const rows: Array<{ j: string }> = await m.query(r.sql, r.params);
    return rows.map((x) => x.j);
  }
  const cols = REVENUE_DIMENSIONS.filter((d) => q.groupBy.includes(d)).flatMap((d) => DIMENSION_COLUMNS[d]);
  const key = [
    'r.day',
    'r.currency collate "C"',
    ...cols.map((c) => (c === 'tariff_version' ? `r.${c}` : `r.${c} collate "C"`)),
  ];
  const params: unknown[] = [q.from, q.to];
  const where: string[] = [];
  if (q.currency) {
    params.push(q.currency);
    where.push(`r.currency = $${params.length}`);
  }
  const limit = pageClauses(q, page, key, params, where);
  const positions = key.map((_, i) => i + 1).join(', ');
  // a grouping at a table's own grain: a row is a group already; no aggregate, read in the primary key's order (no
  // hash of every row, no sort)
  const identity = readsGroups(q);
  const figuresSql = json ? (identity ? FIGURES_NUMERIC_OF_ROW : FIGURES_NUMERIC) : identity ? FIGURES_OF_ROW : FIGURES;
  const sql = `select ${key.map((k, i) => `${k} as k${i}`).join(', ')}, to_char(r.day, 'YYYY-MM-DD') as day_text,
       ${figuresSql}
     from ${revenueSource(q)} r ${where.length ? `where ${where.join(' and ')}` : ''}
     ${identity ? '' : `group by ${positions}`}
     order by ${positions} ${limit}`;
  if (json) {
    // the row object of revenueRows, as JSON.stringify writes it: keys in its order, '' keys as null, decimals as
    // strings, the amounts padded to the currency's minor units (amountText), text through to_json (its escapes)
    const text = (v: string) => `coalesce(to_json(nullif(${v}::text, ''))::text, 'null')`;
    const dim = (c: string) => {
      const i = cols.indexOf(c);
      if (i < 0) return `'null'`;
      return c === 'tariff_version' ? `x.k${i + 2}::text` : text(`x.k${i + 2}`);
    };
    const amount = (c: string) =>
      `'"' || round(x.${c}, greatest(scale(x.${c}), ${MINOR_UNITS_SQL('x.k1')}))::text || '"'`;
    const parts: Array<[string, string]> = [
      ['period', `'"' || substr(x.day_text, 1, 7) || '"'`],
      ['day', q.granularity === 'day' ? `'"' || x.day_text || '"'` : `'null'`],
      ['currency', `to_json(x.k1::text)::text`],
      ...(['site_id', 'station_id', 'evse_uid', 'tariff_id', 'tariff_version', 'account_id'].map((c) => [
        c,
        dim(c),
      ]) as Array<[string, string]>),
      ['cdrs', 'x.cdrs::text'],
      ['sessions', 'x.sessions::text'],
      ...(['energy_kwh', 'charging_hours', 'parking_hours'].map((c) => [c, `'"' || x.${c} || '"'`]) as Array<
        [string, string]
      >),
      ...(['net', 'vat', 'gross'].map((c) => [c, amount(c)]) as Array<[string, string]>),
    ];
    const expr = parts.map(([k, v], i) => `'${i === 0 ? '{' : ','}"${k}":' || ${v}`).join(' || ');
    const jsonSql = `select ${expr} || '}' as j from (${sql}) x order by ${key.map((_, i) => `x.k${i}`).join(', ')}`;
    if (mode === 'sql') return [{ sql: jsonSql, params }];
    const rows: Array<{ j: string }> = await m.query(jsonSql, params);
    return rows.map((r) => r.j);
  }
  const rows: Array<Omit<FigureRow, 'currency'> & Record<string, unknown>> = await m.query(sql, params);
  return rows.map((r) => {
    const dims = Object.fromEntries(cols.map((c, i) => [c, r[`k${i + 2}`]]));
    const text = r.day_text as string;
    const currency = r.k1 as string;
    return {
      period: text.slice(0, 7),
      day: q.granularity === 'day' ? text : null,
      currency,
      site_id: (dims.site_id as string) || null,
      station_id: (dims.station_id as string) || null,
      evse_uid: (dims.evse_uid as string) || null,
      tariff_id: (dims.tariff_id as string) || null,
      tariff_version: dims.tariff_version === undefined ? null : Number(dims.tariff_version),
      account_id: (dims.account_id as string) || null,
      ...figures({ ...r, currency }),
    };
  });
}

/** Totals per currency of the same range (the sum of every CDR reported in it). */
export async function revenueTotals(m: DataSource | EntityManager, q: RevenueQuery) {
  const params: string[] = [q.from, q.to];
  if (q.currency) params.push(q.currency);
  const rows: FigureRow[] = await m.query(
    `select currency, ${FIGURES} from revenue_rollup
     where grain = 'd' and dimension = '' and day >= $1::date and day < $2::date
     ${q.currency ? 'and currency = $3' : ''} group by currency order by currency collate "C"`,
    params,
  );
  return rows.map((r) => ({ currency: r.currency, ...figures(r) }));
}

export function revenueCsv(rows: readonly RevenueRow[]): string {
  return stringifySync(
    rows.map((r) => inOrder(REVENUE_COLUMNS, r)),
    { ...CSV_OPTIONS, header: true, columns: [...REVENUE_COLUMNS] },
  );
}

/** The report a period close fingerprints: every dimension, per day, the whole month. */
export function periodReportQuery(period: string): RevenueQuery {
  return {
    from: `${period}-01`,
    to: `${nextPeriod(period)}-01`,
    granularity: 'day',
    groupBy: REVENUE_DIMENSIONS,
  };
}

export async function periodReportSha256(m: DataSource | EntityManager, period: string): Promise<string> {
  return createHash('sha256')
    .update(revenueCsv(await revenueRows(m, periodReportQuery(period))), 'utf8')
    .digest('hex');
}

/**
 * The CDR export: CDR_EXPORT_COLUMNS in their order, formatted by the database (amounts are stored with the
 * currency's minor units), CDRs issued in [$1, $2) by issue time and id. The CSV's (COPY) has `credit` as the text
 * `true` / `false`; the JSON's a boolean.
 */
const cdrExportSql = (
  credit: string,
) => `select cdr_id, ${credit}, credit_reference_id, session_id, station_id, site_id, evse_uid,
    connector_id, tariff_id, tariff_version, currency, nullif(account_id, ''),
    to_char(issued_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), time_zone, to_char(issue_day, 'YYYY-MM-DD'),
    to_char(reported_day, 'YYYY-MM-DD'), energy_kwh::text, charging_hours::text, parking_hours::text, net::text,
    vat::text, gross::text
  from finance_cdrs where issued_at >= $1 and issued_at < $2 order by issued_at, cdr_id collate "C"`;
export const CDR_EXPORT_SQL = cdrExportSql('credit');
export const CDR_EXPORT_CSV_SQL = cdrExportSql('credit::text');

const FETCH = 2000;

/**
 * Streams a query's rows to the response as CSV or as a JSON object `{ "items": [...] }`, in one read-only,
 * repeatable-read transaction (one consistent snapshot), on a connection of its own taken from the pool. The
 * query's columns are `columns`, in that order.
 *
 * CSV: PostgreSQL writes it. `COPY (query) TO STDOUT (FORMAT csv)` through pg-copy-streams, the header written
 * here (csv-stringify, CSV_OPTIONS), PostgreSQL's LF records made CRLF and its `""` (an empty string) an empty
 * field by PgCsvToRfc4180, piped to the response with back-pressure (stream.pipeline): when the client stops
 * reading, the socket's buffer fills and PostgreSQL waits on its own send. The query must give each column as the
 * CSV should show it (text, decimals `::text`, booleans `::text` for `true` / `false`; null an empty field).
 * COPY takes no bind parameters: `params` are inlined as escaped literals (inlineParams). A client that goes away
 * mid-export destroys the pipeline; pg-copy-streams cannot stop a COPY TO, so the connection is closed (released
 * to the pool with an error, its socket destroyed): the backend's next send fails, it ends and its transaction is
 * rolled back, and no connection in a half-read COPY goes back to the pool.
 *
 * JSON: a server-side cursor, `FETCH` (2,000) rows at a time as arrays, each batch written once the client has
 * taken the previous one.
 */
export async function streamRows(
  ds: DataSource,
  res: Response,
  opts: { sql: string; params: unknown[]; format: 'csv' | 'json'; columns: readonly string[]; filename: string },
): Promise<void> {
  if (opts.format === 'csv') return copyCsv(ds, res, opts);
  const runner = ds.createQueryRunner();
  const client = (await runner.connect()) as PoolClient;
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const write = async (chunk: string) => {
    if (!res.write(chunk) && !closed)
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
  };
  try {
    await client.query('begin transaction isolation level repeatable read read only');
    await client.query(`declare export_cursor no scroll cursor for ${opts.sql}`, opts.params);
    res.status(200);
    res.setHeader('content-type', 'application/json; charset=utf-8');
    await write('{"items":[');
    let first = true;
    for (;;) {
      if (closed) break;
      const batch = (await client.query({ text: `fetch ${FETCH} from export_cursor`, rowMode: 'array' }))
        .rows as unknown[][];
      if (batch.length > 0) {
        const items = batch.map((r) => JSON.stringify(Object.fromEntries(opts.columns.map((c, i) => [c, r[i]]))));
        await write(`${first ? '' : ','}${items.join(',')}`);
        first = false;
      }
      if (batch.length < FETCH) break;
    }
    await write(']}');
    await client.query('commit');
    res.end();
  } catch (e) {
    await client.query('rollback').catch(() => undefined);
    if (res.headersSent) res.destroy(e instanceof Error ? e : undefined);
    else throw e;
  } finally {
    await runner.release();
  }
}

async function copyCsv(
  ds: DataSource,
  res: Response,
  opts: { sql: string; params: unknown[]; columns: readonly string[]; filename: string },
): Promise<void> {
  const copySql = `copy (${inlineParams(opts.sql, opts.params)}) to stdout with (format csv)`;
  const pool = (ds.driver as PostgresDriver).master as Pool;
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('begin transaction isolation level repeatable read read only');
    const copy = client.query(copyTo(copySql));
    res.status(200);
    res.setHeader('content-type', 'text/csv; charset=utf-8; header=present');
    res.setHeader('content-disposition', `attachment; filename="${opts.filename}.csv"`);
    res.write(stringifySync([[...opts.columns]], CSV_OPTIONS));
    try {
      await pipeline(copy, new PgCsvToRfc4180(), res);
    } catch (e) {
      broken = e instanceof Error ? e : new Error(String(e));
      // the COPY may be half read: the connection is not reused (see streamRows)
      (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      if (!res.destroyed) res.destroy(broken);
      return;
    }
    await client.query('commit');
  } catch (e) {
    broken = e instanceof Error ? e : new Error(String(e));
    if (res.headersSent) res.destroy(broken);
    else throw e;
  } finally {
    client.release(broken ?? false);
  }
}
