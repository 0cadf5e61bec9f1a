import { randomBytes } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { displayAmount } from './checkout-page';
import { behaviourOf, TEST_CARD_NUMBERS, TEST_PAYMENT_METHODS } from './cards';
import type { FaultBook, Operation } from './faults';
import type { FormObject, FormValue } from './form';
import {
  publicView,
  type BalanceTransaction,
  type Card,
  type Charge,
  type CheckoutSession,
  type Customer,
  type Metadata,
  type OperationRecord,
  type PaymentIntent,
  type PaymentMethod,
  type Payout,
  type Refund,
} from './objects';
import type { Store } from './store';
import type { StripeEvent, WebhookDispatcher } from './webhooks';

/** The columns of the emulator's settlement report (a subset of Stripe's itemized payout reconciliation report). */
export const SETTLEMENT_REPORT_COLUMNS = [
  'balance_transaction_id',
  'created_utc',
  'available_on_utc',
  'currency',
  'gross',
  'fee',
  'net',
  'reporting_category',
  'source_id',
  'payment_intent_id',
  'automatic_payout_id',
  'automatic_payout_effective_at_utc',
  'description',
] as const;

/** A Stripe error response: `{ error: { type, code, decline_code, message, param, ... } }` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: Record<string, unknown>,
    /** validation failures are not stored under the idempotency key (Stripe stores only executed requests) */
    readonly validation = false,
  ) {
    super(String(error.message));
    this.name = 'ApiError';
  }
}

const invalid = (message: string, param?: string, code = 'parameter_invalid'): ApiError =>
  new ApiError(400, { type: 'invalid_request_error', code, message, ...(param ? { param } : {}) }, true);
const missingParam = (param: string): ApiError =>
  new ApiError(
    400,
    { type: 'invalid_request_error', code: 'parameter_missing', message: `Missing required param: ${param}.`, param },
    true,
  );
const noSuch = (kind: string, id: string, param = 'id'): ApiError =>
  new ApiError(
    404,
    { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${kind}: '${id}'`, param },
    true,
  );
const unexpectedState = (pi: PaymentIntent, action: string, allowed: string[]): ApiError =>
  new ApiError(400, {
    type: 'invalid_request_error',
    code: 'payment_intent_unexpected_state',
    message: `This PaymentIntent could not be ${action} because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be ${action}: ${allowed.join(', ')}.`,
    payment_intent: publicView(pi),
  });

export interface RequestContext {
  requestId: string;
  idempotencyKey: string | null;
}

export interface PspConfig {
  /** how long a manual-capture hold lasts (Stripe: 7 days for online card payments) */
  holdSeconds: number;
  /** fee per capture: basis points of the captured amount (rounded half up) + a fixed part in minor units */
  feeBps: number;
  feeFixedMinor: number;
  /** base of the hosted payment page URLs (what a browser reaches) */
  publicUrl: string;
  apiVersion: string;
  /** largest amount accepted (Stripe: 99 999 999 minor units) */
  maxAmount: number;
}

export type Now = () => number;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function newId(prefix: string, len = 24): string {
  const bytes = randomBytes(len);
  let s = '';
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return `${prefix}_${s}`;
}

// ---- parameter readers (values arrive as strings, as Stripe's form encoding sends them) ----
function str(p: FormObject, name: string): string | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(`Invalid string: ${name}`, name);
  return v;
}
function reqStr(p: FormObject, name: string): string {
  const v = str(p, name);
  if (v === undefined || v === '') throw missingParam(name);
  return v;
}
function int(p: FormObject, name: string, paramName = name): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^-?\d{1,15}$/.test(v))
    throw invalid(`Invalid integer: ${String(v)}`, paramName, 'parameter_invalid_integer');
  return Number(v);
}
function obj(p: FormObject, name: string): FormObject | undefined {
  const v = p[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`Invalid object: ${name}`, name);
  return v;
}
function metadataOf(p: FormObject, name = 'metadata'): Metadata {
  const m = obj(p, name);
  const out: Metadata = {};
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw invalid(`Invalid metadata value for ${k}`, `${name}[${k}]`);
    if (k.length > 40 || v.length > 500) throw invalid('Metadata keys ≤ 40 and values ≤ 500 characters', name);
    out[k] = v;
  }
  if (Object.keys(out).length > 50) throw invalid('At most 50 metadata keys', name);
  return out;
}
export function expandOf(p: FormObject): string[] {
  const e: FormValue | undefined = p.expand;
  if (e === undefined) return [];
  if (typeof e === 'string') return [e];
  if (Array.isArray(e)) return e.filter((x): x is string => typeof x === 'string');
  return [];
}
function currencyOf(p: FormObject, name = 'currency'): string {
  const c = reqStr(p, name).toLowerCase();
  if (!/^[a-z]{3}$/.test(c)) throw invalid(`Invalid currency: ${c}`, name, 'parameter_invalid');
  return c;
}

type Json = Record<string, unknown>;

export class Psp {
  /** manual-capture holds not yet captured, cancelled or expired */
  private readonly openHolds = new Set<string>();
  /** the earliest `capture_before` among the open holds (seconds): no sweep is needed before it */
  private earliestExpiry = 0;

  constructor(
    readonly store: Store,
    readonly faults: FaultBook,
    private readonly webhooks: WebhookDispatcher,
    readonly config: PspConfig,
    readonly now: Now,
  ) {
    for (const pi of store.all<PaymentIntent>('payment_intents'))
      if (pi.status === 'requires_capture') this.openHolds.add(pi.id);
  }

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  // ---------------------------------------------------------------- events
  private emit(type: string, object: Json, ctx: RequestContext | null, previous?: Json): void {
    const ev: StripeEvent = {
      id: newId('evt'),
      object: 'event',
      api_version: this.config.apiVersion,
      created: this.seconds(),
      data: { object, ...(previous ? { previous_attributes: previous } : {}) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: ctx?.requestId ?? null, idempotency_key: ctx?.idempotencyKey ?? null },
      type,
    };
    this.store.put('events', ev);
    this.webhooks.enqueue(ev.id);
  }

  private record(kind: OperationRecord['kind'], pi: PaymentIntent, amount: number, ctx: RequestContext | null): void {
    this.store.put<OperationRecord>('operations', {
      id: newId('op'),
      kind,
      payment_intent: pi.id,
      amount,
      currency: pi.currency,
      idempotency_key: ctx?.idempotencyKey ?? null,
      at: this.seconds(),
    });
  }

  // ---------------------------------------------------------------- expansion
  /** Stripe's `expand[]`: replaces id fields by their objects, dotted paths nest (`latest_charge.balance_transaction`). */
  expand(o: Json, paths: string[]): Json {
    const out: Json = publicView(o);
    const byField: Record<string, Parameters<Store['get']>[0]> = {
      latest_charge: 'charges',
      charge: 'charges',
      balance_transaction: 'balance_transactions',
      payment_intent: 'payment_intents',
      payment_method: 'payment_methods',
      customer: 'customers',
    };
    const groups = new Map<string, string[]>();
    for (const p of paths) {
      const [head, ...rest] = p.split('.');
      if (!groups.has(head)) groups.set(head, []);
      if (rest.length) groups.get(head)!.push(rest.join('.'));
    }
    for (const [field, sub] of groups) {
      const v = out[field];
      if (field === 'data' && Array.isArray(v)) {
        out.data = v.map((x) => this.expand(x as Json, sub));
        continue;
      }
      const coll = byField[field];
      if (!coll) throw invalid(`This property cannot be expanded (${field}).`, 'expand');
      if (typeof v === 'string') {
        const target = this.store.get(coll, v);
        if (target) out[field] = this.expand(target as unknown as Json, sub);
      } else if (v && typeof v === 'object') out[field] = this.expand(v as Json, sub);
    }
    return out;
  }

  // ---------------------------------------------------------------- customers & payment methods
  createCustomer(p: FormObject): Json {
    const c: Customer = {
      id: newId('cus', 14),
      object: 'customer',
      created: this.seconds(),
      email: str(p, 'email') ?? null,
      name: str(p, 'name') ?? null,
      description: str(p, 'description') ?? null,
      metadata: metadataOf(p),
      livemode: false,
      invoice_settings: { default_payment_method: null },
    };
    const pmId = str(p, 'payment_method');
    this.store.put('customers', c);
    if (pmId) {
      const pm = this.attach(pmId, c.id);
      c.invoice_settings.default_payment_method = pm.id;
      this.store.put('customers', c);
    }
    return publicView(c);
  }

  getCustomer(id: string): Customer {
    const c = this.store.get<Customer>('customers', id);
    if (!c) throw noSuch('customer', id);
    return c;
  }

  /** A stored payment method, or a new one made from a `pm_card_*` test token. */
  private resolvePaymentMethod(id: string, param = 'payment_method'): PaymentMethod {
    const stored = this.store.get<PaymentMethod>('payment_methods', id);
    if (stored) return stored;
    const card = TEST_PAYMENT_METHODS[id];
    if (!card) throw noSuch('PaymentMethod', id, param);
    return this.newPaymentMethod(card);
  }

  private newPaymentMethod(card: Card): PaymentMethod {
    return this.store.put<PaymentMethod>('payment_methods', {
      id: newId('pm'),
      object: 'payment_method',
      type: 'card',
      card: { ...card },
      customer: null,
      created: this.seconds(),
      metadata: {},
      livemode: false,
      billing_details: { address: null, email: null, name: null, phone: null },
    });
  }

  private attach(pmId: string, customerId: string): PaymentMethod {
    this.getCustomer(customerId);
    const pm = this.resolvePaymentMethod(pmId);
    if (pm.customer && pm.customer !== customerId)
      throw invalid('The payment method is attached to another customer.', 'payment_method');
    pm.customer = customerId;
    return this.store.put('payment_methods', pm);
  }

  attachPaymentMethod(pmId: string, p: FormObject): Json {
    return publicView(this.attach(pmId, reqStr(p, 'customer')));
  }

  getPaymentMethod(id: string): PaymentMethod {
    const pm = this.store.get<PaymentMethod>('payment_methods', id);
    if (!pm) throw noSuch('PaymentMethod', id);
    return pm;
  }

  // ---------------------------------------------------------------- payment intents
  getPaymentIntent(id: string, param = 'intent'): PaymentIntent {
    const pi = this.store.get<PaymentIntent>('payment_intents', id);
    if (!pi) throw noSuch('payment_intent', id, param);
    return pi;
  }

  private amountOf(p: FormObject, name: string, required: boolean): number | undefined {
    const a = int(p, name);
    if (a === undefined) {
      if (required) throw missingParam(name);
      return undefined;
    }
    if (a < 1) throw invalid('Amount must be at least 1 minor unit', name, 'amount_too_small');
    if (a > this.config.maxAmount)
      throw invalid(`Amount must be no more than ${this.config.maxAmount}`, name, 'amount_too_large');
    return a;
  }

  createPaymentIntent(p: FormObject, ctx: RequestContext): Json {
    const amount = this.amountOf(p, 'amount', true)!;
    const currency = currencyOf(p);
    const captureMethod = str(p, 'capture_method') ?? 'automatic_async';
    if (!['automatic', 'automatic_async', 'manual'].includes(captureMethod))
      throw invalid(`Invalid capture_method: ${captureMethod}`, 'capture_method');
    const customer = str(p, 'customer') ?? null;
    if (customer) this.getCustomer(customer);
    const pmId = str(p, 'payment_method');
    const pm = pmId ? this.resolvePaymentMethod(pmId) : null;
    if (pm && pm.customer && customer && pm.customer !== customer)
      throw invalid('The payment method does not belong to this customer.', 'payment_method');
    const pmo = obj(p, 'payment_method_options');
    const cardOpts = pmo ? obj(pmo, 'card') : undefined;
    const incremental = cardOpts ? str(cardOpts, 'request_incremental_authorization') : undefined;
    if (incremental !== undefined && !['if_available', 'never'].includes(incremental))
      throw invalid(
        'Invalid request_incremental_authorization',
        'payment_method_options[card][request_incremental_authorization]',
      );
    const confirm = str(p, 'confirm') === 'true';
    if (confirm && !pm)
      throw invalid(
        "You cannot confirm this PaymentIntent because it's missing a payment method.",
        'payment_method',
        'payment_intent_unexpected_state',
      );
    const id = newId('pi');
    const pi: PaymentIntent = {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: captureMethod as PaymentIntent['capture_method'],
      client_secret: `${id}_secret_${newId('s').slice(2)}`,
      confirmation_method: 'automatic',
      created: this.seconds(),
      currency,
      customer,
      description: str(p, 'description') ?? null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: metadataOf(p),
      next_action: null,
      payment_method: pm?.id ?? null,
      payment_method_options: { card: incremental ? { request_incremental_authorization: incremental } : {} },
      payment_method_types: ['card'],
      allowed_payment_method_types: ['card'],
      statement_descriptor: str(p, 'statement_descriptor') ?? null,
      status: pm ? 'requires_confirmation' : 'requires_payment_method',
    };
    this.store.put('payment_intents', pi);
    if (confirm) return this.confirm(pi, pm!, 'create_payment_intent', ctx);
    return publicView(pi);
  }

  confirmPaymentIntent(id: string, p: FormObject, ctx: RequestContext): Json {
    const pi = this.getPaymentIntent(id);
    if (!['requires_payment_method', 'requires_confirmation'].includes(pi.status))
      throw unexpectedState(pi, 'confirmed', ['requires_payment_method', 'requires_confirmation']);
    const pmId = str(p, 'payment_method') ?? pi.payment_method;
    if (!pmId)
      throw invalid(
        "You cannot confirm this PaymentIntent because it's missing a payment method.",
        'payment_method',
        'payment_intent_unexpected_state',
      );
    return this.confirm(pi, this.resolvePaymentMethod(pmId), 'confirm_payment_intent', ctx);
  }

  /** Authorises (or declines) the payment with the card; throws the 402 card error on a decline. */
  private confirm(pi: PaymentIntent, pm: PaymentMethod, op: Operation, ctx: RequestContext | null): Json {
    const fault = this.faults.take('decline', op);
    const decline = fault
      ? {
          code: fault.code ?? 'card_declined',
          declineCode: fault.declineCode ?? 'generic_decline',
          message: 'Your card was declined.',
        }
      : behaviourOf(pm.card).decline;
    const now = this.seconds();
    const manual = pi.capture_method === 'manual';
    const charge: Charge = {
      id: newId('ch'),
      object: 'charge',
      amount: pi.amount,
      amount_captured: 0,
      amount_refunded: 0,
      balance_transaction: null,
      captured: false,
      created: now,
      currency: pi.currency,
      customer: pi.customer,
      failure_code: decline ? decline.code : null,
      failure_message: decline ? decline.message : null,
      livemode: false,
      metadata: { ...pi.metadata },
      outcome: decline
        ? {
            network_status: 'declined_by_network',
            reason: decline.declineCode ?? decline.code,
            seller_message: 'The bank did not return any further details with this decline.',
            type: 'issuer_declined',
            risk_level: 'normal',
          }
        : {
            network_status: 'approved_by_network',
            reason: null,
            seller_message: 'Payment complete.',
            type: 'authorized',
            risk_level: 'normal',
          },
      paid: !decline,
      payment_intent: pi.id,
      payment_method: pm.id,
      payment_method_details: {
        type: 'card',
        card: {
          ...pm.card,
          amount_authorized: decline ? 0 : pi.amount,
          capture_before: now + this.config.holdSeconds,
          incremental_authorization: {
            status:
              pi.payment_method_options.card.request_incremental_authorization === 'if_available'
                ? 'available'
                : 'unavailable',
          },
        },
      },
      refunded: false,
      status: decline ? 'failed' : 'succeeded',
    };
    pi.payment_method = pm.id;
    pi.latest_charge = charge.id;
    if (decline) {
      const err = {
        type: 'card_error',
        code: decline.code,
        ...(decline.declineCode ? { decline_code: decline.declineCode } : {}),
        message: decline.message,
        charge: charge.id,
      };
      pi.status = 'requires_payment_method';
      pi.last_payment_error = { ...err, payment_method: pm };
      this.store.put('charges', charge);
      this.store.put('payment_intents', pi);
      this.record('decline', pi, pi.amount, ctx);
      this.emit('payment_intent.payment_failed', publicView(pi), ctx);
      throw new ApiError(402, { ...err, payment_intent: publicView(pi), payment_method: publicView(pm) });
    }
    pi.last_payment_error = null;
    this.store.put('charges', charge);
    this.record('authorize', pi, pi.amount, ctx);
    if (manual) {
      pi.status = 'requires_capture';
      pi.amount_capturable = pi.amount;
      this.store.put('payment_intents', pi);
      this.openHolds.add(pi.id);
      this.earliestExpiry = Math.min(this.earliestExpiry, charge.payment_method_details.card.capture_before);
      this.emit('payment_intent.amount_capturable_updated', publicView(pi), ctx);
      return publicView(pi);
    }
    pi.status = 'requires_capture';
    pi.amount_capturable = pi.amount;
    return this.doCapture(pi, pi.amount, ctx);
  }

  private fee(amount: number): number {
    if (amount <= 0) return 0;
    const variable = Math.floor((amount * this.config.feeBps + 5000) / 10000);
    return Math.min(amount, variable + this.config.feeFixedMinor);
  }

  private doCapture(pi: PaymentIntent, amount: number, ctx: RequestContext | null): Json {
    const charge = this.store.get<Charge>('charges', pi.latest_charge!)!;
    const now = this.seconds();
    const fee = this.fee(amount);
    const bt: BalanceTransaction = {
      id: newId('txn'),
      object: 'balance_transaction',
      amount,
      available_on: now,
      created: now,
      currency: pi.currency,
      description: `Payment for ${pi.id}`,
      fee,
      fee_details: fee
        ? [
            {
              amount: fee,
              currency: pi.currency,
              description: 'Stripe processing fees',
              type: 'stripe_fee',
              application: null,
            },
          ]
        : [],
      net: amount - fee,
      reporting_category: 'charge',
      source: charge.id,
      status: 'available',
      type: 'charge',
      _payout: null,
    };
    // fault injection of PSP-side defects, for reconciliation: the capture never booked, or booked twice
    if (!this.faults.take('missed_capture', 'capture')) this.store.put('balance_transactions', bt);
    if (this.faults.take('double_capture', 'capture'))
      this.store.put('balance_transactions', { ...bt, id: newId('txn') });
    charge.captured = true;
    charge.amount_captured = amount;
    // Stripe reports the released (uncaptured) part of a partial capture as refunded on the charge
    charge.amount_refunded = charge.amount - amount;
    charge.balance_transaction = bt.id;
    this.store.put('charges', charge);
    pi.status = 'succeeded';
    pi.amount_received = amount;
    pi.amount_capturable = 0;
    this.store.put('payment_intents', pi);
    this.openHolds.delete(pi.id);
    this.record('capture', pi, amount, ctx);
    this.emit('payment_intent.succeeded', publicView(pi), ctx);
    return publicView(pi);
  }

  capture(id: string, p: FormObject, ctx: RequestContext): Json {
    const pi = this.getPaymentIntent(id);
    const asked = this.amountOf(p, 'amount_to_capture', false) ?? pi.amount_capturable;
    if (pi.status !== 'requires_capture') throw unexpectedState(pi, 'captured', ['requires_capture']);
    if (asked > pi.amount_capturable)
      throw new ApiError(400, {
        type: 'invalid_request_error',
        code: 'amount_too_large',
        message: `The amount to capture (${asked}) is greater than the amount capturable (${pi.amount_capturable}).`,
        param: 'amount_to_capture',
      });
    const partial = this.faults.take('partial_capture', 'capture');
    const amount = partial
      ? Math.min(asked, partial.amountMinor ?? Math.floor((asked * (partial.percent ?? 50)) / 100))
      : asked;
    return this.doCapture(pi, amount, ctx);
  }

  incrementAuthorization(id: string, p: FormObject, ctx: RequestContext): Json {
    const pi = this.getPaymentIntent(id);
    const amount = this.amountOf(p, 'amount', true)!;
    if (pi.status !== 'requires_capture') throw unexpectedState(pi, 'incremented', ['requires_capture']);
    const charge = this.store.get<Charge>('charges', pi.latest_charge!)!;
    if (charge.payment_method_details.card.incremental_authorization.status !== 'available')
      throw new ApiError(400, {
        type: 'invalid_request_error',
        code: 'incremental_authorization_unavailable',
        message:
          'This PaymentIntent is not eligible for incremental authorization: create it with payment_method_options[card][request_incremental_authorization]=if_available.',
      });
    if (amount <= pi.amount)
      throw invalid(
        `The new amount (${amount}) must be greater than the authorized amount (${pi.amount}).`,
        'amount',
        'parameter_invalid_integer',
      );
    const fault = this.faults.take('decline', 'increment_authorization');
    if (fault) {
      this.record('decline', pi, amount, ctx);
      throw new ApiError(402, {
        type: 'card_error',
        code: fault.code ?? 'card_declined',
        decline_code: fault.declineCode ?? 'generic_decline',
        message: 'The incremental authorization was declined.',
        charge: charge.id,
        payment_intent: publicView(pi),
      });
    }
    const previous = { amount: pi.amount, amount_capturable: pi.amount_capturable };
    pi.amount = amount;
    pi.amount_capturable = amount;
    charge.amount = amount;
    charge.payment_method_details.card.amount_authorized = amount;
    this.store.put('charges', charge);
    this.store.put('payment_intents', pi);
    this.record('increment', pi, amount, ctx);
    this.emit('payment_intent.amount_capturable_updated', publicView(pi), ctx, previous);
    return publicView(pi);
  }

  cancel(id: string, p: FormObject, ctx: RequestContext | null, reason?: string): Json {
    const pi = this.getPaymentIntent(id);
    const allowed = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action'];
    if (!allowed.includes(pi.status)) throw unexpectedState(pi, 'canceled', allowed);
    const why = reason ?? str(p, 'cancellation_reason') ?? null;
    if (why && !['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned', 'automatic'].includes(why))
      throw invalid(`Invalid cancellation_reason: ${why}`, 'cancellation_reason');
    const released = pi.status === 'requires_capture' ? pi.amount_capturable : 0;
    if (released > 0 && pi.latest_charge) {
      const charge = this.store.get<Charge>('charges', pi.latest_charge)!;
      charge.amount_refunded = charge.amount;
      charge.refunded = true;
      this.store.put('charges', charge);
    }
    pi.status = 'canceled';
    pi.canceled_at = this.seconds();
    pi.cancellation_reason = why;
    pi.amount_capturable = 0;
    this.store.put('payment_intents', pi);
    this.openHolds.delete(pi.id);
    this.record(why === 'automatic' ? 'expire' : 'cancel', pi, released, ctx);
    this.emit('payment_intent.canceled', publicView(pi), ctx);
    return publicView(pi);
  }

  /** Lapses every hold whose `capture_before` has passed (Stripe cancels it with reason `automatic`). */
  expireHolds(): string[] {
    const now = this.seconds();
    const expired: string[] = [];
    if (now < this.earliestExpiry) return expired;
    let earliest = Number.POSITIVE_INFINITY;
    for (const id of [...this.openHolds]) {
      const pi = this.store.get<PaymentIntent>('payment_intents', id);
      const charge = pi?.latest_charge ? this.store.get<Charge>('charges', pi.latest_charge) : undefined;
      if (!pi || !charge || pi.status !== 'requires_capture') {
        this.openHolds.delete(id);
        continue;
      }
      const before = charge.payment_method_details.card.capture_before;
      if (before <= now) {
        this.expireHold(id);
        expired.push(id);
      } else earliest = Math.min(earliest, before);
    }
    this.earliestExpiry = earliest;
    return expired;
  }

  /** Lapses one hold now (admin: "hold expiry on demand"). */
  expireHold(id: string): Json {
    return this.cancel(id, {}, null, 'automatic');
  }

  listPaymentIntents(p: FormObject): Json {
    const limit = Math.min(100, int(p, 'limit') ?? 10);
    const customer = str(p, 'customer');
    const all = this.store
      .all<PaymentIntent>('payment_intents')
      .filter((pi) => !customer || pi.customer === customer)
      .sort((a, b) => b.created - a.created);
    const after = str(p, 'starting_after');
    const start = after ? all.findIndex((x) => x.id === after) + 1 : 0;
    const page = all.slice(start, start + limit);
    return {
      object: 'list',
      data: page.map((x) => publicView(x)),
      has_more: start + limit < all.length,
      url: '/v1/payment_intents',
    };
  }

  /**
   * Stripe's search query language, the part the adapter uses: clauses `field:'value'` joined by AND, where
   * field is `metadata['key']`, `status`, `customer` or `currency`.
   */
  searchPaymentIntents(p: FormObject): Json {
    const query = reqStr(p, 'query');
    const limit = Math.min(100, int(p, 'limit') ?? 10);
    const clauses = query.split(/\s+AND\s+/i).map((c) => {
      const m = /^\s*(metadata\[['"]([^'"]+)['"]\]|status|customer|currency)\s*:\s*['"]([^'"]*)['"]\s*$/.exec(c);
      if (!m) throw invalid(`Unsupported search clause: ${c}`, 'query', 'search_query_invalid');
      return { field: m[2] !== undefined ? 'metadata' : m[1], key: m[2], value: m[3] };
    });
    const hits = this.store
      .all<PaymentIntent>('payment_intents')
      .filter((pi) =>
        clauses.every((c) => {
          if (c.field === 'metadata') return pi.metadata[c.key!] === c.value;
          return String((pi as unknown as Json)[c.field]) === c.value;
        }),
      )
      .sort((a, b) => b.created - a.created);
    return {
      object: 'search_result',
      data: hits.slice(0, limit).map((x) => publicView(x)),
      has_more: hits.length > limit,
      next_page: null,
      url: '/v1/payment_intents/search',
    };
  }

  // ---------------------------------------------------------------- charges, refunds, balance
  getCharge(id: string): Charge {
    const c = this.store.get<Charge>('charges', id);
    if (!c) throw noSuch('charge', id);
    return c;
  }

  private refundedSoFar(piId: string): number {
    return this.store
      .all<Refund>('refunds')
      .filter((r) => r.payment_intent === piId && r.status !== 'failed')
      .reduce((s, r) => s + r.amount, 0);
  }

  createRefund(p: FormObject, ctx: RequestContext): Json {
    let piId = str(p, 'payment_intent');
    const chargeId = str(p, 'charge');
    if (!piId && !chargeId) throw missingParam('payment_intent');
    if (!piId) piId = this.getCharge(chargeId!).payment_intent;
    const pi = this.getPaymentIntent(piId, 'payment_intent');
    const asked = this.amountOf(p, 'amount', false);
    if (pi.status !== 'succeeded' || !pi.latest_charge)
      throw new ApiError(400, {
        type: 'invalid_request_error',
        code: 'charge_not_refundable',
        message: `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`,
        param: 'payment_intent',
      });
    const refundable = pi.amount_received - this.refundedSoFar(pi.id);
    if (refundable <= 0)
      throw new ApiError(400, {
        type: 'invalid_request_error',
        code: 'charge_already_refunded',
        message: `Charge ${pi.latest_charge} has already been refunded.`,
      });
    const amount = asked ?? refundable;
    if (amount > refundable)
      throw new ApiError(400, {
        type: 'invalid_request_error',
        code: 'amount_too_large',
        message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable})`,
        param: 'amount',
      });
    const now = this.seconds();
    const charge = this.getCharge(pi.latest_charge);
    const refund: Refund = {
      id: newId('re'),
      object: 'refund',
      amount,
      balance_transaction: null,
      charge: charge.id,
      created: now,
      currency: pi.currency,
      metadata: metadataOf(p),
      payment_intent: pi.id,
      reason: str(p, 'reason') ?? null,
      status: 'succeeded',
    };
    const bt: BalanceTransaction = {
      id: newId('txn'),
      object: 'balance_transaction',
      amount: -amount,
      available_on: now,
      created: now,
      currency: pi.currency,
      description: `Refund for ${pi.id}`,
      fee: 0,
      fee_details: [],
      net: -amount,
      reporting_category: 'refund',
      source: refund.id,
      status: 'available',
      type: 'refund',
      _payout: null,
    };
    refund.balance_transaction = bt.id;
    this.store.put('balance_transactions', bt);
    this.store.put('refunds', refund);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded >= charge.amount;
    this.store.put('charges', charge);
    this.record('refund', pi, amount, ctx);
    this.emit('charge.refunded', publicView(charge), ctx);
    this.emit('refund.created', publicView(refund), ctx);
    return publicView(refund);
  }

  getRefund(id: string): Refund {
    const r = this.store.get<Refund>('refunds', id);
    if (!r) throw noSuch('refund', id);
    return r;
  }

  listRefunds(p: FormObject): Json {
    const piId = str(p, 'payment_intent');
    const data = this.store
      .all<Refund>('refunds')
      .filter((r) => !piId || r.payment_intent === piId)
      .map((r) => publicView(r));
    return { object: 'list', data, has_more: false, url: '/v1/refunds' };
  }

  getBalanceTransaction(id: string): BalanceTransaction {
    const b = this.store.get<BalanceTransaction>('balance_transactions', id);
    if (!b) throw noSuch('balance transaction', id);
    return b;
  }

  listBalanceTransactions(p: FormObject): Json {
    const payout = str(p, 'payout');
    const limit = Math.min(100, int(p, 'limit') ?? 10);
    const all = this.store
      .all<BalanceTransaction>('balance_transactions')
      .filter((b) => !payout || b._payout === payout || b.source === payout);
    const after = str(p, 'starting_after');
    const start = after ? all.findIndex((x) => x.id === after) + 1 : 0;
    return {
      object: 'list',
      data: all.slice(start, start + limit).map((b) => publicView(b)),
      has_more: start + limit < all.length,
      url: '/v1/balance_transactions',
    };
  }

  getBalance(): Json {
    const sums = new Map<string, number>();
    for (const b of this.store.all<BalanceTransaction>('balance_transactions'))
      sums.set(b.currency, (sums.get(b.currency) ?? 0) + b.net);
    const available = [...sums].map(([currency, amount]) => ({ amount, currency, source_types: { card: amount } }));
    return { object: 'balance', available, pending: [], livemode: false };
  }

  /**
   * Pays out every settled, not yet paid-out balance transaction of a currency (or of each currency): the payout
   * amount is the net (captures − fees − refunds), its metadata carries the fee and gross (`fee_minor`,
   * `gross_minor`) so a webhook alone is enough to book it. Emits `payout.created` and `payout.paid`.
   */
  payout(currency?: string): Json[] {
    const groups = new Map<string, BalanceTransaction[]>();
    for (const b of this.store.all<BalanceTransaction>('balance_transactions'))
      if (b._payout === null && b.type !== 'payout' && (!currency || b.currency === currency.toLowerCase()))
        groups.set(b.currency, [...(groups.get(b.currency) ?? []), b]);
    const out: Json[] = [];
    const now = this.seconds();
    for (const [cur, bts] of groups) {
      const net = bts.reduce((s, b) => s + b.net, 0);
      if (net <= 0) continue;
      const fee = bts.reduce((s, b) => s + b.fee, 0);
      const gross = bts.reduce((s, b) => s + b.amount, 0);
      const payoutId = newId('po');
      const pbt: BalanceTransaction = {
        id: newId('txn'),
        object: 'balance_transaction',
        amount: -net,
        available_on: now,
        created: now,
        currency: cur,
        description: 'STRIPE PAYOUT',
        fee: 0,
        fee_details: [],
        net: -net,
        reporting_category: 'payout',
        source: payoutId,
        status: 'available',
        type: 'payout',
        _payout: payoutId,
      };
      const po: Payout = {
        id: payoutId,
        object: 'payout',
        amount: net,
        arrival_date: now,
        automatic: true,
        balance_transaction: pbt.id,
        created: now,
        currency: cur,
        description: 'STRIPE PAYOUT',
        destination: null,
        livemode: false,
        metadata: { fee_minor: String(fee), gross_minor: String(gross), balance_transactions: String(bts.length) },
        method: 'standard',
        status: 'paid',
        type: 'bank_account',
      };
      for (const b of bts) this.store.put('balance_transactions', { ...b, _payout: payoutId });
      this.store.put('balance_transactions', pbt);
      this.store.put('payouts', po);
      this.emit('payout.created', publicView(po), null);
      this.emit('payout.paid', publicView(po), null);
      out.push(publicView(po));
    }
    return out;
  }

  /**
   * The itemized payout reconciliation report (Stripe's `payout_reconciliation.itemized`): one line per charge and
   * refund balance transaction created in `[start, end)` (unix seconds), with the automatic payout that settled it
   * (empty while not paid out), amounts in major units. Lines ordered by creation, then id.
   */
  settlementReport(start: number, end: number): string {
    const major = (minor: number, cur: string) => displayAmount(minor, cur).split(' ')[0];
    const iso = (s: number | null) =>
      s === null ? '' : new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 19);
    const rows = this.store
      .all<BalanceTransaction>('balance_transactions')
      .filter((b) => (b.type === 'charge' || b.type === 'refund') && b.created >= start && b.created < end)
      .sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((b) => {
        const charge = b.type === 'charge' ? this.store.get<Charge>('charges', b.source) : undefined;
        const refund = b.type === 'refund' ? this.store.get<Refund>('refunds', b.source) : undefined;
        const payout = b._payout ? this.store.get<Payout>('payouts', b._payout) : undefined;
        const neg = (n: number) => (n < 0 ? `-${major(-n, b.currency)}` : major(n, b.currency));
        return [
          b.id,
          iso(b.created),
          iso(b.available_on),
          b.currency,
          neg(b.amount),
          neg(b.fee),
          neg(b.net),
          b.reporting_category,
          b.source,
          charge?.payment_intent ?? refund?.payment_intent ?? '',
          b._payout ?? '',
          iso(payout ? payout.arrival_date : null),
          b.description ?? '',
        ];
      });
    return stringify([SETTLEMENT_REPORT_COLUMNS as unknown as string[], ...rows], { record_delimiter: 'windows' });
  }

  getPayout(id: string): Payout {
    const p = this.store.get<Payout>('payouts', id);
    if (!p) throw noSuch('payout', id);
    return p;
  }

  // ---------------------------------------------------------------- hosted payment page (Checkout Sessions)
  createCheckoutSession(p: FormObject, ctx: RequestContext): Json {
    const mode = reqStr(p, 'mode');
    if (mode !== 'payment') throw invalid('The emulator supports mode=payment only.', 'mode');
    const successUrl = reqStr(p, 'success_url');
    const items = p.line_items;
    if (!Array.isArray(items) || items.length === 0) throw missingParam('line_items');
    let total = 0;
    let currency: string | undefined;
    let name = '';
    for (const [i, raw] of items.entries()) {
      if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('Invalid line item', `line_items[${i}]`);
      const pd = obj(raw, 'price_data');
      if (!pd) throw missingParam(`line_items[${i}][price_data]`);
      const c = currencyOf(pd);
      if (currency && c !== currency) throw invalid('All line items must share one currency', 'line_items');
      currency = c;
      const unit = int(pd, 'unit_amount', `line_items[${i}][price_data][unit_amount]`);
      if (unit === undefined) throw missingParam(`line_items[${i}][price_data][unit_amount]`);
      const qty = int(raw, 'quantity', `line_items[${i}][quantity]`) ?? 1;
      total += unit * qty;
      const product = obj(pd, 'product_data');
      name = name || (product ? (str(product, 'name') ?? '') : '');
    }
    if (total < 1 || total > this.config.maxAmount)
      throw invalid('Invalid total amount', 'line_items', 'amount_too_large');
    const pid = obj(p, 'payment_intent_data') ?? {};
    const captureMethod = str(pid, 'capture_method') ?? 'automatic_async';
    if (!['automatic', 'automatic_async', 'manual'].includes(captureMethod))
      throw invalid(`Invalid capture_method: ${captureMethod}`, 'payment_intent_data[capture_method]');
    const pmo = obj(p, 'payment_method_options');
    const cardOpts = pmo ? obj(pmo, 'card') : undefined;
    const incremental = cardOpts ? str(cardOpts, 'request_incremental_authorization') : undefined;
    // The emulator creates the PaymentIntent with the session (Stripe's older API versions did; newer ones
    // create it when the payer confirms): the adapter handles both (see its README).
    const piId = newId('pi');
    const now = this.seconds();
    const pi: PaymentIntent = {
      id: piId,
      object: 'payment_intent',
      amount: total,
      amount_capturable: 0,
      amount_received: 0,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: captureMethod as PaymentIntent['capture_method'],
      client_secret: `${piId}_secret_${newId('s').slice(2)}`,
      confirmation_method: 'automatic',
      created: now,
      currency: currency!,
      customer: str(p, 'customer') ?? null,
      description: str(pid, 'description') ?? null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: metadataOf(pid),
      next_action: null,
      payment_method: null,
      payment_method_options: { card: incremental ? { request_incremental_authorization: incremental } : {} },
      payment_method_types: ['card'],
      allowed_payment_method_types: ['card'],
      statement_descriptor: null,
      status: 'requires_payment_method',
    };
    const id = newId('cs_test', 58);
    const session: CheckoutSession = {
      id,
      object: 'checkout.session',
      amount_subtotal: total,
      amount_total: total,
      cancel_url: str(p, 'cancel_url') ?? null,
      client_reference_id: str(p, 'client_reference_id') ?? null,
      created: now,
      currency: currency!,
      customer: pi.customer,
      expires_at: now + 24 * 3600,
      livemode: false,
      metadata: metadataOf(p),
      mode: 'payment',
      payment_intent: piId,
      payment_method_types: ['card'],
      allowed_payment_method_types: ['card'],
      payment_status: 'unpaid',
      status: 'open',
      success_url: successUrl,
      url: `${this.config.publicUrl}/checkout/${id}`,
      _description: name || 'Payment',
    };
    this.store.put('payment_intents', pi);
    this.store.put('checkout_sessions', session);
    void ctx;
    return publicView(session);
  }

  getCheckoutSession(id: string): CheckoutSession {
    const s = this.store.get<CheckoutSession>('checkout_sessions', id);
    if (!s) throw noSuch('checkout.session', id, 'session');
    return s;
  }

  successUrlOf(s: CheckoutSession): string {
    return s.success_url.split('{CHECKOUT_SESSION_ID}').join(s.id);
  }

  /**
   * The payer submits the hosted page. Idempotent: a session already paid answers its success URL again
   * (double clicks, reloads). Returns where to redirect, or the decline message to show.
   */
  payCheckout(id: string, cardNumber: string): { redirect: string } | { error: string } {
    const s = this.getCheckoutSession(id);
    if (s.status === 'complete') return { redirect: this.successUrlOf(s) };
    if (s.status === 'expired' || s.expires_at <= this.seconds()) return { error: 'This payment page has expired.' };
    const card = TEST_CARD_NUMBERS[cardNumber.replace(/\s+/g, '')];
    if (!card) return { error: 'Unknown card number: use one of the test cards listed below.' };
    const pi = this.getPaymentIntent(s.payment_intent!);
    const pm = this.newPaymentMethod(card);
    try {
      this.confirm(pi, pm, 'checkout_pay', null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 402) return { error: String(e.error.message) };
      throw e;
    }
    const done = this.getPaymentIntent(pi.id);
    s.status = 'complete';
    s.payment_status = done.status === 'succeeded' ? 'paid' : 'unpaid';
    this.store.put('checkout_sessions', s);
    this.emit('checkout.session.completed', publicView(s), null);
    return { redirect: this.successUrlOf(s) };
  }

  // ---------------------------------------------------------------- events
  getEvent(id: string): StripeEvent {
    const e = this.store.get<StripeEvent>('events', id);
    if (!e) throw noSuch('event', id);
    return e;
  }

  listEvents(p: FormObject): Json {
    const type = str(p, 'type');
    const limit = Math.min(100, int(p, 'limit') ?? 10);
    const all = this.store
      .all<StripeEvent>('events')
      .filter((e) => !type || e.type === type)
      .reverse();
    return { object: 'list', data: all.slice(0, limit), has_more: all.length > limit, url: '/v1/events' };
  }

  // ---------------------------------------------------------------- admin reads
  /** What the PSP did to one payment: counts and sums per operation ("captured exactly once"). */
  summary(piId: string): PaymentSummary {
    const pi = this.getPaymentIntent(piId);
    return summarise(
      pi,
      this.store.all<OperationRecord>('operations').filter((o) => o.payment_intent === piId),
    );
  }

  ledger(): PaymentSummary[] {
    const ops = new Map<string, OperationRecord[]>();
    for (const o of this.store.all<OperationRecord>('operations'))
      ops.set(o.payment_intent, [...(ops.get(o.payment_intent) ?? []), o]);
    return this.store.all<PaymentIntent>('payment_intents').map((pi) => summarise(pi, ops.get(pi.id) ?? []));
  }
}

export interface PaymentSummary {
  payment_intent: string;
  status: string;
  currency: string;
  metadata: Metadata;
  authorizations: number;
  declines: number;
  increments: number;
  captures: number;
  captured_minor: number;
  cancels: number;
  expiries: number;
  refunds: number;
  refunded_minor: number;
}

function summarise(pi: PaymentIntent, ops: OperationRecord[]): PaymentSummary {
  const n = (k: OperationRecord['kind']) => ops.filter((o) => o.kind === k).length;
  const sum = (k: OperationRecord['kind']) => ops.filter((o) => o.kind === k).reduce((s, o) => s + o.amount, 0);
  return {
    payment_intent: pi.id,
    status: pi.status,
    currency: pi.currency,
    metadata: pi.metadata,
    authorizations: n('authorize'),
    declines: n('decline'),
    increments: n('increment'),
    captures: n('capture'),
    captured_minor: sum('capture'),
    cancels: n('cancel'),
    expiries: n('expire'),
    refunds: n('refund'),
    refunded_minor: sum('refund'),
  };
}
