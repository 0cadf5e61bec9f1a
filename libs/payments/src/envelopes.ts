/**
 * From the decider's events to the envelopes on payment.events and back: the key is the billing account, the
 * envelope id is derived from the account, the source event, the type and the event's place in the decision (the
 * same decision always gives the same ids), `occurredAt` is the event's `at`.
 */
import { PAYMENT_EVENTS, deriveId, type Envelope, type EventCatalogue, type EventDefinition } from '@csms/contracts';
import { PaymentError } from './errors';
import type { PaymentEvent, PaymentEventType } from './types';

/** The contract definition of each payment.events type. */
export const PAYMENT_EVENT_DEFINITIONS: ReadonlyMap<string, EventDefinition> = new Map<string, EventDefinition>(
  PAYMENT_EVENTS.map((d): [string, EventDefinition] => [d.type, d]),
);

/** The account of the PSP payouts (the operator's clearing and bank accounts are not a customer's). */
export const PAYOUT_ACCOUNT_ID = 'platform';

/** The account of an ad-hoc (QR) payment. */
export function adhocAccountId(paymentId: string): string {
  return `adhoc:${paymentId}`;
}

/** The envelope id of the `ordinal`-th event of one decision. */
export function paymentEventId(e: PaymentEvent, ordinal: number): string {
  return deriveId('payment-event', e.accountId, e.sourceEventId, e.type, ordinal);
}

/** The payload of an event: the event without its type tag. */
export function payloadOf(e: PaymentEvent): Record<string, unknown> {
  const { type: _type, ...payload } = e;
  return payload;
}

/** A validated payment.events envelope of a decided event. */
export function toPaymentEnvelope(
  catalogue: EventCatalogue,
  e: PaymentEvent,
  opts: { ordinal: number; source: string; causationId?: string | null; correlationId?: string | null },
): Envelope {
  const def = PAYMENT_EVENT_DEFINITIONS.get(e.type);
  if (!def) throw new PaymentError('PAYMENT_UNKNOWN_EVENT', `no contract for ${e.type}`, 'type');
  return catalogue.create(def, {
    id: paymentEventId(e, opts.ordinal),
    key: e.accountId,
    occurredAt: e.at,
    source: opts.source,
    causationId: opts.causationId ?? null,
    correlationId: opts.correlationId ?? null,
    payload: payloadOf(e) as never,
  });
}

/** The decider's event of a (parsed) payment.events envelope. */
export function fromPaymentEnvelope(env: Envelope): PaymentEvent {
  if (!PAYMENT_EVENT_DEFINITIONS.has(env.type))
    throw new PaymentError('PAYMENT_UNKNOWN_EVENT', `not a payment event: ${env.type}`, 'type');
  return { ...(env.payload as object), type: env.type as PaymentEventType } as PaymentEvent;
}
