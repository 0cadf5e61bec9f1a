/**
 * CDRs priced per second by the running tariff service (real Kafka and PostgreSQL).
 *   npx tsx bench/tariff-service.ts [sessions=2000]
 * Publishes session.ended events (the contract's example session, one per station, dated tomorrow) to a
 * fresh topic, assigns a 4-element time-of-day tariff as the default, and measures from the first CDR
 * stored to the last: CDRs per second over that span (the CDRs stored in it), and CPU per CDR of this process
 * (the service with its three consumers and relay, the Kafka client, the polling; the events are published
 * before the span) and of the PostgreSQL backends of the service's database (not the polling connection's).
 * `BENCH_CPU_PROFILE=file.cpuprofile` writes a V8 CPU profile of this process over the same span.
 * The process runs with the node flags `npm start` gives the service (`CONSUMER_NODE_ARGS`, a larger young
 * generation); `BENCH_NODE_ARGS=''` runs it without them (the figures before 2026-12-05's third pass).
 * `BENCH_TARIFFS=N`: the catalogue holds N tariffs (N − 1 more, three versions each, assigned to other sites). After
 * the run it times what a chunk pays for the catalogue (`catalogueReadMs`, wall time, mean of 20): read whole, as
 * every chunk did before 2026-12-07, and kept while the catalogue's revision stands; and `resolveMs`, the mean wall
 * time of 50 `GET /api/v1/tariff-assignments/resolve` through the HTTP API (an ad-hoc payment page asks it).
 * Prints a human line and a JSON line.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Client } from 'pg';
import { SessionEndedV2, deriveId, systemCatalogue } from '@csms/contracts';
import { KafkaRecordPublisher, createKafka, ensureTopics, eventHeaders } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import { loadTariffServiceConfig } from '../apps/tariff-service/src/config';
import { startTariffService } from '../apps/tariff-service/src/service';
import { PricingStore } from '../apps/tariff-service/src/pricing.store';
import { dbCpu, dbCpuSince } from './db-cpu';
import { benchTariff } from './bench-tariff';
import { CONSUMER_NODE_ARGS } from '../scripts/services';

const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? CONSUMER_NODE_ARGS.join(' ')).split(' ').filter((a) => a !== '');

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2000);
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
  db.pathname = `/csms_bench_tariffs_${tag}`;
  const svc = await startTariffService(
    loadTariffServiceConfig({
      KAFKA_BROKERS: brokers,
      KAFKA_PARTITIONS: String(partitions),
      DATABASE_URL: db.toString(),
      HTTP_PORT: '0',
      API_KEYS: key.entry,
      TARIFF_CONSUMER_GROUP: `bench-${tag}`,
      TARIFF_EVENTS_TOPIC: topics.tariffs,
      SESSION_EVENTS_TOPIC: topics.sessions,
      BILLING_EVENTS_TOPIC: topics.billing,
      REGISTRY_STATIONS_TOPIC: topics.stations,
      REGISTRY_TOKENS_TOPIC: topics.tokens,
      DEFAULT_TIME_ZONE: 'Europe/Amsterdam',
      LOG_LEVEL: 'silent',
    }),
    silentLogger(),
  );
  const call = (method: string, path: string, body: unknown) =>
    fetch(`${svc.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const tariff = benchTariff('BENCH');
  if ((await call('PUT', '/api/v1/tariffs/BENCH', tariff)).status !== 200) throw new Error('tariff not accepted');
  if (
    (await call('POST', '/api/v1/tariff-assignments', { tariffId: 'BENCH', scope: { kind: 'default' } })).status !== 201
  )
    throw new Error('assignment not accepted');
  // a catalogue of a real network's size: more tariffs, each with three versions, assigned to sites the bench's
  // stations are not at (the sessions are still priced with BENCH)
  const extraTariffs = Number(process.env.BENCH_TARIFFS ?? 1) - 1;
  for (let i = 1; i <= extraTariffs; i++) {
    const id = `SITE-TARIFF-${i}`;
    for (let v = 1; v <= 3; v++) {
      const other = benchTariff(id);
      other.elements[0].price_components[0].price = 0.5 + v / 100;
      if ((await call('PUT', `/api/v1/tariffs/${id}`, other)).status !== 200) throw new Error(`${id} not accepted`);
    }
    const scope = { kind: 'site', siteId: `SITE-${i}` };
    if ((await call('POST', '/api/v1/tariff-assignments', { tariffId: id, scope })).status !== 201)
      throw new Error(`${id}'s assignment not accepted`);
  }

  const day = new Date(Date.now() + 86400_000).toISOString().slice(0, 10);
  const catalogue = systemCatalogue();
  const ex = SessionEndedV2.example;
  const shift = (s: string) => s.replace('2026-03-01', day);
  const events = Array.from({ length: n }, (_, i) => {
    const sessionId = deriveId('bench-session', tag, i);
    return catalogue.create(SessionEndedV2, {
      id: deriveId('bench-ended', tag, i),
      key: sessionId,
      occurredAt: shift(ex.endedAt),
      source: 'bench',
      payload: {
        ...ex,
        sessionId,
        stationId: `BENCH-${i}`,
        startedAt: shift(ex.startedAt),
        endedAt: shift(ex.endedAt),
        chargingPeriods: ex.chargingPeriods.map((p) => ({
          ...p,
          startDateTime: shift(p.startDateTime),
          endDateTime: shift(p.endDateTime),
        })),
        energyTimeline: ex.energyTimeline.map((x) => ({ ...x, at: shift(x.at) })),
      },
    });
  });
  const publisher = new KafkaRecordPublisher(kafka);
  for (let i = 0; i < events.length; i += 200) {
    await publisher.publish(
      events
        .slice(i, i + 200)
        .map((e) => ({ topic: topics.sessions, key: e.key, value: JSON.stringify(e), headers: eventHeaders(e) })),
    );
  }
  await publisher.disconnect();
  const poll = new Client({ connectionString: db.toString() });
  await poll.connect();
  const count = async () => Number((await poll.query('select count(*)::int as c from cdrs')).rows[0].c);
  const profileTo = process.env.BENCH_CPU_PROFILE;
  const inspector = profileTo ? new Session() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
  }
  let before = 0;
  while ((before = await count()) === 0) await new Promise((r) => setTimeout(r, 5));
  const first = performance.now();
  const cpu0 = process.cpuUsage();
  const db0 = await dbCpu(poll);
  if (inspector) await inspector.post('Profiler.start');
  let last = before;
  while ((last = await count()) < n) await new Promise((r) => setTimeout(r, 25));
  const seconds = (performance.now() - first) / 1000;
  // CPU of this process (service, Kafka client, this loop) over the same span: steadier than wall clock on a busy machine
  const cpu = process.cpuUsage(cpu0);
  const dbMs = await dbCpuSince(poll, db0);
  if (inspector) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(profileTo!, JSON.stringify(profile));
    inspector.disconnect();
  }
  // how the outbox values went to the broker (from memory or read back) and how the large columns are compressed
  const relayed = { ...svc.runtime.relay.counts };
  const { rows: lz4 } = await poll.query<{ c: string }>(
    `select attrelid::regclass || '.' || attname as c from pg_attribute where attcompression = 'l' order by 1`,
  );
  await poll.end();
  // what one chunk pays for the catalogue: read and parsed whole (a store of its own: every chunk before 2026-12-07),
  // and with the versions and assignments kept while the catalogue's revision stands (a warm store: now)
  const timeSnapshot = async (store: PricingStore) => {
    const t0 = performance.now();
    await store.catalogueSnapshot(svc.dataSource.manager, ['BENCH-0']);
    return performance.now() - t0;
  };
  const warm = new PricingStore(systemCatalogue());
  await timeSnapshot(warm);
  const reps = 20;
  let coldMs = 0;
  let warmMs = 0;
  for (let i = 0; i < reps; i++) {
    coldMs += await timeSnapshot(new PricingStore(systemCatalogue()));
    warmMs += await timeSnapshot(warm);
  }
  const catalogueReadMs = { whole: Number((coldMs / reps).toFixed(3)), kept: Number((warmMs / reps).toFixed(3)) };
  // what an ad-hoc payment page's question costs: the tariff that applies to an EVSE, through the HTTP API
  const resolvePath = '/api/v1/tariff-assignments/resolve?stationId=BENCH-0&evseId=1';
  if ((await call('GET', resolvePath, undefined)).status !== 200) throw new Error('resolve did not answer');
  const resolveStart = performance.now();
  for (let i = 0; i < 50; i++) await (await call('GET', resolvePath, undefined)).arrayBuffer();
  const resolveMs = Number(((performance.now() - resolveStart) / 50).toFixed(3));
  const measured = Math.max(1, last - before);
  const cpuMsPerCdr = (cpu.user + cpu.system) / 1000 / measured;
  const dbCpuMsPerCdr = dbMs / measured;
  await svc.stop();
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`drop database if exists "csms_bench_tariffs_${tag}" with (force)`);
  await admin.end();
  const a = kafka.admin();
  await a.connect();
  await a.deleteTopics({ topics: Object.values(topics) });
  await a.disconnect();
  const result = {
    bench: 'tariff-service',
    sessions: n,
    tariffs: extraTariffs + 1,
    partitions,
    seconds: Number(seconds.toFixed(2)),
    measuredCdrs: measured,
    cdrsPerSecond: Math.round(measured / seconds),
    cpuMsPerCdr: Number(cpuMsPerCdr.toFixed(3)),
    dbCpuMsPerCdr: Number(dbCpuMsPerCdr.toFixed(3)),
    catalogueReadMs,
    resolveMs,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    nodeArgs: NODE_ARGS.join(' '),
    outbox: relayed,
    lz4Columns: lz4.map((r) => r.c),
  };
  console.log(
    `tariff service: ${measured} of ${n} sessions priced into CDRs (catalogue of ${result.tariffs} tariffs) in ${result.seconds} s = ${result.cdrsPerSecond} CDRs/s; ` +
      `CPU per CDR ${result.cpuMsPerCdr} ms (service process) + ${result.dbCpuMsPerCdr} ms (PostgreSQL); ` +
      `a chunk's catalogue read whole ${catalogueReadMs.whole} ms, kept ${catalogueReadMs.kept} ms (wall time); ` +
      `GET …/tariff-assignments/resolve ${resolveMs} ms; ` +
      `node flags '${result.nodeArgs}'; load average ${result.loadAverage.join(' ')}`,
  );
  console.log(JSON.stringify(result));
  process.exit(0);
}

if (process.env.BENCH_TARIFF_CHILD !== '1' && NODE_ARGS.length > 0) {
  // again, in a process with the service's node flags
  const r = spawnSync(process.execPath, [...process.execArgv, ...NODE_ARGS, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_TARIFF_CHILD: '1' },
  });
  process.exit(r.status ?? 1);
} else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
