/**
 * Benchmark of the reporting service's finance read side on the real PostgreSQL (no Kafka: the fold's output is
 * written straight to the read model):
 *
 *   npx tsx bench/finance-report.ts [--cdrs 1000000] [--runs 7] [--no-export] [--keep] [--reuse <database>]
 *     [--only <regexp of the figures' labels>]
 *
 * Seeds `--cdrs` CDR rows (finance_cdrs; the OCPI object left out, `{}`, as the CSV export does not read it) issued
 * over 2025, 5 % of them credit CDRs, with a CPO's cardinalities: 50 sites of 20 stations (1,000 stations), 2 EVSEs
 * each (2,000), 12 tariffs (a station keeps one) in version 1 until July and version 2 from July, 5,000 accounts
 * paying 70 % of the sessions (30 % ad hoc, no account), EUR at 45 sites and GBP at 5; then revenue_daily,
 * revenue_monthly and revenue_rollup as the fold leaves them (`--reuse <database>`: a database a run with `--keep`
 * left, seeded already, migrated to the current schema instead). Measures:
 * - the revenue report of the year as an API client asks for it: GET /api/v1/reports/revenue of the reporting
 *   service itself (startReportingService on the seeded database: its HTTP server, API-key check, validation, the
 *   controller, PostgreSQL; its Kafka consumers idle on topics of their own), read to the last byte by a client in
 *   this process (fetch, keep-alive, loopback; the body taken as bytes: decoding and parsing it are the client's
 *   work, after the answer), median of `--runs` of the wall time and of this process's CPU time (the service's and
 *   the client's: one process); and, to tell the parts apart, the median of the same store calls made directly
 *   ("queries alone", `pgMs`: the answer's queries, PostgreSQL and the driver, a whole answer's COPY into a sink that
 *   drops it; no HTTP, no Nest), for every grouping: per month and
 *   per day x nothing (currency only), site, station, EVSE, tariff (and version), account, and every dimension.
 *   A grouping whose answer has more than 25,000 rows (per day x station, EVSE, account, every dimension; per month
 *   x account, every dimension) is asked for by pages: its first page of 1,000 rows (`limit`) and the page after 1
 *   July (`cursor`); its whole size is printed. Also a range cutting into January and December (month x station,
 *   month x every dimension, first page);
 * - the CSV export of every CDR of the year through `streamRows` (the endpoint's code: COPY (query) TO STDOUT
 *   (FORMAT csv) through pg-copy-streams, CRLF records, back-pressure) over HTTP on loopback, read by a client in the
 *   same process: rows/s, this process's CPU time (user + system) during the export, and the resident memory at its
 *   peak above where it started (sampled every 50 ms).
 * Prints one line per figure, then one JSON line. Targets: the year report < 200 ms over 1,000,000 CDRs; the export
 * >= 50,000 rows/s with flat memory.
 */
import { request } from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { CDR_EXPORT_COLUMNS, REVENUE_DIMENSIONS, type RevenueDimension } from '@csms/finance';
import { encodeCursor, newApiKey } from '@csms/service-kit';
import { openDatabase, silentLogger } from '@csms/platform';
import { TEST_KAFKA_BROKERS, createTestDatabase, testDatabaseUrl, uniqueName } from '@csms/testing';
import { loadReportingServiceConfig } from '../apps/reporting-service/src/config';
import { startReportingService } from '../apps/reporting-service/src/service';
import { REVENUE_ROLLUP_KEYS, reportingServiceMigrations } from '../apps/reporting-service/src/migrations';
import {
  CDR_EXPORT_CSV_SQL,
  revenueJsonRows,
  revenueKeyShape,
  revenueTotals,
  streamRevenueJson,
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

const REUSE = (() => {
  const i = process.argv.indexOf('--reuse');
  return i > 0 ? process.argv[i + 1] : undefined;
})();

async function main(): Promise<void> {
  const db = REUSE
    ? {
        name: REUSE,
        url: testDatabaseUrl(REUSE),
        dataSource: await openDatabase({
          url: testDatabaseUrl(REUSE),
          migrations: reportingServiceMigrations,
          poolSize: 5,
          applicationName: 'finance-bench',
        }),
        drop: async () => undefined,
      }
    : await createTestDatabase('finance_bench', reportingServiceMigrations);
  const ds = db.dataSource;
  let svc: Awaited<ReturnType<typeof startReportingService>> | undefined;
  try {
    const t0 = performance.now();
    if (!REUSE) await seed();
    const seedMs = performance.now() - t0;
    async function seed() {
      await ds.query(
        `insert into finance_cdrs
       select 'CDR-' || g, g % 3, g / 3, g % 20 = 0, null, md5(g::text)::uuid,
         'CP-' || s, 'site-' || (s / 20), 'CP-' || s || '*' || (1 + (g / 1000) % 2), '1',
         'T' || (s % 12), case when at < timestamptz '2025-07-01T00:00:00Z' then 1 else 2 end,
         case when s / 20 >= 45 then 'GBP' else 'EUR' end,
         case when g % 10 < 3 then '' else 'acct-' || ((g::bigint * 104729) % 5000) end,
         at, 'Europe/Amsterdam', at::date, at::date,
         case when g % 20 = 0 then -1 else 1 end,
         (case when g % 20 = 0 then -1 else 1 end) * ((g % 60000) / 1000.0 + 1)::numeric(12, 3),
         (case when g % 20 = 0 then -1 else 1 end) * 1.25, (case when g % 20 = 0 then -1 else 1 end) * 0.25,
         (case when g % 20 = 0 then -1 else 1 end) * ((g % 5000) / 100.0 + 1)::numeric(12, 2),
         (case when g % 20 = 0 then -1 else 1 end) * ((g % 5000) / 100.0 * 0.21)::numeric(12, 2),
         (case when g % 20 = 0 then -1 else 1 end) * ((g % 5000) / 100.0 * 1.21 + 1)::numeric(12, 2),
         '{}'::jsonb
       from (select g, (g::bigint * 7919) % 1000 as s,
               timestamptz '2025-01-01T00:00:00Z' + (g::bigint * 31536000 / $1) * interval '1 second' as at
             from generate_series(1, $1) g) x`,
        [N],
      );
      await ds.query(
        `insert into revenue_daily
       select reported_day, currency, site_id, station_id, evse_uid, tariff_id, tariff_version, account_id,
         count(*), sum(sessions), sum(energy_kwh), sum(charging_hours), sum(parking_hours), sum(net), sum(vat), sum(gross)
       from finance_cdrs group by 1, 2, 3, 4, 5, 6, 7, 8`,
      );
      await ds.query(
        `insert into revenue_monthly
       select date_trunc('month', day)::date, currency, site_id, station_id, evse_uid, tariff_id, tariff_version,
         account_id, sum(cdrs), sum(sessions), sum(energy_kwh), sum(charging_hours), sum(parking_hours), sum(net),
         sum(vat), sum(gross)
       from revenue_daily group by 1, 2, 3, 4, 5, 6, 7, 8`,
      );
      // revenue_rollup as its migration backfills it (the same sums the fold adds CDR by CDR)
      for (const [grain, table, day] of [
        ['d', 'revenue_daily', 'day'],
        ['m', 'revenue_monthly', 'month'],
      ] as const)
        for (const [dimension, k1, k2] of REVENUE_ROLLUP_KEYS)
          await ds.query(
            `insert into revenue_rollup
           select '${grain}', '${dimension}', ${day}, currency, ${k1}, ${k2}, sum(cdrs), sum(sessions),
             sum(energy_kwh), sum(charging_hours), sum(parking_hours), sum(net), sum(vat), sum(gross)
           from ${table} group by 3, 4, 5, 6`,
          );
      for (const t of ['revenue_rollup', 'revenue_monthly', 'finance_cdrs', 'revenue_daily'])
        await ds.query(`vacuum analyze ${t}`);
    }
    // the reporting service on the seeded database, asked as a client does
    const key = newApiKey('bench', 'finance');
    const t = (name: string) => uniqueName(`bench.finance.${name}`);
    svc = await startReportingService(
      loadReportingServiceConfig({
        KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
        KAFKA_PARTITIONS: '1',
        DATABASE_URL: db.url,
        HTTP_PORT: '0',
        API_KEYS: key.entry,
        REPORTING_CONSUMER_GROUP: t('reporting'),
        OCPP_INBOUND_TOPIC: t('inbound'),
        MONITORING_EVENTS_TOPIC: t('monitoring'),
        SESSION_EVENTS_TOPIC: t('sessions'),
        BILLING_EVENTS_TOPIC: t('billing'),
        FINANCE_EVENTS_TOPIC: t('finance'),
        REGISTRY_STATIONS_TOPIC: t('stations'),
        PAYMENT_EVENTS_TOPIC: t('payments'),
        OCPI_EVENTS_TOPIC: t('ocpi'),
        TARIFF_CONSUMER_GROUP: t('tariffs'),
        RECONCILIATION_INTERVAL_S: '0',
        LOG_LEVEL: 'silent',
      }),
      silentLogger(),
    );
    const url = svc.url;
    const pathOf = (rq: RevenueQuery, page?: RevenuePage) => {
      const p = new URLSearchParams({ from: rq.from, to: rq.to, granularity: rq.granularity });
      if (rq.groupBy.length) p.set('groupBy', rq.groupBy.join(','));
      if (page) p.set('limit', String(page.limit - 1));
      if (page?.after) p.set('cursor', encodeCursor([...page.after]));
      return `/api/v1/reports/revenue?${p.toString()}`;
    };
    const count = async (sql: string) => ((await ds.query(sql)) as Array<{ n: number }>)[0].n;
    const buckets = await count('select count(*)::int as n from revenue_daily');
    const monthlyRows = await count('select count(*)::int as n from revenue_monthly');
    const rollupRows = await count('select count(*)::int as n from revenue_rollup');

    const year = { from: '2025-01-01', to: '2026-01-01' };
    const dims = ['', ...REVENUE_DIMENSIONS] as const;
    const name = (g: string, d: string) => (d ? `${g}_x_${d}` : g);
    const q = (granularity: 'day' | 'month', d: string): RevenueQuery => ({
      ...year,
      granularity,
      groupBy: d === 'every_dimension' ? REVENUE_DIMENSIONS : d ? [d as RevenueDimension] : [],
    });
    // the whole answer of each grouping whose answer is at most PAGE_ABOVE rows; the others by pages
    const PAGE_ABOVE = 25_000;
    const resultRows = async (rq: RevenueQuery) => {
      if (rq.groupBy.length === REVENUE_DIMENSIONS.length)
        return count(
          `select count(*)::int as n from ${rq.granularity === 'day' ? 'revenue_daily' : 'revenue_monthly'}`,
        );
      return count(
        `select count(*)::int as n from revenue_rollup where grain = '${rq.granularity === 'day' ? 'd' : 'm'}'
         and dimension = '${rq.groupBy[0] ?? ''}'`,
      );
    };
    const report: Record<
      string,
      {
        medianMs: number;
        nodeCpuMs: number;
        pgMs: number;
        rows: number;
        resultRows: number;
        bytes: number;
        page?: string;
      }
    > = {};
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10;
    };
    // --only <regexp>: the groupings whose label matches
    const onlyAt = process.argv.indexOf('--only');
    const only = onlyAt > 0 ? new RegExp(process.argv[onlyAt + 1]) : undefined;
    const measure = async (label: string, rq: RevenueQuery, page?: RevenuePage, pageName?: string) => {
      if (only && !only.test(label)) return;
      const times: number[] = [];
      const cpus: number[] = [];
      const pgTimes: number[] = [];
      let text = '';
      let status = 0;
      for (let i = 0; i < RUNS; i++) {
        // through the API: the request, the whole answer read
        const cpu0 = process.cpuUsage();
        const s = performance.now();
        const r = await fetch(`${url}${pathOf(rq, page)}`, { headers: { authorization: `Bearer ${key.key}` } });
        // to the last byte (the client's decoding and parsing of the text are the client's, not the answer's)
        const body = Buffer.from(await r.arrayBuffer());
        status = r.status;
        times.push(performance.now() - s);
        text = body.toString('utf8');
        const cpu = process.cpuUsage(cpu0);
        cpus.push((cpu.user + cpu.system) / 1000);
        // the same queries made directly (PostgreSQL and the driver only)
        const p0 = performance.now();
        await Promise.all([
          page
            ? revenueJsonRows(ds, rq, page)
            : streamRevenueJson(ds, new Writable({ write: (_c, _e, done) => done() }), rq, '', ''),
          revenueTotals(ds, rq),
        ]);
        pgTimes.push(performance.now() - p0);
      }
      if (status !== 200) throw new Error(`${label}: ${status} ${text.slice(0, 300)}`);
      const rows = (JSON.parse(text) as { rows: unknown[] }).rows.length;
      const total = page ? await resultRows(rq) : rows;
      report[label] = {
        medianMs: median(times),
        nodeCpuMs: median(cpus),
        pgMs: median(pgTimes),
        rows,
        resultRows: total,
        bytes: Buffer.byteLength(text),
        ...(pageName ? { page: pageName } : {}),
      };
      console.log(
        `${label.padEnd(44)} ${String(report[label].medianMs).padStart(7)} ms (node CPU ${report[label].nodeCpuMs} ms;` +
          ` queries alone ${report[label].pgMs} ms)  ${String(rows).padStart(6)} rows` +
          ` of ${total}${pageName ? ` (${pageName})` : ''}, ${Math.round(report[label].bytes / 1000)} kB`,
      );
    };
    const firstKey = (rq: RevenueQuery) =>
      [
        '2025-07-01',
        'EUR',
        ...revenueKeyShape(rq)
          .slice(2)
          .map((t) => (t === 'int' ? '0' : '')),
      ] as string[];
    for (const granularity of ['month', 'day'] as const)
      for (const d of [...dims, 'every_dimension']) {
        const rq = q(granularity, d);
        if ((await resultRows(rq)) <= PAGE_ABOVE) await measure(name(granularity, d), rq);
        else {
          // pages of 1,000 rows (`limit=1000`; the direct call asks for 1,001 as the controller does, to know whether
          // a next page exists)
          await measure(`${name(granularity, d)}_page_1000`, rq, { limit: 1001 }, 'first page');
          await measure(
            `${name(granularity, d)}_page_1000_from_july`,
            rq,
            { limit: 1001, after: firstKey(rq) },
            'page after 1 July',
          );
        }
      }
    // ranges cutting into January and December: whole months from the monthly rows, the edges' days summed
    const midMonth = { from: '2025-01-15', to: '2025-12-16', granularity: 'month' as const };
    await measure('month_x_station_mid_month', { ...midMonth, groupBy: ['station'] });
    await measure(
      'month_x_every_dimension_mid_month_page_1000',
      { ...midMonth, groupBy: REVENUE_DIMENSIONS },
      { limit: 1001 },
      'first page',
    );
    const load1m = (await import('node:os')).loadavg();
    console.log(`load average ${load1m.map((l) => l.toFixed(2)).join(' ')}`);

    await svc.stop();
    svc = undefined;
    if (process.argv.includes('--no-export')) {
      console.log(
        JSON.stringify({
          bench: 'finance-report',
          cdrs: N,
          revenueDailyRows: buckets,
          revenueMonthlyRows: monthlyRows,
          revenueRollupRows: rollupRows,
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
      `CSV export of ${lines - 1} CDRs: ${Math.round(((lines - 1) / exportMs) * 1000)} rows/s, ` +
        `${Math.round(exportMs / 10) / 100} s, node CPU ${Math.round((cpu.user + cpu.system) / 1e4) / 100} s, ` +
        `resident memory +${Math.round((rssPeak - rssStart) / 1e6)} MB at its peak; load average ${load.toFixed(2)}`,
    );
    console.log(
      JSON.stringify({
        bench: 'finance-report',
        cdrs: N,
        revenueDailyRows: buckets,
        revenueMonthlyRows: monthlyRows,
        revenueRollupRows: rollupRows,
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
    await svc?.stop();
    // --keep: leave the seeded database for EXPLAIN or `--reuse` (its name on stderr); --reuse: it stays
    if (process.argv.includes('--keep') || REUSE) {
      console.error(`kept database ${db.name}`);
      await ds.destroy();
    } else await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
