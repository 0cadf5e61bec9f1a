import { Type } from '@sinclair/typebox';
import { ConfigResourceTypes } from 'kafkajs';
import {
  DLQ_HEADERS,
  EventConsumer,
  OutboxRelay,
  ParkedOutbox,
  RecordTooLargeError,
  appendToOutbox,
  ensureTopics,
  recordBatchBytes,
} from '@csms/messaging';
import { EventCatalogue, closed, defineEvent, deriveId, type Envelope } from '@csms/contracts';
import { silentLogger } from '@csms/platform';
import { TopicCollector, createTestTopics, topicSize, uniqueName, waitFor } from '@csms/testing';
import { counterEvents, increment, messagingSuite } from './fixture';

const TOPIC_LIMIT = 8192;
/** a payload that makes the record far bigger than TOPIC_LIMIT */
const BIG = 20_000;

/** An event with a padding of `pad` bytes, emitted through the outbox by a business transaction of its own. */
function paddedEvents(topic: string) {
  const V1 = defineEvent({
    type: 'test.padded',
    version: 1,
    topic,
    description: 'test',
    schema: closed({ key: Type.String(), n: Type.Integer(), pad: Type.String() }),
    example: { key: 'a', n: 1, pad: '' },
  });
  return { V1, catalogue: new EventCatalogue([V1]) };
}

describe('a record the broker refuses for good is parked, the relay carries on, and it is re-sent after the fix (real Kafka, real PostgreSQL)', () => {
  const suite = messagingSuite('parked');
  const { cleanups } = suite;

  function startRelay(opts: { maxMessageBytes?: number } = {}): OutboxRelay {
    const relay = new OutboxRelay(suite.db.dataSource, suite.publisher, silentLogger(), {
      pollIntervalMs: 20,
      ...opts,
    });
    relay.start();
    cleanups.push(() => relay.stop());
    return relay;
  }

  async function collect(topic: string): Promise<TopicCollector> {
    const collector = await new TopicCollector(suite.kafka, [topic]).start();
    cleanups.push(() => collector.close());
    return collector;
  }

  /** event ids per key in the order they are on the topic, each once (a refused batch may have written some records already: they are sent again, and consumers drop duplicates by event id) */
  const orderOf = (c: TopicCollector, key: string) => [
    ...new Set(c.records.filter((r) => r.key === key).map((r) => r.headers['event-id'])),
  ];

  let n = 0;
  async function emit(topic: string, key: string, pad = 0, limits?: { maxMessageBytes: number }): Promise<Envelope> {
    const { V1, catalogue } = paddedEvents(topic);
    n += 1;
    const ev = catalogue.create(V1, {
      id: deriveId('padded', topic, key, n),
      key,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: { key, n, pad: 'p'.repeat(pad) },
    });
    await suite.db.dataSource.transaction(async (m) => {
      await m.query('insert into counters (key, n) values ($1, 1) on conflict (key) do update set n = counters.n + 1', [
        key,
      ]);
      await appendToOutbox(m, catalogue, [ev], limits);
    });
    return ev;
  }

  it('broker refusal (MESSAGE_TOO_LARGE) between good records: the good ones are published, the bad one parked and its key held; after the topic limit is raised, re-send publishes it once, then its held successor', async () => {
    const topic = uniqueName('test.parked');
    await createTestTopics(suite.kafka, [topic], 3, { maxMessageBytes: TOPIC_LIMIT });
    const big = 'big';
    const a1 = await emit(topic, 'a');
    const big1 = await emit(topic, big, BIG);
    const b1 = await emit(topic, 'b');
    // the next one of the refused record's key fits, but must wait: its key's order
    const big2 = await emit(topic, big);
    const a2 = await emit(topic, 'a');
    const b2 = await emit(topic, 'b');

    const collector = await collect(topic);
    const relay = startRelay();
    const parked = new ParkedOutbox(suite.db.dataSource, relay);
    await waitFor(() => orderOf(collector, 'a').length === 2 && orderOf(collector, 'b').length === 2, {
      what: 'the good records on the topic',
    });
    await waitFor(async () => (await parked.counts()).parked === 1, { what: 'the refused record parked' });

    expect(orderOf(collector, 'a')).toEqual([a1.id, a2.id]);
    expect(orderOf(collector, 'b')).toEqual([b1.id, b2.id]);
    expect(collector.records.filter((r) => r.key === big)).toEqual([]);
    // the refused one is parked as it was, with the broker's refusal; the next one of its key is held in the outbox
    const row = await parked.get(big1.id);
    expect(row).toMatchObject({
      eventId: big1.id,
      topic,
      key: big,
      state: 'parked',
      error: { code: 'MESSAGE_TOO_LARGE' },
      parks: 1,
      resends: 0,
      eventType: 'test.padded',
    });
    expect(JSON.parse(row!.value).id).toBe(big1.id);
    const held: Array<{ event_id: string }> = await suite.db.dataSource.query('select event_id from outbox');
    expect(held.map((r) => r.event_id)).toEqual([big2.id]);
    expect(await parked.counts()).toEqual({ parked: 1, held: 1 });
    expect(relay.parkCounts()).toEqual([{ topic, code: 'MESSAGE_TOO_LARGE', count: 1 }]);
    expect(relay.health().ok).toBe(true);
    expect((await parked.list({ state: 'parked', limit: 10 })).items.map((r) => r.eventId)).toEqual([big1.id]);

    // the fix: the topic accepts bigger records
    const admin = suite.kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [{ name: 'max.message.bytes', value: String(1024 * 1024) }],
        },
      ],
    });
    await admin.disconnect();

    const [first, second] = [await parked.resend(big1.id), await parked.resend(big1.id)];
    expect(first).toMatchObject({ resent: true, record: { state: 'resent', resends: 1 } });
    expect(second).toMatchObject({ resent: false, record: { state: 'resent', resends: 1 } });
    expect(await parked.resend(deriveId('no', 'such', 'event'))).toBeUndefined();

    await waitFor(() => orderOf(collector, big).length === 2, { what: 'the re-sent record and its held successor' });
    // once each, in their order: the re-sent record went back to its old position, ahead of the held one
    expect(collector.records.filter((r) => r.key === big).map((r) => r.headers['event-id'])).toEqual([
      big1.id,
      big2.id,
    ]);
    await waitFor(async () => (await suite.db.dataSource.query('select 1 from outbox')).length === 0, {
      what: 'the outbox emptied',
    });
    expect(await parked.counts()).toEqual({ parked: 0, held: 0 });
    expect(await parked.get(big1.id)).toMatchObject({ state: 'resent', resends: 1, parks: 1 });
  });

  it('a stored row above the configured limit is parked without being sent (RECORD_TOO_LARGE); rows of other keys go on', async () => {
    const topic = uniqueName('test.parked');
    await createTestTopics(suite.kafka, [topic], 3);
    const before = await emit(topic, 'small');
    const big = await emit(topic, 'big', BIG);
    const after = await emit(topic, 'small');

    const collector = await collect(topic);
    const relay = startRelay({ maxMessageBytes: TOPIC_LIMIT });
    const parked = new ParkedOutbox(suite.db.dataSource, relay);
    await waitFor(async () => orderOf(collector, 'small').length === 2 && (await parked.counts()).parked === 1, {
      what: 'the small records published and the big one parked',
    });
    expect(orderOf(collector, 'small')).toEqual([before.id, after.id]);
    expect(await parked.get(big.id)).toMatchObject({ state: 'parked', error: { code: 'RECORD_TOO_LARGE' } });
    expect(await topicSize(suite.kafka, topic)).toBe(2);
    expect(relay.parkCounts()).toEqual([{ topic, code: 'RECORD_TOO_LARGE', count: 1 }]);
  });

  it('appendToOutbox refuses an event above the limit before anything is stored: the business transaction rolls back', async () => {
    const topic = uniqueName('test.parked');
    const key = uniqueName('big');
    const attempt = emit(topic, key, BIG, { maxMessageBytes: TOPIC_LIMIT });
    await expect(attempt).rejects.toBeInstanceOf(RecordTooLargeError);
    await expect(attempt).rejects.toMatchObject({ code: 'RECORD_TOO_LARGE', details: { limit: TOPIC_LIMIT, topic } });
    expect(await suite.db.dataSource.query('select 1 from counters where key = $1', [key])).toEqual([]);
    expect(await suite.db.dataSource.query('select 1 from outbox')).toEqual([]);
  });

  it('the size bound is conservative: a record whose bound equals the topic limit is accepted by the broker', async () => {
    const topic = uniqueName('test.parked');
    await createTestTopics(suite.kafka, [topic], 1, { maxMessageBytes: TOPIC_LIMIT });
    const record = { topic, key: 'k', value: '', headers: { 'event-id': 'e' } };
    record.value = 'v'.repeat(TOPIC_LIMIT - recordBatchBytes(record));
    expect(recordBatchBytes(record)).toBe(TOPIC_LIMIT);
    await suite.publisher.publish([record]);
    expect(await topicSize(suite.kafka, topic)).toBe(1);
  });

  it('topics are created with max.message.bytes set; an existing topic with a lower limit is reported, never altered', async () => {
    const [small, plain, made] = [uniqueName('test.limit'), uniqueName('test.limit'), uniqueName('test.limit')];
    await createTestTopics(suite.kafka, [small], 1, { maxMessageBytes: TOPIC_LIMIT });
    await createTestTopics(suite.kafka, [plain], 1); // the broker default (1048588)
    const spec = (name: string) => ({
      name,
      description: 'test',
      key: 'k',
      retentionMs: -1,
      cleanupPolicy: 'delete' as const,
    });
    const mismatches = await ensureTopics(suite.kafka, [small, plain, made].map(spec), 1, {
      maxMessageBytes: 1024 * 1024,
    });
    expect(mismatches).toEqual([{ topic: small, maxMessageBytes: TOPIC_LIMIT }]);
    const admin = suite.kafka.admin();
    await admin.connect();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [small, made].map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['max.message.bytes'],
      })),
    });
    await admin.disconnect();
    const limits = Object.fromEntries(described.resources.map((r) => [r.resourceName, r.configEntries[0].configValue]));
    expect(limits).toEqual({ [small]: String(TOPIC_LIMIT), [made]: String(1024 * 1024) });
  });

  it('a consumer whose handler emits an event above the limit dead-letters that input (RECORD_TOO_LARGE) and goes on; nothing of it reaches the outbox', async () => {
    const [input, output] = [uniqueName('test.in'), uniqueName('test.out')];
    await createTestTopics(suite.kafka, [input, output], 1);
    const counter = counterEvents(input);
    const padded = paddedEvents(output);
    const catalogue = new EventCatalogue([counter.V1, padded.V1]);
    for (let i = 0; i < 3; i++) await increment(suite.db.dataSource, counter.catalogue, counter.V1, 'k');
    await new OutboxRelay(suite.db.dataSource, suite.publisher, silentLogger()).relayOnce();
    // the relay the consumer nudges is the one whose limit it checks
    const relay = new OutboxRelay(suite.db.dataSource, suite.publisher, silentLogger(), {
      maxMessageBytes: TOPIC_LIMIT,
    });
    const consumer = new EventConsumer({
      name: uniqueName('test-group'),
      topics: [input],
      catalogue,
      kafka: suite.kafka,
      dataSource: suite.db.dataSource,
      publisher: suite.publisher,
      logger: silentLogger(),
      relay,
      handler: async (event, { emit }) => {
        const { n } = event.payload as { n: number };
        emit(
          catalogue.create(padded.V1, {
            id: deriveId('out', event.id),
            key: 'k',
            occurredAt: event.occurredAt,
            source: 'test',
            payload: { key: 'k', n, pad: 'p'.repeat(n === 2 ? BIG : 0) },
          }),
        );
      },
    });
    await consumer.start();
    cleanups.push(() => consumer.stop());
    const dlq = await collect(consumer.deadLetterTopic);
    await waitFor(() => consumer.stats().applied === 2 && dlq.records.length === 1, {
      what: '2 applied, 1 dead-lettered',
    });
    expect(dlq.records[0].headers[DLQ_HEADERS.code]).toBe('RECORD_TOO_LARGE');
    expect(JSON.parse(dlq.records[0].value!).payload.n).toBe(2);
    const emitted: Array<{ n: number }> = await suite.db.dataSource.query(
      `select (value::jsonb -> 'payload' ->> 'n')::int as n from outbox where topic = $1 order by position`,
      [output],
    );
    expect(emitted.map((r) => r.n)).toEqual([1, 3]);
  });
});
