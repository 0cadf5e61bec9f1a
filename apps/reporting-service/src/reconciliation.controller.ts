import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { RECONCILIATION_REASONS, ReconciliationBreakResolvedV1, deriveId } from '@csms/contracts';
import { PAYMENTS_REPORT_COLUMNS, RECONCILIATION_BREAK_COLUMNS } from '@csms/finance';
import { addDays, formatMinor } from '@csms/kernel';
import { appendToOutbox } from '@csms/messaging';
import { findCurrency } from '@csms/money';
import {
  Actor,
  ApiProblem,
  LIMIT_PATTERN,
  RequireRoles,
  actorLabel,
  keysetPage,
  validateInput,
  type ActorRef,
} from '@csms/service-kit';
import { CSV_OPTIONS, streamRows } from './finance.store';
import { applyBreakResolved } from './reconciliation.handler';
import { runReconciliation, type RunDeps } from './reconciliation.run';

export const RECONCILIATION_DEPS = Symbol('RECONCILIATION_DEPS');
/** What a run needs (the scheduler's runs get the same), and the wall clock of API requests. */
export interface ReconciliationDeps extends RunDeps {
  /** the wall clock of API requests (a resolution's time, a run's id): never read inside the fold */
  now: () => Date;
}

const DATE = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$';
const Format = Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')]));
const MAX_DAYS = 366;

const PaymentsQuery = Type.Object(
  {
    from: Type.String({ pattern: DATE }),
    to: Type.String({ pattern: DATE }),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    format: Format,
  },
  { additionalProperties: false },
);
const BreaksQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('cleared'), Type.Literal('all')]),
    ),
    /** the period: detection time (the detecting run's asOf, event time) in [from, to) */
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    reason: Type.Optional(Type.Union(RECONCILIATION_REASONS.map((r) => Type.Literal(r)))),
    sessionId: Type.Optional(Type.String({ format: 'uuid' })),
    paymentRef: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:~-]+$' })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 2048 })),
    format: Format,
  },
  { additionalProperties: false },
);
const RunQuery = Type.Object(
  { scope: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('full')])) },
  { additionalProperties: false },
);
const ResolveBody = Type.Object(
  { note: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false, examples: [{ note: 'PSP confirmed the capture was lost; captured again by hand' }] },
);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkDate(v: string, field: string): void {
  const [y, m, d] = v.split('-').map(Number);
  const [yy, mm, dd] = addDays(y, m, d, 0);
  if (yy !== y || mm !== m || dd !== d)
    throw new ApiProblem(400, 'VALIDATION_FAILED', `${v} is not a calendar date`, { field });
}

/** Minor units as the currency's decimal text ("1234" EUR → "12.34"); an unknown currency keeps the minor units. */
function major(minor: string | bigint, currency: string): string {
  const c = findCurrency(currency);
  return c ? formatMinor(BigInt(minor), c.minorUnits) : String(minor);
}

interface BreakRow {
  break_id: string;
  reason: string;
  session_id: string | null;
  cdr_id: string | null;
  payment_ref: string | null;
  currency: string | null;
  expected: string | null;
  actual: string | null;
  detail: string;
  run_id: string;
  detected_at: Date;
  detected_by: string;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolved_by_role: string | null;
  note: string | null;
  cleared_at: Date | null;
  cleared_by_run: string | null;
  cleared_by: string | null;
}
const BREAKS_SELECT = `select * from (select b.*, r.resolved_at, r.resolved_by, r.resolved_by_role, r.note,
    c.cleared_at, c.run_id as cleared_by_run, c.cleared_by,
    case when r.resolved_at is not null then 'resolved' when c.cleared_at is not null then 'cleared' else 'open' end
      as status
  from recon_breaks b left join recon_break_resolutions r using (break_id)
    left join recon_break_clearances c using (break_id)) q`;

function breakView(r: BreakRow) {
  return {
    breakId: r.break_id,
    reason: r.reason,
    status: r.resolved_at ? 'resolved' : r.cleared_at ? 'cleared' : 'open',
    sessionId: r.session_id,
    cdrId: r.cdr_id,
    paymentRef: r.payment_ref,
    currency: r.currency,
    expected: r.expected,
    actual: r.actual,
    detail: r.detail,
    runId: r.run_id,
    detectedAt: r.detected_at.toISOString(),
    detectedBy: r.detected_by,
    resolution: r.resolved_at
      ? { resolvedAt: r.resolved_at.toISOString(), resolvedBy: r.resolved_by, role: r.resolved_by_role, note: r.note }
      : null,
    // closed by a run that no longer found it (later facts healed it), not by a person
    clearance:
      r.cleared_at && !r.resolved_at
        ? { clearedAt: r.cleared_at.toISOString(), runId: r.cleared_by_run, clearedBy: r.cleared_by }
        : null,
  };
}

/**
 * The payments report (from payment.events) and the three-way reconciliation: runs (a run reads what changed or fell
 * due since the run before, asks libs/finance `reconcile` for the breaks as of the latest settlement report's end,
 * and records each new break as
 * `finance.reconciliation_break_detected`), the breaks queue, and resolutions (`finance.reconciliation_break_resolved`).
 */
@ApiTags('finance')
@Controller()
export class ReconciliationController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(RECONCILIATION_DEPS) private readonly deps: ReconciliationDeps,
  ) {}

  @Get('reports/payments')
  @RequireRoles('finance')
  @ApiOperation({
    summary:
      'Payments per UTC day x currency: captured, refunded, receivables opened and settled, outstanding receivables at the end of the day, PSP fees and payouts',
  })
  @ApiQuery({ name: 'from', example: '2026-11-01', description: 'first day (UTC), inclusive' })
  @ApiQuery({ name: 'to', example: '2026-12-01', description: 'last day, exclusive (at most 366 days)' })
  @ApiQuery({ name: 'currency', required: false })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiProduces('application/json', 'text/csv')
  async payments(@Query() query: Record<string, string>, @Res() res: Response) {
    const q = validateInput(PaymentsQuery, query, 'query');
    checkDate(q.from, 'query/from');
    checkDate(q.to, 'query/to');
    const days = (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000;
    if (days <= 0 || days > MAX_DAYS)
      throw new ApiProblem(400, 'VALIDATION_FAILED', `to is 1 to ${MAX_DAYS} days after from`, { field: 'query/to' });
    const rows: Array<Record<string, string>> = await this.ds.query(
      `with d as (
         select day, currency,
           count(*) filter (where type = 'payment.captured') as captures,
           coalesce(sum(amount_minor) filter (where type = 'payment.captured'), 0) as captured,
           count(*) filter (where type = 'payment.refunded') as refunds,
           coalesce(sum(amount_minor) filter (where type = 'payment.refunded'), 0) as refunded,
           coalesce(sum(amount_minor) filter (where type = 'payment.receivable_opened'), 0) as opened,
           coalesce(sum(amount_minor) filter (where type = 'payment.receivable_settled'), 0) as settled,
           coalesce(sum(fee_minor) filter (where type = 'payment.payout_settled'), 0) as fees,
           count(*) filter (where type = 'payment.payout_settled') as payouts,
           coalesce(sum(amount_minor) filter (where type = 'payment.payout_settled'), 0) as paid_out
         from recon_payment_facts
         where currency is not null and type in ('payment.captured', 'payment.refunded', 'payment.receivable_opened',
           'payment.receivable_settled', 'payment.payout_settled')
         group by day, currency),
       c as (select *, sum(opened - settled) over (partition by currency order by day) as outstanding from d)
       select to_char(day, 'YYYY-MM-DD') as day, currency, captures::text, captured::text, refunds::text,
         refunded::text, opened::text, settled::text, outstanding::text, fees::text, payouts::text, paid_out::text
       from c where day >= $1::date and day < $2::date and ($3::text is null or currency = $3)
       order by day, currency`,
      [q.from, q.to, q.currency ?? null],
    );
    const out = rows.map((r) => ({
      day: r.day,
      currency: r.currency,
      captures: Number(r.captures),
      captured: major(r.captured, r.currency),
      refunds: Number(r.refunds),
      refunded: major(r.refunded, r.currency),
      receivables_opened: major(r.opened, r.currency),
      receivables_settled: major(r.settled, r.currency),
      outstanding_receivables: major(r.outstanding, r.currency),
      psp_fees: major(r.fees, r.currency),
      payouts: Number(r.payouts),
      paid_out: major(r.paid_out, r.currency),
    }));
    if (q.format === 'csv') {
      res
        .status(200)
        .setHeader('content-type', 'text/csv; charset=utf-8; header=present')
        .setHeader('content-disposition', `attachment; filename="payments-${q.from}-${q.to}.csv"`)
        .send(
          stringifySync(
            out.map((r) => PAYMENTS_REPORT_COLUMNS.map((c) => r[c])),
            { ...CSV_OPTIONS, header: true, columns: [...PAYMENTS_REPORT_COLUMNS] },
          ),
        );
      return;
    }
    res.status(200).json({ from: q.from, to: q.to, days: out });
  }

  @Post('reconciliation/runs')
  @HttpCode(201)
  @RequireRoles('finance')
  @ApiOperation({
    summary:
      'Runs the three-way reconciliation (session vs CDR vs PSP vs ledger) as of the latest settlement report: each new break becomes an event in the queue, each open break it no longer finds is cleared (an event)',
  })
  @ApiQuery({
    name: 'scope',
    required: false,
    enum: ['auto', 'full'],
    description:
      'auto (default): an incremental run (only what changed or fell due since the run before) unless the service needs a full one; full: reads every fact (the same breaks, slower)',
  })
  async run(@Actor() by: ActorRef, @Query() query: Record<string, string>) {
    const q = validateInput(RunQuery, query, 'query');
    return runReconciliation(this.ds, this.deps, actorLabel(by), 'wait', q.scope ?? 'auto');
  }

  @Get('reconciliation/breaks')
  @RequireRoles('finance')
  @ApiOperation({
    summary:
      'The breaks queue, oldest first: filters by status, reason, session, payment, currency and detection period; cursor pagination or CSV',
  })
  @ApiQuery({
    name: 'status',
    required: false,
    enum: ['open', 'resolved', 'cleared', 'all'],
    description: 'default open; resolved: by a person; cleared: by a later run that no longer found it',
  })
  @ApiQuery({
    name: 'from',
    required: false,
    example: '2026-11-01T00:00:00Z',
    description: "detection time (the detecting run's asOf, event time) at or after this instant",
  })
  @ApiQuery({
    name: 'to',
    required: false,
    example: '2026-12-01T00:00:00Z',
    description: 'detection time before this instant',
  })
  @ApiQuery({ name: 'reason', required: false, enum: [...RECONCILIATION_REASONS] })
  @ApiQuery({ name: 'sessionId', required: false })
  @ApiQuery({ name: 'paymentRef', required: false })
  @ApiQuery({ name: 'currency', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50 (JSON)' })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiProduces('application/json', 'text/csv')
  async breaks(@Query() query: Record<string, string>, @Res() res: Response) {
    const q = validateInput(BreaksQuery, query, 'query');
    const status = q.status ?? 'open';
    const filters: Array<readonly [string, unknown] | readonly [string]> = [];
    if (status !== 'all') filters.push(['status = ?', status]);
    if (q.from && q.to && Date.parse(q.to) <= Date.parse(q.from))
      throw new ApiProblem(400, 'VALIDATION_FAILED', 'to must be after from', { field: 'query/to' });
    if (q.from) filters.push(['detected_at >= ?', q.from]);
    if (q.to) filters.push(['detected_at < ?', q.to]);
    if (q.reason) filters.push(['reason = ?', q.reason]);
    if (q.sessionId) filters.push(['session_id = ?', q.sessionId]);
    if (q.paymentRef) filters.push(['payment_ref = ?', q.paymentRef]);
    if (q.currency) filters.push(['currency = ?', q.currency]);
    if (q.format === 'csv') {
      if (q.cursor || q.limit)
        throw new ApiProblem(400, 'VALIDATION_FAILED', 'the CSV export has every matching break: no limit or cursor', {
          field: q.cursor ? 'query/cursor' : 'query/limit',
        });
      const args: unknown[] = [];
      const where = filters.map(([sql, ...v]) => {
        if (v.length === 0) return sql;
        args.push(v[0]);
        return sql.replace('?', `$${args.length}`);
      });
      const iso = (c: string) => `to_char(${c} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
      await streamRows(this.ds, res, {
        sql: `select break_id, reason, status, session_id, cdr_id,
            payment_ref, currency, expected, actual, detail, ${iso('detected_at')}, detected_by, ${iso('resolved_at')},
            resolved_by, note, case when resolved_at is null then ${iso('cleared_at')} end,
            case when resolved_at is null then cleared_by_run end
          from (${BREAKS_SELECT}) z ${where.length ? `where ${where.join(' and ')}` : ''}
          order by detected_at, break_id`,
        params: args,
        format: 'csv',
        columns: RECONCILIATION_BREAK_COLUMNS,
        filename: `reconciliation-breaks-${status}`,
      });
      return;
    }
    const { rows, nextCursor } = await keysetPage<BreakRow>(this.ds, {
      select: BREAKS_SELECT,
      filters,
      key: [
        ['detected_at', 'timestamptz'],
        ['break_id', 'uuid'],
      ],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.detected_at.toISOString(), r.break_id],
    });
    res.status(200).json({ items: rows.map(breakView), nextCursor: nextCursor ?? null });
  }

  @Post('reconciliation/breaks/:breakId/resolve')
  @HttpCode(200)
  @RequireRoles('finance')
  @ApiParam({ name: 'breakId' })
  @ApiBody({ schema: ResolveBody as object })
  @ApiOperation({
    summary:
      'Resolves a break (an event: who, when, a note); 404 unknown break, 409 resolved already or cleared by a run',
  })
  async resolve(@Param('breakId') breakId: string, @Body() body: unknown, @Actor() by: ActorRef) {
    if (!UUID.test(breakId))
      throw new ApiProblem(400, 'VALIDATION_FAILED', 'breakId is a UUID', { field: 'path/breakId' });
    const b = validateInput(ResolveBody, body, 'body');
    const payload = await this.ds.transaction(async (m) => {
      await m.query('select pg_advisory_xact_lock(hashtextextended($1, 7303))', ['reconciliation-run']);
      const rows: BreakRow[] = await m.query(`${BREAKS_SELECT} where break_id = $1`, [breakId]);
      if (rows.length === 0)
        throw new ApiProblem(404, 'BREAK_NOT_FOUND', `no reconciliation break ${breakId}`, { field: 'path/breakId' });
      if (rows[0].resolved_at)
        throw new ApiProblem(409, 'BREAK_RESOLVED', `break ${breakId} is resolved already`, { field: 'path/breakId' });
      if (rows[0].cleared_at)
        throw new ApiProblem(409, 'BREAK_CLEARED', `break ${breakId} was cleared by run ${rows[0].cleared_by_run}`, {
          field: 'path/breakId',
        });
      const now = this.deps.now().toISOString();
      const event = this.deps.catalogue.create(ReconciliationBreakResolvedV1, {
        id: deriveId('reconciliation-break-resolved', breakId),
        key: breakId,
        occurredAt: now,
        source: 'reporting-service',
        payload: { breakId, resolvedAt: now, resolvedBy: actorLabel(by), resolvedByRole: by.role, note: b.note },
      });
      await applyBreakResolved(m, event.payload);
      await appendToOutbox(m, this.deps.catalogue, [event], { maxMessageBytes: this.deps.relay.maxMessageBytes });
      const after: BreakRow[] = await m.query(`${BREAKS_SELECT} where break_id = $1`, [breakId]);
      return breakView(after[0]);
    });
    this.deps.relay.nudge();
    return payload;
  }
}
