/**
 * The payment rules the service runs: libs/payments' decider (one aggregate per billing account), its envelopes and
 * its money conversions. The app holds no rule of its own: it loads, decides through this, and saves.
 */
import type { EventCatalogue } from '@csms/contracts';
import {
  fromMinorUnits,
  paymentDecider,
  toMinorUnits,
  toMinorUnitsExact,
  toPaymentEnvelope,
  type AccountPaymentState,
  type PaymentCommand,
  type PaymentEvent,
} from '@csms/payments';
import { SERVICE_SOURCE, type PaymentEventLike, type PaymentRules } from './engine';

export function paymentRules(): PaymentRules {
  const d = paymentDecider;
  return {
    decideAndEvolve: (c, s) => d.decideAndEvolve(c as PaymentCommand, s as AccountPaymentState),
    evolve: (s, e) => d.evolve(s as AccountPaymentState, e as unknown as PaymentEvent),
    initialState: () => d.initialState(),
    envelope: (catalogue: EventCatalogue, e: PaymentEventLike, ordinal: number) =>
      toPaymentEnvelope(catalogue, e as unknown as PaymentEvent, {
        ordinal,
        source: SERVICE_SOURCE,
        causationId: e.sourceEventId,
      }),
  };
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
