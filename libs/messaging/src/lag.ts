/**
 * Consumer lag per partition, kept by the consumer as it applies chunks (no broker round trip on the hot path) and
 * refreshed now and then from the broker's high watermarks (`EventConsumer.refreshLag`): what a scrape reads.
 */

/** What a consumer knows of one partition it is assigned. */
export interface PartitionProgress {
  topic: string;
  partition: number;
  /** offset of the next record to apply (last applied + 1, or the committed offset before anything was applied here) */
  nextOffset: number;
  /** the partition's end (offset of the next record to be written), as last seen in a batch or from the broker */
  highWatermark: number;
  /** broker timestamp (ms) of the last record applied here, if any */
  lastAppliedTimestampMs?: number;
  /** when (ms, this process's clock) the consumer was last seen caught up (nextOffset ≥ highWatermark) */
  caughtUpAtMs?: number;
}

export interface PartitionLag {
  /** records written and not applied yet */
  records: number;
  /**
   * how long the oldest record not applied yet has waited, at most: 0 when caught up; otherwise now minus the later
   * of the last applied record's timestamp and the moment the consumer was last caught up (every record older than
   * that moment was applied), or since the progress was first seen when neither is known
   */
  seconds: number;
}

/** Pure: the lag of a partition at `nowMs`. */
export function partitionLag(p: PartitionProgress, nowMs: number, firstSeenMs = nowMs): PartitionLag {
  const records = Math.max(0, p.highWatermark - p.nextOffset);
  if (records === 0) return { records: 0, seconds: 0 };
  const since = Math.max(p.lastAppliedTimestampMs ?? -Infinity, p.caughtUpAtMs ?? -Infinity);
  const from = Number.isFinite(since) ? since : firstSeenMs;
  return { records, seconds: Math.max(0, (nowMs - from) / 1000) };
}

/**
 * The progress of the partitions assigned to one consumer instance. Updated once per chunk (`applied`), per batch
 * (`batchSeen`: its high watermark) and by a periodic broker read (`highWatermarks`, `committed`); partitions the
 * group moved to another instance are dropped (`assigned`), so each partition's lag is reported by one instance.
 */
export class LagTracker {
  private readonly parts = new Map<string, PartitionProgress & { firstSeenMs: number }>();
  private assignment?: Set<string>;

  constructor(private readonly now: () => number) {}

  private entry(topic: string, partition: number): PartitionProgress & { firstSeenMs: number } {
    const k = `${topic}\u0000${partition}`;
    let p = this.parts.get(k);
    if (!p) this.parts.set(k, (p = { topic, partition, nextOffset: 0, highWatermark: 0, firstSeenMs: this.now() }));
    return p;
  }

  private settle(p: PartitionProgress): void {
    if (p.nextOffset >= p.highWatermark) p.caughtUpAtMs = this.now();
  }

  /** The group gave this instance these partitions (topic → partitions); the others' progress is dropped. */
  assigned(assignment: Record<string, readonly number[]>): void {
    this.assignment = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => `${t}\u0000${p}`)));
    for (const k of [...this.parts.keys()]) if (!this.assignment.has(k)) this.parts.delete(k);
    for (const [t, ps] of Object.entries(assignment)) for (const p of ps) this.entry(t, p);
  }

  /** A batch was fetched: its partition's high watermark. */
  batchSeen(topic: string, partition: number, highWatermark: number): void {
    const p = this.entry(topic, partition);
    p.highWatermark = Math.max(p.highWatermark, highWatermark);
  }

  /** Records up to `offset` (inclusive) were applied (or parked): the last one's broker timestamp. */
  applied(topic: string, partition: number, offset: number, timestampMs: number): void {
    const p = this.entry(topic, partition);
    if (offset + 1 > p.nextOffset) p.nextOffset = offset + 1;
    if (Number.isFinite(timestampMs)) p.lastAppliedTimestampMs = timestampMs;
    this.settle(p);
  }

  /** The broker's ends of partitions (a periodic read): only those assigned here are kept. */
  highWatermarks(topic: string, ends: ReadonlyArray<{ partition: number; high: number }>): void {
    for (const e of ends) {
      const k = `${topic}\u0000${e.partition}`;
      if (this.assignment && !this.assignment.has(k)) continue;
      if (!this.assignment && !this.parts.has(k)) continue;
      const p = this.entry(topic, e.partition);
      p.highWatermark = Math.max(p.highWatermark, e.high);
      this.settle(p);
    }
  }

  /** The group's committed offsets (a periodic read): a partition not applied here yet starts from its commit. */
  committed(topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): void {
    for (const o of offsets) {
      const p = this.parts.get(`${topic}\u0000${o.partition}`);
      if (p && o.offset > p.nextOffset) {
        p.nextOffset = o.offset;
        this.settle(p);
      }
    }
  }

  /** The partitions assigned here, each with its lag now. */
  snapshot(): Array<PartitionProgress & PartitionLag> {
    const now = this.now();
    return [...this.parts.values()].map(({ firstSeenMs, ...p }) => ({ ...p, ...partitionLag(p, now, firstSeenMs) }));
  }

  /** Topics with a partition assigned here (the periodic read asks only for them). */
  topics(): string[] {
    return [...new Set([...this.parts.values()].map((p) => p.topic))];
  }

  clear(): void {
    this.parts.clear();
    this.assignment = undefined;
  }
}
