import { spawn } from 'node:child_process';
import path from 'node:path';
import { deriveId } from '@csms/contracts';
import { EventConsumer, OutboxRelay, appendToOutbox } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { TEST_KAFKA_BROKERS, TopicCollector, createTestTopics, topicSize, uniqueName, waitFor } from '@csms/testing';
import { messagingSuite, appliedCount, applyTotals, counterEvents, increment, totals } from './fixture';

const repoRoot = path.resolve(__dirname, '../../..');

function runChild(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // node itself runs the script (tsx only as a loader), so the signal that kills it is the child's own
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('transactional outbox and relay (real Kafka, real PostgreSQL)', () => {
  const suite = messagingSuite('outbox');
  const { cleanups } = suite;

  async function topicWithEvents() {
    const topic = uniqueName('test.counters');
    await createTestTopics(suite.kafka, [topic], 3);
    return { topic, ...counterEvents(topic) };
  }

  function startRelay(): OutboxRelay {
    const relay = new OutboxRelay(suite.db.dataSource, suite.publisher, silentLogger(), { pollIntervalMs: 20 });
    relay.start();
    cleanups.push(() => relay.stop());
    return relay;
  }

  async function startConsumer(
    topic: string,
    catalogue: ReturnType<typeof counterEvents>['catalogue'],
    name = uniqueName('test-group'),
  ) {
    const consumer = new EventConsumer({
      name,
      topics: [topic],
      catalogue,
      handler: applyTotals,
      kafka: suite.kafka,
      dataSource: suite.db.dataSource,
      publisher: suite.publisher,
      logger: silentLogger(),
    });
    await consumer.start();
    cleanups.push(() => consumer.stop());
    return consumer;
  }

  it('publishes exactly the committed events, once each, in commit order per key', async () => {
    const { topic, V1, catalogue } = await topicWithEvents();
    startRelay();
    const keys = ['station-a', 'station-b', 'station-c', 'station-d'];
    const perKey = 25;
    // concurrent business transactions on the same keys: the pool runs several at once
    await Promise.all(
      keys.flatMap((k) => Array.from({ length: perKey }, () => increment(suite.db.dataSource, catalogue, V1, k))),
    );

    const collector = await new TopicCollector(suite.kafka, [topic]).start();
    cleanups.push(() => collector.close());
    await waitFor(() => collector.records.length >= keys.length * perKey, { what: 'all events on the topic' });
    const consumer = await startConsumer(topic, catalogue);
    await waitFor(async () => (await appliedCount(suite.db.dataSource)) >= keys.length * perKey, {
      what: 'all events applied',
    });

    expect(collector.records).toHaveLength(keys.length * perKey);
    for (const k of keys) {
      // per key, the topic holds n = 1..perKey in that order: the order the transactions committed in
      const ns = collector.records.filter((r) => r.key === k).map((r) => JSON.parse(r.value!).payload.n);
      expect(ns).toEqual(Array.from({ length: perKey }, (_, i) => i + 1));
      const applied: Array<{ n: number }> = await suite.db.dataSource.query(
        'select n from applied_log where key = $1 order by seq',
        [k],
      );
      expect(applied.map((r) => r.n)).toEqual(ns);
    }
    expect(await totals(suite.db.dataSource)).toEqual(
      Object.fromEntries(keys.map((k) => [k, { count: perKey, sum: (perKey * (perKey + 1)) / 2 }])),
    );
    expect(consumer.stats().duplicates).toBe(0);
    const [{ left }] = await suite.db.dataSource.query('select count(*)::int as left from outbox');
    expect(left).toBe(0);
  });

  it('publishes the values of rows its process committed from memory, and reads the others back from the table', async () => {
    const { topic, V1, catalogue } = await topicWithEvents();
    const ds = suite.db.dataSource;
    const make = (n: number) =>
      catalogue.create(V1, {
        id: deriveId('remembered', topic, n),
        key: 'r',
        occurredAt: '2026-01-01T00:00:00Z',
        source: 'test',
        payload: { key: 'r', n },
      });
    const relay = new OutboxRelay(ds, suite.publisher, silentLogger(), { pollIntervalMs: 20 });
    const written = await ds.transaction((m) => appendToOutbox(m, catalogue, [make(1), make(2)]));
    expect(written.map((w) => w.value)).toEqual([make(1), make(2)].map((e) => JSON.stringify(e)));
    relay.remember(written); // committed
    await ds.transaction((m) => appendToOutbox(m, catalogue, [make(3)])); // another process's row, say
    // a row written again (same event id) is not written, so nothing of it is returned to remember
    expect(await ds.transaction((m) => appendToOutbox(m, catalogue, [make(1)]))).toEqual([]);
    expect(await relay.relayOnce()).toBe(3);
    expect(relay.counts).toEqual({ published: 3, readBack: 1 });
    const collector = await new TopicCollector(suite.kafka, [topic]).start();
    cleanups.push(() => collector.close());
    await waitFor(() => collector.records.length === 3, { what: 'three records' });
    expect(collector.records.map((r) => JSON.parse(r.value!).payload.n)).toEqual([1, 2, 3]);
    expect(collector.records.map((r) => r.value)).toEqual([1, 2, 3].map((n) => JSON.stringify(make(n))));
    await relay.stop();
  });

  it('a graceful stop publishes what was committed since the last round (the outbox is drained, not left for the next start)', async () => {
    const { topic, V1, catalogue } = await topicWithEvents();
    // polls once a minute and is never nudged: only the drain at stop can publish these
    const relay = new OutboxRelay(suite.db.dataSource, suite.publisher, silentLogger(), {
      pollIntervalMs: 60_000,
      batchSize: 7,
    });
    relay.start();
    await new Promise((r) => setTimeout(r, 300)); // its first (empty) round is over
    const key = uniqueName('drain');
    for (let i = 0; i < 20; i++) await increment(suite.db.dataSource, catalogue, V1, key);
    await relay.stop();
    expect(await topicSize(suite.kafka, topic)).toBe(20);
    const [{ left }] = await suite.db.dataSource.query('select count(*)::int as left from outbox where key = $1', [
      key,
    ]);
    expect(left).toBe(0);
  });

  it('a rolled-back business transaction publishes nothing', async () => {
    const { topic, V1, catalogue } = await topicWithEvents();
    await expect(increment(suite.db.dataSource, catalogue, V1, 'rolled-back', true)).rejects.toThrow(
      'business rule failed',
    );
    const committed = await increment(suite.db.dataSource, catalogue, V1, 'committed');
    startRelay();
    const collector = await new TopicCollector(suite.kafka, [topic]).start();
    cleanups.push(() => collector.close());
    await waitFor(() => collector.records.some((r) => r.headers['event-id'] === committed.id), {
      what: 'the committed event',
    });
    expect(await topicSize(suite.kafka, topic)).toBe(1);
    expect(collector.records.map((r) => r.key)).toEqual(['committed']);
    const [{ c }] = await suite.db.dataSource.query(
      `select count(*)::int as c from counters where key = 'rolled-back'`,
    );
    expect(c).toBe(0);
  });

  it('a relay killed between publishing and marking republishes on restart, and the consumer applies each event once', async () => {
    const { topic, V1, catalogue } = await topicWithEvents();
    const events = [];
    for (let i = 0; i < 10; i++) events.push(await increment(suite.db.dataSource, catalogue, V1, `k${i % 3}`));

    const child = await runChild('libs/messaging/test/relay-crash.child.ts', {
      DATABASE_URL: suite.db.url,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
    });
    expect({ signal: child.signal, stderr: child.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    expect(child.stdout).toContain('published 10');
    // the broker has them, the outbox still has them
    expect(await topicSize(suite.kafka, topic)).toBe(10);
    const [{ left }] = await suite.db.dataSource.query('select count(*)::int as left from outbox');
    expect(left).toBe(10);

    startRelay();
    await waitFor(
      async () =>
        (await topicSize(suite.kafka, topic)) === 20 &&
        (await suite.db.dataSource.query('select count(*)::int as c from outbox'))[0].c === 0,
      {
        what: 'the restarted relay to publish again and clear the outbox',
      },
    );

    const consumer = await startConsumer(topic, catalogue);
    await waitFor(() => consumer.stats().applied + consumer.stats().duplicates === 20, {
      what: 'every delivered record handled',
    });
    expect(consumer.stats()).toMatchObject({ applied: 10, duplicates: 10, parked: 0 });
    expect(await appliedCount(suite.db.dataSource)).toBe(10);
    const ids: Array<{ event_id: string }> = await suite.db.dataSource.query(
      'select distinct event_id from applied_log',
    );
    expect(ids.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(await totals(suite.db.dataSource)).toEqual({
      k0: { count: 4, sum: 10 },
      k1: { count: 3, sum: 6 },
      k2: { count: 3, sum: 6 },
    });
  });

  it('publishes a relay batch larger than the broker accepts in one request (split by size, order kept)', async () => {
    const topic = uniqueName('test.big');
    await createTestTopics(suite.kafka, [topic], 1);
    const records = Array.from({ length: 300 }, (_, i) => ({
      topic,
      key: 'one-key',
      value: JSON.stringify({ i, pad: 'x'.repeat(10_000) }),
    }));
    // 300 x 10 KB = 3 MB for one partition: over the broker's 1 MiB max.message.bytes in one record batch
    await suite.publisher.publish(records);
    expect(await topicSize(suite.kafka, topic)).toBe(300);
    const collector = await new TopicCollector(suite.kafka, [topic]).start();
    cleanups.push(() => collector.close());
    await waitFor(() => collector.records.length === 300, { what: 'all 300 records' });
    expect(collector.records.map((r) => JSON.parse(r.value!).i)).toEqual(records.map((_, i) => i));
  });
});
