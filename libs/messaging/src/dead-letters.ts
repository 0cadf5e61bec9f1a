import { deriveId } from '@csms/contracts';
import { DomainError } from '@csms/kernel';
import type { RecordPosition } from './records';

/**
 * The `dead_letters` table: every record a consumer parked, kept in the service's database next to its
 * copy on `dlq.<group>`, so that the count survives restarts, the API can list them, and a re-drive can
 * apply them once the cause is fixed. A row is written after the broker acknowledged the dead-letter
 * record, keyed by its source position: parking the same record again (a redelivery after a crash) keeps
 * the first row.
 */

/** Anything that runs SQL: a DataSource or an EntityManager. */
export interface Sql {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export type DeadLetterStatus = 'parked' | 'redriven';

export interface DeadLetter {
  consumer: string;
  position: RecordPosition;
  /** the record's event id and type when it could be read that far */
  eventId?: string;
  eventType?: string;
  key: string | null;
  value: Buffer;
  code: string;
  message: string;
  attempts: number;
}

/** The id of a dead letter: UUID v5 of its source position, so parking the same record twice gives one row. */
export function deadLetterId(consumer: string, p: RecordPosition): string {
  return deriveId('dead-letter', consumer, p.topic, p.partition, p.offset);
}

/** The stable code of a failure, as recorded and reported. */
export function failureCode(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return code === undefined || code === null ? 'HANDLER_FAILED' : String(code);
}

export function failureMessage(error: unknown): string {
  const m = (error as { message?: unknown } | null)?.message;
  return String(m ?? error).slice(0, 2000);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Event id and type of a record that did not decode, where its JSON says them (best effort). */
export function envelopeHints(value: Buffer | null): { eventId?: string; eventType?: string } {
  try {
    const v = JSON.parse((value ?? Buffer.alloc(0)).toString('utf8')) as { id?: unknown; type?: unknown };
    return {
      eventId: typeof v?.id === 'string' && UUID.test(v.id) ? v.id : undefined,
      eventType: typeof v?.type === 'string' ? v.type.slice(0, 200) : undefined,
    };
  } catch {
    return {};
  }
}

export async function recordDeadLetter(db: Sql, d: DeadLetter): Promise<string> {
  const id = deadLetterId(d.consumer, d.position);
  await db.query(
    `insert into dead_letters (id, consumer, topic, partition, "offset", event_id, event_type, key, value, error_code, error_message, attempts)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     on conflict (consumer, topic, partition, "offset") do nothing`,
    [
      id,
      d.consumer,
      d.position.topic,
      d.position.partition,
      d.position.offset,
      d.eventId ?? null,
      d.eventType ?? null,
      d.key,
      d.value,
      d.code,
      d.message,
      d.attempts,
    ],
  );
  return id;
}

/** Parked (not yet re-driven) dead letters per consumer; every consumer named is in the result (0 if none). */
export async function openDeadLetterCounts(db: Sql, consumers: readonly string[]): Promise<Record<string, number>> {
  const rows = (await db.query(
    `select consumer, count(*)::int as n from dead_letters where status = 'parked' and consumer = any($1::text[]) group by consumer`,
    [[...consumers]],
  )) as Array<{ consumer: string; n: number }>;
  const out: Record<string, number> = Object.fromEntries(consumers.map((c) => [c, 0]));
  for (const r of rows) out[r.consumer] = r.n;
  return out;
}

/** A row as the API shows it. */
export interface DeadLetterView {
  id: string;
  consumer: string;
  status: DeadLetterStatus;
  eventId: string | null;
  eventType: string | null;
  key: string | null;
  source: { topic: string; partition: number; offset: string };
  error: { code: string; message: string };
  attempts: number;
  parkedAt: string;
  redrive: { attempts: number; lastAt: string | null; redrivenAt: string | null; outcome: string | null };
  /** the record as it was consumed (UTF-8); only in the single-item view */
  value?: string;
}

export interface DeadLetterRow {
  id: string;
  seq: string;
  consumer: string;
  topic: string;
  partition: number;
  offset: string;
  event_id: string | null;
  event_type: string | null;
  key: string | null;
  value?: Buffer;
  error_code: string;
  error_message: string;
  attempts: number;
  parked_at: Date;
  status: DeadLetterStatus;
  redrive_attempts: number;
  last_redrive_at: Date | null;
  redriven_at: Date | null;
  redrive_outcome: string | null;
}

/** Columns of a listing (without the record's value). */
export const DEAD_LETTER_COLUMNS =
  'id, seq::text as seq, consumer, topic, partition, "offset"::text as "offset", event_id, event_type, key, error_code, error_message, attempts, parked_at, status, redrive_attempts, last_redrive_at, redriven_at, redrive_outcome';

export function toDeadLetterView(r: DeadLetterRow): DeadLetterView {
  return {
    id: r.id,
    consumer: r.consumer,
    status: r.status,
    eventId: r.event_id,
    eventType: r.event_type,
    key: r.key,
    source: { topic: r.topic, partition: r.partition, offset: r.offset },
    error: { code: r.error_code, message: r.error_message },
    attempts: r.attempts,
    parkedAt: r.parked_at.toISOString(),
    redrive: {
      attempts: r.redrive_attempts,
      lastAt: r.last_redrive_at?.toISOString() ?? null,
      redrivenAt: r.redriven_at?.toISOString() ?? null,
      outcome: r.redrive_outcome,
    },
    ...(r.value ? { value: r.value.toString('utf8') } : {}),
  };
}

export async function findDeadLetter(db: Sql, id: string): Promise<DeadLetterRow | undefined> {
  if (!UUID.test(id)) return undefined;
  const rows = (await db.query(`select ${DEAD_LETTER_COLUMNS}, value from dead_letters where id = $1`, [
    id,
  ])) as DeadLetterRow[];
  return rows[0];
}

/**
 * What a re-drive did: `applied` (the record's effect happened now), `already_applied` (the inbox says the
 * event had been applied meanwhile, e.g. redelivered: nothing changed), `already_redriven` (an earlier
 * re-drive closed it: nothing changed), `failed` (it failed again and stays parked with the new error).
 */
export type RedriveOutcome = 'applied' | 'already_applied' | 'already_redriven' | 'failed';

export interface RedriveResult {
  id: string;
  outcome: RedriveOutcome;
  status: DeadLetterStatus;
  error?: { code: string; message: string };
}
