/**
 * The floor of a consuming service on this machine: what the platform's exactly-once path costs per record when the
 * handler does (almost) nothing — the least any service built on libs/messaging can spend on a record, whatever its
 * domain logic. Isolates the platform: no gateway, no domain code; real Kafka and PostgreSQL.
 *
 *   npx tsx bench/consumer-floor.ts [--records=60000] [--in-bytes=750] [--row-bytes=0] [--emit-bytes=0]
 *                                   [--chunk=1000] [--partitions=3] [--keys=1000] [--cdr] [--inbox-retention-hours=H]
 *
 * Two phases, CPU per record of this process, of the database's PostgreSQL backends, of the rest of PostgreSQL
 * (WAL writer, checkpointer) and of the Kafka broker (from /proc):
 * 1. publish: `--records` events of about `--in-bytes` each (a closed envelope: key + a string) published through
 *    the shared producer (`KafkaRecordPublisher`, idempotent, acks=all) in batches of 1,000: what a producer such as
 *    the gateway pays per record besides its own work (the envelope made and checked against the catalogue included).
 * 2. consume: an `EventConsumer` group reads them in chunks of `--chunk` (decode + validate against the catalogue,
 *    the position row, the inbox rows, one transaction a chunk); per record the handler does nothing, or with
 *    `--row-bytes` adds a row of that many bytes of jsonb (written per chunk in one multi-row insert, as the services
 *    do), and with `--emit-bytes` emits an event of that size through the outbox (published by the relay from
 *    memory, deleted after). `--cdr`: the row is a real CDR (the `cdr.created` v3 contract's example, 3.7 KB of
 *    JSON) and the event emitted is that `cdr.created` v3, checked against its closed schema as every emitted event
 *    is: the least a pricing service writes and publishes per CDR, without pricing anything.
 *    `--inbox-retention-hours`: the inbox rows of the input topic expire (as the session service's and the reporting
 *    service's rows of `ocpp.inbound` do). Timed from the first chunk committed to the last record applied and published.
 * Prints a human summary and a JSON line.
 */
import os from 'node:os';
import { Type } from '@sinclair/typebox';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CdrCreatedV3, EventCatalogue, closed, defineEvent, deriveId, type Envelope } from '@csms/contracts';
import {
  EventConsumer,
  KafkaRecordPublisher,
  OutboxRelay,
  messagingMigrations,
  outboxBacklog,
  type EventHandler,
} from '@csms/messaging';
import { insertRows, silentLogger, useLz4Compression } from '@csms/platform';
import { createTestDatabase, createTestTopics, testKafka, uniqueName } from '@csms/testing';
import { arg } from './args';
import { infraCpu } from './db-cpu';

const num = (name: string, dflt: number): number => Number(arg(name) ?? dflt);
const RECORDS = num('records', 60_000);
const IN_BYTES = num('in-bytes', 750);
const ROW_BYTES = num('row-bytes', 0);
const EMIT_BYTES = num('emit-bytes', 0);
const CHUNK = num('chunk', 1000);
const PARTITIONS = num('partitions', 3);
const KEYS = num('keys', 1000);
const CDR = process.argv.includes('--cdr');
const RETENTION_HOURS = arg('inbox-retention-hours');

class FloorRows1764900000001 implements MigrationInterface {
  name = 'FloorRows1764900000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query('create table floor_rows (id uuid primary key, key text not null, doc jsonb not null)');
    // as the tariff service stores its CDRs and outbox values
    await useLz4Compression(q, [
      ['floor_rows', 'doc'],
      ['outbox', 'value'],
    ]);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table floor_rows');
  }
}

/** A string of `n` characters that does not compress to nothing (the bytes of a record, not its meaning). */
function filler(n: number, seed: number): string {
  let s = '';
  let x = seed + 1;
  while (s.length < n) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += x.toString(36);
  }
  return s.slice(0, n);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const inTopic = uniqueName('bench.floor.in');
  const outTopic = uniqueName('bench.floor.out');
  const payload = closed({ key: Type.String(), blob: Type.String() });
  const IN = defineEvent({
    type: 'bench.record_received',
    version: 1,
    topic: inTopic,
    description: 'bench',
    schema: payload,
    example: { key: 'k', blob: '' },
  });
  const OUT = defineEvent({
    type: 'bench.record_derived',
    version: 1,
    topic: outTopic,
    description: 'bench',
    schema: payload,
    example: { key: 'k', blob: '' },
  });
  // the CDR contract on a topic of the bench's own (the relay publishes to the definition's topic)
  const CDR_OUT = defineEvent({ ...CdrCreatedV3, topic: outTopic });
  const catalogue = new EventCatalogue([IN, OUT, CDR_OUT]);
  const kafka = testKafka('bench-floor');
  await createTestTopics(kafka, [inTopic, outTopic], PARTITIONS);
  const db = await createTestDatabase('floor', [...messagingMigrations, FloorRows1764900000001]);
  const databases = new Map([[db.name, 'bench']]);
  const publisher = new KafkaRecordPublisher(kafka);

  // the envelope without the blob is ~250 bytes
  const blob = filler(Math.max(0, IN_BYTES - 250), 1);
  const rowDoc = CDR ? CdrCreatedV3.example : ROW_BYTES > 0 ? { blob: filler(ROW_BYTES, 2) } : undefined;
  const emitBlob = EMIT_BYTES > 0 ? filler(Math.max(0, EMIT_BYTES - 250), 3) : '';
  const make = (i: number): Envelope =>
    catalogue.create(IN, {
      id: deriveId('floor', inTopic, i),
      key: `station-${i % KEYS}`,
      occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 10).toISOString(),
      source: 'bench',
      payload: { key: `station-${i % KEYS}`, blob },
    });
  const sample = JSON.stringify(make(0));

  const snapshot = () => ({ at: performance.now(), self: process.cpuUsage(), infra: infraCpu(databases) });
  const delta = (a: ReturnType<typeof snapshot>, b: ReturnType<typeof snapshot>) => {
    const by = new Map<string, number>();
    for (const [pid, v] of b.infra) by.set(v.who, (by.get(v.who) ?? 0) + v.ms - (a.infra.get(pid)?.ms ?? 0));
    const self = process.cpuUsage(a.self);
    return {
      seconds: (b.at - a.at) / 1000,
      selfMs: (self.user + self.system) / 1000,
      pgMs: by.get('postgres: bench') ?? 0,
      pgOtherMs: by.get('postgres (other)') ?? 0,
      kafkaMs: by.get('kafka broker') ?? 0,
    };
  };
  const perRecord = (d: ReturnType<typeof delta>, n: number) => ({
    recordsPerS: Math.round(n / d.seconds),
    seconds: Number(d.seconds.toFixed(2)),
    cpuMsPerRecord: {
      process: Number((d.selfMs / n).toFixed(4)),
      postgresBackends: Number((d.pgMs / n).toFixed(4)),
      postgresOther: Number((d.pgOtherMs / n).toFixed(4)),
      kafka: Number((d.kafkaMs / n).toFixed(4)),
      all: Number(((d.selfMs + d.pgMs + d.pgOtherMs + d.kafkaMs) / n).toFixed(4)),
    },
  });

  // 1. publish
  await publisher.publish([{ topic: inTopic, key: 'warm-up', value: JSON.stringify(make(-1)) }]);
  const p0 = snapshot();
  for (let i = 0; i < RECORDS; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(RECORDS, i + 1000); j++) {
      const e = make(j);
      batch.push({ topic: inTopic, key: e.key, value: JSON.stringify(e) });
    }
    await publisher.publish(batch);
  }
  const publish = perRecord(delta(p0, snapshot()), RECORDS);

  // 2. consume
  const logger = silentLogger();
  const relay = EMIT_BYTES > 0 || CDR ? new OutboxRelay(db.dataSource, publisher, logger) : undefined;
  const rows: Array<Record<string, unknown>> = [];
  const handler: EventHandler = async (event, ctx) => {
    if (rowDoc) rows.push({ id: event.id, key: event.key, doc: rowDoc });
    if (CDR)
      ctx.emit(
        catalogue.create(CDR_OUT, {
          id: deriveId('floor-cdr', event.id),
          key: event.key,
          occurredAt: event.occurredAt,
          source: 'bench',
          causationId: event.id,
          correlationId: event.id,
          payload: CdrCreatedV3.example,
        }),
      );
    else if (relay)
      ctx.emit(
        catalogue.create(OUT, {
          id: deriveId('floor-out', event.id),
          key: event.key,
          occurredAt: event.occurredAt,
          source: 'bench',
          causationId: event.id,
          correlationId: event.id,
          payload: { key: event.key, blob: emitBlob },
        }),
      );
  };
  const consumer = new EventConsumer({
    name: uniqueName('bench-floor'),
    topics: [inTopic],
    catalogue,
    handler,
    onChunkEnd: async ({ manager }) => {
      if (rows.length === 0) return;
      const batch = rows.splice(0);
      await insertRows(manager, 'floor_rows', ['id', 'key', { name: 'doc', json: true }], batch);
    },
    kafka,
    dataSource: db.dataSource,
    publisher,
    logger,
    relay,
    chunkSize: CHUNK,
    ...(RETENTION_HOURS ? { inboxRetentionMs: { [inTopic]: Number(RETENTION_HOURS) * 3_600_000 } } : {}),
  });
  let c0: ReturnType<typeof snapshot> | undefined;
  let chunks = 0;
  let firstChunkRecords = 0;
  consumer.onChunkApplied((c) => {
    chunks++;
    if (!c0) {
      c0 = snapshot();
      firstChunkRecords = c.records;
    }
  });
  relay?.start();
  await consumer.start();
  const total = RECORDS + 1; // the warm-up record too
  const deadline = performance.now() + 600_000;
  while (consumer.stats().applied < total && performance.now() < deadline) await sleep(20);
  if (relay) while ((await outboxBacklog(db.dataSource)).depth > 0 && performance.now() < deadline) await sleep(20);
  const c1 = snapshot();
  const applied = consumer.stats().applied;
  const consume = perRecord(delta(c0!, c1), applied - firstChunkRecords);
  const published = relay?.counts;
  await consumer.stop();
  await relay?.stop();
  await publisher.disconnect();
  await db.drop();
  if (applied < total) throw new Error(`only ${applied} of ${total} records applied in 600 s`);

  const result = {
    bench: 'consumer-floor',
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    records: RECORDS,
    recordBytes: Buffer.byteLength(sample),
    rowBytes: rowDoc ? JSON.stringify(rowDoc).length : 0,
    emitBytes: CDR ? JSON.stringify(CdrCreatedV3.example).length : EMIT_BYTES,
    cdr: CDR,
    chunk: CHUNK,
    partitions: PARTITIONS,
    keys: KEYS,
    chunks,
    firstChunkRecords,
    publish,
    consume,
    relay: published,
    note: 'the platform alone (libs/messaging over real Kafka and PostgreSQL); no domain code, no gateway',
  };
  const c = consume.cpuMsPerRecord;
  const p = publish.cpuMsPerRecord;
  console.log(
    `publish ${RECORDS} records of ${result.recordBytes} B: ${publish.recordsPerS}/s, CPU ms/record: producer ${p.process}, ` +
      `kafka ${p.kafka}\nconsume (chunks of ${CHUNK}, row ${result.rowBytes} B, emit ${result.emitBytes} B${CDR ? ', a CDR' : ''}): ${consume.recordsPerS}/s, ` +
      `CPU ms/record: consumer ${c.process}, postgres ${c.postgresBackends} + ${c.postgresOther}, kafka ${c.kafka}; all ${c.all}`,
  );
  console.log(JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
