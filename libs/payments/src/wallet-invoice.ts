/**
 * The wallet flow (prepaid: a CDR is debited, what the balance does not cover is a receivable and, by policy,
 * blocks the account; a top-up settles the receivables first and unblocks) and the invoice flow (postpaid: a
 * receivable per CDR, blocked past the credit limit by policy, a monthly statement whose lines are the CDRs).
 * A credit CDR settles the credited CDR's open receivable first; the rest goes back to the wallet (an invoice
 * account keeps it as a credit on its ledger account and a negative statement line).
 */
import { epochMsOf, toIsoString } from '@csms/kernel';
import { Decision, big, min } from './decision';
import { PostingRules } from './ledger';
import {
  blockByPolicy,
  openReceivable,
  openReceivablesMinor,
  settleReceivables,
  unblockIfResolved,
} from './receivables';
import { statementIdOf } from './state';
import type { IssueStatement, SettleReceivable, TopUpWallet } from './types';
import { PaymentError } from './errors';

export function walletDebit(d: Decision, cdrId: string, sessionId: string | null, amountMinor: bigint): void {
  const balance = big(d.state.walletBalanceMinor) - amountMinor;
  d.emit('payment.wallet_debited', {
    cdrId,
    sessionId,
    currency: d.currency,
    ...d.money(amountMinor),
    balanceMinor: balance.toString(),
  });
  d.ledger(PostingRules.walletDebit(d.posting(), cdrId, amountMinor));
}

/** A CDR on a wallet account: debit what the balance covers, the rest a receivable (and a block by policy). */
export function walletCdr(d: Decision, cdrId: string, sessionId: string | null, inclMinor: bigint): void {
  const pay = min(inclMinor, big(d.state.walletBalanceMinor));
  if (pay > 0n) walletDebit(d, cdrId, sessionId, pay);
  const rest = inclMinor - (pay > 0n ? pay : 0n);
  if (rest > 0n) {
    openReceivable(d, cdrId, sessionId, rest, 'wallet_insufficient');
    blockByPolicy(d, 'wallet_insufficient');
  }
}

/** A credit CDR on a wallet account: settle the credited CDR's receivable, credit the wallet with the rest. */
export function walletCredit(
  d: Decision,
  cdrId: string,
  creditReferenceId: string | null,
  sessionId: string | null,
  creditMinor: bigint,
): void {
  if (creditMinor <= 0n) return;
  const used = settleReceivables(d, creditMinor, 'credit_cdr', (r) => r.cdrId === creditReferenceId);
  const rest = creditMinor - used;
  if (rest > 0n) {
    const balance = big(d.state.walletBalanceMinor) + rest;
    d.emit('payment.wallet_credited', {
      cdrId,
      creditReferenceId,
      sessionId,
      currency: d.currency,
      ...d.money(rest),
      balanceMinor: balance.toString(),
    });
    d.ledger(PostingRules.walletCredit(d.posting(), cdrId, rest));
  }
  unblockIfResolved(d, 'receivables_settled');
}

export function topUpWallet(d: Decision, c: TopUpWallet): void {
  if (d.state.method?.kind !== 'wallet') {
    throw new PaymentError('PAYMENT_METHOD_MISMATCH', `account ${c.accountId} is not a wallet account`, 'accountId');
  }
  if (c.currency !== d.currency) {
    throw new PaymentError(
      'PAYMENT_CURRENCY_MISMATCH',
      `top-up in ${c.currency}, account in ${d.currency}`,
      'currency',
    );
  }
  if (c.amountMinor <= 0n) throw new PaymentError('PAYMENT_INVALID_AMOUNT', 'a top-up must be positive', 'amountMinor');
  const balance = big(d.state.walletBalanceMinor) + c.amountMinor;
  d.emit('payment.wallet_topped_up', {
    topUpRef: c.topUpRef,
    via: c.via,
    currency: d.currency,
    ...d.money(c.amountMinor),
    balanceMinor: balance.toString(),
  });
  d.ledger(PostingRules.walletTopUp(d.posting(), c.topUpRef, c.amountMinor, c.via));
  // the new money pays what is owed first, oldest first
  settleReceivables(
    d,
    balance,
    'wallet',
    () => true,
    (cdrId, sessionId, amount) => walletDebit(d, cdrId, sessionId, amount),
  );
  unblockIfResolved(d, 'wallet_topped_up');
}

/** A CDR on an invoice account: a receivable; past the credit limit, a block by policy. */
export function invoiceCdr(d: Decision, cdrId: string, sessionId: string | null, inclMinor: bigint): void {
  openReceivable(d, cdrId, sessionId, inclMinor, 'invoice');
  const m = d.state.method;
  if (m?.kind === 'invoice' && openReceivablesMinor(d) > big(m.creditLimitMinor))
    blockByPolicy(d, 'credit_limit_exceeded');
}

/** A credit CDR on an invoice account: settles the credited CDR's receivable (the rest is a credit on the account). */
export function invoiceCredit(d: Decision, creditReferenceId: string | null, creditMinor: bigint): void {
  if (creditMinor > 0n) settleReceivables(d, creditMinor, 'credit_cdr', (r) => r.cdrId === creditReferenceId);
  unblockIfResolved(d, 'receivables_settled');
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The month's statement: one line per CDR (credit CDRs negative) not on a statement yet, up to that month. */
export function issueStatement(d: Decision, c: IssueStatement): void {
  if (!MONTH.test(c.month)) throw new PaymentError('PAYMENT_INVALID_COMMAND', `not a month: ${c.month}`, 'month');
  if (d.state.method?.kind !== 'invoice') {
    throw new PaymentError('PAYMENT_METHOD_MISMATCH', `account ${c.accountId} is not an invoice account`, 'accountId');
  }
  if (d.state.statements.includes(c.month)) return;
  const lines = Object.values(d.state.cdrs)
    .filter((x) => x.statementId === null && toIsoString(epochMsOf(x.at)).slice(0, 7) <= c.month)
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.cdrId < b.cdrId ? -1 : 1))
    .map((x) => ({ cdrId: x.cdrId, sessionId: x.sessionId, at: x.at, ...d.money(big(x.inclMinor)) }));
  if (lines.length === 0) return;
  const total = lines.reduce((a, l) => a + BigInt(l.amountMinor), 0n);
  d.emit('payment.statement_issued', {
    statementId: statementIdOf(c.accountId, c.month),
    month: c.month,
    currency: d.currency,
    lines,
    total: d.money(total).amount,
    totalMinor: total.toString(),
  });
}

/** An open receivable paid (bank transfer or PSP). */
export function settleReceivable(d: Decision, c: SettleReceivable): void {
  const r = d.state.receivables[c.receivableId];
  if (!r) return; // settled already (or unknown): nothing to do
  if (c.amountMinor <= 0n)
    throw new PaymentError('PAYMENT_INVALID_AMOUNT', 'a payment must be positive', 'amountMinor');
  const amount = min(c.amountMinor, big(r.openMinor));
  settleReceivables(d, amount, 'payment', (x) => x.receivableId === c.receivableId);
  d.ledger(PostingRules.receivablePaid(d.posting(), c.receivableId, amount, c.via));
  unblockIfResolved(d, 'receivables_settled');
}
