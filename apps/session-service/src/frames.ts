/**
 * The raw OCPP frames of a session, read back from the log they were folded from (`ocpp.inbound`), by the
 * topic, partition and offset the session service recorded for each (`session_sources` and the readings' rows).
 * The log is the source of truth and is kept forever, so nothing is copied: a short-lived kafkajs consumer (a group
 * of its own, no offsets committed, deleted afterwards) seeks to each wanted offset, takes the records and leaves. Each record's
 * envelope id is compared with the event id recorded for it, so what is shown is provably the record the session
 * used (`status: 'mismatch'` otherwise).
 *
 * Bounded: at most `maxConcurrent` reads at once (more wait, up to `maxWaiting`, then 429), each read gives up
 * after `timeoutMs` (the frames not read by then are answered `unread`, never a 5xx), and the records read are
 * kept in a small cache (a log record never changes).
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ApiProblem } from '@csms/service-kit';

export interface FrameRef {
  eventId: string;
  topic: string;
  partition: number;
  offset: string;
}

export type FrameStatus = 'found' | 'mismatch' | 'unavailable' | 'unread';

export interface FrameRecord {
  /** the record's envelope id (its `event-id` header) */
  recordId: string | null;
  /** the record's timestamp (broker or producer time) */
  timestamp: string | null;
  /** the envelope's payload as it is in the log: the OCPP message, verbatim, with the gateway's metadata */
  message: Record<string, unknown> | null;
  /** the size of the record's value in bytes */
  bytes: number;
}

export interface FrameReaderOptions {
  /** the only topic frames are read from (the service's OCPP_INBOUND_TOPIC) */
  topic: string;
  groupPrefix: string;
  timeoutMs: number;
  maxConcurrent: number;
  maxWaiting: number;
  cacheRecords: number;
}

const key = (r: { topic: string; partition: number; offset: string }) => `${r.topic}/${r.partition}/${r.offset}`;

function parseRecord(value: Buffer | null, timestamp: string | undefined): FrameRecord {
  const bytes = value?.length ?? 0;
  let env: { id?: unknown; payload?: unknown } | null = null;
  try {
    env = value ? (JSON.parse(value.toString('utf8')) as { id?: unknown; payload?: unknown }) : null;
  } catch {
    env = null;
  }
  return {
    recordId: typeof env?.id === 'string' ? env.id : null,
    timestamp: timestamp && /^[0-9]+$/.test(timestamp) ? new Date(Number(timestamp)).toISOString() : null,
    message: env?.payload && typeof env.payload === 'object' ? (env.payload as Record<string, unknown>) : null,
    bytes,
  };
}

/**
 * The message as an OCPP-J array, rebuilt from the recorded fields: `[2, messageId, action, payload]` for a call
 * (and `[3, messageId, response]` for the answer the gateway gave), the text received for a rejected frame.
 */
export function ocppJ(message: Record<string, unknown> | null): { frame: unknown; answer: unknown } {
  if (!message) return { frame: null, answer: null };
  const { kind, messageId, action, payload, response, frame } = message;
  if (kind === 'call')
    return {
      frame: [2, messageId, action, payload ?? {}],
      answer: response === undefined ? null : [3, messageId, response],
    };
  if (kind === 'callresult') return { frame: [3, messageId, payload ?? {}], answer: null };
  if (kind === 'callerror') return { frame: [4, messageId, payload ?? null], answer: null };
  if (kind === 'rejected') return { frame: typeof frame === 'string' ? frame : null, answer: null };
  return { frame: null, answer: null };
}

export class InboundFrameReader {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly cache = new Map<string, FrameRecord>();

  constructor(
    private readonly kafka: Kafka,
    readonly opts: FrameReaderOptions,
  ) {}

  /** The records at these positions; positions outside the topic's retained range or on another topic are `unavailable`. */
  async read(refs: readonly FrameRef[]): Promise<Map<string, { status: FrameStatus; record?: FrameRecord }>> {
    const out = new Map<string, { status: FrameStatus; record?: FrameRecord }>();
    const todo: FrameRef[] = [];
    for (const r of refs) {
      if (r.topic !== this.opts.topic) out.set(key(r), { status: 'unavailable' });
      else {
        const cached = this.cache.get(key(r));
        if (cached) out.set(key(r), { status: cached.recordId === r.eventId ? 'found' : 'mismatch', record: cached });
        else todo.push(r);
      }
    }
    if (todo.length === 0) return out;
    await this.acquire();
    try {
      const got = await this.fetch(todo);
      for (const r of todo) {
        const rec = got.records.get(key(r));
        if (rec) {
          this.remember(key(r), rec);
          out.set(key(r), { status: rec.recordId === r.eventId ? 'found' : 'mismatch', record: rec });
        } else out.set(key(r), { status: got.unavailable.has(key(r)) ? 'unavailable' : 'unread' });
      }
    } finally {
      this.release();
    }
    return out;
  }

  private remember(k: string, rec: FrameRecord): void {
    this.cache.delete(k);
    this.cache.set(k, rec);
    while (this.cache.size > this.opts.cacheRecords) this.cache.delete(this.cache.keys().next().value as string);
  }

  private async acquire(): Promise<void> {
    if (this.running < this.opts.maxConcurrent) {
      this.running++;
      return;
    }
    if (this.waiting.length >= this.opts.maxWaiting)
      throw new ApiProblem(429, 'FRAMES_BUSY', 'too many frame reads at once: try again in a moment');
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  private async fetch(
    refs: readonly FrameRef[],
  ): Promise<{ records: Map<string, FrameRecord>; unavailable: Set<string> }> {
    const topic = this.opts.topic;
    const records = new Map<string, FrameRecord>();
    const unavailable = new Set<string>();
    const admin = this.kafka.admin();
    await admin.connect();
    const groupId = `${this.opts.groupPrefix}.frames.${randomUUID()}`;
    let joined = false;
    try {
      // what the log still holds, per partition: [low, high)
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p]));
      const wanted = new Map<number, bigint[]>();
      for (const r of refs) {
        const end = ends.get(r.partition);
        const o = BigInt(r.offset);
        if (!end || o < BigInt(end.low) || o >= BigInt(end.high)) unavailable.add(key(r));
        else wanted.set(r.partition, [...(wanted.get(r.partition) ?? []), o]);
      }
      if (wanted.size === 0) return { records, unavailable };
      for (const list of wanted.values()) list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const remaining = new Map([...wanted].map(([p, list]) => [p, new Set(list.map(String))]));
      const consumer = this.kafka.consumer({
        groupId,
        maxWaitTimeInMs: 100,
        maxBytesPerPartition: 1024 * 1024,
        retry: { retries: 2 },
      });
      await consumer.connect();
      joined = true;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const checkDone = () => {
        if ([...remaining.values()].every((s) => s.size === 0)) done();
      };
      try {
        await consumer.subscribe({ topics: [topic] });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch }) => {
            const left = remaining.get(batch.partition);
            if (!left || left.size === 0) return;
            let last = -1n;
            for (const m of batch.messages) {
              last = BigInt(m.offset);
              if (left.has(m.offset)) {
                records.set(
                  key({ topic, partition: batch.partition, offset: m.offset }),
                  parseRecord(m.value, m.timestamp),
                );
                left.delete(m.offset);
              }
            }
            // offsets passed without a record (not expected: the session recorded them) are not there
            for (const o of [...left]) if (BigInt(o) <= last) left.delete(o);
            const next = wanted.get(batch.partition)?.find((o) => left.has(String(o)));
            if (next === undefined) consumer.pause([{ topic, partitions: [batch.partition] }]);
            else if (next > last + 1n) consumer.seek({ topic, partition: batch.partition, offset: String(next) });
            checkDone();
          },
        });
        const idle = [...ends.keys()].filter((p) => !wanted.has(p));
        if (idle.length) consumer.pause([{ topic, partitions: idle }]);
        for (const [partition, list] of wanted) consumer.seek({ topic, partition, offset: String(list[0]) });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          finished,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.timeoutMs))),
        ]);
        clearTimeout(timer);
      } finally {
        await consumer.disconnect().catch(() => undefined);
      }
      return { records, unavailable };
    } finally {
      // the group held no offsets; leave nothing behind
      if (joined) await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  }
}
