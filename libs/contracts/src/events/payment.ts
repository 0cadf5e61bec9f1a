/**
 * The payment service's events on `payment.events`, keyed by the billing account id (an ad-hoc QR payment has
 * the account `adhoc:<paymentId>`). Closed schemas, version 1. Money is written twice: the decimal string in the
 * currency's major units (`"12.34"`, `"1234"` for JPY, `"1.234"` for KWD) and the exact integer in minor units as
 * a string (`"1234"`). Every payload names the input that caused it (`sourceEventId`) and when (`at`, the input's
 * time, never a clock): the events' ids are derived from it, never random.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import { stringEnum } from '../ocpi-location';
import { Topics } from '../topics';

const Instant = Type.String({ format: 'date-time' });
/** a billing account id, as the registry's tokens name it, or `adhoc:<paymentId>` */
export const PaymentAccountIdSchema = Type.String({ minLength: 1, maxLength: 100 });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
/** an amount in major units: a plain decimal string */
const Major = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 40 });
/** an amount in minor units: an integer as a string (bigint on the inside) */
const Minor = Type.String({ pattern: '^-?\\d+$', maxLength: 30 });
const Id = Type.String({ minLength: 1, maxLength: 200 });
const Text = Type.String({ maxLength: 500 });
const NullableId = Type.Union([Id, Type.Null()]);

/** What every payment event carries: the account, the causing input and its time. */
const base = {
  accountId: PaymentAccountIdSchema,
  /** the id of the input (event, API request, PSP outcome) that caused this event */
  sourceEventId: Id,
  /** the input's time (RFC 3339) */
  at: Instant,
};

const EX = {
  accountId: 'acct-1001',
  sourceEventId: '7c9e6679-7425-50de-944b-e07fc1f90ae7',
  at: '2026-03-01T10:00:00Z',
};
const EX_SESSION = '1b4e28ba-2fa1-51d2-883f-0016d3cca427';
const EX_HOLD = '2f1c8e0a-93b4-5b8e-a1f4-5d6e7f809a1b';
const EX_INTENT = '9a8b7c6d-5e4f-5a3b-8c2d-1e0f9a8b7c6d';

// ---- accounts ----

export const PAYMENT_METHOD_KINDS = ['card', 'wallet', 'invoice', 'adhoc'] as const;
export const PaymentMethodSchema = Type.Union([
  closed({
    kind: Type.Literal('card'),
    /** the PSP's customer */
    customerRef: Type.String({ minLength: 1, maxLength: 200 }),
    /** the PSP's saved payment method of that customer */
    paymentMethodRef: Type.String({ minLength: 1, maxLength: 200 }),
  }),
  closed({ kind: Type.Literal('wallet') }),
  closed({
    kind: Type.Literal('invoice'),
    /** the most the account may owe (open receivables) before it is blocked; minor units */
    creditLimitMinor: Minor,
  }),
  /** an ad-hoc (QR) payment: one hosted-page hold for one session at one EVSE */
  closed({
    kind: Type.Literal('adhoc'),
    stationId: Type.String({ minLength: 1, maxLength: 48 }),
    evseId: Type.Integer({ minimum: 1 }),
  }),
]);
export type PaymentMethod = Static<typeof PaymentMethodSchema>;

/** What the account does when the rules leave a choice. */
export const PaymentPolicySchema = closed({
  /** a card session's running cost nears its hold: raise the hold (incremental authorisation) or stop the session */
  onHoldNearlyUsed: stringEnum(['increase', 'stop'] as const),
  /** a wallet cannot pay a CDR in full, or an invoice account passes its credit limit: block the account or not */
  onShortfall: stringEnum(['block', 'allow'] as const),
});
export type PaymentPolicy = Static<typeof PaymentPolicySchema>;

export const PaymentAccountOpenedV1 = defineEvent({
  type: 'payment.account_opened',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a billing account was opened with its currency and its one way to pay',
  schema: closed({
    ...base,
    currency: Currency,
    method: PaymentMethodSchema,
    policy: PaymentPolicySchema,
    /** who opened it: `api-key:<name>`, `adhoc` */
    openedBy: Type.String({ minLength: 1, maxLength: 200 }),
  }),
  example: {
    ...EX,
    currency: 'EUR',
    method: { kind: 'card', customerRef: 'cus_123', paymentMethodRef: 'pm_456' },
    policy: { onHoldNearlyUsed: 'increase', onShortfall: 'block' },
    openedBy: 'api-key:ops',
  },
});
export type PaymentAccountOpened = EventOf<typeof PaymentAccountOpenedV1>;

export const PaymentAccountUpdatedV1 = defineEvent({
  type: 'payment.account_updated',
  version: 1,
  topic: Topics.paymentEvents,
  description: "a billing account's payment method or policy changed (its currency never does)",
  schema: closed({
    ...base,
    method: PaymentMethodSchema,
    policy: PaymentPolicySchema,
    updatedBy: Type.String({ minLength: 1, maxLength: 200 }),
  }),
  example: {
    ...EX,
    method: { kind: 'invoice', creditLimitMinor: '50000' },
    policy: { onHoldNearlyUsed: 'stop', onShortfall: 'block' },
    updatedBy: 'api-key:ops',
  },
});

export const ACCOUNT_BLOCK_REASONS = [
  'wallet_insufficient',
  'credit_limit_exceeded',
  'authorization_failed',
  'capture_failed',
  'receivables_settled',
  'wallet_topped_up',
  'credit_limit_raised',
  'method_updated',
] as const;
const BlockReason = stringEnum(ACCOUNT_BLOCK_REASONS);

export const PaymentAccountBlockedV1 = defineEvent({
  type: 'payment.account_blocked',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the account cannot pay: its tokens are refused at the next Authorize',
  schema: closed({ ...base, reason: BlockReason, openReceivablesMinor: Minor }),
  example: { ...EX, reason: 'wallet_insufficient', openReceivablesMinor: '250' },
});

export const PaymentAccountUnblockedV1 = defineEvent({
  type: 'payment.account_unblocked',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the account can pay again',
  schema: closed({ ...base, reason: BlockReason }),
  example: { ...EX, reason: 'wallet_topped_up' },
});

// ---- wallet ----

export const PaymentWalletToppedUpV1 = defineEvent({
  type: 'payment.wallet_topped_up',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'money was added to a prepaid wallet (the balance after it, before settling open receivables)',
  schema: closed({
    ...base,
    topUpRef: Id,
    /** where the money came in: through the PSP (clearing) or a bank transfer */
    via: stringEnum(['psp', 'bank'] as const),
    currency: Currency,
    amount: Major,
    amountMinor: Minor,
    balanceMinor: Minor,
  }),
  example: {
    ...EX,
    accountId: 'acct-2002',
    topUpRef: 'topup-1',
    via: 'psp',
    currency: 'EUR',
    amount: '20.00',
    amountMinor: '2000',
    balanceMinor: '2000',
  },
});

export const PaymentWalletDebitedV1 = defineEvent({
  type: 'payment.wallet_debited',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a wallet paid (part of) a CDR or an open receivable',
  schema: closed({
    ...base,
    cdrId: Id,
    sessionId: NullableId,
    currency: Currency,
    amount: Major,
    amountMinor: Minor,
    balanceMinor: Minor,
  }),
  example: {
    ...EX,
    accountId: 'acct-2002',
    cdrId: 'CDR0001',
    sessionId: EX_SESSION,
    currency: 'EUR',
    amount: '8.47',
    amountMinor: '847',
    balanceMinor: '1153',
  },
});

export const PaymentWalletCreditedV1 = defineEvent({
  type: 'payment.wallet_credited',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a credit CDR gave money back to a wallet',
  schema: closed({
    ...base,
    /** the credit CDR */
    cdrId: Id,
    /** the CDR it credits */
    creditReferenceId: NullableId,
    sessionId: NullableId,
    currency: Currency,
    amount: Major,
    amountMinor: Minor,
    balanceMinor: Minor,
  }),
  example: {
    ...EX,
    accountId: 'acct-2002',
    cdrId: 'CDR0001-C',
    creditReferenceId: 'CDR0001',
    sessionId: EX_SESSION,
    currency: 'EUR',
    amount: '8.47',
    amountMinor: '847',
    balanceMinor: '2000',
  },
});

// ---- the CDR as the payment service took it ----

export const PaymentCdrRecordedV1 = defineEvent({
  type: 'payment.cdr_recorded',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a CDR (or credit CDR) was taken for payment by the account (once per CDR id)',
  schema: closed({
    ...base,
    cdrId: Id,
    sessionId: NullableId,
    credit: Type.Boolean(),
    creditReferenceId: NullableId,
    currency: Currency,
    /** the CDR's total_cost, converted once to minor units (negative for a credit CDR) */
    totalExclVat: Major,
    totalInclVat: Major,
    totalExclVatMinor: Minor,
    totalInclVatMinor: Minor,
    /** how the conversion rounded: `EXACT` when the CDR had no more decimals than the currency */
    rounding: stringEnum(['EXACT', 'HALF_UP'] as const),
    method: stringEnum(PAYMENT_METHOD_KINDS),
  }),
  example: {
    ...EX,
    cdrId: 'CDR0001',
    sessionId: EX_SESSION,
    credit: false,
    creditReferenceId: null,
    currency: 'EUR',
    totalExclVat: '7.00',
    totalInclVat: '8.47',
    totalExclVatMinor: '700',
    totalInclVatMinor: '847',
    rounding: 'EXACT',
    method: 'card',
  },
});

// ---- card intents: the decider asks, the service's runner calls the PSP with intentId as idempotency key ----

const intentBase = {
  ...base,
  /** the PSP idempotency key of this call (UUID v5 of the causing input and the intent kind) */
  intentId: Id,
  /** the hold (the payment at the PSP) this call concerns: the intent id of its authorisation */
  holdId: Id,
  sessionId: NullableId,
  currency: Currency,
};

export const PaymentAuthorizationRequestedV1 = defineEvent({
  type: 'payment.authorization_requested',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a hold is to be placed: on the saved card, or through a hosted payment page (ad-hoc)',
  schema: closed({
    ...intentBase,
    amount: Major,
    amountMinor: Minor,
    /** the saved card (null for a hosted page) */
    customerRef: NullableId,
    paymentMethodRef: NullableId,
    hosted: Type.Boolean(),
  }),
  example: {
    ...EX,
    intentId: EX_HOLD,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    amount: '50.00',
    amountMinor: '5000',
    customerRef: 'cus_123',
    paymentMethodRef: 'pm_456',
    hosted: false,
  },
});

export const PaymentIncreaseRequestedV1 = defineEvent({
  type: 'payment.increase_requested',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a hold is to be raised (incremental authorisation) to a new total',
  schema: closed({ ...intentBase, paymentRef: Id, amount: Major, amountMinor: Minor }),
  example: {
    ...EX,
    intentId: EX_INTENT,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: 'pi_123',
    amount: '100.00',
    amountMinor: '10000',
  },
});

export const PaymentCaptureRequestedV1 = defineEvent({
  type: 'payment.capture_requested',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a hold is to be captured for this amount (the rest of it released)',
  schema: closed({
    ...intentBase,
    paymentRef: Id,
    /** the CDR paid; null for a capture of what is due before the hold expires */
    cdrId: NullableId,
    amount: Major,
    amountMinor: Minor,
    reason: stringEnum(['cdr', 'hold_expiring'] as const),
  }),
  example: {
    ...EX,
    intentId: EX_INTENT,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: 'pi_123',
    cdrId: 'CDR0001',
    amount: '8.47',
    amountMinor: '847',
    reason: 'cdr',
  },
});

export const PaymentReleaseRequestedV1 = defineEvent({
  type: 'payment.release_requested',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a hold is to be released without a capture',
  schema: closed({
    ...intentBase,
    paymentRef: Id,
    amount: Major,
    amountMinor: Minor,
    reason: stringEnum(['nothing_due', 'station_never_started', 'session_not_found'] as const),
  }),
  example: {
    ...EX,
    accountId: 'adhoc:qr-7',
    intentId: EX_INTENT,
    holdId: EX_HOLD,
    sessionId: null,
    currency: 'EUR',
    paymentRef: 'pi_123',
    amount: '50.00',
    amountMinor: '5000',
    reason: 'station_never_started',
  },
});

export const PaymentRefundRequestedV1 = defineEvent({
  type: 'payment.refund_requested',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'part of a captured payment is to be refunded (a credit CDR lowered what is due)',
  schema: closed({
    ...intentBase,
    paymentRef: Id,
    /** the CDR whose correction is refunded (the new CDR, or the credit CDR when none followed) */
    cdrId: Id,
    amount: Major,
    amountMinor: Minor,
  }),
  example: {
    ...EX,
    intentId: EX_INTENT,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: 'pi_123',
    cdrId: 'CDR0002',
    amount: '1.47',
    amountMinor: '147',
  },
});

// ---- card outcomes (from the PSP's answer or its webhook) ----

export const PaymentAuthorizedV1 = defineEvent({
  type: 'payment.authorized',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the PSP holds the amount',
  schema: closed({
    ...intentBase,
    paymentRef: Id,
    amount: Major,
    amountMinor: Minor,
    /** when the hold lapses, when the PSP says */
    holdExpiresAt: Type.Union([Instant, Type.Null()]),
  }),
  example: {
    ...EX,
    intentId: EX_HOLD,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: 'pi_123',
    amount: '50.00',
    amountMinor: '5000',
    holdExpiresAt: '2026-03-08T10:00:00Z',
  },
});

export const PaymentAuthorizationFailedV1 = defineEvent({
  type: 'payment.authorization_failed',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the PSP declined the hold (the attempt is recorded; the session is stopped)',
  schema: closed({ ...intentBase, paymentRef: NullableId, code: Id, message: Text }),
  example: {
    ...EX,
    intentId: EX_HOLD,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: null,
    code: 'card_declined',
    message: 'Your card was declined.',
  },
});

export const PaymentIncreasedV1 = defineEvent({
  type: 'payment.increased',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the PSP raised the hold to a new total',
  schema: closed({ ...intentBase, paymentRef: Id, amount: Major, amountMinor: Minor }),
  example: {
    ...EX,
    intentId: EX_INTENT,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: 'pi_123',
    amount: '100.00',
    amountMinor: '10000',
  },
});

export const PaymentCapturedV1 = defineEvent({
  type: 'payment.captured',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the PSP captured the amount (the rest of the hold is released)',
  schema: closed({
    ...intentBase,
    paymentRef: Id,
    cdrId: NullableId,
    amount: Major,
    amountMinor: Minor,
    /** the PSP's fee, when it says */
    feeMinor: Type.Union([Minor, Type.Null()]),
  }),
  example: {
    ...EX,
    intentId: EX_INTENT,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: 'pi_123',
    cdrId: 'CDR0001',
    amount: '8.47',
    amountMinor: '847',
    feeMinor: null,
  },
});

export const PaymentReleasedV1 = defineEvent({
  type: 'payment.released',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the hold was released without a capture',
  schema: closed({ ...intentBase, paymentRef: Id, amount: Major, amountMinor: Minor }),
  example: {
    ...EX,
    intentId: EX_INTENT,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: 'pi_123',
    amount: '50.00',
    amountMinor: '5000',
  },
});

export const PaymentRefundedV1 = defineEvent({
  type: 'payment.refunded',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the PSP refunded the amount',
  schema: closed({
    ...intentBase,
    paymentRef: Id,
    refundRef: NullableId,
    cdrId: Id,
    amount: Major,
    amountMinor: Minor,
  }),
  example: {
    ...EX,
    intentId: EX_INTENT,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: 'pi_123',
    refundRef: 're_1',
    cdrId: 'CDR0002',
    amount: '1.47',
    amountMinor: '147',
  },
});

export const PAYMENT_OPERATIONS = ['authorize', 'increase', 'capture', 'release', 'refund'] as const;
export const PaymentFailedV1 = defineEvent({
  type: 'payment.failed',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the PSP refused an increase, capture, release or refund (a declined hold is authorization_failed)',
  schema: closed({
    ...intentBase,
    paymentRef: NullableId,
    operation: stringEnum(PAYMENT_OPERATIONS),
    code: Id,
    message: Text,
  }),
  example: {
    ...EX,
    intentId: EX_INTENT,
    holdId: EX_HOLD,
    sessionId: EX_SESSION,
    currency: 'EUR',
    paymentRef: 'pi_123',
    operation: 'increase',
    code: 'card_declined',
    message: 'The incremental authorization was declined.',
  },
});

// ---- the session ----

export const PaymentSessionStopRequestedV1 = defineEvent({
  type: 'payment.session_stop_requested',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the session must stop because it cannot be paid (the service sends the remote stop)',
  schema: closed({
    ...base,
    sessionId: Id,
    stationId: Type.String({ minLength: 1, maxLength: 48 }),
    /** the station's transaction id, when known */
    transactionId: NullableId,
    reason: stringEnum(['authorization_failed', 'hold_exhausted', 'increase_failed'] as const),
  }),
  example: {
    ...EX,
    sessionId: EX_SESSION,
    stationId: 'CP-001',
    transactionId: '42',
    reason: 'authorization_failed',
  },
});

export const PaymentSessionOpenedV1 = defineEvent({
  type: 'payment.session_opened',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a charging session began on the account (with the hold that pays it, for a card or ad-hoc account)',
  schema: closed({
    ...base,
    sessionId: Id,
    stationId: Type.String({ minLength: 1, maxLength: 48 }),
    transactionId: NullableId,
    evseId: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    connectorId: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    currency: Currency,
    /** the hold (its authorisation's intent id); null for a wallet or invoice account */
    holdId: NullableId,
  }),
  example: {
    ...EX,
    sessionId: EX_SESSION,
    stationId: 'CP-001',
    transactionId: '42',
    evseId: 1,
    connectorId: 1,
    currency: 'EUR',
    holdId: EX_HOLD,
  },
});

export const PaymentSessionCostUpdatedV1 = defineEvent({
  type: 'payment.session_cost_updated',
  version: 1,
  topic: Topics.paymentEvents,
  description: "a running session's cost so far (incl. VAT), what a hold about to expire captures",
  schema: closed({ ...base, sessionId: Id, currency: Currency, cost: Major, costMinor: Minor }),
  example: { ...EX, sessionId: EX_SESSION, currency: 'EUR', cost: '4.20', costMinor: '420' },
});

// ---- receivables and statements ----

export const RECEIVABLE_REASONS = [
  'invoice',
  'no_hold',
  'capture_short',
  'capture_failed',
  'authorization_failed',
  'wallet_insufficient',
  'correction',
] as const;

export const PaymentReceivableOpenedV1 = defineEvent({
  type: 'payment.receivable_opened',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the account owes this part of a CDR (invoice, or what a capture or a wallet did not cover)',
  schema: closed({
    ...base,
    receivableId: Id,
    cdrId: Id,
    sessionId: NullableId,
    currency: Currency,
    amount: Major,
    amountMinor: Minor,
    reason: stringEnum(RECEIVABLE_REASONS),
  }),
  example: {
    ...EX,
    receivableId: 'b3c1d1e2-0f9a-5b8c-9d7e-6f5a4b3c2d1e',
    cdrId: 'CDR0001',
    sessionId: EX_SESSION,
    currency: 'EUR',
    amount: '2.50',
    amountMinor: '250',
    reason: 'capture_short',
  },
});

export const PaymentReceivableSettledV1 = defineEvent({
  type: 'payment.receivable_settled',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'an open receivable was (partly) settled',
  schema: closed({
    ...base,
    receivableId: Id,
    cdrId: Id,
    currency: Currency,
    amount: Major,
    amountMinor: Minor,
    /** what is still open after this */
    remainingMinor: Minor,
    by: stringEnum(['wallet', 'credit_cdr', 'payment'] as const),
  }),
  example: {
    ...EX,
    receivableId: 'b3c1d1e2-0f9a-5b8c-9d7e-6f5a4b3c2d1e',
    cdrId: 'CDR0001',
    currency: 'EUR',
    amount: '2.50',
    amountMinor: '250',
    remainingMinor: '0',
    by: 'wallet',
  },
});

export const PaymentStatementIssuedV1 = defineEvent({
  type: 'payment.statement_issued',
  version: 1,
  topic: Topics.paymentEvents,
  description: "an invoice account's monthly statement: one line per CDR (credit CDRs negative)",
  schema: closed({
    ...base,
    statementId: Id,
    /** YYYY-MM (UTC) */
    month: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }),
    currency: Currency,
    lines: Type.Array(
      closed({
        cdrId: Id,
        sessionId: NullableId,
        at: Instant,
        amount: Major,
        amountMinor: Minor,
      }),
      { maxItems: 100000 },
    ),
    total: Major,
    totalMinor: Minor,
  }),
  example: {
    ...EX,
    accountId: 'fleet-9',
    statementId: 'c4d2e3f4-1a2b-5c3d-8e4f-5a6b7c8d9e0f',
    month: '2026-02',
    currency: 'EUR',
    lines: [
      { cdrId: 'CDR0001', sessionId: EX_SESSION, at: '2026-02-10T12:00:00Z', amount: '8.47', amountMinor: '847' },
    ],
    total: '8.47',
    totalMinor: '847',
  },
});

export const PaymentPayoutSettledV1 = defineEvent({
  type: 'payment.payout_settled',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'the PSP paid out to the bank: clearing to bank, minus its fees (key: the platform account)',
  schema: closed({
    ...base,
    payoutRef: Id,
    currency: Currency,
    /** what reached the bank */
    amount: Major,
    amountMinor: Minor,
    feeMinor: Minor,
  }),
  example: {
    ...EX,
    accountId: 'platform',
    payoutRef: 'po_1',
    currency: 'EUR',
    amount: '990.00',
    amountMinor: '99000',
    feeMinor: '1000',
  },
});

// ---- the ledger ----

export const LEDGER_CHART = [
  'customer_receivable',
  'wallet_liability',
  'psp_clearing',
  'revenue_net',
  'vat_payable',
  'refunds',
  'bank',
  'psp_fees',
] as const;

/** `<chart>:<currency>[:<billingAccountId>]` */
export const LedgerAccountNameSchema = Type.String({
  pattern: `^(${LEDGER_CHART.join('|')}):[A-Z]{3}(:.+)?$`,
  maxLength: 160,
});

const TransferFields = {
  ...base,
  /** UUID v5 of the source event and the purpose */
  transferId: Id,
  currency: Currency,
  /** for a transfer that posts or voids a pending one: the pending transfer's id */
  pendingId: NullableId,
  /** debit > 0, credit < 0; the amounts sum to zero */
  postings: Type.Array(closed({ account: LedgerAccountNameSchema, amountMinor: Minor }), {
    minItems: 2,
    maxItems: 16,
  }),
  reason: Type.String({ minLength: 1, maxLength: 100 }),
};

export const LedgerTransferPostedV1 = defineEvent({
  type: 'ledger.transfer_posted',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a balanced ledger transfer (pending: a hold; posted: final)',
  schema: closed({ ...TransferFields, state: stringEnum(['pending', 'posted'] as const) }),
  example: {
    ...EX,
    transferId: 'd5e3f4a5-2b3c-5d4e-9f5a-6b7c8d9e0f1a',
    currency: 'EUR',
    pendingId: null,
    postings: [
      { account: 'customer_receivable:EUR:acct-1001', amountMinor: '847' },
      { account: 'revenue_net:EUR', amountMinor: '-700' },
      { account: 'vat_payable:EUR', amountMinor: '-147' },
    ],
    reason: 'cdr',
    state: 'posted',
  },
});

export const LedgerTransferVoidedV1 = defineEvent({
  type: 'ledger.transfer_voided',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a pending transfer was voided (a hold released or replaced); its postings are the pending ones',
  schema: closed({ ...TransferFields, state: Type.Literal('voided') }),
  example: {
    ...EX,
    transferId: 'e6f4a5b6-3c4d-5e5f-8a6b-7c8d9e0f1a2b',
    currency: 'EUR',
    pendingId: 'd5e3f4a5-2b3c-5d4e-9f5a-6b7c8d9e0f1a',
    postings: [
      { account: 'psp_clearing:EUR', amountMinor: '5000' },
      { account: 'customer_receivable:EUR:acct-1001', amountMinor: '-5000' },
    ],
    reason: 'hold_released',
    state: 'voided',
  },
});

/** Every payment.events definition (all version 1). */
export const PAYMENT_EVENTS = [
  PaymentAccountOpenedV1,
  PaymentAccountUpdatedV1,
  PaymentAccountBlockedV1,
  PaymentAccountUnblockedV1,
  PaymentWalletToppedUpV1,
  PaymentWalletDebitedV1,
  PaymentWalletCreditedV1,
  PaymentCdrRecordedV1,
  PaymentAuthorizationRequestedV1,
  PaymentIncreaseRequestedV1,
  PaymentCaptureRequestedV1,
  PaymentReleaseRequestedV1,
  PaymentRefundRequestedV1,
  PaymentAuthorizedV1,
  PaymentAuthorizationFailedV1,
  PaymentIncreasedV1,
  PaymentCapturedV1,
  PaymentReleasedV1,
  PaymentRefundedV1,
  PaymentFailedV1,
  PaymentSessionStopRequestedV1,
  PaymentSessionOpenedV1,
  PaymentSessionCostUpdatedV1,
  PaymentReceivableOpenedV1,
  PaymentReceivableSettledV1,
  PaymentStatementIssuedV1,
  PaymentPayoutSettledV1,
  LedgerTransferPostedV1,
  LedgerTransferVoidedV1,
] as const;

type Defs = (typeof PAYMENT_EVENTS)[number];
/** The payload of each payment.events type, by type. */
export type PaymentPayloads = { [D in Defs as D['type']]: Static<D['schema']> };
/** A payment.events type. */
export type PaymentEventType = keyof PaymentPayloads;
/** An event of the payment decider: the contract's payload tagged by its type. */
export type PaymentEventOf<T extends PaymentEventType> = { type: T } & PaymentPayloads[T];
export type PaymentEventPayload = { [T in PaymentEventType]: PaymentEventOf<T> }[PaymentEventType];
export type LedgerTransferPayload = PaymentPayloads['ledger.transfer_posted'];
