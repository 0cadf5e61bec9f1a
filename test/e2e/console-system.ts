/**
 * The whole CSMS for the console's browser test (and for working on the console): the five services as
 * their own processes, each with its own database and unique topics, the PSP emulator the payment service calls
 * (in this process), and three API keys (admin, operator, finance). `stop()` kills them and drops their databases.
 */
import { randomUUID } from 'node:crypto';
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

export interface RunningSystem {
  urls: Record<SystemService, string>;
  ocppUrl: string;
  keys: { admin: string; operator: string; finance: string };
  services: Record<SystemService, ServiceProcess>;
  /** the payment service's PSP */
  psp: PspEmulator;
  /** the console server's upstreams: each service by the console's name for it */
  consoleUpstreams: Record<'gateway' | 'sessions' | 'tariffs' | 'reporting' | 'payments', string>;
  stop(): Promise<void>;
}

export async function startSystem(label = 'console'): Promise<RunningSystem> {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const admin = newApiKey(`${label}-admin`, 'admin');
  const operator = newApiKey(`${label}-operator`, 'operator');
  const finance = newApiKey(`${label}-finance`, 'finance');
  const dbs = Object.fromEntries(
    SYSTEM_SERVICES.map((n) => [n, `csms_test_${label}_${n.replace(/-/g, '_')}_${tag}`]),
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
  const webhookPort = await freePort();
  const webhookSecret = `whsec_${randomUUID().replace(/-/g, '')}`;
  const pspKey = `sk_test_${randomUUID().replace(/-/g, '')}`;
  const psp = await startPspEmulator({
    port: 0,
    webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/psp`,
    webhookSecret,
    apiKey: pspKey,
  });
  const env = async (n: SystemService, extra: Record<string, string>) => ({
    ...common,
    DATABASE_URL: testDatabaseUrl(dbs[n]),
    HTTP_PORT: String(await freePort()),
    ...extra,
  });
  const envs: Record<SystemService, Record<string, string>> = {
    'ocpp-gateway': await env('ocpp-gateway', {
      OCPP_PORT: String(ocppPort),
      OCPP_HOST: '127.0.0.1',
      GATEWAY_INSTANCE: `${label}-${tag}`,
    }),
    'session-service': await env('session-service', { SESSION_CONSUMER_GROUP: `${label}-sessions-${tag}` }),
    'tariff-service': await env('tariff-service', { TARIFF_CONSUMER_GROUP: `${label}-tariffs-${tag}` }),
    // the reporting service reads the tariff service's pricing dead letters (billing completeness)
    'reporting-service': await env('reporting-service', {
      REPORTING_CONSUMER_GROUP: `${label}-reporting-${tag}`,
      TARIFF_CONSUMER_GROUP: `${label}-tariffs-${tag}`,
    }),
    'payment-service': await env('payment-service', {
      PAYMENT_CONSUMER_GROUP: `${label}-payments-${tag}`,
      PSP_API_URL: psp.url,
      PSP_API_KEY: pspKey,
      PSP_WEBHOOK_SECRET: webhookSecret,
      PAYMENT_WEBHOOK_PORT: String(webhookPort),
    }),
  };
  const services = {} as Record<SystemService, ServiceProcess>;
  try {
    await Promise.all(
      SYSTEM_SERVICES.map(async (n) => {
        services[n] = await startServiceProcess(n, envs[n], 480_000);
      }),
    );
  } catch (e) {
    for (const s of Object.values(services)) s.kill('SIGKILL');
    await psp.close();
    throw e;
  }
  const urls = Object.fromEntries(SYSTEM_SERVICES.map((n) => [n, services[n].url])) as Record<SystemService, string>;
  return {
    urls,
    psp,
    consoleUpstreams: {
      gateway: urls['ocpp-gateway'],
      sessions: urls['session-service'],
      tariffs: urls['tariff-service'],
      reporting: urls['reporting-service'],
      payments: urls['payment-service'],
    },
    ocppUrl: `ws://127.0.0.1:${ocppPort}/ocpp`,
    keys: { admin: admin.key, operator: operator.key, finance: finance.key },
    services,
    stop: async () => {
      for (const s of Object.values(services)) s.kill('SIGKILL');
      await Promise.all(Object.values(services).map((s) => s.exited()));
      await psp.close();
      await dropTestDatabases(Object.values(dbs));
    },
  };
}
