import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { DEFAULT_MAX_MESSAGE_BYTES, checkRecordSize, recordBatchBytes } from './record-size';
import type { OutgoingRecord, RecordPublisher } from './records';

const MAX_REQUEST_BYTES = 512 * 1024;

export interface KafkaRecordPublisherOptions {
  /** the topics' `max.message.bytes` (KAFKA_MAX_MESSAGE_BYTES): no record batch sent is bigger */
  maxMessageBytes?: number;
}

/**
 * The shared producer of a process: idempotent (no duplicates from its own retries), acks=all,
 * records keyed (order per key), one connection reused for every send.
 */
export class KafkaRecordPublisher implements RecordPublisher {
  private producer: Producer;
  private connected?: Promise<void>;
  /** the producer's sequence state is in doubt after a failed send: replace it before the next send */
  private broken = false;
  /** producers replaced after a failed send */
  renewals = 0;
  readonly maxMessageBytes: number;
  /** most bytes of records in one request: a partition's batch in it is never above the topic's limit */
  private readonly maxRequestBytes: number;

  constructor(
    private readonly kafka: Kafka,
    opts: KafkaRecordPublisherOptions = {},
  ) {
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxRequestBytes = Math.min(MAX_REQUEST_BYTES, this.maxMessageBytes);
    this.producer = this.create();
  }

  private create(): Producer {
    // kafkajs: idempotence needs acks=-1 and at most one request in flight to keep per-partition order.
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  connect(): Promise<void> {
    if (this.broken) this.renew();
    this.connected ??= this.producer.connect().catch((e) => {
      this.connected = undefined;
      throw e;
    });
    return this.connected;
  }

  /**
   * A send kafkajs gave up on (retries exhausted, e.g. the broker was away for a while, or a non-retriable
   * error on one partition of a request whose other partitions were written) may have been written in whole
   * or in part, while kafkajs rewound the sequence numbers of every partition of the request: the next batch
   * of the same producer would reuse them, and the broker would take it for a duplicate of what it already
   * has, acknowledge it and drop it (silent loss of acknowledged records), or refuse it with
   * OUT_OF_ORDER_SEQUENCE_NUMBER (and kafkajs rewinds again). So after any failed send the producer is
   * replaced: the new one gets a new producer id and starts its sequences afresh. What was in doubt may then
   * be in the log twice if its caller sends it again: consumers drop duplicates by event id.
   */
  private renew(): void {
    const old = this.producer;
    this.broken = false;
    this.connected = undefined;
    this.producer = this.create();
    this.renewals += 1;
    void old.disconnect().catch(() => undefined);
  }

  /**
   * Sends in order, in requests of at most ~512 KiB and never more than `maxMessageBytes` (the broker refuses a
   * record batch above its `max.message.bytes` with MESSAGE_TOO_LARGE, which is not retriable). A record that
   * cannot fit in a batch of its own is refused here, before anything is sent, with RecordTooLargeError.
   */
  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (const r of records) checkRecordSize(r, this.maxMessageBytes);
    await this.connect();
    const producer = this.producer;
    try {
      let chunk: OutgoingRecord[] = [];
      let bytes = 0;
      for (const r of records) {
        const size = recordBatchBytes(r);
        if (chunk.length > 0 && bytes + size > this.maxRequestBytes) {
          await this.send(producer, chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(r);
        bytes += size;
      }
      await this.send(producer, chunk);
    } catch (e) {
      // only the producer that failed is replaced (another caller may have replaced it already)
      if (producer === this.producer) this.broken = true;
      throw e;
    }
  }

  private async send(producer: Producer, records: readonly OutgoingRecord[]): Promise<void> {
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic);
      if (list) list.push(r);
      else byTopic.set(r.topic, [r]);
    }
    await producer.sendBatch({
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
