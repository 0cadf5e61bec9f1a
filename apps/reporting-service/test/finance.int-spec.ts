import { createHash } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { AddressInfo } from 'node:net';
import { stringify as stringifySync } from 'csv-stringify/sync';
import express from 'express';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  CdrCreatedV3,
  deriveId,
  systemCatalogue,
  type CdrCreatedPayload,
  type Envelope,
  type OcppMessageReceived,
} from '@csms/contracts';
import { creditCdrOf } from '@csms/billing';
import {
  CDR_EXPORT_COLUMNS,
  REVENUE_COLUMNS,
  REVENUE_DIMENSIONS,
  amountText,
  revenueFactOf,
  totalsByCurrency,
  type RevenueDimension,
  type RevenueFact,
} from '@csms/finance';
import { TimeZones } from '@csms/kernel';
import { KafkaRecordPublisher } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey, type RunningService } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  createTestTopics,
  dropTestDatabases,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
} from '@csms/testing';
import { loadReportingServiceConfig, type ReportingServiceConfig } from '../src/config';
import { CSV_OPTIONS, revenueJsonRows, revenueKey, revenueRows, streamRows } from '../src/finance.store';
import { rebuildReportingStore } from '../src/rebuild';
import { startReportingService } from '../src/service';

const finance = newApiKey('fin', 'finance');
const operator = newApiKey('ops', 'operator');
const OCPI_TOKEN = 'ocpi-test-token-6f1c';
const OCPI_AUTH = `Token ${Buffer.from(OCPI_TOKEN).toString('base64')}`;
const catalogue = systemCatalogue();
const zones = new TimeZones();
const example = CdrCreatedV3.example as CdrCreatedPayload;

interface Json {
  [k: string]: unknown;
}

/** A CDR of `site` (its zone), station, account, currency, issued (last_updated) at `at`, with its amounts. */
function cdrPayload(
  n: number,
  o: {
    at: string;
    site: string;
    zone: string;
    station: string;
    account: string | null;
    currency: string;
    excl: string;
    incl: string;
    energy: string;
  },
): CdrCreatedPayload {
  const id = `CDR-FIN-${String(n).padStart(5, '0')}`;
  const sessionId = deriveId('finance-test-session', n);
  return {
    cdr: {
      ...example.cdr,
      id,
      session_id: sessionId,
      start_date_time: new Date(Date.parse(o.at) - 3_600_000).toISOString(),
      end_date_time: o.at,
      last_updated: o.at,
      currency: o.currency,
      cdr_location: { ...example.cdr.cdr_location, id: o.site, evse_uid: `${o.station}*1` },
      total_cost: { excl_vat: o.excl, incl_vat: o.incl },
      total_energy: o.energy,
      total_time: '1.25',
      total_parking_time: '0.25',
    },
    audit: { ...example.audit, sessionId, stationId: o.station, timeZone: o.zone, tariffVersion: 1 + (n % 2) },
    billingAccountId: o.account,
  };
}

const envelopeOf = (p: CdrCreatedPayload): Envelope =>
  catalogue.create(CdrCreatedV3, {
    id: deriveId('cdr-created', p.cdr.id),
    key: p.audit.sessionId,
    occurredAt: p.cdr.last_updated,
    source: 'test',
    payload: p,
  });

function creditOf(p: CdrCreatedPayload, at: string): CdrCreatedPayload {
  const c = creditCdrOf(p.cdr, p.audit, at);
  return { ...p, cdr: c.cdr, audit: c.audit };
}

describe('reporting service: finance reports, exports, OCPI CDRs, period close, uptime (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let svc: RunningService;
  let cfg: ReportingServiceConfig;
  let pg: Client;
  const db = `csms_test_finance_${process.pid}_${Math.floor(performance.now())}`;
  const topics = {
    billing: uniqueName('test.billing-events'),
    finance: uniqueName('test.finance-events'),
    stations: uniqueName('test.registry-stations'),
    inbound: uniqueName('test.ocpp-inbound'),
    monitoring: uniqueName('test.monitoring-events'),
  };
  const published: CdrCreatedPayload[] = [];
  let seq = 0;

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, Object.values(topics), 3);
    cfg = loadReportingServiceConfig({
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(db),
      HTTP_PORT: '0',
      API_KEYS: [finance.entry, operator.entry].join(','),
      // reconciliation only when a test asks (the scheduler has its own test: reconciliation-lifecycle)
      RECONCILIATION_INTERVAL_S: '0',
      REPORTING_CONSUMER_GROUP: uniqueName('reporting'),
      OCPP_INBOUND_TOPIC: topics.inbound,
      MONITORING_EVENTS_TOPIC: topics.monitoring,
      SESSION_EVENTS_TOPIC: uniqueName('test.session-events'),
      BILLING_EVENTS_TOPIC: topics.billing,
      FINANCE_EVENTS_TOPIC: topics.finance,
      REGISTRY_STATIONS_TOPIC: topics.stations,
      TARIFF_CONSUMER_GROUP: uniqueName('tariffs'),
      OCPI_TOKENS: `hub:${createHash('sha256').update(OCPI_TOKEN).digest('hex')}`,
      OCPI_MAX_LIMIT: '50',
      LOG_LEVEL: 'silent',
    });
    svc = await startReportingService(cfg, silentLogger());
    pg = new Client({ connectionString: testDatabaseUrl(db) });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await svc?.stop();
    await publisher.disconnect();
    await dropTestDatabases([db]);
  });

  const get = async (path: string, key = finance.key) => {
    const r = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const text = await r.text();
    return {
      status: r.status,
      headers: r.headers,
      text,
      body: (r.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Json) : {},
    };
  };
  const post = async (path: string, body?: unknown, key = finance.key) => {
    const r = await fetch(`${svc.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const publishCdrs = async (ps: CdrCreatedPayload[]) => {
    published.push(...ps);
    await publisher.publish(
      ps.map((p) => ({ topic: topics.billing, key: p.audit.sessionId, value: JSON.stringify(envelopeOf(p)) })),
    );
  };
  const cdrsFolded = async () => Number((await pg.query('select count(*)::int as n from finance_cdrs')).rows[0].n);
  const revenueCsv = async (from: string, to: string) =>
    (await get(`/api/v1/reports/revenue?from=${from}&to=${to}&groupBy=site,station,evse,tariff,account&format=csv`))
      .text;

  /**
   * The report by none or one dimension (read from revenue_rollup) equals the report by every dimension (read from
   * revenue_daily / revenue_monthly) summed by that dimension: the same groups, the same figures to the last digit.
   */
  const expectOneDimensionMatchesEvery = async (from: string, to: string) => {
    const fixed = (v: unknown) => {
      const [i, f = ''] = String(v).split('.');
      const neg = i.startsWith('-');
      const n = BigInt(`${neg ? i.slice(1) : i}${f.padEnd(9, '0')}`);
      return neg ? -n : n;
    };
    const FIG = ['energy_kwh', 'charging_hours', 'parking_hours', 'net', 'vat', 'gross'] as const;
    const DIMS: Record<string, string[]> = {
      '': [],
      site: ['site_id'],
      station: ['station_id'],
      evse: ['evse_uid'],
      tariff: ['tariff_id', 'tariff_version'],
      account: ['account_id'],
    };
    for (const granularity of ['day', 'month'])
      for (const [dim, cols] of Object.entries(DIMS)) {
        const q = `from=${from}&to=${to}&granularity=${granularity}`;
        const every = (await get(`/api/v1/reports/revenue?${q}&groupBy=site,station,evse,tariff,account`)).body
          .rows as Json[];
        const one = await get(`/api/v1/reports/revenue?${q}${dim ? `&groupBy=${dim}` : ''}`);
        expect(one.status).toBe(200);
        const keyOf = (x: Json) => JSON.stringify([x.period, x.day, x.currency, ...cols.map((c) => x[c])]);
        const summed = new Map<string, string>();
        const acc = new Map<string, bigint[]>();
        for (const x of every) {
          const k = keyOf(x);
          const a = acc.get(k) ?? [0n, 0n, ...FIG.map(() => 0n)];
          acc.set(k, [
            a[0] + BigInt(Number(x.cdrs)),
            a[1] + BigInt(Number(x.sessions)),
            ...FIG.map((f, i) => a[i + 2] + fixed(x[f])),
          ]);
        }
        for (const [k, a] of acc) summed.set(k, a.join(','));
        const got = new Map(
          (one.body.rows as Json[]).map((x) => [
            keyOf(x),
            [BigInt(Number(x.cdrs)), BigInt(Number(x.sessions)), ...FIG.map((f) => fixed(x[f]))].join(','),
          ]),
        );
        expect({ granularity, dim, rows: [...got].sort() }).toEqual({ granularity, dim, rows: [...summed].sort() });
        // and in the report's order: day, currency, then the dimension's keys in byte order (the version a number)
        const order = (one.body.rows as Json[]).map((x) => [
          String(x.day ?? x.period),
          String(x.currency),
          ...cols.map((c) => x[c]),
        ]);
        const sorted = [...order].sort((a, b) => {
          for (let i = 0; i < a.length; i++) {
            if (a[i] === b[i]) continue;
            if (typeof a[i] === 'number') return Number(a[i]) - Number(b[i]);
            return Buffer.compare(Buffer.from(String(a[i] ?? '')), Buffer.from(String(b[i] ?? '')));
          }
          return 0;
        });
        expect(order).toEqual(sorted);
      }
  };

  const sites = [
    { site: 'site-ams', zone: 'Europe/Amsterdam', station: 'CP-AMS-1', currency: 'EUR' },
    { site: 'site-nyc', zone: 'America/New_York', station: 'CP-NYC-1', currency: 'USD' },
  ];
  const cdrs: CdrCreatedPayload[] = [];
  for (let n = 0; n < 40; n++) {
    const s = sites[n % 2];
    // spread over October and November 2026; n = 0 lands at 23:30 UTC on 31 October: 1 November in Amsterdam
    const at = n === 0 ? '2026-10-31T23:30:00Z' : new Date(Date.UTC(2026, 9, 1 + (n % 55), 10, n)).toISOString();
    const cents = 101 + n * 37;
    const excl = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
    const inclCents = Math.round((cents * 121) / 100);
    const incl = `${Math.floor(inclCents / 100)}.${String(inclCents % 100).padStart(2, '0')}`;
    cdrs.push(
      cdrPayload(n, { at, ...s, account: n % 3 === 0 ? null : `acct-${n % 3}`, excl, incl, energy: `${n}.${n % 7}01` }),
    );
  }

  it('revenue per day and dimension equals the sum of the CDRs to the cent; credit CDRs net in the period they are issued in', async () => {
    // a credit CDR of an October CDR, issued in November
    const credit = creditOf(cdrs[3], '2026-11-15T15:00:00Z');
    await publishCdrs([...cdrs, credit]);
    await waitFor(async () => (await cdrsFolded()) === cdrs.length + 1, { what: 'every CDR folded' });

    const facts: RevenueFact[] = published.map((p) => revenueFactOf(p, zones));
    const expected = totalsByCurrency(facts);
    const r = await get(
      '/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&granularity=month&groupBy=site,tariff,account',
    );
    expect(r.status).toBe(200);
    const totals = r.body.totals as Array<Json>;
    for (const t of totals) {
      const e = expected[t.currency as string];
      expect(t).toEqual({
        currency: t.currency,
        cdrs: e.cdrs,
        sessions: e.sessions,
        energy_kwh: e.energyKwh,
        charging_hours: e.chargingHours,
        parking_hours: e.parkingHours,
        net: amountText(e.net, t.currency as string),
        vat: amountText(e.vat, t.currency as string),
        gross: amountText(e.gross, t.currency as string),
      });
    }
    expect(totals.map((t) => t.currency)).toEqual(['EUR', 'USD']);
    // the rows add up to the totals, to the cent
    const rows = r.body.rows as Array<Json>;
    for (const t of totals) {
      const mine = rows.filter((x) => x.currency === t.currency);
      const cents = (k: string) => mine.reduce((a, x) => a + BigInt(String(x[k]).replace('.', '')), 0n);
      expect(cents('net').toString()).toBe(
        String(t.net)
          .replace('.', '')
          .replace(/^(-?)0+(?=\d)/, '$1'),
      );
      expect(cents('gross').toString()).toBe(
        String(t.gross)
          .replace('.', '')
          .replace(/^(-?)0+(?=\d)/, '$1'),
      );
    }
    // the day is the site's: the CDR of 23:30 UTC on 31 October counts on 1 November in Amsterdam
    const days = await get('/api/v1/reports/revenue?from=2026-11-01&to=2026-11-02&groupBy=station');
    expect((days.body.rows as Json[]).find((x) => x.station_id === 'CP-AMS-1')).toMatchObject({ day: '2026-11-01' });
    // the credit CDR counts on 15 November (no other CDR that day): -1 session and minus its cost, October keeps the original
    const nov15 = await get('/api/v1/reports/revenue?from=2026-11-15&to=2026-11-16&groupBy=station');
    const f3 = revenueFactOf(cdrs[3], zones);
    expect((nov15.body.rows as Json[]).find((x) => x.station_id === f3.stationId)).toMatchObject({
      sessions: -1,
      net: `-${cdrs[3].cdr.total_cost.excl_vat}`,
    });
    // CSV: RFC 4180, the fixed columns, decimals as text
    const csv = await revenueCsv('2026-10-01', '2026-12-01');
    expect(csv.split('\r\n')[0]).toBe(REVENUE_COLUMNS.join(','));
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n').length).toBeGreaterThan(10);

    // by month x every dimension the report reads revenue_monthly (whole months) and revenue_daily (the days of a
    // month the range cuts into): the same rows as the days summed per month and key
    const every = 'groupBy=site,station,evse,tariff,account';
    const byMonth = (await get(`/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&granularity=month&${every}`)).body
      .rows as Json[];
    const byDay = (await get(`/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&granularity=day&${every}`)).body
      .rows as Json[];
    const keyOf = (x: Json) =>
      [x.period, x.currency, x.site_id, x.station_id, x.evse_uid, x.tariff_id, x.tariff_version, x.account_id].join(
        '|',
      );
    const summed = new Map<string, { cdrs: number; sessions: number; gross: bigint }>();
    for (const x of byDay) {
      const k = keyOf(x);
      const a = summed.get(k) ?? { cdrs: 0, sessions: 0, gross: 0n };
      summed.set(k, {
        cdrs: a.cdrs + Number(x.cdrs),
        sessions: a.sessions + Number(x.sessions),
        gross: a.gross + BigInt(String(x.gross).replace('.', '')),
      });
    }
    expect(byMonth.length).toBe(summed.size);
    for (const x of byMonth)
      expect({ cdrs: x.cdrs, sessions: x.sessions, gross: BigInt(String(x.gross).replace('.', '')) }).toEqual(
        summed.get(keyOf(x)),
      );
    // a range cutting into October and November: whole months from one table, the edge days from the other
    const edges = (
      await get(`/api/v1/reports/revenue?from=2026-10-02&to=2026-11-20&granularity=month&${every}&currency=EUR`)
    ).body.rows as Json[];
    const edgeDays = byDay.filter((x) => String(x.day) >= '2026-10-02' && String(x.day) < '2026-11-20');
    expect(edges.reduce((a, x) => a + Number(x.cdrs), 0)).toBe(
      edgeDays.filter((x) => x.currency === 'EUR').reduce((a, x) => a + Number(x.cdrs), 0),
    );
    // pages (JSON): limit + nextCursor give the same rows as one answer, in the same order
    const paged: Json[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(
        `/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&granularity=month&${every}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      paged.push(...(page.body.rows as Json[]));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(paged).toEqual(byMonth);
    // by none or one dimension (revenue_rollup): the every-dimension rows summed, whole months and cut into
    await expectOneDimensionMatchesEvery('2026-10-01', '2026-12-01');
    await expectOneDimensionMatchesEvery('2026-10-02', '2026-11-20');
    // the JSON answer's rows, written by PostgreSQL, are JSON.stringify of the rows the CSV and the period hash
    // read, byte for byte: every grouping, by day and by month, whole months and cut into, a currency, pages, and
    // the whole answer as the endpoint streams it
    const ds = new DataSource({ type: 'postgres', url: testDatabaseUrl(db) });
    await ds.initialize();
    try {
      const groupings: RevenueDimension[][] = [
        [],
        ...REVENUE_DIMENSIONS.map((d) => [d]),
        ['site', 'tariff', 'account'],
        [...REVENUE_DIMENSIONS],
      ];
      for (const granularity of ['day', 'month'] as const)
        for (const groupBy of groupings)
          for (const [from, to, currency] of [
            ['2026-10-01', '2026-12-01', undefined],
            ['2026-10-02', '2026-11-20', undefined],
            // into two months, neither whole (one part, by month: each day's month)
            ['2026-10-15', '2026-11-10', undefined],
            ['2026-10-01', '2026-12-01', 'USD'],
          ] as const) {
            const rq = { from, to, granularity, groupBy, currency };
            const objects = await revenueRows(ds, rq);
            expect(objects.length).toBeGreaterThan(0);
            const texts = await revenueJsonRows(ds, rq);
            expect(texts).toEqual(objects.map((o) => JSON.stringify(o)));
            // the whole answer over HTTP (its rows streamed from COPY, the rollup's stored texts where it reads
            // them): the same texts, byte for byte, joined by commas
            const whole = await get(
              `/api/v1/reports/revenue?from=${from}&to=${to}&granularity=${granularity}` +
                `${groupBy.length ? `&groupBy=${groupBy.join(',')}` : ''}${currency ? `&currency=${currency}` : ''}`,
            );
            expect(whole.status).toBe(200);
            expect(
              whole.text.slice(whole.text.indexOf('"rows":[') + 8, whole.text.lastIndexOf('],"nextCursor":null,')),
            ).toBe(texts.join(','));
            const after = revenueKey(rq, objects[Math.floor(objects.length / 2)]);
            expect(await revenueJsonRows(ds, rq, { limit: 3, after })).toEqual(
              (await revenueRows(ds, rq, { limit: 3, after })).map((o) => JSON.stringify(o)),
            );
          }
    } finally {
      await ds.destroy();
    }
    // a page of a one-dimension report and the next: the same rows as one answer
    const byStation = (await get('/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&groupBy=station')).body
      .rows as Json[];
    const p1 = await get('/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&groupBy=station&limit=5');
    const p2 = await get(
      `/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&groupBy=station&limit=1000&cursor=${String(p1.body.nextCursor)}`,
    );
    expect([...(p1.body.rows as Json[]), ...(p2.body.rows as Json[])]).toEqual(byStation);
    const bad = await get(`/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&limit=7&format=csv`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'query/limit' });
  });

  it('exports CDRs as CSV written by PostgreSQL (COPY), streaming with back-pressure without loading every row', async () => {
    // 100,000 CDR rows issued in 2031 (copies of one, written straight to the read model: this tests the read path)
    await pg.query(
      `insert into finance_cdrs select 'BULK-' || g, partition, "offset", credit, credit_reference_id, session_id, station_id,
         site_id, evse_uid, connector_id, tariff_id, tariff_version, currency, account_id,
         timestamptz '2031-01-01T00:00:00Z' + g * interval '1 second', time_zone, issue_day, reported_day, sessions,
         energy_kwh, charging_hours, parking_hours, net, vat, gross, cdr
       from finance_cdrs, generate_series(1, 100000) g where cdr_id = 'CDR-FIN-00001'`,
    );
    const url = `${svc.url}/api/v1/reports/cdrs?from=2031-01-01T00:00:00Z&to=2031-02-01T00:00:00Z`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${finance.key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers.get('content-length')).toBeNull();
    const reader = res.body!.getReader();
    const first = await reader.read();
    let text = new TextDecoder().decode(first.value);
    // the client has one chunk and reads no more: the COPY waits on its send (the buffers between are full)
    const copying = async (waiting: boolean) =>
      (
        await pg.query(
          `select 1 from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and query like 'copy (%'
             and state = 'active' ${waiting ? "and wait_event = 'ClientWrite'" : ''}`,
          [db],
        )
      ).rowCount === 1;
    await waitFor(() => copying(true), { what: 'the COPY waiting for the client to drain' });
    expect(text.split('\r\n').length).toBeLessThan(100_000);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(CDR_EXPORT_COLUMNS.join(','));
    expect(lines.length).toBe(100_000 + 2); // header, rows, and the empty string after the last CRLF
    expect(text.split('\n').length).toBe(lines.length); // every record delimiter a CRLF
    expect(lines[1].startsWith('BULK-1,false,,')).toBe(true);
    expect(lines[1].split(',').length).toBe(CDR_EXPORT_COLUMNS.length);
    await waitFor(async () => !(await copying(false)), { what: 'the COPY done' });

    // a client that goes away mid-export: the COPY ends (its connection closed), and the next export is whole
    const gone = await fetch(url, { headers: { authorization: `Bearer ${finance.key}` } });
    const goneReader = gone.body!.getReader();
    await goneReader.read();
    await waitFor(() => copying(true), { what: 'the second COPY waiting for the client' });
    await goneReader.cancel();
    // exports one after the other until the abandoned COPY has ended: each whole (the pool hands out its last
    // released connection first; one left mid-COPY would hang the next export)
    let exports = 0;
    do {
      const again = await get('/api/v1/reports/cdrs?from=2031-01-01T00:00:00Z&to=2031-01-01T00:01:00Z');
      expect(again.status).toBe(200);
      expect(again.text.split('\r\n').length).toBe(59 + 2);
      exports++;
    } while ((await copying(false)) || exports < 3);
    await pg.query(`delete from finance_cdrs where cdr_id like 'BULK-%'`);
  });

  it("the COPY path's CSV is csv-stringify's (RFC 4180) for awkward values; parameters inlined as literals", async () => {
    const ds = new DataSource({ type: 'postgres', url: testDatabaseUrl(db) });
    await ds.initialize();
    const app = express();
    const values = ['a,b', 'x"y', 'l1\nl2', '', null, 'ü € 😀', ' lead', '\\.', "it's", 'back\\slash'];
    app.get('/csv', (_req, res) => {
      void streamRows(ds, res, {
        sql: `select v, $1 || coalesce(v, 'null'), true::text, false::text, 1.50::numeric::text, null::text
          from unnest($2::text[]) with ordinality u(v, n) order by n`,
        params: [
          "p'$2\\",
          `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`,
        ],
        format: 'csv',
        columns: ['v', 'p', 't', 'f', 'd', 'n'],
        filename: 'x',
      });
    });
    const server = app.listen(0, '127.0.0.1');
    try {
      await new Promise((r) => server.once('listening', r));
      const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/csv`);
      const rows = values.map((v) => [v, `p'$2\\${v ?? 'null'}`, 'true', 'false', '1.50', null]);
      expect(await r.text()).toBe(
        stringifySync([['v', 'p', 't', 'f', 'd', 'n'], ...rows], { ...CSV_OPTIONS, quoted_match: /\n/ }),
      );
    } finally {
      server.close();
      await ds.destroy();
    }
  });

  it('OCPI 2.2.1 CDRs sender interface: token auth, envelope, pagination headers, credit CDRs, numbers digit for digit', async () => {
    const none = await fetch(`${svc.url}/ocpi/2.2.1/cdrs`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as Json).status_code).toBe(2000);
    const plain = await fetch(`${svc.url}/ocpi/2.2.1/cdrs`, { headers: { authorization: `Token ${OCPI_TOKEN}` } });
    expect(plain.status).toBe(401);
    const apiKey = await fetch(`${svc.url}/ocpi/2.2.1/cdrs`, { headers: { authorization: `Bearer ${finance.key}` } });
    expect(apiKey.status).toBe(401);

    const page = async (qs: string) => {
      const r = await fetch(`${svc.url}/ocpi/2.2.1/cdrs${qs}`, { headers: { authorization: OCPI_AUTH } });
      return {
        r,
        text: await r.clone().text(),
        body: (await r.json()) as { data: Json[]; status_code: number; timestamp: string },
      };
    };
    const all: Json[] = [];
    let next: string | null = '?date_from=2026-10-01T00:00:00&date_to=2026-12-01T00:00:00Z&limit=500';
    let pages = 0;
    while (next) {
      const p = await page(next);
      expect(p.r.status).toBe(200);
      expect(p.body.status_code).toBe(1000);
      expect(typeof p.body.timestamp).toBe('string');
      expect(p.r.headers.get('x-total-count')).toBe(String(cdrs.length + 1));
      expect(p.r.headers.get('x-limit')).toBe('50'); // the server's maximum, below the 500 asked for
      all.push(...p.body.data);
      const link = p.r.headers.get('link');
      next = link ? new URL(/^<([^>]+)>; rel="next"$/.exec(link)![1]).search : null;
      pages++;
    }
    expect(pages).toBe(1);
    const small = await page('?limit=15&offset=30');
    expect(small.body.data).toHaveLength(11);
    expect(small.r.headers.get('link')).toBeNull();
    const first = await page('?limit=15');
    expect(first.r.headers.get('link')).toMatch(/offset=15&limit=15>; rel="next"$/);
    expect(all.map((c) => c.id).sort()).toEqual(published.map((p) => p.cdr.id).sort());
    const credit = all.find((c) => c.credit === true)!;
    expect(credit).toMatchObject({ credit_reference_id: cdrs[3].cdr.id });
    // amounts are JSON numbers written from the decimal text: "-2.12" as -2.12
    const raw = (await page('?limit=50')).text;
    expect(raw).toContain(
      `"total_cost":{"excl_vat":-${cdrs[3].cdr.total_cost.excl_vat},"incl_vat":-${cdrs[3].cdr.total_cost.incl_vat}}`,
    );
    const bad = await page('?date_from=yesterday');
    expect([bad.r.status, bad.body.status_code]).toEqual([200, 2001]);
  });

  it('a closed period never changes: a late CDR and a credit after the close land in the next open period; closing is an event', async () => {
    const before = await revenueCsv('2026-10-01', '2026-11-01');
    const closed = await post('/api/v1/periods/2026-10/close');
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ period: '2026-10', closedBy: 'api-key:fin', closedByRole: 'finance' });
    expect(closed.body.revenueReportSha256).toBe(createHash('sha256').update(before).digest('hex'));
    expect((await post('/api/v1/periods/2026-10/close')).status).toBe(409);
    expect((await post('/api/v1/periods/2026-12/close')).body.code).toBe('PERIOD_NOT_OVER');
    expect((await post('/api/v1/periods/2026-10/close', undefined, operator.key)).status).toBe(403);

    // after the close: a CDR issued in October (late) and a credit of an October CDR issued in October
    const late = cdrPayload(900, {
      at: '2026-10-20T12:00:00Z',
      ...sites[0],
      account: 'acct-1',
      excl: '10.00',
      incl: '12.10',
      energy: '30',
    });
    const lateCredit = creditOf(cdrs[5], '2026-10-25T12:00:00Z');
    await publishCdrs([late, lateCredit]);
    await waitFor(async () => (await cdrsFolded()) === published.length, { what: 'the late CDRs folded' });
    expect(await revenueCsv('2026-10-01', '2026-11-01')).toBe(before);
    // both on 1 November, the first day of the next open period
    const nov1 = await get('/api/v1/reports/revenue?from=2026-11-01&to=2026-11-02&groupBy=station,account');
    expect(nov1.body.rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ station_id: 'CP-AMS-1', account_id: 'acct-1', net: '10.00' }),
        expect.objectContaining({ station_id: cdrs[5].audit.stationId, sessions: -1 }),
      ]),
    );
    const exported = await get('/api/v1/reports/cdrs?from=2026-10-20T00:00:00Z&to=2026-10-21T00:00:00Z&format=json');
    expect((exported.body.items as Json[]).find((x) => x.cdr_id === late.cdr.id)).toMatchObject({
      issue_day: '2026-10-20',
      reported_day: '2026-11-01',
    });
    const periods = await get('/api/v1/periods?verify=true');
    expect(periods.body.items).toEqual([expect.objectContaining({ period: '2026-10', unchanged: true })]);
  });

  const sendInbound = async (stationId: string, receivedAt: string, rec: Json) => {
    seq++;
    const env: OcppMessageReceived = {
      id: deriveId('finance-test-inbound', stationId, seq),
      type: 'ocpp.message_received',
      version: 1,
      occurredAt: receivedAt,
      key: stationId,
      source: 'ocpp-gateway',
      causationId: null,
      correlationId: null,
      payload: {
        stationId,
        protocol: 'ocpp1.6',
        kind: 'call',
        messageId: `m${seq}`,
        receivedAt,
        connectionId: 'c1',
        gatewayInstance: 'gw',
        ...rec,
      } as OcppMessageReceived['payload'],
    };
    await publisher.publish([{ topic: topics.inbound, key: stationId, value: JSON.stringify(env) }]);
  };
  const status = (connectorId: number, s: string, at: string, extra: Json = {}) => ({
    action: 'StatusNotification',
    payload: {
      connectorId,
      status: s,
      errorCode: s === 'Faulted' ? 'GroundFailure' : 'NoError',
      timestamp: at,
      ...extra,
    },
  });

  it('uptime per EVSE: outages with cause, planned maintenance excluded, the NEVI percentage; utilisation per day', async () => {
    const cp = 'CP-UP-1';
    await sendInbound(cp, '2026-11-01T00:00:00Z', { kind: 'connected' });
    await sendInbound(cp, '2026-11-01T00:00:00Z', status(1, 'Available', '2026-11-01T00:00:00Z'));
    await sendInbound(cp, '2026-11-02T08:00:00Z', status(1, 'Preparing', '2026-11-02T08:00:00Z'));
    await sendInbound(cp, '2026-11-02T08:30:00Z', status(1, 'Charging', '2026-11-02T08:30:00Z'));
    await sendInbound(cp, '2026-11-02T10:30:00Z', status(1, 'SuspendedEV', '2026-11-02T10:30:00Z'));
    await sendInbound(cp, '2026-11-02T11:00:00Z', status(1, 'Available', '2026-11-02T11:00:00Z'));
    await sendInbound(cp, '2026-11-10T00:00:00Z', status(1, 'Faulted', '2026-11-10T00:00:00Z'));
    await sendInbound(cp, '2026-11-10T06:00:00Z', status(1, 'Available', '2026-11-10T06:00:00Z'));
    await sendInbound(cp, '2026-11-20T00:00:00Z', { kind: 'disconnected', reason: 'network' });
    await sendInbound(cp, '2026-11-20T02:00:00Z', { kind: 'connected' });
    const m = await post(
      `/api/v1/stations/${cp}/maintenance`,
      { evseId: 1, from: '2026-11-10T00:00:00Z', to: '2026-11-10T03:00:00Z', reason: 'connector replacement' },
      operator.key,
    );
    expect(m.status).toBe(201);
    const uptime = async () => (await get(`/api/v1/reports/uptime?period=2026-11&stationId=${cp}`, operator.key)).body;
    // every record folded, the reconnection at 02:00 too (records arrive in chunks: the second outage is counted as
    // soon as the disconnection is folded, and ends only when the reconnection is)
    await waitFor(
      async () => {
        const r = ((await uptime()).rows as Json[])[0];
        return r?.outages === 2 && r?.outage_minutes === '480.00';
      },
      { what: 'the outages folded, both ended' },
    );
    const row = ((await uptime()).rows as Json[])[0];
    expect(row).toMatchObject({
      station_id: cp,
      evse_id: 1,
      time_zone: 'UTC',
      period_minutes: '43200.00',
      outage_minutes: '480.00',
      excluded_minutes: '180.00',
      unknown_minutes: '0.00',
      // (43,200 - (480 - 180)) / 43,200 = 99.305...; over 525,600 minutes: 99.942...
      uptime_percent: '99.30',
      trailing_12_months_percent: '99.94',
      outage_list: [
        {
          from: '2026-11-10T00:00:00.000Z',
          to: '2026-11-10T06:00:00.000Z',
          cause: 'FAULTED',
          minutes: '360.00',
          excluded_minutes: '180.00',
        },
        {
          from: '2026-11-20T00:00:00.000Z',
          to: '2026-11-20T02:00:00.000Z',
          cause: 'OFFLINE',
          minutes: '120.00',
          excluded_minutes: '0.00',
        },
      ],
    });
    const u = await get(`/api/v1/reports/utilisation?from=2026-11-02&to=2026-11-03&stationId=${cp}`, operator.key);
    expect((u.body.rows as Json[])[0]).toMatchObject({
      day: '2026-11-02',
      occupied_minutes: '180.00',
      charging_minutes: '120.00',
      idle_minutes: '60.00',
    });
    const csv = await get(`/api/v1/reports/uptime?period=2026-11&stationId=${cp}&format=csv`, operator.key);
    expect(csv.text.split('\r\n')[1]).toBe(`2026-11,${cp},1,UTC,43200.00,480.00,180.00,0.00,2,99.30,99.94`);
  });

  it('a rebuild from the topics gives byte-identical reports, the closed period included', async () => {
    const paths = [
      '/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&groupBy=site,station,evse,tariff,account&format=csv',
      '/api/v1/reports/revenue?from=2026-10-01&to=2027-01-01&granularity=month',
      '/api/v1/reports/revenue?from=2026-10-01&to=2027-01-01&granularity=month&groupBy=station&format=csv',
      '/api/v1/reports/revenue?from=2026-10-01&to=2026-12-01&groupBy=account&format=csv',
      '/api/v1/reports/cdrs?from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z',
      '/api/v1/reports/uptime?period=2026-11&format=csv',
      '/api/v1/reports/utilisation?from=2026-11-01&to=2026-11-30&format=csv',
    ];
    const before = await Promise.all(paths.map(async (p) => (await get(p)).text));
    const ocpi = async () =>
      (await (
        await fetch(`${svc.url}/ocpi/2.2.1/cdrs?limit=50`, { headers: { authorization: OCPI_AUTH } })
      ).json()) as { data: Json[] };
    const ocpiBefore = (await ocpi()).data;
    // the close and the maintenance declaration reached their topics (the outbox drained) before the rebuild
    await waitFor(async () => Number((await pg.query('select count(*)::int as n from outbox')).rows[0].n) === 0, {
      what: 'the outbox drained',
    });
    await pg.end();
    await svc.stop();
    await rebuildReportingStore(cfg);
    svc = await startReportingService(cfg, silentLogger());
    pg = new Client({ connectionString: testDatabaseUrl(db) });
    await pg.connect();
    await waitFor(
      async () => {
        const n = await cdrsFolded();
        const closes = Number((await pg.query('select count(*)::int as n from finance_period_closes')).rows[0].n);
        const windows = Number((await pg.query('select count(*)::int as n from maintenance_windows')).rows[0].n);
        const facts = Number((await pg.query('select count(*)::int as n from evse_status_facts')).rows[0].n);
        return n === published.length && closes === 1 && windows === 1 && facts >= 10;
      },
      { what: 'the rebuild refolded everything' },
    );
    const uptime = paths.findIndex((p) => p.includes('/uptime'));
    await waitFor(async () => (await get(paths[uptime])).text === before[uptime], { what: 'uptime refolded' });
    const after = await Promise.all(paths.map(async (p) => (await get(p)).text));
    expect(after).toEqual(before);
    // the rebuild placed the late CDRs again (after the close): the one-dimension rows still add up
    await expectOneDimensionMatchesEvery('2026-10-01', '2027-01-01');
    expect((await ocpi()).data).toEqual(ocpiBefore);
    expect((await get('/api/v1/periods?verify=true')).body.items).toEqual([
      expect.objectContaining({ period: '2026-10', unchanged: true }),
    ]);
  }, 240_000);
});
