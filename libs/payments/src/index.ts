// The payment rules (pure): minor units, the double-entry ledger's posting rules, and the payment decider per
// billing account. See README.md.
export { PaymentError } from './errors';
export type { PaymentErrorCode } from './errors';
export { currencyExponent, fromMinorUnits, toMinorUnits, toMinorUnitsDetailed, toMinorUnitsExact } from './minor-units';
export type { MinorUnits } from './minor-units';
export {
  LEDGER_CHART,
  LedgerJournal,
  PER_CUSTOMER,
  PostingRules,
  assertBalanced,
  balancesOf,
  ledgerAccount,
  makeTransfer,
  parseLedgerAccount,
  toTransferPayload,
  transferEvent,
  transferIdOf,
  transferOf,
} from './ledger';
export type { Balances, ChartAccount, LedgerEvent, Posting, PostingContext, Transfer, TransferState } from './ledger';
export {
  DEFAULT_PAYMENT_CONFIG,
  DEFAULT_POLICY,
  evolvePayment,
  initialPaymentState,
  intentIdOf,
  receivableIdOf,
  statementIdOf,
} from './state';
export { createPaymentDecider, paymentDecider } from './payment-decider';
export { emptySession, pspResultOf } from './types';
export {
  PAYMENT_EVENT_DEFINITIONS,
  PAYOUT_ACCOUNT_ID,
  adhocAccountId,
  fromPaymentEnvelope,
  payloadOf,
  paymentEventId,
  toPaymentEnvelope,
} from './envelopes';
export type {
  AccountPaymentState,
  ArchivedSession,
  CdrCreated,
  CommandBase,
  HoldExpiryDue,
  HoldState,
  HoldStatus,
  IssueStatement,
  OpenAccount,
  PaymentCommand,
  PaymentCommandType,
  PaymentConfig,
  PaymentEvent,
  PaymentEventOf,
  PaymentEventType,
  PaymentMethod,
  PaymentPolicy,
  PayoutSettled,
  ProviderOutcome,
  PspDecline,
  PspPayment,
  PspRefund,
  PspResult,
  ReceivableState,
  RecordedCdr,
  ReleaseUnusedHold,
  RunningCost,
  SessionStarted,
  SessionState,
  SettleReceivable,
  StartAdhocPayment,
  TopUpWallet,
  UpdateAccount,
} from './types';
export {
  adhocHoldIdOf,
  adhocPaymentIdOf,
  adhocPaymentOf,
  adhocStartSourceOf,
  holdInWords,
  oneTimeTokenOf,
  otherProtocol,
  remoteStartIdOf,
  remoteStartRequest,
  restrictionsInWords,
  startResultVerdict,
  tariffInWords,
} from './adhoc';
export type { StationProtocol, TariffLine } from './adhoc';
export { holdAmountMinor, type HoldSource } from './hold';
export { statementMonthDue } from './schedule';
