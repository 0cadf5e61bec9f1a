import { createHash } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource, type EntityManager } from 'typeorm';
import { SettlementLineRecordedV1, SettlementReportImportedV1, deriveId, type Envelope } from '@csms/contracts';
import { DomainError } from '@csms/kernel';
import { appendToOutbox } from '@csms/messaging';
import { PAYOUT_ACCOUNT_ID } from '@csms/payments';
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
import type { PaymentDeps } from './accounts.controller';
import type { PaymentCommandLike } from './engine';
import { projectPaymentEvents } from './projection';
import { parseSettlementReport, payoutsOf, type SettlementLine } from './settlement-report';
import { PAYMENT_DEPS } from './tokens';

const Ref = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:~-]+$' });
const Instant = Type.String({ format: 'date-time', maxLength: 40 });
const ImportBody = Type.Object(
  {
    /** the report's id (Stripe: the report run's id): the same id twice is one import */
    reportId: Ref,
    /** the report run's interval (Stripe's `interval_start` / `interval_end`): the PSP's record is complete up to its end */
    intervalStart: Instant,
    intervalEnd: Instant,
    /** the report file: RFC 4180 CSV, Stripe's itemized payout reconciliation columns */
    csv: Type.String({ minLength: 1, maxLength: 4_000_000 }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        reportId: 'frr_2026-03-01',
        intervalStart: '2026-03-01T00:00:00Z',
        intervalEnd: '2026-03-02T00:00:00Z',
        csv: 'balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,payment_intent_id,automatic_payout_id,automatic_payout_effective_at_utc\r\ntxn_1,2026-03-01 10:05:00,2026-03-01 10:05:00,eur,8.47,0.37,8.10,charge,ch_1,pi_1,po_1,2026-03-01 12:00:00\r\n',
      },
    ],
  },
);
/** The same import as a CSV upload (`Content-Type: text/csv`, the file as the PSP exported it): the rest in the query. */
const ImportQuery = Type.Object(
  { reportId: Ref, intervalStart: Instant, intervalEnd: Instant },
  { additionalProperties: false },
);
/** the largest CSV upload (the JSON body's `csv` is bounded by the JSON body limit, about 1 MiB) */
export const SETTLEMENT_CSV_LIMIT_BYTES = 4_000_000;
const QUERY_FIELDS = ['reportId', 'intervalStart', 'intervalEnd'] as const;

/**
 * What an import names, from a JSON body (`csv` in it) or from a CSV body and the query; `at(field)` is where each
 * part came from, for a problem's `field` (`body/reportId` or `query/reportId`; `body/csv/line/…` or `body/line/…`).
 */
function importInput(body: unknown, query: Record<string, string>) {
  if (typeof body !== 'string') {
    const named = QUERY_FIELDS.find((k) => query[k] !== undefined);
    if (named)
      throw new ApiProblem(
        400,
        'VALIDATION_FAILED',
        `${named} goes in the JSON body (in the query with a text/csv body)`,
        {
          field: `query/${named}`,
        },
      );
    const b = validateInput(ImportBody, body, 'body');
    return { ...b, at: (field: string) => `body/${field}` };
  }
  // an empty body is not read as text (no string): it fails as a JSON body above
  const q = validateInput(ImportQuery, query, 'query');
  return {
    ...q,
    csv: body,
    at: (field: string) =>
      field === 'csv' ? 'body' : field.startsWith('csv/') ? `body/${field.slice(4)}` : `query/${field}`,
  };
}

const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 2048 })),
  },
  { additionalProperties: false },
);

/** A balance transaction's line event: recorded again (a new event) only when it was first seen not paid out. */
const lineEventId = (balanceTransactionId: string, payoutRef: string | null) =>
  deriveId('settlement-line', balanceTransactionId, payoutRef ?? '');

/** A line as the event records it (the comparison of a line seen before uses these fields). */
function linePayload(reportId: string, l: SettlementLine) {
  return {
    accountId: PAYOUT_ACCOUNT_ID,
    sourceEventId: deriveId('settlement-report-line', reportId, l.line),
    at: l.createdAt,
    reportId,
    line: l.line,
    balanceTransactionId: l.balanceTransactionId,
    category: l.category,
    paymentRef: l.paymentRef,
    sourceId: l.sourceId,
    currency: l.currency,
    grossMinor: String(l.grossMinor),
    feeMinor: String(l.feeMinor),
    netMinor: String(l.netMinor),
    availableOn: l.availableOn,
    payoutRef: l.payoutRef,
    payoutEffectiveAt: l.payoutEffectiveAt,
  };
}
/** What must agree when a balance transaction comes again (in another report): its figures, and its payout once it has one. */
const sameFigures = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  ['category', 'paymentRef', 'currency', 'grossMinor', 'feeMinor', 'netMinor'].every((k) => a[k] === b[k]);

/**
 * The PSP's settlement report (`POST /api/v1/settlements`): its lines become `payment.settlement_line_recorded`,
 * the import `payment.settlement_report_imported`, and each payout it names is booked to the ledger through the
 * decider (`payout_settled`: clearing to bank minus fees; a payout the webhook booked already is not booked twice).
 * Idempotent: the same report id with the same file changes nothing; a balance transaction seen in an earlier
 * report is not recorded again (with other figures it is a conflict, and nothing of the file is recorded).
 */
@ApiTags('settlements')
@Controller()
export class SettlementsController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(PAYMENT_DEPS) private readonly deps: PaymentDeps,
  ) {}

  @Post('settlements')
  @HttpCode(201)
  @RequireRoles('finance', 'integration')
  @ApiOperation({
    summary:
      "Import the PSP's settlement report (itemized payout reconciliation): lines and payouts as events, payouts to the ledger. The CSV in a JSON body, or the file itself as a text/csv body (UTF-8, up to 4,000,000 bytes) with reportId, intervalStart and intervalEnd in the query",
  })
  @ApiBody({ schema: ImportBody as object })
  @ApiQuery({ name: 'reportId', required: false, description: 'with a text/csv body (required then): the report id' })
  @ApiQuery({ name: 'intervalStart', required: false, description: 'with a text/csv body (required then)' })
  @ApiQuery({ name: 'intervalEnd', required: false, description: 'with a text/csv body (required then)' })
  async import(@Body() body: unknown, @Query() query: Record<string, string>, @Actor() by: ActorRef) {
    const b = importInput(body, query);
    const start = new Date(b.intervalStart);
    const end = new Date(b.intervalEnd);
    if (!(end.getTime() > start.getTime()))
      throw new ApiProblem(400, 'SETTLEMENT_INTERVAL_INVALID', 'intervalEnd is after intervalStart', {
        field: b.at('intervalEnd'),
      });
    let lines: SettlementLine[];
    let payouts: ReturnType<typeof payoutsOf>;
    try {
      lines = parseSettlementReport(b.csv);
      payouts = payoutsOf(lines);
    } catch (e) {
      if (e instanceof DomainError)
        throw new ApiProblem(400, e.code, e.message, e.field ? { field: b.at(e.field) } : {});
      throw e;
    }
    const sha256 = createHash('sha256').update(b.csv, 'utf8').digest('hex');
    const reportEventId = deriveId('settlement-report', b.reportId);
    const result = await this.ds.transaction(async (m: EntityManager) => {
      // one import at a time: the lines seen before are read and written under one lock
      await m.query('select pg_advisory_xact_lock(hashtextextended($1, 7302))', ['settlements']);
      const prior: Array<{ payload: { sha256: string; lines: number; linesNew: number; payouts: unknown } }> =
        await m.query('select payload from payment_events where event_id = $1', [reportEventId]);
      if (prior.length > 0) {
        if (prior[0].payload.sha256 !== sha256)
          throw new ApiProblem(
            409,
            'SETTLEMENT_REPORT_CONFLICT',
            `report ${b.reportId} was imported with another file`,
            {
              field: b.at('reportId'),
            },
          );
        return { duplicate: true, ...prior[0].payload };
      }
      const known: Array<{ payload: Record<string, unknown> }> = await m.query(
        `select payload from payment_events
          where type = 'payment.settlement_line_recorded' and payload->>'balanceTransactionId' = any($1::text[])`,
        [lines.map((l) => l.balanceTransactionId)],
      );
      const knownByBt = new Map<string, Array<Record<string, unknown>>>();
      for (const k of known) {
        const bt = String(k.payload.balanceTransactionId);
        knownByBt.set(bt, [...(knownByBt.get(bt) ?? []), k.payload]);
      }
      const envs: Envelope[] = [];
      let linesNew = 0;
      for (const l of lines) {
        const payload = linePayload(b.reportId, l);
        const before = knownByBt.get(l.balanceTransactionId) ?? [];
        const conflict = before.find(
          (x) =>
            !sameFigures(x, payload) || (x.payoutRef !== null && l.payoutRef !== null && x.payoutRef !== l.payoutRef),
        );
        if (conflict)
          throw new ApiProblem(
            409,
            'SETTLEMENT_LINE_CONFLICT',
            `balance transaction ${l.balanceTransactionId} was imported before with other figures or another payout`,
            { field: b.at(`csv/line/${l.line}/balance_transaction_id`) },
          );
        // known already: as it is, or paid out while this report says not yet
        if (before.some((x) => x.payoutRef === l.payoutRef || l.payoutRef === null)) continue;
        linesNew++;
        envs.push(
          this.deps.catalogue.create(SettlementLineRecordedV1, {
            id: lineEventId(l.balanceTransactionId, l.payoutRef),
            key: PAYOUT_ACCOUNT_ID,
            occurredAt: l.createdAt,
            source: 'payment-service',
            causationId: null,
            correlationId: null,
            payload: payload as never,
          }),
        );
      }
      const summary = {
        reportId: b.reportId,
        intervalStart: start.toISOString(),
        intervalEnd: end.toISOString(),
        lines: lines.length,
        linesNew,
        payouts: payouts.map((p) => ({
          payoutRef: p.payoutRef,
          currency: p.currency,
          amountMinor: String(p.amountMinor),
          feeMinor: String(p.feeMinor),
          grossMinor: String(p.grossMinor),
        })),
        sha256,
      };
      envs.push(
        this.deps.catalogue.create(SettlementReportImportedV1, {
          id: reportEventId,
          key: PAYOUT_ACCOUNT_ID,
          occurredAt: summary.intervalEnd,
          source: 'payment-service',
          causationId: null,
          correlationId: null,
          payload: {
            accountId: PAYOUT_ACCOUNT_ID,
            sourceEventId: reportEventId,
            at: summary.intervalEnd,
            ...summary,
            importedBy: actorLabel(by),
          } as never,
        }),
      );
      await projectPaymentEvents(m, envs);
      // each payout to the ledger through the decider (it books a payout once, whoever names it first)
      for (const p of payouts) {
        if (p.amountMinor < 0n) continue;
        const out = await this.deps.engine.decide(m, {
          type: 'payout_settled',
          accountId: PAYOUT_ACCOUNT_ID,
          sourceEventId: deriveId('settlement-payout', b.reportId, p.payoutRef),
          at: p.effectiveAt ?? summary.intervalEnd,
          payoutRef: p.payoutRef,
          currency: p.currency,
          amountMinor: p.amountMinor,
          feeMinor: p.feeMinor,
        } as PaymentCommandLike);
        envs.push(...out);
      }
      await appendToOutbox(m, this.deps.catalogue, envs, { maxMessageBytes: this.deps.relay.maxMessageBytes });
      return { duplicate: false, ...summary };
    });
    this.deps.relay.nudge();
    return result;
  }

  @Get('settlements')
  @RequireRoles('finance', 'integration')
  @ApiOperation({ summary: 'Settlement reports imported, newest first; cursor pagination' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async list(@Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<{ seq: string; payload: Record<string, unknown> }>(this.ds, {
      select: 'select seq, payload from payment_events',
      filters: [[`type = 'payment.settlement_report_imported'`]],
      key: [['seq', 'bigint']],
      descending: true,
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [String(r.seq)],
    });
    return { items: rows.map((r) => r.payload), nextCursor };
  }
}
