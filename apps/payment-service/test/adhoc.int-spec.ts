/**
 * Ad-hoc (QR) payment through the payment service (in process) on real Kafka and PostgreSQL, with the PSP emulator
 * (its hosted page paid by an HTTP form post, as a browser does) and a stub of the tariff service's resolve endpoint
 * (the real one is exercised by test/e2e/adhoc-payment.int-spec.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  OcppCommandCompletedV1,
  deriveId,
  systemCatalogue,
  type Envelope,
  type OcpiTariffDocument,
} from '@csms/contracts';
import { adhocAccountId } from '@csms/payments';
import { TopicCollector, waitFor } from '@csms/testing';
import { silentLogger } from '@csms/platform';
import { rebuildPaymentService } from '../src/rebuild';
import { PaymentHarness, type Json } from './harness';

const tariff: OcpiTariffDocument = {
  id: 'ADHOC-AC',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 0.5, vat: 21, step_size: 1 },
        { type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 },
        { type: 'PARKING_TIME', price: 6, vat: 21, step_size: 60 },
      ],
    },
  ],
};

interface Page {
  status: number;
  text: string;
  location: string | null;
  cookie: string | null;
}

describe('ad-hoc (QR) payment: start page, hosted payment, remote start, exact capture, receipt; unused holds released', () => {
  const h = new PaymentHarness();
  let stub: Server;
  let tokens: TopicCollector;
  const catalogue = systemCatalogue();

  beforeAll(async () => {
    // the tariff service's resolve endpoint: EVSEs 1-3 of CP-QR-* are known, others are not
    stub = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const station = u.searchParams.get('stationId') ?? '';
      const evse = Number(u.searchParams.get('evseId'));
      const known = station.startsWith('CP-QR-') && evse >= 1 && evse <= 3;
      if (
        req.headers.authorization !== 'Bearer tariff-key-123' ||
        u.pathname !== '/api/v1/tariff-assignments/resolve'
      ) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          known
            ? {
                stationId: station,
                evseId: evse,
                stationKnown: true,
                evseKnown: true,
                level: 'station',
                tariffId: tariff.id,
                version: 1,
                tariff,
              }
            : { code: 'TARIFF_NOT_RESOLVED' },
        ),
      );
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    await h.start({
      TARIFF_API_URL: `http://127.0.0.1:${(stub.address() as AddressInfo).port}`,
      TARIFF_API_KEY: 'tariff-key-123',
      PAYMENT_ADHOC_SCAN_MS: '100',
      PAYMENT_ADHOC_START_TIMEOUT_S: '120',
    });
    tokens = await new TopicCollector(h.kafka, [h.topics.tokens]).start();
  });

  afterAll(async () => {
    await tokens?.close();
    await h.stop();
    await new Promise((r) => stub?.close(r));
  });

  async function get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    const url = path.startsWith('http') ? path : `${h.svc.url}${path}`;
    const r = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html', ...headers } });
    return {
      status: r.status,
      text: await r.text(),
      location: r.headers.get('location'),
      cookie: r.headers.get('set-cookie'),
    };
  }
  async function post(url: string, form?: Record<string, string>): Promise<Page> {
    const r = await fetch(url.startsWith('http') ? url : `${h.svc.url}${url}`, {
      method: 'POST',
      redirect: 'manual',
      headers: form ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    return {
      status: r.status,
      text: await r.text(),
      location: r.headers.get('location'),
      cookie: r.headers.get('set-cookie'),
    };
  }
  const attr = (html: string, re: RegExp) => re.exec(html)?.[1];
  const statusOf = (html: string) => attr(html, /id="status"[^>]*data-status="([a-z_]+)"/);
  const unescape = (s: string) => s.replace(/&amp;/g, '&');

  /** Opens the start page, presses pay (twice: a double click), pays on the emulator's page; returns the payment. */
  async function payOn(stationId: string, evseId = 1) {
    const start = await get(`/pay/${stationId}/${evseId}`);
    expect(start.status).toBe(200);
    const action = unescape(attr(start.text, /<form method="post" action="([^"]+)"/)!);
    const [first, second] = await Promise.all([post(action), post(action)]);
    // a double click: one payment, one hosted page (the second may land on the status page while the first is in flight)
    const paymentId = /adhoc_payment=([0-9a-f-]{36})/.exec(first.cookie ?? '')![1];
    expect(/adhoc_payment=([0-9a-f-]{36})/.exec(second.cookie ?? '')![1]).toBe(paymentId);
    expect([first.status, second.status]).toEqual([303, 303]);
    const again = await post(action);
    const checkoutUrl = [first.location, second.location, again.location].find((l) => l?.includes('/checkout/'))!;
    expect(checkoutUrl).toMatch(/\/checkout\/cs_/);
    expect(again.location).toBe(checkoutUrl);
    const page = await get(checkoutUrl);
    expect(page.text).toContain('50.00 EUR');
    const paid = await post(`${checkoutUrl}/pay`, { card_number: '4242 4242 4242 4242' });
    expect(paid.status).toBe(303);
    expect(paid.location).toBe(`${h.svc.url}/pay/${stationId}/${evseId}/payments/${paymentId}`);
    return { paymentId, accountId: adhocAccountId(paymentId), statusUrl: paid.location!, action };
  }

  const commandsTo = (stationId: string) =>
    h.commands.records
      .map((r) => JSON.parse(r.value!) as Envelope<Json>)
      .filter(
        (e) => e.type === 'ocpp.command_requested' && (e.payload as { stationId: string }).stationId === stationId,
      );
  const tokenRecords = (accountId: string) =>
    tokens.records
      .map((r) => JSON.parse(r.value!) as Envelope<Json>)
      .filter((e) => (e.payload as { billingAccountId: string }).billingAccountId === accountId);
  const eventsOf = (accountId: string, type: string) =>
    h.query<{ payload: Json }>('select payload from payment_events where account_id = $1 and type = $2 order by seq', [
      accountId,
      type,
    ]);

  it('start page (tariff in words, hold), QR codes, pay on the hosted page, remote start with a one-time token, exact capture, receipt', async () => {
    const start = await get('/pay/CP-QR-1/1');
    expect(start.text).toContain('Start fee: 0.50 EUR + 21 % VAT = 0.605 EUR');
    expect(start.text).toContain('Energy: 0.35 EUR per kWh + 21 % VAT = 0.4235 EUR');
    expect(start.text).toContain('Parking (idle) time: 6.00 EUR per hour');
    expect(attr(start.text, /id="hold" data-amount="([^"]+)"/)).toBe('50.00');
    const svg = await fetch(`${h.svc.url}/pay/CP-QR-1/1/qr.svg`);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await svg.text()).toMatch(/^<svg[^>]*viewBox/);
    const png = await fetch(`${h.svc.url}/pay/CP-QR-1/1/qr.png`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(0, 8)
        .toString('hex'),
    ).toBe('89504e470d0a1a0a');

    const { paymentId, accountId, statusUrl, action } = await payOn('CP-QR-1');
    // one account, one hosted hold, whatever the clicks
    expect((await eventsOf(accountId, 'payment.account_opened')).length).toBe(1);
    expect((await eventsOf(accountId, 'payment.authorization_requested')).length).toBe(1);
    const authorized = await waitFor(async () => (await eventsOf(accountId, 'payment.authorized'))[0]?.payload, {
      what: 'the hosted hold authorised',
      timeoutMs: 30_000,
    });
    expect(authorized).toMatchObject({ amountMinor: '5000', sessionId: null });

    // the remote start (1.6 by default: no session of this station seen yet) with the one-time token
    const cmd = await waitFor(() => commandsTo('CP-QR-1')[0], { what: 'the remote start', timeoutMs: 30_000 });
    expect(cmd.payload).toMatchObject({ action: 'RemoteStartTransaction', payload: { connectorId: 1 } });
    const token = (cmd.payload as { payload: { idTag: string } }).payload.idTag;
    expect(token).toMatch(/^QR[0-9A-F]{18}$/);
    const registered = await waitFor(() => tokenRecords(accountId)[0], { what: 'the one-time token registered' });
    expect(registered.payload).toMatchObject({ uid: token, status: 'Accepted', billingAccountId: accountId });
    expect(statusOf((await get(statusUrl)).text)).toBe('starting');

    // the station starts (its token maps to the ad-hoc account), charges, and its CDR comes
    const sessionId = deriveId('adhoc-it-session', paymentId);
    await h.sessionStarted({ sessionId, uid: token, stationId: 'CP-QR-1', transactionId: '7' });
    await waitFor(async () => statusOf((await get(statusUrl)).text) === 'charging', { what: 'charging' });
    await h.publishCdr(
      h.cdr({ cdrId: `CDR-${paymentId.slice(0, 8)}`, sessionId, accountId, excl: '7.00', incl: '8.47' }),
    );
    const captured = await h.waitForEvent(sessionId, 'payment.captured');
    expect(captured).toMatchObject({ amountMinor: '847' });
    await h.settled();
    const psp = h.emulator.summary(authorized.paymentRef as string);
    expect(psp).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 847 });
    // the token is spent: registered again as Expired
    await waitFor(() => tokenRecords(accountId).some((e) => (e.payload as Json).status === 'Expired'), {
      what: 'the token expired',
    });

    const receipt = (await get(statusUrl)).text;
    expect(statusOf(receipt)).toBe('completed');
    expect(attr(receipt, /id="total">([^<]+)</)).toBe('8.47 EUR');
    expect(attr(receipt, /id="total-excl">([^<]+)</)).toBe('7.00 EUR');
    expect(attr(receipt, /id="vat">([^<]+)</)).toBe('1.47 EUR');
    expect(attr(receipt, /id="captured">([^<]+)</)).toBe('8.47 EUR');
    expect(attr(receipt, /id="energy">([^<]+)</)).toMatch(/^[0-9.]+ kWh$/);
    expect(attr(receipt, /id="start">([^<]+)</)).toMatch(/^\d{4}-\d\d-\d\dT/);
    // the same link afterwards: a reload of the form is the same payment (its status), the start page links it
    const reload = await post(action);
    expect(reload.location).toBe(`/pay/CP-QR-1/1/payments/${paymentId}`);
    const back = await get('/pay/CP-QR-1/1', { cookie: `adhoc_payment=${paymentId}` });
    expect(attr(back.text, /id="last-payment" href="([^"]+)"/)).toBe(`/pay/CP-QR-1/1/payments/${paymentId}`);
    expect(commandsTo('CP-QR-1')).toHaveLength(1);
    await h.checkBooks();
  });

  it('a station that never starts: the hold is released after the start timeout, nothing captured, the token expired', async () => {
    const { accountId, statusUrl } = await payOn('CP-QR-2');
    const authorized = await waitFor(async () => (await eventsOf(accountId, 'payment.authorized'))[0]?.payload, {
      what: 'authorised',
      timeoutMs: 30_000,
    });
    await waitFor(() => commandsTo('CP-QR-2')[0], { what: 'the remote start' });
    expect(statusOf((await get(statusUrl)).text)).toBe('starting');
    // the service's clock passes the start timeout (120 s) with no session
    h.clockOffsetMs = 125_000;
    try {
      await waitFor(async () => (await eventsOf(accountId, 'payment.released')).length > 0, {
        what: 'the unused hold released',
        timeoutMs: 30_000,
      });
    } finally {
      h.clockOffsetMs = 0;
    }
    await h.settled();
    expect(h.emulator.summary(authorized.paymentRef as string)).toMatchObject({ cancels: 1, captures: 0 });
    expect(statusOf((await get(statusUrl)).text)).toBe('not_started');
    await waitFor(() => tokenRecords(accountId).some((e) => (e.payload as Json).status === 'Expired'), {
      what: 'the token expired',
    });
    expect((await eventsOf(accountId, 'payment.release_requested')).length).toBe(1);
    await h.checkBooks();
  });

  it('the station speaks the other OCPP version (not_supported → RequestStartTransaction), then refuses: released at once', async () => {
    const { accountId, statusUrl } = await payOn('CP-QR-3', 2);
    const first = await waitFor(() => commandsTo('CP-QR-3')[0], { what: 'the first remote start', timeoutMs: 30_000 });
    const result = (c: Envelope<Json>, status: 'not_supported' | 'rejected') =>
      catalogue.create(OcppCommandCompletedV1, {
        id: deriveId('test-result', c.id, status),
        key: 'CP-QR-3',
        occurredAt: new Date().toISOString(),
        source: 'test',
        payload: {
          commandId: (c.payload as { commandId: string }).commandId,
          stationId: 'CP-QR-3',
          action: (c.payload as { action: string }).action,
          status,
          protocol: 'ocpp2.0.1',
          response: status === 'rejected' ? { status: 'Rejected' } : null,
          errorCode: null,
          detail: null,
          completedAt: new Date().toISOString(),
          gatewayInstance: 'gw-test',
        },
      });
    await h.publish(h.topics.results, result(first, 'not_supported'));
    const second = await waitFor(() => commandsTo('CP-QR-3')[1], { what: 'the 2.0.1 start' });
    expect(second.payload).toMatchObject({
      action: 'RequestStartTransaction',
      payload: { evseId: 2, idToken: { type: 'Central' } },
    });
    await h.publish(h.topics.results, result(second, 'rejected'));
    await waitFor(async () => (await eventsOf(accountId, 'payment.released')).length > 0, {
      what: 'released after the refusal',
      timeoutMs: 30_000,
    });
    expect(statusOf((await get(statusUrl)).text)).toBe('not_started');
    // a result delivered again decides nothing more
    await h.publish(h.topics.results, result(second, 'rejected'));
    await h.settled();
    expect((await eventsOf(accountId, 'payment.release_requested')).length).toBe(1);
    expect(commandsTo('CP-QR-3')).toHaveLength(2);
  });

  it('no webhook comes: the driver returning to the status page reads the hold back from the PSP; late webhooks change nothing', async () => {
    // every webhook held back until flushed
    h.emulator.addFault({ kind: 'out_of_order_webhooks', count: 1000 });
    let accountId = '';
    try {
      const paid = await payOn('CP-QR-4');
      accountId = paid.accountId;
      expect(statusOf((await get(paid.statusUrl)).text)).toBe('starting');
      expect(await eventsOf(accountId, 'payment.authorized')).toHaveLength(1);
      await waitFor(() => commandsTo('CP-QR-4')[0], { what: 'the remote start' });
    } finally {
      await fetch(`${h.emulator.url}/_emulator/webhooks/flush`, { method: 'POST' });
      await fetch(`${h.emulator.url}/_emulator/faults`, { method: 'DELETE' });
    }
    await h.settled();
    expect(await eventsOf(accountId, 'payment.authorized')).toHaveLength(1);
    expect(commandsTo('CP-QR-4')).toHaveLength(1);
  });

  it('refuses bad addresses with a stable code and the field, and stores nothing', async () => {
    const before = await h.query<{ n: string }>('select count(*)::text as n from adhoc_payments');
    const problem = async (method: 'GET' | 'POST', path: string) => {
      const r = await fetch(`${h.svc.url}${path}`, { method, redirect: 'manual' });
      return { status: r.status, type: r.headers.get('content-type'), body: (await r.json()) as Json };
    };
    expect(await problem('GET', '/pay/CP-QR-1/0')).toMatchObject({
      status: 400,
      type: expect.stringMatching(/^application\/problem\+json/),
      body: { code: 'PAY_INVALID_EVSE', field: 'path/evseId' },
    });
    expect((await problem('GET', `/pay/${'S'.repeat(49)}/1`)).body).toMatchObject({ field: 'path/stationId' });
    expect(await problem('GET', '/pay/CP-OTHER/1')).toMatchObject({ status: 404, body: { code: 'PAY_EVSE_UNKNOWN' } });
    expect((await problem('POST', '/pay/CP-QR-1/1')).body).toMatchObject({ field: 'query/attempt' });
    expect((await problem('POST', '/pay/CP-QR-1/1?attempt=x')).body).toMatchObject({ code: 'PAY_INVALID_ATTEMPT' });
    expect((await problem('GET', '/pay/CP-QR-1/1?x=1')).body).toMatchObject({ field: 'query/x' });
    expect((await problem('GET', '/pay/CP-QR-1/1/payments/0b2c7c9e-5f43-4a8e-9d55-3f1f6c3a2b10')).body).toMatchObject({
      code: 'PAY_PAYMENT_NOT_FOUND',
    });
    const html = await get('/pay/CP-QR-1/0');
    expect(html.status).toBe(400);
    expect(html.text).toContain('data-code="PAY_INVALID_EVSE"');
    expect(await h.query<{ n: string }>('select count(*)::text as n from adhoc_payments')).toEqual(before);
  });
  it('rebuild: the ad-hoc payments, their remote starts, receipts and status pages come back from the topics', async () => {
    await h.settled();
    const rows = async () => ({
      payments: await h.query(
        `select payment_id, station_id, evse_id, currency, hold_minor::text, payment_ref, created_at
           from adhoc_payments order by payment_id`,
      ),
      starts: await h.query(
        `select payment_id, account_id, hold_id, token, station_id, evse_id, released, token_expired
           from adhoc_starts order by payment_id`,
      ),
      receipts: await h.query(
        'select cdr_id, payment_id, total_incl_vat, start_at from adhoc_receipts order by cdr_id',
      ),
    });
    const pages = async (ps: Json[]) =>
      Promise.all(
        ps.map(async (p) => {
          const page = await get(`/pay/${String(p.station_id)}/${String(p.evse_id)}/payments/${String(p.payment_id)}`);
          // the page less the hosted page's link (not on the topic: asked again with the same key at the next click)
          return {
            status: page.status,
            stage: statusOf(page.text),
            text: page.text.replace(/href="[^"]*checkout[^"]*"/g, ''),
          };
        }),
      );
    const before = await rows();
    const pagesBefore = await pages(before.payments);
    // the payments of the tests above: captured with a receipt, never started, refused after not_supported, starting
    expect(before.payments.length).toBeGreaterThanOrEqual(4);
    expect(before.starts.length).toBeGreaterThanOrEqual(4);
    expect(before.receipts.length).toBeGreaterThanOrEqual(1);
    expect(new Set(pagesBefore.map((p) => p.stage))).toEqual(new Set(['completed', 'not_started', 'starting']));
    await h.svc.stop();
    // drops the database and refolds it from payment.events
    const { events } = await rebuildPaymentService(h.cfg, silentLogger());
    expect(events).toBeGreaterThan(0);
    await h.startService();
    // the receipts come back with the recording group's replay of billing.events
    await waitFor(async () => (await rows()).receipts.length === before.receipts.length || undefined, {
      what: 'the receipts refolded',
    });
    await h.settled();
    expect(await rows()).toEqual(before);
    expect(await pages(before.payments)).toEqual(pagesBefore);
  }, 240_000);
});
