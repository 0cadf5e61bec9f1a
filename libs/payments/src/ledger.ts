/**
 * The double-entry ledger's rules (after TigerBeetle and Modern Treasury): accounts of one currency each, named
 * `<chart>:<currency>[:<billingAccountId>]`; transfers immutable and balanced (the postings of a transfer sum to
 * zero, one currency, at least two lines, no zero line; a debit is > 0, a credit < 0); two-phase holds: a
 * `pending` transfer is later resolved by one `posted` transfer (for at most its amounts: the rest is released) or
 * one `voided` transfer, each naming it by `pendingId`; transfer ids are UUID v5 of the source event and the
 * purpose, so a replay makes the same ids. Balances are derived from the postings, never stored.
 */
import { LEDGER_CHART, deriveId, type LedgerTransferPayload, type PaymentEventOf } from '@csms/contracts';
import { PaymentError } from './errors';

export { LEDGER_CHART };
export type ChartAccount = (typeof LEDGER_CHART)[number];

/**
 * The accounts that are per billing account (what the customer owes, what the wallet holds); the others are
 * the operator's, one per currency.
 */
export const PER_CUSTOMER: readonly ChartAccount[] = ['customer_receivable', 'wallet_liability'];

/** A ledger account's name: `customer_receivable:EUR:acct-1`, `revenue_net:EUR`. */
export function ledgerAccount(chart: ChartAccount, currency: string, billingAccountId?: string | null): string {
  return billingAccountId ? `${chart}:${currency}:${billingAccountId}` : `${chart}:${currency}`;
}

/** The parts of a ledger account's name. */
export function parseLedgerAccount(name: string): {
  chart: ChartAccount;
  currency: string;
  billingAccountId: string | null;
} {
  const first = name.indexOf(':');
  const second = first < 0 ? -1 : name.indexOf(':', first + 1);
  const chart = name.slice(0, first) as ChartAccount;
  const currency = second < 0 ? name.slice(first + 1) : name.slice(first + 1, second);
  if (first < 0 || !(LEDGER_CHART as readonly string[]).includes(chart) || !/^[A-Z]{3}$/.test(currency)) {
    throw new PaymentError('LEDGER_INVALID_TRANSFER', `not a ledger account name: ${JSON.stringify(name)}`, 'account');
  }
  return { chart, currency, billingAccountId: second < 0 ? null : name.slice(second + 1) };
}

export interface Posting {
  account: string;
  /** debit > 0, credit < 0 */
  amountMinor: bigint;
}

export type TransferState = 'pending' | 'posted' | 'voided';

export interface Transfer {
  /** UUID v5 of the source event id and the purpose */
  transferId: string;
  currency: string;
  state: TransferState;
  /** for a transfer resolving a pending one (posted or voided): the pending transfer's id */
  pendingId: string | null;
  postings: Posting[];
  sourceEventId: string;
  reason: string;
  at: string;
}

/** The id of the transfer `purpose` caused by `sourceEventId` (UUID v5: the same on every replay). */
export function transferIdOf(sourceEventId: string, purpose: string): string {
  return deriveId('ledger-transfer', sourceEventId, purpose);
}

/** Throws LEDGER_UNBALANCED / LEDGER_INVALID_TRANSFER unless `t` is a well-formed balanced transfer. */
export function assertBalanced(t: Transfer): void {
  if (t.postings.length < 2) {
    throw new PaymentError(
      'LEDGER_INVALID_TRANSFER',
      `transfer ${t.transferId} has fewer than two postings`,
      'postings',
    );
  }
  let sum = 0n;
  const seen = new Set<string>();
  for (const [i, p] of t.postings.entries()) {
    if (p.amountMinor === 0n) {
      throw new PaymentError('LEDGER_INVALID_TRANSFER', `transfer ${t.transferId} has a zero line`, `postings[${i}]`);
    }
    if (seen.has(p.account)) {
      throw new PaymentError(
        'LEDGER_INVALID_TRANSFER',
        `transfer ${t.transferId} names ${p.account} twice`,
        `postings[${i}]`,
      );
    }
    seen.add(p.account);
    if (parseLedgerAccount(p.account).currency !== t.currency) {
      throw new PaymentError(
        'LEDGER_UNBALANCED',
        `transfer ${t.transferId} (${t.currency}) posts to ${p.account}`,
        `postings[${i}].account`,
      );
    }
    sum += p.amountMinor;
  }
  if (sum !== 0n) {
    throw new PaymentError('LEDGER_UNBALANCED', `transfer ${t.transferId} sums to ${sum}, not 0`, 'postings');
  }
  if ((t.state === 'pending' && t.pendingId !== null) || (t.state === 'voided' && t.pendingId === null)) {
    throw new PaymentError(
      'LEDGER_INVALID_TRANSFER',
      `a ${t.state} transfer with pendingId ${t.pendingId}`,
      'pendingId',
    );
  }
}

/**
 * A balanced transfer from signed lines (debit > 0, credit < 0): lines on the same account are added up and zero
 * lines dropped. Returns null when nothing is left (an amount of zero moves nothing); throws when unbalanced.
 */
export function makeTransfer(
  init: Omit<Transfer, 'postings' | 'transferId'> & { purpose: string },
  lines: readonly Posting[],
): Transfer | null {
  const byAccount = new Map<string, bigint>();
  for (const l of lines) byAccount.set(l.account, (byAccount.get(l.account) ?? 0n) + l.amountMinor);
  const postings = [...byAccount.entries()]
    .filter(([, a]) => a !== 0n)
    .map(([account, amountMinor]) => ({ account, amountMinor }));
  if (postings.length === 0) return null;
  const { purpose, ...rest } = init;
  const t: Transfer = { ...rest, transferId: transferIdOf(init.sourceEventId, purpose), postings };
  assertBalanced(t);
  return t;
}

/** Where a posting rule is applied: the billing account, its currency, the source and the time. */
export interface PostingContext {
  billingAccountId: string;
  currency: string;
  sourceEventId: string;
  at: string;
}

const acct = (c: PostingContext, chart: ChartAccount) =>
  ledgerAccount(chart, c.currency, PER_CUSTOMER.includes(chart) ? c.billingAccountId : null);

function posted(c: PostingContext, purpose: string, reason: string, lines: Posting[], pendingId: string | null = null) {
  return makeTransfer(
    { purpose, reason, currency: c.currency, state: 'posted', pendingId, sourceEventId: c.sourceEventId, at: c.at },
    lines,
  );
}

/**
 * The posting rules. Each returns the balanced transfer, or null when the amount is zero.
 */
export const PostingRules = {
  /**
   * A CDR: debit customer_receivable (incl. VAT), credit revenue_net (excl. VAT) and vat_payable (the VAT).
   * A credit CDR (negative totals) is the same rule: it reverses.
   */
  cdr(c: PostingContext, cdrId: string, inclMinor: bigint, exclMinor: bigint): Transfer | null {
    return posted(c, `cdr:${cdrId}`, inclMinor < 0n ? 'credit_cdr' : 'cdr', [
      { account: acct(c, 'customer_receivable'), amountMinor: inclMinor },
      { account: acct(c, 'revenue_net'), amountMinor: -exclMinor },
      { account: acct(c, 'vat_payable'), amountMinor: -(inclMinor - exclMinor) },
    ]);
  },

  /** A hold placed: pending, debit psp_clearing, credit customer_receivable (what the hold would cover). */
  hold(c: PostingContext, holdId: string, amountMinor: bigint, generation: string | number): Transfer | null {
    return makeTransfer(
      {
        purpose: `hold:${holdId}:${generation}`,
        reason: 'hold',
        currency: c.currency,
        state: 'pending',
        pendingId: null,
        sourceEventId: c.sourceEventId,
        at: c.at,
      },
      [
        { account: acct(c, 'psp_clearing'), amountMinor },
        { account: acct(c, 'customer_receivable'), amountMinor: -amountMinor },
      ],
    );
  },

  /** A pending transfer voided (a hold released, or replaced by a larger one): its own postings. */
  void(c: PostingContext, pending: Pick<Transfer, 'transferId' | 'postings'>, reason: string): Transfer {
    const t: Transfer = {
      transferId: transferIdOf(c.sourceEventId, `void:${pending.transferId}`),
      currency: c.currency,
      state: 'voided',
      pendingId: pending.transferId,
      postings: pending.postings.map((p) => ({ ...p })),
      sourceEventId: c.sourceEventId,
      at: c.at,
      reason,
    };
    assertBalanced(t);
    return t;
  },

  /** A capture: debit psp_clearing, credit customer_receivable; posts the hold's pending transfer (the rest is released). */
  capture(c: PostingContext, holdId: string, amountMinor: bigint, pendingId: string | null): Transfer | null {
    return posted(
      c,
      `capture:${holdId}`,
      'capture',
      [
        { account: acct(c, 'psp_clearing'), amountMinor },
        { account: acct(c, 'customer_receivable'), amountMinor: -amountMinor },
      ],
      pendingId,
    );
  },

  /** A refund: the capture reversed (debit customer_receivable, credit psp_clearing). */
  refund(c: PostingContext, intentId: string, amountMinor: bigint): Transfer | null {
    return posted(c, `refund:${intentId}`, 'refund', [
      { account: acct(c, 'customer_receivable'), amountMinor },
      { account: acct(c, 'psp_clearing'), amountMinor: -amountMinor },
    ]);
  },

  /** A wallet top-up: debit psp_clearing (or bank), credit wallet_liability. */
  walletTopUp(c: PostingContext, topUpRef: string, amountMinor: bigint, via: 'psp' | 'bank'): Transfer | null {
    return posted(c, `wallet-top-up:${topUpRef}`, 'wallet_top_up', [
      { account: acct(c, via === 'psp' ? 'psp_clearing' : 'bank'), amountMinor },
      { account: acct(c, 'wallet_liability'), amountMinor: -amountMinor },
    ]);
  },

  /** A wallet pays (part of) a CDR: debit wallet_liability, credit customer_receivable. */
  walletDebit(c: PostingContext, cdrId: string, amountMinor: bigint): Transfer | null {
    return posted(c, `wallet-debit:${cdrId}`, 'wallet_debit', [
      { account: acct(c, 'wallet_liability'), amountMinor },
      { account: acct(c, 'customer_receivable'), amountMinor: -amountMinor },
    ]);
  },

  /** A credit CDR gives money back to the wallet: debit customer_receivable, credit wallet_liability. */
  walletCredit(c: PostingContext, cdrId: string, amountMinor: bigint): Transfer | null {
    return posted(c, `wallet-credit:${cdrId}`, 'wallet_credit', [
      { account: acct(c, 'customer_receivable'), amountMinor },
      { account: acct(c, 'wallet_liability'), amountMinor: -amountMinor },
    ]);
  },

  /** An open receivable paid (invoice by bank transfer, or through the PSP): debit bank / psp_clearing, credit customer_receivable. */
  receivablePaid(c: PostingContext, receivableId: string, amountMinor: bigint, via: 'psp' | 'bank'): Transfer | null {
    return posted(c, `receivable-paid:${receivableId}`, 'receivable_paid', [
      { account: acct(c, via === 'psp' ? 'psp_clearing' : 'bank'), amountMinor },
      { account: acct(c, 'customer_receivable'), amountMinor: -amountMinor },
    ]);
  },

  /** A PSP payout: debit bank (what arrived) and psp_fees, credit psp_clearing (both). */
  payout(c: PostingContext, payoutRef: string, amountMinor: bigint, feeMinor: bigint): Transfer | null {
    return posted(c, `payout:${payoutRef}`, 'payout', [
      { account: acct(c, 'bank'), amountMinor },
      { account: acct(c, 'psp_fees'), amountMinor: feeMinor },
      { account: acct(c, 'psp_clearing'), amountMinor: -(amountMinor + feeMinor) },
    ]);
  },
};

/** Balances derived from transfers: posted (final) and pending (holds not yet posted or voided). */
export interface Balances {
  posted: Map<string, bigint>;
  pending: Map<string, bigint>;
}

/**
 * The balances of every account, derived from the transfers (in any order): `posted` sums the postings of posted
 * transfers; `pending` those of pending transfers no posted or voided transfer has resolved.
 */
export function balancesOf(transfers: Iterable<Transfer>): Balances {
  const all = [...transfers];
  const resolved = new Set(all.filter((t) => t.state !== 'pending' && t.pendingId !== null).map((t) => t.pendingId));
  const posted = new Map<string, bigint>();
  const pending = new Map<string, bigint>();
  for (const t of all) {
    const target =
      t.state === 'posted' ? posted : t.state === 'pending' && !resolved.has(t.transferId) ? pending : null;
    if (!target) continue;
    for (const p of t.postings) target.set(p.account, (target.get(p.account) ?? 0n) + p.amountMinor);
  }
  return { posted, pending };
}

/**
 * A journal that applies transfers one at a time and refuses what would break the books: an unbalanced transfer,
 * a transfer id reused for other content, a pending transfer resolved twice or by a transfer of other accounts, a
 * post for more than the pending amount. Applying the same transfer again changes nothing (replay-safe).
 */
export class LedgerJournal {
  private readonly transfers = new Map<string, Transfer>();
  private readonly resolvedBy = new Map<string, string>();

  apply(t: Transfer): 'applied' | 'duplicate' {
    assertBalanced(t);
    const existing = this.transfers.get(t.transferId);
    if (existing) {
      if (sameTransfer(existing, t)) return 'duplicate';
      throw new PaymentError(
        'LEDGER_INVALID_TRANSFER',
        `transfer id ${t.transferId} reused for another transfer`,
        'transferId',
      );
    }
    if (t.pendingId !== null) {
      const pending = this.transfers.get(t.pendingId);
      if (!pending || pending.state !== 'pending') {
        throw new PaymentError('LEDGER_INVALID_TRANSFER', `no pending transfer ${t.pendingId}`, 'pendingId');
      }
      if (this.resolvedBy.has(t.pendingId)) {
        throw new PaymentError(
          'LEDGER_INVALID_TRANSFER',
          `pending transfer ${t.pendingId} already resolved`,
          'pendingId',
        );
      }
      for (const p of t.postings) {
        const q = pending.postings.find((x) => x.account === p.account);
        const within = q && p.amountMinor > 0n === q.amountMinor > 0n && abs(p.amountMinor) <= abs(q.amountMinor);
        if (!within || (t.state === 'voided' && q.amountMinor !== p.amountMinor)) {
          throw new PaymentError(
            'LEDGER_INVALID_TRANSFER',
            `transfer ${t.transferId} exceeds pending ${t.pendingId}`,
            'postings',
          );
        }
      }
      this.resolvedBy.set(t.pendingId, t.transferId);
    } else if (t.state === 'voided') {
      throw new PaymentError(
        'LEDGER_INVALID_TRANSFER',
        `voided transfer ${t.transferId} names no pending one`,
        'pendingId',
      );
    }
    this.transfers.set(t.transferId, t);
    return 'applied';
  }

  all(): Transfer[] {
    return [...this.transfers.values()];
  }

  balances(): Balances {
    return balancesOf(this.transfers.values());
  }
}

const abs = (n: bigint) => (n < 0n ? -n : n);

function sameTransfer(a: Transfer, b: Transfer): boolean {
  return JSON.stringify(toTransferPayload(a, '-')) === JSON.stringify(toTransferPayload(b, '-'));
}

type TransferPayload = Omit<LedgerTransferPayload, 'state'> & { state: TransferState };

/** The contract payload of a transfer (ledger.transfer_posted or, voided, ledger.transfer_voided), keyed by the billing account. */
export function toTransferPayload(t: Transfer, accountId: string): TransferPayload {
  return {
    accountId,
    sourceEventId: t.sourceEventId,
    at: t.at,
    transferId: t.transferId,
    currency: t.currency,
    pendingId: t.pendingId,
    postings: t.postings.map((p) => ({ account: p.account, amountMinor: p.amountMinor.toString() })),
    reason: t.reason,
    state: t.state,
  };
}

export type LedgerEvent = PaymentEventOf<'ledger.transfer_posted'> | PaymentEventOf<'ledger.transfer_voided'>;

/** The decider's ledger event of a transfer. */
export function transferEvent(t: Transfer, accountId: string): LedgerEvent {
  const p = toTransferPayload(t, accountId);
  return p.state === 'voided'
    ? { ...p, type: 'ledger.transfer_voided', state: 'voided' }
    : { ...p, type: 'ledger.transfer_posted', state: p.state };
}

/** A transfer from its event (a consumer of payment.events, the rebuild). */
export function transferOf(e: LedgerEvent | TransferPayload): Transfer {
  return {
    transferId: e.transferId,
    currency: e.currency,
    state: e.state,
    pendingId: e.pendingId,
    postings: e.postings.map((p) => ({ account: p.account, amountMinor: BigInt(p.amountMinor) })),
    sourceEventId: e.sourceEventId,
    reason: e.reason,
    at: e.at,
  };
}
