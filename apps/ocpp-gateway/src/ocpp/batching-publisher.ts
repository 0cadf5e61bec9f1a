import type { OutgoingRecord, RecordPublisher } from '@csms/messaging';

export class PublishTimeoutError extends Error {
  readonly retriable = true;
  constructor(ms: number) {
    super(`no broker acknowledgement within ${ms} ms`);
  }
}

interface Waiter {
  record: OutgoingRecord;
  /** the caller has its answer (ack, failure or timeout) */
  settled: boolean;
  timer?: NodeJS.Timeout;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Collects records for `lingerMs` or up to `maxBatch` and sends them as one batch through the shared
 * idempotent producer (acks=all); each caller's promise resolves when the broker acknowledged its batch.
 * One batch is in flight at a time, so records keep their enqueue order (per key and overall), and under
 * load the next batch fills while the current one is being acknowledged. A caller whose record is not
 * acknowledged within `timeoutMs` gets a PublishTimeoutError (the charger then gets CALLERROR InternalError).
 *
 * While the broker is away the batch in flight waits (the idempotent producer retries it until the broker
 * is back; it may land after its callers timed out: the charger was told InternalError and retries, which
 * consumers must tolerate). Records that timed out while still queued are dropped, never sent late: a
 * charger told InternalError gets no record of that attempt unless it was already on its way.
 */
export class BatchingPublisher {
  private queue: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private inFlightSince: number | null = null;
  private unsettled = 0;
  private consecutiveFailures = 0;
  private lastError: string | undefined;
  published = 0;
  /** records dropped from the queue because their caller had already timed out */
  droppedAfterTimeout = 0;
  /** records of a batch in flight acknowledged after their caller had timed out (the charger retries them) */
  acknowledgedAfterTimeout = 0;

  constructor(
    private readonly publisher: RecordPublisher,
    private readonly opts: { lingerMs: number; maxBatch: number; timeoutMs: number },
  ) {}

  publish(record: OutgoingRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        record,
        settled: false,
        resolve: () => {
          if (w.settled) return;
          clearTimeout(w.timer);
          w.settled = true;
          this.unsettled -= 1;
          resolve();
        },
        reject: (e) => {
          if (w.settled) return;
          clearTimeout(w.timer);
          w.settled = true;
          this.unsettled -= 1;
          reject(e);
        },
      };
      w.timer = setTimeout(() => {
        // a timed-out record still queued is dropped at the next flush
        w.reject(new PublishTimeoutError(this.opts.timeoutMs));
      }, this.opts.timeoutMs);
      this.unsettled += 1;
      this.queue.push(w);
      this.schedule();
    });
  }

  /** not ok after a refused batch (until the next ack) or while a batch waits longer than `timeoutMs` */
  health(): { ok: boolean; consecutiveFailures: number; lastError?: string } {
    const stuck = this.inFlightSince !== null && performance.now() - this.inFlightSince >= this.opts.timeoutMs;
    const lastError = stuck
      ? `no broker acknowledgement for ${Math.round(performance.now() - this.inFlightSince!)} ms`
      : this.lastError;
    return { ok: this.consecutiveFailures === 0 && !stuck, consecutiveFailures: this.consecutiveFailures, lastError };
  }

  /**
   * Sends what is queued and waits until every caller has its answer (graceful shutdown). Bounded by
   * `timeoutMs`: a batch the broker does not acknowledge (broker away) is not waited for beyond that.
   */
  async drain(): Promise<void> {
    this.flush();
    while (this.unsettled > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(): void {
    if (this.inFlight) return; // the batch in flight flushes the queue when it is acknowledged
    if (this.queue.length >= this.opts.maxBatch || this.opts.lingerMs === 0) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.lingerMs);
    }
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight) return;
    let batch: Waiter[] = [];
    while (batch.length === 0 && this.queue.length > 0) {
      batch = this.queue.splice(0, this.opts.maxBatch);
      const before = batch.length;
      batch = batch.filter((w) => !w.settled);
      this.droppedAfterTimeout += before - batch.length;
    }
    if (batch.length === 0) return;
    this.inFlight = true;
    this.inFlightSince = performance.now();
    this.publisher
      .publish(batch.map((w) => w.record))
      .then(
        () => {
          this.consecutiveFailures = 0;
          this.published += batch.length;
          for (const w of batch) {
            if (w.settled) this.acknowledgedAfterTimeout += 1;
            else w.resolve();
          }
        },
        (e: Error) => {
          this.consecutiveFailures += 1;
          this.lastError = e.message;
          for (const w of batch) w.reject(e);
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.inFlightSince = null;
        // what queued up meanwhile has already waited for a whole round trip: send it at once
        if (this.queue.length > 0) this.flush();
      });
  }
}

/**
 * Several batching publishers side by side (each its own idempotent producer and connection, one batch in
 * flight each), a record's key choosing one: the batches of different keys travel in parallel while every
 * key keeps its order (a key always goes through the same producer).
 */
export class ShardedPublisher {
  constructor(readonly shards: readonly BatchingPublisher[]) {
    if (shards.length === 0) throw new Error('ShardedPublisher needs at least one shard');
  }

  publish(record: OutgoingRecord): Promise<void> {
    return this.shards[this.shardOf(record.key ?? '')].publish(record);
  }

  shardOf(key: string): number {
    let h = 2166136261; // FNV-1a
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
    return (h >>> 0) % this.shards.length;
  }

  health(): { ok: boolean; consecutiveFailures: number; lastError?: string } {
    const hs = this.shards.map((s) => s.health());
    const worst = hs.reduce((a, b) => (b.consecutiveFailures > a.consecutiveFailures ? b : a));
    return { ok: hs.every((h) => h.ok), consecutiveFailures: worst.consecutiveFailures, lastError: worst.lastError };
  }

  async drain(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.drain()));
  }
}
