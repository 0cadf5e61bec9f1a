import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { MaintenanceDeclaredV1, PeriodClosedV1, deriveId, type EventCatalogue } from '@csms/contracts';
import {
  CDR_EXPORT_COLUMNS,
  PeriodError,
  REVENUE_COLUMNS,
  REVENUE_DIMENSIONS,
  UPTIME_COLUMNS,
  UTILISATION_COLUMNS,
  checkClosable,
  type RevenueDimension,
} from '@csms/finance';
import { TimeZones, addDays } from '@csms/kernel';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import {
  Actor,
  ApiProblem,
  RequireRoles,
  actorLabel,
  decodeCursor,
  encodeCursor,
  validateInput,
  type ActorRef,
} from '@csms/service-kit';
import { CUT_LOCK_KEY, applyMaintenanceDeclared, applyPeriodClosed, currentCut } from './finance.handler';
import {
  CDR_EXPORT_CSV_SQL,
  CDR_EXPORT_SQL,
  CSV_OPTIONS,
  periodReportSha256,
  revenueCsv,
  revenueJsonRows,
  revenueKey,
  revenueKeyShape,
  revenueRows,
  revenueTotals,
  streamRevenueJson,
  streamRows,
  type RevenueQuery,
  type RevenueRow,
} from './finance.store';
import { stationsInScope, uptimeRows, utilisationRows } from './uptime';

export const FINANCE_DEPS = Symbol('FINANCE_DEPS');
export interface FinanceDeps {
  catalogue: EventCatalogue;
  relay: OutboxRelay;
  now: () => Date;
  /** billing.events partitions (a close's cut names every one) */
  partitions: number;
}

const DATE = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$';
const PERIOD = '^[0-9]{4}-(0[1-9]|1[0-2])$';
const Format = Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')]));
const STATION = { minLength: 1, maxLength: 48, pattern: '^[A-Za-z0-9._:*+-]+$' };
const MAX_DAYS = 366;
const MAX_EXPORT_DAYS = 400;

/** A page of the revenue report: 1 to 10,000 rows. */
const REVENUE_LIMIT_PATTERN = '^([1-9][0-9]{0,3}|10000)$';
const RevenueQuerySchema = Type.Object(
  {
    from: Type.String({ pattern: DATE }),
    to: Type.String({ pattern: DATE }),
    granularity: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('month')])),
    groupBy: Type.Optional(
      Type.String({ pattern: '^(site|station|evse|tariff|account)(,(site|station|evse|tariff|account))*$' }),
    ),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    format: Format,
    limit: Type.Optional(Type.String({ pattern: REVENUE_LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 2048 })),
  },
  { additionalProperties: false },
);
const ExportQuery = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    format: Format,
  },
  { additionalProperties: false },
);
const ScopeFields = {
  stationId: Type.Optional(Type.String(STATION)),
  after: Type.Optional(Type.String(STATION)),
  limit: Type.Optional(Type.String({ pattern: '^([1-9]|[1-9][0-9]|100)$' })),
  format: Format,
};
const UtilisationQuery = Type.Object(
  { from: Type.String({ pattern: DATE }), to: Type.String({ pattern: DATE }), ...ScopeFields },
  { additionalProperties: false },
);
const UptimeQuery = Type.Object(
  {
    period: Type.Optional(Type.String({ pattern: PERIOD })),
    from: Type.Optional(Type.String({ pattern: DATE })),
    to: Type.Optional(Type.String({ pattern: DATE })),
    ...ScopeFields,
  },
  { additionalProperties: false },
);
const PeriodsQuery = Type.Object(
  { verify: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) },
  { additionalProperties: false },
);
const MaintenanceBody = Type.Object(
  {
    evseId: Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()]),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  {
    additionalProperties: false,
    examples: [
      { evseId: 1, from: '2026-03-02T06:00:00Z', to: '2026-03-02T08:00:00Z', reason: 'connector replacement' },
    ],
  },
);

/** Days from..to (to exclusive) as YYYY-MM-DD; 400 when to is not after from or the range is longer than `max`. */
function daysOf(from: string, to: string, max: number): string[] {
  const out: string[] = [];
  let [y, m, d] = from.split('-').map(Number);
  for (let day = from; day < to;) {
    out.push(day);
    if (out.length > max)
      throw new ApiProblem(400, 'RANGE_TOO_LONG', `at most ${max} days per request`, { field: 'query/to' });
    [y, m, d] = addDays(y, m, d, 1);
    day = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  }
  if (out.length === 0) throw new ApiProblem(400, 'VALIDATION_FAILED', 'to must be after from', { field: 'query/to' });
  return out;
}

/** A real calendar date (the pattern lets 2026-02-31 through). */
function checkDate(v: string, field: string): void {
  const [y, m, d] = v.split('-').map(Number);
  const [yy, mm, dd] = addDays(y, m, d, 0);
  if (yy !== y || mm !== m || dd !== d)
    throw new ApiProblem(400, 'VALIDATION_FAILED', `${v} is not a calendar date`, { field });
}

/** A revenue cursor is a key whose first part is a calendar date: 400 INVALID_CURSOR otherwise. */
function revenueCursorDay(cursor: string): void {
  let key: unknown = null;
  try {
    if (cursor.length <= 2048 && /^[A-Za-z0-9_-]+$/.test(cursor))
      key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = null;
  }
  if (!Array.isArray(key) || key.length < 2 || typeof key[0] !== 'string' || !new RegExp(DATE).test(key[0]))
    throw new ApiProblem(400, 'INVALID_CURSOR', 'cursor is not one this API issued', { field: 'query/cursor' });
  const [y, m, d] = key[0].split('-').map(Number);
  const [yy, mm, dd] = addDays(y, m, d, 0);
  if (yy !== y || mm !== m || dd !== d)
    throw new ApiProblem(400, 'INVALID_CURSOR', 'cursor is not one this API issued', { field: 'query/cursor' });
}

function sendRows(
  res: Response,
  format: 'json' | 'csv' | undefined,
  columns: readonly string[],
  rows: ReadonlyArray<Record<string, unknown>>,
  json: Record<string, unknown>,
  filename: string,
): void {
  if (format === 'csv') {
    res
      .status(200)
      .setHeader('content-type', 'text/csv; charset=utf-8; header=present')
      .setHeader('content-disposition', `attachment; filename="${filename}.csv"`)
      .send(
        stringifySync(
          rows.map((r) => columns.map((c) => r[c])),
          { ...CSV_OPTIONS, header: true, columns: [...columns] },
        ),
      );
    return;
  }
  res.status(200).json(json);
}

@ApiTags('finance')
@Controller()
export class FinanceController {
  private readonly zones = new TimeZones();

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(FINANCE_DEPS) private readonly deps: FinanceDeps,
  ) {}

  @Get('reports/revenue')
  @RequireRoles('finance')
  @ApiOperation({
    summary:
      'Revenue per day or month x currency and the dimensions asked for (site, station, EVSE, tariff and version, account)',
    description:
      "Sessions, energy (kWh), charging and parking time (hours), net, VAT and gross, from pre-aggregated CDRs. Days are civil days of each CDR's site; credit CDRs count in the period they were issued in; a closed period never changes (later corrections land in the next open period). `to` exclusive. JSON or CSV (RFC 4180, columns in a fixed order, decimals as text).",
  })
  @ApiQuery({ name: 'from', required: true, example: '2026-11-01' })
  @ApiQuery({ name: 'to', required: true, example: '2026-12-01' })
  @ApiQuery({ name: 'granularity', required: false, enum: ['day', 'month'] })
  @ApiQuery({ name: 'groupBy', required: false, description: 'comma-separated: site,station,evse,tariff,account' })
  @ApiQuery({ name: 'currency', required: false })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'JSON: at most this many rows (1..10000), with `nextCursor` for the next page; unset: every row',
  })
  @ApiQuery({ name: 'cursor', required: false, description: 'the `nextCursor` of the previous page (same query)' })
  @ApiProduces('application/json', 'text/csv')
  async revenue(@Query() query: Record<string, string>, @Res() res: Response) {
    // a cursor not issued here is refused as one, whatever else the query lacks
    if (typeof query.cursor === 'string') revenueCursorDay(query.cursor);
    const q = validateInput(RevenueQuerySchema, query, 'query');
    checkDate(q.from, 'query/from');
    checkDate(q.to, 'query/to');
    daysOf(q.from, q.to, MAX_DAYS * 10);
    const groupBy = (q.groupBy ? [...new Set(q.groupBy.split(','))] : []) as RevenueDimension[];
    const rq: RevenueQuery = {
      from: q.from,
      to: q.to,
      granularity: q.granularity ?? 'day',
      groupBy: REVENUE_DIMENSIONS.filter((d) => groupBy.includes(d)),
      currency: q.currency,
    };
    if (q.format === 'csv' && (q.limit || q.cursor))
      throw new ApiProblem(400, 'VALIDATION_FAILED', 'the CSV report has every row: no limit or cursor', {
        field: q.cursor ? 'query/cursor' : 'query/limit',
      });
    if (q.cursor && !q.limit)
      throw new ApiProblem(400, 'VALIDATION_FAILED', 'a cursor goes with the limit of its pages', {
        field: 'query/limit',
      });
    let after: string[] | undefined;
    if (q.cursor) {
      const shape = revenueKeyShape(rq);
      after = decodeCursor(
        q.cursor,
        shape.map((t) => (t === 'int' ? 'integer' : 'text')),
      );
      revenueCursorDay(q.cursor);
    }
    const page = q.limit ? { limit: Number(q.limit) + 1, after } : undefined;
    if (q.format === 'csv') {
      res
        .status(200)
        .setHeader('content-type', 'text/csv; charset=utf-8; header=present')
        .setHeader('content-disposition', `attachment; filename="revenue-${q.from}-${q.to}.csv"`)
        .send(revenueCsv(await revenueRows(this.ds, rq)));
      return;
    }
    // the rows' JSON written by PostgreSQL (revenueJsonRows: what JSON.stringify makes of revenueRows' rows), set
    // into the answer as they are: a page as its rows (the one past it tells whether a next page exists); every row
    // streamed from COPY between the answer's head and tail (streamRevenueJson). The closed periods and the totals
    // are asked for at once, on connections of the pool.
    let nextCursor: string | null = null;
    const [pageRows, closed, totals] = await Promise.all([
      page
        ? revenueJsonRows(this.ds, rq, page).then((rows) => {
            if (rows.length === page.limit) {
              rows.pop();
              nextCursor = encodeCursor(revenueKey(rq, JSON.parse(rows[rows.length - 1]) as RevenueRow));
            }
            return rows.join(',');
          })
        : undefined,
      this.ds.query(`select period from finance_period_closes where period >= $1 and period <= $2 order by period`, [
        q.from.slice(0, 7),
        q.to.slice(0, 7),
      ]) as Promise<Array<{ period: string }>>,
      revenueTotals(this.ds, rq),
    ]);
    const head = JSON.stringify({
      from: rq.from,
      to: rq.to,
      granularity: rq.granularity,
      groupBy: rq.groupBy,
      currency: rq.currency ?? null,
      closedPeriods: closed.map((c) => c.period),
      columns: REVENUE_COLUMNS,
    });
    const tail = `],"nextCursor":${JSON.stringify(nextCursor)},"totals":${JSON.stringify(totals)}}`;
    res.status(200).type('application/json; charset=utf-8');
    if (pageRows !== undefined) res.send(`${head.slice(0, -1)},"rows":[${pageRows}${tail}`);
    else await streamRevenueJson(this.ds, res, rq, `${head.slice(0, -1)},"rows":[`, tail);
  }

  @Get('reports/cdrs')
  @RequireRoles('finance')
  @ApiOperation({
    summary: 'Every CDR and credit CDR issued in [from, to), streamed (CSV or JSON) from a database cursor',
    description:
      "One row per CDR with its dimensions, the day it was issued on (its site's zone) and the day it is reported on (a CDR after its period's close is reported in the next open period), and its signed figures. Ordered by issue time and CDR id. At most 400 days per request.",
  })
  @ApiQuery({ name: 'from', required: true, example: '2026-11-01T00:00:00Z' })
  @ApiQuery({ name: 'to', required: true, example: '2026-12-01T00:00:00Z' })
  @ApiQuery({ name: 'format', required: false, enum: ['csv', 'json'] })
  @ApiProduces('text/csv', 'application/json')
  async exportCdrs(@Query() query: Record<string, string>, @Res() res: Response) {
    const q = validateInput(ExportQuery, query, 'query');
    const span = Date.parse(q.to) - Date.parse(q.from);
    if (!(span > 0)) throw new ApiProblem(400, 'VALIDATION_FAILED', 'to must be after from', { field: 'query/to' });
    if (span > MAX_EXPORT_DAYS * 86_400_000)
      throw new ApiProblem(400, 'RANGE_TOO_LONG', `at most ${MAX_EXPORT_DAYS} days per export`, { field: 'query/to' });
    await streamRows(this.ds, res, {
      sql: q.format === 'json' ? CDR_EXPORT_SQL : CDR_EXPORT_CSV_SQL,
      params: [q.from, q.to],
      format: q.format ?? 'csv',
      columns: CDR_EXPORT_COLUMNS,
      filename: 'cdrs',
    });
  }

  @Get('reports/utilisation')
  @RequireRoles('finance', 'operator')
  @ApiOperation({
    summary:
      "Utilisation per EVSE and civil day (the station's zone): minutes occupied, charging, idle (occupied, not charging), unknown; sessions started",
  })
  @ApiQuery({ name: 'from', required: true, example: '2026-11-01' })
  @ApiQuery({ name: 'to', required: true, example: '2026-11-08' })
  @ApiQuery({ name: 'stationId', required: false })
  @ApiQuery({ name: 'after', required: false, description: 'stations after this id (the last of the previous page)' })
  @ApiQuery({ name: 'limit', required: false, description: 'stations per page, 1-100 (100)' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiProduces('application/json', 'text/csv')
  async utilisation(@Query() query: Record<string, string>, @Res() res: Response) {
    const q = validateInput(UtilisationQuery, query, 'query');
    checkDate(q.from, 'query/from');
    checkDate(q.to, 'query/to');
    const days = daysOf(q.from, q.to, 92);
    const limit = Number(q.limit ?? 100);
    const scopes = await stationsInScope(this.ds, { stationId: q.stationId, after: q.after, limit });
    const rows = await utilisationRows(this.ds, this.zones, scopes, days);
    sendRows(
      res,
      q.format,
      UTILISATION_COLUMNS,
      rows,
      {
        from: q.from,
        to: q.to,
        columns: UTILISATION_COLUMNS,
        rows,
        nextAfter: scopes.length === limit ? scopes[scopes.length - 1].stationId : null,
      },
      `utilisation-${q.from}-${q.to}`,
    );
  }

  @Get('reports/uptime')
  @RequireRoles('finance', 'operator')
  @ApiOperation({
    summary:
      'Uptime per EVSE over a month (or a range of days): outages with cause, excluded (planned maintenance) and unknown minutes, the NEVI percentage',
    description:
      "23 CFR 680.116(b): ((P - (outage - excluded)) / P) x 100 with P the period's minutes, and for a month also over the trailing 12 months ending with it (P = 525,600). Percentages rounded down to 2 decimals. Outage: the station offline, or the station or the EVSE Faulted or Unavailable. Months and days in the station's zone.",
  })
  @ApiQuery({ name: 'period', required: false, example: '2026-11', description: 'a month; or from and to' })
  @ApiQuery({ name: 'from', required: false, description: 'first day (with to, instead of period)' })
  @ApiQuery({ name: 'to', required: false, description: 'day after the last' })
  @ApiQuery({ name: 'stationId', required: false })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false, description: 'stations per page, 1-100 (100)' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiProduces('application/json', 'text/csv')
  async uptime(@Query() query: Record<string, string>, @Res() res: Response) {
    const q = validateInput(UptimeQuery, query, 'query');
    let range: { period: string } | { from: string; to: string };
    if (q.period !== undefined) {
      if (q.from !== undefined || q.to !== undefined)
        throw new ApiProblem(400, 'VALIDATION_FAILED', 'either period or from and to', { field: 'query/period' });
      range = { period: q.period };
    } else {
      if (q.from === undefined || q.to === undefined)
        throw new ApiProblem(400, 'VALIDATION_FAILED', 'period, or from and to, is required', {
          field: 'query/period',
        });
      checkDate(q.from, 'query/from');
      checkDate(q.to, 'query/to');
      daysOf(q.from, q.to, MAX_DAYS);
      range = { from: q.from, to: q.to };
    }
    const limit = Number(q.limit ?? 100);
    const scopes = await stationsInScope(this.ds, { stationId: q.stationId, after: q.after, limit });
    const rows = await uptimeRows(this.ds, this.zones, scopes, range);
    sendRows(
      res,
      q.format,
      UPTIME_COLUMNS,
      rows,
      {
        ...range,
        columns: UPTIME_COLUMNS,
        rows,
        nextAfter: scopes.length === limit ? scopes[scopes.length - 1].stationId : null,
      },
      `uptime-${'period' in range ? range.period : `${range.from}-${range.to}`}`,
    );
  }

  @Get('periods')
  @RequireRoles('finance')
  @ApiOperation({
    summary:
      'The closed periods: when, by whom, the cut in billing.events, and whether the revenue report still hashes as it did at the close',
  })
  @ApiQuery({
    name: 'verify',
    required: false,
    enum: ['true', 'false'],
    description: "true: recompute each closed month's revenue report and compare its hash (one report per period)",
  })
  async periods(@Query() query: Record<string, string>) {
    const q = validateInput(PeriodsQuery, query, 'query');
    const rows: Array<{
      period: string;
      cut: unknown;
      revenue_report_sha256: string;
      closed_at: Date;
      closed_by: string;
      closed_by_role: string;
    }> = await this.ds.query('select * from finance_period_closes order by period');
    const items = [];
    for (const r of rows) {
      const now = q.verify === 'true' ? await periodReportSha256(this.ds, r.period) : null;
      items.push({
        period: r.period,
        closedAt: r.closed_at.toISOString(),
        closedBy: r.closed_by,
        closedByRole: r.closed_by_role,
        cut: r.cut,
        revenueReportSha256: r.revenue_report_sha256,
        /** null: not verified (?verify=true) */
        unchanged: now === null ? null : now === r.revenue_report_sha256,
      });
    }
    return { items };
  }

  @Post('periods/:period/close')
  @HttpCode(200)
  @RequireRoles('finance')
  @ApiParam({ name: 'period', example: '2026-11' })
  @ApiOperation({
    summary:
      "Closes a month: its reports never change again (an event, finance.period_closed, with the cut and the report's SHA-256)",
    description:
      'Allowed once the month is over in every time zone (14 hours after it ends in UTC). 409 when it is closed already.',
  })
  async close(@Param('period') period: string, @Actor() by: ActorRef) {
    try {
      checkClosable(period, this.deps.now().getTime());
    } catch (e) {
      if (e instanceof PeriodError)
        throw new ApiProblem(e.code === 'INVALID_PERIOD' ? 400 : 409, e.code, e.message, { field: 'path/period' });
      throw e;
    }
    const payload = await this.ds.transaction(async (m) => {
      await m.query('select pg_advisory_xact_lock($1)', [CUT_LOCK_KEY]);
      const known: unknown[] = await m.query('select 1 from finance_period_closes where period = $1', [period]);
      if (known.length > 0)
        throw new ApiProblem(409, 'PERIOD_CLOSED', `period ${period} is closed already`, { field: 'path/period' });
      const now = this.deps.now().toISOString();
      const event = this.deps.catalogue.create(PeriodClosedV1, {
        id: deriveId('period-closed', period),
        key: period,
        occurredAt: now,
        source: 'reporting-service',
        payload: {
          period,
          billingEvents: await currentCut(m, this.deps.partitions),
          revenueReportSha256: await periodReportSha256(m, period),
          closedAt: now,
          closedBy: actorLabel(by),
          closedByRole: by.role,
        },
      });
      await applyPeriodClosed(m, event.payload);
      await appendToOutbox(m, this.deps.catalogue, [event], { maxMessageBytes: this.deps.relay.maxMessageBytes });
      return event.payload;
    });
    this.deps.relay.nudge();
    return payload;
  }

  @Post('stations/:stationId/maintenance')
  @HttpCode(201)
  @RequireRoles('operator')
  @ApiParam({ name: 'stationId', example: 'CP-001' })
  @ApiBody({ schema: MaintenanceBody as object })
  @ApiOperation({
    summary:
      'Declares planned maintenance of a station (evseId null) or one EVSE: outage time inside it is excluded time in the uptime report',
    description: 'An event (monitoring.maintenance_declared), so a rebuild keeps it. A declaration is never edited.',
  })
  async declareMaintenance(@Param('stationId') stationId: string, @Body() body: unknown, @Actor() by: ActorRef) {
    if (!new RegExp(STATION.pattern).test(stationId) || stationId.length > STATION.maxLength)
      throw new ApiProblem(400, 'VALIDATION_FAILED', 'stationId: 1-48 of A-Z a-z 0-9 . _ : * + -', {
        field: 'path/stationId',
      });
    const b = validateInput(MaintenanceBody, body);
    if (!(Date.parse(b.to) > Date.parse(b.from)))
      throw new ApiProblem(400, 'VALIDATION_FAILED', 'to must be after from', { field: 'body/to' });
    const now = this.deps.now().toISOString();
    const maintenanceId = deriveId('maintenance-declared', stationId, String(b.evseId ?? 0), b.from, b.to, now);
    const event = this.deps.catalogue.create(MaintenanceDeclaredV1, {
      id: deriveId('maintenance-declared-event', maintenanceId),
      key: stationId,
      occurredAt: now,
      source: 'reporting-service',
      payload: {
        maintenanceId,
        stationId,
        evseId: b.evseId,
        from: new Date(Date.parse(b.from)).toISOString(),
        to: new Date(Date.parse(b.to)).toISOString(),
        reason: b.reason,
        declaredAt: now,
        declaredBy: actorLabel(by),
        declaredByRole: by.role,
      },
    });
    await this.ds.transaction(async (m) => {
      await applyMaintenanceDeclared(m, event.payload);
      await appendToOutbox(m, this.deps.catalogue, [event], { maxMessageBytes: this.deps.relay.maxMessageBytes });
    });
    this.deps.relay.nudge();
    return event.payload;
  }
}
