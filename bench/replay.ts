/**
 * Replay at scale: rebuild sessions and CDRs from a large `ocpp.inbound` log (real Kafka and PostgreSQL).
 *   npx tsx bench/replay.ts [--records 2000000] [--template 200] [--live] [--sessions-only] [--instances N] [--overlap] [--drop-log]
 *
 * 1. The log (generated ONCE, then reused: a later run finds `bench.replay.inbound-v2-<records>` full and skips
 *    this step): the simulator (apps/simulator; mixed 1.6 / 2.0.1, 2 connectors, busy stations: one session per
 *    connector of 30-50 minutes of charging after a gap of up to 5 minutes, a MeterValues every 30 s; about 215
 *    records per station in about an hour) plays `--template` stations (whole plans) against an in-process OCPP
 *    server that answers as the gateway answers an accepted station. What they said is copied onto as many
 *    stations as it takes (station ids `RP<copy>-<n>`, their own connections: copy k repeats station n's plan),
 *    the copies interleaved in receive order, each record made by the gateway's own `InboundRecorder` (same
 *    envelope, ids and key; receive time = the simulated station clock), until the topic holds exactly
 *    `--records` records (sessions still open at the cut stay open). 2,000,000 records = about 9,400 stations.
 *    A default tariff is published first to `bench.replay.tariff-events-v2-<records>` (station time starts the
 *    next day at 06:00 UTC: a tariff applies to sessions that start after its publication).
 *    `--live`: while the log is written, a session service and a tariff service consume it (the live path);
 *    the digests of their output are kept beside the log (os.tmpdir()) for step 4.
 * 2. Stage "sessions": `rebuildSessionStore` (empty database, group at offset 0), then the session service (in
 *    this process) folds the whole log and re-emits its session events into a fresh topic; timed from the rebuild
 *    call to the last record applied and the outbox empty. SESSION_CHUNK_SIZE, SESSION_STATE_CACHE_STATIONS,
 *    SESSION_STATE_CACHE_ITEMS and SESSION_PARTITIONS_CONCURRENCY are taken from the environment. `--instances N`:
 *    the service runs as N processes of its own in one consumer group instead (as a deployment scales it out; the
 *    log's partitions shared among them); their CPU is added to this process's, their GC is not measured.
 *    `--overlap` (with `--instances`): the tariff service's stage starts with this one and prices the session events as
 *    they are written, as a deployment rebuilding both services at once would; the whole replay is then timed from
 *    the session rebuild to the last billing event, and the stage "cdrs" counts this process's CPU.
 * 3. Stage "cdrs": `rebuildTariffService`, then the tariff service prices the rebuilt session events (catalogue,
 *    pricing and running-cost consumers); timed to every session event applied by both and the outbox empty.
 * 4. Digests: SHA-256 over the sorted values of the session events and of the billing events (CDRs, tariff
 *    selections, cost estimates; the session topic's name in a CDR's audit written as a placeholder), compared
 *    with the live run's when the log was made with `--live` (`identical`).
 * Prints records/s per stage, wall time, CPU of this process and of the stage's PostgreSQL backends (in all and in
 * ms per record), the share of the stage's wall time spent in garbage collection, peak RSS, the load average, and a
 * JSON line. `REPLAY_CPU_PROFILE=<prefix>` writes a V8 CPU profile of this process per stage
 * (`<prefix>.sessions.cpuprofile`, `<prefix>.cdrs.cpuprofile`). The rebuilt databases and output topics are deleted at the end; the log is
 * kept (`--drop-log` deletes it).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { RPCServer } from 'ocpp-rpc';
import { KafkaRecordPublisher, createKafka, ensureTopics, type OutgoingRecord } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { freePort, startServiceProcess } from '@csms/testing';
import { newApiKey } from '@csms/service-kit';
import { InboundRecorder, type InboundFact } from '../apps/ocpp-gateway/src/ocpp/inbound-recorder';
import { loadSessionServiceConfig } from '../apps/session-service/src/config';
import { rebuildSessionStore } from '../apps/session-service/src/rebuild';
import { startSessionService, type RunningSessionService } from '../apps/session-service/src/service';
import { Simulation } from '../apps/simulator/src';
import { loadTariffServiceConfig } from '../apps/tariff-service/src/config';
import { rebuildTariffService } from '../apps/tariff-service/src/rebuild';
import { startTariffService, type RunningTariffService } from '../apps/tariff-service/src/service';
import { benchTariff } from './bench-tariff';
import { procCpuMs, watchDbCpu } from './db-cpu';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const has = (name: string) => process.argv.includes(`--${name}`);

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const pgBase = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const partitions = Number(process.env.KAFKA_PARTITIONS ?? 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function dbUrl(name: string): string {
  const u = new URL(pgBase);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDb(name: string): Promise<void> {
  const c = new Client({ connectionString: pgBase });
  await c.connect();
  await c.query(`drop database if exists "${name}" with (force)`);
  await c.end();
}

async function createTopics(kafka: Kafka, names: string[]): Promise<void> {
  await ensureTopics(
    kafka,
    names.map((name) => ({ name, description: 'bench', key: 'k', retentionMs: -1, cleanupPolicy: 'delete' as const })),
    partitions,
  );
}

async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const a = kafka.admin();
  await a.connect();
  const existing = new Set(await a.listTopics());
  const gone = topics.filter((t) => existing.has(t));
  if (gone.length) await a.deleteTopics({ topics: gone });
  await a.disconnect();
}

async function size(kafka: Kafka, topic: string): Promise<number> {
  const a = kafka.admin();
  await a.connect();
  try {
    if (!(await a.listTopics()).includes(topic)) return 0;
    return (await a.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await a.disconnect();
  }
}

/** SHA-256 over a topic's record values, sorted (the order across partitions is not part of the output), and their count. */
async function digest(
  kafka: Kafka,
  topic: string,
  /**
   * a topic name the values may name (a CDR's audit names its session event's topic), written as `<session-events>`;
   * the audit's offset of that event too (`<offset>`): where a rebuilt event lands in its partition depends on how
   * the relay interleaved the keys of concurrently committed chunks, not on what was decided
   */
  rename?: string,
): Promise<{ records: number; sha256: string }> {
  const n = await size(kafka, topic);
  const values: string[] = [];
  if (n > 0) {
    const consumer = kafka.consumer({ groupId: `bench.replay.digest-${process.pid}-${topic}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const v = message.value!.toString();
        values.push(
          rename
            ? v
                .split(`"${rename}"`)
                .join('"<session-events>"')
                .replace(/("sourceEvent":\{[^}]*?"offset":")\d+(")/g, '$1<offset>$2')
            : v,
        );
      },
    });
    while (values.length < n) await sleep(50);
    await consumer.disconnect();
    const a = kafka.admin();
    await a.connect();
    await a.deleteGroups([`bench.replay.digest-${process.pid}-${topic}`]).catch(() => undefined);
    await a.disconnect();
  }
  values.sort();
  if (process.env.REPLAY_DUMP) writeFileSync(path.join(process.env.REPLAY_DUMP, `${topic}.jsonl`), values.join('\n'));
  const h = createHash('sha256');
  for (const v of values) h.update(v).update('\n');
  return { records: values.length, sha256: h.digest('hex') };
}

async function outboxDepth(svc: { dataSource: { query: (q: string) => Promise<Array<{ c: number }>> } }) {
  return Number((await svc.dataSource.query('select count(*)::int as c from outbox'))[0].c);
}

/** The session service's environment in the bench (also what `--instances` gives each process). */
function sessionEnv(tag: string, inbound: string, out: string): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers,
    KAFKA_PARTITIONS: String(partitions),
    DATABASE_URL: dbUrl(`csms_bench_replay_sessions_${tag}`),
    HTTP_PORT: '0',
    SESSION_CONSUMER_GROUP: `bench.replay.sessions-${tag}`,
    OCPP_INBOUND_TOPIC: inbound,
    SESSION_EVENTS_TOPIC: out,
    LOG_LEVEL: 'silent',
    // the service's tuning from the environment (SESSION_CHUNK_SIZE, SESSION_STATE_CACHE_STATIONS, ...)
    ...Object.fromEntries(
      Object.entries(process.env).filter(([k]) =>
        /^SESSION_(CHUNK_SIZE|STATE_CACHE_STATIONS|STATE_CACHE_ITEMS|PARTITIONS_CONCURRENCY)$/.test(k),
      ) as Array<[string, string]>,
    ),
  };
}

function sessionCfg(tag: string, inbound: string, out: string) {
  return loadSessionServiceConfig(sessionEnv(tag, inbound, out));
}

function tariffCfg(tag: string, tariffs: string, sessions: string, billing: string, apiKeys = '') {
  return loadTariffServiceConfig({
    KAFKA_BROKERS: brokers,
    KAFKA_PARTITIONS: String(partitions),
    DATABASE_URL: dbUrl(`csms_bench_replay_tariffs_${tag}`),
    HTTP_PORT: '0',
    ...(apiKeys ? { API_KEYS: apiKeys } : {}),
    TARIFF_CONSUMER_GROUP: `bench.replay.tariffs-${tag}`,
    TARIFF_EVENTS_TOPIC: tariffs,
    SESSION_EVENTS_TOPIC: sessions,
    BILLING_EVENTS_TOPIC: billing,
    REGISTRY_STATIONS_TOPIC: `bench.replay.stations-${tag}`,
    REGISTRY_TOKENS_TOPIC: `bench.replay.tokens-${tag}`,
    DEFAULT_TIME_ZONE: 'Europe/Amsterdam',
    LOG_LEVEL: 'silent',
  });
}

/** Publishes the bench's default tariff (effective from 2020) to `topic` through a throwaway tariff service. */
async function publishTariff(kafka: Kafka, topic: string): Promise<void> {
  const tag = `tariffsetup_${process.pid}`;
  const key = newApiKey('bench', 'finance');
  const svc = await startTariffService(
    tariffCfg(tag, topic, `bench.replay.none-${tag}`, `bench.replay.none-billing-${tag}`, key.entry),
    silentLogger(),
  );
  const call = (method: string, p: string, body: unknown) =>
    fetch(`${svc.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const tariff = benchTariff('REPLAY');
  const put = await call('PUT', '/api/v1/tariffs/REPLAY', tariff);
  if (put.status !== 200) throw new Error(`tariff not accepted: ${put.status} ${await put.text()}`);
  const assign = await call('POST', '/api/v1/tariff-assignments', {
    tariffId: 'REPLAY',
    scope: { kind: 'default' },
  });
  if (assign.status !== 201) throw new Error(`assignment not accepted: ${assign.status} ${await assign.text()}`);
  while ((await outboxDepth(svc)) > 0 || (await size(kafka, topic)) < 2) await sleep(50);
  await svc.stop();
  await dropDb(`csms_bench_replay_tariffs_${tag}`);
  await deleteTopics(kafka, [
    `bench.replay.none-${tag}`,
    `bench.replay.none-billing-${tag}`,
    `bench.replay.stations-${tag}`,
    `bench.replay.tokens-${tag}`,
    `dlq.bench.replay.tariffs-${tag}.catalogue`,
    `dlq.bench.replay.tariffs-${tag}.pricing`,
    `dlq.bench.replay.tariffs-${tag}.running`,
  ]);
}

type Client16 = {
  identity: string;
  protocol?: string;
  handle: (m: (o: { messageId: string; method: string; params: Record<string, unknown> }) => Promise<unknown>) => void;
  on: (ev: string, f: () => void) => void;
};

/** One thing a template station said, as the gateway saw it: its connection, the fact, and the receive time (station clock). */
interface Said {
  station: number;
  protocol: 'ocpp1.6' | 'ocpp2.0.1';
  connection: number;
  fact: InboundFact;
  at: number;
}

/**
 * Plays `stations` simulated stations (the simulator, whole plans) against an in-process OCPP server that
 * answers like the gateway answers an accepted, registered station, and returns what they said in order.
 */
async function playTemplate(stations: number, start: string, speed: number): Promise<Said[]> {
  const said: Said[] = [];
  const server = new RPCServer({ protocols: ['ocpp1.6', 'ocpp2.0.1'], strictMode: false });
  let tx = 1;
  let conn = 0;
  let clock: () => number = () => Date.parse(start);
  const index = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1)) - 1;
  server.on('client', (raw: unknown) => {
    const c = raw as Client16;
    const who = {
      station: index(c.identity),
      protocol: (c.protocol ?? 'ocpp1.6') as Said['protocol'],
      connection: ++conn,
    };
    said.push({ ...who, fact: { kind: 'connected' }, at: clock() });
    c.on('close', () => said.push({ ...who, fact: { kind: 'disconnected', reason: 'closed' }, at: clock() }));
    c.handle(async ({ messageId, method, params }) => {
      const v16 = who.protocol === 'ocpp1.6';
      const at = clock();
      const now = new Date(at).toISOString();
      let response: unknown;
      switch (method) {
        case 'BootNotification':
          response = { status: 'Accepted', currentTime: now, interval: 300 };
          break;
        case 'Heartbeat':
          response = { currentTime: now };
          break;
        case 'Authorize':
          response = v16 ? { idTagInfo: { status: 'Accepted' } } : { idTokenInfo: { status: 'Accepted' } };
          break;
        case 'StartTransaction':
          response = { transactionId: tx++, idTagInfo: { status: 'Accepted' } };
          break;
        case 'StopTransaction':
          response = params.idTag ? { idTagInfo: { status: 'Accepted' } } : {};
          break;
        case 'TransactionEvent':
          response = params.idToken ? { idTokenInfo: { status: 'Accepted' } } : {};
          break;
        default:
          response = {};
      }
      said.push({ ...who, fact: { kind: 'call', messageId, action: method, payload: params, response }, at });
      return response;
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const sim = new Simulation({
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ocpp`,
    stations,
    connectors: 2,
    sessions: 1,
    protocol: 'mixed',
    seed: 16,
    prefix: 'T-',
    shape: {
      base: 'quick',
      gapSeconds: [10, 300],
      chargeSeconds: [30 * 60, 50 * 60],
      idleSeconds: [60, 600],
      batteryWh: [30_000, 80_000],
      maxPowerW: [7_000, 22_000],
    },
    sampleIntervalSeconds: 30,
    speed,
    startTime: start,
    strict: false,
    keepLog: false,
    backoff: { initialMs: 200, maxMs: 5000 },
  });
  clock = () => sim.clock.startTime + sim.clock.virtualNow();
  await sim.run();
  await server.close({ force: true });
  return said;
}

/**
 * The log: a template fleet played by the simulator, copied onto `copies` x template-size stations (station id
 * `RP<copy>-<n>`, their own connection ids; the same plans, so copy k of a station repeats its sessions), the
 * copies interleaved record by record in receive order, each record made by the gateway's InboundRecorder, until
 * the topic holds exactly `target` records.
 */
async function generate(kafka: Kafka, topic: string, target: number, templateStations: number) {
  const t0 = performance.now();
  // station time starts tomorrow at 06:00 UTC: after the tariff's publication (a tariff applies to sessions that start after it)
  const start = new Date(Math.floor(Date.now() / 86400_000 + 1) * 86400_000 + 6 * 3600_000).toISOString();
  const said = await playTemplate(templateStations, start, Number(process.env.REPLAY_SIM_SPEED ?? 30));
  said.sort((x, y) => x.at - y.at); // stable: each station's order is kept
  const copies = Math.ceil(target / said.length);
  console.log(
    `template: ${templateStations} stations said ${said.length} things in ${Math.round((performance.now() - t0) / 1000)} s; ${copies} copies = ${copies * templateStations} stations`,
  );
  const publisher = new KafkaRecordPublisher(kafka);
  let pending: OutgoingRecord[] = [];
  let at = 0;
  const recorder = new InboundRecorder(
    { publish: async (r) => void pending.push(r) },
    topic,
    'gw-replay',
    () => new Date(at),
  );
  let written = 0;
  for (const x of said) {
    at = x.at;
    for (let k = 0; k < copies && written < target; k++, written++) {
      void recorder.record(
        {
          stationId: `RP${String(k).padStart(3, '0')}-${String(x.station + 1).padStart(4, '0')}`,
          protocol: x.protocol,
          connectionId: `replay-${k}-${x.connection}`,
        },
        x.fact,
      );
    }
    if (pending.length >= 5000 || written >= target) {
      await publisher.publish(pending);
      pending = [];
    }
    if (written >= target) break;
  }
  if (pending.length) await publisher.publish(pending);
  await publisher.disconnect();
  return { templateStations, stations: copies * templateStations, seconds: (performance.now() - t0) / 1000 };
}

interface Usage {
  wallSeconds: number;
  cpuSeconds: number;
  /** share of the wall time spent in garbage collection (pauses of this process) */
  gcShare: number;
}
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

/** Starts measuring a stage (and profiling it with `REPLAY_CPU_PROFILE`); the function returned ends it. */
async function meter(stage: string, profile = true): Promise<() => Promise<Usage>> {
  const prefix = profile ? process.env.REPLAY_CPU_PROFILE : undefined;
  let inspector: Session | undefined;
  if (prefix) {
    inspector = new Session();
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const g0 = gcMs;
  return async (): Promise<Usage> => {
    const c = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    const gc = gcMs - g0;
    if (inspector) {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(`${prefix}.${stage}.cpuprofile`, JSON.stringify(profile));
      inspector.disconnect();
    }
    return {
      wallSeconds: Number((wall / 1000).toFixed(1)),
      cpuSeconds: Number(((c.user + c.system) / 1e6).toFixed(1)),
      gcShare: Number((gc / wall).toFixed(2)),
    };
  };
}

/** CPU ms per record: this process and the stage's PostgreSQL backends. */
const perRecord = (u: Usage & { dbCpuSeconds: number }, n: number) => ({
  processMs: Number(((u.cpuSeconds * 1000) / n).toFixed(3)),
  postgresMs: Number(((u.dbCpuSeconds * 1000) / n).toFixed(3)),
});

async function waitSessions(svc: RunningSessionService, records: number, progress = true): Promise<void> {
  let last = 0;
  const done = () => svc.consumer.stats().applied + svc.consumer.stats().duplicates + svc.consumer.stats().parked;
  while (done() < records || (await outboxDepth(svc)) > 0) {
    await sleep(200);
    if (progress && performance.now() - last > 30_000) {
      last = performance.now();
      console.log(`  sessions: ${done()} / ${records} records applied`);
    }
  }
}

/**
 * Waits until the service processes of `--instances` have applied every record of the log (their group's committed
 * offset of each partition is the partition's end: the consumer commits after each batch it applied) and their
 * outbox is empty: they run in processes of their own, so the bench reads the group's offsets and their database.
 */
async function waitSessionsInDb(kafka: Kafka, cfg: ReturnType<typeof sessionCfg>, records: number): Promise<void> {
  const a = kafka.admin();
  await a.connect();
  const low = new Map(
    (await a.fetchTopicOffsets(cfg.OCPP_INBOUND_TOPIC)).map((p) => [p.partition, Number(p.low)] as const),
  );
  const db = new Client({ connectionString: cfg.DATABASE_URL });
  await db.connect();
  let last = performance.now();
  try {
    for (;;) {
      let applied = 0;
      const [committed] = await a.fetchOffsets({
        groupId: cfg.SESSION_CONSUMER_GROUP,
        topics: [cfg.OCPP_INBOUND_TOPIC],
      });
      for (const p of committed?.partitions ?? []) {
        const o = Number(p.offset);
        if (o >= 0) applied += o - (low.get(p.partition) ?? 0);
      }
      if (applied >= records) {
        const { rows } = await db.query<{ c: number }>('select count(*)::int as c from outbox');
        if (rows[0].c === 0) return;
      }
      if (performance.now() - last > 30_000) {
        last = performance.now();
        console.log(`  sessions: ${applied} / ${records} records applied`);
      }
      await sleep(500);
    }
  } finally {
    await db.end();
    await a.disconnect();
  }
}

/** Starts the "cdrs" stage: its meter, the tariff service's rebuild, then the service (in this process). */
async function startTariffStage(cfg: ReturnType<typeof tariffCfg>) {
  const m = await meter('cdrs', !has('overlap'));
  await rebuildTariffService(cfg);
  const dbCpu = await watchDbCpu(cfg.DATABASE_URL);
  return { svc: await startTariffService(cfg, silentLogger()), meter: m, dbCpu };
}

async function waitTariffs(kafka: Kafka, svc: RunningTariffService, sessionTopic: string): Promise<void> {
  const n = await size(kafka, sessionTopic);
  // records passed over unread by their event-type header (the pricing consumer reads only session.ended) count too
  const done = (c: RunningTariffService['pricingConsumer']) =>
    c.stats().applied + c.stats().duplicates + c.stats().parked + c.stats().skipped;
  while (done(svc.pricingConsumer) < n || done(svc.runningConsumer) < n || (await outboxDepth(svc)) > 0)
    await sleep(200);
}

async function main(): Promise<void> {
  const records = flag('records', 2_000_000);
  const templateStations = flag('template', 200);
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'bench-replay', logger: silentLogger() });
  const inbound = `bench.replay.inbound-v2-${records}`;
  const tariffs = `bench.replay.tariff-events-v2-${records}`;
  const liveFile = path.join(os.tmpdir(), `${inbound}.live.json`);
  let peakRss = 0;
  const loads: number[] = [];
  const probe = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 500);
  const loadProbe = setInterval(() => loads.push(os.loadavg()[0]), 5000);
  loads.push(os.loadavg()[0]);

  // 1. the log, once
  let generation: Awaited<ReturnType<typeof generate>> | 'cached' = 'cached';
  const have = await size(kafka, inbound);
  if (have !== records || (await size(kafka, tariffs)) < 2) {
    if (have > 0) console.log(`${inbound} holds ${have} records, not ${records}: generating it again`);
    await deleteTopics(kafka, [inbound, tariffs]);
    await sleep(2000);
    await createTopics(kafka, [inbound, tariffs]);
    await publishTariff(kafka, tariffs);
    let live: { sessions: RunningSessionService; tariffs: RunningTariffService; out: string; billing: string } | null =
      null;
    const liveTag = `live${process.pid}`;
    if (has('live')) {
      const out = `bench.replay.session-events-${liveTag}`;
      const billing = `bench.replay.billing-events-${liveTag}`;
      await createTopics(kafka, [out, billing]);
      live = {
        sessions: await startSessionService(sessionCfg(liveTag, inbound, out), silentLogger()),
        tariffs: await startTariffService(tariffCfg(liveTag, tariffs, out, billing), silentLogger()),
        out,
        billing,
      };
    }
    generation = await generate(kafka, inbound, records, templateStations);
    console.log(`log: ${records} records in ${inbound}, generated in ${generation.seconds.toFixed(0)} s`);
    if (live) {
      await waitSessions(live.sessions, records);
      await waitTariffs(kafka, live.tariffs, live.out);
      await live.sessions.stop();
      await live.tariffs.stop();
      const d = { sessionEvents: await digest(kafka, live.out), cdrs: await digest(kafka, live.billing, live.out) };
      writeFileSync(liveFile, JSON.stringify(d));
      console.log(`live run over the log as it was written: ${JSON.stringify(d)}`);
      await dropDb(`csms_bench_replay_sessions_${liveTag}`);
      await dropDb(`csms_bench_replay_tariffs_${liveTag}`);
      await deleteTopics(kafka, [
        live.out,
        live.billing,
        `bench.replay.stations-${liveTag}`,
        `bench.replay.tokens-${liveTag}`,
        `dlq.bench.replay.sessions-${liveTag}`,
        `dlq.bench.replay.tariffs-${liveTag}.catalogue`,
        `dlq.bench.replay.tariffs-${liveTag}.pricing`,
        `dlq.bench.replay.tariffs-${liveTag}.running`,
      ]);
    } else if (existsSync(liveFile)) writeFileSync(liveFile, '{}');
  } else console.log(`log: ${inbound} already holds ${records} records (generation skipped)`);

  // 2. sessions, rebuilt into an empty database
  const tag = `${process.pid}`;
  const out = `bench.replay.session-events-${tag}`;
  const billing = `bench.replay.billing-events-${tag}`;
  await createTopics(kafka, [out, billing]);
  const sCfg = sessionCfg(tag, inbound, out);
  const tCfg = tariffCfg(tag, tariffs, out, billing);
  const instances = flag('instances', 0);
  const overlap = has('overlap') && !has('sessions-only');
  if (overlap && instances === 0) throw new Error('--overlap needs --instances (the CPU of the two stages apart)');
  const t0 = performance.now();
  const sMeter = await meter('sessions', !overlap);
  await rebuildSessionStore(sCfg);
  const sDbCpu = await watchDbCpu(sCfg.DATABASE_URL);
  let stopSessions: () => Promise<void>;
  let instancesCpuSeconds = 0;
  // --overlap: the tariff service's rebuild starts with the session service's and prices the session events as they come
  let tariffRun: Awaited<ReturnType<typeof startTariffStage>> | undefined;
  if (instances > 0) {
    // N processes of the service in one consumer group, as a deployment scales it out (partitions shared among them)
    const procs = await Promise.all(
      Array.from({ length: instances }, async (_, i) =>
        startServiceProcess('session-service', {
          ...sessionEnv(tag, inbound, out),
          HTTP_PORT: String(await freePort()),
          KAFKA_CLIENT_ID: `bench-replay-sessions-${i}`,
          LOG_LEVEL: 'warn',
        }),
      ),
    );
    if (overlap) tariffRun = await startTariffStage(tCfg);
    await waitSessionsInDb(kafka, sCfg, records);
    instancesCpuSeconds = procs.reduce((n, p) => n + (procCpuMs(p.child.pid ?? 0) ?? 0), 0) / 1000;
    stopSessions = async () => {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited()));
    };
  } else {
    const sessions = await startSessionService(sCfg, silentLogger());
    await waitSessions(sessions, records);
    stopSessions = () => sessions.stop();
  }
  const sDb = await sDbCpu();
  const sMetered = await sMeter();
  const sUse = {
    ...sMetered,
    // overlapping, this process runs the tariff service: the session stage's CPU is its processes' alone
    cpuSeconds: Number(((overlap ? 0 : sMetered.cpuSeconds) + instancesCpuSeconds).toFixed(1)),
    dbCpuSeconds: sDb,
    instances: Math.max(1, instances),
  };
  const sPer = perRecord(sUse, records);
  await stopSessions();
  const sessionEvents = await size(kafka, out);
  console.log(
    `stage sessions${instances > 0 ? ` (${instances} service processes)` : ''}: ${records} inbound records in ${sUse.wallSeconds} s = ${Math.round(records / sUse.wallSeconds)} records/s (${sessionEvents} session events; CPU ${sUse.cpuSeconds} s in ${instances > 0 ? 'the service processes and this one' : 'this process'}, ${sUse.dbCpuSeconds} s in PostgreSQL = ${sPer.processMs} + ${sPer.postgresMs} ms per record; GC ${Math.round(sUse.gcShare * 100)} % of ${instances > 0 ? "this process's" : 'the'} wall time; load average ${os.loadavg()[0].toFixed(1)})`,
  );

  if (has('sessions-only')) {
    await dropDb(`csms_bench_replay_sessions_${tag}`);
    await deleteTopics(kafka, [out, billing, `dlq.bench.replay.sessions-${tag}`]);
    console.log(
      JSON.stringify({
        bench: 'replay',
        records,
        stage: 'sessions',
        ...sUse,
        cpuMsPerRecord: sPer,
        recordsPerSecond: Math.round(records / sUse.wallSeconds),
        sessionEvents,
        loadAverage: os.loadavg()[0],
      }),
    );
    process.exit(0);
  }

  // 3. CDRs, rebuilt from the rebuilt session events (started with the sessions' stage with --overlap)
  const { svc: tariffSvc, meter: tMeter, dbCpu: tDbCpu } = tariffRun ?? (await startTariffStage(tCfg));
  await waitTariffs(kafka, tariffSvc, out);
  const totalSeconds = (performance.now() - t0) / 1000;
  const tDb = await tDbCpu();
  const tUse = { ...(await tMeter()), dbCpuSeconds: tDb };
  const tPer = perRecord(tUse, sessionEvents);
  await tariffSvc.stop();
  const cdrRows = await size(kafka, billing);
  console.log(
    `stage cdrs: ${sessionEvents} session events in ${tUse.wallSeconds} s = ${Math.round(sessionEvents / tUse.wallSeconds)} records/s (${cdrRows} billing events; CPU ${tUse.cpuSeconds} s in this process, ${tUse.dbCpuSeconds} s in PostgreSQL = ${tPer.processMs} + ${tPer.postgresMs} ms per session event; GC ${Math.round(tUse.gcShare * 100)} % of the wall time; load average ${os.loadavg()[0].toFixed(1)})`,
  );

  // 4. digests, against the live run's when there is one
  const d = { sessionEvents: await digest(kafka, out), cdrs: await digest(kafka, billing, out) };
  const live = existsSync(liveFile) ? (JSON.parse(readFileSync(liveFile, 'utf8')) as Partial<typeof d>) : {};
  const identical =
    live.sessionEvents === undefined
      ? null
      : live.sessionEvents.sha256 === d.sessionEvents.sha256 && live.cdrs?.sha256 === d.cdrs.sha256;
  clearInterval(probe);
  clearInterval(loadProbe);
  loads.push(os.loadavg()[0]);
  await dropDb(`csms_bench_replay_sessions_${tag}`);
  await dropDb(`csms_bench_replay_tariffs_${tag}`);
  await deleteTopics(kafka, [
    out,
    billing,
    `bench.replay.stations-${tag}`,
    `bench.replay.tokens-${tag}`,
    `dlq.bench.replay.sessions-${tag}`,
    `dlq.bench.replay.tariffs-${tag}.catalogue`,
    `dlq.bench.replay.tariffs-${tag}.pricing`,
    `dlq.bench.replay.tariffs-${tag}.running`,
  ]);
  if (has('drop-log')) await deleteTopics(kafka, [inbound, tariffs]);
  const total = totalSeconds;
  const result = {
    bench: 'replay',
    records,
    partitions,
    log: inbound,
    generation: generation === 'cached' ? 'cached' : { ...generation, seconds: Math.round(generation.seconds) },
    stages: {
      sessions: {
        ...sUse,
        cpuMsPerRecord: sPer,
        recordsPerSecond: Math.round(records / sUse.wallSeconds),
        sessionEvents,
      },
      cdrs: {
        ...tUse,
        cpuMsPerSessionEvent: tPer,
        recordsPerSecond: Math.round(sessionEvents / tUse.wallSeconds),
        billingEvents: cdrRows,
      },
    },
    instances: Math.max(1, instances),
    overlap,
    totalSeconds: Number(total.toFixed(1)),
    withinFiveMinutes: total <= 300,
    digests: d,
    live: live.sessionEvents === undefined ? null : live,
    identical,
    peakRssMb: Math.round(peakRss / 2 ** 20),
    loadAverage: { min: Number(Math.min(...loads).toFixed(1)), max: Number(Math.max(...loads).toFixed(1)) },
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  };
  console.log(
    `replay of ${records} records: ${result.totalSeconds} s (sessions ${sUse.wallSeconds} s, CDRs ${tUse.wallSeconds} s${overlap ? ', overlapping' : ''})${identical === null ? '' : identical ? ', output identical to the live run' : ', OUTPUT DIFFERS from the live run'}; peak RSS ${result.peakRssMb} MB; load average ${result.loadAverage.min}-${result.loadAverage.max}`,
  );
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
