/**
 * Money in a currency's minor units: the exact integer the PSP and the ledger count in (bigint), converted from
 * and to the decimal strings of the CDRs and the API. The exponent of each currency is ISO 4217's (the table of
 * libs/money: JPY and KRW 0, EUR 2, BHD, JOD, KWD, OMR and TND 3, CLF 4).
 *
 * A conversion is exact when the text has no more decimals than the currency; only when it has more (a CDR priced
 * with more decimals than the currency, e.g. "8.4651" EUR) is it rounded, once, by a named rule (default
 * HALF_UP, the rounding of the CDRs' audit), and the caller is told that it was.
 */
import { divRound, formatMinor, isDecimalString, pow10, type RoundingMode } from '@csms/kernel';
import { findCurrency } from '@csms/money';
import { PaymentError } from './errors';

/** The number of decimals of the currency's minor unit (ISO 4217 exponent). Throws on an unknown code. */
export function currencyExponent(currency: string): number {
  const c = findCurrency(currency);
  if (!c)
    throw new PaymentError(
      'PAYMENT_UNKNOWN_CURRENCY',
      `unknown ISO 4217 currency ${JSON.stringify(currency)}`,
      'currency',
    );
  return c.minorUnits;
}

/** A conversion's result: the minor units and whether the text had to be rounded. */
export interface MinorUnits {
  minor: bigint;
  rounded: boolean;
}

/**
 * The exact minor units of a decimal string in `currency`: `"12.34"` EUR → 1234n, `"1234"` JPY → 1234n,
 * `"1.234"` KWD → 1234n. Rounded (by `mode`) only when the text has more decimals than the currency.
 */
export function toMinorUnitsDetailed(text: string, currency: string, mode: RoundingMode = 'HALF_UP'): MinorUnits {
  if (!isDecimalString(text) || text.length > 60) {
    throw new PaymentError('PAYMENT_INVALID_AMOUNT', `not a decimal amount: ${JSON.stringify(text)}`, 'amount');
  }
  const exp = currencyExponent(currency);
  const negative = text.charCodeAt(0) === 45;
  const body = negative ? text.slice(1) : text;
  const dot = body.indexOf('.');
  const intPart = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? '' : body.slice(dot + 1);
  const digits = BigInt(intPart + frac.padEnd(exp, '0'));
  const signed = negative ? -digits : digits;
  if (frac.length <= exp) return { minor: signed, rounded: false };
  // more decimals than the currency: one rounding, by the named rule, on the signed value (FLOOR/CEILING care)
  const d = pow10(frac.length - exp);
  const minor = divRound(signed, d, mode);
  return { minor, rounded: minor * d !== signed };
}

/** The minor units of a decimal string (see `toMinorUnitsDetailed`). */
export function toMinorUnits(text: string, currency: string, mode: RoundingMode = 'HALF_UP'): bigint {
  return toMinorUnitsDetailed(text, currency, mode).minor;
}

/** Like `toMinorUnits`, but refuses text with more decimals than the currency (an amount someone pays must be exact). */
export function toMinorUnitsExact(text: string, currency: string): bigint {
  const r = toMinorUnitsDetailed(text, currency, 'HALF_UP');
  if (r.rounded) {
    throw new PaymentError(
      'PAYMENT_INEXACT_AMOUNT',
      `${text} has more decimals than ${currency} has (${currencyExponent(currency)})`,
      'amount',
    );
  }
  return r.minor;
}

/** The decimal string of minor units, with exactly the currency's decimals: 1234n EUR → "12.34", 5n KWD → "0.005". */
export function fromMinorUnits(minor: bigint, currency: string): string {
  return formatMinor(minor, currencyExponent(currency));
}
