import type { TopicSpec } from '@csms/contracts';
import { ensureTopics } from '@csms/messaging';
import { testKafka, uniqueName } from '@csms/testing';

/**
 * Several instances of a service start at once (scale-out) and each ensures the same topics. Whatever the
 * interleaving — both creating, both growing from a stale partition count — every one of them must start.
 */
describe('ensureTopics with several instances starting at once (real Kafka)', () => {
  const kafka = testKafka('topics-admin-test');
  const spec = (name: string): TopicSpec => ({
    name,
    description: 'test',
    key: 'k',
    retentionMs: 60_000,
    cleanupPolicy: 'delete',
  });

  async function partitionCount(topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      return meta.topics[0].partitions.length;
    } finally {
      await admin.disconnect();
    }
  }

  it('four concurrent calls on new topics all succeed and the topics get the configured partitions', async () => {
    const specs = [spec(uniqueName('ta-new-a')), spec(uniqueName('ta-new-b'))];
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => ensureTopics(kafka, specs, 4)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    for (const s of specs) expect(await partitionCount(s.name)).toBe(4);
  });

  it('four concurrent calls growing the same existing topics all succeed (the losers read again)', async () => {
    for (let round = 0; round < 3; round++) {
      const specs = [spec(uniqueName('ta-grow-a')), spec(uniqueName('ta-grow-b'))];
      await ensureTopics(kafka, specs, 1);
      const results = await Promise.allSettled([1, 2, 3, 4].map(() => ensureTopics(kafka, specs, 6)));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      for (const s of specs) expect(await partitionCount(s.name)).toBe(6);
    }
  });
});
