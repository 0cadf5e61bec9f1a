import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource, type EntityManager } from 'typeorm';
import { deriveId, type Envelope, type EventCatalogue } from '@csms/contracts';
import { DomainError } from '@csms/kernel';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
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
import type { PaymentCommandLike, PaymentEngine } from './engine';
import { asksForPspCall } from './projection';
import { toMinorExact } from './rules';
import { PAYMENT_DEPS } from './tokens';

export interface PaymentDeps {
  catalogue: EventCatalogue;
  relay: OutboxRelay;
  engine: PaymentEngine;
  /** nudges the effect runner after a commit that recorded intents */
  nudgeRunner: () => void;
  /** the wall clock of API requests: a request's time is its own fact */
  now: () => Date;
}

/** A billing account id as the API takes it (the registry's limit of 100; `:` is kept for `adhoc:<paymentId>`). */
export const AccountIdParam = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._~-]+$' });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
const Ref = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:~-]+$' });
const MinorText = Type.String({ pattern: '^[0-9]{1,18}$' });
const Amount = Type.String({ pattern: '^[0-9]{1,15}(\\.[0-9]{1,4})?$' });
const Method = Type.Union([
  Type.Object({ kind: Type.Literal('card'), customerRef: Ref, paymentMethodRef: Ref }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('wallet') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('invoice'), creditLimitMinor: MinorText }, { additionalProperties: false }),
]);
const Policy = Type.Object(
  {
    onHoldNearlyUsed: Type.Union([Type.Literal('increase'), Type.Literal('stop')]),
    onShortfall: Type.Union([Type.Literal('block'), Type.Literal('allow')]),
  },
  { additionalProperties: false },
);
const DEFAULT_POLICY = { onHoldNearlyUsed: 'increase', onShortfall: 'block' } as const;

const OpenBody = Type.Object(
  { accountId: AccountIdParam, currency: Currency, method: Method, policy: Type.Optional(Policy) },
  {
    additionalProperties: false,
    examples: [
      {
        accountId: 'acct-1001',
        currency: 'EUR',
        method: { kind: 'card', customerRef: 'cus_123', paymentMethodRef: 'pm_card_visa' },
        policy: DEFAULT_POLICY,
      },
    ],
  },
);
const UpdateBody = Type.Object(
  { method: Method, policy: Type.Optional(Policy) },
  { additionalProperties: false, examples: [{ method: { kind: 'invoice', creditLimitMinor: '50000' } }] },
);
const TopUpBody = Type.Object(
  {
    /** the top-up's own reference: the same reference twice is one top-up */
    topUpRef: Ref,
    amount: Amount,
    via: Type.Optional(Type.Union([Type.Literal('psp'), Type.Literal('bank')])),
  },
  { additionalProperties: false, examples: [{ topUpRef: 'topup-2026-001', amount: '20.00', via: 'psp' }] },
);
const StatementBody = Type.Object(
  { month: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }) },
  { additionalProperties: false, examples: [{ month: '2026-02' }] },
);
const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 2048 })),
  },
  { additionalProperties: false },
);

interface AccountRow {
  account_id: string;
  currency: string;
  method: unknown;
  policy: unknown;
  status: string;
  status_reason: string | null;
  opened_at: Date;
  updated_at: Date;
  opened_by: string | null;
}

export function accountView(r: AccountRow) {
  return {
    accountId: r.account_id,
    currency: r.currency,
    method: r.method,
    policy: r.policy,
    status: r.status,
    statusReason: r.status_reason,
    openedAt: r.opened_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    openedBy: r.opened_by,
  };
}

/** A refused command as a problem: the rules' DomainError with its code and field. */
function problemOf(e: unknown, fieldPrefix = 'body'): never {
  if (e instanceof DomainError) {
    const status = /EXISTS/.test(e.code) ? 409 : /UNKNOWN_ACCOUNT|ACCOUNT_UNKNOWN/.test(e.code) ? 404 : 422;
    throw new ApiProblem(status, e.code, e.message, e.field ? { field: `${fieldPrefix}/${e.field}` } : {});
  }
  throw e;
}

@ApiTags('accounts')
@Controller()
export class AccountsController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(PAYMENT_DEPS) private readonly deps: PaymentDeps,
  ) {}

  /** load -> decide -> save in one transaction, events to the outbox; a refused command is a 4xx problem. */
  private async write(command: PaymentCommandLike, fieldPrefix = 'body'): Promise<Envelope[]> {
    let envs: Envelope[] = [];
    try {
      envs = await this.ds.transaction(async (m: EntityManager) => {
        const out = await this.deps.engine.decide(m, command);
        await appendToOutbox(m, this.deps.catalogue, out, { maxMessageBytes: this.deps.relay.maxMessageBytes });
        return out;
      });
    } catch (e) {
      problemOf(e, fieldPrefix);
    }
    this.deps.relay.nudge();
    if (asksForPspCall(envs)) this.deps.nudgeRunner();
    return envs;
  }

  private async account(accountId: string) {
    const rows: AccountRow[] = await this.ds.query('select * from billing_accounts where account_id = $1', [accountId]);
    if (rows.length === 0)
      throw new ApiProblem(404, 'ACCOUNT_NOT_FOUND', `no billing account ${accountId}`, { field: 'path/accountId' });
    return rows[0];
  }

  @Post('accounts')
  @HttpCode(201)
  @RequireRoles('finance', 'integration')
  @ApiOperation({
    summary: 'Open a billing account: its currency and its one way to pay (card on file, wallet, invoice)',
  })
  @ApiBody({ schema: OpenBody as object })
  async open(@Body() body: unknown, @Actor() by: ActorRef) {
    const b = validateInput(OpenBody, body, 'body');
    const exists: unknown[] = await this.ds.query('select 1 from account_state where account_id = $1', [b.accountId]);
    if (exists.length > 0)
      throw new ApiProblem(409, 'ACCOUNT_EXISTS', `billing account ${b.accountId} is open already`, {
        field: 'body/accountId',
      });
    await this.write({
      type: 'open_account',
      accountId: b.accountId,
      sourceEventId: deriveId('payment-account-open', b.accountId),
      at: this.deps.now().toISOString(),
      currency: b.currency,
      method: b.method,
      policy: b.policy ?? DEFAULT_POLICY,
      openedBy: actorLabel(by),
    } as PaymentCommandLike);
    return accountView(await this.account(b.accountId));
  }

  @Get('accounts')
  @RequireRoles('finance', 'integration', 'operator')
  @ApiOperation({ summary: 'Billing accounts by id; cursor pagination' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async list(@Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<AccountRow>(this.ds, {
      select: 'select * from billing_accounts',
      filters: [],
      key: [['account_id', 'text']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.account_id],
    });
    return { items: rows.map(accountView), nextCursor };
  }

  @Get('accounts/:accountId')
  @RequireRoles('finance', 'integration', 'operator')
  @ApiOperation({ summary: 'A billing account, its payment method and whether it can pay (status)' })
  @ApiParam({ name: 'accountId', example: 'acct-1001' })
  async get(@Param('accountId') accountId: string) {
    validateInput(AccountIdParam, accountId, 'path/accountId');
    return accountView(await this.account(accountId));
  }

  @Put('accounts/:accountId')
  @RequireRoles('finance', 'integration')
  @ApiOperation({ summary: "Change a billing account's payment method or policy (never its currency)" })
  @ApiParam({ name: 'accountId', example: 'acct-1001' })
  @ApiBody({ schema: UpdateBody as object })
  async update(@Param('accountId') accountId: string, @Body() body: unknown, @Actor() by: ActorRef) {
    validateInput(AccountIdParam, accountId, 'path/accountId');
    const b = validateInput(UpdateBody, body, 'body');
    const current = await this.account(accountId);
    await this.write({
      type: 'update_account',
      accountId,
      sourceEventId: randomUUID(),
      at: this.deps.now().toISOString(),
      method: b.method,
      policy: b.policy ?? current.policy ?? DEFAULT_POLICY,
      updatedBy: actorLabel(by),
    } as PaymentCommandLike);
    return accountView(await this.account(accountId));
  }

  @Post('accounts/:accountId/top-ups')
  @HttpCode(201)
  @RequireRoles('finance', 'integration')
  @ApiOperation({ summary: "Top up a wallet account's prepaid balance (idempotent by topUpRef)" })
  @ApiParam({ name: 'accountId', example: 'acct-2002' })
  @ApiBody({ schema: TopUpBody as object })
  async topUp(@Param('accountId') accountId: string, @Body() body: unknown) {
    validateInput(AccountIdParam, accountId, 'path/accountId');
    const b = validateInput(TopUpBody, body, 'body');
    const a = await this.account(accountId);
    let amountMinor: bigint;
    try {
      amountMinor = toMinorExact(b.amount, a.currency);
    } catch (e) {
      problemOf(e);
    }
    if (amountMinor <= 0n)
      throw new ApiProblem(422, 'PAYMENT_INVALID_AMOUNT', 'a top-up is more than zero', { field: 'body/amount' });
    const envs = await this.write({
      type: 'top_up_wallet',
      accountId,
      sourceEventId: deriveId('wallet-top-up', accountId, b.topUpRef),
      at: this.deps.now().toISOString(),
      topUpRef: b.topUpRef,
      currency: a.currency,
      amountMinor,
      via: b.via ?? 'psp',
    } as PaymentCommandLike);
    return {
      accountId,
      topUpRef: b.topUpRef,
      events: envs.map((e) => ({ id: e.id, type: e.type, payload: e.payload })),
    };
  }

  @Get('accounts/:accountId/balances')
  @RequireRoles('finance', 'integration', 'operator')
  @ApiOperation({
    summary: "The account's ledger balances (minor units; debit > 0): receivable, wallet, posted and pending",
  })
  @ApiParam({ name: 'accountId', example: 'acct-1001' })
  async balances(@Param('accountId') accountId: string) {
    validateInput(AccountIdParam, accountId, 'path/accountId');
    const a = await this.account(accountId);
    const rows: BalanceRow[] = await this.ds.query(
      'select * from ledger_balances where billing_account_id = $1 order by account',
      [accountId],
    );
    return { accountId, currency: a.currency, status: a.status, balances: rows.map(balanceView) };
  }

  @Post('accounts/:accountId/statements')
  @HttpCode(201)
  @RequireRoles('finance')
  @ApiOperation({ summary: "Issue an invoice account's statement of a month (its lines: the month's CDRs)" })
  @ApiParam({ name: 'accountId', example: 'fleet-9' })
  @ApiBody({ schema: StatementBody as object })
  async issueStatement(@Param('accountId') accountId: string, @Body() body: unknown) {
    validateInput(AccountIdParam, accountId, 'path/accountId');
    const b = validateInput(StatementBody, body, 'body');
    await this.account(accountId);
    await this.write({
      type: 'issue_statement',
      accountId,
      sourceEventId: deriveId('statement', accountId, b.month),
      at: this.deps.now().toISOString(),
      month: b.month,
    } as PaymentCommandLike);
    const rows: StatementRow[] = await this.ds.query('select * from statements where account_id = $1 and month = $2', [
      accountId,
      b.month,
    ]);
    if (rows.length === 0)
      throw new ApiProblem(422, 'NO_STATEMENT', `no statement for ${accountId} in ${b.month}`, { field: 'body/month' });
    return statementView(rows[0]);
  }

  @Get('accounts/:accountId/statements')
  @RequireRoles('finance', 'integration')
  @ApiOperation({ summary: "An invoice account's monthly statements, by month; cursor pagination" })
  @ApiParam({ name: 'accountId', example: 'fleet-9' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async statements(@Param('accountId') accountId: string, @Query() query: Record<string, string>) {
    validateInput(AccountIdParam, accountId, 'path/accountId');
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<StatementRow>(this.ds, {
      select: 'select * from statements',
      filters: [['account_id = ?', accountId]],
      key: [['month', 'text']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.month],
    });
    return { items: rows.map(statementView), nextCursor };
  }
}

export interface BalanceRow {
  account: string;
  chart: string;
  currency: string;
  billing_account_id: string | null;
  posted_minor: string;
  pending_minor: string;
  debits_posted_minor: string;
  credits_posted_minor: string;
}

export function balanceView(r: BalanceRow) {
  return {
    account: r.account,
    chart: r.chart,
    currency: r.currency,
    billingAccountId: r.billing_account_id,
    postedMinor: String(r.posted_minor),
    pendingMinor: String(r.pending_minor),
    debitsPostedMinor: String(r.debits_posted_minor),
    creditsPostedMinor: String(r.credits_posted_minor),
  };
}

interface StatementRow {
  statement_id: string;
  account_id: string;
  month: string;
  currency: string;
  payload: Record<string, unknown>;
  issued_at: Date;
}

function statementView(r: StatementRow) {
  const p = r.payload;
  return {
    statementId: r.statement_id,
    accountId: r.account_id,
    month: r.month,
    currency: r.currency,
    issuedAt: r.issued_at.toISOString(),
    lines: p.lines,
    total: p.total,
    totalMinor: p.totalMinor,
  };
}
