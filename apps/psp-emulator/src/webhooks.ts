import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FaultBook } from './faults';
import type { Store } from './store';

/**
 * Webhook delivery as Stripe does it: the event JSON is POSTed to the endpoint with
 * `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, which the SDK's
 * `stripe.webhooks.constructEvent(body, header, secret)` verifies. A non-2xx answer or a network error is
 * retried with backoff up to `maxAttempts`. Delivery is at least once: the duplicate and out-of-order faults make
 * that visible on purpose. `t` is the wall-clock time of sending (the SDK checks it against its own clock),
 * independent of the emulator's (possibly advanced) clock used for `created`.
 */
export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface Delivery {
  id: string; // the event id
  attempts: number;
  deliveries: number;
  delivered: boolean;
  lastStatus: number | null;
  lastError: string | null;
}

export function signPayload(payload: string, secret: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

export interface WebhookOptions {
  url?: string;
  secret: string;
  maxAttempts: number;
  concurrency: number;
  /** first retry delay; doubles per attempt, at most 5 s */
  retryBaseMs: number;
  requestTimeoutMs: number;
}

export class WebhookDispatcher {
  private queue: string[] = [];
  private held: string[] = [];
  private active = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<ClientRequest>();
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly faults: FaultBook,
    private readonly opts: WebhookOptions,
  ) {
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets: opts.concurrency });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: opts.concurrency });
    // events journaled but never delivered (the emulator was killed) go out again after a restart
    if (opts.url)
      for (const d of store.all<Delivery>('deliveries'))
        if (!d.delivered && d.attempts < opts.maxAttempts) this.queue.push(d.id);
    this.pump();
  }

  /** Queues an event (already stored) for delivery, applying the webhook faults. */
  enqueue(eventId: string): void {
    if (!this.opts.url) return;
    this.store.put<Delivery>('deliveries', {
      id: eventId,
      attempts: 0,
      deliveries: 0,
      delivered: false,
      lastStatus: null,
      lastError: null,
    });
    const ooo = this.faults.take('out_of_order_webhooks');
    const dup = this.faults.take('duplicate_webhook');
    const copies = dup ? (dup.times ?? 2) : 1;
    for (let i = 0; i < copies; i++) {
      if (ooo) this.held.push(eventId);
      else this.queue.push(eventId);
    }
    if (ooo && ooo.remaining === 0) this.flushHeld();
    this.pump();
  }

  /** Releases held-back events (out-of-order fault) newest first. */
  flushHeld(): void {
    const held = this.held.reverse();
    this.held = [];
    this.queue.push(...held);
    this.pump();
  }

  pending(): number {
    return this.queue.length + this.active + this.held.length + this.timers.size;
  }

  /** Resolves when nothing is queued, in flight or waiting for a retry (held events excluded). */
  idle(): Promise<void> {
    if (this.queue.length + this.active + this.timers.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private checkIdle(): void {
    if (this.queue.length + this.active + this.timers.size === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  private pump(): void {
    while (!this.closed && this.active < this.opts.concurrency && this.queue.length > 0) {
      const id = this.queue.shift()!;
      this.active++;
      this.deliver(id).finally(() => {
        this.active--;
        this.pump();
        this.checkIdle();
      });
    }
    this.checkIdle();
  }

  private async deliver(eventId: string): Promise<void> {
    const event = this.store.get<StripeEvent>('events', eventId);
    const d = this.store.get<Delivery>('deliveries', eventId);
    if (!event || !d || !this.opts.url) return;
    const body = JSON.stringify(event);
    const header = signPayload(body, this.opts.secret, Math.floor(Date.now() / 1000));
    let status: number | null = null;
    let error: string | null = null;
    try {
      status = await this.post(this.opts.url, body, header);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (this.closed) return;
    const ok = status !== null && status >= 200 && status < 300;
    const next: Delivery = {
      ...d,
      attempts: d.attempts + 1,
      deliveries: d.deliveries + (ok ? 1 : 0),
      delivered: d.delivered || ok,
      lastStatus: status,
      lastError: error,
    };
    this.store.put('deliveries', next);
    if (!ok && !next.delivered && next.attempts < this.opts.maxAttempts) {
      const wait = Math.min(5000, this.opts.retryBaseMs * 2 ** (next.attempts - 1));
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.queue.push(eventId);
        this.pump();
      }, wait);
      this.timers.add(t);
    }
  }

  /** POSTs over keep-alive connections (node:http: much cheaper per request than fetch). */
  private post(url: string, body: string, signature: string): Promise<number> {
    const u = new URL(url);
    const https = u.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        u,
        {
          method: 'POST',
          agent: https ? this.httpsAgent : this.httpAgent,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(body),
            'stripe-signature': signature,
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks) psp-emulator',
          },
          timeout: this.opts.requestTimeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      this.requests.add(req);
      req.on('close', () => this.requests.delete(req));
      req.on('timeout', () => req.destroy(new Error('webhook endpoint timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of this.requests) r.destroy();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}
