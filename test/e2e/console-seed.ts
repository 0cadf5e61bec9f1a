/**
 * Data for the console: a site with three stations (OCPP 1.6 and 2.0.1, two DC EVSEs each), RFID tokens whose
 * billing accounts pay by card (acct-1, at the PSP emulator), wallet (acct-2, topped up) and invoice (acct-3), a
 * tariff assigned to the site, the seeded charger simulator playing quick sessions,
 * and one station whose connector reports a fault (an open alarm). The last simulation stays connected so
 * remote commands are answered; `stop()` ends it.
 */
import { RPCClient } from 'ocpp-rpc';
import type { PspEmulator } from '../../apps/psp-emulator/src';
import { Simulation } from '../../apps/simulator/src';

export interface SeedOptions {
  gatewayUrl: string;
  tariffUrl: string;
  paymentUrl: string;
  /** the payment service's PSP: the card account's customer is made there */
  psp: PspEmulator;
  ocppUrl: string;
  adminKey: string;
  /** planned sessions per connector (default 2) */
  sessionsPerConnector?: number;
  /** station seconds per real second (default 12) */
  speed?: number;
}

export interface Seeded {
  site: string;
  stationIds: string[];
  faultyStationId: string;
  tariffId: string;
  /** billing account per token uid, and how each pays */
  accounts: Array<{ accountId: string; token: string; kind: 'card' | 'wallet' | 'invoice' }>;
  sessionsCompleted: number;
  stop(): Promise<void>;
}

export const SEED_TARIFF = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'CONSOLE-DC',
  currency: 'EUR',
  type: 'REGULAR',
  tariff_alt_text: [{ language: 'en', text: '0.50 start, 0.35/kWh (0.45 from 17:00 to 21:00), 1.20/h charging' }],
  elements: [
    { price_components: [{ type: 'FLAT', price: 0.5, vat: 21, step_size: 1 }] },
    {
      price_components: [{ type: 'ENERGY', price: 0.45, vat: 21, step_size: 1 }],
      restrictions: { start_time: '17:00', end_time: '21:00' },
    },
    {
      price_components: [
        { type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 },
        { type: 'TIME', price: 1.2, vat: 21, step_size: 60 },
      ],
    },
  ],
};

export async function seedConsoleData(opts: SeedOptions): Promise<Seeded> {
  const call = async (base: string, method: string, p: string, body?: unknown) => {
    const r = await fetch(`${base}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${opts.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };
  const site = 'console-site';
  const password = 'console-station-password';
  const stationIds = ['CONSOLE-01', 'CONSOLE-02', 'CONSOLE-03'];
  const faultyStationId = 'CONSOLE-FAULTY';
  const tokens = ['04C0A1', '04C0B2', '04C0C3'];
  const location = {
    name: 'Console test hub',
    address: 'Piet Heinkade 10',
    city: 'Amsterdam',
    postal_code: '1019 BR',
    country: 'NLD',
    coordinates: { latitude: '52.377956', longitude: '4.913460' },
  };
  const evse = (evseId: number) => ({
    evseId,
    connectors: [
      {
        connectorId: 1,
        standard: 'IEC_62196_T2_COMBO',
        format: 'CABLE',
        power_type: 'DC',
        max_voltage: 920,
        max_amperage: 200,
        max_electric_power: 150000,
      },
    ],
  });
  for (const id of [...stationIds, faultyStationId])
    await call(opts.gatewayUrl, 'PUT', `/api/v1/stations/${id}`, {
      securityProfile: 1,
      password,
      siteId: site,
      timeZone: 'Europe/Amsterdam',
      location,
      evses: [evse(1), evse(2)],
    });
  for (const [i, uid] of tokens.entries())
    await call(opts.gatewayUrl, 'PUT', `/api/v1/tokens/${uid}`, {
      type: 'ISO14443',
      status: 'Accepted',
      groupId: 'CONSOLE-FLEET',
      billingAccountId: `acct-${i + 1}`,
    });
  // the billing accounts, open before any session starts (a card session is held at its start)
  const customer = (
    opts.psp.psp as unknown as {
      createCustomer(p: Record<string, unknown>): { id: string; invoice_settings: { default_payment_method: string } };
    }
  ).createCustomer({ payment_method: 'pm_card_visa' });
  const accounts = [
    { accountId: 'acct-1', token: tokens[0], kind: 'card' as const },
    { accountId: 'acct-2', token: tokens[1], kind: 'wallet' as const },
    { accountId: 'acct-3', token: tokens[2], kind: 'invoice' as const },
  ];
  const methods = {
    card: {
      kind: 'card',
      customerRef: customer.id,
      paymentMethodRef: customer.invoice_settings.default_payment_method,
    },
    wallet: { kind: 'wallet' },
    invoice: { kind: 'invoice', creditLimitMinor: '100000' },
  };
  for (const a of accounts)
    await call(opts.paymentUrl, 'POST', '/api/v1/accounts', {
      accountId: a.accountId,
      currency: 'EUR',
      method: methods[a.kind],
      policy: { onHoldNearlyUsed: 'increase', onShortfall: 'allow' },
    });
  await call(opts.paymentUrl, 'POST', '/api/v1/accounts/acct-2/top-ups', { topUpRef: 'seed-1', amount: '200.00' });
  await call(opts.tariffUrl, 'PUT', `/api/v1/tariffs/${SEED_TARIFF.id}`, SEED_TARIFF);
  await call(opts.tariffUrl, 'POST', '/api/v1/tariff-assignments', {
    tariffId: SEED_TARIFF.id,
    scope: { kind: 'site', siteId: site },
  });
  // the gateway's registry cache follows the compacted topics
  await new Promise((r) => setTimeout(r, 1500));

  // the seeded simulator, station time from now (an assignment never applies to the past), faster than real time
  const sim = new Simulation({
    url: opts.ocppUrl,
    stationIds,
    connectors: 2,
    sessions: opts.sessionsPerConnector ?? 2,
    protocol: 'mixed',
    seed: 40,
    password,
    tokens,
    shape: { base: 'quick', chargeSeconds: [600, 1800], idleSeconds: [30, 60], gapSeconds: [0, 30] },
    speed: opts.speed ?? 12,
    sampleIntervalSeconds: 60,
    keepLog: false,
  });
  sim.start();
  const summary = await sim.whenDone();
  const sessionsCompleted = summary.totals.sessionsCompleted;

  // a station whose connector 1 reports a fault and stays faulted: an open alarm
  const faulty = new RPCClient({
    endpoint: opts.ocppUrl,
    identity: faultyStationId,
    protocols: ['ocpp1.6'],
    password,
    reconnect: false,
    strictMode: true,
  } as unknown as ConstructorParameters<typeof RPCClient>[0]);
  faulty.handle('Reset', async () => ({ status: 'Accepted' }));
  faulty.handle(async () => ({}));
  await faulty.connect();
  await faulty.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'X' });
  await faulty.call('StatusNotification', {
    connectorId: 1,
    status: 'Faulted',
    errorCode: 'GroundFailure',
    timestamp: new Date().toISOString(),
  });

  return {
    site,
    stationIds,
    faultyStationId,
    tariffId: SEED_TARIFF.id,
    accounts,
    sessionsCompleted,
    stop: async () => {
      await sim.stop();
      await faulty.close({ force: true });
    },
  };
}
