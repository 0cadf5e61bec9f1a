/**
 * A session's payment as steps in time, from the payment service's answers: the payment record
 * (`GET /sessions/{id}/payment`: hold, CDRs, captures, releases, refunds, wallet, receivables, failures, stop) and
 * the session's ledger journal (`GET /sessions/{id}/journal`: the hold's pending transfers give when the hold was
 * authorised and raised). Pure: no fetching, no clock.
 */
import type { PaymentRecord, SessionJournal } from '../api/views';

/** ISO 4217 minor units of the currencies whose exponent is not 2 (the payment service's table, libs/payments) */
const EXPONENTS: Record<string, number> = {
  JPY: 0,
  KRW: 0,
  ISK: 0,
  CLP: 0,
  VND: 0,
  XOF: 0,
  XAF: 0,
  KWD: 3,
  BHD: 3,
  OMR: 3,
  JOD: 3,
  TND: 3,
  LYD: 3,
  IQD: 3,
};

/** minor units (integer text) as the currency's major units: ('484', 'EUR') → '4.84', ('-5', 'EUR') → '-0.05' */
export function minorToMajor(minor: string | number | null | undefined, currency: string | null | undefined): string {
  if (minor === null || minor === undefined || !/^-?[0-9]+$/.test(String(minor))) return '—';
  const scale = EXPONENTS[currency ?? ''] ?? 2;
  const neg = String(minor).startsWith('-');
  const digits = String(minor)
    .replace('-', '')
    .padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale).replace(/^0+(?=\d)/, '');
  return `${neg ? '-' : ''}${whole}${scale ? `.${digits.slice(digits.length - scale)}` : ''}`;
}

export type StepKind =
  | 'hold_requested'
  | 'hold_authorized'
  | 'hold_increased'
  | 'cdr'
  | 'credit_cdr'
  | 'capture'
  | 'release'
  | 'refund'
  | 'wallet_debit'
  | 'wallet_credit'
  | 'receivable'
  | 'failure'
  | 'stop_requested';

export interface TimelineStep {
  /** null: the payment service does not say when (the hold request itself); such steps come first */
  at: string | null;
  kind: StepKind;
  label: string;
  amountMinor?: string;
  ref?: string;
  tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted';
}

const clearingAmount = (postings: Array<{ account: string; amountMinor: string }>) =>
  postings.find((p) => p.account.startsWith('psp_clearing:'))?.amountMinor;

export function paymentTimeline(rec: PaymentRecord, journal?: SessionJournal | null): TimelineStep[] {
  const steps: TimelineStep[] = [];
  if (rec.hold) {
    steps.push({
      at: null,
      kind: 'hold_requested',
      label: 'hold requested at the session start',
      amountMinor: rec.hold.requestedMinor,
      ref: rec.hold.holdId,
      tone: 'info',
    });
    const holds = (journal?.transfers ?? []).filter((t) => t.reason === 'hold');
    holds.forEach((t, i) =>
      steps.push({
        at: t.at,
        kind: i === 0 ? 'hold_authorized' : 'hold_increased',
        label: i === 0 ? 'hold authorised by the PSP' : 'hold raised',
        amountMinor: clearingAmount(t.postings),
        ref: rec.hold?.paymentRef ?? undefined,
        tone: 'info',
      }),
    );
    if (holds.length === 0 && rec.hold.authorizedMinor)
      steps.push({
        at: null,
        kind: 'hold_authorized',
        label: 'hold authorised by the PSP',
        amountMinor: rec.hold.authorizedMinor,
        ref: rec.hold.paymentRef ?? undefined,
        tone: 'info',
      });
  }
  for (const c of rec.cdrs)
    steps.push({
      at: c.at,
      kind: c.credit ? 'credit_cdr' : 'cdr',
      label: c.credit ? `credit CDR (${c.method})` : `CDR priced (${c.method})`,
      amountMinor: c.totalInclVatMinor,
      ref: c.cdrId,
      tone: c.credit ? 'warn' : 'muted',
    });
  for (const c of rec.captures)
    steps.push({ at: c.at, kind: 'capture', label: 'captured', amountMinor: c.amountMinor, ref: c.cdrId, tone: 'ok' });
  for (const r of rec.releases)
    steps.push({
      at: r.at,
      kind: 'release',
      label: 'rest of the hold released',
      amountMinor: r.amountMinor,
      ref: r.intentId,
      tone: 'muted',
    });
  for (const r of rec.refunds)
    steps.push({ at: r.at, kind: 'refund', label: 'refunded', amountMinor: r.amountMinor, ref: r.cdrId, tone: 'warn' });
  for (const w of rec.walletDebits)
    steps.push({
      at: w.at,
      kind: 'wallet_debit',
      label: 'paid from the wallet',
      amountMinor: w.amountMinor,
      ref: w.cdrId,
      tone: 'ok',
    });
  for (const w of rec.walletCredits)
    steps.push({
      at: w.at,
      kind: 'wallet_credit',
      label: 'credited to the wallet',
      amountMinor: w.amountMinor,
      ref: w.cdrId,
      tone: 'warn',
    });
  for (const r of rec.receivables)
    steps.push({
      at: r.at,
      kind: 'receivable',
      label: `receivable opened (${r.reason})`,
      amountMinor: r.amountMinor,
      ref: r.cdrId,
      tone: 'info',
    });
  for (const f of rec.failures)
    steps.push({
      at: f.at,
      kind: 'failure',
      label: `${f.type === 'payment.authorization_failed' ? 'hold declined' : `${f.operation ?? 'payment'} failed`}${f.code ? ` (${f.code})` : ''}`,
      tone: 'bad',
    });
  if (rec.stopRequested)
    steps.push({
      at: rec.stopRequested.at,
      kind: 'stop_requested',
      label: `remote stop requested (${rec.stopRequested.reason})`,
      tone: 'bad',
    });
  // a partial capture releases the rest of the hold at the PSP (no release of its own is decided then)
  if (rec.hold && rec.releases.length === 0 && rec.captures.length > 0 && rec.hold.authorizedMinor) {
    const rest = BigInt(rec.hold.authorizedMinor) - BigInt(rec.capturedMinor);
    if (rest > 0n)
      steps.push({
        at: rec.captures[rec.captures.length - 1].at,
        kind: 'release',
        label: 'rest of the hold released with the capture',
        amountMinor: rest.toString(),
        tone: 'muted',
      });
  }
  // in the order a payment goes (the events' times come from different clocks: a CDR carries the station's time
  // of the session end, a PSP outcome the service's time of the answer), by time within a step
  return steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => {
      const r = RANK[a.s.kind] - RANK[b.s.kind];
      if (r !== 0) return r;
      if (a.s.at === b.s.at) return a.i - b.i;
      if (a.s.at === null) return -1;
      if (b.s.at === null) return 1;
      return a.s.at < b.s.at ? -1 : a.s.at > b.s.at ? 1 : a.i - b.i;
    })
    .map((x) => x.s);
}

const RANK: Record<StepKind, number> = {
  hold_requested: 0,
  hold_authorized: 1,
  hold_increased: 2,
  failure: 3,
  stop_requested: 4,
  cdr: 5,
  credit_cdr: 6,
  capture: 7,
  wallet_debit: 7,
  receivable: 7,
  release: 8,
  refund: 9,
  wallet_credit: 9,
};
