import type { OutgoingRecord, RecordPublisher } from '@csms/messaging';

export class PublishTimeoutError extends Error {
  readonly retriable = true;
  constructor(ms: number) {
    super(`no broker acknowledgement within ${ms} ms`);
  }
}

interface Waiter {
  record: OutgoingRecord;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Collects records for `lingerMs` or up to `maxBatch` and sends them as one batch through the shared
 * idempotent producer (acks=all); each caller's promise resolves when the broker acknowledged its batch.
 * One batch is in flight at a time, so records keep their enqueue order (per key and overall), and under
 * load the next batch fills while the current one is being acknowledged. A caller whose record is not
 * acknowledged within `timeoutMs` gets a PublishTimeoutError (the charger then gets CALLERROR InternalError).
 */
export class BatchingPublisher {
  private queue: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private consecutiveFailures = 0;
  private lastError: string | undefined;
  published = 0;

  constructor(
    private readonly publisher: RecordPublisher,
    private readonly opts: { lingerMs: number; maxBatch: number; timeoutMs: number },
  ) {}

  publish(record: OutgoingRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timeout = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new PublishTimeoutError(this.opts.timeoutMs));
      }, this.opts.timeoutMs);
      this.queue.push({
        record,
        resolve: () => {
          clearTimeout(timeout);
          if (!settled) {
            settled = true;
            resolve();
          }
        },
        reject: (e) => {
          clearTimeout(timeout);
          if (!settled) {
            settled = true;
            reject(e);
          }
        },
      });
      this.schedule();
    });
  }

  health(): { ok: boolean; consecutiveFailures: number; lastError?: string } {
    return { ok: this.consecutiveFailures === 0, consecutiveFailures: this.consecutiveFailures, lastError: this.lastError };
  }

  /** Sends what is queued and waits for it (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight) {
      if (!this.inFlight) this.flush();
      await new Promise((r) => setImmediate(r));
    }
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
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.inFlight = true;
    this.publisher.publish(batch.map((w) => w.record)).then(
      () => {
        this.consecutiveFailures = 0;
        this.published += batch.length;
        for (const w of batch) w.resolve();
      },
      (e: Error) => {
        this.consecutiveFailures += 1;
        this.lastError = e.message;
        for (const w of batch) w.reject(e);
      },
    ).finally(() => {
      this.inFlight = false;
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
