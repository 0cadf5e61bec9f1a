/**
 * The Stripe objects the emulator keeps, in Stripe's wire shape (the subset of fields the adapter and the SDK's
 * types use; unknown fields are simply absent). Fields starting with `_` are the emulator's own and never leave
 * it (see `publicView`).
 */
export type Metadata = Record<string, string>;

export interface Customer {
  id: string;
  object: 'customer';
  created: number;
  email: string | null;
  name: string | null;
  description: string | null;
  metadata: Metadata;
  livemode: false;
  invoice_settings: { default_payment_method: string | null };
}

export interface Card {
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  funding: 'credit' | 'debit';
  country: string;
}

export interface PaymentMethod {
  id: string;
  object: 'payment_method';
  type: 'card';
  card: Card;
  customer: string | null;
  created: number;
  metadata: Metadata;
  livemode: false;
  billing_details: { address: null; email: null; name: null; phone: null };
}

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export interface LastPaymentError {
  type: string;
  code: string;
  decline_code?: string;
  message: string;
  charge?: string;
  payment_method?: PaymentMethod;
}

export interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: 'automatic' | 'automatic_async' | 'manual';
  client_secret: string;
  confirmation_method: 'automatic' | 'manual';
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  last_payment_error: LastPaymentError | null;
  latest_charge: string | null;
  livemode: false;
  metadata: Metadata;
  next_action: null;
  payment_method: string | null;
  payment_method_options: { card: { request_incremental_authorization?: string; capture_method?: string } };
  payment_method_types: string[];
  allowed_payment_method_types: string[];
  statement_descriptor: string | null;
  status: PaymentIntentStatus;
}

export interface BalanceTransaction {
  id: string;
  object: 'balance_transaction';
  amount: number;
  available_on: number;
  created: number;
  currency: string;
  description: string | null;
  fee: number;
  fee_details: { amount: number; currency: string; description: string; type: string; application: null }[];
  net: number;
  reporting_category: string;
  source: string;
  status: 'available' | 'pending';
  type: 'charge' | 'refund' | 'payout';
  /** the payout that settled it */
  _payout: string | null;
}

export interface Charge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  balance_transaction: string | null;
  captured: boolean;
  created: number;
  currency: string;
  customer: string | null;
  failure_code: string | null;
  failure_message: string | null;
  livemode: false;
  metadata: Metadata;
  outcome: { network_status: string; reason: string | null; seller_message: string; type: string; risk_level: string };
  paid: boolean;
  payment_intent: string;
  payment_method: string | null;
  payment_method_details: {
    type: 'card';
    card: Card & {
      amount_authorized: number;
      capture_before: number;
      incremental_authorization: { status: 'available' | 'unavailable' };
    };
  };
  refunded: boolean;
  status: 'succeeded' | 'pending' | 'failed';
}

export interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  balance_transaction: string | null;
  charge: string;
  created: number;
  currency: string;
  metadata: Metadata;
  payment_intent: string;
  reason: string | null;
  status: 'succeeded' | 'pending' | 'failed';
}

export interface CheckoutSession {
  id: string;
  object: 'checkout.session';
  amount_subtotal: number;
  amount_total: number;
  cancel_url: string | null;
  client_reference_id: string | null;
  created: number;
  currency: string;
  customer: string | null;
  expires_at: number;
  livemode: false;
  metadata: Metadata;
  mode: 'payment';
  payment_intent: string | null;
  payment_method_types: string[];
  allowed_payment_method_types: string[];
  payment_status: 'paid' | 'unpaid' | 'no_payment_required';
  status: 'open' | 'complete' | 'expired';
  success_url: string;
  url: string | null;
  /** what the payer sees: the line item's name */
  _description: string;
}

export interface Payout {
  id: string;
  object: 'payout';
  amount: number;
  arrival_date: number;
  automatic: boolean;
  balance_transaction: string | null;
  created: number;
  currency: string;
  description: string | null;
  destination: null;
  livemode: false;
  metadata: Metadata;
  method: 'standard';
  status: 'paid' | 'pending';
  type: 'bank_account';
}

/** One effect the PSP applied (the admin API counts them: "captured exactly once"). */
export interface OperationRecord {
  id: string;
  kind: 'authorize' | 'decline' | 'increment' | 'capture' | 'cancel' | 'expire' | 'refund';
  payment_intent: string;
  amount: number;
  currency: string;
  idempotency_key: string | null;
  at: number;
}

/** A copy without the emulator's own `_` fields. */
export function publicView<T extends object>(o: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!k.startsWith('_')) out[k] = v;
  return out;
}
