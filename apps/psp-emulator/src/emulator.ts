import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { checkoutPage, messagePage } from './checkout-page';
import { FaultBook, FaultSpecError, type Fault, type FaultSpec, type Operation } from './faults';
import { canonical, FormError, parseForm, type FormObject } from './form';
import { publicView } from './objects';
import { ApiError, expandOf, newId, Psp, type PaymentSummary, type RequestContext } from './psp';
import { Store } from './store';
import { WebhookDispatcher, type Delivery, type StripeEvent } from './webhooks';

/**
 * A local payment service provider speaking the subset of Stripe's REST API the payment service's Stripe adapter
 * uses (see README.md): same paths, form-encoded bodies, `Authorization: Bearer sk_...`, JSON objects and errors
 * in Stripe's shapes, `Idempotency-Key` replay, signed webhooks. Plus an admin API under `/_emulator` for fault
 * injection, the clock, hold expiry, payouts and counts of what it did. It is an emulator: no real money, and the
 * state is in memory (optionally journaled to a file, see Store).
 */
export interface PspEmulatorOptions {
  port?: number;
  host?: string;
  /** where webhooks are POSTed; none: events are only kept (GET /v1/events) */
  webhookUrl?: string;
  /** the endpoint secret webhooks are signed with (`whsec_...`) */
  webhookSecret?: string;
  /** when set, only this secret key is accepted; otherwise any `sk_test_...` key */
  apiKey?: string;
  /** journal file: state survives a restart (and a SIGKILL) of the emulator */
  stateFile?: string;
  /** base URL of the hosted payment pages as a browser reaches them (default: the listening URL) */
  publicUrl?: string;
  /** the wall clock, in ms (tests inject one); the admin clock offset is added to it */
  clock?: () => number;
  holdSeconds?: number;
  feeBps?: number;
  feeFixedMinor?: number;
  webhookMaxAttempts?: number;
  webhookConcurrency?: number;
  webhookRetryBaseMs?: number;
  /** how often holds are checked for expiry (ms; 0 = only on requests and clock changes) */
  expirySweepMs?: number;
}

export interface PspEmulator {
  url: string;
  port: number;
  psp: Psp;
  faults: FaultBook;
  /** what the PSP did to one payment (captures, refunds… counted) */
  summary(paymentIntentId: string): PaymentSummary;
  /** the same for every payment */
  ledger(): PaymentSummary[];
  addFault(spec: FaultSpec): Fault;
  /** moves the emulator's clock forward (hold expiry) */
  advanceClock(seconds: number): void;
  /** resolves when every queued webhook was delivered or gave up */
  webhooksIdle(): Promise<void>;
  events(): StripeEvent[];
  close(): Promise<void>;
}

export const DEFAULT_API_VERSION = '2026-11-18.endive';
const MAX_BODY = 256 * 1024;

interface IdempotencyRecord {
  id: string;
  method: string;
  path: string;
  params: string;
  status: number;
  body: string;
  requestId: string;
  at: number;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, { type: 'invalid_request_error', message: 'Request body too large' }, true));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

type Handler = (params: FormObject, ctx: RequestContext, m: RegExpExecArray) => Record<string, unknown>;
interface Route {
  method: string;
  re: RegExp;
  op: Operation | null;
  handle: Handler;
}

export async function startPspEmulator(opts: PspEmulatorOptions = {}): Promise<PspEmulator> {
  const wall = opts.clock ?? (() => Date.now());
  let offsetMs = 0;
  const now = () => wall() + offsetMs;
  const store = new Store(opts.stateFile);
  const faults = new FaultBook();
  const webhooks = new WebhookDispatcher(store, faults, {
    url: opts.webhookUrl,
    secret: opts.webhookSecret ?? 'whsec_emulator',
    maxAttempts: opts.webhookMaxAttempts ?? 30,
    concurrency: opts.webhookConcurrency ?? 4,
    retryBaseMs: opts.webhookRetryBaseMs ?? 200,
    requestTimeoutMs: 10_000,
  });
  const config = {
    holdSeconds: opts.holdSeconds ?? 7 * 24 * 3600,
    feeBps: opts.feeBps ?? 140,
    feeFixedMinor: opts.feeFixedMinor ?? 25,
    publicUrl: opts.publicUrl ?? '',
    apiVersion: DEFAULT_API_VERSION,
    maxAmount: 99_999_999,
  };
  const psp = new Psp(store, faults, webhooks, config, now);
  const inFlight = new Set<string>();
  const delayed = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  const one =
    (fn: (id: string, p: FormObject) => object): Handler =>
    (p, _c, m) => {
      const o = fn(decodeURIComponent(m[1]), p);
      return psp.expand(o as Record<string, unknown>, expandOf(p));
    };
  const routes: Route[] = [
    { method: 'POST', re: /^\/v1\/customers$/, op: 'create_customer', handle: (p) => psp.createCustomer(p) },
    { method: 'GET', re: /^\/v1\/customers\/([^/]+)$/, op: null, handle: one((id) => psp.getCustomer(id)) },
    {
      method: 'POST',
      re: /^\/v1\/payment_methods\/([^/]+)\/attach$/,
      op: 'attach_payment_method',
      handle: (p, _c, m) => psp.attachPaymentMethod(decodeURIComponent(m[1]), p),
    },
    { method: 'GET', re: /^\/v1\/payment_methods\/([^/]+)$/, op: null, handle: one((id) => psp.getPaymentMethod(id)) },
    {
      method: 'POST',
      re: /^\/v1\/payment_intents$/,
      op: 'create_payment_intent',
      handle: (p, c) => psp.expand(psp.createPaymentIntent(p, c), expandOf(p)),
    },
    {
      method: 'GET',
      re: /^\/v1\/payment_intents\/search$/,
      op: null,
      handle: (p) => psp.expand(psp.searchPaymentIntents(p), expandOf(p)),
    },
    {
      method: 'GET',
      re: /^\/v1\/payment_intents$/,
      op: null,
      handle: (p) => psp.expand(psp.listPaymentIntents(p), expandOf(p)),
    },
    {
      method: 'GET',
      re: /^\/v1\/payment_intents\/([^/]+)$/,
      op: 'retrieve',
      handle: one((id) => psp.getPaymentIntent(id)),
    },
    {
      method: 'POST',
      re: /^\/v1\/payment_intents\/([^/]+)\/confirm$/,
      op: 'confirm_payment_intent',
      handle: (p, c, m) => psp.expand(psp.confirmPaymentIntent(decodeURIComponent(m[1]), p, c), expandOf(p)),
    },
    {
      method: 'POST',
      re: /^\/v1\/payment_intents\/([^/]+)\/increment_authorization$/,
      op: 'increment_authorization',
      handle: (p, c, m) => psp.expand(psp.incrementAuthorization(decodeURIComponent(m[1]), p, c), expandOf(p)),
    },
    {
      method: 'POST',
      re: /^\/v1\/payment_intents\/([^/]+)\/capture$/,
      op: 'capture',
      handle: (p, c, m) => psp.expand(psp.capture(decodeURIComponent(m[1]), p, c), expandOf(p)),
    },
    {
      method: 'POST',
      re: /^\/v1\/payment_intents\/([^/]+)\/cancel$/,
      op: 'cancel',
      handle: (p, c, m) => psp.expand(psp.cancel(decodeURIComponent(m[1]), p, c), expandOf(p)),
    },
    { method: 'GET', re: /^\/v1\/charges\/([^/]+)$/, op: null, handle: one((id) => psp.getCharge(id)) },
    {
      method: 'POST',
      re: /^\/v1\/refunds$/,
      op: 'refund',
      handle: (p, c) => psp.expand(psp.createRefund(p, c), expandOf(p)),
    },
    { method: 'GET', re: /^\/v1\/refunds$/, op: null, handle: (p) => psp.listRefunds(p) },
    { method: 'GET', re: /^\/v1\/refunds\/([^/]+)$/, op: null, handle: one((id) => psp.getRefund(id)) },
    { method: 'GET', re: /^\/v1\/balance$/, op: null, handle: () => psp.getBalance() },
    {
      method: 'GET',
      re: /^\/v1\/balance_transactions$/,
      op: null,
      handle: (p) => psp.listBalanceTransactions(p),
    },
    {
      method: 'GET',
      re: /^\/v1\/balance_transactions\/([^/]+)$/,
      op: null,
      handle: one((id) => psp.getBalanceTransaction(id)),
    },
    { method: 'GET', re: /^\/v1\/payouts\/([^/]+)$/, op: null, handle: one((id) => psp.getPayout(id)) },
    {
      method: 'POST',
      re: /^\/v1\/checkout\/sessions$/,
      op: 'create_checkout_session',
      handle: (p, c) => psp.expand(psp.createCheckoutSession(p, c), expandOf(p)),
    },
    {
      method: 'GET',
      re: /^\/v1\/checkout\/sessions\/([^/]+)$/,
      op: null,
      handle: one((id) => psp.getCheckoutSession(id)),
    },
    { method: 'GET', re: /^\/v1\/events$/, op: null, handle: (p) => psp.listEvents(p) },
    {
      method: 'GET',
      re: /^\/v1\/events\/([^/]+)$/,
      op: null,
      handle: (_p, _c, m) => psp.getEvent(decodeURIComponent(m[1])) as unknown as Record<string, unknown>,
    },
  ];

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, o: unknown) => send(res, status, JSON.stringify(o));
  const errorBody = (e: ApiError) => JSON.stringify({ error: e.error });

  /**
   * Writes an answer (executed or replayed), unless a `timeout_after_success` fault holds it back past the client's
   * timeout or drops the connection: the effect stays, the client does not learn it.
   */
  function respond(
    req: IncomingMessage,
    res: ServerResponse,
    op: Operation | null,
    status: number,
    body: string,
    headers: Record<string, string>,
  ): void {
    const late = op && req.method === 'POST' ? faults.take('timeout_after_success', op) : undefined;
    if (!late) return send(res, status, body, headers);
    if ((late.mode ?? 'delay') === 'drop') {
      req.socket.destroy();
      return;
    }
    const t = setTimeout(() => {
      delayed.delete(t);
      send(res, status, body, headers);
    }, late.delayMs ?? 60_000);
    delayed.add(t);
    res.on('close', () => {
      clearTimeout(t);
      delayed.delete(t);
    });
  }

  function authorise(req: IncomingMessage): string {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/.exec(auth);
    if (!m)
      throw new ApiError(
        401,
        {
          type: 'invalid_request_error',
          message:
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        },
        true,
      );
    const key = m[1];
    if (opts.apiKey ? key !== opts.apiKey : !/^(sk|rk)_test_/.test(key))
      throw new ApiError(
        401,
        {
          type: 'invalid_request_error',
          code: 'api_key_invalid',
          message: `Invalid API Key provided: ${key.slice(0, 8)}****`,
        },
        true,
      );
    return key;
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = newId('req', 14);
    const base: Record<string, string> = { 'request-id': requestId, 'stripe-version': config.apiVersion };
    let inFlightKey: string | null = null;
    try {
      const apiKey = authorise(req);
      const method = req.method ?? 'GET';
      const route = routes.find((r) => r.method === method && r.re.test(url.pathname));
      if (!route)
        throw new ApiError(
          404,
          {
            type: 'invalid_request_error',
            message: `Unrecognized request URL (${method}: ${url.pathname}).`,
          },
          true,
        );
      const m = route.re.exec(url.pathname)!;
      let params: FormObject;
      try {
        params = method === 'POST' ? parseForm(await readBody(req)) : parseForm(url.search.replace(/^\?/, ''));
      } catch (e) {
        if (e instanceof FormError)
          throw new ApiError(400, { type: 'invalid_request_error', message: e.message, param: e.param }, true);
        throw e;
      }
      const idemHeader = req.headers['idempotency-key'];
      const idemKey = method === 'POST' && typeof idemHeader === 'string' && idemHeader.length > 0 ? idemHeader : null;
      if (idemKey && idemKey.length > 255)
        throw new ApiError(
          400,
          { type: 'invalid_request_error', message: 'Idempotency keys are at most 255 characters.' },
          true,
        );
      const ctx: RequestContext = { requestId, idempotencyKey: idemKey };
      const recordId = idemKey ? `${apiKey}:${idemKey}` : null;
      const paramsCanonical = canonical(params);
      if (recordId) {
        const prior = store.get<IdempotencyRecord>('idempotency', recordId);
        if (prior) {
          if (prior.method !== method || prior.path !== url.pathname || prior.params !== paramsCanonical)
            throw new ApiError(
              400,
              {
                type: 'idempotency_error',
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.`,
              },
              true,
            );
          respond(req, res, route.op, prior.status, prior.body, {
            ...base,
            'idempotency-key': idemKey!,
            'idempotent-replayed': 'true',
            'original-request': prior.requestId,
          });
          return;
        }
        if (inFlight.has(recordId))
          throw new ApiError(
            409,
            {
              type: 'idempotency_error',
              message:
                'There is currently another in-progress request using this Stripe API key and idempotency key. Please try again later.',
            },
            true,
          );
        inFlight.add(recordId);
        inFlightKey = recordId;
      }
      // what a request changes (its objects, their events, the idempotency record) reaches the journal in one write,
      // so a SIGKILL leaves either all of it or none: never a created payment without the record of its key
      const { status, body } = store.atomically(() => {
        psp.expireHolds();
        if (route.op && method === 'POST' && faults.take('server_error', route.op))
          throw new ApiError(500, { type: 'api_error', message: 'An unknown error occurred (injected fault).' }, true);
        let status = 200;
        let body = '';
        try {
          body = JSON.stringify(route.handle(params, ctx, m));
        } catch (e) {
          if (!(e instanceof ApiError) || e.validation || e.status >= 500) throw e;
          status = e.status;
          body = errorBody(e);
        }
        if (recordId)
          store.put<IdempotencyRecord>('idempotency', {
            id: recordId,
            method,
            path: url.pathname,
            params: paramsCanonical,
            status,
            body,
            requestId,
            at: now(),
          });
        return { status, body };
      });
      const headers = idemKey ? { ...base, 'idempotency-key': idemKey, 'original-request': requestId } : base;
      respond(req, res, route.op, status, body, headers);
    } catch (e) {
      if (e instanceof ApiError) send(res, e.status, errorBody(e), base);
      else {
        const message = e instanceof Error ? e.message : String(e);
        send(res, 500, JSON.stringify({ error: { type: 'api_error', message } }), {
          ...base,
          'stripe-should-retry': 'false',
        });
      }
    } finally {
      if (inFlightKey) inFlight.delete(inFlightKey);
    }
  }

  async function checkout(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const html = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(body);
    };
    const m = /^\/checkout\/([^/]+)(\/pay)?$/.exec(url.pathname);
    if (!m) return html(404, messagePage('Not found', 'No such page.'));
    const id = decodeURIComponent(m[1]);
    const session = store.get<import('./objects').CheckoutSession>('checkout_sessions', id);
    if (!session) return html(404, messagePage('Not found', 'No such payment page.'));
    if (req.method === 'GET' && !m[2]) {
      if (session.status === 'complete') {
        res.writeHead(303, { location: psp.successUrlOf(session) });
        res.end();
        return;
      }
      return html(200, checkoutPage(session));
    }
    if (req.method === 'POST' && m[2]) {
      const form = parseForm(await readBody(req));
      const cardNumber = typeof form.card_number === 'string' ? form.card_number : '';
      const out = psp.payCheckout(id, cardNumber);
      if ('redirect' in out) {
        res.writeHead(303, { location: out.redirect });
        res.end();
        return;
      }
      return html(402, checkoutPage(psp.getCheckoutSession(id), out.error));
    }
    html(405, messagePage('Method not allowed', 'Use GET for the page and POST for the form.'));
  }

  async function admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname.slice('/_emulator'.length);
    const json = async (): Promise<Record<string, unknown>> => {
      const raw = await readBody(req);
      if (raw.length === 0) return {};
      const v: unknown = JSON.parse(raw);
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw new FaultSpecError('body must be a JSON object');
      return v as Record<string, unknown>;
    };
    try {
      if (path === '/health' && method === 'GET') return sendJson(res, 200, { status: 'ok', replayed: store.replayed });
      if (path === '/faults' && method === 'GET') return sendJson(res, 200, { data: faults.list() });
      if (path === '/faults' && method === 'POST')
        return sendJson(res, 200, faults.add((await json()) as unknown as FaultSpec));
      if (path === '/faults' && method === 'DELETE') {
        faults.clear();
        return sendJson(res, 200, { data: [] });
      }
      if (path === '/clock' && method === 'GET')
        return sendJson(res, 200, { now: Math.floor(now() / 1000), offset_seconds: offsetMs / 1000 });
      if (path === '/clock/advance' && method === 'POST') {
        const b = await json();
        const s = Number(b.seconds);
        if (!Number.isFinite(s) || s < 0) throw new FaultSpecError('seconds must be a non-negative number');
        offsetMs += s * 1000;
        const expired = psp.expireHolds();
        return sendJson(res, 200, { now: Math.floor(now() / 1000), expired });
      }
      const exp = /^\/payment_intents\/([^/]+)\/expire$/.exec(path);
      if (exp && method === 'POST') return sendJson(res, 200, psp.expireHold(decodeURIComponent(exp[1])));
      const sum = /^\/payment_intents\/([^/]+)$/.exec(path);
      if (sum && method === 'GET') return sendJson(res, 200, psp.summary(decodeURIComponent(sum[1])));
      if (path === '/ledger' && method === 'GET') {
        const all = psp.ledger();
        const intent = url.searchParams.get('intent_id');
        return sendJson(res, 200, {
          data: intent ? all.filter((s) => s.metadata.intent_id === intent) : all,
          totals: {
            captures: all.reduce((n, s) => n + s.captures, 0),
            refunds: all.reduce((n, s) => n + s.refunds, 0),
          },
        });
      }
      if (path === '/payouts' && method === 'POST') {
        const b = await json();
        return sendJson(res, 200, { data: psp.payout(typeof b.currency === 'string' ? b.currency : undefined) });
      }
      if (path === '/reports/payout_reconciliation' && method === 'GET') {
        const start = Number(url.searchParams.get('interval_start') ?? 0);
        const end = Number(url.searchParams.get('interval_end') ?? Math.floor(now() / 1000) + 1);
        if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start)
          throw new FaultSpecError('interval_start and interval_end must be unix seconds, start <= end');
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
        res.end(psp.settlementReport(start, end));
        return;
      }
      if (path === '/webhooks' && method === 'GET')
        return sendJson(res, 200, { pending: webhooks.pending(), data: store.all<Delivery>('deliveries') });
      if (path === '/webhooks/flush' && method === 'POST') {
        webhooks.flushHeld();
        return sendJson(res, 200, { pending: webhooks.pending() });
      }
      return sendJson(res, 404, {
        error: { type: 'invalid_request_error', message: `no admin route ${method} ${path}` },
      });
    } catch (e) {
      if (e instanceof ApiError) return send(res, e.status, JSON.stringify({ error: e.error }));
      const status = e instanceof FaultSpecError || e instanceof SyntaxError ? 400 : 500;
      return sendJson(res, status, {
        error: { type: 'invalid_request_error', message: e instanceof Error ? e.message : String(e) },
      });
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname === '/health/ready' || url.pathname === '/health/live')
      return sendJson(res, 200, { status: 'ok' });
    const route = url.pathname.startsWith('/v1/')
      ? api(req, res, url)
      : url.pathname.startsWith('/checkout/')
        ? checkout(req, res, url)
        : url.pathname.startsWith('/_emulator/')
          ? admin(req, res, url)
          : Promise.resolve(
              sendJson(res, 404, {
                error: {
                  type: 'invalid_request_error',
                  message: `Unrecognized request URL (${req.method}: ${url.pathname}).`,
                },
              }),
            );
    route.catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { type: 'api_error', message: String(e) } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  if (!opts.publicUrl) config.publicUrl = url;

  const sweepMs = opts.expirySweepMs ?? 1000;
  const sweeper = sweepMs > 0 ? setInterval(() => psp.expireHolds(), sweepMs) : null;
  sweeper?.unref();

  return {
    url,
    port: addr.port,
    psp,
    faults,
    summary: (id) => psp.summary(id),
    ledger: () => psp.ledger(),
    addFault: (spec) => faults.add(spec),
    advanceClock(seconds: number) {
      offsetMs += seconds * 1000;
      psp.expireHolds();
    },
    webhooksIdle: () => webhooks.idle(),
    events: () => store.all<StripeEvent>('events').map((e) => publicView(e) as unknown as StripeEvent),
    async close() {
      if (sweeper) clearInterval(sweeper);
      for (const t of delayed) clearTimeout(t);
      delayed.clear();
      webhooks.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      store.close();
    },
  };
}
