/**
 * Inbound records folded per second by the running session service (real Kafka, real PostgreSQL).
 *   npx tsx bench/session-service.ts [stations=1000]
 * Publishes one recorded session per station (1.6 and 2.0.1 alternating, ~14 records each) to a fresh
 * topic, starts the service on a fresh database, and measures from the first record consumed to the
 * last one applied. Prints a human line and a JSON line.
 */
import os from 'node:os';
import { Client } from 'pg';
import { KafkaRecordPublisher, createKafka, ensureTopics } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { loadSessionServiceConfig } from '../apps/session-service/src/config';
import { startSessionService } from '../apps/session-service/src/service';
import { ocpp16Session, ocpp201Session } from '../apps/session-service/test/recordings';

async function main(): Promise<void> {
  const stations = Number(process.argv[2] ?? 1000);
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const tag = `${process.pid}`;
  const inbound = `bench.ocpp-inbound-${tag}`;
  const sessions = `bench.session-events-${tag}`;
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'bench', logger: silentLogger() });
  const partitions = Number(process.env.KAFKA_PARTITIONS ?? 3);
  await ensureTopics(
    kafka,
    [inbound, sessions].map((name) => ({
      name,
      description: 'bench',
      key: 'k',
      retentionMs: 3600_000,
      cleanupPolicy: 'delete' as const,
    })),
    partitions,
  );
  const publisher = new KafkaRecordPublisher(kafka);
  const records = Array.from({ length: stations }, (_, i) =>
    i % 2 === 0 ? ocpp16Session(`B-${i}`, '2026-03-10', 3000 + i) : ocpp201Session(`B-${i}`),
  ).flatMap((r) => r.records);
  for (let i = 0; i < records.length; i += 2000) {
    await publisher.publish(
      records.slice(i, i + 2000).map((e) => ({ topic: inbound, key: e.key, value: JSON.stringify(e) })),
    );
  }
  await publisher.disconnect();
  const db = new URL(base);
  db.pathname = `/csms_bench_sessions_${tag}`;
  const cfg = loadSessionServiceConfig({
    KAFKA_BROKERS: brokers,
    KAFKA_PARTITIONS: String(partitions),
    DATABASE_URL: db.toString(),
    HTTP_PORT: '0',
    SESSION_CONSUMER_GROUP: `bench-${tag}`,
    OCPP_INBOUND_TOPIC: inbound,
    SESSION_EVENTS_TOPIC: sessions,
    LOG_LEVEL: 'silent',
  });
  const svc = await startSessionService(cfg, silentLogger());
  let first = 0;
  while (svc.consumer.stats().applied === 0) await new Promise((r) => setTimeout(r, 5));
  first = performance.now();
  while (svc.consumer.stats().applied + svc.consumer.stats().duplicates < records.length)
    await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - first) / 1000;
  await svc.stop();
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`drop database if exists "csms_bench_sessions_${tag}" with (force)`);
  await admin.end();
  const a = kafka.admin();
  await a.connect();
  await a.deleteTopics({ topics: [inbound, sessions] });
  await a.disconnect();
  const result = {
    bench: 'session-service',
    stations,
    records: records.length,
    partitions,
    seconds: Number(seconds.toFixed(2)),
    recordsPerSecond: Math.round(records.length / seconds),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  };
  console.log(
    `session service: ${result.records} inbound records (${stations} sessions) in ${result.seconds} s = ${result.recordsPerSecond} records/s`,
  );
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
