/**
 * The payment decider's language: its commands (inputs, each naming its source and its time), its events (the
 * payment.events contracts' payloads tagged by type) and its state (one billing account; JSON-safe: amounts in
 * minor units as integer strings, so the service can keep it as jsonb).
 */
import type {
  PaymentEventOf,
  PaymentEventPayload,
  PaymentEventType,
  PaymentMethod,
  PaymentPolicy,
} from '@csms/contracts';

/** An event of the payment decider: `{ type: 'payment.captured', ...payload }`. */
export type PaymentEvent = PaymentEventPayload;
export type { PaymentEventOf, PaymentEventType, PaymentMethod, PaymentPolicy };

/** What every command carries: the account (the aggregate), the causing input's id and its time. */
export interface CommandBase {
  /** the billing account id (`adhoc:<paymentId>` for an ad-hoc QR payment) */
  accountId: string;
  /** the id of the causing input (event id, API request id, PSP event id): the derived ids are made from it */
  sourceEventId: string;
  /** the input's time (RFC 3339 UTC); the rules never read a clock */
  at: string;
}

export interface OpenAccount extends CommandBase {
  type: 'open_account';
  currency: string;
  method: PaymentMethod;
  /** defaults: `{ onHoldNearlyUsed: 'increase', onShortfall: 'block' }` */
  policy?: Partial<PaymentPolicy>;
  openedBy: string;
}

export interface UpdateAccount extends CommandBase {
  type: 'update_account';
  /** the new method (same currency; an ad-hoc account cannot change) */
  method?: PaymentMethod;
  policy?: Partial<PaymentPolicy>;
  updatedBy: string;
}

export interface TopUpWallet extends CommandBase {
  type: 'top_up_wallet';
  /** the payment's reference (PSP payment or bank transfer) */
  topUpRef: string;
  currency: string;
  amountMinor: bigint;
  /** how the money came in: PSP (to clearing) or bank transfer */
  via: 'psp' | 'bank';
}

/** A session began on the account (session.events `session.started`, the token mapped to this account). */
export interface SessionStarted extends CommandBase {
  type: 'session_started';
  sessionId: string;
  stationId: string;
  transactionId: string | null;
  evseId: number | null;
  connectorId: number | null;
  currency: string;
  /** the hold to place (tariff max_price or the configured default), minor units */
  holdAmountMinor: bigint;
}

/** The running cost of a session (incl. VAT, the CDR engine's price so far, from session.updated). */
export interface RunningCost extends CommandBase {
  type: 'running_cost';
  sessionId: string;
  /** decimal string, major units (as the pricing engine writes it) */
  costInclVat: string;
  /**
   * the most the session can cost (the tariff's OCPI max_price incl. VAT), null/absent: no cap. A hold that covers it
   * is never raised and never stops the session: the cost cannot outgrow it
   */
  maxCostInclVat?: string | null;
}

/** billing.events `cdr.created` for this account (a CDR or a credit CDR). */
export interface CdrCreated extends CommandBase {
  type: 'cdr_created';
  cdrId: string;
  sessionId: string | null;
  currency: string;
  /** the CDR's total_cost, decimal strings as in the CDR (negative for a credit CDR) */
  totalExclVat: string;
  totalInclVat: string;
  credit: boolean;
  creditReferenceId: string | null;
}

/** The payment as the PSP states it (plain data: the same fields as the provider port's `ProviderPayment`). */
export interface PspPayment {
  paymentRef: string;
  status: 'authorized' | 'captured' | 'canceled' | 'pending';
  currency: string;
  amountAuthorizedMinor: bigint;
  amountCapturedMinor: bigint;
  amountRefundedMinor: bigint;
  holdExpiresAt: string | null;
  feeMinor: bigint | null;
}

/** A PSP refund (the provider port's `ProviderRefund`). */
export interface PspRefund {
  refundRef: string;
  paymentRef: string;
  amountMinor: bigint;
  status: 'succeeded' | 'pending' | 'failed';
}

/** What the PSP answered: the payment, a refund, or a decline (a result, not an error). */
export type PspResult =
  | { kind: 'payment'; payment: PspPayment }
  | { kind: 'refund'; refund: PspRefund }
  | { kind: 'decline'; code: string; message: string; paymentRef: string | null };

/**
 * The outcome of a PSP call (the runner's answer) or a PSP webhook. `intentId` names the intent called; a webhook
 * about a payment may name the hold (its authorisation intent id, the PSP metadata) instead: payment outcomes are
 * judged by the payment's state against the hold's, so duplicates and out-of-order ones change nothing.
 */
export interface ProviderOutcome extends CommandBase {
  type: 'provider_outcome';
  intentId: string;
  result: PspResult;
}

/** Periodic: capture what is due on holds about to expire; settle corrections no new CDR followed. */
export interface HoldExpiryDue extends CommandBase {
  type: 'hold_expiry_due';
}

/** Start an ad-hoc (QR) payment: opens the `adhoc:<paymentId>` account and asks for a hosted-page hold. */
export interface StartAdhocPayment extends CommandBase {
  type: 'start_adhoc_payment';
  paymentId: string;
  stationId: string;
  evseId: number;
  currency: string;
  holdAmountMinor: bigint;
}

/** The station never started the session paid for ad hoc (or it was abandoned): release the unused hold. */
export interface ReleaseUnusedHold extends CommandBase {
  type: 'release_unused_hold';
  reason: 'station_never_started' | 'session_not_found';
}

/** The PSP paid out: clearing to the bank, minus fees (handled under the platform account, PAYOUT_ACCOUNT_ID). */
export interface PayoutSettled extends CommandBase {
  type: 'payout_settled';
  payoutRef: string;
  currency: string;
  /** what reached the bank */
  amountMinor: bigint;
  feeMinor: bigint;
}

/** Issue the monthly statement of an invoice account (lines = the CDRs of the month not on a statement yet). */
export interface IssueStatement extends CommandBase {
  type: 'issue_statement';
  /** YYYY-MM (UTC) */
  month: string;
}

/** An open receivable was paid (an invoice paid by bank transfer, a payment through the PSP). */
export interface SettleReceivable extends CommandBase {
  type: 'settle_receivable';
  receivableId: string;
  amountMinor: bigint;
  via: 'psp' | 'bank';
}

export type PaymentCommand =
  | OpenAccount
  | UpdateAccount
  | TopUpWallet
  | SessionStarted
  | RunningCost
  | CdrCreated
  | ProviderOutcome
  | HoldExpiryDue
  | StartAdhocPayment
  | ReleaseUnusedHold
  | PayoutSettled
  | IssueStatement
  | SettleReceivable;
export type PaymentCommandType = PaymentCommand['type'];

/** Amounts in state: minor units as integer strings (JSON-safe). */
export type MinorText = string;

export type HoldStatus =
  /** authorisation asked, no answer yet */
  'requested' | 'authorized' | 'failed' | 'captured' | 'released';

/** One hold at the PSP (a card or ad-hoc payment). */
export interface HoldState {
  holdId: string;
  sessionId: string | null;
  paymentRef: string | null;
  status: HoldStatus;
  hosted: boolean;
  /** the first hold amount asked (what an increase adds) */
  requestedMinor: MinorText;
  authorizedMinor: MinorText;
  capturedMinor: MinorText;
  refundedMinor: MinorText;
  /** a capture asked and not answered: its intent and amount */
  capture: { intentId: string; amountMinor: MinorText; cdrId: string | null } | null;
  /** a release asked and not answered */
  releaseIntentId: string | null;
  /** the PSP refused the release: it is not asked again (the hold lapses at the PSP) */
  releaseRefused?: boolean;
  /** an increase asked and not answered */
  increase: { intentId: string; amountMinor: MinorText } | null;
  /** refunds asked and not answered, by intent id */
  refunds: Record<string, { amountMinor: MinorText; cdrId: string }>;
  /** the ledger's pending transfer of this hold (while authorised) */
  pendingTransferId: string | null;
  pendingPostings: { account: string; amountMinor: MinorText }[] | null;
  authorizedAt: string | null;
  expiresAt: string | null;
}

/** One charging session of the account. */
export interface SessionState {
  sessionId: string;
  stationId: string;
  transactionId: string | null;
  holdId: string | null;
  /** the last running cost incl. VAT */
  costMinor: MinorText;
  /** the sum of the session's CDRs (credit CDRs negative) */
  dueMinor: MinorText;
  /** how many CDRs (and credit CDRs) of the session were recorded */
  cdrCount: number;
  /** a credit CDR came and no new CDR yet: the difference is settled when it comes (or after the grace period) */
  correctingSince: string | null;
  stopRequested: boolean;
}

/** A session the account has seen nothing priced of yet: no hold, no cost, no CDR; `fields` set what is known. */
export function emptySession(sessionId: string, fields: Partial<Omit<SessionState, 'sessionId'>> = {}): SessionState {
  return {
    sessionId,
    stationId: '',
    transactionId: null,
    holdId: null,
    costMinor: '0',
    dueMinor: '0',
    cdrCount: 0,
    correctingSince: null,
    stopRequested: false,
    ...fields,
  };
}

export interface ReceivableState {
  receivableId: string;
  cdrId: string;
  sessionId: string | null;
  openMinor: MinorText;
  at: string;
}

export interface RecordedCdr {
  cdrId: string;
  sessionId: string | null;
  credit: boolean;
  creditReferenceId: string | null;
  inclMinor: MinorText;
  at: string;
  /** the statement that listed it (invoice accounts) */
  statementId: string | null;
}

/** What a correction needs of a pruned card session whose hold was captured (compact: the state stays small). */
export interface ArchivedSession {
  sessionId: string;
  stationId: string;
  holdId: string;
  paymentRef: string;
  dueMinor: MinorText;
  cdrCount: number;
  capturedMinor: MinorText;
  refundedMinor: MinorText;
}

/** Everything the rules know about one billing account. */
export interface AccountPaymentState {
  accountId: string | null;
  currency: string | null;
  method: PaymentMethod | null;
  policy: PaymentPolicy;
  blocked: boolean;
  blockReason: string | null;
  walletBalanceMinor: MinorText;
  holds: Record<string, HoldState>;
  sessions: Record<string, SessionState>;
  receivables: Record<string, ReceivableState>;
  cdrs: Record<string, RecordedCdr>;
  /** intent id → the hold and the kind (to judge a decline) */
  intents: Record<string, { holdId: string; kind: 'authorize' | 'increase' | 'capture' | 'release' | 'refund' }>;
  /**
   * settled card sessions with a captured hold pruned from `sessions` (bounded, oldest dropped first): a credit CDR
   * for one brings it back, so its refund is still the difference against what was captured
   */
  archive: Record<string, ArchivedSession>;
  /** ids of CDRs pruned from `cdrs` with their settled sessions (bounded): a re-delivered one still decides nothing */
  settledCdrIds: string[];
  /** months with a statement */
  statements: string[];
  /** payouts settled (platform account) */
  payouts: string[];
  /** the last source event ids applied (bounded): a command from one of them decides nothing */
  recentSources: string[];
}

/** Tunables of the rules (defaults in DEFAULT_PAYMENT_CONFIG). */
export interface PaymentConfig {
  /** the running cost reaching this percentage of the hold raises it or stops the session */
  holdThresholdPercent: number;
  /** a hold is captured this long before it expires (ms) */
  expiryMarginMs: number;
  /** how long a hold lasts when the PSP does not say (customer-initiated card payments: 7 days) */
  holdLifetimeMs: number;
  /** a correction (credit CDR) no new CDR followed is settled after this long (ms) */
  correctionGraceMs: number;
  /** how many source event ids the state keeps for idempotency */
  recentSourcesKept: number;
  /** how many settled sessions (and their holds and CDRs) an account keeps in full */
  settledSessionsKept: number;
  /** how many pruned sessions an account keeps in its archive (a correction older than that cannot be refunded automatically) */
  archivedSessionsKept: number;
  /** how many ids of pruned CDRs an account keeps */
  settledCdrIdsKept: number;
}

/** A PSP decline as the provider port returns it (`ProviderDecline`). */
export interface PspDecline {
  declined: true;
  code: string;
  message: string;
  paymentRef: string | null;
}

/**
 * The `provider_outcome` result of what the provider port returned (its `ProviderPayment`, `ProviderRefund` or
 * `ProviderDecline`: the same fields), so the service hands the port's answer over as it is.
 */
export function pspResultOf(r: PspPayment | PspRefund | PspDecline): PspResult {
  if ('declined' in r) return { kind: 'decline', code: r.code, message: r.message, paymentRef: r.paymentRef };
  if ('refundRef' in r) return { kind: 'refund', refund: r };
  return { kind: 'payment', payment: r };
}
