/**
 * What running-cost estimates cost the tariff service (real Kafka and PostgreSQL): CPU of the service process per
 * session.updated, with the estimates off and at two intervals.
 *   npx tsx bench/tariff-running-cost.ts [sessions=200] [updatesPerSession=30] [intervalS=300]
 * A tariff (4 elements: start fee, time-of-day energy, time, parking) is assigned as the default; then `sessions`
 * session.started + `updatesPerSession` session.updated each (one per minute of session time, energy rising) are
 * published while the service is stopped; the service is started again and the CPU time of this process (service,
 * Kafka client, this loop) is measured from its start until both consumers of session.events applied every record. The pricing
 * consumer reads the same topic in every run (and passes the starts and updates over unread, by their `event-type` header,
 * which the records carry as the session service's outbox relay publishes them). Prints a human line and a JSON line.
 */
import os from 'node:os';
import { Client } from 'pg';
import { SessionStartedV1, SessionUpdatedV1, deriveId, systemCatalogue, type Envelope } from '@csms/contracts';
import { KafkaRecordPublisher, createKafka, ensureTopics, eventHeaders } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import { loadTariffServiceConfig } from '../apps/tariff-service/src/config';
import { startTariffService } from '../apps/tariff-service/src/service';
import { benchTariff } from './bench-tariff';

async function main(): Promise<void> {
  const sessions = Number(process.argv[2] ?? 200);
  const updates = Number(process.argv[3] ?? 30);
  const intervalS = Number(process.argv[4] ?? 300);
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const tag = `${process.pid}`;
  const t = (s: string) => `bench.${s}-${tag}`;
  const topics = {
    tariffs: t('tariff-events'),
    sessions: t('session-events'),
    billing: t('billing-events'),
    stations: t('stations'),
    tokens: t('tokens'),
  };
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'bench', logger: silentLogger() });
  const partitions = Number(process.env.KAFKA_PARTITIONS ?? 3);
  await ensureTopics(
    kafka,
    Object.values(topics).map((name) => ({
      name,
      description: 'bench',
      key: 'k',
      retentionMs: 3600_000,
      cleanupPolicy: 'delete' as const,
    })),
    partitions,
  );
  const key = newApiKey('bench', 'finance');
  const db = new URL(base);
  db.pathname = `/csms_bench_trun_${tag}`;
  const cfg = loadTariffServiceConfig({
    KAFKA_BROKERS: brokers,
    KAFKA_PARTITIONS: String(partitions),
    DATABASE_URL: db.toString(),
    HTTP_PORT: '0',
    API_KEYS: key.entry,
    TARIFF_CONSUMER_GROUP: `bench-trun-${tag}`,
    TARIFF_EVENTS_TOPIC: topics.tariffs,
    SESSION_EVENTS_TOPIC: topics.sessions,
    BILLING_EVENTS_TOPIC: topics.billing,
    REGISTRY_STATIONS_TOPIC: topics.stations,
    REGISTRY_TOKENS_TOPIC: topics.tokens,
    DEFAULT_TIME_ZONE: 'Europe/Amsterdam',
    TARIFF_ESTIMATE_INTERVAL_S: String(intervalS),
    LOG_LEVEL: 'silent',
  });
  let svc = await startTariffService(cfg, silentLogger());
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${svc.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const tariff = benchTariff('BENCH');
  if ((await call('PUT', '/api/v1/tariffs/BENCH', tariff)).status !== 200) throw new Error('tariff not accepted');
  if (
    (await call('POST', '/api/v1/tariff-assignments', { tariffId: 'BENCH', scope: { kind: 'default' } })).status !== 201
  )
    throw new Error('assignment not accepted');
  while (Number((await svc.dataSource.query('select count(*)::int as c from tariff_assignments'))[0].c) === 0)
    await new Promise((r) => setTimeout(r, 20));
  await svc.stop();

  // tomorrow 16:30 local: the sessions cross the 17:00 boundary of the time-of-day element
  const day = new Date(Date.now() + 86400_000).toISOString().slice(0, 10);
  const t0 = Date.parse(`${day}T15:30:00Z`);
  const at = (minute: number) => new Date(t0 + minute * 60_000).toISOString();
  const catalogue = systemCatalogue();
  const events: Envelope[] = [];
  for (let i = 0; i < sessions; i++) {
    const sessionId = deriveId('bench-trun-session', tag, i);
    const identity = {
      sessionId,
      stationId: `BENCH-${i}`,
      protocol: 'ocpp2.0.1' as const,
      transactionId: `TX-${i}`,
      evseId: 1,
    };
    events.push(
      catalogue.create(SessionStartedV1, {
        id: deriveId('bench-trun-started', tag, i),
        key: sessionId,
        occurredAt: at(0),
        source: 'bench',
        payload: { ...identity, startedAt: at(0), startKnown: true, sources: [] },
      }),
    );
    for (let u = 1; u <= updates; u++)
      events.push(
        catalogue.create(SessionUpdatedV1, {
          id: deriveId('bench-trun-updated', tag, i, u),
          key: sessionId,
          occurredAt: at(u),
          source: 'bench',
          payload: {
            ...identity,
            status: 'active',
            startedAt: at(0),
            chargingState: u > updates - 5 ? 'SuspendedEV' : 'Charging',
            energyWh: String(Math.min(u, updates - 5) * 183),
            lastReadingAt: at(u),
            missingSeqNos: [],
            flags: [],
          },
        }),
      );
  }
  const publisher = new KafkaRecordPublisher(kafka);
  for (let i = 0; i < events.length; i += 500)
    await publisher.publish(
      // with the headers the session service's outbox relay gives them (the pricing group skips updates by them)
      events
        .slice(i, i + 500)
        .map((e) => ({ topic: topics.sessions, key: e.key, value: JSON.stringify(e), headers: eventHeaders(e) })),
    );
  await publisher.disconnect();

  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  svc = await startTariffService(cfg, silentLogger());
  // every record applied by both consumers of session.events: the running group's inbox holds each record once; the
  // pricing group applies the session.ended records and passes the starts and updates over unread (its stats)
  const total = events.length;
  const done = async () => {
    const running = Number(
      (await svc.dataSource.query(`select count(*)::int as c from inbox where consumer like '%.running'`))[0].c,
    );
    const p = svc.pricingConsumer.stats();
    return Math.min(running, p.applied + p.skipped + p.duplicates);
  };
  while ((await done()) < total) await new Promise((r) => setTimeout(r, 25));
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - wall0) / 1000;
  // what was emitted: billing.events records (one tariff selection per session, the rest estimates)
  while (Number((await svc.dataSource.query('select count(*)::int as c from outbox'))[0].c) > 0)
    await new Promise((r) => setTimeout(r, 25));
  const ka = kafka.admin();
  await ka.connect();
  const offsets = await ka.fetchTopicOffsets(topics.billing);
  await ka.disconnect();
  const estimates = offsets.reduce((x, o) => x + Number(o.high), 0) - sessions;
  await svc.stop();
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`drop database if exists "csms_bench_trun_${tag}" with (force)`);
  await admin.end();
  const a = kafka.admin();
  await a.connect();
  await a.deleteTopics({ topics: Object.values(topics) });
  await a.disconnect();
  const n = sessions * updates;
  const result = {
    bench: 'tariff-running-cost',
    sessions,
    updates: n,
    estimateIntervalS: intervalS,
    seconds: Number(seconds.toFixed(2)),
    cpuMsPerUpdate: Number(((cpu.user + cpu.system) / 1000 / n).toFixed(3)),
    estimates,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  };
  console.log(
    `tariff service: ${n} session.updated (${sessions} sessions, estimate interval ${intervalS} s) in ${result.seconds} s, ${estimates} estimates, ${result.cpuMsPerUpdate} ms CPU per update (start-up included)`,
  );
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
