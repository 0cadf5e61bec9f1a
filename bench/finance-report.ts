/**
 * Benchmark of the reporting service's finance read side on the real PostgreSQL (no Kafka: the fold's output is
 * written straight to the read model):
 *
 *   npx tsx bench/finance-report.ts [--cdrs 1000000] [--runs 7]
 *
 * Seeds `--cdrs` CDR rows (finance_cdrs; the OCPI object left out, `{}`, as the CSV export does not read it) issued
 * over 2025, 5 % of them credit CDRs: 20 sites x 10 stations x 2 EVSEs, 4 tariffs of 2 versions, 20 paying accounts
 * and no account, EUR; then revenue_daily and revenue_site_daily as the fold leaves them. Measures:
 * - the revenue report of the year (`revenueRows` + `revenueTotals`, what GET /api/v1/reports/revenue runs):
 *   per month x nothing, each dimension, every dimension (a whole year, and one cutting into January and December);
 *   per day x nothing and site (and with `--day-dimensions` x station and every dimension: up to a row per CDR);
 *   the JSON pages of 1,000 rows (`limit`, a cursor from July) by month and by day x every dimension; median of
 *   `--runs`. `--no-export` skips the export; `--keep` leaves the database;
 * - the CSV export of every CDR of the year through `streamRows` (the endpoint's code: COPY (query) TO STDOUT
 *   (FORMAT csv) through pg-copy-streams, CRLF records, back-pressure) over HTTP on loopback, read by a client in the
 *   same process: rows/s, this process's CPU time (user + system) during the export, and the resident memory at its
 *   peak above where it started (sampled every 50 ms).
 * Prints one JSON line. Targets: the year report < 200 ms over 1,000,000 CDRs; the export >= 50,000 rows/s with
 * flat memory.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { CDR_EXPORT_COLUMNS, REVENUE_DIMENSIONS } from '@csms/finance';
import { createTestDatabase } from '@csms/testing';
import { reportingServiceMigrations } from '../apps/reporting-service/src/migrations';
import {
  CDR_EXPORT_CSV_SQL,
  revenueRows,
  revenueTotals,
  streamRows,
  type RevenuePage,
  type RevenueQuery,
} from '../apps/reporting-service/src/finance.store';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('cdrs', 1_000_000);
const RUNS = arg('runs', 7);

async function main(): Promise<void> {
  const db = await createTestDatabase('finance_bench', reportingServiceMigrations);
  const ds = db.dataSource;
  try {
    const t0 = performance.now();
    await ds.query(
      `insert into finance_cdrs
       select 'CDR-' || g, g % 3, g / 3, g % 20 = 0, null, md5(g::text)::uuid,
         'CP-' || (g % 200), 'site-' || (g % 20), 'CP-' || (g % 200) || '*' || (1 + g % 2), '1',
         'T' || (g % 4), 1 + (g / 7) % 2, 'EUR', case when g % 21 = 0 then '' else 'acct-' || (g % 21) end,
         timestamptz '2025-01-01T00:00:00Z' + (g::bigint * 31536000 / $1) * interval '1 second', 'Europe/Amsterdam',
         (timestamptz '2025-01-01T00:00:00Z' + (g::bigint * 31536000 / $1) * interval '1 second')::date,
         (timestamptz '2025-01-01T00:00:00Z' + (g::bigint * 31536000 / $1) * interval '1 second')::date,
         case when g % 20 = 0 then -1 else 1 end,
         (case when g % 20 = 0 then -1 else 1 end) * ((g % 60000) / 1000.0 + 1)::numeric(12, 3),
         (case when g % 20 = 0 then -1 else 1 end) * 1.25, (case when g % 20 = 0 then -1 else 1 end) * 0.25,
         (case when g % 20 = 0 then -1 else 1 end) * ((g % 5000) / 100.0 + 1)::numeric(12, 2),
         (case when g % 20 = 0 then -1 else 1 end) * ((g % 5000) / 100.0 * 0.21)::numeric(12, 2),
         (case when g % 20 = 0 then -1 else 1 end) * ((g % 5000) / 100.0 * 1.21 + 1)::numeric(12, 2),
         '{}'::jsonb
       from generate_series(1, $1) g`,
      [N],
    );
    await ds.query(
      `insert into revenue_daily
       select reported_day, currency, site_id, station_id, evse_uid, tariff_id, tariff_version, account_id,
         count(*), sum(sessions), sum(energy_kwh), sum(charging_hours), sum(parking_hours), sum(net), sum(vat), sum(gross)
       from finance_cdrs group by 1, 2, 3, 4, 5, 6, 7, 8`,
    );
    await ds.query(
      `insert into revenue_site_daily
       select day, currency, site_id, sum(cdrs), sum(sessions), sum(energy_kwh), sum(charging_hours), sum(parking_hours),
         sum(net), sum(vat), sum(gross)
       from revenue_daily group by 1, 2, 3`,
    );
    await ds.query(
      `insert into revenue_monthly
       select date_trunc('month', day)::date, currency, site_id, station_id, evse_uid, tariff_id, tariff_version,
         account_id, sum(cdrs), sum(sessions), sum(energy_kwh), sum(charging_hours), sum(parking_hours), sum(net),
         sum(vat), sum(gross)
       from revenue_daily group by 1, 2, 3, 4, 5, 6, 7, 8`,
    );
    await ds.query('vacuum analyze revenue_monthly');
    await ds.query('vacuum analyze revenue_site_daily');
    await ds.query('vacuum analyze finance_cdrs');
    await ds.query('vacuum analyze revenue_daily');
    const seedMs = performance.now() - t0;
    const [{ n: buckets }] = (await ds.query('select count(*)::int as n from revenue_daily')) as Array<{ n: number }>;

    const year = { from: '2025-01-01', to: '2026-01-01' };
    const cases: Record<string, RevenueQuery> = {
      month: { ...year, granularity: 'month', groupBy: [] },
      ...Object.fromEntries(
        REVENUE_DIMENSIONS.map((d) => [
          `month_x_${d}`,
          { ...year, granularity: 'month', groupBy: [d] } as RevenueQuery,
        ]),
      ),
      month_x_every_dimension: { ...year, granularity: 'month', groupBy: REVENUE_DIMENSIONS },
      // a range that cuts into two months: whole months from revenue_monthly, the edges' days from revenue_daily
      month_x_every_dimension_mid_month: {
        from: '2025-01-15',
        to: '2025-12-16',
        granularity: 'month',
        groupBy: REVENUE_DIMENSIONS,
      },
      day: { ...year, granularity: 'day', groupBy: [] },
      day_x_site: { ...year, granularity: 'day', groupBy: ['site'] },
      ...(process.argv.includes('--day-dimensions')
        ? {
            day_x_station: { ...year, granularity: 'day', groupBy: ['station'] },
            day_x_every_dimension: { ...year, granularity: 'day', groupBy: REVENUE_DIMENSIONS },
          }
        : {}),
    };
    // the JSON pages (limit, cursor): the first 1,000 rows and a page from the middle of the year
    const pages: Record<string, { q: RevenueQuery; page: RevenuePage }> = {
      month_x_every_dimension_page_1000: {
        q: cases.month_x_every_dimension,
        page: { limit: 1001 },
      },
      month_x_every_dimension_page_1000_from_july: {
        q: cases.month_x_every_dimension,
        page: { limit: 1001, after: ['2025-07-01', 'EUR', '', '', '', '', '0', ''] },
      },
      day_x_every_dimension_page_1000: {
        q: { ...year, granularity: 'day', groupBy: REVENUE_DIMENSIONS },
        page: { limit: 1001 },
      },
      day_x_every_dimension_page_1000_from_july: {
        q: { ...year, granularity: 'day', groupBy: REVENUE_DIMENSIONS },
        page: { limit: 1001, after: ['2025-07-01', 'EUR', '', '', '', '', '0', ''] },
      },
    };
    const report: Record<string, { medianMs: number; rows: number }> = {};
    for (const [name, { q, page }] of [
      ...Object.entries(cases).map(([n, q]) => [n, { q, page: undefined }] as const),
      ...Object.entries(pages),
    ]) {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < RUNS; i++) {
        const s = performance.now();
        rows = (await revenueRows(ds, q, page)).length;
        await revenueTotals(ds, q);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      report[name] = { medianMs: Math.round(times[Math.floor(times.length / 2)] * 10) / 10, rows };
    }

    if (process.argv.includes('--no-export')) {
      console.log(
        JSON.stringify({
          bench: 'finance-report',
          cdrs: N,
          revenueDailyRows: buckets,
          seedSeconds: Math.round(seedMs / 100) / 10,
          yearReport: report,
          yearReportTargetMs: 200,
          loadAverage1m: (await import('node:os')).loadavg()[0],
        }),
      );
      return;
    }
    // the CSV export over HTTP, through the endpoint's streaming code
    const app = express();
    app.get('/export', (_req, res) => {
      void streamRows(ds, res, {
        sql: CDR_EXPORT_CSV_SQL,
        params: ['2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z'],
        format: 'csv',
        columns: CDR_EXPORT_COLUMNS,
        filename: 'cdrs',
      });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    global.gc?.();
    const rssStart = process.memoryUsage().rss;
    let rssPeak = rssStart;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 50);
    const cpu0 = process.cpuUsage();
    const s = performance.now();
    const { lines, bytes } = await new Promise<{ lines: number; bytes: number }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/export' }, (res) => {
        let lines = 0;
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
        });
        res.on('end', () => resolve({ lines, bytes }));
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    const exportMs = performance.now() - s;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    server.close();
    const load = (await import('node:os')).loadavg()[0];
    console.log(
      JSON.stringify({
        bench: 'finance-report',
        cdrs: N,
        revenueDailyRows: buckets,
        seedSeconds: Math.round(seedMs / 100) / 10,
        yearReport: report,
        yearReportTargetMs: 200,
        export: {
          rows: lines - 1,
          megabytes: Math.round(bytes / 1e5) / 10,
          seconds: Math.round(exportMs / 10) / 100,
          rowsPerSecond: Math.round(((lines - 1) / exportMs) * 1000),
          nodeCpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
          rssStartMb: Math.round(rssStart / 1e6),
          rssPeakAboveStartMb: Math.round((rssPeak - rssStart) / 1e6),
        },
        exportTargetRowsPerSecond: 50_000,
        loadAverage1m: load,
      }),
    );
  } finally {
    // --keep: leave the seeded database for EXPLAIN (its name on stderr)
    if (process.argv.includes('--keep')) {
      console.error(`kept database ${db.name}`);
      await ds.destroy();
    } else await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
