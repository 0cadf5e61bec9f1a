/**
 * The payment rules as a decider, one aggregate per billing account (`adhoc:<paymentId>` for an ad-hoc QR
 * payment, PAYOUT_ACCOUNT_ID for the PSP's payouts). Every transition is an event of payment.events; every
 * movement of money is also a balanced `ledger.transfer_posted` (or `ledger.transfer_voided`). PSP calls are
 * decided as `*_requested` events whose `intentId` is the idempotency key; the service's runner makes the call
 * and hands the answer back as a `provider_outcome` command. Idempotent: a command from a source already applied
 * decides nothing; a CDR is taken once per CDR id; a hold is captured at most once (its capture intent id is
 * derived from the hold).
 */
import type { Decider } from '@csms/kernel';
import {
  cardRunningCost,
  cardSessionStarted,
  holdExpiryDue,
  providerOutcome,
  releaseUnusedHold,
  settleCardSession,
} from './card';
import { Decision } from './decision';
import { PaymentError } from './errors';
import { adhocAccountId } from './envelopes';
import { PostingRules } from './ledger';
import { currencyExponent, toMinorUnitsDetailed } from './minor-units';
import { openReceivable, unblockIfResolved } from './receivables';
import { DEFAULT_PAYMENT_CONFIG, DEFAULT_POLICY, evolvePayment, initialPaymentState, intentIdOf } from './state';
import type {
  AccountPaymentState,
  CdrCreated,
  OpenAccount,
  PaymentCommand,
  PaymentConfig,
  PaymentEvent,
  PaymentMethod,
  PaymentPolicy,
  PayoutSettled,
  StartAdhocPayment,
  UpdateAccount,
} from './types';
import {
  invoiceCdr,
  invoiceCredit,
  issueStatement,
  settleReceivable,
  topUpWallet,
  walletCdr,
  walletCredit,
} from './wallet-invoice';

function checkMethod(m: PaymentMethod, field: string): void {
  if (m.kind === 'invoice' && !/^\d{1,30}$/.test(m.creditLimitMinor)) {
    throw new PaymentError(
      'PAYMENT_INVALID_AMOUNT',
      'creditLimitMinor must be a non-negative integer',
      `${field}.creditLimitMinor`,
    );
  }
}

function openAccount(d: Decision, c: OpenAccount): void {
  currencyExponent(c.currency);
  checkMethod(c.method, 'method');
  const policy: PaymentPolicy = { ...DEFAULT_POLICY, ...c.policy };
  if (d.state.accountId !== null) {
    const same =
      d.state.currency === c.currency &&
      JSON.stringify(d.state.method) === JSON.stringify(c.method) &&
      JSON.stringify(d.state.policy) === JSON.stringify(policy);
    if (same) return; // the same request again
    throw new PaymentError('PAYMENT_ACCOUNT_EXISTS', `payment account ${c.accountId} exists`, 'accountId');
  }
  d.emit('payment.account_opened', { currency: c.currency, method: c.method, policy, openedBy: c.openedBy });
}

function updateAccount(d: Decision, c: UpdateAccount): void {
  const current = d.state.method;
  if (!current) throw new PaymentError('PAYMENT_ACCOUNT_UNKNOWN', `no payment account ${c.accountId}`, 'accountId');
  const method = c.method ?? current;
  checkMethod(method, 'method');
  if ((current.kind === 'adhoc') !== (method.kind === 'adhoc')) {
    throw new PaymentError('PAYMENT_METHOD_MISMATCH', 'an ad-hoc payment is not an account that can change', 'method');
  }
  const policy: PaymentPolicy = { ...d.state.policy, ...c.policy };
  if (JSON.stringify(method) === JSON.stringify(current) && JSON.stringify(policy) === JSON.stringify(d.state.policy))
    return;
  d.emit('payment.account_updated', { method, policy, updatedBy: c.updatedBy });
  if (JSON.stringify(method) !== JSON.stringify(current)) unblockIfResolved(d, 'method_updated');
  if (method.kind === 'invoice') unblockIfResolved(d, 'credit_limit_raised');
}

function startAdhoc(d: Decision, c: StartAdhocPayment): void {
  if (c.accountId !== adhocAccountId(c.paymentId)) {
    throw new PaymentError(
      'PAYMENT_INVALID_COMMAND',
      `an ad-hoc payment's account is ${adhocAccountId(c.paymentId)}`,
      'accountId',
    );
  }
  if (c.holdAmountMinor <= 0n)
    throw new PaymentError('PAYMENT_INVALID_AMOUNT', 'the hold must be positive', 'holdAmountMinor');
  currencyExponent(c.currency);
  if (d.state.accountId !== null) return; // a double click, a reload: the same payment
  d.emit('payment.account_opened', {
    currency: c.currency,
    method: { kind: 'adhoc', stationId: c.stationId, evseId: c.evseId },
    policy: { onHoldNearlyUsed: 'stop', onShortfall: 'allow' },
    openedBy: 'adhoc',
  });
  const holdId = intentIdOf('authorize', c.sourceEventId);
  d.emit('payment.authorization_requested', {
    intentId: holdId,
    holdId,
    sessionId: null,
    currency: c.currency,
    ...d.money(c.holdAmountMinor, c.currency),
    customerRef: null,
    paymentMethodRef: null,
    hosted: true,
  });
}

function cdrCreated(d: Decision, c: CdrCreated): void {
  const method = d.state.method;
  if (!method) throw new PaymentError('PAYMENT_ACCOUNT_UNKNOWN', `no payment account ${c.accountId}`, 'accountId');
  if (c.currency !== d.currency) {
    throw new PaymentError(
      'PAYMENT_CURRENCY_MISMATCH',
      `CDR ${c.cdrId} in ${c.currency}, account in ${d.currency}`,
      'currency',
    );
  }
  if (d.state.cdrs[c.cdrId] || d.state.settledCdrIds?.includes(c.cdrId)) return; // the same CDR again
  const incl = toMinorUnitsDetailed(c.totalInclVat, c.currency);
  const excl = toMinorUnitsDetailed(c.totalExclVat, c.currency);
  if (c.credit !== incl.minor < 0n && incl.minor !== 0n) {
    throw new PaymentError(
      'PAYMENT_INVALID_COMMAND',
      `CDR ${c.cdrId}: credit ${c.credit} with total ${c.totalInclVat}`,
      'totalInclVat',
    );
  }
  d.emit('payment.cdr_recorded', {
    cdrId: c.cdrId,
    sessionId: c.sessionId,
    credit: c.credit,
    creditReferenceId: c.creditReferenceId,
    currency: c.currency,
    totalExclVat: c.totalExclVat,
    totalInclVat: c.totalInclVat,
    totalExclVatMinor: excl.minor.toString(),
    totalInclVatMinor: incl.minor.toString(),
    rounding: incl.rounded || excl.rounded ? 'HALF_UP' : 'EXACT',
    method: method.kind,
  });
  d.ledger(PostingRules.cdr(d.posting(), c.cdrId, incl.minor, excl.minor));
  switch (method.kind) {
    case 'card':
    case 'adhoc':
      // a credit CDR waits for the corrected CDR that follows it (the difference is settled then), or for its grace
      if (c.sessionId && !c.credit) settleCardSession(d, c.sessionId, c.cdrId);
      else if (!c.sessionId && incl.minor > 0n) settleCardless(d, c, incl.minor);
      return;
    case 'wallet':
      if (c.credit) walletCredit(d, c.cdrId, c.creditReferenceId, c.sessionId, -incl.minor);
      else walletCdr(d, c.cdrId, c.sessionId, incl.minor);
      return;
    case 'invoice':
      if (c.credit) invoiceCredit(d, c.creditReferenceId, -incl.minor);
      else invoiceCdr(d, c.cdrId, c.sessionId, incl.minor);
      return;
  }
}

/** A card account's CDR with no session: no hold can pay it, the account owes it. */
function settleCardless(d: Decision, c: CdrCreated, inclMinor: bigint): void {
  openReceivable(d, c.cdrId, null, inclMinor, 'no_hold');
}

function payoutSettled(d: Decision, c: PayoutSettled): void {
  currencyExponent(c.currency);
  if (c.amountMinor < 0n || c.feeMinor < 0n)
    throw new PaymentError('PAYMENT_INVALID_AMOUNT', 'a payout is not negative', 'amountMinor');
  if (d.state.payouts.includes(c.payoutRef)) return;
  d.emit('payment.payout_settled', {
    payoutRef: c.payoutRef,
    currency: c.currency,
    ...d.money(c.amountMinor, c.currency),
    feeMinor: c.feeMinor.toString(),
  });
  d.ledger(PostingRules.payout(d.posting(c.currency), c.payoutRef, c.amountMinor, c.feeMinor));
}

function decideInto(d: Decision): void {
  const c = d.cmd;
  switch (c.type) {
    case 'open_account':
      return openAccount(d, c);
    case 'update_account':
      return updateAccount(d, c);
    case 'top_up_wallet':
      return topUpWallet(d, c);
    case 'start_adhoc_payment':
      return startAdhoc(d, c);
    case 'payout_settled':
      return payoutSettled(d, c);
    case 'session_started': {
      if (d.state.sessions[c.sessionId]) return;
      if (c.currency !== d.currency) {
        throw new PaymentError(
          'PAYMENT_CURRENCY_MISMATCH',
          `session in ${c.currency}, account in ${d.currency}`,
          'currency',
        );
      }
      const kind = d.state.method?.kind;
      if (kind === 'card' || kind === 'adhoc') return cardSessionStarted(d, c);
      d.emit('payment.session_opened', {
        sessionId: c.sessionId,
        stationId: c.stationId,
        transactionId: c.transactionId,
        evseId: c.evseId,
        connectorId: c.connectorId,
        currency: d.currency,
        holdId: null,
      });
      return;
    }
    case 'running_cost':
      if (!d.state.method) return;
      return cardRunningCost(d, c);
    case 'cdr_created':
      return cdrCreated(d, c);
    case 'provider_outcome':
      if (!d.state.method) return;
      return providerOutcome(d, c);
    case 'hold_expiry_due':
      if (d.state.method?.kind !== 'card' && d.state.method?.kind !== 'adhoc') return;
      return holdExpiryDue(d, c);
    case 'release_unused_hold':
      if (d.state.method?.kind !== 'adhoc') return;
      return releaseUnusedHold(d, c);
    case 'issue_statement':
      return issueStatement(d, c);
    case 'settle_receivable':
      if (!d.state.method)
        throw new PaymentError('PAYMENT_ACCOUNT_UNKNOWN', `no payment account ${c.accountId}`, 'accountId');
      return settleReceivable(d, c);
  }
}

/** The payment decider with these tunables (see DEFAULT_PAYMENT_CONFIG). */
export function createPaymentDecider(config: Partial<PaymentConfig> = {}): Decider<
  PaymentCommand,
  PaymentEvent,
  AccountPaymentState
> & {
  decideAndEvolve: (
    c: PaymentCommand,
    s: AccountPaymentState,
  ) => { events: PaymentEvent[]; state: AccountPaymentState };
} {
  const cfg: PaymentConfig = { ...DEFAULT_PAYMENT_CONFIG, ...config };
  const evolve = evolvePayment(cfg);
  const decideAndEvolve = (command: PaymentCommand, state: AccountPaymentState) => {
    if (state.recentSources.includes(command.sourceEventId)) return { events: [], state };
    if (state.accountId !== null && state.accountId !== command.accountId) {
      throw new PaymentError(
        'PAYMENT_INVALID_COMMAND',
        `command for ${command.accountId} on account ${state.accountId}`,
        'accountId',
      );
    }
    const d = new Decision(state, command, cfg, evolve);
    decideInto(d);
    return { events: d.events, state: d.state };
  };
  return {
    initialState: initialPaymentState,
    evolve,
    decide: (command, state) => decideAndEvolve(command, state).events,
    decideAndEvolve,
  };
}

/** The payment decider with the default tunables (hold threshold 80 %, 7-day holds captured a day early). */
export const paymentDecider = createPaymentDecider();
