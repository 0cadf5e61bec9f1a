import { randomUUID } from 'node:crypto';
import type { Kafka, Consumer, KafkaMessage, IHeaders } from 'kafkajs';
import type { TopicSpec } from '@csms/contracts';
import { createKafka, ensureTopics, type EnsureTopicsOptions } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { TEST_KAFKA_BROKERS } from './env';

/** A name no other test (or earlier run) uses: topics, groups and databases are unique per test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function testKafka(clientId = 'csms-test'): Kafka {
  return createKafka({ brokers: TEST_KAFKA_BROKERS, clientId, logger: silentLogger() });
}

/** Creates test topics; `opts.maxMessageBytes` sets their `max.message.bytes` (a small one makes the broker refuse records). */
export async function createTestTopics(
  kafka: Kafka,
  names: string[],
  partitions = 3,
  opts: EnsureTopicsOptions = {},
): Promise<void> {
  const specs: TopicSpec[] = names.map((name) => ({
    name,
    description: 'test',
    key: 'k',
    retentionMs: -1,
    cleanupPolicy: 'delete',
  }));
  await ensureTopics(kafka, specs, partitions, opts);
}

export interface CollectedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  /** the broker's append time (ms since the epoch) */
  timestamp: number;
  /** when this process received it (ms since the epoch) */
  receivedAt: number;
}

function headersOf(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {}))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  return out;
}

/** Reads a topic from the beginning into memory, in a group of its own, until `close()`. */
export class TopicCollector {
  readonly records: CollectedRecord[] = [];
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: string[],
  ) {}

  async start(): Promise<this> {
    this.consumer = this.kafka.consumer({
      groupId: uniqueName('collector'),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({
        topic,
        partition,
        message,
      }: {
        topic: string;
        partition: number;
        message: KafkaMessage;
      }) => {
        this.records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null,
          headers: headersOf(message.headers),
          timestamp: Number(message.timestamp),
          receivedAt: Date.now(),
        });
      },
    });
    return this;
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/** Sum of the high watermarks of a topic's partitions: how many records it holds. */
export async function topicSize(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}
