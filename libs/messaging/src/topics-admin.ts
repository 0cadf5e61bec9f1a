import type { Kafka } from 'kafkajs';
import type { TopicSpec } from '@csms/contracts';

/**
 * Creates the topics the project uses, explicitly, with their settings (never broker auto-create).
 * Existing topics keep their settings; a topic with fewer partitions than configured is grown
 * (partitions are never removed: that would break key ordering).
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[], partitions: number, replicationFactor = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: partitions,
          replicationFactor,
          configEntries: [
            { name: 'retention.ms', value: String(s.retentionMs) },
            { name: 'cleanup.policy', value: s.cleanupPolicy },
          ],
        })),
      });
    }
    const present = specs.filter((s) => existing.has(s.name)).map((s) => s.name);
    if (present.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: present });
      const grow = meta.topics.filter((t) => t.partitions.length < partitions).map((t) => ({ topic: t.name, count: partitions }));
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
    }
  } finally {
    await admin.disconnect();
  }
}
