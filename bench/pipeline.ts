/**
 * The whole chain under load: gateway, session, tariff and reporting services as separate processes
 * (real Kafka and PostgreSQL), S stations each running sessions through the gateway.
 *   npx tsx bench/pipeline.ts [stations=1000] [sessionsPerStation=1] [--spread=S] [--gap=MS]
 * Every station connects and boots first (not timed). Then each runs its sessions (authorise, start, a meter
 * value, stop: 6-7 calls): with no options all at once and as fast as the chain answers (a burst, the
 * throughput case); with --spread=S each station starts at a seeded random point of the first S seconds and
 * with --gap=MS waits MS between its calls (a steady load). Reports inbound records per second from the first
 * session call to the last CDR, the latency from sending StopTransaction / TransactionEvent(Ended) to seeing its
 * cdr.created (p50/p99/max), and where that time goes per hop (broker append times). A human line, a JSON line.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Client } from 'pg';
import { newApiKey } from '@csms/service-kit';
import {
  PersistentStation,
  TopicCollector,
  createTestTopics,
  type CollectedRecord,
  driveSession,
  freePort,
  prng,
  startServiceProcess,
  testKafka,
  type ServiceProcess,
} from '@csms/testing';

interface Rec {
  ts: number;
  /** partition:offset */
  position: string;
  value: Record<string, unknown>;
}

async function readAll(kafka: ReturnType<typeof testKafka>, topic: string): Promise<Rec[]> {
  const admin = kafka.admin();
  await admin.connect();
  const size = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  await admin.disconnect();
  const out: Rec[] = [];
  const consumer = kafka.consumer({ groupId: `hops-${topic}-${process.pid}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) =>
      void out.push({
        ts: Number(message.timestamp),
        position: `${partition}:${message.offset}`,
        value: JSON.parse(message.value!.toString()),
      }),
  });
  while (out.length < size) await new Promise((r) => setTimeout(r, 20));
  await consumer.disconnect();
  return out;
}

/** p50/p99/max of a list of milliseconds */
function stats(xs: number[]): { p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN);
  return { p50: at(0.5), p99: at(0.99), max: Math.round(s[s.length - 1] ?? NaN) };
}

/**
 * Where each session's stop-to-CDR time goes, from the broker's append times: the gateway (stop sent to its
 * record appended to ocpp.inbound), the session service (to session.ended), the tariff service (to cdr.created)
 * and this process seeing the CDR.
 */
async function breakdown(
  kafka: ReturnType<typeof testKafka>,
  topics: { inbound: string; sessions: string },
  stopsSent: Map<string, number[]>,
  cdrs: CollectedRecord[],
) {
  const [ins, sess] = await Promise.all([readAll(kafka, topics.inbound), readAll(kafka, topics.sessions)]);
  // session.ended v2 names its inbound records by offset range per partition: the stop is the last one
  const inboundTs = new Map(ins.map((r) => [r.position, r.ts]));
  const ended = new Map<string, { ts: number; stopTs: number }>();
  for (const r of sess) {
    if (r.value.type !== 'session.ended') continue;
    const p = r.value.payload as { sessionId: string; sources: Array<{ partition?: number; lastOffset?: string }> };
    ended.set(p.sessionId, {
      ts: r.ts,
      stopTs: Math.max(...p.sources.map((s) => inboundTs.get(`${s.partition}:${s.lastOffset}`) ?? 0)),
    });
  }
  const perStation = new Map<string, Array<{ stopTs: number; endedTs: number; cdrTs: number; seenAt: number }>>();
  for (const r of cdrs) {
    if (r.headers['event-type'] !== 'cdr.created') continue;
    const audit = (JSON.parse(r.value!) as { payload: { audit: { stationId: string; sessionId: string } } }).payload
      .audit;
    const e = ended.get(audit.sessionId);
    if (!e) continue;
    perStation.set(audit.stationId, [
      ...(perStation.get(audit.stationId) ?? []),
      { stopTs: e.stopTs, endedTs: e.ts, cdrTs: r.timestamp, seenAt: r.receivedAt },
    ]);
  }
  const hop = {
    gateway: [] as number[],
    sessionService: [] as number[],
    tariffService: [] as number[],
    observer: [] as number[],
    total: [] as number[],
  };
  for (const [station, sent] of stopsSent) {
    const sessions = (perStation.get(station) ?? []).sort((a, b) => a.stopTs - b.stopTs);
    sent.forEach((at, k) => {
      const x = sessions[k];
      if (!x) return;
      hop.gateway.push(x.stopTs - at);
      hop.sessionService.push(x.endedTs - x.stopTs);
      hop.tariffService.push(x.cdrTs - x.endedTs);
      hop.observer.push(x.seenAt - x.cdrTs);
      hop.total.push(x.seenAt - at);
    });
  }
  return {
    total: hop.total,
    hopsMs: {
      gateway: stats(hop.gateway),
      sessionService: stats(hop.sessionService),
      tariffService: stats(hop.tariffService),
      observer: stats(hop.observer),
    },
  };
}

function option(name: string, fallback: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : fallback;
}

async function main(): Promise<void> {
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const stations = Number(positional[0] ?? 1000);
  const perStation = Number(positional[1] ?? 1);
  // --spread=S: each station starts its first session at a random point of the first S seconds;
  // --gap=MS: a station waits MS between its calls. Both 0 (the default): every session at once, as fast as it goes.
  const spreadS = option('spread', 0);
  const gapMs = option('gap', 0);
  const tag = `${process.pid}`;
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const t = (s: string) => `bench.${s}-${tag}`;
  const topics = {
    OCPP_INBOUND_TOPIC: t('ocpp-inbound'),
    SESSION_EVENTS_TOPIC: t('session-events'),
    TARIFF_EVENTS_TOPIC: t('tariff-events'),
    BILLING_EVENTS_TOPIC: t('billing-events'),
    REGISTRY_STATIONS_TOPIC: t('registry-stations'),
    REGISTRY_TOKENS_TOPIC: t('registry-tokens'),
    OCPP_COMMANDS_TOPIC: t('ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: t('ocpp-command-results'),
    MONITORING_EVENTS_TOPIC: t('monitoring-events'),
  };
  const kafka = testKafka('bench-pipeline');
  await createTestTopics(kafka, Object.values(topics), Number(process.env.KAFKA_PARTITIONS ?? 3));
  const admin = newApiKey('bench', 'admin');
  const db = (n: string) => {
    const u = new URL(base);
    u.pathname = `/csms_bench_pipe_${n}_${tag}`;
    return u.toString();
  };
  const common = {
    KAFKA_BROKERS: brokers,
    API_KEYS: admin.entry,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...topics,
  };
  const ocppPort = await freePort();
  const envs: Record<string, Record<string, string>> = {
    'ocpp-gateway': {
      ...common,
      DATABASE_URL: db('gateway'),
      HTTP_PORT: String(await freePort()),
      OCPP_PORT: String(ocppPort),
      OCPP_HOST: '127.0.0.1',
      GATEWAY_INSTANCE: `bench-${tag}`,
    },
    'session-service': {
      ...common,
      DATABASE_URL: db('sessions'),
      HTTP_PORT: String(await freePort()),
      SESSION_CONSUMER_GROUP: `bench-sessions-${tag}`,
    },
    'tariff-service': {
      ...common,
      DATABASE_URL: db('tariffs'),
      HTTP_PORT: String(await freePort()),
      TARIFF_CONSUMER_GROUP: `bench-tariffs-${tag}`,
    },
    'reporting-service': {
      ...common,
      DATABASE_URL: db('reporting'),
      HTTP_PORT: String(await freePort()),
      REPORTING_CONSUMER_GROUP: `bench-reporting-${tag}`,
    },
  };
  const procs: ServiceProcess[] = [];
  for (const [name, env] of Object.entries(envs)) procs.push(await startServiceProcess(name, env));
  const url = (name: string) => procs.find((p) => p.name === name)!.url;
  const call = (name: string, method: string, path: string, body: unknown) =>
    fetch(`${url(name)}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const password = 'bench-station-password';
  const ids = Array.from({ length: stations }, (_, i) => `PIPE-${tag}-${i}`);
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map((id) =>
        call('ocpp-gateway', 'PUT', `/api/v1/stations/${id}`, {
          securityProfile: 1,
          password,
          timeZone: 'Europe/Amsterdam',
        }),
      ),
    );
  }
  await call('ocpp-gateway', 'PUT', '/api/v1/tokens/BENCH-TAG', { type: 'ISO14443', status: 'Accepted' });
  await call('tariff-service', 'PUT', '/api/v1/tariffs/BENCH', {
    country_code: 'NL',
    party_id: 'CSM',
    id: 'BENCH',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: 1, vat: 21, step_size: 1 },
          { type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 },
        ],
      },
    ],
  });
  await call('tariff-service', 'POST', '/api/v1/tariff-assignments', { tariffId: 'BENCH', scope: { kind: 'default' } });
  while ((await fetch(`${url('ocpp-gateway')}/health/ready`)).status !== 200)
    await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 2000)); // let the registry reach every cache

  const billing = await new TopicCollector(kafka, [topics.BILLING_EVENTS_TOPIC]).start();
  const stopsSent = new Map<string, number[]>();
  const rnd = prng(42);
  const t0 = Date.now();
  const sts = ids.map(
    (id, i) =>
      new PersistentStation(id, i % 2 === 0 ? 'ocpp1.6' : 'ocpp2.0.1', `ws://127.0.0.1:${ocppPort}/ocpp`, password),
  );
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // every station connects and boots first (a connection storm is the gateway benchmark's business, not this one's)
  for (let i = 0; i < sts.length; i += 100) {
    await Promise.all(
      sts
        .slice(i, i + 100)
        .map((st) =>
          st.call(
            'BootNotification',
            st.protocol === 'ocpp1.6'
              ? { chargePointVendor: 'Acme', chargePointModel: 'X' }
              : { reason: 'PowerUp', chargingStation: { model: 'X', vendorName: 'Acme' } },
          ),
        ),
    );
  }
  const offsets = sts.map(() => Math.floor(rnd() * spreadS * 1000));
  let calls = 0;
  const started = performance.now();
  await Promise.all(
    sts.map(async (st, i) => {
      const counted = { call: st.call.bind(st) };
      st.call = async (action, payload) => {
        if (gapMs > 0) await sleep(gapMs);
        calls++;
        if (action === 'StopTransaction' || (action === 'TransactionEvent' && payload.eventType === 'Ended'))
          stopsSent.set(st.identity, [...(stopsSent.get(st.identity) ?? []), Date.now()]);
        return counted.call(action, payload);
      };
      await sleep(offsets[i]);
      let register = 100_000;
      for (let index = 0; index < perStation; index++) {
        const energyWh = 2000 + Math.floor(rnd() * 3000);
        await driveSession(
          st,
          { stationId: st.identity, protocol: st.protocol, index, energyWh, idTag: 'BENCH-TAG' },
          t0,
          register,
        );
        register += energyWh;
      }
    }),
  );
  const total = stations * perStation;
  const cdrCount = () => billing.records.filter((r) => r.headers['event-type'] === 'cdr.created').length;
  const deadline = Date.now() + 600_000;
  while (cdrCount() < total && Date.now() < deadline) await sleep(5);
  const finished = performance.now();
  const { total: latencies, hopsMs } = await breakdown(
    kafka,
    { inbound: topics.OCPP_INBOUND_TOPIC, sessions: topics.SESSION_EVENTS_TOPIC },
    stopsSent,
    billing.records,
  );
  await billing.close();
  for (const s of sts) await s.close();
  if (process.env.PIPELINE_LOGS)
    for (const p of procs) writeFileSync(`${process.env.PIPELINE_LOGS}/${p.name}.log`, p.output());
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited()));
  const pg = new Client({ connectionString: base });
  await pg.connect();
  for (const n of ['gateway', 'sessions', 'tariffs', 'reporting'])
    await pg.query(`drop database if exists "csms_bench_pipe_${n}_${tag}" with (force)`);
  await pg.end();
  const seconds = (finished - started) / 1000;
  const result = {
    bench: 'pipeline',
    stations,
    sessions: total,
    cdrs: cdrCount(),
    load: { spreadSeconds: spreadS, gapMs },
    ocppCalls: calls,
    seconds: Number(seconds.toFixed(2)),
    inboundRecordsPerSecond: Math.round(calls / seconds),
    stopToCdrMs: stats(latencies),
    hopsMs,
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  };
  console.log(
    `pipeline: ${stations} stations, ${total} sessions, ${calls} OCPP calls in ${result.seconds} s (${result.inboundRecordsPerSecond} records/s); stop -> cdr.created p50 ${result.stopToCdrMs.p50} ms, p99 ${result.stopToCdrMs.p99} ms`,
  );
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
