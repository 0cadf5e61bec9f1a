/**
 * What the console's payment writes need besides the API: the request bodies built from the forms, the wallet's
 * balance read from the account's ledger balances, and the month a statement is usually issued for. Pure functions
 * (unit-tested); no floating point: amounts stay decimal text and minor units stay integer text.
 */
import type { RequestBody } from '../api/client';
import type { LedgerBalance } from '../api/views';

export type OpenAccountBody = RequestBody<'payments', 'post', '/api/v1/accounts'>;
export type MethodBody = OpenAccountBody['method'];
export type PolicyBody = NonNullable<OpenAccountBody['policy']>;

/** the form's fields, all text as typed */
export interface MethodForm {
  kind: 'card' | 'wallet' | 'invoice';
  customerRef: string;
  paymentMethodRef: string;
  creditLimitMinor: string;
}

/** the method as the API takes it: only the kind's own fields, trimmed (the service checks them) */
export function methodBody(f: MethodForm): MethodBody {
  if (f.kind === 'card')
    return { kind: 'card', customerRef: f.customerRef.trim(), paymentMethodRef: f.paymentMethodRef.trim() };
  if (f.kind === 'invoice') return { kind: 'invoice', creditLimitMinor: f.creditLimitMinor.trim() };
  return { kind: 'wallet' };
}

/**
 * The wallet's balance in minor units: what the wallet holds for the customer is the credit balance of its
 * `wallet_liability` ledger account (debit > 0 in the ledger, so the posted sum negated); undefined when nothing
 * was ever posted to it.
 */
export function walletBalanceMinor(balances: readonly LedgerBalance[] | undefined): string | undefined {
  const w = balances?.find((b) => b.chart === 'wallet_liability');
  if (!w || !/^-?[0-9]+$/.test(w.postedMinor)) return undefined;
  return (-BigInt(w.postedMinor)).toString();
}

/** the calendar month before the one of `today` (YYYY-MM-DD): the month a statement is issued for */
export function previousMonth(today: string): string {
  const [y, m] = today.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}
