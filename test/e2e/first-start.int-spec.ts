/**
 * First start on a fresh machine: a broker with a new data directory (no topics, no `__consumer_offsets`
 * yet) and every service started at once as its own process, as `npm start` does, with the default topic
 * and group names. Each service creates its topics and must then wait (bounded, with back-off) until their
 * partitions have leaders and its groups' coordinator answers, instead of exiting on "This server does not
 * host this topic-partition" or "The coordinator is not available". Expected: every `/health/ready` is 200
 * on the first try and no process exited.
 */
import { newApiKey } from '@csms/service-kit';
import {
  dropTestDatabases,
  freePort,
  startDedicatedKafka,
  startServiceProcess,
  testDatabaseUrl,
  threadNices,
  type DedicatedKafka,
  type ServiceProcess,
} from '@csms/testing';

import { PROCESSES } from '../../scripts/services';

const admin = newApiKey('first-start-admin', 'admin');
/** the CPU priority npm start gives each (the consumers below the gateway: CONSUMER_NICE) */
const niceOf = (name: string) => PROCESSES.find((p) => p.name === name)!.nice;
const NAMES = ['ocpp-gateway', 'session-service', 'tariff-service', 'reporting-service'] as const;

describe('first start on a fresh broker: every service ready on the first try', () => {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const dbs = NAMES.map((n) => `csms_test_first_${n.replace(/-/g, '_')}_${tag}`);
  let kafka: DedicatedKafka;
  const started: ServiceProcess[] = [];

  beforeAll(async () => {
    kafka = await startDedicatedKafka();
  }, 120_000);

  afterAll(async () => {
    for (const s of started) s.kill('SIGTERM');
    await Promise.all(started.map((s) => s.exited()));
    await kafka?.destroy();
    await dropTestDatabases(dbs);
  }, 120_000);

  it('starts the gateway, session, tariff and reporting services at once; all ready, none exited', async () => {
    const ports = await Promise.all(NAMES.map(() => freePort()));
    const ocppPort = await freePort();
    // only what differs from the defaults: the broker, the databases, the ports (topic and group names are the real ones)
    const common = { KAFKA_BROKERS: kafka.brokers.join(','), API_KEYS: admin.entry, LOG_LEVEL: 'warn' };
    const envOf = (i: number): Record<string, string> => ({
      ...common,
      DATABASE_URL: testDatabaseUrl(dbs[i]),
      HTTP_PORT: String(ports[i]),
      ...(NAMES[i] === 'ocpp-gateway'
        ? { OCPP_PORT: String(ocppPort), OCPP_HOST: '127.0.0.1', GATEWAY_INSTANCE: `first-${tag}` }
        : {}),
    });
    const outcomes = await Promise.allSettled(
      NAMES.map(async (name, i) => {
        const s = await startServiceProcess(name, envOf(i), 240_000, [], niceOf(name));
        started.push(s);
        return s;
      }),
    );
    const failed = outcomes.flatMap((o, i) =>
      o.status === 'rejected' ? [`${NAMES[i]}: ${(o.reason as Error).message}`] : [],
    );
    expect(failed).toEqual([]);
    // ready, and still running: nobody exited after answering once
    for (const s of started) {
      expect(s.child.exitCode).toBeNull();
      expect(s.child.signalCode).toBeNull();
      expect((await fetch(`${s.url}/health/ready`)).status).toBe(200);
      // at npm start's priority, every thread of it
      expect([s.name, ...new Set(threadNices(s.child.pid!))]).toEqual([s.name, niceOf(s.name)]);
    }
  }, 300_000);
});
