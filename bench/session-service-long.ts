/**
 * Long sessions through the running session service (real Kafka, real PostgreSQL): is the cost of a record
 * the same at the end of a long session as at its start?
 *   npx tsx bench/session-service-long.ts [--stations 1000] [--hours 10] [--interval 10] [--keep-db]
 * Every station (OCPP 1.6) opens one session and sends a MeterValues (energy register, power, current) every
 * `interval` seconds of station time for `hours`, then stops; the stations' records are published interleaved
 * in station time (as a network sends them), so the first tenth of the records is the first tenth of every
 * session. The service starts on a fresh database and topic once the starts and samples are published (a backlog,
 * drained in chunks as after an outage) and is measured from the first record applied to the last; then the
 * StopTransactions are published and timed apart (each builds a session.ended over its whole session). Prints
 * records/s per tenth of the samples (start vs end of the sessions; the last tenth also holds the drain's tail,
 * when the partitions finish one after the other), the time of the ends, the process's peak RSS (the service runs in this process, as in bench/session-service.ts),
 * the machine's load average, and a JSON line.
 */
import os from 'node:os';
import { writeHeapSnapshot } from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import { Client } from 'pg';
import { deriveId, type OcppMessageReceived } from '@csms/contracts';
import { KafkaRecordPublisher, createKafka, ensureTopics } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { loadSessionServiceConfig } from '../apps/session-service/src/config';
import { INBOUND_FOLD, type InboundFold } from '../apps/session-service/src/inbound.consumer';
import { startSessionService } from '../apps/session-service/src/service';
import { dbCpu, dbCpuSince } from './db-cpu';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function record(
  stationId: string,
  seq: number,
  receivedMs: number,
  action: string | undefined,
  payload: unknown,
  response?: unknown,
  kind = 'call',
): OcppMessageReceived {
  const receivedAt = new Date(receivedMs).toISOString();
  return {
    id: deriveId('bench-long', stationId, seq),
    type: 'ocpp.message_received',
    version: 1,
    occurredAt: receivedAt,
    key: stationId,
    source: 'ocpp-gateway',
    causationId: null,
    correlationId: `${stationId}:${seq}`,
    payload: {
      stationId,
      protocol: 'ocpp1.6',
      connectionId: `conn-${stationId}`,
      gatewayInstance: 'gw-bench',
      receivedAt,
      kind,
      ...(action === undefined ? {} : { messageId: `m${seq}`, action, payload }),
      ...(response === undefined ? {} : { response }),
    } as OcppMessageReceived['payload'],
  };
}

/** The records of step `k` of every station: 0 = connect + Preparing + StartTransaction + Charging, 1..samples = MeterValues, samples + 1 = StopTransaction. */
function step(stations: number, k: number, samples: number, intervalS: number, t0: number): OcppMessageReceived[] {
  const out: OcppMessageReceived[] = [];
  for (let i = 0; i < stations; i++) {
    const id = `L-${i}`;
    const tx = 50_000 + i;
    const base = t0 + (i % 10) * 97; // stations are not all in phase
    const iso = (ms: number) => new Date(ms).toISOString();
    if (k === 0) {
      out.push(record(id, 1, base - 2000, undefined, undefined, undefined, 'connected'));
      out.push(
        record(id, 2, base - 1000, 'StatusNotification', {
          connectorId: 1,
          status: 'Preparing',
          errorCode: 'NoError',
          timestamp: iso(base - 1000),
        }),
      );
      out.push(
        record(
          id,
          3,
          base + 200,
          'StartTransaction',
          { connectorId: 1, idTag: 'TAG-LONG', meterStart: 0, timestamp: iso(base) },
          { transactionId: tx, idTagInfo: { status: 'Accepted' } },
        ),
      );
      out.push(
        record(id, 4, base + 300, 'StatusNotification', {
          connectorId: 1,
          status: 'Charging',
          errorCode: 'NoError',
          timestamp: iso(base + 100),
        }),
      );
    } else if (k <= samples) {
      const at = base + k * intervalS * 1000;
      const wh = whAt(k, i);
      const kw = (7 + ((k * 31 + i) % 40) / 10).toFixed(1);
      out.push(
        record(id, 4 + k, at + 100, 'MeterValues', {
          connectorId: 1,
          transactionId: tx,
          meterValue: [
            {
              timestamp: iso(at),
              sampledValue: [
                {
                  value: String(wh),
                  measurand: 'Energy.Active.Import.Register',
                  unit: 'Wh',
                  context: 'Sample.Periodic',
                },
                { value: kw, measurand: 'Power.Active.Import', unit: 'kW', context: 'Sample.Periodic' },
                { value: '16.0', measurand: 'Current.Import', unit: 'A', phase: 'L1', context: 'Sample.Periodic' },
              ],
            },
          ],
        }),
      );
    } else {
      const at = base + k * intervalS * 1000;
      out.push(
        record(
          id,
          4 + k,
          at + 100,
          'StopTransaction',
          { transactionId: tx, meterStop: whAt(samples, i), timestamp: iso(at), reason: 'Local' },
          { idTagInfo: { status: 'Accepted' } },
        ),
      );
    }
  }
  return out;
}

/** The register after sample k: rising by 6 to 30 Wh a sample (monotone), different per station. */
function whAt(k: number, i: number): number {
  return 18 * k + (((k * (k + 1)) / 2) % 13) + (i % 7);
}

async function main(): Promise<void> {
  const stations = flag('stations', 1000);
  const hours = flag('hours', 10);
  const intervalS = flag('interval', 10);
  const samples = Math.round((hours * 3600) / intervalS);
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const tag = `${process.pid}`;
  const inbound = `bench.ocpp-inbound-long-${tag}`;
  const sessions = `bench.session-events-long-${tag}`;
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'bench', logger: silentLogger() });
  const partitions = Number(process.env.KAFKA_PARTITIONS ?? 3);
  await ensureTopics(
    kafka,
    [inbound, sessions].map((name) => ({
      name,
      description: 'bench',
      key: 'k',
      retentionMs: 6 * 3600_000,
      cleanupPolicy: 'delete' as const,
    })),
    partitions,
  );
  const publisher = new KafkaRecordPublisher(kafka);
  const t0 = Date.parse('2026-03-10T08:00:00Z');
  let running = 0;
  let batch: Array<{ topic: string; key: string; value: string }> = [];
  for (let k = 0; k <= samples; k++) {
    for (const e of step(stations, k, samples, intervalS, t0))
      batch.push({ topic: inbound, key: e.key, value: JSON.stringify(e) });
    if (batch.length >= 2000 || k === samples) {
      running += batch.length;
      await publisher.publish(batch);
      batch = [];
    }
  }
  console.log(
    `published ${running} records: ${stations} stations x ${samples} MeterValues (${hours} h at ${intervalS} s); the StopTransactions once they are applied`,
  );

  const db = new URL(base);
  db.pathname = `/csms_bench_long_${tag}`;
  const cfg = loadSessionServiceConfig({
    KAFKA_BROKERS: brokers,
    KAFKA_PARTITIONS: String(partitions),
    DATABASE_URL: db.toString(),
    HTTP_PORT: '0',
    SESSION_CONSUMER_GROUP: `bench-long-${tag}`,
    OCPP_INBOUND_TOPIC: inbound,
    SESSION_EVENTS_TOPIC: sessions,
    LOG_LEVEL: 'silent',
    // the states kept in memory between chunks (the service's default when not set)
    ...(process.env.SESSION_STATE_CACHE_STATIONS
      ? { SESSION_STATE_CACHE_STATIONS: process.env.SESSION_STATE_CACHE_STATIONS }
      : {}),
    ...(process.env.SESSION_STATE_CACHE_ITEMS
      ? { SESSION_STATE_CACHE_ITEMS: process.env.SESSION_STATE_CACHE_ITEMS }
      : {}),
  });
  const svc = await startSessionService(cfg, silentLogger());
  const done = () => svc.consumer.stats().applied + svc.consumer.stats().duplicates;
  while (done() === 0) await new Promise((r) => setTimeout(r, 5));
  const start = performance.now();
  // CPU per record: this process (the service) and the PostgreSQL backends of its database, over the drain
  const poll = new Client({ connectionString: db.toString() });
  await poll.connect();
  const dbBefore = await dbCpu(poll);
  const cpuBefore = process.cpuUsage();
  let gcMs = 0; // garbage collection in this process (the service's heap holds the states kept between chunks)
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const gcMarks: number[] = [];
  // CPU (ms) of the service and of its PostgreSQL backends when each tenth was reached: where a slope comes from
  const cpuMarks: Array<{ service: number; postgres: number }> = [];
  const marks: number[] = []; // ms since start when each tenth was reached
  let peakRss = process.memoryUsage().rss;
  const loads: number[] = [];
  let lastLoad = 0;
  // the backends' CPU as last read: one that closes during the drain (an idle pool connection) keeps its share
  const dbSeen = new Map<number, number>();
  let lastDbRead = 0;
  while (done() < running) {
    await new Promise((r) => setTimeout(r, 20));
    if (performance.now() - lastDbRead > 1000) {
      await dbCpuSince(poll, dbBefore, dbSeen);
      lastDbRead = performance.now();
    }
    const n = done();
    while (marks.length < 10 && n >= ((marks.length + 1) * running) / 10) {
      marks.push(performance.now() - start);
      gcMarks.push(gcMs);
      const c = process.cpuUsage(cpuBefore);
      cpuMarks.push({ service: (c.user + c.system) / 1000, postgres: await dbCpuSince(poll, dbBefore, dbSeen) });
    }
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (performance.now() - lastLoad > 5000) {
      loads.push(os.loadavg()[0]);
      lastLoad = performance.now();
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  const dbMs = await dbCpuSince(poll, dbBefore, dbSeen);
  // what the service's heap holds once the drain is done (for a look at what grows with the sessions' length)
  if (process.env.BENCH_HEAP_SNAPSHOT)
    console.log(`heap snapshot: ${writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT)}`);
  while (marks.length < 10) {
    marks.push(performance.now() - start);
    gcMarks.push(gcMs);
    cpuMarks.push({ service: (cpu.user + cpu.system) / 1000, postgres: dbMs });
  }
  // how the station heads were written: updates, and how many of them were HOT (no index entry, same page)
  const { rows: heads } = await poll.query<{ upd: string; hot: string; bytes: string }>(
    `select n_tup_upd as upd, n_tup_hot_upd as hot, pg_total_relation_size(relid) as bytes
       from pg_stat_user_tables where relname = 'station_state'`,
  );
  await poll.end();
  // the sessions end: every station's StopTransaction (each builds a session.ended over its whole session)
  const stops = step(stations, samples + 1, samples, intervalS, t0);
  const fold = svc.app.get<InboundFold>(INBOUND_FOLD);
  const loadsDrain = fold.stateLoads();
  const endsStart = performance.now();
  await publisher.publish(stops.map((e) => ({ topic: inbound, key: e.key, value: JSON.stringify(e) })));
  await publisher.disconnect();
  const total = running + stops.length;
  while (done() < total) await new Promise((r) => setTimeout(r, 10));
  const endsSeconds = (performance.now() - endsStart) / 1000;
  const loadsEnds = fold.stateLoads() - loadsDrain;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const seconds = marks[9] / 1000;
  const rssEnd = process.memoryUsage().rss;
  await svc.stop();
  const admin = new Client({ connectionString: base });
  await admin.connect();
  if (process.argv.includes('--keep-db')) console.log(`database kept: csms_bench_long_${tag}`);
  else await admin.query(`drop database if exists "csms_bench_long_${tag}" with (force)`);
  await admin.end();
  const a = kafka.admin();
  await a.connect();
  await a.deleteTopics({ topics: [inbound, sessions] });
  await a.disconnect();
  gc.disconnect();
  const gcShare = gcMarks.map((g, i) =>
    Number(((g - (i === 0 ? 0 : gcMarks[i - 1])) / Math.max(1, marks[i] - (i === 0 ? 0 : marks[i - 1]))).toFixed(2)),
  );
  const cpuPerTenth = (k: 'service' | 'postgres') =>
    cpuMarks.map((m, i) => Number(((m[k] - (i === 0 ? 0 : cpuMarks[i - 1][k])) / (running / 10)).toFixed(3)));
  const perTenth = marks.map((m, i) =>
    Math.round(running / 10 / (Math.max(1, m - (i === 0 ? 0 : marks[i - 1])) / 1000)),
  );
  const result = {
    bench: 'session-service-long',
    stations,
    cacheStations: cfg.SESSION_STATE_CACHE_STATIONS,
    cacheItems: cfg.SESSION_STATE_CACHE_ITEMS,
    hours,
    intervalSeconds: intervalS,
    records: running,
    partitions,
    seconds: Number(seconds.toFixed(1)),
    recordsPerSecond: Math.round(running / seconds),
    recordsPerSecondPerTenth: perTenth,
    endOverStart: Number((perTenth[9] / perTenth[0]).toFixed(2)),
    sessionEnds: {
      records: stations,
      seconds: Number(endsSeconds.toFixed(2)),
      perSecond: Math.round(stations / endsSeconds),
    },
    // states whose stored chunks the decider asked for (read back from station_state_parts): drain, ends
    stateLoads: { drain: loadsDrain, ends: loadsEnds },
    gcSharePerTenth: gcShare,
    cpuMsPerRecordPerTenth: { service: cpuPerTenth('service'), postgres: cpuPerTenth('postgres') },
    cpuMsPerRecord: {
      service: Number(((cpu.user + cpu.system) / 1000 / running).toFixed(3)),
      postgres: Number((dbMs / running).toFixed(3)),
    },
    stationStateMb: Math.round(Number(heads[0]?.bytes ?? 0) / 2 ** 20),
    stationHeadUpdates: {
      perRecord: Number((Number(heads[0]?.upd ?? 0) / running).toFixed(2)),
      hot: Number(heads[0]?.hot ?? 0),
      all: Number(heads[0]?.upd ?? 0),
    },
    peakRssMb: Math.round(peakRss / 2 ** 20),
    rssEndMb: Math.round(rssEnd / 2 ** 20),
    loadAverage: { min: Number(Math.min(...loads).toFixed(1)), max: Number(Math.max(...loads).toFixed(1)) },
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  };
  console.log(
    `session service, long sessions: ${running} records in ${result.seconds} s = ${result.recordsPerSecond} records/s`,
  );
  console.log(
    `records/s per tenth of the sessions (start -> end): ${perTenth.join(' ')}  (end/start ${result.endOverStart})`,
  );
  console.log(`share of the time in garbage collection per tenth: ${gcShare.join(' ')}`);
  console.log(
    `CPU ms per record per tenth: service ${result.cpuMsPerRecordPerTenth.service.join(' ')}; PostgreSQL ${result.cpuMsPerRecordPerTenth.postgres.join(' ')}`,
  );
  console.log(
    `CPU per record: service ${result.cpuMsPerRecord.service} ms, its PostgreSQL backends ${result.cpuMsPerRecord.postgres} ms; station head updates ${result.stationHeadUpdates.perRecord} per record (${result.stationHeadUpdates.hot} of ${result.stationHeadUpdates.all} HOT); station_state ${result.stationStateMb} MB`,
  );
  console.log(
    `then the ${stations} StopTransactions (session.ended), published once the rest was applied: ${result.sessionEnds.seconds} s = ${result.sessionEnds.perSecond}/s; stored chunks read back: ${loadsDrain} during the drain, ${loadsEnds} for the ends`,
  );
  console.log(
    `peak RSS ${result.peakRssMb} MB, at the end ${result.rssEndMb} MB; load average ${result.loadAverage.min}-${result.loadAverage.max}`,
  );
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
