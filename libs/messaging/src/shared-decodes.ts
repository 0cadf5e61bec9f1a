import type { Envelope, EventCatalogue } from '@csms/contracts';
import type { RecordPosition } from './records';

/**
 * Records decoded once for several consumers of one process that read the same topics with the same catalogue (a
 * service with two consumer groups on one topic: each record would be parsed, validated and upcast twice). Keyed by
 * the record's position (topic, partition, offset) and checked against its bytes (a copy is kept: a topic deleted and
 * made again gives the same positions to other records), with the catalogue that decoded it. An entry is dropped once
 * `readers` consumers took it, or when `max` newer records came (the consumers far apart: each decodes itself).
 * A record that fails to decode is not kept (each consumer parks it itself).
 *
 * The consumers get the same envelope object: their handlers must not change it (envelopes are immutable once made).
 */
export class SharedDecodes {
  private readonly memo = new Map<
    string,
    { catalogue: EventCatalogue; value: Buffer; event: Envelope; taken: number }
  >();
  /** decodes done here, and decodes saved (a consumer took a record another had decoded) */
  readonly counts = { decoded: 0, shared: 0 };

  private readonly topics: ReadonlySet<string>;
  private readonly readers: number | ((eventType: string | undefined) => number);
  private readonly max: number;

  /**
   * @param opts.topics the topics the consumers share (records of others are decoded as usual, not kept)
   * @param opts.readers how many consumers read each of them (2), or how many read a record of that `event-type` header
   *   (consumers that skip some types unread: `skipTypes`); a record read by one only is decoded without being kept
   * @param opts.max records kept at most (2,048)
   */
  constructor(opts: {
    topics: Iterable<string>;
    readers?: number | ((eventType: string | undefined) => number);
    max?: number;
  }) {
    this.topics = new Set(opts.topics);
    this.readers = opts.readers ?? 2;
    this.max = opts.max ?? 2048;
  }

  /** `eventType`: the record's `event-type` header, if read (to count its readers). */
  decode(catalogue: EventCatalogue, position: RecordPosition, value: Buffer | null, eventType?: string): Envelope {
    if (value === null || !this.topics.has(position.topic)) return catalogue.decode(value);
    const readers = typeof this.readers === 'number' ? this.readers : this.readers(eventType);
    if (readers < 2) return catalogue.decode(value);
    const k = `${position.topic}\u0000${position.partition}\u0000${position.offset}`;
    const hit = this.memo.get(k);
    if (hit && hit.catalogue === catalogue && hit.value.equals(value)) {
      this.counts.shared++;
      if (++hit.taken >= readers) this.memo.delete(k);
      return hit.event;
    }
    const event = catalogue.decode(value);
    this.counts.decoded++;
    this.memo.delete(k);
    this.memo.set(k, { catalogue, value: Buffer.from(value), event, taken: 1 });
    if (this.memo.size > this.max) this.memo.delete(this.memo.keys().next().value!);
    return event;
  }

  /** records held now */
  get size(): number {
    return this.memo.size;
  }
}
