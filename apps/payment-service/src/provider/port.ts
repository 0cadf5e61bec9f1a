/**
 * The payment service provider (PSP) port: everything the payment service asks of a PSP. Two adapters
 * implement it: the Stripe adapter (official `stripe` SDK; pointed at the local PSP emulator in tests and
 * `npm start`, at api.stripe.com with a user's key) — see `stripe-provider.ts`.
 *
 * Rules every caller keeps (learned from real PSP incidents):
 * - one intent, one idempotency key: the key is the payment intent id the decider derived from the causing
 *   event, so a retry after a crash or a timeout sends the same key and the PSP answers the first outcome;
 * - after `ProviderUnavailableError` (timeout, 5xx, connection lost) the outcome is unknown: `retrieve` the
 *   payment before retrying;
 * - never called inside a database transaction: record the intent, call, record the outcome.
 * Amounts are integers in the currency's minor units (bigint); currencies ISO 4217 upper case.
 */

import { DomainError } from '@csms/kernel';

export type ProviderPaymentStatus =
  /** a hold is in place: amountAuthorizedMinor can be captured */
  | 'authorized'
  /** captured (fully or partially); the rest of the hold, if any, is released */
  | 'captured'
  /** the hold was cancelled (released) without a capture */
  | 'canceled'
  /** a hosted payment page was created and the payer has not finished it yet */
  | 'pending';

export interface ProviderPayment {
  /** the PSP's id of the payment (Stripe: the PaymentIntent id) */
  paymentRef: string;
  status: ProviderPaymentStatus;
  currency: string;
  amountAuthorizedMinor: bigint;
  amountCapturedMinor: bigint;
  amountRefundedMinor: bigint;
  /** when the hold lapses if not captured (RFC 3339 UTC), when the PSP says */
  holdExpiresAt: string | null;
  /** PSP fee for the capture in minor units, when known */
  feeMinor: bigint | null;
}

export interface ProviderRefund {
  refundRef: string;
  paymentRef: string;
  amountMinor: bigint;
  status: 'succeeded' | 'pending' | 'failed';
}

/** A refused operation: a result, not an error (card declined, insufficient funds, amount too large…). */
export interface ProviderDecline {
  declined: true;
  /** the PSP's decline or error code, e.g. `card_declined`, `insufficient_funds`, `amount_too_large` */
  code: string;
  message: string;
  /** the payment, when the PSP created one before declining */
  paymentRef: string | null;
}

export type ProviderResult<T> = T | ProviderDecline;

export function isDecline<T>(r: ProviderResult<T>): r is ProviderDecline {
  return typeof r === 'object' && r !== null && (r as ProviderDecline).declined === true;
}

/** The call's outcome is unknown (timeout, connection lost, 5xx): retrieve before retrying. Retriable. */
export class ProviderUnavailableError extends DomainError<'PSP_UNAVAILABLE'> {
  constructor(message: string, cause?: unknown) {
    super('PSP_UNAVAILABLE', message, { retriable: true, cause });
  }
}

/** A webhook whose signature does not verify, or that is not JSON / not an event. */
export class WebhookSignatureError extends DomainError<'WEBHOOK_SIGNATURE_INVALID'> {
  constructor(message: string) {
    super('WEBHOOK_SIGNATURE_INVALID', message);
  }
}

export interface ProviderWebhookEvent {
  /** the PSP's event id: webhooks are deduplicated by it */
  eventId: string;
  /** e.g. payment_intent.amount_capturable_updated, payment_intent.succeeded, payment_intent.canceled, charge.refunded, payout.paid */
  type: string;
  /** seconds since the epoch, as the PSP states it (webhooks arrive out of order) */
  created: number;
  /** the payment concerned, if any */
  payment: ProviderPayment | null;
  /** for payout.* events: the payout */
  payout: { payoutRef: string; currency: string; amountMinor: bigint; feeMinor: bigint; arrivalDate: string } | null;
  /** the raw object, for the record */
  raw: unknown;
}

export interface PaymentProvider {
  /** Pre-authorise a hold (manual capture) on a customer's saved payment method. */
  authorize(req: {
    idempotencyKey: string;
    amountMinor: bigint;
    currency: string;
    customerRef: string;
    paymentMethodRef: string;
    /** what the PSP keeps with the payment: our intent id, account id, session id */
    metadata: Record<string, string>;
  }): Promise<ProviderResult<ProviderPayment>>;

  /** Raise the hold (incremental authorisation) to `newAmountMinor`. */
  increaseAuthorization(req: {
    idempotencyKey: string;
    paymentRef: string;
    newAmountMinor: bigint;
  }): Promise<ProviderResult<ProviderPayment>>;

  /** Capture `amountMinor` (≤ authorised) and release the rest. */
  capture(req: {
    idempotencyKey: string;
    paymentRef: string;
    amountMinor: bigint;
  }): Promise<ProviderResult<ProviderPayment>>;

  /** Release the hold without capturing. */
  cancel(req: { idempotencyKey: string; paymentRef: string }): Promise<ProviderResult<ProviderPayment>>;

  /** Refund `amountMinor` of a captured payment. */
  refund(req: {
    idempotencyKey: string;
    paymentRef: string;
    amountMinor: bigint;
  }): Promise<ProviderResult<ProviderRefund>>;

  /** The payment as the PSP holds it now (after a timeout, before retrying). */
  retrieve(paymentRef: string): Promise<ProviderPayment>;

  /** Find the payment created with this idempotency key / intent id (metadata search), if any. */
  findByIntent(intentId: string): Promise<ProviderPayment | null>;

  /**
   * A hosted payment page for an ad-hoc (QR) payment: the payer enters a card there; on success the PSP holds
   * `amountMinor` (manual capture) and redirects to `returnUrl`.
   */
  createHostedPayment(req: {
    idempotencyKey: string;
    amountMinor: bigint;
    currency: string;
    returnUrl: string;
    metadata: Record<string, string>;
  }): Promise<{ paymentRef: string; url: string }>;

  /** Verify a webhook's signature over the raw body and parse it; throws `WebhookSignatureError`. */
  parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): ProviderWebhookEvent;
}
