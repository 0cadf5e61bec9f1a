/**
 * The payment rules the service runs: libs/payments' decider (one aggregate per billing account) and its money
 * conversions. The app holds no rule of its own: it loads, decides through this, and saves.
 */
import { fromMinorUnits, paymentDecider, toMinorUnits, toMinorUnitsExact } from '@csms/payments';
import type { PaymentRules } from './engine';

export function paymentRules(): PaymentRules {
  return paymentDecider as unknown as PaymentRules;
}

/** A decimal string in major units -> minor units of the currency (exact; rounded once, half-up, if it has more decimals). */
export function toMinor(text: string, currency: string): bigint {
  return toMinorUnits(text, currency);
}

export function fromMinor(minor: bigint, currency: string): string {
  return fromMinorUnits(minor, currency);
}

/** An amount someone pays: exact, refused (PAYMENT_INEXACT_AMOUNT) if it has more decimals than the currency. */
export function toMinorExact(text: string, currency: string): bigint {
  return toMinorUnitsExact(text, currency);
}
