/**
 * The whole chain under load: gateway, session, tariff and reporting services as separate processes
 * (real Kafka and PostgreSQL), S stations each running sessions through the gateway.
 *   npx tsx bench/pipeline.ts [stations=1000] [sessionsPerStation=1]
 * Reports inbound records per second from the first OCPP message to the last CDR, and the latency from
 * sending StopTransaction / TransactionEvent(Ended) to the cdr.created event for that session (p50/p99).
 * Prints a human line and a JSON line.
 */
import os from 'node:os';
import { Client } from 'pg';
import { newApiKey } from '@csms/service-kit';
import { PersistentStation, TopicCollector, createTestTopics, driveSession, freePort, prng, startServiceProcess, testKafka, type ServiceProcess } from '@csms/testing';

interface Rec {
  ts: number;
  value: Record<string, unknown>;
}

async function readAll(kafka: ReturnType<typeof testKafka>, topic: string): Promise<Rec[]> {
  const c = new TopicCollector(kafka, [topic]);
  const admin = kafka.admin();
  await admin.connect();
  const size = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  await admin.disconnect();
  const out: Rec[] = [];
  const consumer = kafka.consumer({ groupId: `hops-${topic}-${process.pid}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void out.push({ ts: Number(message.timestamp), value: JSON.parse(message.value!.toString()) }) });
  while (out.length < size) await new Promise((r) => setTimeout(r, 20));
  await consumer.disconnect();
  void c;
  return out;
}

/** Median ms from the stop record to its session.ended, and from session.ended to its cdr.created (broker timestamps). */
async function hopTimes(kafka: ReturnType<typeof testKafka>, inbound: string, sessionsTopic: string, billingTopic: string) {
  const [ins, sess, bill] = await Promise.all([readAll(kafka, inbound), readAll(kafka, sessionsTopic), readAll(kafka, billingTopic)]);
  const byEventId = new Map(ins.map((r) => [r.value.id as string, r.ts]));
  const endedTs = new Map<string, number>();
  const a: number[] = [];
  for (const r of sess) {
    if (r.value.type !== 'session.ended') continue;
    const p = r.value.payload as { sessionId: string; sources: Array<{ eventId: string }> };
    const last = Math.max(...p.sources.map((s) => byEventId.get(s.eventId) ?? 0));
    endedTs.set(p.sessionId, r.ts);
    a.push(r.ts - last);
  }
  const b: number[] = [];
  for (const r of bill) {
    if (r.value.type !== 'cdr.created') continue;
    const sid = (r.value.payload as { audit: { sessionId: string } }).audit.sessionId;
    if (endedTs.has(sid)) b.push(r.ts - endedTs.get(sid)!);
  }
  const med = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? null;
  return { stopRecordToSessionEnded: med(a), sessionEndedToCdr: med(b) };
}

async function main(): Promise<void> {
  const stations = Number(process.argv[2] ?? 1000);
  const perStation = Number(process.argv[3] ?? 1);
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
  };
  const kafka = testKafka('bench-pipeline');
  await createTestTopics(kafka, Object.values(topics), Number(process.env.KAFKA_PARTITIONS ?? 3));
  const admin = newApiKey('bench', 'admin');
  const db = (n: string) => {
    const u = new URL(base);
    u.pathname = `/csms_bench_pipe_${n}_${tag}`;
    return u.toString();
  };
  const common = { KAFKA_BROKERS: brokers, API_KEYS: admin.entry, LOG_LEVEL: 'warn', ...topics };
  const ocppPort = await freePort();
  const envs: Record<string, Record<string, string>> = {
    'ocpp-gateway': { ...common, DATABASE_URL: db('gateway'), HTTP_PORT: String(await freePort()), OCPP_PORT: String(ocppPort), OCPP_HOST: '127.0.0.1', GATEWAY_INSTANCE: `bench-${tag}` },
    'session-service': { ...common, DATABASE_URL: db('sessions'), HTTP_PORT: String(await freePort()), SESSION_CONSUMER_GROUP: `bench-sessions-${tag}` },
    'tariff-service': { ...common, DATABASE_URL: db('tariffs'), HTTP_PORT: String(await freePort()), TARIFF_CONSUMER_GROUP: `bench-tariffs-${tag}` },
    'reporting-service': { ...common, DATABASE_URL: db('reporting'), HTTP_PORT: String(await freePort()), REPORTING_CONSUMER_GROUP: `bench-reporting-${tag}` },
  };
  const procs: ServiceProcess[] = [];
  for (const [name, env] of Object.entries(envs)) procs.push(await startServiceProcess(name, env));
  const url = (name: string) => procs.find((p) => p.name === name)!.url;
  const call = (name: string, method: string, path: string, body: unknown) =>
    fetch(`${url(name)}${path}`, { method, headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const password = 'bench-station-password';
  const ids = Array.from({ length: stations }, (_, i) => `PIPE-${tag}-${i}`);
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(ids.slice(i, i + 50).map((id) => call('ocpp-gateway', 'PUT', `/api/v1/stations/${id}`, { securityProfile: 1, password, timeZone: 'Europe/Amsterdam' })));
  }
  await call('ocpp-gateway', 'PUT', '/api/v1/tokens/BENCH-TAG', { type: 'ISO14443', status: 'Accepted' });
  await call('tariff-service', 'PUT', '/api/v1/tariffs/BENCH', {
    country_code: 'NL',
    party_id: 'CSM',
    id: 'BENCH',
    currency: 'EUR',
    elements: [{ price_components: [{ type: 'FLAT', price: 1, vat: 21, step_size: 1 }, { type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
  });
  await call('tariff-service', 'POST', '/api/v1/tariff-assignments', { tariffId: 'BENCH', scope: { kind: 'default' } });
  while ((await fetch(`${url('ocpp-gateway')}/health/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 2000)); // let the registry reach every cache

  const cdrSeen = new Map<string, number>();
  const billing = await new TopicCollector(kafka, [topics.BILLING_EVENTS_TOPIC]).start();
  const stopSent = new Map<string, number>();
  const rnd = prng(42);
  const t0 = Date.now();
  const started = performance.now();
  const sts = ids.map((id, i) => new PersistentStation(id, i % 2 === 0 ? 'ocpp1.6' : 'ocpp2.0.1', `ws://127.0.0.1:${ocppPort}/ocpp`, password));
  let calls = 0;
  await Promise.all(
    sts.map(async (st) => {
      const counted = { call: st.call.bind(st) };
      st.call = async (action, payload) => {
        calls++;
        if (action === 'StopTransaction' || (action === 'TransactionEvent' && payload.eventType === 'Ended')) stopSent.set(`${st.identity}#${stopSent.size}`, performance.now());
        return counted.call(action, payload);
      };
      await st.call('BootNotification', st.protocol === 'ocpp1.6' ? { chargePointVendor: 'Acme', chargePointModel: 'X' } : { reason: 'PowerUp', chargingStation: { model: 'X', vendorName: 'Acme' } });
      let register = 100_000;
      for (let index = 0; index < perStation; index++) {
        const energyWh = 2000 + Math.floor(rnd() * 3000);
        await driveSession(st, { stationId: st.identity, protocol: st.protocol, index, energyWh, idTag: 'BENCH-TAG' }, t0, register);
        register += energyWh;
      }
    }),
  );
  const total = stations * perStation;
  // latency: per station, the k-th stop against the k-th CDR of that station
  const stopsByStation = new Map<string, number[]>();
  for (const [k, at] of stopSent) {
    const id = k.slice(0, k.lastIndexOf('#'));
    stopsByStation.set(id, [...(stopsByStation.get(id) ?? []), at]);
  }
  const deadline = Date.now() + 600_000;
  while (billing.records.filter((r) => r.headers['event-type'] === 'cdr.created').length < total && Date.now() < deadline) {
    for (const r of billing.records) {
      if (r.headers['event-type'] !== 'cdr.created' || cdrSeen.has(r.headers['event-id'])) continue;
      cdrSeen.set(r.headers['event-id'], performance.now());
    }
    await new Promise((res) => setTimeout(res, 5));
  }
  const finished = performance.now();
  const latencies: number[] = [];
  const cdrByStation = new Map<string, number[]>();
  for (const r of billing.records) {
    if (r.headers['event-type'] !== 'cdr.created') continue;
    const stationId = (JSON.parse(r.value!) as { payload: { audit: { stationId: string } } }).payload.audit.stationId;
    cdrByStation.set(stationId, [...(cdrByStation.get(stationId) ?? []), cdrSeen.get(r.headers['event-id']) ?? finished]);
  }
  for (const [id, stops] of stopsByStation) {
    const cdrs = (cdrByStation.get(id) ?? []).sort((a, b) => a - b);
    stops.forEach((s, i) => cdrs[i] !== undefined && latencies.push(cdrs[i] - s));
  }
  latencies.sort((a, b) => a - b);
  // where the time goes: the broker's append times of the stop record, its session.ended and its cdr.created
  const hops = await hopTimes(kafka, topics.OCPP_INBOUND_TOPIC, topics.SESSION_EVENTS_TOPIC, topics.BILLING_EVENTS_TOPIC);
  const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]);
  await billing.close();
  for (const s of sts) await s.close();
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited()));
  const pg = new Client({ connectionString: base });
  await pg.connect();
  for (const n of ['gateway', 'sessions', 'tariffs', 'reporting']) await pg.query(`drop database if exists "csms_bench_pipe_${n}_${tag}" with (force)`);
  await pg.end();
  const seconds = (finished - started) / 1000;
  const result = {
    bench: 'pipeline',
    stations,
    sessions: total,
    cdrs: latencies.length,
    ocppCalls: calls,
    seconds: Number(seconds.toFixed(2)),
    inboundRecordsPerSecond: Math.round(calls / seconds),
    stopToCdrMs: { p50: pct(50), p99: pct(99), max: Math.round(latencies[latencies.length - 1]) },
    hopsMedianMs: hops,
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  };
  console.log(`pipeline: ${stations} stations, ${total} sessions, ${calls} OCPP calls in ${result.seconds} s (${result.inboundRecordsPerSecond} records/s); stop -> cdr.created p50 ${result.stopToCdrMs.p50} ms, p99 ${result.stopToCdrMs.p99} ms`);
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
