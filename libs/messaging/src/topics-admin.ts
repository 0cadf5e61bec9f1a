import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import type { TopicSpec } from '@csms/contracts';
import type { Logger } from '@csms/platform';
import { STARTUP_TIMEOUT_MS, retryWhileSettling, type StartupRetryOptions } from './startup';

export interface EnsureTopicsOptions {
  replicationFactor?: number;
  /**
   * `max.message.bytes` of the topics created (KAFKA_MAX_MESSAGE_BYTES): the largest record batch the broker
   * accepts, set explicitly so that the limit the services check against is the topic's. Unset: the broker default.
   */
  maxMessageBytes?: number;
  /** how long to wait, in all, for the broker to create the topics and give every partition a leader (default 60 s) */
  timeoutMs?: number;
  logger?: Logger;
}

/** An existing topic whose `max.message.bytes` is below the configured one (kept: settings are never altered). */
export interface TopicLimitMismatch {
  topic: string;
  maxMessageBytes: number | undefined;
}

/**
 * Creates the topics the project uses, explicitly, with their settings (never broker auto-create).
 * Existing topics keep their settings; a topic with fewer partitions than configured is grown
 * (partitions are never removed: that would break key ordering). With `maxMessageBytes`, returns the existing
 * topics whose limit is lower (the caller warns: a record between the two limits is parked by the outbox relay;
 * a higher limit, such as the broker default 1048588 of topics created before the limit was set, is harmless).
 *
 * Resolves only when every partition of every topic has a leader in the broker's metadata: on a new
 * broker, or when several services create the same topics at once, CreateTopics answers (or says the
 * topic exists) before the partitions are served, and the first Metadata or ListOffsets request then gets
 * "This server does not host this topic-partition". Such errors are waited out with back-off, within
 * `timeoutMs`; other errors fail at once. Growing races the same way: two instances that read the old partition
 * count both ask for more, and the second is told "Number of partitions is invalid"; it reads the metadata again.
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: readonly TopicSpec[],
  partitions: number,
  opts: EnsureTopicsOptions = {},
): Promise<TopicLimitMismatch[]> {
  if (specs.length === 0) return [];
  const replicationFactor = opts.replicationFactor ?? 1;
  const retry: StartupRetryOptions = {
    deadline: Date.now() + (opts.timeoutMs ?? STARTUP_TIMEOUT_MS),
    logger: opts.logger,
  };
  const names = specs.map((s) => s.name);
  let mismatches: TopicLimitMismatch[] = [];
  const admin = kafka.admin();
  await retryWhileSettling('connecting the admin client', () => admin.connect(), retry);
  try {
    await retryWhileSettling(
      `creating topics ${names.join(', ')}`,
      async () => {
        mismatches = [];
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
                ...(opts.maxMessageBytes === undefined
                  ? []
                  : [{ name: 'max.message.bytes', value: String(opts.maxMessageBytes) }]),
              ],
            })),
          });
        }
        const present = specs.filter((s) => existing.has(s.name)).map((s) => s.name);
        if (present.length > 0) {
          const meta = await admin.fetchTopicMetadata({ topics: present });
          const grow = meta.topics
            .filter((t) => t.partitions.length < partitions)
            .map((t) => ({ topic: t.name, count: partitions }));
          if (grow.length > 0) {
            try {
              await admin.createPartitions({ topicPartitions: grow });
            } catch (e) {
              // INVALID_PARTITIONS: the topic already has that many partitions — another instance starting at the
              // same moment grew it (or created it) after our metadata read, which was stale. Read again.
              if ((e as { type?: unknown }).type !== 'INVALID_PARTITIONS') throw e;
              throw Object.assign(new Error(`partitions of ${grow.map((g) => g.topic).join(', ')} changed meanwhile`), {
                type: 'LEADER_NOT_AVAILABLE',
                cause: e,
              });
            }
          }
          if (opts.maxMessageBytes !== undefined) {
            const described = await admin.describeConfigs({
              includeSynonyms: false,
              resources: present.map((name) => ({
                type: ConfigResourceTypes.TOPIC,
                name,
                configNames: ['max.message.bytes'],
              })),
            });
            for (const r of described.resources) {
              const v = r.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
              if (v === undefined || Number(v) < opts.maxMessageBytes)
                mismatches.push({ topic: r.resourceName, maxMessageBytes: v === undefined ? undefined : Number(v) });
            }
          }
        }
      },
      retry,
    );
    await retryWhileSettling(
      `waiting for the leaders of ${names.join(', ')}`,
      async () => {
        const meta = await admin.fetchTopicMetadata({ topics: names });
        const unserved = meta.topics.flatMap((t) =>
          t.partitions.length < partitions
            ? [`${t.name} (${t.partitions.length} of ${partitions} partitions)`]
            : t.partitions
                .filter((p) => p.leader < 0 || p.partitionErrorCode !== 0)
                .map((p) => `${t.name}/${p.partitionId}`),
        );
        if (unserved.length > 0)
          throw Object.assign(new Error(`no leader yet for ${unserved.join(', ')}`), { type: 'LEADER_NOT_AVAILABLE' });
      },
      retry,
    );
  } finally {
    await admin.disconnect();
  }
  return mismatches;
}
