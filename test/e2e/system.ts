/**
 * A whole CSMS for an end-to-end test: the services asked for (by default all five) as their own processes on the
 * real Kafka and PostgreSQL, each with its own database and the run's own topics, the PSP emulator the payment
 * service calls (in this process; its webhooks go to the payment service), and three API keys (admin, operator,
 * finance). Also the steps most e2e tests take to set a system up: an API call with a key, a station registered
 * with a password, a token mapped to a billing account, a card account opened with an emulator customer, a tariff
 * published and assigned to a site, an OCPP-J client. `stop()` kills the services and drops their databases.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RPCClient } from 'ocpp-rpc';
import { newApiKey } from '@csms/service-kit';
import { startPspEmulator, type PspEmulator } from '../../apps/psp-emulator/src';
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

export const SYSTEM_SERVICES = [
  'ocpp-gateway',
  'session-service',
  'tariff-service',
  'reporting-service',
  'payment-service',
] as const;
export type SystemService = (typeof SYSTEM_SERVICES)[number];

export interface Json {
  [k: string]: unknown;
}

/** What a service's extra environment may depend on: the ports every service will listen on, and the PSP. */
export interface SystemPlan {
  ports: Record<SystemService, number>;
  ocppPort: number;
  psp: PspEmulator | null;
  keys: { admin: string; operator: string; finance: string };
}

export interface SystemOptions {
  /** names the databases, topics, consumer groups and API keys */
  label: string;
  /** the services to start, in this order (default: all five) */
  services?: readonly SystemService[];
  /** per service, environment added to (and overriding) what the system sets */
  env?: (plan: SystemPlan) => Partial<Record<SystemService, Record<string, string>>>;
  /**
   * one service start-up at a time (default): TypeScript start-ups at once starve a 2-core machine; the console's
   * test starts them together with a longer timeout
   */
  sequential?: boolean;
  startTimeoutMs?: number;
}

export interface RunningSystem {
  label: string;
  /** each started service's base URL */
  urls: Record<SystemService, string>;
  ocppUrl: string;
  ocppPort: number;
  keys: { admin: string; operator: string; finance: string };
  services: Record<SystemService, ServiceProcess>;
  /** each started service's environment as it was started with */
  envs: Record<SystemService, Record<string, string>>;
  databaseUrls: Record<SystemService, string>;
  topics: Record<string, string>;
  /** the payment service's PSP (null when the payment service is not started) */
  psp: PspEmulator;
  /** the console server's upstreams: each service by the console's name for it */
  consoleUpstreams: Record<'gateway' | 'sessions' | 'tariffs' | 'reporting' | 'payments', string>;
  /** an API call with the admin key (or the one given); the body parsed when it is JSON (problems too), else only `text` */
  api<T = Json>(
    service: SystemService,
    method: string,
    path: string,
    body?: unknown,
    key?: string,
  ): Promise<{ status: number; body: T; text: string }>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const { label } = opts;
  const names = opts.services ?? SYSTEM_SERVICES;
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const admin = newApiKey(`${label}-admin`, 'admin');
  const operator = newApiKey(`${label}-operator`, 'operator');
  const finance = newApiKey(`${label}-finance`, 'finance');
  const keys = { admin: admin.key, operator: operator.key, finance: finance.key };
  const dbs = Object.fromEntries(
    names.map((n) => [n, `csms_test_${label.replace(/[^a-z0-9]/gi, '_')}_${n.replace(/-/g, '_')}_${tag}`]),
  ) as Record<SystemService, string>;
  const topics = {
    OCPP_INBOUND_TOPIC: uniqueName(`${label}.ocpp-inbound`),
    SESSION_EVENTS_TOPIC: uniqueName(`${label}.session-events`),
    TARIFF_EVENTS_TOPIC: uniqueName(`${label}.tariff-events`),
    BILLING_EVENTS_TOPIC: uniqueName(`${label}.billing-events`),
    REGISTRY_STATIONS_TOPIC: uniqueName(`${label}.registry-stations`),
    REGISTRY_TOKENS_TOPIC: uniqueName(`${label}.registry-tokens`),
    OCPP_COMMANDS_TOPIC: uniqueName(`${label}.ocpp-commands`),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName(`${label}.ocpp-command-results`),
    MONITORING_EVENTS_TOPIC: uniqueName(`${label}.monitoring-events`),
    PAYMENT_EVENTS_TOPIC: uniqueName(`${label}.payment-events`),
    REGISTRY_ACCOUNTS_TOPIC: uniqueName(`${label}.registry-accounts`),
    // the reporting service's breaks queue is folded from it: the shared default would bring other systems' breaks
    FINANCE_EVENTS_TOPIC: uniqueName(`${label}.finance-events`),
  };
  await createTestTopics(testKafka(), Object.values(topics), 3);
  const common = {
    KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
    API_KEYS: [admin.entry, operator.entry, finance.entry].join(','),
    LOG_LEVEL: 'warn',
    ...topics,
  };
  const ocppPort = await freePort();
  const ports = {} as Record<SystemService, number>;
  for (const n of SYSTEM_SERVICES) ports[n] = await freePort();
  const webhookPort = await freePort();
  const webhookSecret = `whsec_${randomUUID().replace(/-/g, '')}`;
  const pspKey = `sk_test_${randomUUID().replace(/-/g, '')}`;
  const psp = names.includes('payment-service')
    ? await startPspEmulator({
        port: 0,
        webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/psp`,
        webhookSecret,
        apiKey: pspKey,
      })
    : null;
  const tariffGroup = `${label}-tariffs-${tag}`;
  const own: Record<SystemService, Record<string, string>> = {
    'ocpp-gateway': { OCPP_PORT: String(ocppPort), OCPP_HOST: '127.0.0.1', GATEWAY_INSTANCE: `${label}-${tag}` },
    'session-service': { SESSION_CONSUMER_GROUP: `${label}-sessions-${tag}` },
    'tariff-service': { TARIFF_CONSUMER_GROUP: tariffGroup },
    // the reporting service reads the tariff service's pricing dead letters (billing completeness); reconciliation
    // runs only when a test asks (the scheduler, every 5 minutes by default, has its own test: reconciliation-lifecycle)
    'reporting-service': {
      REPORTING_CONSUMER_GROUP: `${label}-reporting-${tag}`,
      TARIFF_CONSUMER_GROUP: tariffGroup,
      RECONCILIATION_INTERVAL_S: '0',
    },
    'payment-service': {
      PAYMENT_CONSUMER_GROUP: `${label}-payments-${tag}`,
      PSP_API_URL: psp?.url ?? '',
      PSP_API_KEY: pspKey,
      PSP_WEBHOOK_SECRET: webhookSecret,
      PAYMENT_WEBHOOK_PORT: String(webhookPort),
    },
  };
  const extra = opts.env?.({ ports, ocppPort, psp, keys }) ?? {};
  const envs = {} as Record<SystemService, Record<string, string>>;
  for (const n of names)
    envs[n] = {
      ...common,
      DATABASE_URL: testDatabaseUrl(dbs[n]),
      HTTP_PORT: String(ports[n]),
      ...own[n],
      ...extra[n],
    };
  const services = {} as Record<SystemService, ServiceProcess>;
  const start = async (n: SystemService) => {
    services[n] = await startServiceProcess(n, envs[n], opts.startTimeoutMs);
  };
  try {
    if (opts.sequential === false) await Promise.all(names.map(start));
    else for (const n of names) await start(n);
  } catch (e) {
    for (const s of Object.values(services)) s.kill('SIGKILL');
    await psp?.close();
    throw e;
  }
  const urls = Object.fromEntries(names.map((n) => [n, services[n].url])) as Record<SystemService, string>;
  const api: RunningSystem['api'] = async (service, method, path, body, key = admin.key) => {
    const r = await fetch(`${urls[service]}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const json = text !== '' && (r.headers.get('content-type') ?? '').includes('json');
    return { status: r.status, body: (json ? JSON.parse(text) : undefined) as never, text };
  };
  return {
    label,
    urls,
    psp: psp as PspEmulator,
    consoleUpstreams: {
      gateway: urls['ocpp-gateway'],
      sessions: urls['session-service'],
      tariffs: urls['tariff-service'],
      reporting: urls['reporting-service'],
      payments: urls['payment-service'],
    },
    ocppUrl: `ws://127.0.0.1:${ocppPort}/ocpp`,
    ocppPort,
    keys,
    services,
    envs,
    databaseUrls: Object.fromEntries(names.map((n) => [n, testDatabaseUrl(dbs[n])])) as Record<SystemService, string>,
    topics,
    api,
    stop: async (signal: NodeJS.Signals = 'SIGKILL') => {
      for (const s of Object.values(services)) s.kill(signal);
      await Promise.all(Object.values(services).map((s) => s.exited()));
      await psp?.close();
      await dropTestDatabases(Object.values(dbs));
    },
  };
}

/** Registers a station with a password (security profile 1) at the gateway. */
export async function registerStation(
  sys: RunningSystem,
  stationId: string,
  station: { password: string; siteId: string; timeZone?: string; evses?: unknown[] },
): Promise<void> {
  const r = await sys.api('ocpp-gateway', 'PUT', `/api/v1/stations/${stationId}`, {
    securityProfile: 1,
    timeZone: 'Europe/Amsterdam',
    ...station,
  });
  if (r.status !== 200) throw new Error(`station ${stationId}: ${r.status} ${r.text}`);
}

/** Maps a token to a billing account (Accepted, ISO14443) in the gateway's registry. */
export async function putToken(sys: RunningSystem, uid: string, billingAccountId: string | null): Promise<void> {
  const r = await sys.api('ocpp-gateway', 'PUT', `/api/v1/tokens/${uid}`, {
    type: 'ISO14443',
    status: 'Accepted',
    ...(billingAccountId === null ? {} : { billingAccountId }),
  });
  if (r.status !== 200) throw new Error(`token ${uid}: ${r.status} ${r.text}`);
}

/** Opens a card account whose card is an emulator customer's payment method (`pm_card_visa`, a declining one, …). */
export async function openCardAccount(
  sys: RunningSystem,
  accountId: string,
  paymentMethod: string,
  opts: { currency?: string; policy?: Record<string, string> } = {},
): Promise<void> {
  const customer = (
    sys.psp.psp as unknown as {
      createCustomer(p: Record<string, unknown>): { id: string; invoice_settings: { default_payment_method: string } };
    }
  ).createCustomer({ payment_method: paymentMethod });
  const r = await sys.api('payment-service', 'POST', '/api/v1/accounts', {
    accountId,
    currency: opts.currency ?? 'EUR',
    method: {
      kind: 'card',
      customerRef: customer.id,
      paymentMethodRef: customer.invoice_settings.default_payment_method,
    },
    ...(opts.policy ? { policy: opts.policy } : {}),
  });
  if (r.status !== 201) throw new Error(`account ${accountId}: ${r.status} ${r.text}`);
}

/** Publishes an OCPI tariff and assigns it to a site. */
export async function publishTariffForSite(
  sys: RunningSystem,
  tariff: { id: string } & Record<string, unknown>,
  siteId: string,
): Promise<void> {
  const put = await sys.api('tariff-service', 'PUT', `/api/v1/tariffs/${tariff.id}`, tariff);
  if (put.status !== 200) throw new Error(`tariff ${tariff.id}: ${put.status} ${put.text}`);
  const assign = await sys.api('tariff-service', 'POST', '/api/v1/tariff-assignments', {
    tariffId: tariff.id,
    scope: { kind: 'site', siteId },
  });
  if (assign.status !== 201) throw new Error(`assignment of ${tariff.id}: ${assign.status} ${assign.text}`);
}

/** An OCPP-J client for a registered station (not yet connected): strict, no reconnect, 20 s call timeout. */
export function stationClient(
  sys: RunningSystem,
  stationId: string,
  password: string,
  protocol: 'ocpp1.6' | 'ocpp2.0.1' = 'ocpp1.6',
): RPCClient {
  return new RPCClient({
    endpoint: sys.ocppUrl,
    identity: stationId,
    protocols: [protocol],
    password,
    reconnect: false,
    strictMode: true,
    callTimeoutMs: 20_000,
  } as unknown as ConstructorParameters<typeof RPCClient>[0]);
}

/**
 * FLAT 1.00 + ENERGY 0.25/kWh (or `energyPrice`), 21 % VAT: the e2e tests' plain tariff (a 12 kWh session costs
 * 4.84; at 0.50/kWh 8.47, at 0.75/kWh 12.10).
 */
export function plainTariff(id: string, energyPrice = 0.25): { id: string } & Record<string, unknown> {
  return {
    country_code: 'NL',
    party_id: 'CSM',
    id,
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: 1.0, vat: 21, step_size: 1 },
          { type: 'ENERGY', price: energyPrice, vat: 21, step_size: 1 },
        ],
      },
    ],
  };
}

/**
 * The e2e tests' 12 kWh charge after a StartTransaction with meterStart 1000 at `at(from)`: a MeterValues at from + 60 s
 * (7,000 Wh; with `powerKw` the sampled power too: a DC fast charge of 12 kWh in two minutes is 360 kW, which the
 * session service accepts as plausible only when told) and the StopTransaction at from + 120 s (13,000 Wh).
 */
export async function chargeTwelveKwh16(
  cp: RPCClient,
  o: {
    transactionId: number;
    at: (seconds: number) => string;
    from?: number;
    connectorId?: number;
    idTag?: string;
    powerKw?: string;
  },
): Promise<void> {
  const from = o.from ?? 0;
  await cp.call('MeterValues', {
    connectorId: o.connectorId ?? 1,
    transactionId: o.transactionId,
    meterValue: [
      {
        timestamp: o.at(from + 60),
        sampledValue: [
          { value: '7000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          ...(o.powerKw === undefined ? [] : [{ value: o.powerKw, measurand: 'Power.Active.Import', unit: 'kW' }]),
        ],
      },
    ],
  });
  await cp.call('StopTransaction', {
    transactionId: o.transactionId,
    ...(o.idTag === undefined ? {} : { idTag: o.idTag }),
    meterStop: 13000,
    timestamp: o.at(from + 120),
    reason: 'Local',
  });
}

/** Waits until a service's database (its URL) has a row for the query: e.g. until its registry copy learnt a change. */
export async function waitForRow(databaseUrl: string, sql: string, params: unknown[], what: string): Promise<void> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await waitFor(async () => ((await db.query(sql, params)).rowCount ?? 0) > 0, { what, timeoutMs: 30_000 });
  } finally {
    await db.end();
  }
}

/** The first CDR a tariff service (its base URL: the system's, or a rebuild's) lists for a station, once there is one. */
export function firstCdrOf(sys: RunningSystem, tariffServiceUrl: string, stationId: string): Promise<Json> {
  return waitFor(
    async () => {
      const r = await fetch(`${tariffServiceUrl}/api/v1/cdrs?stationId=${stationId}`, {
        headers: { authorization: `Bearer ${sys.keys.admin}` },
      });
      return ((await r.json()) as { items: Json[] }).items[0];
    },
    { what: `the CDR of ${stationId}`, timeoutMs: 60_000 },
  );
}

/**
 * A rebuild of the tariff service: a second instance with its own empty database (`database`, dropped by the caller)
 * and consumer group, reading the system's topics from the start; the caller kills it.
 */
export async function startTariffRebuild(sys: RunningSystem, database: string, label: string): Promise<ServiceProcess> {
  return startServiceProcess('tariff-service', {
    ...sys.envs['tariff-service'],
    DATABASE_URL: testDatabaseUrl(database),
    HTTP_PORT: String(await freePort()),
    TARIFF_CONSUMER_GROUP: uniqueName(`${label}-rebuild`),
  });
}
