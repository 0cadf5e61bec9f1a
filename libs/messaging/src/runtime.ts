import type { DataSource } from 'typeorm';
import type { Kafka } from 'kafkajs';
import type { TopicSpec } from '@csms/contracts';
import type { Logger } from '@csms/platform';
import { EventConsumer, type EventConsumerOptions } from './consumer';
import { createKafka } from './kafka';
import { OutboxRelay, type OutboxRelayOptions } from './outbox';
import { ParkedOutbox } from './parked-outbox';
import { KafkaRecordPublisher } from './producer';
import { STARTUP_TIMEOUT_MS, retryWhileSettling, waitForGroupCoordinators } from './startup';
import { DEFAULT_MAX_MESSAGE_BYTES } from './record-size';
import { ensureTopics } from './topics-admin';

export interface MessagingRuntimeOptions {
  service: string;
  brokers: string[];
  dataSource: DataSource;
  logger: Logger;
  /** topics this service produces to or consumes from; created if missing */
  topics: readonly TopicSpec[];
  partitions: number;
  /** `max.message.bytes` of the topics it creates, and the limit its producer and outbox check (default 1 MiB) */
  maxMessageBytes?: number;
  relay?: OutboxRelayOptions;
  /** how long start-up waits for the broker to serve the topics and the groups' coordinator (default 60 s) */
  startupTimeoutMs?: number;
}

export type ConsumerSpec = Omit<EventConsumerOptions, 'kafka' | 'dataSource' | 'publisher' | 'logger' | 'relay'> & {
  /** names of consumers (of this runtime) that must have caught up with their topics before this one starts */
  startAfterCaughtUp?: string[];
};

/**
 * A service's messaging, wired once: the Kafka client, the shared idempotent producer, the outbox relay
 * and its consumers. `start()` creates the topics and starts everything; `stop()` is graceful (consumers
 * finish and commit the batch in hand, the relay finishes its round, the producer disconnects).
 */
export class MessagingRuntime {
  readonly kafka: Kafka;
  readonly publisher: KafkaRecordPublisher;
  readonly relay: OutboxRelay;
  /** rows the broker refused for good, moved aside by the relay: inspect, re-send */
  readonly parked: ParkedOutbox;
  readonly maxMessageBytes: number;
  private readonly consumers: Array<{ consumer: EventConsumer; spec: ConsumerSpec }> = [];
  private started = false;

  constructor(private readonly opts: MessagingRuntimeOptions) {
    this.kafka = createKafka({ brokers: opts.brokers, clientId: opts.service, logger: opts.logger });
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.publisher = new KafkaRecordPublisher(this.kafka, { maxMessageBytes: this.maxMessageBytes });
    this.relay = new OutboxRelay(opts.dataSource, this.publisher, opts.logger.child({ component: 'outbox-relay' }), {
      maxMessageBytes: this.maxMessageBytes,
      ...opts.relay,
    });
    this.parked = new ParkedOutbox(opts.dataSource, this.relay);
  }

  addConsumer(spec: ConsumerSpec): EventConsumer {
    const c = new EventConsumer({
      ...spec,
      kafka: this.kafka,
      dataSource: this.opts.dataSource,
      publisher: this.publisher,
      logger: this.opts.logger,
      relay: this.relay,
    });
    this.consumers.push({ consumer: c, spec });
    return c;
  }

  async start(): Promise<void> {
    if (this.started) return;
    // a new broker serves new topics and the groups' coordinator a moment after it said yes: wait (bounded)
    const timeoutMs = this.opts.startupTimeoutMs ?? STARTUP_TIMEOUT_MS;
    const retry = { deadline: Date.now() + timeoutMs, logger: this.opts.logger };
    const mismatches = await ensureTopics(this.kafka, this.opts.topics, this.opts.partitions, {
      maxMessageBytes: this.maxMessageBytes,
      timeoutMs,
      logger: this.opts.logger,
    });
    for (const m of mismatches) {
      this.opts.logger.warn(
        {
          topic: m.topic,
          topicMaxMessageBytes: m.maxMessageBytes ?? 'broker default',
          maxMessageBytes: this.maxMessageBytes,
        },
        'topic max.message.bytes is below KAFKA_MAX_MESSAGE_BYTES (settings of existing topics are not altered): a record between the two limits is parked by the outbox relay',
      );
    }
    await waitForGroupCoordinators(
      this.kafka,
      this.consumers.map((c) => c.spec.name),
      retry,
    );
    await retryWhileSettling('connecting the producer', () => this.publisher.connect(), retry);
    this.relay.start();
    const byName = new Map(this.consumers.map((c) => [c.spec.name, c.consumer]));
    for (const { consumer, spec } of this.consumers) {
      for (const dep of spec.startAfterCaughtUp ?? []) {
        const d = byName.get(dep);
        if (!d) throw new Error(`consumer ${spec.name} waits for unknown consumer ${dep}`);
        await d.caughtUp();
      }
      await consumer.start();
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    for (const { consumer } of this.consumers)
      await consumer.stop().catch((e) => this.opts.logger.error({ err: e }, 'consumer stop failed'));
    await this.relay.stop();
    await this.publisher.disconnect();
    this.started = false;
  }

  /** Ready when started, the relay is publishing and no consumer is stalled. */
  health(): { ok: boolean; detail: Record<string, unknown> } {
    const relay = this.relay.health();
    const consumers = Object.fromEntries(this.consumers.map(({ consumer, spec }) => [spec.name, consumer.health()]));
    const ok = this.started && relay.ok && Object.values(consumers).every((c) => c.ok);
    return { ok, detail: { started: this.started, relay, consumers } };
  }
}
