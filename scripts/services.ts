/**
 * The services `npm start` runs, their ports and databases. Each service reads DATABASE_URL and its
 * HTTP_PORT; here they get their own from `<PREFIX>_DATABASE_URL` / `<PREFIX>_HTTP_PORT` (or the defaults).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface ServiceDef {
  name: string;
  httpPort: number;
  env: Record<string, string>;
  /** node flags of the service's process */
  nodeArgs: string[];
  /** CPU priority of its process (`nice`, 0 = the default; see `CONSUMER_NICE`) */
  nice: number;
  describe(): string[];
}

/**
 * The consumers build many short-lived objects per event; a larger young generation halves their GC work
 * (the tariff service: 5-20 % more CDRs/s in runs of bench/tariff-service.ts), at the cost of up to
 * ~200 MB more memory per process.
 */
export const CONSUMER_NODE_ARGS = ['--max-semi-space-size=64'];

/**
 * The CPU priority (`nice`) of the consuming services' processes when `npm start` runs everything on one machine
 * (`CONSUMER_NICE`, 0–19, default 5): a station waits for the gateway's answer, while a consumer that falls behind
 * for a moment only adds lag it catches up on. Under load the gateway (and the broker it waits for) then gets the
 * CPU first. 0 = the same priority as the gateway.
 */
export function consumerNice(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CONSUMER_NICE;
  if (raw === undefined || raw === '') return 5;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n > 19)
    throw new Error(`CONSUMER_NICE: ${JSON.stringify(raw)} is not a nice value (an integer from 0 to 19)`);
  return n;
}
export const CONSUMER_NICE = consumerNice();

const pg = (db: string) => `postgres://postgres@127.0.0.1:5432/${db}`;

function def(
  name: string,
  prefix: string,
  port: number,
  db: string,
  describe: (port: number) => string[],
  nodeArgs: string[] = [],
  nice = 0,
): ServiceDef {
  const httpPort = Number(process.env[`${prefix}_HTTP_PORT`] ?? port);
  return {
    name,
    httpPort,
    env: { HTTP_PORT: String(httpPort), DATABASE_URL: process.env[`${prefix}_DATABASE_URL`] ?? pg(db) },
    nodeArgs,
    nice,
    describe: () => describe(httpPort),
  };
}

const ALL: ServiceDef[] = [
  def('ocpp-gateway', 'GATEWAY', 3000, 'csms_gateway', (p) => [
    `OCPP endpoint     ws://127.0.0.1:${process.env.OCPP_PORT ?? 9000}/ocpp/{stationId}  (ocpp1.6, ocpp2.0.1)`,
    `gateway API       http://127.0.0.1:${p}/api/v1   docs http://127.0.0.1:${p}/docs`,
  ]),
  def(
    'session-service',
    'SESSION',
    3001,
    'csms_sessions',
    (p) => [`sessions API      http://127.0.0.1:${p}/api/v1   docs http://127.0.0.1:${p}/docs`],
    CONSUMER_NODE_ARGS,
    CONSUMER_NICE,
  ),
  def(
    'tariff-service',
    'TARIFF',
    3002,
    'csms_tariffs',
    (p) => [`tariffs/CDRs API  http://127.0.0.1:${p}/api/v1   docs http://127.0.0.1:${p}/docs`],
    CONSUMER_NODE_ARGS,
    CONSUMER_NICE,
  ),
  def(
    'reporting-service',
    'REPORTING',
    3003,
    'csms_reporting',
    (p) => [`reporting API     http://127.0.0.1:${p}/api/v1   docs http://127.0.0.1:${p}/docs`],
    CONSUMER_NODE_ARGS,
    CONSUMER_NICE,
  ),
];

/**
 * The payment service and the local PSP emulator it calls (through the Stripe adapter, at PSP_API_URL): a webhook
 * secret and a test key of this run, shared by the two (never a default in the configuration). The gateway makes no
 * PSP call: it learns an account is blocked from payment.events.
 */
const pspPort = Number(process.env.PSP_EMULATOR_HTTP_PORT ?? 12111);
const webhookPort = Number(process.env.PAYMENT_WEBHOOK_PORT ?? 3006);
const pspSecrets = {
  webhookSecret: process.env.PSP_WEBHOOK_SECRET ?? `whsec_${randomBytes(24).toString('hex')}`,
  apiKey: process.env.PSP_API_KEY ?? `sk_test_${randomBytes(12).toString('hex')}`,
};
const payment = def(
  'payment-service',
  'PAYMENT',
  3004,
  'csms_payments',
  (p) => [
    `payments API      http://127.0.0.1:${p}/api/v1   docs http://127.0.0.1:${p}/docs`,
    `PSP webhooks      http://127.0.0.1:${webhookPort}/webhooks/psp`,
    `ad-hoc payment    http://127.0.0.1:${p}/pay/{stationId}/{evseId}  (QR: …/qr.svg, …/qr.png)`,
  ],
  CONSUMER_NODE_ARGS,
  CONSUMER_NICE,
);
Object.assign(payment.env, {
  PSP_API_URL: process.env.PSP_API_URL ?? `http://127.0.0.1:${pspPort}`,
  PSP_API_KEY: pspSecrets.apiKey,
  PSP_WEBHOOK_SECRET: pspSecrets.webhookSecret,
  PAYMENT_WEBHOOK_PORT: String(webhookPort),
  // the ad-hoc payment pages read an EVSE's tariff from the tariff service (its key: npm start's admin key)
  TARIFF_API_URL:
    process.env.TARIFF_API_URL ?? `http://127.0.0.1:${ALL.find((s) => s.name === 'tariff-service')!.httpPort}`,
});
const emulator: ServiceDef = {
  name: 'psp-emulator',
  httpPort: pspPort,
  env: {
    HTTP_PORT: String(pspPort),
    // the emulator's payments survive its restarts (as a PSP's would), in the repository's ignored .tmp/
    PSP_EMULATOR_STATE_FILE:
      process.env.PSP_EMULATOR_STATE_FILE ?? path.resolve(__dirname, '..', '.tmp', 'psp-emulator.journal'),
    PSP_EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/webhooks/psp`,
    PSP_EMULATOR_WEBHOOK_SECRET: pspSecrets.webhookSecret,
    PSP_EMULATOR_API_KEY: pspSecrets.apiKey,
  },
  nodeArgs: [],
  nice: 0,
  describe: () => [`PSP emulator      http://127.0.0.1:${pspPort}  (Stripe API subset, hosted payment pages)`],
};
ALL.push(emulator, payment);

/** The processes `npm start` runs whose app exists in this tree (the services and the PSP emulator). */
export const PROCESSES: ServiceDef[] = ALL.filter((s) =>
  existsSync(path.resolve(__dirname, '..', 'apps', s.name, 'src', 'main.ts')),
);

/** The services (an API with dead letters and an outbox) among them. */
export const SERVICES: ServiceDef[] = PROCESSES.filter((s) => s.name !== 'psp-emulator');
