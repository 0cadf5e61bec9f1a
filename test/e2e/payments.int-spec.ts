/**
 * Payments end to end, every service its own process on the real Kafka and PostgreSQL, the PSP emulator in this
 * process (the payment service calls it through the Stripe adapter; it posts its webhooks back): an OCPP 1.6 charger
 * charges with a token whose billing account pays by card — a hold at the start, the exact capture of the CDR's
 * total at the end, a balanced journal, the payment record through the API —, and a token whose card is declined
 * gets its session stopped: the charger receives RemoteStopTransaction for its transaction; a wallet whose balance
 * does not cover its session is blocked, and the gateway answers its token's next Authorize `Blocked`. Running
 * cost: a session on a tariff with a small max_price gets a hold of that amount; when its running cost (priced by the
 * tariff service from session.updated with the CDR's engine) nears it, the hold is raised (the emulator counts an
 * incremental authorisation) or, for an account whose policy is to stop, the charger receives RemoteStopTransaction.
 * A corrected session (closed by rule, its real StopTransaction late with less energy: the tariff service issues a
 * credit CDR and a new CDR) is refunded exactly the difference, once, never captured twice; a wallet session is
 * debited exactly its CDR's total; an invoice session opens a receivable and goes on its month's statement.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RPCClient } from 'ocpp-rpc';
import { newApiKey } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  createTestTopics,
  dropTestDatabases,
  freePort,
  startServiceProcess,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from '@csms/testing';
import { startPspEmulator, type PspEmulator } from '../../apps/psp-emulator/src';

const admin = newApiKey('e2e-pay-admin', 'admin');
const PASSWORD = 'e2e-pay-station-password';

interface Json {
  [k: string]: unknown;
}
const clientOptions = (o: Record<string, unknown>) => o as unknown as ConstructorParameters<typeof RPCClient>[0];

/** FLAT 1.00 + ENERGY 0.25/kWh, 21 % VAT */
const TARIFF = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'E2E-PAY',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 1.0, vat: 21, step_size: 1 },
        { type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 },
      ],
    },
  ],
};

describe('payments end to end: hold, exact capture, journal and payment record; a declined card stops the session', () => {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const names = ['gateway', 'sessions', 'tariffs', 'payments'];
  const dbs = names.map((s) => `csms_test_e2epay_${s}_${tag}`);
  const topics = {
    OCPP_INBOUND_TOPIC: uniqueName('e2epay.ocpp-inbound'),
    SESSION_EVENTS_TOPIC: uniqueName('e2epay.session-events'),
    TARIFF_EVENTS_TOPIC: uniqueName('e2epay.tariff-events'),
    BILLING_EVENTS_TOPIC: uniqueName('e2epay.billing-events'),
    REGISTRY_STATIONS_TOPIC: uniqueName('e2epay.registry-stations'),
    REGISTRY_TOKENS_TOPIC: uniqueName('e2epay.registry-tokens'),
    OCPP_COMMANDS_TOPIC: uniqueName('e2epay.ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName('e2epay.ocpp-command-results'),
    PAYMENT_EVENTS_TOPIC: uniqueName('e2epay.payment-events'),
    REGISTRY_ACCOUNTS_TOPIC: uniqueName('e2epay.registry-accounts'),
  };
  const secret = `whsec_${randomUUID().replace(/-/g, '')}`;
  const pspKey = `sk_test_${randomUUID().replace(/-/g, '')}`;
  const services: Record<string, ServiceProcess> = {};
  const clients: RPCClient[] = [];
  let emulator: PspEmulator;
  let ocppPort = 0;
  let pg: Client;

  beforeAll(async () => {
    await createTestTopics(testKafka(), Object.values(topics), 3);
    const webhookPort = await freePort();
    emulator = await startPspEmulator({
      port: 0,
      webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/psp`,
      webhookSecret: secret,
      apiKey: pspKey,
    });
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), API_KEYS: admin.entry, LOG_LEVEL: 'warn', ...topics };
    ocppPort = await freePort();
    const ports = await Promise.all(names.map(() => freePort()));
    const envs: Record<string, Record<string, string>> = {
      'ocpp-gateway': { OCPP_PORT: String(ocppPort), OCPP_HOST: '127.0.0.1', GATEWAY_INSTANCE: `e2epay-${tag}` },
      // a session.updated (and a running-cost estimate) per minute of session time
      'session-service': {
        SESSION_CONSUMER_GROUP: uniqueName('e2epay-sessions'),
        SESSION_UPDATE_INTERVAL_SECONDS: '60',
      },
      'tariff-service': { TARIFF_CONSUMER_GROUP: uniqueName('e2epay-tariffs'), TARIFF_ESTIMATE_INTERVAL_S: '60' },
      'payment-service': {
        PAYMENT_CONSUMER_GROUP: uniqueName('e2epay-payments'),
        PSP_API_URL: emulator.url,
        PSP_API_KEY: pspKey,
        PSP_WEBHOOK_SECRET: secret,
        PAYMENT_WEBHOOK_PORT: String(webhookPort),
        // a small hold for CHF sessions (the running-cost scenario)
        PAYMENT_DEFAULT_HOLD: 'EUR=50.00,CHF=3.00',
      },
    };
    // one at a time: TypeScript start-ups at once starve a 2-core machine
    for (const [i, name] of Object.keys(envs).entries())
      services[name] = await startServiceProcess(name, {
        ...common,
        ...envs[name],
        DATABASE_URL: testDatabaseUrl(dbs[i]),
        HTTP_PORT: String(ports[i]),
      });
    pg = new Client({ connectionString: testDatabaseUrl(dbs[3]) });
    await pg.connect();
  }, 400_000);

  afterAll(async () => {
    for (const c of clients) await c.close({ force: true }).catch(() => undefined);
    await pg?.end().catch(() => undefined);
    for (const s of Object.values(services)) s.kill('SIGTERM');
    await Promise.all(Object.values(services).map((s) => s.exited()));
    await emulator?.close();
    await dropTestDatabases(dbs);
  }, 120_000);

  const api = async <T = Json>(service: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${services[service].url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  const openCard = async (
    accountId: string,
    pm: string,
    onHoldNearlyUsed: 'increase' | 'stop' = 'increase',
    currency = 'EUR',
  ) => {
    const c = (
      emulator.psp as unknown as {
        createCustomer(p: Record<string, unknown>): {
          id: string;
          invoice_settings: { default_payment_method: string };
        };
      }
    ).createCustomer({ payment_method: pm });
    const r = await api('payment-service', 'POST', '/api/v1/accounts', {
      accountId,
      currency,
      method: { kind: 'card', customerRef: c.id, paymentMethodRef: c.invoice_settings.default_payment_method },
      policy: { onHoldNearlyUsed, onShortfall: 'block' },
    });
    expect(r.status).toBe(201);
  };

  it('a card session is held, captured exactly and journaled; a declined card stops its session remotely', async () => {
    const stationId = uniqueName('E2EPAY16');
    expect(
      (
        await api('ocpp-gateway', 'PUT', `/api/v1/stations/${stationId}`, {
          securityProfile: 1,
          password: PASSWORD,
          siteId: 'site-e2epay',
          timeZone: 'Europe/Amsterdam',
        })
      ).status,
    ).toBe(200);
    await openCard('acct-pay', 'pm_card_visa');
    await openCard('acct-declined', 'pm_card_chargeDeclined');
    expect(
      (
        await api('payment-service', 'POST', '/api/v1/accounts', {
          accountId: 'acct-wallet',
          currency: 'EUR',
          method: { kind: 'wallet' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api('payment-service', 'POST', '/api/v1/accounts/acct-wallet/top-ups', {
          topUpRef: 'E2E-T1',
          amount: '1.00',
        })
      ).status,
    ).toBe(201);
    for (const [uid, account] of [
      ['E2E-PAY', 'acct-pay'],
      ['E2E-DECLINED', 'acct-declined'],
      ['E2E-WALLET', 'acct-wallet'],
    ])
      expect(
        (
          await api('ocpp-gateway', 'PUT', `/api/v1/tokens/${uid}`, {
            type: 'ISO14443',
            status: 'Accepted',
            billingAccountId: account,
          })
        ).status,
      ).toBe(200);
    expect((await api('tariff-service', 'PUT', '/api/v1/tariffs/E2E-PAY', TARIFF)).status).toBe(200);
    expect(
      (
        await api('tariff-service', 'POST', '/api/v1/tariff-assignments', {
          tariffId: 'E2E-PAY',
          scope: { kind: 'site', siteId: 'site-e2epay' },
        })
      ).status,
    ).toBe(201);
    // the payment service resolves a session's account from its copy of the token registry
    await waitFor(
      async () =>
        (await pg.query(`select 1 from tokens where uid in ('E2E-PAY', 'E2E-DECLINED', 'E2E-WALLET')`)).rowCount === 3,
      { what: "the tokens in the payment service's registry copy", timeoutMs: 60_000 },
    );
    await waitFor(async () => (await fetch(`${services['ocpp-gateway'].url}/health/ready`)).status === 200, {
      what: 'gateway ready',
    });

    const cp = new RPCClient(
      clientOptions({
        endpoint: `ws://127.0.0.1:${ocppPort}/ocpp`,
        identity: stationId,
        protocols: ['ocpp1.6'],
        password: PASSWORD,
        reconnect: false,
        strictMode: true,
        callTimeoutMs: 20_000,
      }),
    );
    clients.push(cp);
    const stops: number[] = [];
    cp.handle('RemoteStopTransaction', async ({ params }) => {
      stops.push((params as { transactionId: number }).transactionId);
      return { status: 'Accepted' };
    });
    await cp.connect();
    expect(await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' })).toMatchObject({
      status: 'Accepted',
    });
    const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();

    // a card session: 12 kWh
    const start = (await cp.call('StartTransaction', {
      connectorId: 1,
      idTag: 'E2E-PAY',
      meterStart: 1000,
      timestamp: at(0),
    })) as { transactionId: number };
    await cp.call('MeterValues', {
      connectorId: 1,
      transactionId: start.transactionId,
      meterValue: [
        {
          timestamp: at(60),
          sampledValue: [{ value: '7000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        },
      ],
    });
    await cp.call('StopTransaction', {
      transactionId: start.transactionId,
      idTag: 'E2E-PAY',
      meterStop: 13000,
      timestamp: at(120),
      reason: 'Local',
    });
    const cdr = await waitFor(
      async () => {
        const r = await api<{ items: Array<Json & { audit: { sessionId: string } }> }>(
          'tariff-service',
          'GET',
          `/api/v1/cdrs?stationId=${stationId}&include=audit`,
        );
        return r.body.items[0];
      },
      { what: 'the CDR', timeoutMs: 90_000 },
    );
    const total = (cdr.total_cost as { incl_vat: string }).incl_vat;
    expect(total).toBe('4.84'); // (1.00 + 12 kWh × 0.25) × 1.21
    const sessionId = cdr.audit.sessionId;
    const record = await waitFor(
      async () => {
        const r = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/payment`);
        return r.status === 200 && r.body.status === 'captured' ? r.body : undefined;
      },
      { what: 'the payment record, captured', timeoutMs: 90_000 },
    );
    expect(record).toMatchObject({
      accountId: 'acct-pay',
      capturedMinor: '484',
      hold: { requestedMinor: '5000', authorizedMinor: '5000', status: 'captured' },
    });
    const journal = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/journal`);
    expect(journal.body.balanced).toBe(true);
    const payment = emulator.ledger().find((p) => p.metadata.session_id === sessionId);
    expect(payment).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 484 });

    // a declined card: the session is stopped through the remote-command path
    const declined = (await cp.call('StartTransaction', {
      connectorId: 1,
      idTag: 'E2E-DECLINED',
      meterStart: 13000,
      timestamp: at(200),
    })) as { transactionId: number };
    await waitFor(() => stops.includes(declined.transactionId), {
      what: 'RemoteStopTransaction at the charger',
      timeoutMs: 90_000,
    });

    // a wallet holding 1.00 pays a 4.84 session: the rest is a receivable and the account is blocked; the gateway
    // (which never calls the PSP) answers the token's next Authorize Blocked
    const verdict = async () =>
      ((await cp.call('Authorize', { idTag: 'E2E-WALLET' })) as { idTagInfo: { status: string } }).idTagInfo.status;
    expect(await verdict()).toBe('Accepted');
    const w = (await cp.call('StartTransaction', {
      connectorId: 2,
      idTag: 'E2E-WALLET',
      meterStart: 50_000,
      timestamp: at(300),
    })) as { transactionId: number };
    await cp.call('StopTransaction', {
      transactionId: w.transactionId,
      idTag: 'E2E-WALLET',
      meterStop: 62_000,
      timestamp: at(420),
      reason: 'Local',
    });
    await waitFor(async () => ((await verdict()) === 'Blocked' ? true : undefined), {
      what: "Authorize Blocked for the wallet's token",
      timeoutMs: 90_000,
    });
    for (const s of Object.values(services)) expect(s.errorLines()).toEqual([]);
  }, 400_000);

  it('running cost near a small hold (the CHF default, 3.00): raised for an account that increases, the session stopped remotely for one that stops', async () => {
    const stationId = uniqueName('E2ERUN16');
    expect(
      (
        await api('ocpp-gateway', 'PUT', `/api/v1/stations/${stationId}`, {
          securityProfile: 1,
          password: PASSWORD,
          siteId: 'site-e2erun',
          timeZone: 'Europe/Amsterdam',
        })
      ).status,
    ).toBe(200);
    await openCard('acct-run-inc', 'pm_card_visa', 'increase', 'CHF');
    await openCard('acct-run-stop', 'pm_card_visa', 'stop', 'CHF');
    for (const [uid, account] of [
      ['E2E-RUN-INC', 'acct-run-inc'],
      ['E2E-RUN-STOP', 'acct-run-stop'],
    ])
      expect(
        (
          await api('ocpp-gateway', 'PUT', `/api/v1/tokens/${uid}`, {
            type: 'ISO14443',
            status: 'Accepted',
            billingAccountId: account,
          })
        ).status,
      ).toBe(200);
    // FLAT 1.00 + ENERGY 0.25/kWh + 21 % VAT in CHF, no max_price: the hold is the CHF default, 3.00
    const chf = { ...TARIFF, id: 'E2E-RUN', currency: 'CHF' };
    expect((await api('tariff-service', 'PUT', '/api/v1/tariffs/E2E-RUN', chf)).status).toBe(200);
    expect(
      (
        await api('tariff-service', 'POST', '/api/v1/tariff-assignments', {
          tariffId: 'E2E-RUN',
          scope: { kind: 'site', siteId: 'site-e2erun' },
        })
      ).status,
    ).toBe(201);
    await waitFor(
      async () => (await pg.query(`select 1 from tokens where uid in ('E2E-RUN-INC', 'E2E-RUN-STOP')`)).rowCount === 2,
      { what: "the tokens in the payment service's registry copy", timeoutMs: 60_000 },
    );
    const cp = new RPCClient(
      clientOptions({
        endpoint: `ws://127.0.0.1:${ocppPort}/ocpp`,
        identity: stationId,
        protocols: ['ocpp1.6'],
        password: PASSWORD,
        reconnect: false,
        strictMode: true,
        callTimeoutMs: 20_000,
      }),
    );
    clients.push(cp);
    const stops: number[] = [];
    cp.handle('RemoteStopTransaction', async ({ params }) => {
      stops.push((params as { transactionId: number }).transactionId);
      return { status: 'Accepted' };
    });
    await cp.connect();
    await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' });
    const t0 = Date.now() + 60_000;
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();

    /** starts a session, waits for its hold (3.00) to be authorised, then charges 5 kWh in 70 s: 2.72 of 3.00 */
    const chargeNearHold = async (idTag: string, connectorId: number, from: number) => {
      const { transactionId } = (await cp.call('StartTransaction', {
        connectorId,
        idTag,
        meterStart: 1000,
        timestamp: at(from),
      })) as { transactionId: number };
      const sessionId = await waitFor(
        async () =>
          (
            await pg.query('select session_id from payment_sessions where station_id = $1 and transaction_id = $2', [
              stationId,
              String(transactionId),
            ])
          ).rows[0]?.session_id as string | undefined,
        { what: 'the session in the payment service', timeoutMs: 90_000 },
      );
      const hold = await waitFor(
        async () => {
          const r = await api<{ hold?: Json }>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/payment`);
          return r.status === 200 && r.body.hold?.status === 'authorized' ? r.body.hold : undefined;
        },
        { what: 'the hold authorised', timeoutMs: 90_000 },
      );
      expect(hold).toMatchObject({ requestedMinor: '300', authorizedMinor: '300' });
      await cp.call('MeterValues', {
        connectorId,
        transactionId,
        meterValue: [
          {
            timestamp: at(from + 70),
            sampledValue: [{ value: '6000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
          },
        ],
      });
      return { transactionId, sessionId };
    };

    // increase: the hold is raised to 6.00 at the PSP (one incremental authorisation), the CDR captured in full
    const inc = await chargeNearHold('E2E-RUN-INC', 1, 0);
    const raised = await waitFor(
      () => {
        const p = emulator.ledger().find((x) => x.metadata.session_id === inc.sessionId);
        return p && p.increments >= 1 ? p : undefined;
      },
      { what: 'the incremental authorisation at the emulator', timeoutMs: 90_000 },
    );
    expect(raised).toMatchObject({ authorizations: 1, increments: 1 });
    await cp.call('StopTransaction', {
      transactionId: inc.transactionId,
      idTag: 'E2E-RUN-INC',
      meterStop: 11000,
      timestamp: at(130),
      reason: 'Local',
    });
    const record = await waitFor(
      async () => {
        const r = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${inc.sessionId}/payment`);
        return r.status === 200 && r.body.status === 'captured' ? r.body : undefined;
      },
      { what: 'the payment record, captured', timeoutMs: 90_000 },
    );
    // (1.00 + 10 kWh × 0.25) × 1.21 = 4.24: more than the first hold, captured in full from the raised one
    expect(record).toMatchObject({ capturedMinor: '424', hold: { authorizedMinor: '600' } });
    expect(emulator.ledger().find((x) => x.metadata.session_id === inc.sessionId)).toMatchObject({
      authorizations: 1,
      increments: 1,
      captures: 1,
      captured_minor: 424,
    });

    // stop: the charger is asked to stop the transaction
    const stop = await chargeNearHold('E2E-RUN-STOP', 2, 200);
    await waitFor(() => stops.includes(stop.transactionId), {
      what: 'RemoteStopTransaction at the charger (hold exhausted)',
      timeoutMs: 90_000,
    });
    for (const s of Object.values(services)) expect(s.errorLines()).toEqual([]);
  }, 400_000);

  it('a corrected session: its credit CDR gives a refund of exactly the difference (one capture, one refund); a wallet session debits exactly its CDR; an invoice session opens a receivable and goes on a statement; every journal balanced', async () => {
    const stationId = uniqueName('E2ECRD16');
    expect(
      (
        await api('ocpp-gateway', 'PUT', `/api/v1/stations/${stationId}`, {
          securityProfile: 1,
          password: PASSWORD,
          siteId: 'site-e2ecrd',
          timeZone: 'Europe/Amsterdam',
        })
      ).status,
    ).toBe(200);
    // its own tariff (the same prices), so this case runs alone too (jest -t)
    expect((await api('tariff-service', 'PUT', '/api/v1/tariffs/E2E-CRD', { ...TARIFF, id: 'E2E-CRD' })).status).toBe(
      200,
    );
    expect(
      (
        await api('tariff-service', 'POST', '/api/v1/tariff-assignments', {
          tariffId: 'E2E-CRD',
          scope: { kind: 'site', siteId: 'site-e2ecrd' },
        })
      ).status,
    ).toBe(201);
    await openCard('acct-credit', 'pm_card_visa');
    for (const [accountId, method] of [
      ['acct-wallet-ok', { kind: 'wallet' }],
      ['acct-invoice', { kind: 'invoice', creditLimitMinor: '100000' }],
    ] as const)
      expect(
        (await api('payment-service', 'POST', '/api/v1/accounts', { accountId, currency: 'EUR', method })).status,
      ).toBe(201);
    expect(
      (
        await api('payment-service', 'POST', '/api/v1/accounts/acct-wallet-ok/top-ups', {
          topUpRef: 'E2E-T2',
          amount: '20.00',
        })
      ).status,
    ).toBe(201);
    for (const [uid, account] of [
      ['E2E-CREDIT', 'acct-credit'],
      ['E2E-WALLET-OK', 'acct-wallet-ok'],
      ['E2E-INVOICE', 'acct-invoice'],
    ])
      expect(
        (
          await api('ocpp-gateway', 'PUT', `/api/v1/tokens/${uid}`, {
            type: 'ISO14443',
            status: 'Accepted',
            billingAccountId: account,
          })
        ).status,
      ).toBe(200);
    await waitFor(
      async () =>
        (await pg.query(`select 1 from tokens where uid in ('E2E-CREDIT', 'E2E-WALLET-OK', 'E2E-INVOICE')`))
          .rowCount === 3,
      { what: "the tokens in the payment service's registry copy", timeoutMs: 60_000 },
    );
    const cp = new RPCClient(
      clientOptions({
        endpoint: `ws://127.0.0.1:${ocppPort}/ocpp`,
        identity: stationId,
        protocols: ['ocpp1.6'],
        password: PASSWORD,
        reconnect: false,
        strictMode: true,
        callTimeoutMs: 20_000,
      }),
    );
    clients.push(cp);
    cp.handle('RemoteStopTransaction', async () => ({ status: 'Accepted' }));
    await cp.connect();
    await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' });
    const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();
    type Cdr = Json & {
      id: string;
      credit?: boolean;
      end_date_time: string;
      cdr_token: { uid: string };
      total_cost: { incl_vat: string };
      audit: { sessionId: string };
    };
    const cdrsOf = async () =>
      (await api<{ items: Cdr[] }>('tariff-service', 'GET', `/api/v1/cdrs?stationId=${stationId}&include=audit`)).body
        .items;
    const minor = (amount: string) => Math.round(Number(amount) * 100);
    const paymentOf = (sessionId: string, ready: (r: Json) => boolean, what: string) =>
      waitFor(
        async () => {
          const r = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/payment`);
          return r.status === 200 && ready(r.body) ? r.body : undefined;
        },
        { what, timeoutMs: 90_000 },
      );
    const balancedJournal = async (sessionId: string) => {
      const journal = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/journal`);
      expect(journal.status).toBe(200);
      expect(journal.body.balanced).toBe(true);
    };

    // a card session the session service closes by rule (a new transaction on its connector: ended at its last
    // sample, 12 kWh, 4.84 captured); its real StopTransaction then arrives late: it stopped at 6 kWh. The session
    // is revised, the tariff service issues a credit CDR for 4.84 and a new CDR, the payment service refunds the
    // difference, never capturing again
    const a = (await cp.call('StartTransaction', {
      connectorId: 1,
      idTag: 'E2E-CREDIT',
      meterStart: 1000,
      timestamp: at(0),
    })) as { transactionId: number };
    for (const [s, wh] of [
      [60, '7000'],
      [120, '13000'],
    ] as const)
      await cp.call('MeterValues', {
        connectorId: 1,
        transactionId: a.transactionId,
        meterValue: [
          { timestamp: at(s), sampledValue: [{ value: wh, measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] },
        ],
      });
    const b = (await cp.call('StartTransaction', {
      connectorId: 1,
      idTag: 'E2E-CREDIT',
      meterStart: 13000,
      timestamp: at(180),
    })) as { transactionId: number };
    const first = await waitFor(async () => (await cdrsOf()).find((c) => !c.credit), {
      what: 'the CDR of the session closed by rule',
      timeoutMs: 90_000,
    });
    expect(first.total_cost.incl_vat).toBe('4.84');
    const sessionId = first.audit.sessionId;
    await paymentOf(sessionId, (r) => r.status === 'captured', 'the first CDR captured');
    await cp.call('StopTransaction', {
      transactionId: a.transactionId,
      idTag: 'E2E-CREDIT',
      meterStop: 7000,
      timestamp: at(60),
      reason: 'Local',
    });
    const [credit, corrected] = await waitFor(
      async () => {
        const mine = (await cdrsOf()).filter((c) => c.audit.sessionId === sessionId);
        const cr = mine.find((c) => c.credit);
        const nw = mine.find((c) => !c.credit && c.id !== first.id);
        return cr && nw ? ([cr, nw] as const) : undefined;
      },
      { what: 'the credit CDR and the corrected CDR', timeoutMs: 90_000 },
    );
    expect(credit).toMatchObject({ credit_reference_id: first.id, total_cost: { incl_vat: '-4.84' } });
    const difference = 484 - minor(corrected.total_cost.incl_vat);
    expect(difference).toBeGreaterThan(0);
    const refunded = await paymentOf(
      sessionId,
      (r) => r.refundedMinor === String(difference),
      'the refund of the difference',
    );
    expect(refunded).toMatchObject({ capturedMinor: '484', refundedMinor: String(difference) });
    await waitFor(
      async () => (await pg.query(`select 1 from psp_intents where status not in ('done', 'failed')`)).rowCount === 0,
      { what: 'no PSP call left open', timeoutMs: 60_000 },
    );
    await emulator.webhooksIdle();
    expect(emulator.ledger().find((p) => p.metadata.session_id === sessionId)).toMatchObject({
      authorizations: 1,
      captures: 1,
      captured_minor: 484,
      refunds: 1,
      refunded_minor: difference,
    });
    await balancedJournal(sessionId);
    await cp.call('StopTransaction', {
      transactionId: b.transactionId,
      idTag: 'E2E-CREDIT',
      meterStop: 13000,
      timestamp: at(240),
      reason: 'Local',
    });

    /** a 12 kWh session (4.84) in two minutes on its own connector; its CDR */
    const charge = async (idTag: string, connectorId: number, from: number) => {
      const { transactionId } = (await cp.call('StartTransaction', {
        connectorId,
        idTag,
        meterStart: 1000,
        timestamp: at(from),
      })) as { transactionId: number };
      await cp.call('MeterValues', {
        connectorId,
        transactionId,
        meterValue: [
          {
            timestamp: at(from + 60),
            sampledValue: [{ value: '7000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
          },
        ],
      });
      await cp.call('StopTransaction', {
        transactionId,
        idTag,
        meterStop: 13000,
        timestamp: at(from + 120),
        reason: 'Local',
      });
      return waitFor(async () => (await cdrsOf()).find((c) => c.cdr_token.uid === idTag), {
        what: `the CDR of ${idTag}`,
        timeoutMs: 90_000,
      });
    };

    // a wallet holding 20.00: debited exactly the CDR's total, its balance through the API
    const wcdr = await charge('E2E-WALLET-OK', 2, 20);
    const wtotal = minor(wcdr.total_cost.incl_vat);
    expect(wtotal).toBe(484);
    const wrec = await paymentOf(
      wcdr.audit.sessionId,
      (r) => (r.walletDebits as unknown[] | undefined)?.length === 1,
      'the wallet debit',
    );
    expect(wrec.walletDebits).toEqual([expect.objectContaining({ cdrId: wcdr.id, amountMinor: String(wtotal) })]);
    const wb = await api<{ balances: Array<{ account: string; postedMinor: string }> }>(
      'payment-service',
      'GET',
      '/api/v1/accounts/acct-wallet-ok/balances',
    );
    expect(wb.status).toBe(200);
    // a liability: a credit balance of 20.00 − 4.84
    expect(wb.body.balances.find((l) => l.account.startsWith('wallet_liability:'))?.postedMinor).toBe(
      String(-(2000 - wtotal)),
    );
    await balancedJournal(wcdr.audit.sessionId);
    expect(emulator.ledger().filter((p) => p.metadata.session_id === wcdr.audit.sessionId)).toEqual([]);

    // an invoice account: a receivable for the CDR, then the statement of its month whose line is the CDR
    const icdr = await charge('E2E-INVOICE', 3, 140);
    const itotal = minor(icdr.total_cost.incl_vat);
    const irec = await paymentOf(
      icdr.audit.sessionId,
      (r) => (r.receivables as unknown[] | undefined)?.length === 1,
      'the receivable',
    );
    expect(irec.receivables).toEqual([
      expect.objectContaining({ cdrId: icdr.id, amountMinor: String(itotal), reason: 'invoice' }),
    ]);
    await balancedJournal(icdr.audit.sessionId);
    const month = icdr.end_date_time.slice(0, 7);
    const st = await api<Json & { lines: Array<Json> }>(
      'payment-service',
      'POST',
      '/api/v1/accounts/acct-invoice/statements',
      {
        month,
      },
    );
    expect(st.status).toBe(201);
    expect(st.body).toMatchObject({ month, totalMinor: String(itotal) });
    expect(st.body.lines).toEqual([expect.objectContaining({ cdrId: icdr.id })]);
    expect(emulator.ledger().filter((p) => p.metadata.session_id === icdr.audit.sessionId)).toEqual([]);
    for (const s of Object.values(services)) expect(s.errorLines()).toEqual([]);
  }, 400_000);
});
