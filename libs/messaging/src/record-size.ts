import { CsmsError } from '@csms/contracts';
import type { OutgoingRecord } from './records';

/**
 * The largest record batch the broker accepts on a topic (`max.message.bytes`). The project sets it explicitly on
 * every topic it creates (`KAFKA_MAX_MESSAGE_BYTES`, default 1 MiB, the broker's default rounded down), so the size
 * a record may have is one known number: `appendToOutbox` refuses a bigger event before it is stored, the relay
 * parks one instead of stalling on it, and the HTTP body limit is derived from it (`httpBodyLimit`).
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Worst case of what Kafka's record batch format (v2) adds around one record: the batch header (61 bytes), the
 * record's varints (length, attributes, timestamp and offset deltas, key and value lengths, header count) and two
 * varints per header. The broker compares the whole batch with `max.message.bytes`; a record alone in its batch
 * fits if `recordBatchBytes(record) <= max.message.bytes`.
 */
export const BATCH_OVERHEAD_BYTES = 61;
export const RECORD_OVERHEAD_BYTES = 36;
export const HEADER_OVERHEAD_BYTES = 10;

/**
 * What an API request may add on its way into an event: the envelope (ids, type, times, source, correlation),
 * the event's own fields around the request's body (a tariff's version, hash and times), the record headers and
 * the batch format. The HTTP body limit is the record limit minus this margin.
 */
export const ENVELOPE_MARGIN_BYTES = 16 * 1024;

function bytes(v: string | Buffer | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** An upper bound of the size of a record batch holding only this record, as the broker measures it (uncompressed). */
export function recordBatchBytes(r: Pick<OutgoingRecord, 'key' | 'value' | 'headers'>): number {
  let n = BATCH_OVERHEAD_BYTES + RECORD_OVERHEAD_BYTES + bytes(r.key) + bytes(r.value);
  for (const [k, v] of Object.entries(r.headers ?? {})) n += HEADER_OVERHEAD_BYTES + bytes(k) + bytes(v);
  return n;
}

/** The largest JSON body an API accepts when the records it becomes may have `maxMessageBytes`. */
export function httpBodyLimit(maxMessageBytes: number): number {
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes <= 2 * ENVELOPE_MARGIN_BYTES) {
    throw new Error(
      `max.message.bytes ${maxMessageBytes} leaves no room for a request body (at least ${2 * ENVELOPE_MARGIN_BYTES + 1} bytes)`,
    );
  }
  return maxMessageBytes - ENVELOPE_MARGIN_BYTES;
}

/**
 * An event whose record would be bigger than its topic accepts. Not retriable: the same bytes are refused for
 * ever. `details`: `limit` (bytes), `size` (bytes), `topic`, `eventType`, `eventId`. Refused by `appendToOutbox`
 * before anything is stored (HTTP: 413 `EVENT_TOO_LARGE` with the limit), and by the relay for rows already
 * stored (parked).
 */
export class RecordTooLargeError extends CsmsError {
  static readonly CODE = 'RECORD_TOO_LARGE';

  constructor(
    readonly size: number,
    readonly limit: number,
    readonly topic: string,
    event?: { id: string; type: string },
  ) {
    super(
      RecordTooLargeError.CODE,
      `${event ? `event ${event.type} ${event.id}` : 'a record'} for ${topic} would be ${size} bytes, above the topic's limit of ${limit} bytes (max.message.bytes)`,
      { retriable: false, details: { limit, size, topic, eventType: event?.type, eventId: event?.id } },
    );
  }
}

/** Throws RecordTooLargeError if the record cannot fit in a batch of its own under `limit`. */
export function checkRecordSize(
  r: Pick<OutgoingRecord, 'topic' | 'key' | 'value' | 'headers'>,
  limit: number,
  event?: { id: string; type: string },
): void {
  const size = recordBatchBytes(r);
  if (size > limit) throw new RecordTooLargeError(size, limit, r.topic, event);
}

/**
 * Broker answers that refuse a record itself (its size or content), not the broker's availability: sending the
 * same bytes again can never succeed. kafkajs marks them `retriable: false` (protocol/error.js). Other
 * non-retriable errors (retries exhausted while the broker is away, authorisation, an unknown topic) are not about
 * one record, and parking records for them would empty the outbox into the parking lot: those keep the back-off.
 */
export const REFUSED_RECORD_ERRORS: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_COMPRESSION_TYPE',
]);

/**
 * The refusal in a publish failure, if it is one: `{ code, message }` of our RecordTooLargeError or of a kafkajs
 * protocol error of a REFUSED_RECORD_ERRORS type anywhere in the error's causes (kafkajs wraps it in
 * KafkaJSNonRetriableError / KafkaJSNumberOfRetriesExceeded); undefined for anything else.
 */
export function recordRefusal(err: unknown): { code: string; message: string } | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const x = e as {
      code?: unknown;
      type?: unknown;
      message?: unknown;
      cause?: unknown;
      originalError?: unknown;
      errors?: unknown;
    };
    const message = typeof x.message === 'string' ? x.message : '';
    if (x.code === RecordTooLargeError.CODE) return { code: RecordTooLargeError.CODE, message };
    if (typeof x.type === 'string' && REFUSED_RECORD_ERRORS.has(x.type)) return { code: x.type, message };
    queue.push(x.cause, x.originalError);
    if (Array.isArray(x.errors)) queue.push(...x.errors);
  }
  return undefined;
}
