/**
 * The Stripe adapter on the real `stripe` SDK against the local PSP emulator (started in-process, pointed at by
 * the SDK's host/port/protocol options): every call crosses HTTP in Stripe's wire format, webhooks are POSTed and
 * signed. No Kafka or PostgreSQL here; it is integration because of the HTTP services.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@csms/testing';
import { startPspEmulator, type PspEmulator, type PspEmulatorOptions } from '../../../psp-emulator/src';
import {
  isDecline,
  ProviderUnavailableError,
  WebhookSignatureError,
  type ProviderPayment,
  type ProviderResult,
} from './port';
import { ProviderRejectedError, StripeProvider } from './stripe-provider';

const SECRET = 'whsec_int_spec_secret';
const DAY = 24 * 3600;

interface Received {
  body: Buffer;
  signature: string | undefined;
}

class Receiver {
  readonly got: Received[] = [];
  private server!: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const sig = req.headers['stripe-signature'];
        this.got.push({ body: Buffer.concat(chunks), signature: typeof sig === 'string' ? sig : undefined });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/psp`;
  }
  events(): { id: string; type: string; created: number; data: { object: Record<string, unknown> } }[] {
    return this.got.map((g) => JSON.parse(g.body.toString('utf8')));
  }
  ofPayment(paymentRef: string) {
    return this.events().filter((e) => e.data.object.id === paymentRef || e.data.object.payment_intent === paymentRef);
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function authorized(r: ProviderResult<ProviderPayment>): ProviderPayment {
  if (isDecline(r)) throw new Error(`unexpected decline ${r.code}: ${r.message}`);
  return r;
}

describe('StripeProvider (official SDK) against the PSP emulator', () => {
  const receiver = new Receiver();
  let emulator: PspEmulator;
  let provider: StripeProvider;
  let seq = 0;
  const key = (what: string) => `${what}-${process.pid}-${++seq}`;

  async function start(extra: Partial<PspEmulatorOptions> = {}): Promise<PspEmulator> {
    return startPspEmulator({
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      webhookRetryBaseMs: 20,
      // one delivery at a time: the order the receiver sees is the order the emulator sent
      webhookConcurrency: 1,
      expirySweepMs: 0,
      ...extra,
    });
  }
  // generous: the machine running the suite may be loaded; only the timeout tests use a short one
  const providerFor = (em: PspEmulator, timeoutMs = 20_000) =>
    new StripeProvider({ apiKey: 'sk_test_emulator', webhookSecret: SECRET, apiUrl: em.url, timeoutMs });

  async function cardCustomer(pm = 'pm_card_visa'): Promise<{ customerRef: string; paymentMethodRef: string }> {
    const c = await provider.stripe.customers.create({ email: 'driver@example.test' });
    const m = await provider.stripe.paymentMethods.attach(pm, { customer: c.id });
    return { customerRef: c.id, paymentMethodRef: m.id };
  }
  async function hold(amountMinor: bigint, currency = 'EUR', pm = 'pm_card_visa', p = provider) {
    const intentId = key('auth');
    const card = await cardCustomer(pm);
    const r = await p.authorize({
      idempotencyKey: intentId,
      amountMinor,
      currency,
      ...card,
      metadata: { session_id: intentId },
    });
    return { intentId, r, card };
  }

  beforeAll(async () => {
    await receiver.start();
    emulator = await start();
    provider = providerFor(emulator);
  });
  afterAll(async () => {
    await emulator.close();
    await receiver.stop();
  });
  afterEach(() => emulator.faults.clear());

  describe('holds, captures, releases, refunds', () => {
    it('authorises a manual-capture hold and captures exactly the amount asked, once', async () => {
      const { r } = await hold(5000n);
      const held = authorized(r);
      expect(held).toMatchObject({
        status: 'authorized',
        currency: 'EUR',
        amountAuthorizedMinor: 5000n,
        amountCapturedMinor: 0n,
      });
      expect(held.paymentRef).toMatch(/^pi_/);
      // Stripe's 7-day hold for customer-initiated card payments
      const expires = Date.parse(held.holdExpiresAt!);
      expect(expires - Date.now()).toBeGreaterThan(6 * DAY * 1000);
      const cap = authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 4321n }),
      );
      expect(cap).toMatchObject({
        status: 'captured',
        amountCapturedMinor: 4321n,
        amountRefundedMinor: 0n,
        holdExpiresAt: null,
      });
      // 1.40 % + 25 of 4321, half up: 60.494 → 60, + 25
      expect(cap.feeMinor).toBe(85n);
      expect(emulator.summary(held.paymentRef)).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 4321 });
    });

    it('a capture below the hold releases the rest (not reported as a refund)', async () => {
      const held = authorized((await hold(10_000n)).r);
      const cap = authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 2500n }),
      );
      expect(cap).toMatchObject({
        status: 'captured',
        amountAuthorizedMinor: 10_000n,
        amountCapturedMinor: 2500n,
        amountRefundedMinor: 0n,
      });
      const again = await provider.retrieve(held.paymentRef);
      expect(again).toEqual(cap);
    });

    it('a capture above the hold is declined (amount_too_large) and captures nothing', async () => {
      const held = authorized((await hold(1000n)).r);
      const r = await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 1001n });
      expect(r).toMatchObject({ declined: true, code: 'amount_too_large' });
      expect(emulator.summary(held.paymentRef).captures).toBe(0);
    });

    it('cancel releases the hold; a later capture is refused', async () => {
      const held = authorized((await hold(3000n)).r);
      const c = authorized(await provider.cancel({ idempotencyKey: key('rel'), paymentRef: held.paymentRef }));
      expect(c).toMatchObject({ status: 'canceled', amountCapturedMinor: 0n });
      const cap = await provider.capture({
        idempotencyKey: key('cap'),
        paymentRef: held.paymentRef,
        amountMinor: 100n,
      });
      expect(cap).toMatchObject({ declined: true, code: 'payment_intent_unexpected_state' });
      expect(emulator.summary(held.paymentRef)).toMatchObject({ cancels: 1, captures: 0 });
    });

    it('a capture of zero releases the hold (Stripe refuses zero captures)', async () => {
      const held = authorized((await hold(3000n)).r);
      const c = authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 0n }),
      );
      expect(c.status).toBe('canceled');
      expect(emulator.summary(held.paymentRef)).toMatchObject({ cancels: 1, captures: 0 });
    });

    it('refunds part, then the rest; never more than was captured', async () => {
      const held = authorized((await hold(5000n)).r);
      authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 4000n }),
      );
      const r1 = await provider.refund({ idempotencyKey: key('ref'), paymentRef: held.paymentRef, amountMinor: 1500n });
      expect(r1).toMatchObject({ paymentRef: held.paymentRef, amountMinor: 1500n, status: 'succeeded' });
      const tooMuch = await provider.refund({
        idempotencyKey: key('ref'),
        paymentRef: held.paymentRef,
        amountMinor: 2501n,
      });
      expect(tooMuch).toMatchObject({ declined: true, code: 'amount_too_large' });
      await provider.refund({ idempotencyKey: key('ref'), paymentRef: held.paymentRef, amountMinor: 2500n });
      expect(await provider.retrieve(held.paymentRef)).toMatchObject({
        amountCapturedMinor: 4000n,
        amountRefundedMinor: 4000n,
      });
      expect(emulator.summary(held.paymentRef)).toMatchObject({ refunds: 2, refunded_minor: 4000 });
    });

    it('raises the hold (incremental authorisation) and captures above the first amount', async () => {
      const held = authorized((await hold(2000n)).r);
      const up = authorized(
        await provider.increaseAuthorization({
          idempotencyKey: key('inc'),
          paymentRef: held.paymentRef,
          newAmountMinor: 3500n,
        }),
      );
      expect(up).toMatchObject({ status: 'authorized', amountAuthorizedMinor: 3500n });
      const cap = authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 3400n }),
      );
      expect(cap.amountCapturedMinor).toBe(3400n);
      expect(emulator.summary(held.paymentRef)).toMatchObject({ increments: 1, captures: 1 });
    });

    it('zero- and three-decimal currencies travel in their minor units', async () => {
      const jpy = authorized((await hold(1500n, 'JPY')).r);
      expect(jpy).toMatchObject({ currency: 'JPY', amountAuthorizedMinor: 1500n });
      const kwd = authorized((await hold(12_345n, 'KWD')).r);
      expect(kwd).toMatchObject({ currency: 'KWD', amountAuthorizedMinor: 12_345n });
    });
  });

  describe('idempotency keys', () => {
    it('the same key twice: one payment, one capture', async () => {
      const card = await cardCustomer();
      const intentId = key('auth');
      const req = {
        idempotencyKey: intentId,
        amountMinor: 5000n,
        currency: 'EUR',
        ...card,
        metadata: { session_id: 's1' },
      };
      const a = authorized(await provider.authorize(req));
      const b = authorized(await provider.authorize(req));
      expect(b.paymentRef).toBe(a.paymentRef);
      const capKey = key('cap');
      const c1 = authorized(
        await provider.capture({ idempotencyKey: capKey, paymentRef: a.paymentRef, amountMinor: 4000n }),
      );
      const c2 = authorized(
        await provider.capture({ idempotencyKey: capKey, paymentRef: a.paymentRef, amountMinor: 4000n }),
      );
      expect(c2).toEqual(c1);
      expect(emulator.summary(a.paymentRef)).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 4000 });
      expect(emulator.ledger().filter((s) => s.metadata.intent_id === intentId)).toHaveLength(1);
    });

    it('the same key with other parameters is refused (not retriable), and nothing happens', async () => {
      const held = authorized((await hold(5000n)).r);
      const capKey = key('cap');
      authorized(await provider.capture({ idempotencyKey: capKey, paymentRef: held.paymentRef, amountMinor: 1000n }));
      const other = provider.capture({ idempotencyKey: capKey, paymentRef: held.paymentRef, amountMinor: 2000n });
      await expect(other).rejects.toBeInstanceOf(ProviderRejectedError);
      await expect(other).rejects.toMatchObject({ code: 'PSP_IDEMPOTENCY_CONFLICT', retriable: false });
      expect(emulator.summary(held.paymentRef)).toMatchObject({ captures: 1, captured_minor: 1000 });
    });

    it('a replayed decline stays a decline (the stored answer, not a new attempt)', async () => {
      const card = await cardCustomer('pm_card_chargeDeclined');
      const req = { idempotencyKey: key('auth'), amountMinor: 5000n, currency: 'EUR', ...card, metadata: {} };
      const a = await provider.authorize(req);
      const b = await provider.authorize(req);
      expect(a).toMatchObject({ declined: true, code: 'generic_decline' });
      expect(b).toEqual(a);
      expect(isDecline(a) && emulator.summary(a.paymentRef!).declines).toBe(1);
    });
  });

  describe('faults', () => {
    it('declines: test cards and the injected decline are results with the PSP code', async () => {
      expect((await hold(5000n, 'EUR', 'pm_card_chargeDeclined')).r).toMatchObject({
        declined: true,
        code: 'generic_decline',
      });
      expect((await hold(5000n, 'EUR', 'pm_card_chargeDeclinedInsufficientFunds')).r).toMatchObject({
        declined: true,
        code: 'insufficient_funds',
      });
      emulator.addFault({ kind: 'decline', declineCode: 'do_not_honor' });
      const d = (await hold(5000n)).r;
      expect(d).toMatchObject({ declined: true, code: 'do_not_honor' });
      expect(isDecline(d) && d.paymentRef).toMatch(/^pi_/);
      // the fault was used up: the next one goes through
      expect(authorized((await hold(5000n)).r).status).toBe('authorized');
    });

    it('a declined increase leaves the hold as it was', async () => {
      const held = authorized((await hold(2000n)).r);
      emulator.addFault({ kind: 'decline', operations: ['increment_authorization'] });
      const up = await provider.increaseAuthorization({
        idempotencyKey: key('inc'),
        paymentRef: held.paymentRef,
        newAmountMinor: 9000n,
      });
      expect(up).toMatchObject({ declined: true, code: 'generic_decline' });
      expect(await provider.retrieve(held.paymentRef)).toMatchObject({
        status: 'authorized',
        amountAuthorizedMinor: 2000n,
      });
    });

    it('timeout after a successful authorisation: unavailable, findByIntent shows the hold, the retry with the same key does not authorise twice', async () => {
      const impatient = providerFor(emulator, 400);
      const card = await cardCustomer();
      const intentId = key('auth');
      const req = { idempotencyKey: intentId, amountMinor: 6000n, currency: 'EUR', ...card, metadata: {} };
      emulator.addFault({ kind: 'timeout_after_success', delayMs: 30_000, operations: ['create_payment_intent'] });
      await expect(impatient.authorize(req)).rejects.toBeInstanceOf(ProviderUnavailableError);
      const found = await provider.findByIntent(intentId);
      expect(found).toMatchObject({ status: 'authorized', amountAuthorizedMinor: 6000n });
      const retried = authorized(await provider.authorize(req));
      expect(retried.paymentRef).toBe(found!.paymentRef);
      expect(emulator.summary(retried.paymentRef).authorizations).toBe(1);
      expect(await provider.findByIntent(key('never-sent'))).toBeNull();
    });

    it('timeout after a successful capture: unavailable, retrieve shows it captured, the retry does not charge twice', async () => {
      const held = authorized((await hold(5000n)).r);
      const impatient = providerFor(emulator, 400);
      const capKey = key('cap');
      emulator.addFault({ kind: 'timeout_after_success', delayMs: 30_000, operations: ['capture'] });
      await expect(
        impatient.capture({ idempotencyKey: capKey, paymentRef: held.paymentRef, amountMinor: 4200n }),
      ).rejects.toBeInstanceOf(ProviderUnavailableError);
      expect(await provider.retrieve(held.paymentRef)).toMatchObject({
        status: 'captured',
        amountCapturedMinor: 4200n,
      });
      const again = authorized(
        await provider.capture({ idempotencyKey: capKey, paymentRef: held.paymentRef, amountMinor: 4200n }),
      );
      expect(again.amountCapturedMinor).toBe(4200n);
      expect(emulator.summary(held.paymentRef)).toMatchObject({ captures: 1, captured_minor: 4200 });
    });

    it('connection dropped after a refund: the SDK retries once with the same key and gets the stored answer; dropped twice it is unavailable', async () => {
      const held = authorized((await hold(5000n)).r);
      authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 5000n }),
      );
      emulator.addFault({ kind: 'timeout_after_success', mode: 'drop', operations: ['refund'] });
      const r1 = await provider.refund({ idempotencyKey: key('ref'), paymentRef: held.paymentRef, amountMinor: 1000n });
      expect(r1).toMatchObject({ amountMinor: 1000n, status: 'succeeded' });
      emulator.addFault({ kind: 'timeout_after_success', mode: 'drop', count: 2, operations: ['refund'] });
      const refKey = key('ref');
      await expect(
        provider.refund({ idempotencyKey: refKey, paymentRef: held.paymentRef, amountMinor: 500n }),
      ).rejects.toBeInstanceOf(ProviderUnavailableError);
      expect(await provider.retrieve(held.paymentRef)).toMatchObject({ amountRefundedMinor: 1500n });
      expect(
        await provider.refund({ idempotencyKey: refKey, paymentRef: held.paymentRef, amountMinor: 500n }),
      ).toMatchObject({ amountMinor: 500n });
      expect(emulator.summary(held.paymentRef)).toMatchObject({ refunds: 2, refunded_minor: 1500 });
    });

    it('a 5xx before anything happened is unavailable; the retry with the same key then succeeds once', async () => {
      const held = authorized((await hold(5000n)).r);
      emulator.addFault({ kind: 'server_error', operations: ['capture'] });
      const capKey = key('cap');
      await expect(
        provider.capture({ idempotencyKey: capKey, paymentRef: held.paymentRef, amountMinor: 100n }),
      ).rejects.toBeInstanceOf(ProviderUnavailableError);
      expect(await provider.retrieve(held.paymentRef)).toMatchObject({ status: 'authorized' });
      authorized(await provider.capture({ idempotencyKey: capKey, paymentRef: held.paymentRef, amountMinor: 100n }));
      expect(emulator.summary(held.paymentRef).captures).toBe(1);
    });

    it('partial capture: the PSP captures less than asked and says so', async () => {
      const held = authorized((await hold(8000n)).r);
      emulator.addFault({ kind: 'partial_capture', percent: 25 });
      const cap = authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 6000n }),
      );
      expect(cap).toMatchObject({ status: 'captured', amountCapturedMinor: 1500n, amountRefundedMinor: 0n });
    });

    it('hold expiry: after 7 days the hold lapses (canceled, automatic) with a webhook; capture is then refused', async () => {
      const em = await start();
      const p = providerFor(em);
      try {
        const c = await p.stripe.customers.create({});
        const held = authorized(
          await p.authorize({
            idempotencyKey: key('auth'),
            amountMinor: 4000n,
            currency: 'EUR',
            customerRef: c.id,
            paymentMethodRef: 'pm_card_visa',
            metadata: {},
          }),
        );
        em.advanceClock(6 * DAY);
        expect((await p.retrieve(held.paymentRef)).status).toBe('authorized');
        em.advanceClock(DAY);
        expect(await p.retrieve(held.paymentRef)).toMatchObject({ status: 'canceled', amountCapturedMinor: 0n });
        expect(em.summary(held.paymentRef)).toMatchObject({ expiries: 1, captures: 0 });
        const cap = await p.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 100n });
        expect(cap).toMatchObject({ declined: true, code: 'payment_intent_unexpected_state' });
        const ev = await waitFor(
          () => receiver.ofPayment(held.paymentRef).find((e) => e.type === 'payment_intent.canceled'),
          {
            what: 'payment_intent.canceled webhook',
          },
        );
        expect(ev.data.object.cancellation_reason).toBe('automatic');
      } finally {
        await em.close();
      }
    });

    it('faults, the clock and the ledger over the admin HTTP API (as a test driving the emulator process would)', async () => {
      const admin = (path: string, method = 'GET', body?: unknown) =>
        fetch(`${emulator.url}/_emulator${path}`, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      expect((await admin('/faults', 'POST', { kind: 'meteor' })).status).toBe(400);
      const added = await admin('/faults', 'POST', { kind: 'decline', declineCode: 'insufficient_funds' });
      expect(added.status).toBe(200);
      expect(((await (await admin('/faults')).json()) as { data: unknown[] }).data).toHaveLength(1);
      const { intentId, r } = await hold(5000n);
      expect(r).toMatchObject({ declined: true, code: 'insufficient_funds' });
      const held = authorized((await hold(5000n)).r);
      const ledger = (await (await admin(`/ledger?intent_id=${intentId}`)).json()) as {
        data: { declines: number; authorizations: number }[];
      };
      expect(ledger.data).toEqual([expect.objectContaining({ declines: 1, authorizations: 0 })]);
      const clock = (await (await admin('/clock/advance', 'POST', { seconds: 8 * DAY })).json()) as {
        expired: string[];
      };
      expect(clock.expired).toContain(held.paymentRef);
      expect((await provider.retrieve(held.paymentRef)).status).toBe('canceled');
    });

    it('hold expiry on demand through the admin API', async () => {
      const held = authorized((await hold(4000n)).r);
      const res = await fetch(`${emulator.url}/_emulator/payment_intents/${held.paymentRef}/expire`, {
        method: 'POST',
      });
      expect(res.status).toBe(200);
      expect((await provider.retrieve(held.paymentRef)).status).toBe('canceled');
      const summary = (await (await fetch(`${emulator.url}/_emulator/payment_intents/${held.paymentRef}`)).json()) as {
        expiries: number;
      };
      expect(summary.expiries).toBe(1);
    });
  });

  describe('webhooks', () => {
    it('verifies the signature and maps the payment; a tampered body, a wrong secret or no header is refused', async () => {
      const held = authorized((await hold(5000n)).r);
      authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 4500n }),
      );
      const hit = await waitFor(
        () =>
          receiver.got.find(
            (g) =>
              g.body.toString().includes(held.paymentRef) && g.body.toString().includes('payment_intent.succeeded'),
          ),
        { what: 'payment_intent.succeeded' },
      );
      const ev = provider.parseWebhook(hit.body, hit.signature);
      expect(ev).toMatchObject({ type: 'payment_intent.succeeded', payout: null });
      expect(ev.eventId).toMatch(/^evt_/);
      expect(ev.payment).toMatchObject({ paymentRef: held.paymentRef, status: 'captured', amountCapturedMinor: 4500n });
      const tampered = Buffer.from(hit.body.toString().replace('"amount_received":4500', '"amount_received":450'));
      expect(tampered.equals(hit.body)).toBe(false);
      expect(() => provider.parseWebhook(tampered, hit.signature)).toThrow(WebhookSignatureError);
      const wrong = new StripeProvider({
        apiKey: 'sk_test_x',
        webhookSecret: 'whsec_someone_else',
        apiUrl: emulator.url,
      });
      expect(() => wrong.parseWebhook(hit.body, hit.signature)).toThrow(WebhookSignatureError);
      expect(() => provider.parseWebhook(hit.body, undefined)).toThrow(WebhookSignatureError);
    });

    it('duplicate delivery: the same event id arrives twice', async () => {
      const held = authorized((await hold(5000n)).r);
      await emulator.webhooksIdle();
      emulator.addFault({ kind: 'duplicate_webhook', times: 2 });
      authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 5000n }),
      );
      const copies = await waitFor(
        () => {
          const c = receiver.ofPayment(held.paymentRef).filter((e) => e.type === 'payment_intent.succeeded');
          return c.length >= 2 && c;
        },
        { what: 'two deliveries' },
      );
      expect(new Set(copies.map((e) => e.id)).size).toBe(1);
      expect(emulator.summary(held.paymentRef).captures).toBe(1);
    });

    it('out-of-order delivery: the later event arrives first; `created` still orders them', async () => {
      await emulator.webhooksIdle();
      emulator.addFault({ kind: 'out_of_order_webhooks', count: 2 });
      const held = authorized((await hold(5000n)).r);
      authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: held.paymentRef, amountMinor: 5000n }),
      );
      const got = await waitFor(
        () => {
          const e = receiver.ofPayment(held.paymentRef);
          return e.length >= 2 && e;
        },
        { what: 'both webhooks' },
      );
      expect(got.map((e) => e.type)).toEqual(['payment_intent.succeeded', 'payment_intent.amount_capturable_updated']);
      const parsed = receiver.got
        .filter((g) => g.body.toString().includes(held.paymentRef))
        .map((g) => provider.parseWebhook(g.body, g.signature));
      expect(parsed[0].created).toBeGreaterThanOrEqual(parsed[1].created);
    });
  });

  describe('hosted payment page (ad-hoc)', () => {
    it('creates a page, the payer pays with a test card, the hold is in place; double submits do not pay twice', async () => {
      const intentId = key('adhoc');
      const page = await provider.createHostedPayment({
        idempotencyKey: intentId,
        amountMinor: 5000n,
        currency: 'EUR',
        returnUrl: 'http://csms.test/pay/EVSE-1/return?session={CHECKOUT_SESSION_ID}',
        metadata: { evse: 'EVSE-1' },
      });
      expect(page.url.startsWith(emulator.url)).toBe(true);
      expect((await provider.retrieve(page.paymentRef)).status).toBe('pending');
      const html = await (await fetch(page.url)).text();
      expect(html).toContain('50.00 EUR');
      const sessionId = page.url.split('/').pop()!;
      const pay = (card: string) =>
        fetch(`${emulator.url}/checkout/${sessionId}/pay`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `card_number=${encodeURIComponent(card)}`,
          redirect: 'manual',
        });
      const declined = await pay('4000 0000 0000 0002');
      expect(declined.status).toBe(402);
      expect(await declined.text()).toContain('declined');
      const ok = await pay('4242 4242 4242 4242');
      expect(ok.status).toBe(303);
      expect(ok.headers.get('location')).toBe(`http://csms.test/pay/EVSE-1/return?session=${sessionId}`);
      const twice = await pay('4242 4242 4242 4242');
      expect(twice.headers.get('location')).toBe(ok.headers.get('location'));
      const held = await provider.retrieve(page.paymentRef);
      expect(held).toMatchObject({ status: 'authorized', amountAuthorizedMinor: 5000n });
      expect(await provider.findByIntent(intentId)).toEqual(held);
      expect(emulator.summary(page.paymentRef)).toMatchObject({ authorizations: 1, declines: 1 });
      const done = await waitFor(
        () =>
          receiver.got.find(
            (g) => g.body.toString().includes('checkout.session.completed') && g.body.toString().includes(sessionId),
          ),
        { what: 'checkout.session.completed' },
      );
      expect(provider.parseWebhook(done.body, done.signature).payment).toMatchObject({
        paymentRef: page.paymentRef,
        status: 'authorized',
        amountAuthorizedMinor: 5000n,
      });
      // the same idempotency key gives the same page
      const same = await provider.createHostedPayment({
        idempotencyKey: intentId,
        amountMinor: 5000n,
        currency: 'EUR',
        returnUrl: 'http://csms.test/pay/EVSE-1/return?session={CHECKOUT_SESSION_ID}',
        metadata: { evse: 'EVSE-1' },
      });
      expect(same).toEqual(page);
      const cap = authorized(
        await provider.capture({ idempotencyKey: key('cap'), paymentRef: page.paymentRef, amountMinor: 1234n }),
      );
      expect(cap.amountCapturedMinor).toBe(1234n);
    });
  });

  describe('payouts', () => {
    it('a payout webhook carries the net amount and the fees; the balance transactions agree', async () => {
      const em = await start({ feeBps: 100, feeFixedMinor: 10 });
      const p = providerFor(em);
      try {
        const c = await p.stripe.customers.create({});
        for (const amount of [1000n, 2000n]) {
          const h = authorized(
            await p.authorize({
              idempotencyKey: key('auth'),
              amountMinor: amount,
              currency: 'EUR',
              customerRef: c.id,
              paymentMethodRef: 'pm_card_visa',
              metadata: {},
            }),
          );
          authorized(await p.capture({ idempotencyKey: key('cap'), paymentRef: h.paymentRef, amountMinor: amount }));
        }
        const res = await fetch(`${em.url}/_emulator/payouts`, { method: 'POST', body: '{"currency":"eur"}' });
        const { data } = (await res.json()) as { data: { id: string }[] };
        expect(data).toHaveLength(1);
        const hit = await waitFor(
          () =>
            receiver.got.find(
              (g) => g.body.toString().includes('"payout.paid"') && g.body.toString().includes(data[0].id),
            ),
          { what: 'payout.paid' },
        );
        const ev = p.parseWebhook(hit.body, hit.signature);
        // fees: 1 % + 10 of 1000 and of 2000 = 20 + 30
        expect(ev.payout).toMatchObject({ payoutRef: data[0].id, currency: 'EUR', amountMinor: 2950n, feeMinor: 50n });
        expect(await p.payoutFees(data[0].id)).toBe(50n);
      } finally {
        await em.close();
      }
    });
  });

  describe('state file', () => {
    it('a restarted emulator keeps payments, counts and stored answers', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'psp-emulator-'));
      const stateFile = join(dir, 'state.jsonl');
      try {
        let em = await start({ stateFile });
        let p = providerFor(em);
        const c = await p.stripe.customers.create({});
        const held = authorized(
          await p.authorize({
            idempotencyKey: key('auth'),
            amountMinor: 4000n,
            currency: 'EUR',
            customerRef: c.id,
            paymentMethodRef: 'pm_card_visa',
            metadata: {},
          }),
        );
        const capKey = key('cap');
        const first = authorized(
          await p.capture({ idempotencyKey: capKey, paymentRef: held.paymentRef, amountMinor: 3000n }),
        );
        await em.close();
        em = await start({ stateFile });
        p = providerFor(em);
        try {
          expect(await p.retrieve(held.paymentRef)).toEqual(first);
          expect(
            authorized(await p.capture({ idempotencyKey: capKey, paymentRef: held.paymentRef, amountMinor: 3000n })),
          ).toEqual(first);
          expect(em.summary(held.paymentRef)).toMatchObject({ authorizations: 1, captures: 1 });
        } finally {
          await em.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
