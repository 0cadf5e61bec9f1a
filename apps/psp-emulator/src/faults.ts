/**
 * Fault injection: each fault applies to the next `count` matching operations (or webhooks), then is gone.
 * Faults live in memory only (a restarted emulator starts without any).
 */
export type Operation =
  | 'create_customer'
  | 'attach_payment_method'
  | 'create_payment_intent'
  | 'confirm_payment_intent'
  | 'increment_authorization'
  | 'capture'
  | 'cancel'
  | 'refund'
  | 'create_checkout_session'
  | 'checkout_pay'
  | 'retrieve';

export const OPERATIONS: readonly Operation[] = [
  'create_customer',
  'attach_payment_method',
  'create_payment_intent',
  'confirm_payment_intent',
  'increment_authorization',
  'capture',
  'cancel',
  'refund',
  'create_checkout_session',
  'checkout_pay',
  'retrieve',
];

export type FaultKind =
  /** card declined (402 card_error): authorisations, increments, hosted-page payments */
  | 'decline'
  /** the operation takes effect, then the response is delayed (`delay`, past the client's timeout) or the connection is dropped (`drop`) */
  | 'timeout_after_success'
  /** 500 api_error before anything happens (no effect) */
  | 'server_error'
  /** a capture captures less than asked (`percent` of it, or `amountMinor`) and releases the rest */
  | 'partial_capture'
  /** the next webhooks are delivered `times` times each (same event id) */
  | 'duplicate_webhook'
  /** the next `count` webhooks are held back and delivered in reverse order */
  | 'out_of_order_webhooks'
  /** a PSP-side defect: the capture answers success but is never booked to the balance (no settlement line) */
  | 'missed_capture'
  /** a PSP-side defect: the capture is booked twice (two charge balance transactions for one payment) */
  | 'double_capture';

export const FAULT_KINDS: readonly FaultKind[] = [
  'decline',
  'timeout_after_success',
  'server_error',
  'partial_capture',
  'duplicate_webhook',
  'out_of_order_webhooks',
  'missed_capture',
  'double_capture',
];

export interface FaultSpec {
  kind: FaultKind;
  /** how many operations (webhooks for the webhook faults) it applies to; default 1 */
  count?: number;
  /** which operations it applies to; defaults per kind (see DEFAULT_OPERATIONS) */
  operations?: Operation[];
  /** decline: the error code (default `card_declined`) and decline code (default `generic_decline`) */
  code?: string;
  declineCode?: string;
  /** timeout_after_success: `delay` (default) or `drop` */
  mode?: 'delay' | 'drop';
  /** timeout_after_success with `delay`: how long the response is held (default 60 000 ms) */
  delayMs?: number;
  /** partial_capture: the share of the asked amount captured (default 50), or a fixed amount */
  percent?: number;
  amountMinor?: number;
  /** duplicate_webhook: deliveries per event (default 2) */
  times?: number;
}

export interface Fault extends FaultSpec {
  id: string;
  count: number;
  remaining: number;
  operations: Operation[];
}

const DEFAULT_OPERATIONS: Record<FaultKind, Operation[]> = {
  decline: ['create_payment_intent', 'confirm_payment_intent', 'checkout_pay'],
  timeout_after_success: [
    'create_payment_intent',
    'confirm_payment_intent',
    'increment_authorization',
    'capture',
    'cancel',
    'refund',
    'create_checkout_session',
  ],
  server_error: [
    'create_payment_intent',
    'confirm_payment_intent',
    'increment_authorization',
    'capture',
    'cancel',
    'refund',
    'create_checkout_session',
  ],
  partial_capture: ['capture'],
  duplicate_webhook: [],
  out_of_order_webhooks: [],
  missed_capture: ['capture'],
  double_capture: ['capture'],
};

export class FaultSpecError extends Error {}

export class FaultBook {
  private faults: Fault[] = [];
  private seq = 0;

  add(spec: FaultSpec): Fault {
    if (!FAULT_KINDS.includes(spec.kind)) throw new FaultSpecError(`unknown fault kind ${String(spec.kind)}`);
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new FaultSpecError('count must be a positive integer');
    const operations = spec.operations ?? DEFAULT_OPERATIONS[spec.kind];
    for (const op of operations)
      if (!OPERATIONS.includes(op)) throw new FaultSpecError(`unknown operation ${String(op)}`);
    if (spec.percent !== undefined && !(spec.percent >= 0 && spec.percent <= 100))
      throw new FaultSpecError('percent must be within 0..100');
    if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times >= 1))
      throw new FaultSpecError('times must be a positive integer');
    const f: Fault = { ...spec, id: `fault_${++this.seq}`, count, remaining: count, operations };
    this.faults.push(f);
    return f;
  }

  /** Consumes one use of the first fault of this kind matching `op` (any, for webhook faults). */
  take(kind: FaultKind, op?: Operation): Fault | undefined {
    const f = this.faults.find(
      (x) => x.kind === kind && x.remaining > 0 && (op === undefined || x.operations.includes(op)),
    );
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining === 0) this.faults = this.faults.filter((x) => x !== f);
    return f;
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }
}
