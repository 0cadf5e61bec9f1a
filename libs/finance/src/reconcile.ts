import { deriveId, type ReconciliationReason } from '@csms/contracts';
import { Dec } from '@csms/kernel';
import { findCurrency } from '@csms/money';

/**
 * Three-way reconciliation, per session: the meter evidence (the session's energy, from session.ended) against the
 * priced CDR (cdr.created), against the PSP's record (the payment service's captures and refunds, and the lines of
 * the PSP's imported settlement report), against the ledger (the transfers the payment service posted). Pure: the
 * caller gives every fact and the time the run is as of (event time: the end of the latest settlement report's
 * interval, never a clock), and gets the breaks, each with a reason code and an id derived from its reason and
 * subject (the same break found by two runs is one break).
 */

/** The session as metered: its latest revision's end and energy. */
export interface ReconSession {
  sessionId: string;
  endedAt: string;
  /** total energy in kWh (decimal text); null when the session reported none */
  energyKwh: string | null;
}

/** A CDR as priced (credit CDRs with negative energy, as the revenue read model counts them). */
export interface ReconCdr {
  cdrId: string;
  sessionId: string;
  credit: boolean;
  currency: string;
  energyKwh: string;
  /** total_cost.incl_vat */
  gross: string;
}

interface Base {
  accountId: string;
  sourceEventId: string;
  at: string;
}
/** The payment.events facts reconciliation reads (their contract payloads, tagged by type; other fields ignored). */
export type ReconPaymentFact =
  | (Base & {
      type: 'payment.cdr_recorded';
      cdrId: string;
      sessionId: string | null;
      credit: boolean;
      currency: string;
      totalInclVatMinor: string;
      method: string;
    })
  | (Base & { type: 'payment.authorized'; paymentRef: string; sessionId: string | null })
  | (Base & {
      type: 'payment.captured';
      intentId: string;
      holdId: string;
      paymentRef: string;
      sessionId: string | null;
      cdrId: string | null;
      currency: string;
      amountMinor: string;
    })
  | (Base & {
      type: 'payment.refunded';
      intentId: string;
      paymentRef: string;
      sessionId: string | null;
      cdrId: string;
      currency: string;
      amountMinor: string;
    })
  | (Base & { type: 'payment.receivable_opened'; receivableId: string; cdrId: string; amountMinor: string })
  | (Base & {
      type: 'payment.receivable_settled';
      receivableId: string;
      cdrId: string;
      amountMinor: string;
      by: string;
    })
  | (Base & { type: 'payment.wallet_debited'; cdrId: string; amountMinor: string })
  | (Base & {
      type: 'ledger.transfer_posted';
      reason: string;
      currency: string;
      postings: Array<{ account: string; amountMinor: string }>;
    })
  | (Base & {
      type: 'payment.settlement_line_recorded';
      balanceTransactionId: string;
      category: 'charge' | 'refund';
      paymentRef: string | null;
      currency: string;
      grossMinor: string;
      payoutRef: string | null;
    })
  | (Base & {
      type: 'payment.settlement_report_imported';
      reportId: string;
      intervalStart: string;
      intervalEnd: string;
    });

export interface ReconOptions {
  /** the event time the run is as of (see `reconciliationAsOf`) */
  asOf: string;
  /** a PSP charge not paid out this many days after it was booked is a break */
  unsettledDays: number;
  /** a session, CDR or capture younger than this (before asOf) is not a break yet: its outcome may be in flight */
  graceSeconds: number;
}

export interface ReconBreak {
  breakId: string;
  reason: ReconciliationReason;
  sessionId: string | null;
  cdrId: string | null;
  paymentRef: string | null;
  currency: string | null;
  expected: string | null;
  actual: string | null;
  detail: string;
}

/**
 * The time a run is as of: the end of the latest imported settlement report's interval (how far the PSP's record is
 * known); without any report, the newest fact's time. Null when there are no facts.
 */
export function reconciliationAsOf(facts: readonly ReconPaymentFact[]): string | null {
  let report: number | null = null;
  let newest: number | null = null;
  for (const f of facts) {
    const t = Date.parse(f.at);
    newest = newest === null || t > newest ? t : newest;
    if (f.type === 'payment.settlement_report_imported') {
      const e = Date.parse(f.intervalEnd);
      report = report === null || e > report ? e : report;
    }
  }
  const t = report ?? newest;
  return t === null ? null : new Date(t).toISOString();
}

const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
};
const sum = (xs: readonly { amountMinor: string }[]) => xs.reduce((s, x) => s + BigInt(x.amountMinor), 0n);

/** The CDR's total in minor units of its currency, half up (as the payment service converts it). */
function grossMinor(c: ReconCdr): bigint | null {
  const cur = findCurrency(c.currency);
  if (!cur) return null;
  return BigInt(
    new Dec(c.gross).times(new Dec(10).pow(cur.minorUnits)).toDecimalPlaces(0, Dec.ROUND_HALF_UP).toFixed(0),
  );
}

/** The breaks between the four records, sorted by reason then subject (a run's answer is the same in any order). */
export function reconcile(
  input: { sessions: readonly ReconSession[]; cdrs: readonly ReconCdr[]; payments: readonly ReconPaymentFact[] },
  opts: ReconOptions,
): ReconBreak[] {
  const asOf = Date.parse(opts.asOf);
  const settled = (at: string) => Date.parse(at) <= asOf - opts.graceSeconds * 1000;
  const breaks = new Map<string, ReconBreak>();
  const add = (
    reason: ReconciliationReason,
    subject: string,
    b: Partial<Omit<ReconBreak, 'breakId' | 'reason' | 'detail'>> & { detail: string },
  ) => {
    const breakId = deriveId('reconciliation-break', reason, subject);
    if (breaks.has(breakId)) return;
    breaks.set(breakId, {
      breakId,
      reason,
      sessionId: b.sessionId ?? null,
      cdrId: b.cdrId ?? null,
      paymentRef: b.paymentRef ?? null,
      currency: b.currency ?? null,
      expected: b.expected ?? null,
      actual: b.actual ?? null,
      detail: b.detail,
    });
  };

  // ---- indexes
  const cdrsBySession = new Map<string, ReconCdr[]>();
  const cdrById = new Map<string, ReconCdr>();
  for (const c of input.cdrs) {
    push(cdrsBySession, c.sessionId, c);
    cdrById.set(c.cdrId, c);
  }
  type F<T extends ReconPaymentFact['type']> = Extract<ReconPaymentFact, { type: T }>;
  const recorded = new Map<string, F<'payment.cdr_recorded'>>();
  const capturesByCdr = new Map<string, F<'payment.captured'>[]>();
  const capturesByRef = new Map<string, F<'payment.captured'>[]>();
  const receivablesByCdr = new Map<string, F<'payment.receivable_opened'>[]>();
  const refunds: F<'payment.refunded'>[] = [];
  const capturesBySession = new Map<string, F<'payment.captured'>[]>();
  const refundsBySession = new Map<string, F<'payment.refunded'>[]>();
  const creditSettledByCdr = new Map<string, F<'payment.receivable_settled'>[]>();
  const transfers = new Map<string, F<'ledger.transfer_posted'>[]>();
  const knownRefs = new Map<string, string | null>();
  const linesByBt = new Map<string, F<'payment.settlement_line_recorded'>>();
  const reports: F<'payment.settlement_report_imported'>[] = [];
  for (const f of input.payments) {
    switch (f.type) {
      case 'payment.cdr_recorded':
        if (!recorded.has(f.cdrId)) recorded.set(f.cdrId, f);
        break;
      case 'payment.authorized':
        if (!knownRefs.get(f.paymentRef)) knownRefs.set(f.paymentRef, f.sessionId);
        break;
      case 'payment.captured':
        if (f.cdrId) push(capturesByCdr, f.cdrId, f);
        if (f.sessionId) push(capturesBySession, f.sessionId, f);
        push(capturesByRef, f.paymentRef, f);
        if (!knownRefs.get(f.paymentRef)) knownRefs.set(f.paymentRef, f.sessionId);
        break;
      case 'payment.refunded':
        refunds.push(f);
        if (f.sessionId) push(refundsBySession, f.sessionId, f);
        break;
      case 'payment.receivable_settled':
        // a credit CDR that settles what was owed lowers the amount due, as its negative total does
        if (f.by === 'credit_cdr') push(creditSettledByCdr, f.cdrId, f);
        break;
      case 'payment.receivable_opened':
        push(receivablesByCdr, f.cdrId, f);
        break;
      case 'ledger.transfer_posted':
        push(transfers, `${f.accountId}|${f.sourceEventId}`, f);
        break;
      case 'payment.settlement_line_recorded': {
        // a balance transaction recorded again once paid out: the paid-out record wins
        const before = linesByBt.get(f.balanceTransactionId);
        if (!before || (!before.payoutRef && f.payoutRef)) linesByBt.set(f.balanceTransactionId, f);
        break;
      }
      case 'payment.settlement_report_imported':
        reports.push(f);
        break;
    }
  }
  const lines = [...linesByBt.values()];
  const chargesByRef = new Map<string, F<'payment.settlement_line_recorded'>[]>();
  const refundLinesByRef = new Map<string, F<'payment.settlement_line_recorded'>[]>();
  for (const l of lines) {
    if (!l.paymentRef) continue;
    push(l.category === 'charge' ? chargesByRef : refundLinesByRef, l.paymentRef, l);
  }
  const covered = (at: string) =>
    reports.some((r) => Date.parse(r.intervalStart) <= Date.parse(at) && Date.parse(at) < Date.parse(r.intervalEnd));
  const hasCredit = (sessionId: string | null) =>
    sessionId !== null && (cdrsBySession.get(sessionId) ?? []).some((c) => c.credit);

  // ---- meter evidence vs CDR
  for (const s of input.sessions) {
    const cdrs = cdrsBySession.get(s.sessionId) ?? [];
    if (cdrs.length === 0) {
      if (settled(s.endedAt))
        add('MISSING_CDR', s.sessionId, { sessionId: s.sessionId, detail: 'the session ended without a CDR' });
      continue;
    }
    if (s.energyKwh === null) continue;
    const priced = cdrs.reduce((e, c) => e.plus(c.energyKwh), new Dec(0));
    if (!priced.equals(s.energyKwh))
      add('ENERGY_MISMATCH', s.sessionId, {
        sessionId: s.sessionId,
        cdrId: cdrs[cdrs.length - 1].cdrId,
        expected: new Dec(s.energyKwh).toFixed(),
        actual: priced.toFixed(),
        detail: "the CDRs' energy is not the session's metered energy (kWh)",
      });
  }

  // ---- CDR vs the payment service's record, and the ledger
  for (const r of recorded.values()) {
    const cdr = cdrById.get(r.cdrId);
    const total = BigInt(r.totalInclVatMinor);
    const base = { sessionId: r.sessionId, cdrId: r.cdrId, currency: r.currency };
    if (cdr) {
      const g = grossMinor(cdr);
      if (g !== null && g !== total)
        add('AMOUNT_MISMATCH', `cdr:${r.cdrId}`, {
          ...base,
          expected: String(g),
          actual: String(total),
          detail: "the payment service took the CDR for another amount than the CDR's total (minor units)",
        });
    }
    const cdrTransfer = (transfers.get(`${r.accountId}|${r.sourceEventId}`) ?? []).find(
      (t) => t.reason === 'cdr' || t.reason === 'credit_cdr',
    );
    const receivable = cdrTransfer?.postings.find((p) => p.account.startsWith(`customer_receivable:${r.currency}:`));
    if (total !== 0n && (!receivable || BigInt(receivable.amountMinor) !== total))
      add('LEDGER_MISMATCH', `cdr:${r.cdrId}`, {
        ...base,
        expected: String(total),
        actual: receivable ? receivable.amountMinor : null,
        detail: 'the CDR is not posted to the customer receivable for its total',
      });
  }

  // ---- what a card session's CDRs are due vs what was captured, refunded or left owed (a corrected session nets:
  // its credit CDR and re-issued CDR against the one capture, the refund of the difference or its receivable)
  const cardBySubject = new Map<string, F<'payment.cdr_recorded'>[]>();
  for (const r of recorded.values())
    if (r.method === 'card') push(cardBySubject, r.sessionId ? `session:${r.sessionId}` : `cdr:${r.cdrId}`, r);
  for (const [subject, rs] of cardBySubject) {
    const sessionId = rs[0].sessionId;
    const due = rs.reduce((t, r) => t + BigInt(r.totalInclVatMinor), 0n);
    const captures = sessionId ? (capturesBySession.get(sessionId) ?? []) : (capturesByCdr.get(rs[0].cdrId) ?? []);
    const refunded = sessionId ? sum(refundsBySession.get(sessionId) ?? []) : 0n;
    const owed = rs.reduce(
      (t, r) => t + sum(receivablesByCdr.get(r.cdrId) ?? []) - sum(creditSettledByCdr.get(r.cdrId) ?? []),
      0n,
    );
    const charged = rs.find((r) => !r.credit) ?? rs[0];
    const base = { sessionId, cdrId: charged.cdrId, currency: charged.currency };
    if (captures.length === 0 && owed === 0n) {
      if (due > 0n && rs.every((r) => settled(r.at)))
        add('MISSING_CAPTURE', `cdr:${charged.cdrId}`, {
          ...base,
          expected: String(due),
          detail: 'a card CDR with no capture and no receivable',
        });
      continue;
    }
    const twice = rs.find((r) => (capturesByCdr.get(r.cdrId) ?? []).length > 1);
    if (twice) {
      add('DOUBLE_CAPTURE', `cdr:${twice.cdrId}`, {
        ...base,
        cdrId: twice.cdrId,
        paymentRef: captures[0].paymentRef,
        expected: '1',
        actual: String((capturesByCdr.get(twice.cdrId) ?? []).length),
        detail: 'the CDR was captured more than once',
      });
      continue;
    }
    const paid = sum(captures) - refunded + owed;
    if (paid !== due)
      add('AMOUNT_MISMATCH', `paid:${subject}`, {
        ...base,
        paymentRef: captures[0]?.paymentRef ?? null,
        expected: String(due),
        actual: String(paid),
        detail: "captured minus refunded plus receivables is not what the session's CDRs are due (minor units)",
      });
  }

  // ---- our captures vs the ledger and the PSP's settlement lines
  for (const [ref, captures] of capturesByRef) {
    const c = captures[0];
    const base = { sessionId: c.sessionId, cdrId: c.cdrId, paymentRef: ref, currency: c.currency };
    for (const cap of captures) {
      const t = (transfers.get(`${cap.accountId}|${cap.sourceEventId}`) ?? []).find((x) => x.reason === 'capture');
      const clearing = t?.postings.find((p) => p.account === `psp_clearing:${cap.currency}`);
      if (!clearing || clearing.amountMinor !== cap.amountMinor)
        add('LEDGER_MISMATCH', `capture:${cap.intentId}`, {
          ...base,
          expected: cap.amountMinor,
          actual: clearing ? clearing.amountMinor : null,
          detail: 'the capture is not posted to PSP clearing for its amount',
        });
    }
    const charges = chargesByRef.get(ref) ?? [];
    if (charges.length === 0) {
      if (captures.some((x) => covered(x.at) && settled(x.at)))
        add('MISSING_CAPTURE', `psp:${ref}`, {
          ...base,
          expected: String(sum(captures)),
          detail: "captured here, but the PSP's settlement report has no charge of this payment",
        });
      continue;
    }
    if (charges.length > 1)
      add('DOUBLE_CAPTURE', `psp:${ref}`, {
        ...base,
        expected: '1',
        actual: String(charges.length),
        detail: "the PSP's settlement report has more than one charge of this payment",
      });
    else if (BigInt(charges[0].grossMinor) !== sum(captures))
      add('AMOUNT_MISMATCH', `psp:${ref}`, {
        ...base,
        expected: String(sum(captures)),
        actual: charges[0].grossMinor,
        detail: "the PSP's charge is not the amount captured (minor units)",
      });
  }

  // ---- refunds: ours and the PSP's, each needs a credit CDR of its session
  for (const r of refunds)
    if (!hasCredit(r.sessionId))
      add('REFUND_WITHOUT_CREDIT', `session:${r.sessionId ?? r.paymentRef}`, {
        sessionId: r.sessionId,
        cdrId: r.cdrId,
        paymentRef: r.paymentRef,
        currency: r.currency,
        actual: r.amountMinor,
        detail: 'a refund for a session without a credit CDR',
      });
  for (const [ref, ls] of refundLinesByRef) {
    const sessionId = knownRefs.get(ref) ?? null;
    if (knownRefs.has(ref) && !hasCredit(sessionId))
      add('REFUND_WITHOUT_CREDIT', `session:${sessionId ?? ref}`, {
        sessionId,
        paymentRef: ref,
        currency: ls[0].currency,
        actual: String(-ls.reduce((s, l) => s + BigInt(l.grossMinor), 0n)),
        detail: "the PSP's settlement report refunds a session without a credit CDR",
      });
  }

  // ---- the PSP's lines: known payments, paid out in time
  const unsettledBefore = asOf - opts.unsettledDays * 86_400_000;
  for (const l of lines) {
    if (l.paymentRef && !knownRefs.has(l.paymentRef))
      add('UNKNOWN_PSP_PAYMENT', `line:${l.balanceTransactionId}`, {
        paymentRef: l.paymentRef,
        currency: l.currency,
        actual: l.grossMinor,
        detail: `settlement line ${l.balanceTransactionId} is of a payment this system does not know`,
      });
    if (l.category === 'charge' && !l.payoutRef && Date.parse(l.at) <= unsettledBefore)
      add('UNSETTLED_AFTER_N_DAYS', `line:${l.balanceTransactionId}`, {
        sessionId: l.paymentRef ? (knownRefs.get(l.paymentRef) ?? null) : null,
        paymentRef: l.paymentRef,
        currency: l.currency,
        actual: l.grossMinor,
        detail: `charge ${l.balanceTransactionId} not paid out ${opts.unsettledDays} days after it was booked`,
      });
  }

  const order = (b: ReconBreak) =>
    `${b.reason}|${b.sessionId ?? ''}|${b.cdrId ?? ''}|${b.paymentRef ?? ''}|${b.breakId}`;
  return [...breaks.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

/** The stable column order of the breaks export. */
export const RECONCILIATION_BREAK_COLUMNS = [
  'break_id',
  'reason',
  'status',
  'session_id',
  'cdr_id',
  'payment_ref',
  'currency',
  'expected',
  'actual',
  'detail',
  'detected_at',
  'detected_by',
  'resolved_at',
  'resolved_by',
  'note',
  /** a break a later run no longer found: when (that run's asOf, event time) and which run */
  'cleared_at',
  'cleared_by_run',
] as const;

/** The stable column order of the payments report. */
export const PAYMENTS_REPORT_COLUMNS = [
  'day',
  'currency',
  'captures',
  'captured',
  'refunds',
  'refunded',
  'receivables_opened',
  'receivables_settled',
  'outstanding_receivables',
  'psp_fees',
  'payouts',
  'paid_out',
] as const;
