import Stripe from 'stripe';
import { DomainError } from '@csms/kernel';
import {
  ProviderUnavailableError,
  WebhookSignatureError,
  type PaymentProvider,
  type ProviderDecline,
  type ProviderPayment,
  type ProviderRefund,
  type ProviderResult,
  type ProviderWebhookEvent,
} from './port';

/**
 * The Stripe adapter of the PSP port, on the official `stripe` SDK. Pointed at api.stripe.com with a user's test
 * key, or at the local PSP emulator (apps/psp-emulator) through the SDK's `host`/`port`/`protocol` options: the
 * same code path either way.
 *
 * - Holds are PaymentIntents with `capture_method=manual`, confirmed at creation (`confirm=true`, off session)
 *   with `request_incremental_authorization=if_available`; the intent id is kept in the PaymentIntent's metadata
 *   (`intent_id`) so `findByIntent` can find it.
 * - Every mutating call carries the caller's idempotency key; `maxNetworkRetries: 0` (the caller decides about
 *   retries, after reading the payment's state). The SDK still retries once, with the same key, when the
 *   connection is reset before an answer: Stripe (and the emulator) then replay the stored answer.
 * - A card decline (402) or a refused request (400/404: amount too large, wrong state…) is a `ProviderDecline`;
 *   a timeout, a lost connection, 409 (same key in flight), 429 or 5xx is `ProviderUnavailableError` (outcome
 *   unknown); a key reused with different parameters or a rejected API key is a non-retriable
 *   `ProviderRejectedError`.
 */
export interface StripeProviderOptions {
  /** `sk_test_...` (emulator: any sk_test_ key unless it was started with one) */
  apiKey: string;
  /** the webhook endpoint's signing secret (`whsec_...`) */
  webhookSecret: string;
  /** the API's base URL; unset: https://api.stripe.com (e.g. `http://127.0.0.1:12111` for the emulator) */
  apiUrl?: string;
  /** per-request timeout (ms); default 10 000 */
  timeoutMs?: number;
  /** how old a webhook signature may be (s); default 300 as the SDK */
  webhookToleranceSeconds?: number;
}

export type ProviderRejectedCode = 'PSP_IDEMPOTENCY_CONFLICT' | 'PSP_AUTHENTICATION' | 'PSP_NOT_FOUND' | 'PSP_REJECTED';

/** The PSP refused the request itself (not the payment): a configuration or programming error. Not retriable. */
export class ProviderRejectedError extends DomainError<ProviderRejectedCode> {
  constructor(code: ProviderRejectedCode, message: string, cause?: unknown) {
    super(code, message, { cause, retriable: false });
  }
}

/** The metadata key holding the intent id (the idempotency key of the authorisation). */
export const INTENT_ID_METADATA_KEY = 'intent_id';

/** Expansions that give the hold's expiry (charge) and the fee (balance transaction) in one call. */
const EXPAND = ['latest_charge.balance_transaction'];

export function stripeConnection(apiUrl: string | undefined): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  if (!apiUrl) return {};
  const u = new URL(apiUrl);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`PSP API URL must be http(s): ${apiUrl}`);
  const protocol = u.protocol === 'http:' ? 'http' : 'https';
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || (protocol === 'http' ? 80 : 443), protocol };
}

const iso = (seconds: number | null | undefined): string | null =>
  typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : null;

function toAmount(minor: bigint, what: string): number {
  if (minor < 0n || minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${what} out of range: ${minor}`);
  return Number(minor);
}

function expandedCharge(pi: Stripe.PaymentIntent): Stripe.Charge | null {
  return pi.latest_charge && typeof pi.latest_charge === 'object' ? pi.latest_charge : null;
}

/** Refunds on a charge, without the released part of a partial capture (Stripe books that as refunded too). */
function refundedOf(charge: Stripe.Charge): bigint {
  if (!charge.captured) return 0n;
  const released = charge.amount - charge.amount_captured;
  return BigInt(Math.max(0, charge.amount_refunded - released));
}

export function paymentOfIntent(pi: Stripe.PaymentIntent): ProviderPayment {
  const charge = expandedCharge(pi);
  const status: ProviderPayment['status'] =
    pi.status === 'requires_capture'
      ? 'authorized'
      : pi.status === 'succeeded'
        ? 'captured'
        : pi.status === 'canceled'
          ? 'canceled'
          : 'pending';
  const wasAuthorized = pi.latest_charge !== null && pi.last_payment_error === null;
  const authorized =
    status === 'authorized'
      ? pi.amount_capturable
      : charge
        ? charge.status === 'succeeded'
          ? (charge.payment_method_details?.card?.amount_authorized ?? charge.amount)
          : 0
        : status !== 'pending' && wasAuthorized
          ? pi.amount
          : 0;
  const bt =
    charge && charge.balance_transaction && typeof charge.balance_transaction === 'object'
      ? charge.balance_transaction
      : null;
  return {
    paymentRef: pi.id,
    status,
    currency: pi.currency.toUpperCase(),
    amountAuthorizedMinor: BigInt(authorized),
    amountCapturedMinor: BigInt(pi.amount_received),
    amountRefundedMinor: charge ? refundedOf(charge) : 0n,
    holdExpiresAt: status === 'authorized' ? iso(charge?.payment_method_details?.card?.capture_before) : null,
    feeMinor: bt ? BigInt(bt.fee) : null,
  };
}

function paymentOfCharge(ch: Stripe.Charge): ProviderPayment | null {
  const paymentRef = typeof ch.payment_intent === 'string' ? ch.payment_intent : (ch.payment_intent?.id ?? null);
  if (!paymentRef) return null;
  const ok = ch.status === 'succeeded';
  const status: ProviderPayment['status'] = !ok
    ? 'pending'
    : ch.captured
      ? 'captured'
      : ch.amount_refunded >= ch.amount
        ? 'canceled'
        : 'authorized';
  const bt = ch.balance_transaction && typeof ch.balance_transaction === 'object' ? ch.balance_transaction : null;
  return {
    paymentRef,
    status,
    currency: ch.currency.toUpperCase(),
    amountAuthorizedMinor: BigInt(ok ? (ch.payment_method_details?.card?.amount_authorized ?? ch.amount) : 0),
    amountCapturedMinor: BigInt(ch.amount_captured),
    amountRefundedMinor: refundedOf(ch),
    holdExpiresAt: status === 'authorized' ? iso(ch.payment_method_details?.card?.capture_before) : null,
    feeMinor: bt ? BigInt(bt.fee) : null,
  };
}

function paymentOfSession(s: Stripe.Checkout.Session): ProviderPayment {
  if (s.payment_intent && typeof s.payment_intent === 'object') return paymentOfIntent(s.payment_intent);
  const paymentRef = typeof s.payment_intent === 'string' ? s.payment_intent : s.id;
  // a completed session with a manual-capture intent holds the total; a paid one captured it
  const status: ProviderPayment['status'] =
    s.status === 'complete'
      ? s.payment_status === 'paid'
        ? 'captured'
        : 'authorized'
      : s.status === 'expired'
        ? 'canceled'
        : 'pending';
  const total = BigInt(s.amount_total ?? 0);
  return {
    paymentRef,
    status,
    currency: (s.currency ?? '').toUpperCase(),
    amountAuthorizedMinor: status === 'authorized' || status === 'captured' ? total : 0n,
    amountCapturedMinor: status === 'captured' ? total : 0n,
    amountRefundedMinor: 0n,
    holdExpiresAt: null,
    feeMinor: null,
  };
}

export class StripeProvider implements PaymentProvider {
  readonly stripe: Stripe;

  constructor(private readonly opts: StripeProviderOptions) {
    this.stripe = new Stripe(opts.apiKey, {
      ...stripeConnection(opts.apiUrl),
      timeout: opts.timeoutMs ?? 10_000,
      maxNetworkRetries: 0,
      telemetry: false,
      appInfo: { name: 'csms-payment-service' },
    });
  }

  /** Sorts a failed call: a decline (result), unknown outcome (ProviderUnavailableError) or a rejected request. */
  private failure(e: unknown, what: string): ProviderDecline {
    if (e instanceof Stripe.errors.StripeCardError) {
      const pi = e.payment_intent as { id?: string } | undefined;
      return {
        declined: true,
        code: e.decline_code ?? e.code ?? 'card_declined',
        message:
          e.raw && typeof e.raw === 'object' && 'message' in e.raw
            ? String((e.raw as { message: unknown }).message)
            : e.message,
        paymentRef: pi?.id ?? null,
      };
    }
    if (e instanceof Stripe.errors.StripeIdempotencyError) {
      if (e.statusCode === 409) throw new ProviderUnavailableError(`${what}: the same idempotency key is in flight`, e);
      throw new ProviderRejectedError('PSP_IDEMPOTENCY_CONFLICT', `${what}: ${e.message}`, e);
    }
    if (e instanceof Stripe.errors.StripeAuthenticationError || e instanceof Stripe.errors.StripePermissionError)
      throw new ProviderRejectedError('PSP_AUTHENTICATION', `${what}: ${e.message}`, e);
    if (e instanceof Stripe.errors.StripeInvalidRequestError) {
      const pi = e.payment_intent as { id?: string } | undefined;
      return {
        declined: true,
        code: e.code ?? 'invalid_request',
        message:
          e.raw && typeof e.raw === 'object' && 'message' in e.raw
            ? String((e.raw as { message: unknown }).message)
            : e.message,
        paymentRef: pi?.id ?? null,
      };
    }
    if (e instanceof Stripe.errors.StripeError) {
      // connection lost, timeout, 409, 429, 5xx: the request may or may not have taken effect
      throw new ProviderUnavailableError(`${what}: ${e.message}`, e);
    }
    throw e;
  }

  /** A Checkout Session reference (`cs_...`, when the PSP had not created the PaymentIntent yet) → the PaymentIntent. */
  private async intentRef(paymentRef: string): Promise<string> {
    if (!paymentRef.startsWith('cs_')) return paymentRef;
    let s: Stripe.Checkout.Session;
    try {
      s = await this.stripe.checkout.sessions.retrieve(paymentRef);
    } catch (e) {
      this.failure(e, 'retrieve checkout session');
      throw new ProviderRejectedError('PSP_NOT_FOUND', `no checkout session ${paymentRef}`, e);
    }
    const pi = typeof s.payment_intent === 'string' ? s.payment_intent : s.payment_intent?.id;
    if (!pi) throw new ProviderRejectedError('PSP_NOT_FOUND', `checkout session ${paymentRef} has no payment yet`);
    return pi;
  }

  async authorize(req: {
    idempotencyKey: string;
    amountMinor: bigint;
    currency: string;
    customerRef: string;
    paymentMethodRef: string;
    metadata: Record<string, string>;
  }): Promise<ProviderResult<ProviderPayment>> {
    let pi: Stripe.PaymentIntent;
    try {
      pi = await this.stripe.paymentIntents.create(
        {
          amount: toAmount(req.amountMinor, 'amount'),
          currency: req.currency.toLowerCase(),
          customer: req.customerRef,
          payment_method: req.paymentMethodRef,
          allowed_payment_method_types: ['card'],
          capture_method: 'manual',
          confirm: true,
          off_session: true,
          payment_method_options: { card: { request_incremental_authorization: 'if_available' } },
          metadata: { ...req.metadata, [INTENT_ID_METADATA_KEY]: req.idempotencyKey },
          expand: EXPAND,
        },
        { idempotencyKey: req.idempotencyKey },
      );
    } catch (e) {
      return this.failure(e, 'authorize');
    }
    const p = paymentOfIntent(pi);
    if (p.status === 'authorized' || p.status === 'captured') return p;
    // confirmed but not held: needs the payer (3-D Secure) or was refused without a card error
    return {
      declined: true,
      code: pi.status === 'requires_action' ? 'authentication_required' : (pi.last_payment_error?.code ?? pi.status),
      message: pi.last_payment_error?.message ?? `payment intent is ${pi.status}`,
      paymentRef: pi.id,
    };
  }

  async increaseAuthorization(req: {
    idempotencyKey: string;
    paymentRef: string;
    newAmountMinor: bigint;
  }): Promise<ProviderResult<ProviderPayment>> {
    try {
      const id = await this.intentRef(req.paymentRef);
      const pi = await this.stripe.paymentIntents.incrementAuthorization(
        id,
        { amount: toAmount(req.newAmountMinor, 'amount'), expand: EXPAND },
        { idempotencyKey: req.idempotencyKey },
      );
      return paymentOfIntent(pi);
    } catch (e) {
      if (e instanceof ProviderRejectedError) throw e;
      return this.failure(e, 'increase authorization');
    }
  }

  async capture(req: {
    idempotencyKey: string;
    paymentRef: string;
    amountMinor: bigint;
  }): Promise<ProviderResult<ProviderPayment>> {
    // nothing to capture: release the hold instead (Stripe refuses a capture of 0)
    if (req.amountMinor === 0n) return this.cancel({ idempotencyKey: req.idempotencyKey, paymentRef: req.paymentRef });
    try {
      const id = await this.intentRef(req.paymentRef);
      const pi = await this.stripe.paymentIntents.capture(
        id,
        { amount_to_capture: toAmount(req.amountMinor, 'amount_to_capture'), expand: EXPAND },
        { idempotencyKey: req.idempotencyKey },
      );
      return paymentOfIntent(pi);
    } catch (e) {
      if (e instanceof ProviderRejectedError) throw e;
      return this.failure(e, 'capture');
    }
  }

  async cancel(req: { idempotencyKey: string; paymentRef: string }): Promise<ProviderResult<ProviderPayment>> {
    try {
      const id = await this.intentRef(req.paymentRef);
      const pi = await this.stripe.paymentIntents.cancel(
        id,
        { expand: EXPAND },
        { idempotencyKey: req.idempotencyKey },
      );
      return paymentOfIntent(pi);
    } catch (e) {
      if (e instanceof ProviderRejectedError) throw e;
      return this.failure(e, 'cancel');
    }
  }

  async refund(req: {
    idempotencyKey: string;
    paymentRef: string;
    amountMinor: bigint;
  }): Promise<ProviderResult<ProviderRefund>> {
    try {
      const id = await this.intentRef(req.paymentRef);
      const r = await this.stripe.refunds.create(
        { payment_intent: id, amount: toAmount(req.amountMinor, 'amount') },
        { idempotencyKey: req.idempotencyKey },
      );
      return {
        refundRef: r.id,
        paymentRef: id,
        amountMinor: BigInt(r.amount),
        status:
          r.status === 'succeeded'
            ? 'succeeded'
            : r.status === 'failed' || r.status === 'canceled'
              ? 'failed'
              : 'pending',
      };
    } catch (e) {
      if (e instanceof ProviderRejectedError) throw e;
      return this.failure(e, 'refund');
    }
  }

  async retrieve(paymentRef: string): Promise<ProviderPayment> {
    try {
      if (paymentRef.startsWith('cs_')) {
        const s = await this.stripe.checkout.sessions.retrieve(paymentRef, {
          expand: ['payment_intent.latest_charge.balance_transaction'],
        });
        return paymentOfSession(s);
      }
      return paymentOfIntent(await this.stripe.paymentIntents.retrieve(paymentRef, { expand: EXPAND }));
    } catch (e) {
      const d = this.failure(e, 'retrieve');
      throw new ProviderRejectedError(d.code === 'resource_missing' ? 'PSP_NOT_FOUND' : 'PSP_REJECTED', d.message, e);
    }
  }

  async findByIntent(intentId: string): Promise<ProviderPayment | null> {
    if (/['"\\]/.test(intentId)) throw new RangeError(`intent id not searchable: ${intentId}`);
    try {
      const found = await this.stripe.paymentIntents.search({
        query: `metadata['${INTENT_ID_METADATA_KEY}']:'${intentId}'`,
        limit: 2,
      });
      const pi = found.data[0];
      if (!pi) return null;
      return this.retrieve(pi.id);
    } catch (e) {
      if (e instanceof ProviderRejectedError || e instanceof ProviderUnavailableError) throw e;
      const d = this.failure(e, 'find by intent');
      throw new ProviderRejectedError('PSP_REJECTED', d.message, e);
    }
  }

  async createHostedPayment(req: {
    idempotencyKey: string;
    amountMinor: bigint;
    currency: string;
    returnUrl: string;
    metadata: Record<string, string>;
  }): Promise<{ paymentRef: string; url: string }> {
    const metadata = { ...req.metadata, [INTENT_ID_METADATA_KEY]: req.idempotencyKey };
    let s: Stripe.Checkout.Session;
    try {
      s = await this.stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: req.currency.toLowerCase(),
                unit_amount: toAmount(req.amountMinor, 'amount'),
                product_data: { name: req.metadata.description ?? 'Charging session (pre-authorisation)' },
              },
            },
          ],
          allowed_payment_method_types: ['card'],
          payment_intent_data: { capture_method: 'manual', metadata },
          payment_method_options: { card: { request_incremental_authorization: 'if_available' } },
          metadata,
          success_url: req.returnUrl,
          cancel_url: req.returnUrl,
        },
        { idempotencyKey: req.idempotencyKey },
      );
    } catch (e) {
      const d = this.failure(e, 'create hosted payment');
      throw new ProviderRejectedError('PSP_REJECTED', `create hosted payment: ${d.code}: ${d.message}`, e);
    }
    if (!s.url) throw new ProviderRejectedError('PSP_REJECTED', `checkout session ${s.id} has no URL`);
    const pi = typeof s.payment_intent === 'string' ? s.payment_intent : (s.payment_intent?.id ?? null);
    return { paymentRef: pi ?? s.id, url: s.url };
  }

  parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): ProviderWebhookEvent {
    if (!signatureHeader) throw new WebhookSignatureError('missing Stripe-Signature header');
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(
        rawBody,
        signatureHeader,
        this.opts.webhookSecret,
        this.opts.webhookToleranceSeconds,
      );
    } catch (e) {
      throw new WebhookSignatureError(e instanceof Error ? e.message : String(e));
    }
    if (!event || typeof event.id !== 'string' || typeof event.type !== 'string' || !event.data?.object)
      throw new WebhookSignatureError('not a Stripe event');
    const o = event.data.object as { object?: string };
    let payment: ProviderPayment | null = null;
    let payout: ProviderWebhookEvent['payout'] = null;
    switch (o.object) {
      case 'payment_intent':
        payment = paymentOfIntent(o as Stripe.PaymentIntent);
        break;
      case 'charge':
        payment = paymentOfCharge(o as Stripe.Charge);
        break;
      case 'checkout.session':
        payment = paymentOfSession(o as Stripe.Checkout.Session);
        break;
      case 'payout': {
        const p = o as Stripe.Payout;
        const fee = p.metadata?.fee_minor;
        payout = {
          payoutRef: p.id,
          currency: p.currency.toUpperCase(),
          amountMinor: BigInt(p.amount),
          feeMinor: fee !== undefined && /^\d+$/.test(fee) ? BigInt(fee) : 0n,
          arrivalDate: iso(p.arrival_date)!,
        };
        break;
      }
    }
    return { eventId: event.id, type: event.type, created: event.created, payment, payout, raw: event };
  }

  /**
   * The fees a payout settled, from its balance transactions (Stripe's own record; the emulator also puts them in
   * the payout's metadata, `fee_minor`, which `parseWebhook` reads).
   */
  async payoutFees(payoutRef: string): Promise<bigint> {
    let fee = 0n;
    try {
      for await (const bt of this.stripe.balanceTransactions.list({ payout: payoutRef, limit: 100 }))
        if (bt.type !== 'payout') fee += BigInt(bt.fee);
    } catch (e) {
      const d = this.failure(e, 'payout fees');
      throw new ProviderRejectedError('PSP_REJECTED', d.message, e);
    }
    return fee;
  }
}
