/**
 * Receivables (what an account owes beyond what was paid) and the blocking rules that follow from them: a wallet
 * that could not pay, an invoice account over its credit limit, a card that was declined block the account when
 * its policy says so; settling unblocks it.
 */
import type { RECEIVABLE_REASONS } from '@csms/contracts';
import { Decision, big, min } from './decision';
import { receivableIdOf } from './state';
import type { ReceivableState } from './types';

type ReceivableReason = (typeof RECEIVABLE_REASONS)[number];
type BlockReason = 'wallet_insufficient' | 'credit_limit_exceeded' | 'authorization_failed' | 'capture_failed';

export function openReceivablesMinor(d: Decision): bigint {
  return Object.values(d.state.receivables).reduce((a, r) => a + big(r.openMinor), 0n);
}

export function openReceivable(
  d: Decision,
  cdrId: string,
  sessionId: string | null,
  amountMinor: bigint,
  reason: ReceivableReason,
): void {
  if (amountMinor <= 0n) return;
  d.emit('payment.receivable_opened', {
    receivableId: receivableIdOf(d.accountId, cdrId, d.cmd.sourceEventId),
    cdrId,
    sessionId,
    currency: d.currency,
    ...d.money(amountMinor),
    reason,
  });
}

/**
 * Settles open receivables (those of `filter`, oldest first) with up to `available`; returns what was used.
 * `pay` is called before each settlement with the receivable and the amount (a wallet debit, for instance).
 */
export function settleReceivables(
  d: Decision,
  available: bigint,
  by: 'wallet' | 'credit_cdr' | 'payment',
  filter: (r: ReceivableState) => boolean,
  pay?: (cdrId: string, sessionId: string | null, amountMinor: bigint) => void,
): bigint {
  let left = available;
  const open = Object.values(d.state.receivables)
    .filter(filter)
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.receivableId < b.receivableId ? -1 : 1));
  for (const r of open) {
    if (left <= 0n) break;
    const amount = min(left, big(r.openMinor));
    if (amount <= 0n) continue;
    pay?.(r.cdrId, r.sessionId, amount);
    d.emit('payment.receivable_settled', {
      receivableId: r.receivableId,
      cdrId: r.cdrId,
      currency: d.currency,
      ...d.money(amount),
      remainingMinor: (big(r.openMinor) - amount).toString(),
      by,
    });
    left -= amount;
  }
  return available - left;
}

/** Blocks the account (when its policy blocks on a shortfall and it is not blocked yet). */
export function blockByPolicy(d: Decision, reason: BlockReason): void {
  if (d.state.blocked || d.state.policy.onShortfall !== 'block') return;
  d.emit('payment.account_blocked', { reason, openReceivablesMinor: openReceivablesMinor(d).toString() });
}

/** Unblocks the account when what blocked it is resolved. */
export function unblockIfResolved(
  d: Decision,
  reason: 'receivables_settled' | 'wallet_topped_up' | 'credit_limit_raised' | 'method_updated',
): void {
  if (!d.state.blocked) return;
  const open = openReceivablesMinor(d);
  const m = d.state.method;
  const why = d.state.blockReason;
  let resolved = false;
  if (why === 'wallet_insufficient') resolved = open === 0n;
  else if (why === 'credit_limit_exceeded')
    resolved = m?.kind === 'invoice' ? open <= big(m.creditLimitMinor) : open === 0n;
  else if (why === 'authorization_failed' || why === 'capture_failed') resolved = reason === 'method_updated';
  if (resolved) d.emit('payment.account_unblocked', { reason });
}
