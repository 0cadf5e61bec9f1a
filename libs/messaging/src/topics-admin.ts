import type { Kafka } from 'kafkajs';
import type { TopicSpec } from '@csms/contracts';
import type { Logger } from '@csms/platform';
import { STARTUP_TIMEOUT_MS, retryWhileSettling, type StartupRetryOptions } from './startup';

export interface EnsureTopicsOptions {
  /** how long to wait, in all, for the broker to create the topics and give every partition a leader (default 60 s) */
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * Creates the topics the project uses, explicitly, with their settings (never broker auto-create).
 * Existing topics keep their settings; a topic with fewer partitions than configured is grown
 * (partitions are never removed: that would break key ordering).
 *
 * Resolves only when every partition of every topic has a leader in the broker's metadata: on a new
 * broker, or when several services create the same topics at once, CreateTopics answers (or says the
 * topic exists) before the partitions are served, and the first Metadata or ListOffsets request then gets
 * "This server does not host this topic-partition". Such errors are waited out with back-off, within
 * `timeoutMs`; other errors fail at once.
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[], partitions: number, replicationFactor = 1, opts: EnsureTopicsOptions = {}): Promise<void> {
  if (specs.length === 0) return;
  const retry: StartupRetryOptions = { deadline: Date.now() + (opts.timeoutMs ?? STARTUP_TIMEOUT_MS), logger: opts.logger };
  const names = specs.map((s) => s.name);
  const admin = kafka.admin();
  await retryWhileSettling('connecting the admin client', () => admin.connect(), retry);
  try {
    await retryWhileSettling(`creating topics ${names.join(', ')}`, async () => {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.name));
      if (missing.length > 0) {
        // false (not an error) when another process created them meanwhile; leaders are awaited below either way
        await admin.createTopics({
          waitForLeaders: false,
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
    }, retry);
    await retryWhileSettling(`waiting for the leaders of ${names.join(', ')}`, async () => {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      const unserved = meta.topics.flatMap((t) =>
        t.partitions.length < partitions ? [`${t.name} (${t.partitions.length} of ${partitions} partitions)`] : t.partitions.filter((p) => p.leader < 0 || p.partitionErrorCode !== 0).map((p) => `${t.name}/${p.partitionId}`),
      );
      if (unserved.length > 0) throw Object.assign(new Error(`no leader yet for ${unserved.join(', ')}`), { type: 'LEADER_NOT_AVAILABLE' });
    }, retry);
  } finally {
    await admin.disconnect();
  }
}
