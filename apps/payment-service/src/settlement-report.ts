/**
 * The PSP's settlement report as a file: Stripe's itemized payout reconciliation report (one line per balance
 * transaction: a captured charge or a refund, its gross, fee and net in major units, the payment intent, the
 * automatic payout that settled it). Parsed at the edge with csv-parse (RFC 4180), each value once into its exact
 * form (minor units as bigint, instants as ISO strings). A bad file is refused whole, with the line and column at
 * fault: nothing of it is recorded.
 */
import { parse } from 'csv-parse/sync';
import { DomainError } from '@csms/kernel';
import { currencyExponent, toMinorUnitsExact } from '@csms/payments';

export type SettlementReportErrorCode =
  | 'SETTLEMENT_CSV_INVALID'
  | 'SETTLEMENT_COLUMN_MISSING'
  | 'SETTLEMENT_VALUE_INVALID'
  | 'SETTLEMENT_LINE_UNBALANCED'
  | 'SETTLEMENT_DUPLICATE_LINE'
  | 'SETTLEMENT_CATEGORY_UNSUPPORTED'
  | 'SETTLEMENT_PAYOUT_CURRENCIES'
  | 'SETTLEMENT_TOO_MANY_LINES'
  | 'SETTLEMENT_EMPTY';

/** A refused report: `field` is `csv/line/<n>/<column>` (line 1 is the header), or `csv` for the file. */
export class SettlementReportError extends DomainError<SettlementReportErrorCode> {
  constructor(code: SettlementReportErrorCode, message: string, field: string) {
    super(code, message, { field });
  }
}

/** The columns read (others, which Stripe adds over time, are ignored). */
export const REQUIRED_COLUMNS = [
  'balance_transaction_id',
  'created_utc',
  'currency',
  'gross',
  'fee',
  'net',
  'reporting_category',
  'payment_intent_id',
  'automatic_payout_id',
] as const;
export const OPTIONAL_COLUMNS = ['available_on_utc', 'source_id', 'automatic_payout_effective_at_utc'] as const;

/** The most lines one upload may hold (each becomes an event). */
export const MAX_SETTLEMENT_LINES = 5000;

export interface SettlementLine {
  /** the line number in the file (header = 1) */
  line: number;
  balanceTransactionId: string;
  createdAt: string;
  availableOn: string | null;
  currency: string;
  category: 'charge' | 'refund';
  grossMinor: bigint;
  feeMinor: bigint;
  netMinor: bigint;
  sourceId: string | null;
  paymentRef: string | null;
  payoutRef: string | null;
  payoutEffectiveAt: string | null;
}

export interface SettlementPayout {
  payoutRef: string;
  currency: string;
  grossMinor: bigint;
  feeMinor: bigint;
  /** what reached the bank: the sum of the lines' net */
  amountMinor: bigint;
  effectiveAt: string | null;
}

const ID = /^[A-Za-z0-9_.:~-]{1,200}$/;
/** Stripe writes `2026-03-01 10:05:00` (UTC); ISO 8601 with `T` and `Z` is taken too. */
const UTC_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,6})?Z?$/;

function instant(text: string, field: string): string {
  const m = UTC_TIME.exec(text);
  const d = m ? new Date(`${m[1]}T${m[2]}${m[3] ?? ''}Z`) : null;
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 19) !== `${m[1]}T${m[2]}`)
    throw new SettlementReportError('SETTLEMENT_VALUE_INVALID', `not a UTC time: ${JSON.stringify(text)}`, field);
  return d.toISOString();
}

/** Parses a settlement report; throws SettlementReportError naming the line and column at fault. */
export function parseSettlementReport(text: string): SettlementLine[] {
  let records: string[][];
  try {
    records = parse(text, { bom: true, relax_column_count: false, skip_empty_lines: true, trim: false }) as string[][];
  } catch (e) {
    const err = e as { code?: string; lines?: number; message?: string };
    throw new SettlementReportError(
      'SETTLEMENT_CSV_INVALID',
      `not RFC 4180 CSV: ${err.message ?? String(e)}`,
      err.lines ? `csv/line/${err.lines}` : 'csv',
    );
  }
  if (records.length === 0) throw new SettlementReportError('SETTLEMENT_EMPTY', 'the report has no header', 'csv');
  const header = records[0].map((h) => h.trim());
  const col = new Map(header.map((h, i) => [h, i]));
  for (const c of REQUIRED_COLUMNS)
    if (!col.has(c))
      throw new SettlementReportError('SETTLEMENT_COLUMN_MISSING', `the report has no column ${c}`, `csv/line/1/${c}`);
  if (records.length - 1 > MAX_SETTLEMENT_LINES)
    throw new SettlementReportError(
      'SETTLEMENT_TOO_MANY_LINES',
      `at most ${MAX_SETTLEMENT_LINES} lines per upload (got ${records.length - 1})`,
      'csv',
    );
  const seen = new Map<string, number>();
  const out: SettlementLine[] = [];
  for (let r = 1; r < records.length; r++) {
    const line = r + 1;
    const rec = records[r];
    const get = (c: (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number]) => {
      const i = col.get(c);
      return i === undefined ? '' : rec[i].trim();
    };
    const f = (c: string) => `csv/line/${line}/${c}`;
    const id = (
      c: 'balance_transaction_id' | 'payment_intent_id' | 'automatic_payout_id' | 'source_id',
      need: boolean,
    ) => {
      const v = get(c);
      if (v === '' && !need) return null;
      if (!ID.test(v))
        throw new SettlementReportError('SETTLEMENT_VALUE_INVALID', `not an id: ${JSON.stringify(v)}`, f(c));
      return v;
    };
    const balanceTransactionId = id('balance_transaction_id', true)!;
    const earlier = seen.get(balanceTransactionId);
    if (earlier !== undefined)
      throw new SettlementReportError(
        'SETTLEMENT_DUPLICATE_LINE',
        `balance transaction ${balanceTransactionId} is on line ${earlier} already`,
        f('balance_transaction_id'),
      );
    seen.set(balanceTransactionId, line);
    const category = get('reporting_category');
    if (category !== 'charge' && category !== 'refund')
      throw new SettlementReportError(
        'SETTLEMENT_CATEGORY_UNSUPPORTED',
        `reporting_category ${JSON.stringify(category)}: only charge and refund lines are imported`,
        f('reporting_category'),
      );
    const currency = get('currency').toUpperCase();
    try {
      if (!/^[A-Z]{3}$/.test(currency)) throw new Error('not three letters');
      currencyExponent(currency);
    } catch {
      throw new SettlementReportError(
        'SETTLEMENT_VALUE_INVALID',
        `unknown currency ${JSON.stringify(currency)}`,
        f('currency'),
      );
    }
    const money = (c: 'gross' | 'fee' | 'net') => {
      try {
        return toMinorUnitsExact(get(c), currency);
      } catch (e) {
        throw new SettlementReportError(
          'SETTLEMENT_VALUE_INVALID',
          `${c}: ${e instanceof Error ? e.message : String(e)}`,
          f(c),
        );
      }
    };
    const grossMinor = money('gross');
    const feeMinor = money('fee');
    const netMinor = money('net');
    if (grossMinor - feeMinor !== netMinor)
      throw new SettlementReportError(
        'SETTLEMENT_LINE_UNBALANCED',
        `net ${get('net')} is not gross ${get('gross')} minus fee ${get('fee')}`,
        f('net'),
      );
    const opt = (c: 'available_on_utc' | 'automatic_payout_effective_at_utc') =>
      get(c) === '' ? null : instant(get(c), f(c));
    out.push({
      line,
      balanceTransactionId,
      createdAt: instant(get('created_utc'), f('created_utc')),
      availableOn: opt('available_on_utc'),
      currency,
      category,
      grossMinor,
      feeMinor,
      netMinor,
      sourceId: id('source_id', false),
      paymentRef: id('payment_intent_id', false),
      payoutRef: id('automatic_payout_id', false),
      payoutEffectiveAt: opt('automatic_payout_effective_at_utc'),
    });
  }
  return out;
}

/** The payouts the lines name: per payout, the sums of its lines (one currency each). */
export function payoutsOf(lines: readonly SettlementLine[]): SettlementPayout[] {
  const by = new Map<string, SettlementPayout>();
  for (const l of lines) {
    if (!l.payoutRef) continue;
    const p = by.get(l.payoutRef);
    if (!p) {
      by.set(l.payoutRef, {
        payoutRef: l.payoutRef,
        currency: l.currency,
        grossMinor: l.grossMinor,
        feeMinor: l.feeMinor,
        amountMinor: l.netMinor,
        effectiveAt: l.payoutEffectiveAt,
      });
      continue;
    }
    if (p.currency !== l.currency)
      throw new SettlementReportError(
        'SETTLEMENT_PAYOUT_CURRENCIES',
        `payout ${l.payoutRef} has lines in ${p.currency} and ${l.currency}`,
        `csv/line/${l.line}/currency`,
      );
    p.grossMinor += l.grossMinor;
    p.feeMinor += l.feeMinor;
    p.amountMinor += l.netMinor;
    if (l.payoutEffectiveAt && (!p.effectiveAt || l.payoutEffectiveAt > p.effectiveAt))
      p.effectiveAt = l.payoutEffectiveAt;
  }
  return [...by.values()].sort((a, b) => (a.payoutRef < b.payoutRef ? -1 : a.payoutRef > b.payoutRef ? 1 : 0));
}
