/**
 * Ad-hoc (QR) payment end to end, every service its own process on the real Kafka and PostgreSQL, the PSP emulator
 * in this process, OCPP 1.6 chargers played by ocpp-rpc clients: a driver opens an EVSE's start URL (the tariff
 * comes from the tariff service), pays on the emulator's hosted page (an HTTP form post, as a browser sends it),
 * the charger receives RemoteStartTransaction with a one-time token the gateway accepts, charges, and the CDR's
 * total is captured exactly on the `adhoc:<paymentId>` payment; the receipt page shows it, and the token is
 * refused afterwards. An OCPP 2.0.1 charger never seen before: the 1.6 start is `not_supported` at the gateway, the
 * payment service sends RequestStartTransaction, the charger's TransactionEvent with the token is accepted and its
 * CDR captured. A charger that accepts the remote start but never starts: the hold is released.
 */
import type { RPCClient } from 'ocpp-rpc';
import { uniqueName, waitFor } from '@csms/testing';
import type { PspEmulator } from '../../apps/psp-emulator/src';
import {
  chargeTwelveKwh16,
  plainTariff,
  publishTariffForSite,
  registerStation,
  startSystem,
  stationClient,
  type Json,
  type RunningSystem,
} from './system';

const PASSWORD = 'e2e-adhoc-station-password';

const EVSES = [
  {
    evseId: 1,
    connectors: [{ connectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', power_type: 'AC_3_PHASE' }],
  },
];

interface Page {
  status: number;
  text: string;
  location: string | null;
}

describe('ad-hoc (QR) payment end to end: start URL, hosted page, remote start, exact capture, receipt; a charger that never starts', () => {
  const clients: RPCClient[] = [];
  let sys: RunningSystem;
  let emulator: PspEmulator;

  beforeAll(async () => {
    sys = await startSystem({
      label: 'e2eqr',
      services: ['ocpp-gateway', 'session-service', 'tariff-service', 'payment-service'],
      env: ({ ports, keys }) => ({
        'payment-service': {
          TARIFF_API_URL: `http://127.0.0.1:${ports['tariff-service']}`,
          TARIFF_API_KEY: keys.admin,
          PAYMENT_ADHOC_START_TIMEOUT_S: '10',
          PAYMENT_ADHOC_SCAN_MS: '500',
        },
      }),
    });
    emulator = sys.psp;
  }, 400_000);

  afterAll(async () => {
    for (const c of clients) await c.close({ force: true }).catch(() => undefined);
    await sys?.stop('SIGTERM');
  }, 120_000);

  const api = <T = Json>(service: Parameters<RunningSystem['api']>[0], method: string, path: string, body?: unknown) =>
    sys.api<T>(service, method, path, body);
  /** A browser: no API key, HTML, redirects seen one by one. */
  const browse = async (url: string, method = 'GET', form?: Record<string, string>): Promise<Page> => {
    const r = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { accept: 'text/html', ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    return { status: r.status, text: await r.text(), location: r.headers.get('location') };
  };
  const pay = () => sys.urls['payment-service'];
  const attr = (html: string, re: RegExp) => re.exec(html)?.[1];
  const statusOf = (html: string) => attr(html, /id="status"[^>]*data-status="([a-z_]+)"/);

  async function station(
    stationId: string,
    onRemoteStart: (idTag: string, cp: RPCClient, remoteStartId?: number) => void,
    protocol: 'ocpp1.6' | 'ocpp2.0.1' = 'ocpp1.6',
  ) {
    await registerStation(sys, stationId, { password: PASSWORD, siteId: 'site-e2eqr', evses: EVSES });
    const cp = stationClient(sys, stationId, PASSWORD, protocol);
    clients.push(cp);
    if (protocol === 'ocpp1.6')
      cp.handle('RemoteStartTransaction', async ({ params }) => {
        const p = params as { connectorId: number; idTag: string };
        expect(p.connectorId).toBe(1);
        // the station answers first, then acts (as a real one does)
        setImmediate(() => onRemoteStart(p.idTag, cp));
        return { status: 'Accepted' };
      });
    else
      cp.handle('RequestStartTransaction', async ({ params }) => {
        const p = params as { evseId: number; remoteStartId: number; idToken: { idToken: string; type: string } };
        expect(p.evseId).toBe(1);
        expect(p.idToken.type).toBe('Central');
        setImmediate(() => onRemoteStart(p.idToken.idToken, cp, p.remoteStartId));
        return { status: 'Accepted' };
      });
    await waitFor(async () => (await fetch(`${sys.urls['ocpp-gateway']}/health/ready`)).status === 200, {
      what: 'gateway ready',
    });
    await cp.connect();
    const boot =
      protocol === 'ocpp1.6'
        ? { chargePointVendor: 'Acme', chargePointModel: 'AC22' }
        : { reason: 'PowerUp', chargingStation: { model: 'AC22', vendorName: 'Acme' } };
    expect(await cp.call('BootNotification', boot)).toMatchObject({ status: 'Accepted' });
    return cp;
  }

  /** The driver: the start URL (once the tariff service knows the station), pay (a double click), the hosted page. */
  async function driverPays(stationId: string) {
    const startUrl = `${pay()}/pay/${stationId}/1`;
    const start = await waitFor(
      async () => {
        const p = await browse(startUrl);
        return p.status === 200 ? p : undefined;
      },
      { what: `the start page of ${stationId}`, timeoutMs: 60_000 },
    );
    expect(start.text).toContain('Energy: 0.25 EUR per kWh + 21 % VAT = 0.3025 EUR');
    expect(start.text).toContain('Start fee: 1.00 EUR + 21 % VAT = 1.21 EUR');
    expect(attr(start.text, /id="hold" data-amount="([^"]+)"/)).toBe('50.00');
    const qr = await fetch(`${startUrl}/qr.png`);
    expect(qr.headers.get('content-type')).toBe('image/png');
    const action = attr(start.text, /<form method="post" action="([^"]+)"/)!.replace(/&amp;/g, '&');
    const clicks = await Promise.all([browse(`${pay()}${action}`, 'POST'), browse(`${pay()}${action}`, 'POST')]);
    expect(clicks.map((c) => c.status)).toEqual([303, 303]);
    const checkout =
      clicks.map((c) => c.location).find((l) => l?.includes('/checkout/')) ??
      (await browse(`${pay()}${action}`, 'POST')).location!;
    expect(checkout).toContain(emulator.url);
    const page = await browse(checkout);
    expect(page.text).toContain('50.00 EUR');
    const paid = await browse(`${checkout}/pay`, 'POST', { card_number: '4242 4242 4242 4242' });
    expect(paid.status).toBe(303);
    expect(paid.location).toMatch(new RegExp(`/pay/${stationId}/1/payments/[0-9a-f-]{36}$`));
    return paid.location!;
  }

  it('pays ad hoc, starts remotely, captures the CDR exactly on the ad-hoc payment, shows the receipt; a 2.0.1 charger through the not_supported fallback; a charger that never starts gets its hold released', async () => {
    await publishTariffForSite(sys, plainTariff('E2E-ADHOC'), 'site-e2eqr');
    const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();

    // a charger that charges 12 kWh when started remotely
    const charging: { idTag?: string; authorize?: string; start?: string; done?: boolean; error?: unknown } = {};
    const stationId = uniqueName('E2EQR16');
    await station(stationId, (idTag, cp) => {
      charging.idTag = idTag;
      void (async () => {
        const auth = (await cp.call('Authorize', { idTag })) as { idTagInfo: { status: string } };
        charging.authorize = auth.idTagInfo.status;
        const s = (await cp.call('StartTransaction', {
          connectorId: 1,
          idTag,
          meterStart: 1000,
          timestamp: at(0),
        })) as { transactionId: number; idTagInfo: { status: string } };
        charging.start = s.idTagInfo.status;
        await chargeTwelveKwh16(cp, { transactionId: s.transactionId, at, idTag });
        charging.done = true;
      })().catch((e: unknown) => (charging.error = e));
    });
    const receiptUrl = await driverPays(stationId);
    await waitFor(() => charging.done === true || charging.error !== undefined, {
      what: 'the remote start and the charging session',
      timeoutMs: 90_000,
    });
    expect(charging.error).toBeUndefined();
    expect(charging.idTag).toMatch(/^QR[0-9A-F]{18}$/);
    // the gateway accepted the one-time token it learnt from registry.tokens
    expect([charging.authorize, charging.start]).toEqual(['Accepted', 'Accepted']);

    const cdr = await waitFor(
      async () =>
        (
          await api<{ items: Array<Json & { audit: { sessionId: string } }> }>(
            'tariff-service',
            'GET',
            `/api/v1/cdrs?stationId=${stationId}&include=audit`,
          )
        ).body.items[0],
      { what: 'the CDR', timeoutMs: 90_000 },
    );
    expect((cdr.total_cost as { incl_vat: string }).incl_vat).toBe('4.84'); // (1.00 + 12 × 0.25) × 1.21
    const paymentId = /payments\/([0-9a-f-]{36})$/.exec(receiptUrl)![1];
    const record = await waitFor(
      async () => {
        const r = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${cdr.audit.sessionId}/payment`);
        return r.status === 200 && r.body.status === 'captured' ? r.body : undefined;
      },
      { what: 'the ad-hoc payment captured', timeoutMs: 90_000 },
    );
    expect(record).toMatchObject({ accountId: `adhoc:${paymentId}`, capturedMinor: '484' });
    const atPsp = emulator.ledger().filter((p) => p.metadata.account_id === `adhoc:${paymentId}`);
    expect(atPsp).toHaveLength(1);
    expect(atPsp[0]).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 484 });
    const journal = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${cdr.audit.sessionId}/journal`);
    expect(journal.body.balanced).toBe(true);

    const receipt = await waitFor(
      async () => {
        const p = await browse(receiptUrl);
        return statusOf(p.text) === 'completed' && attr(p.text, /id="captured">([^<]+)</) === '4.84 EUR'
          ? p.text
          : undefined;
      },
      { what: 'the receipt', timeoutMs: 60_000 },
    );
    expect(attr(receipt, /id="total">([^<]+)</)).toBe('4.84 EUR');
    expect(attr(receipt, /id="energy">([^<]+)</)).toBe('12 kWh');
    // one session per payment: the token is refused afterwards
    const cp = clients[0];
    await waitFor(
      async () =>
        ((await cp.call('Authorize', { idTag: charging.idTag })) as { idTagInfo: { status: string } }).idTagInfo
          .status === 'Expired',
      { what: 'the one-time token refused after the session', timeoutMs: 60_000 },
    );

    // an OCPP 2.0.1 charger, never seen here: the 1.6 start comes back `not_supported` from the gateway, the
    // payment service sends RequestStartTransaction; TransactionEvent with the token is accepted; 10 kWh → 4.24
    const v201 = uniqueName('E2EQR201');
    const tx201: { idToken?: string; started?: string; done?: boolean; error?: unknown } = {};
    await station(
      v201,
      (idToken, cs, remoteStartId) => {
        tx201.idToken = idToken;
        const energy = (value: number, context: string, ts: string) => [
          {
            timestamp: ts,
            sampledValue: [
              { value, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
            ],
          },
        ];
        const tx = { transactionId: uniqueName('TX201') };
        void (async () => {
          await cs.call('StatusNotification', {
            timestamp: at(0),
            connectorStatus: 'Occupied',
            evseId: 1,
            connectorId: 1,
          });
          const started = (await cs.call('TransactionEvent', {
            eventType: 'Started',
            timestamp: at(0),
            triggerReason: 'RemoteStart',
            seqNo: 0,
            transactionInfo: { ...tx, chargingState: 'Charging', remoteStartId },
            idToken: { idToken, type: 'Central' },
            evse: { id: 1, connectorId: 1 },
            meterValue: energy(20000, 'Transaction.Begin', at(0)),
          })) as { idTokenInfo?: { status: string } };
          tx201.started = started.idTokenInfo?.status;
          await cs.call('TransactionEvent', {
            eventType: 'Ended',
            timestamp: at(120),
            triggerReason: 'StopAuthorized',
            seqNo: 1,
            transactionInfo: { ...tx, chargingState: 'EVConnected', stoppedReason: 'Local' },
            meterValue: energy(30000, 'Transaction.End', at(120)),
          });
          tx201.done = true;
        })().catch((e: unknown) => (tx201.error = e));
      },
      'ocpp2.0.1',
    );
    const receipt201 = await driverPays(v201);
    await waitFor(() => tx201.done === true || tx201.error !== undefined, {
      what: 'the 2.0.1 remote start and its transaction',
      timeoutMs: 90_000,
    });
    expect(tx201.error).toBeUndefined();
    expect(tx201.started).toBe('Accepted');
    const paid201 = await waitFor(
      async () => {
        const p = await browse(receipt201);
        return statusOf(p.text) === 'completed' && attr(p.text, /id="captured">([^<]+)</) === '4.24 EUR'
          ? p.text
          : undefined;
      },
      { what: 'the 2.0.1 receipt, captured', timeoutMs: 90_000 },
    );
    expect(attr(paid201, /id="energy">([^<]+)</)).toBe('10 kWh');
    const p201 = /payments\/([0-9a-f-]{36})$/.exec(receipt201)![1];
    expect(emulator.ledger().find((p) => p.metadata.account_id === `adhoc:${p201}`)).toMatchObject({
      authorizations: 1,
      captures: 1,
      captured_minor: 424,
    });

    // a charger that accepts the remote start and never starts: the hold is released after the start timeout
    const idle = uniqueName('E2EQRIDLE');
    const asked: string[] = [];
    await station(idle, (idTag) => asked.push(idTag));
    const idleUrl = await driverPays(idle);
    await waitFor(() => asked.length > 0, { what: 'the remote start at the idle charger', timeoutMs: 60_000 });
    await waitFor(async () => statusOf((await browse(idleUrl)).text) === 'not_started', {
      what: 'the hold released',
      timeoutMs: 90_000,
    });
    const idlePayment = /payments\/([0-9a-f-]{36})$/.exec(idleUrl)![1];
    await waitFor(
      () =>
        emulator.ledger().find((p) => p.metadata.account_id === `adhoc:${idlePayment}` && p.cancels === 1) !==
        undefined,
      { what: 'the hold cancelled at the PSP', timeoutMs: 30_000 },
    );
    expect(emulator.ledger().find((p) => p.metadata.account_id === `adhoc:${idlePayment}`)).toMatchObject({
      captures: 0,
      cancels: 1,
    });
    for (const s of Object.values(sys.services)) expect(s.errorLines()).toEqual([]);
  }, 400_000);
});
