import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import { ApiProblem, LIMIT_PATTERN, RequireRoles, keysetPage, validateInput } from '@csms/service-kit';
import { balanceView, type BalanceRow } from './accounts.controller';

const LedgerAccountName = Type.String({
  minLength: 3,
  maxLength: 160,
  pattern: '^[a-z_]+:[A-Z]{3}(:[A-Za-z0-9._:~-]+)?$',
});
const SessionIdParam = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:~-]+$' });
const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 2048 })),
  },
  { additionalProperties: false },
);
const EntriesQuery = Type.Object(
  {
    account: Type.Optional(LedgerAccountName),
    billingAccountId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:~-]+$' })),
    sessionId: Type.Optional(SessionIdParam),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 2048 })),
  },
  { additionalProperties: false },
);

interface TransferRow {
  seq: string;
  transfer_id: string;
  currency: string;
  initial_state: string;
  pending_id: string | null;
  source_event_id: string;
  event_id: string;
  reason: string;
  account_id: string | null;
  session_id: string | null;
  at: Date;
  postings: Array<{ line: number; account: string; amount_minor: string }>;
  state: string;
}

/** A transfer with its postings and its current state (its latest state row). */
const TRANSFERS = `
  select t.*,
         (select json_agg(json_build_object('line', p.line, 'account', p.account, 'amount_minor', p.amount_minor::text) order by p.line)
            from ledger_postings p where p.transfer_id = t.transfer_id) as postings,
         coalesce((select s.state from ledger_transfer_states s where s.transfer_id = t.transfer_id and s.state <> 'pending'),
                  t.initial_state) as state
    from ledger_transfers t`;

function transferView(r: TransferRow) {
  return {
    transferId: r.transfer_id,
    currency: r.currency,
    state: r.state,
    initialState: r.initial_state,
    pendingId: r.pending_id,
    reason: r.reason,
    accountId: r.account_id,
    sessionId: r.session_id,
    sourceEventId: r.source_event_id,
    eventId: r.event_id,
    at: r.at.toISOString(),
    postings: r.postings.map((p) => ({ account: p.account, amountMinor: p.amount_minor })),
  };
}

interface EventRow {
  seq: string;
  event_id: string;
  type: string;
  occurred_at: Date;
  account_id: string;
  payload: Record<string, unknown>;
}

/**
 * The payment record of a session, from its payment events in order: the hold (requested, authorised, raised,
 * expiry), each capture, release and refund, declines and failures, what the wallet paid, what is still owed.
 */
export function paymentRecord(sessionId: string, events: EventRow[]) {
  const rec = {
    sessionId,
    accountId: events[0]?.account_id ?? null,
    currency: null as string | null,
    status: 'none' as string,
    hold: null as null | {
      holdId: string;
      paymentRef: string | null;
      requestedMinor: string;
      authorizedMinor: string | null;
      expiresAt: string | null;
      status: string;
    },
    cdrs: [] as unknown[],
    captures: [] as unknown[],
    releases: [] as unknown[],
    refunds: [] as unknown[],
    walletDebits: [] as unknown[],
    walletCredits: [] as unknown[],
    receivables: [] as unknown[],
    failures: [] as unknown[],
    stopRequested: null as unknown,
    capturedMinor: '0',
    refundedMinor: '0',
  };
  let captured = 0n;
  let refunded = 0n;
  for (const e of events) {
    const p = e.payload as Record<string, string | null>;
    const at = e.occurred_at.toISOString();
    if (typeof p.currency === 'string') rec.currency = p.currency;
    switch (e.type) {
      case 'payment.authorization_requested':
        rec.hold = {
          holdId: p.holdId as string,
          paymentRef: null,
          requestedMinor: p.amountMinor as string,
          authorizedMinor: null,
          expiresAt: null,
          status: 'requested',
        };
        rec.status = 'authorizing';
        break;
      case 'payment.authorized':
      case 'payment.increased':
        if (rec.hold) {
          rec.hold.paymentRef = p.paymentRef;
          rec.hold.authorizedMinor = p.amountMinor as string;
          rec.hold.status = 'authorized';
          if (e.type === 'payment.authorized') rec.hold.expiresAt = (p.holdExpiresAt as string | null) ?? null;
        }
        rec.status = 'authorized';
        break;
      case 'payment.authorization_failed':
        if (rec.hold) rec.hold.status = 'declined';
        rec.failures.push({ type: e.type, code: p.code, message: p.message, at });
        rec.status = 'declined';
        break;
      case 'payment.failed':
        rec.failures.push({ type: e.type, operation: p.operation, code: p.code, message: p.message, at });
        break;
      case 'payment.cdr_recorded':
        rec.cdrs.push({
          cdrId: p.cdrId,
          credit: p.credit,
          creditReferenceId: p.creditReferenceId,
          totalInclVat: p.totalInclVat,
          totalInclVatMinor: p.totalInclVatMinor,
          method: p.method,
          at,
        });
        break;
      case 'payment.captured':
        captured += BigInt(p.amountMinor as string);
        rec.captures.push({ intentId: p.intentId, cdrId: p.cdrId, amount: p.amount, amountMinor: p.amountMinor, at });
        if (rec.hold) rec.hold.status = 'captured';
        rec.status = 'captured';
        break;
      case 'payment.released':
        rec.releases.push({ intentId: p.intentId, amountMinor: p.amountMinor, at });
        if (rec.hold && rec.hold.status !== 'captured') rec.hold.status = 'released';
        if (rec.status !== 'captured') rec.status = 'released';
        break;
      case 'payment.refunded':
        refunded += BigInt(p.amountMinor as string);
        rec.refunds.push({ intentId: p.intentId, cdrId: p.cdrId, amount: p.amount, amountMinor: p.amountMinor, at });
        rec.status = refunded >= captured ? 'refunded' : 'partially_refunded';
        break;
      case 'payment.wallet_debited':
        rec.walletDebits.push({ cdrId: p.cdrId, amount: p.amount, amountMinor: p.amountMinor, at });
        rec.status = 'paid_by_wallet';
        break;
      case 'payment.wallet_credited':
        rec.walletCredits.push({ cdrId: p.cdrId, amount: p.amount, amountMinor: p.amountMinor, at });
        break;
      case 'payment.receivable_opened':
        rec.receivables.push({
          receivableId: p.receivableId,
          cdrId: p.cdrId,
          amountMinor: p.amountMinor,
          reason: p.reason,
          at,
        });
        if (rec.status === 'none' || rec.status === 'authorizing') rec.status = 'receivable';
        break;
      case 'payment.session_stop_requested':
        rec.stopRequested = { reason: p.reason, at };
        break;
    }
  }
  rec.capturedMinor = captured.toString();
  rec.refundedMinor = refunded.toString();
  return rec;
}

@ApiTags('ledger')
@Controller()
export class LedgerController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @Get('ledger/balances')
  @RequireRoles('finance', 'integration')
  @ApiOperation({
    summary: 'Every ledger account and its balance (minor units; debit > 0), by name; cursor pagination',
  })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async balances(@Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<BalanceRow>(this.ds, {
      select: 'select * from ledger_balances',
      filters: [],
      key: [['account', 'text']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.account],
    });
    return { items: rows.map(balanceView), nextCursor };
  }

  @Get('ledger/entries')
  @RequireRoles('finance', 'integration')
  @ApiOperation({
    summary:
      'Ledger transfers with their postings, oldest first, by ledger account, billing account or session; cursor pagination',
  })
  @ApiQuery({ name: 'account', required: false, description: '<chart>:<currency>[:<billingAccountId>]' })
  @ApiQuery({ name: 'billingAccountId', required: false })
  @ApiQuery({ name: 'sessionId', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async entries(@Query() query: Record<string, string>) {
    const q = validateInput(EntriesQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<TransferRow>(this.ds, {
      select: `select * from (${TRANSFERS}) x`,
      filters: [
        q.account && [
          'exists (select 1 from ledger_postings p where p.transfer_id = x.transfer_id and p.account = ?)',
          q.account,
        ],
        q.billingAccountId && ['account_id = ?', q.billingAccountId],
        q.sessionId && ['session_id = ?', q.sessionId],
      ],
      key: [['seq', 'bigint']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [String(r.seq)],
    });
    return { items: rows.map(transferView), nextCursor };
  }

  @Get('sessions/:sessionId/journal')
  @RequireRoles('finance', 'integration', 'operator')
  @ApiOperation({
    summary: "A session's ledger journal: its transfers with their postings, and the sums per ledger account",
  })
  @ApiParam({ name: 'sessionId', example: '1b4e28ba-2fa1-51d2-883f-0016d3cca427' })
  async journal(@Param('sessionId') sessionId: string) {
    validateInput(SessionIdParam, sessionId, 'path/sessionId');
    const rows: TransferRow[] = await this.ds.query(`${TRANSFERS} where t.session_id = $1 order by t.seq`, [sessionId]);
    if (rows.length === 0)
      throw new ApiProblem(404, 'JOURNAL_NOT_FOUND', `no ledger transfer for session ${sessionId}`, {
        field: 'path/sessionId',
      });
    const transfers = rows.map(transferView);
    const sums = new Map<string, bigint>();
    let total = 0n;
    for (const t of transfers)
      if (t.initialState === 'posted')
        for (const p of t.postings) {
          sums.set(p.account, (sums.get(p.account) ?? 0n) + BigInt(p.amountMinor));
          total += BigInt(p.amountMinor);
        }
    return {
      sessionId,
      transfers,
      posted: [...sums].map(([account, sum]) => ({ account, amountMinor: sum.toString() })),
      balanced: total === 0n,
    };
  }

  @Get('sessions/:sessionId/payment')
  @RequireRoles('finance', 'integration', 'operator')
  @ApiOperation({
    summary:
      "A session's payment record: the hold, captures, releases, refunds, wallet and receivables, and its status",
  })
  @ApiParam({ name: 'sessionId', example: '1b4e28ba-2fa1-51d2-883f-0016d3cca427' })
  async payment(@Param('sessionId') sessionId: string) {
    validateInput(SessionIdParam, sessionId, 'path/sessionId');
    const events: EventRow[] = await this.ds.query(
      'select seq, event_id, type, occurred_at, account_id, payload from payment_events where session_id = $1 order by seq',
      [sessionId],
    );
    if (events.length === 0)
      throw new ApiProblem(404, 'PAYMENT_NOT_FOUND', `no payment for session ${sessionId}`, {
        field: 'path/sessionId',
      });
    return paymentRecord(sessionId, events);
  }

  @Get('unbilled-cdrs')
  @RequireRoles('finance', 'operator')
  @ApiOperation({
    summary: 'CDRs no billing account pays (none named, or not known here): never dropped; cursor pagination',
  })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async unbilled(@Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<Record<string, unknown>>(this.ds, {
      select: 'select * from unbilled_cdrs',
      filters: [],
      key: [['cdr_id', 'text']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.cdr_id as string],
    });
    return {
      nextCursor,
      items: rows.map((r) => ({
        cdrId: r.cdr_id,
        sessionId: r.session_id,
        billingAccountId: r.billing_account_id,
        reason: r.reason,
        currency: r.currency,
        totalInclVat: r.total_incl_vat,
        credit: r.credit,
        recordedAt: (r.recorded_at as Date).toISOString(),
      })),
    };
  }

  @Get('psp-intents')
  @RequireRoles('finance', 'operator')
  @ApiOperation({
    summary:
      'PSP calls the rules asked for and their state (pending, in_flight, unknown, done, failed); cursor pagination',
  })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async intents(@Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<Record<string, unknown>>(this.ds, {
      select: 'select * from psp_intents',
      filters: [],
      key: [['intent_id', 'text']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.intent_id as string],
    });
    return {
      nextCursor,
      items: rows.map((r) => ({
        intentId: r.intent_id,
        accountId: r.account_id,
        sessionId: r.session_id,
        kind: r.kind,
        status: r.status,
        attempts: r.attempts,
        paymentRef: r.payment_ref,
        lastError: r.last_error,
        nextAttemptAt: (r.next_attempt_at as Date).toISOString(),
      })),
    };
  }
}
