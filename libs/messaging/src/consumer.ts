import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { deadLetterSpec, type Envelope, type EventCatalogue } from '@csms/contracts';
import type { Logger } from '@csms/platform';
import {
  envelopeHints,
  failureCode,
  failureMessage,
  findDeadLetter,
  recordDeadLetter,
  type RedriveResult,
} from './dead-letters';
import { classifyFailure, type FailureVerdict } from './failures';
import {
  advanceAppliedPosition,
  lockAppliedPosition,
  pruneInbox,
  recordManyInInbox,
  type AppliedPosition,
} from './inbox';
import type { SharedDecodes } from './shared-decodes';
import { LagTracker, type PartitionLag, type PartitionProgress } from './lag';
import { appendToOutbox, type OutboxRelay, type OutboxWritten } from './outbox';
import type { RecordPosition, RecordPublisher } from './records';
import { STARTUP_TIMEOUT_MS, isSettlingError, retryWhileSettling } from './startup';
import { ensureTopics } from './topics-admin';
import { StallDetector, backoffMs } from './watchdog';

export interface HandlerContext {
  /** the transaction in which the inbox row, the state change and the outbox rows commit together */
  manager: EntityManager;
  position: RecordPosition;
  logger: Logger;
  /** events to emit if and only if this transaction commits (the transactional outbox) */
  emit(...events: Envelope[]): void;
  /**
   * scratch space shared by the events applied in the same transaction (a chunk): a handler may cache
   * state here and write it once in `onChunkEnd`
   */
  scratch: Map<string, unknown>;
}

/** Runs once per chunk transaction, before its first handler, with the events it will handle (to prefetch state). */
export type ChunkStartHook = (ctx: {
  manager: EntityManager;
  scratch: Map<string, unknown>;
  events: readonly Envelope[];
}) => Promise<void>;

/** Runs once per chunk transaction, after its last handler, before the outbox append and the commit. */
export type ChunkEndHook = (ctx: {
  manager: EntityManager;
  scratch: Map<string, unknown>;
  emit(...events: Envelope[]): void;
}) => Promise<void>;

export type EventHandler = (event: Envelope, ctx: HandlerContext) => Promise<void>;

/**
 * What to do instead of parking an event whose handling failed for good (not an infrastructure failure): runs in
 * a transaction of its own, with the event's inbox row and its emitted events, as a handler would. If it throws
 * too, the event is parked.
 */
export type GiveUpHandler = (event: Envelope, error: unknown, ctx: HandlerContext) => Promise<void>;

/**
 * `fetchMaxBytesPerPartition` with room for a whole chunk of `chunkSize` records of up to 2 KiB in one fetched batch (a
 * chunk never spans two), and never below kafkajs' 1 MiB.
 */
export function fetchRoomForChunk(chunkSize: number): number {
  return Math.max(2 ** 20, chunkSize * 2048);
}

export interface EventConsumerOptions {
  /** consumer group id; also the inbox's consumer name and the dead-letter topic's suffix */
  name: string;
  topics: string[];
  /** the event versions this consumer accepts; anything else is parked */
  catalogue: EventCatalogue;
  handler: EventHandler;
  /** prefetches what the chunk's handlers will need into `scratch` */
  onChunkStart?: ChunkStartHook;
  /** flushes what handlers left in `scratch` (e.g. state cached across the chunk) */
  onChunkEnd?: ChunkEndHook;
  /** records the failure of an event instead of parking it (e.g. as a domain event); records that fail to decode are parked all the same */
  onGiveUp?: GiveUpHandler;
  kafka: Kafka;
  dataSource: DataSource;
  /** used to park poison records on the dead-letter topic */
  publisher: RecordPublisher;
  logger: Logger;
  /** nudged after each commit that emitted events */
  relay?: OutboxRelay;
  fromBeginning?: boolean;
  /** messages applied in one database transaction */
  chunkSize?: number;
  /** attempts for an error that does not say whether it is retriable, before parking */
  maxAttempts?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** no sign of life for this long while running = stalled: restart the consumer */
  stallTimeoutMs?: number;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  /** longest a fetch waits for data; also bounds how long a graceful stop waits for the fetch in flight */
  maxWaitTimeMs?: number;
  /**
   * most bytes a fetch takes from one partition (kafkajs: 1 MiB). A chunk never spans two fetched batches, so a
   * `chunkSize` larger than a batch's records is reached only with larger fetches (a backlog of 1 KB records).
   */
  fetchMaxBytesPerPartition?: number;
  /** partitions for the dead-letter topic when it has to be created */
  deadLetterPartitions?: number;
  /** the watchdog's clock (tests move it to simulate a silent consumer) */
  now?: () => number;
  /** how long `start()` waits for the broker to serve its topics and group (default 60 s) */
  startupTimeoutMs?: number;
  /** records decoded once for this consumer and others of the process that read the same topics (`SharedDecodes`) */
  sharedDecodes?: SharedDecodes;
  /**
   * Event types this consumer has no effect for: a record whose `event-type` header (set by the outbox relay) names
   * one of them is passed over before it is parsed (no decoding, no inbox row, no transaction; its offset moves on
   * with the records around it). A record without the header, or of another type, is decoded as usual (a type the
   * catalogue does not know is parked as before). Such a record's contract is then checked only by the consumers
   * that handle its type: a poison record of a skipped type is parked by them, not by this one.
   */
  skipTypes?: ReadonlySet<string>;
  /**
   * Topics whose records' inbox rows may go after this long (ms), by topic name: only topics where a copy of a record
   * under the same event id can come at another offset within that time and never later (`ocpp.inbound`: a station
   * repeating a call on its connection). A redelivery of a record at its own offset is dropped by the consumer's
   * position, however old. Other topics' rows are kept: an upstream rebuild re-publishes their ids at any time.
   * ADR 0011.
   */
  inboxRetentionMs?: Readonly<Record<string, number>>;
  /** how often expired inbox rows are deleted (default 60 s), in rounds of `inboxPruneBatch` (10,000) rows */
  inboxPruneIntervalMs?: number;
  inboxPruneBatch?: number;
}

export interface ConsumerStats {
  applied: number;
  duplicates: number;
  parked: number;
  /** events whose failure `onGiveUp` recorded instead of parking them */
  givenUp: number;
  retries: number;
  restarts: number;
  /** records passed over unread (`skipTypes`) */
  skipped: number;
  /** expired inbox rows deleted (`inboxRetentionMs`) */
  inboxPruned: number;
}

/** One chunk transaction committed: what a metrics listener sees (once per chunk, not per record). */
export interface ChunkApplied {
  topic: string;
  partition: number;
  /** events newly applied (duplicates the inbox dropped are not counted) */
  records: number;
  duplicates: number;
  /** wall time of the transaction (inbox, handlers, outbox, commit) */
  seconds: number;
  /** `apply`: consumed records; `giveUp`: failures recorded by `onGiveUp`; `redrive`: a dead letter re-driven */
  kind: 'apply' | 'giveUp' | 'redrive';
  /** the events the chunk emitted (committed to the outbox) */
  emitted: readonly Envelope[];
}

/** Failed attempts to apply an event, by error code and by what the consumer made of it. */
export interface FailureCount {
  code: string;
  /** `retry`: retried until it passes; `park`: flagged not retriable; `unknown`: retried `maxAttempts` times, then given up */
  verdict: FailureVerdict;
  count: number;
}

/** Dead-letter record headers: the original record is kept verbatim as the value, with its key. */
export const DLQ_HEADERS = {
  code: 'dlq-error-code',
  message: 'dlq-error-message',
  topic: 'dlq-source-topic',
  partition: 'dlq-source-partition',
  offset: 'dlq-source-offset',
  group: 'dlq-consumer-group',
  attempts: 'dlq-attempts',
} as const;

interface Item {
  message: KafkaMessage;
  position: RecordPosition;
  event?: Envelope;
  error?: unknown;
  /** passed over unread (`skipTypes`) */
  skipped?: true;
}

/** A record header's text (kafkajs gives a Buffer, a string or a list of them). */
function headerText(v: Buffer | string | Array<Buffer | string> | undefined): string | undefined {
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : typeof one === 'string' ? one : one.toString('utf8');
}

/** What applyChunk needs of a record: the decoded event and where it came from. */
type Decoded = Pick<Item, 'event' | 'position'>;

class Stopped extends Error {}
class AlreadyRedriven extends Error {}

/**
 * The partition is not the log the consumer applied: it ends before the consumer's position, or the record just
 * below the position has another event id (the topic was deleted and created again, or truncated). Retried (the
 * partition waits, nothing is dropped or applied) until an operator rebuilds the service's state from the log.
 */
export class LogReplacedError extends Error {
  readonly retriable = true;
  readonly code = 'LOG_REPLACED';
}

type OptionalOptions =
  | 'relay'
  | 'onChunkEnd'
  | 'onChunkStart'
  | 'onGiveUp'
  | 'sharedDecodes'
  | 'fetchMaxBytesPerPartition'
  | 'skipTypes'
  | 'inboxRetentionMs';

/**
 * Consumes events with exactly-once effect over at-least-once delivery:
 * each event is decoded and validated against the catalogue (contract violations are parked at once),
 * then applied in a PostgreSQL transaction together with its inbox row and the events it emits (outbox).
 * The Kafka offset is committed only after that transaction commits; a redelivered event finds its
 * inbox row and changes nothing. Failures: an error flagged retriable is retried with back-off for as
 * long as it takes (the partition waits: order is kept); an error flagged not retriable is parked on
 * `dlq.<name>` with its error; an unknown error is retried `maxAttempts` times, then parked. A consumer with
 * `onGiveUp` records such a failure (flagged not retriable, or retried `maxAttempts` times) in a transaction of
 * its own instead of parking the event; only if that fails too is it parked.
 */
export class EventConsumer {
  private consumer?: Consumer;
  private running = false;
  private readonly stall: StallDetector;
  private watchdogTimer?: NodeJS.Timeout;
  private restarting?: Promise<void>;
  private readonly o: Required<Omit<EventConsumerOptions, OptionalOptions>> &
    Pick<EventConsumerOptions, OptionalOptions>;
  private readonly log: Logger;
  private readonly stats_: ConsumerStats = {
    applied: 0,
    duplicates: 0,
    parked: 0,
    givenUp: 0,
    retries: 0,
    restarts: 0,
    skipped: 0,
    inboxPruned: 0,
  };
  private readonly failures = new Map<string, FailureCount>();
  private readonly chunkListeners: Array<(c: ChunkApplied) => void> = [];
  private readonly lag: LagTracker;
  private admin?: Admin;
  private lagRefresh?: { at: number; running?: Promise<void> };
  /** the end of each partition as of its last fetched batch (`topic/partition`): a position beyond it is a replaced log */
  private readonly logEnds = new Map<string, number>();
  private pruneTimer?: NodeJS.Timeout;
  private pruning?: Promise<void>;

  constructor(opts: EventConsumerOptions) {
    this.o = {
      fromBeginning: true,
      chunkSize: 100,
      maxAttempts: 5,
      retryInitialMs: 100,
      retryMaxMs: 30_000,
      stallTimeoutMs: 60_000,
      partitionsConsumedConcurrently: 1,
      sessionTimeoutMs: 30_000,
      maxWaitTimeMs: 1000,
      deadLetterPartitions: 1,
      inboxPruneIntervalMs: 60_000,
      inboxPruneBatch: 10_000,
      now: Date.now,
      startupTimeoutMs: STARTUP_TIMEOUT_MS,
      ...opts,
    };
    this.log = opts.logger.child({ consumer: opts.name });
    this.stall = new StallDetector(this.o.stallTimeoutMs, this.o.now());
    this.lag = new LagTracker(() => Date.now());
  }

  /** the consumer group id (also the inbox's and the dead letters' consumer name) */
  get name(): string {
    return this.o.name;
  }

  get deadLetterTopic(): string {
    return deadLetterSpec(this.o.name).name;
  }

  stats(): ConsumerStats {
    return { ...this.stats_ };
  }

  /** Failed attempts since start, by error code and verdict (a record retried three times counts three). */
  failureCounts(): FailureCount[] {
    return [...this.failures.values()].map((f) => ({ ...f }));
  }

  /** Calls `listener` after each committed chunk transaction (metrics: throughput, apply time, emitted events). Keep it cheap. */
  onChunkApplied(listener: (c: ChunkApplied) => void): void {
    this.chunkListeners.push(listener);
  }

  /**
   * The partitions assigned to this instance with their lag (records and seconds behind), as of the last chunk,
   * batch and `refreshLag`. Each partition is reported by the instance that holds it.
   */
  lagSnapshot(): Array<PartitionProgress & PartitionLag> {
    return this.lag.snapshot();
  }

  /**
   * Reads the ends of the assigned partitions and the group's committed offsets from the broker, so the lag grows
   * while the consumer is stuck (retrying, stalled) or idle between fetches. At most once per `minIntervalMs`
   * (a scrape calls it); one connected admin client, no effect on the consumer. Errors are swallowed (the lag
   * keeps its last values; `health()` says when the consumer is in trouble).
   */
  async refreshLag(minIntervalMs = 5000): Promise<void> {
    const now = Date.now();
    if (this.lagRefresh?.running) return this.lagRefresh.running;
    if (this.lagRefresh && now - this.lagRefresh.at < minIntervalMs) return;
    const topics = this.lag.topics();
    if (!this.running || topics.length === 0) return;
    const running = (async () => {
      try {
        if (!this.admin) {
          const admin = this.o.kafka.admin();
          await admin.connect();
          this.admin = admin;
        }
        for (const topic of topics)
          this.lag.highWatermarks(
            topic,
            (await this.admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, high: Number(o.high) })),
          );
        for (const t of await this.admin.fetchOffsets({ groupId: this.o.name, topics })) {
          this.lag.committed(
            t.topic,
            t.partitions.map((x) => ({ partition: x.partition, offset: Number(x.offset) })),
          );
        }
      } catch (e) {
        this.log.debug({ err: e }, 'reading the lag from the broker failed; keeping the last values');
      }
    })();
    this.lagRefresh = { at: now, running };
    await running;
    this.lagRefresh = { at: now };
  }

  /** Ready = running and not stalled. */
  health(): { ok: boolean; running: boolean; silentForMs: number } {
    const silentForMs = this.stall.silentForMs(this.o.now());
    return { ok: this.running && !this.stall.isStalled(this.o.now()), running: this.running, silentForMs };
  }

  async start(): Promise<void> {
    if (this.running) return;
    await ensureTopics(this.o.kafka, [deadLetterSpec(this.o.name)], this.o.deadLetterPartitions, {
      timeoutMs: this.o.startupTimeoutMs,
      logger: this.log,
    });
    this.running = true;
    this.stall.alive(this.o.now());
    // joining may meet a group coordinator or a topic that a new broker is still setting up: wait, bounded
    await retryWhileSettling(
      'starting the consumer',
      async () => {
        try {
          await this.launch();
        } catch (e) {
          const c = this.consumer;
          this.consumer = undefined;
          await c?.disconnect().catch(() => undefined);
          throw e;
        }
      },
      { deadline: Date.now() + this.o.startupTimeoutMs, logger: this.log },
    ).catch((e) => {
      this.running = false;
      throw e;
    });
    const every = Math.max(100, Math.floor(this.o.stallTimeoutMs / 4));
    this.watchdogTimer = setInterval(() => this.watch(), every);
    this.watchdogTimer.unref();
    if (Object.keys(this.o.inboxRetentionMs ?? {}).length > 0) {
      this.pruneTimer = setInterval(() => {
        this.pruning ??= this.pruneExpiredInbox()
          .then(() => undefined)
          .catch((e: unknown) => this.log.warn({ err: e }, 'pruning the inbox failed; tried again at the next round'))
          .finally(() => {
            this.pruning = undefined;
          });
      }, this.o.inboxPruneIntervalMs);
      this.pruneTimer.unref();
    }
  }

  /**
   * Deletes this consumer's expired inbox rows (`inboxRetentionMs`), `inboxPruneBatch` at a time until none is left;
   * returns how many. Runs every `inboxPruneIntervalMs` while the consumer runs.
   */
  async pruneExpiredInbox(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await pruneInbox(this.o.dataSource, this.o.name, this.o.inboxPruneBatch);
      total += n;
      this.stats_.inboxPruned += n;
      if (n < this.o.inboxPruneBatch || !this.running) return total;
    }
  }

  /**
   * Resolves when the group's committed offsets have reached the end of its topics as they were when
   * this was called (everything already in the log is applied). Used to rebuild a catalogue before
   * consumers that depend on it start.
   */
  async caughtUp(timeoutMs = 300_000): Promise<void> {
    const admin = this.o.kafka.admin();
    await admin.connect();
    try {
      const deadline = Date.now() + timeoutMs;
      const targets = new Map<string, number>();
      for (const topic of this.o.topics) {
        const offsets = await retryWhileSettling(`reading the end of ${topic}`, () => admin.fetchTopicOffsets(topic), {
          deadline,
          logger: this.log,
        });
        for (const p of offsets) if (Number(p.high) > 0) targets.set(`${topic}/${p.partition}`, Number(p.high));
      }
      for (;;) {
        let done = false;
        try {
          const committed = await admin.fetchOffsets({ groupId: this.o.name, topics: this.o.topics });
          done = [...targets].every(([k, high]) => {
            const [topic, partition] = [k.slice(0, k.lastIndexOf('/')), Number(k.slice(k.lastIndexOf('/') + 1))];
            const off = committed
              .find((t) => t.topic === topic)
              ?.partitions.find((x) => x.partition === partition)?.offset;
            return off !== undefined && Number(off) >= high;
          });
        } catch (e) {
          // the group's coordinator still loading on a new broker: ask again
          if (!isSettlingError(e) || Date.now() > deadline) throw e;
        }
        if (done) return;
        if (Date.now() > deadline) throw new Error(`consumer ${this.o.name} did not catch up within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** Graceful: stops fetching, lets the batch in hand finish and commit, then disconnects. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.pruning;
    await this.restarting;
    const c = this.consumer;
    this.consumer = undefined;
    if (c) await c.disconnect();
    await this.lagRefresh?.running;
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
    this.lag.clear();
  }

  private async launch(): Promise<void> {
    const c = this.o.kafka.consumer({
      groupId: this.o.name,
      sessionTimeout: this.o.sessionTimeoutMs,
      heartbeatInterval: Math.floor(this.o.sessionTimeoutMs / 10),
      maxWaitTimeInMs: this.o.maxWaitTimeMs,
      ...(this.o.fetchMaxBytesPerPartition
        ? {
            maxBytesPerPartition: this.o.fetchMaxBytesPerPartition,
            // the whole fetch (kafkajs: 10 MiB) room for three partitions' worth
            maxBytes: Math.max(10 * 2 ** 20, 3 * this.o.fetchMaxBytesPerPartition),
          }
        : {}),
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 200 },
    });
    const alive = () => this.stall.alive(this.o.now());
    c.on(c.events.FETCH_START, alive);
    c.on(c.events.HEARTBEAT, alive);
    c.on(c.events.START_BATCH_PROCESS, alive);
    c.on(c.events.GROUP_JOIN, (e) => {
      alive();
      this.lag.assigned(e.payload.memberAssignment);
    });
    c.on(c.events.CRASH, (e) => {
      // kafkajs restarts a consumer whose crash was retriable (e.g. the coordinator still loading at start): a warning
      if (e.payload.restart) this.log.warn({ err: e.payload.error }, 'consumer crashed; kafkajs restarts it');
      else this.log.error({ err: e.payload.error }, 'consumer crashed');
      if (!e.payload.restart && this.running) void this.restart('crash without restart');
    });
    this.consumer = c;
    await c.connect();
    await c.subscribe({ topics: this.o.topics, fromBeginning: this.o.fromBeginning });
    await c.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently,
      eachBatch: (p) => this.eachBatch(p),
    });
  }

  private watch(): void {
    if (this.running && !this.restarting && this.stall.isStalled(this.o.now())) {
      void this.restart(`no sign of life for ${this.stall.silentForMs(this.o.now())} ms`);
    }
  }

  private restart(reason: string): Promise<void> {
    if (this.restarting) return this.restarting;
    this.restarting = (async () => {
      this.stats_.restarts += 1;
      this.log.warn({ reason }, 'restarting stalled or crashed consumer');
      const old = this.consumer;
      this.consumer = undefined;
      await old?.disconnect().catch((e) => this.log.warn({ err: e }, 'disconnect during restart failed'));
      let attempt = 0;
      while (this.running) {
        try {
          this.stall.alive(this.o.now());
          await this.launch();
          break;
        } catch (e) {
          attempt += 1;
          this.log.error({ err: e, attempt }, 'consumer restart failed; retrying');
          await new Promise((r) => setTimeout(r, backoffMs(attempt, this.o.retryInitialMs, this.o.retryMaxMs)));
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const live = () => this.running && p.isRunning() && !p.isStale();
    this.lag.batchSeen(batch.topic, batch.partition, Number(batch.highWatermark));
    this.logEnds.set(`${batch.topic}/${batch.partition}`, Number(batch.highWatermark));
    const done = (m: KafkaMessage) =>
      this.lag.applied(batch.topic, batch.partition, Number(m.offset), Number(m.timestamp));
    const shared = this.o.sharedDecodes;
    const skip = this.o.skipTypes;
    const items: Item[] = batch.messages.map((message) => {
      const position = { topic: batch.topic, partition: batch.partition, offset: message.offset };
      const type = skip || shared ? headerText(message.headers?.['event-type']) : undefined;
      if (type !== undefined && skip?.has(type)) return { message, position, skipped: true };
      try {
        const event = shared
          ? shared.decode(this.o.catalogue, position, message.value, type)
          : this.o.catalogue.decode(message.value);
        return { message, position, event };
      } catch (error) {
        return { message, position, error };
      }
    });
    for (let i = 0; i < items.length && live();) {
      const head = items[i];
      if (head.error !== undefined) {
        await this.park(head, head.error, 1);
        p.resolveOffset(head.message.offset);
        done(head.message);
        i += 1;
      } else {
        // a run of valid records (and skipped ones among them), at most chunkSize applied
        let j = i;
        const chunk: Item[] = [];
        while (j < items.length && chunk.length < this.o.chunkSize && items[j].error === undefined) {
          if (items[j].skipped) this.stats_.skipped++;
          else chunk.push(items[j]);
          j++;
        }
        const lastOfRun = items[j - 1].message;
        // (a run of skipped records only needs no transaction: its offset moves on)
        if (chunk.length > 0) {
          const t0 = Date.now();
          try {
            await this.applyChunk(chunk);
            // LOG_LEVEL=debug shows where time goes: how old the chunk's first record was, and how long applying took
            this.log.debug(
              {
                n: chunk.length,
                lagMs: t0 - Number(chunk[0].message.timestamp),
                applyMs: Date.now() - t0,
                partition: batch.partition,
              },
              'chunk applied',
            );
          } catch (e) {
            if (e instanceof Stopped) return;
            // isolate the failing event: apply one by one, each with its own retry/park policy
            for (const it of chunk) {
              if (!live()) return;
              try {
                await this.applyOne(it, p);
              } catch (e2) {
                if (e2 instanceof Stopped) return;
                throw e2;
              }
              p.resolveOffset(it.message.offset);
            }
          }
        }
        p.resolveOffset(lastOfRun.offset);
        done(lastOfRun);
        i = j;
      }
      this.stall.alive(this.o.now());
      await p.commitOffsetsIfNecessary();
      await p.heartbeat();
    }
  }

  /**
   * Applies a run of valid events of one partition in one transaction; throws if any handler fails. The records
   * below the consumer's position on the partition are redeliveries and dropped; one statement records the rest in
   * the inbox, and only the events it newly recorded are handled; the events they emit are appended to the outbox
   * once, at the end, in order; the position moves past the run. A re-drive (`redrive`) is the one record applied
   * behind the position: the inbox alone decides. `last` runs in the same transaction, after the outbox append, with
   * how many events were newly applied.
   */
  private async applyChunk(
    chunk: readonly Decoded[],
    opts: {
      last?: (manager: EntityManager, applied: number) => Promise<void>;
      giveUp?: { handle: GiveUpHandler; error: unknown };
      redrive?: boolean;
    } = {},
  ): Promise<void> {
    const { last, giveUp, redrive } = opts;
    const t0 = performance.now();
    const out: Envelope[] = [];
    let applied = 0;
    let duplicates = 0;
    let written: OutboxWritten[] = [];
    const { topic, partition } = chunk[0].position;
    await this.o.dataSource.transaction(async (manager) => {
      let unseen = chunk;
      if (!redrive) {
        const at = await lockAppliedPosition(manager, this.o.name, topic, partition);
        if (at) {
          this.checkSameLog(at, chunk);
          unseen = chunk.filter((it) => Number(it.position.offset) >= at.nextOffset);
          duplicates += chunk.length - unseen.length;
        }
      }
      const fresh = await recordManyInInbox(
        manager,
        this.o.name,
        unseen.map((it) => ({ eventId: it.event!.id, position: it.position })),
        this.o.inboxRetentionMs?.[topic],
      );
      const scratch = new Map<string, unknown>();
      const emit = (...events: Envelope[]) => out.push(...events);
      const todo = unseen.filter((it) => fresh.has(it.event!.id.toLowerCase()));
      if (todo.length > 0 && !giveUp)
        await this.o.onChunkStart?.({ manager, scratch, events: todo.map((it) => it.event!) });
      for (const it of unseen) {
        const event = it.event!;
        if (!fresh.delete(event.id.toLowerCase())) {
          duplicates++;
          continue;
        }
        const log = this.log;
        let child: Logger | undefined;
        const ctx: HandlerContext = {
          manager,
          position: it.position,
          // made when a handler logs, not for every event (a pino child per event showed in profiles)
          get logger() {
            return (child ??= log.child({ correlationId: event.correlationId ?? event.id, eventId: event.id }));
          },
          emit,
          scratch,
        };
        if (giveUp) await giveUp.handle(event, giveUp.error, ctx);
        else await this.o.handler(event, ctx);
        applied++;
      }
      if (!giveUp) await this.o.onChunkEnd?.({ manager, scratch, emit });
      // an event its topic would refuse fails the chunk here (not retriable: the input is parked), not the relay later
      written = await appendToOutbox(
        manager,
        this.o.catalogue,
        out,
        this.o.relay ? { maxMessageBytes: this.o.relay.maxMessageBytes } : undefined,
      );
      if (!redrive && unseen.length > 0) {
        const end = unseen[unseen.length - 1];
        await advanceAppliedPosition(manager, this.o.name, end.position, end.event!.id);
      }
      await last?.(manager, applied);
    });
    if (giveUp) this.stats_.givenUp += applied;
    else this.stats_.applied += applied;
    this.stats_.duplicates += duplicates;
    if (out.length > 0) {
      // committed: the relay publishes these values from memory
      this.o.relay?.remember(written);
      this.o.relay?.nudge();
    }
    if (this.chunkListeners.length > 0) {
      const info: ChunkApplied = {
        topic,
        partition,
        records: applied,
        duplicates,
        seconds: (performance.now() - t0) / 1000,
        kind: giveUp ? 'giveUp' : last ? 'redrive' : 'apply',
        emitted: out,
      };
      for (const l of this.chunkListeners) {
        try {
          l(info);
        } catch (e) {
          this.log.warn({ err: e }, 'a chunk listener failed');
        }
      }
    }
  }

  /** Refuses a run from a partition that is not the log this consumer applied (LogReplacedError). */
  private checkSameLog(at: AppliedPosition, chunk: readonly Decoded[]): void {
    const { topic, partition } = chunk[0].position;
    const end = this.logEnds.get(`${topic}/${partition}`);
    const rebuild = "the topic was deleted and created again, or truncated: rebuild the service's state from the log";
    if (end !== undefined && at.nextOffset > end)
      throw new LogReplacedError(
        `${topic}/${partition} ends at offset ${end}, below this consumer's position ${at.nextOffset}: ${rebuild}`,
      );
    if (at.lastEventId === null) return;
    const before = chunk.find((it) => Number(it.position.offset) === at.nextOffset - 1);
    if (before && before.event!.id.toLowerCase() !== at.lastEventId)
      throw new LogReplacedError(
        `${topic}/${partition} holds event ${before.event!.id} at offset ${at.nextOffset - 1}, where this consumer applied ${at.lastEventId}: ${rebuild}`,
      );
  }

  private async applyOne(it: Item, p: EachBatchPayload): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.applyChunk([it]);
        return;
      } catch (e) {
        const verdict = classifyFailure(e);
        const code = failureCode(e);
        const k = `${code}\u0000${verdict}`;
        const f = this.failures.get(k);
        if (f) f.count += 1;
        else this.failures.set(k, { code, verdict, count: 1 });
        if (verdict === 'park' || (verdict === 'unknown' && attempt >= this.o.maxAttempts)) {
          if (await this.giveUp(it, e, attempt)) return;
          await this.park(it, e, attempt);
          return;
        }
        this.stats_.retries++;
        const wait = backoffMs(attempt, this.o.retryInitialMs, this.o.retryMaxMs);
        this.log.warn({ err: e, attempt, waitMs: wait, ...it.position }, 'applying event failed; retrying');
        await this.pause(wait, p);
      }
    }
  }

  /** Lets `onGiveUp` record the failure instead of parking the event; false if there is none or it failed too. */
  private async giveUp(it: Item, error: unknown, attempts: number): Promise<boolean> {
    const handle = this.o.onGiveUp;
    if (!handle) return false;
    try {
      await this.applyChunk([it], { giveUp: { handle, error } });
      this.log.warn(
        { err: error, attempts, ...it.position },
        'applying event failed for good; its failure was recorded instead of parking it',
      );
      return true;
    } catch (e) {
      this.log.error({ err: e, ...it.position }, 'recording the failure of an event failed too; parking it');
      return false;
    }
  }

  /** Waits without letting the group think we died; gives up if we are stopping or lost the partition. */
  private async pause(ms: number, p: EachBatchPayload): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!this.running || !p.isRunning() || p.isStale()) throw new Stopped();
      await new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())));
      this.stall.alive(this.o.now());
      await p.heartbeat();
    }
  }

  /**
   * Parks a record on the dead-letter topic verbatim, with the error; once the broker has it, records it in
   * `dead_letters` (counted, listed, re-driven from there). A failure of either throws: the batch is retried.
   */
  private async park(it: Item, error: unknown, attempts: number): Promise<void> {
    const { topic, partition, offset } = it.position;
    const at = await lockAppliedPosition(this.o.dataSource, this.o.name, topic, partition);
    if (at && Number(offset) < at.nextOffset) {
      // a redelivery of a record parked before (or handled otherwise): it is on the dead-letter topic already
      this.stats_.duplicates++;
      return;
    }
    const code = failureCode(error);
    const message = failureMessage(error);
    const key = it.message.key ? it.message.key.toString('utf8') : null;
    this.log.error({ err: error, code, ...it.position, attempts }, 'parking event on the dead-letter topic');
    await this.o.publisher.publish([
      {
        topic: this.deadLetterTopic,
        key,
        value: it.message.value ?? '',
        headers: {
          [DLQ_HEADERS.code]: code,
          [DLQ_HEADERS.message]: message,
          [DLQ_HEADERS.topic]: it.position.topic,
          [DLQ_HEADERS.partition]: String(it.position.partition),
          [DLQ_HEADERS.offset]: it.position.offset,
          [DLQ_HEADERS.group]: this.o.name,
          [DLQ_HEADERS.attempts]: String(attempts),
        },
      },
    ]);
    const hints = it.event ? { eventId: it.event.id, eventType: it.event.type } : envelopeHints(it.message.value);
    await recordDeadLetter(this.o.dataSource, {
      consumer: this.o.name,
      position: it.position,
      ...hints,
      key,
      value: it.message.value ?? Buffer.alloc(0),
      code,
      message,
      attempts,
    });
    // handled: a redelivery of it is dropped by position, and a re-drive finds the consumer past it
    await advanceAppliedPosition(this.o.dataSource, this.o.name, it.position, it.event?.id ?? null);
    this.stats_.parked++;
  }

  /**
   * Re-drives a dead letter of this consumer once its cause is fixed: decodes the parked record with today's
   * catalogue and applies it through the same path as a consumed record (inbox, handler, outbox), in one
   * transaction that also marks the row `redriven`. Exactly once: an event the inbox says was applied
   * changes nothing (`already_applied`), a row already re-driven is left alone (`already_redriven`; two
   * re-drives at once: one applies, the other finds the row closed and rolls back). A failure leaves the row
   * parked with the new error (`failed`). One attempt, no retries: whoever re-drives decides when to try again.
   * Order: the record is applied now, after the records that followed it on its partition.
   * Returns undefined when this consumer has no dead letter with that id.
   */
  async redrive(id: string): Promise<RedriveResult | undefined> {
    const row = await findDeadLetter(this.o.dataSource, id);
    if (!row || row.consumer !== this.o.name) return undefined;
    if (row.status === 'redriven') return { id, outcome: 'already_redriven', status: 'redriven' };
    const position = { topic: row.topic, partition: row.partition, offset: row.offset };
    let outcome: 'applied' | 'already_applied' = 'applied';
    try {
      const event = this.o.catalogue.decode(row.value ?? Buffer.alloc(0));
      await this.applyChunk([{ event, position }], {
        redrive: true,
        last: async (manager, applied) => {
          outcome = applied === 1 ? 'applied' : 'already_applied';
          const [{ n }] = (await manager.query(
            `with closed as (
             update dead_letters set status = 'redriven', redriven_at = now(), last_redrive_at = now(), redrive_attempts = redrive_attempts + 1, redrive_outcome = $2
             where id = $1 and status = 'parked' returning 1)
           select count(*)::int as n from closed`,
            [id, outcome],
          )) as Array<{ n: number }>;
          if (n === 0) throw new AlreadyRedriven();
        },
      });
    } catch (e) {
      if (e instanceof AlreadyRedriven) return { id, outcome: 'already_redriven', status: 'redriven' };
      const error = { code: failureCode(e), message: failureMessage(e) };
      this.log.warn({ err: e, deadLetter: id, ...position }, 're-driving a dead letter failed; it stays parked');
      await this.o.dataSource.query(
        `update dead_letters set error_code = $2, error_message = $3, redrive_attempts = redrive_attempts + 1, last_redrive_at = now() where id = $1 and status = 'parked'`,
        [id, error.code, error.message],
      );
      return { id, outcome: 'failed', status: 'parked', error };
    }
    this.log.info({ deadLetter: id, outcome, ...position }, 'dead letter re-driven');
    return { id, outcome, status: 'redriven' };
  }
}
