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
import { PgCsvToRfc4180, inlineParams } from './csv-copy';

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

/**
 * The revenue report: the pre-aggregated days (revenue_daily) summed by period or day, currency and the
 * dimensions asked for, in a fixed order (byte collation, so the same on every database). Days are each CDR's
 * site's civil days; `to` is exclusive.
 */
export async function revenueRows(m: DataSource | EntityManager, q: RevenueQuery): Promise<RevenueRow[]> {
  const cols = REVENUE_DIMENSIONS.flatMap((d) => DIMENSION_COLUMNS[d]);
  // text in byte order (collation "C"), so the same on every database; sorted by position
  const select = cols
    .map((c) => {
      const grouped = q.groupBy.some((d) => DIMENSION_COLUMNS[d].includes(c));
      const text = c === 'tariff_version' ? "lpad(tariff_version::text, 10, '0')" : c;
      return `${grouped ? text : "''"} collate "C" as ${c}`;
    })
    .join(', ');
  const day = q.granularity === 'day' ? "to_char(day, 'YYYY-MM-DD')" : "''";
  const params: string[] = [q.from, q.to];
  if (q.currency) params.push(q.currency);
  const positions = ['period', 'day', 'currency', ...cols].map((_, i) => i + 1).join(', ');
  // grouped by site or by nothing: the per-site table (far fewer rows; the same sums)
  const table = q.groupBy.every((d) => d === 'site') ? 'revenue_site_daily' : 'revenue_daily';
  const rows: Array<FigureRow & Record<string, string>> = await m.query(
    `select to_char(day, 'YYYY-MM') collate "C" as period, ${day} collate "C" as day, currency collate "C" as currency,
       ${select}, ${FIGURES}
     from ${table} where day >= $1::date and day < $2::date ${q.currency ? 'and currency = $3' : ''}
     group by ${positions}
     order by ${positions}`,
    params,
  );
  return rows.map((r) => ({
    period: r.period,
    day: r.day === '' ? null : r.day,
    currency: r.currency,
    site_id: r.site_id || null,
    station_id: r.station_id || null,
    evse_uid: r.evse_uid || null,
    tariff_id: r.tariff_id || null,
    tariff_version: r.tariff_version === '' ? null : Number(r.tariff_version),
    account_id: r.account_id || null,
    ...figures(r),
  }));
}

/** Totals per currency of the same range (the sum of every CDR reported in it). */
export async function revenueTotals(m: DataSource | EntityManager, q: RevenueQuery) {
  const params: string[] = [q.from, q.to];
  if (q.currency) params.push(q.currency);
  const rows: FigureRow[] = await m.query(
    `select currency, ${FIGURES} from revenue_site_daily where day >= $1::date and day < $2::date
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
