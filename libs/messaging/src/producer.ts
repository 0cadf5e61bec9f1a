import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import type { OutgoingRecord, RecordPublisher } from './records';

/**
 * The shared producer of a process: idempotent (no duplicates from its own retries), acks=all,
 * records keyed (order per key), one connection reused for every send.
 */
const MAX_REQUEST_BYTES = 512 * 1024;

export class KafkaRecordPublisher implements RecordPublisher {
  private readonly producer: Producer;
  private connected?: Promise<void>;

  constructor(kafka: Kafka) {
    // kafkajs: idempotence needs acks=-1 and at most one request in flight to keep per-partition order.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((e) => {
      this.connected = undefined;
      throw e;
    });
    return this.connected;
  }

  /**
   * Sends in order, in requests of at most ~512 KiB (the broker refuses a record batch above its
   * `max.message.bytes`, 1 MiB by default, with MESSAGE_TOO_LARGE, which is not retriable).
   */
  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.connect();
    let chunk: OutgoingRecord[] = [];
    let bytes = 0;
    for (const r of records) {
      const size = (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length) + (r.key?.length ?? 0) + 64;
      if (chunk.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
        await this.send(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(r);
      bytes += size;
    }
    await this.send(chunk);
  }

  private async send(records: readonly OutgoingRecord[]): Promise<void> {
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic);
      if (list) list.push(r);
      else byTopic.set(r.topic, [r]);
    }
    await this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, rs]) => ({
        topic,
        messages: rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      })),
    });
  }

  async disconnect(): Promise<void> {
    if (this.connected) {
      this.connected = undefined;
      await this.producer.disconnect();
    }
  }
}
