import type { DataSource, EntityManager } from 'typeorm';
import type { RecordPosition } from './records';

/**
 * Records a run of events in one statement; returns the ids that were newly recorded, in lower case (the others had
 * been applied before, or occur twice in the run: only their first occurrence counts). The statement answers with
 * one row: the newly recorded ids only when some of the run's were not (the usual run, all new, would otherwise
 * send back a row per event: a chunk of 10,000 records parsed 10,000 rows it did not need).
 * `expiresInMs`: the rows may be pruned that long after this transaction (`pruneInbox`); undefined = kept.
 */
export async function recordManyInInbox(
  manager: EntityManager,
  consumer: string,
  items: ReadonlyArray<{ eventId: string; position: RecordPosition }>,
  expiresInMs?: number,
): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const rows: Array<{ n: number; ids: string[] | null }> = await manager.query(
    `with recorded as (
       insert into inbox (consumer, event_id, topic, partition, "offset", expires_at)
       select $1, e.*, now() + $7::bigint * interval '1 millisecond'
       from unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[]) as e
       on conflict (consumer, event_id) do nothing returning event_id)
     select count(*)::int as n, case when count(*) < $6 then array_agg(event_id::text) end as ids from recorded`,
    [
      consumer,
      items.map((i) => i.eventId),
      items.map((i) => i.position.topic),
      items.map((i) => i.position.partition),
      items.map((i) => i.position.offset),
      items.length,
      expiresInMs ?? null,
    ],
  );
  const { n, ids } = rows[0];
  // all recorded: every id of the run was new and occurs once in it
  if (n === items.length) return new Set(items.map((i) => i.eventId.toLowerCase()));
  return new Set(ids ?? []);
}

/** Where a consumer stands on one partition: every record below `nextOffset` has been handled. */
export interface AppliedPosition {
  nextOffset: number;
  /** the event id of the record at `nextOffset - 1`, when it had one that could be read */
  lastEventId: string | null;
}

/**
 * The consumer's position on a partition, locked for the caller's transaction (a second instance that holds the
 * partition for a moment during a rebalance waits, then reads what the first committed); undefined before the
 * consumer's first record of it. On a `DataSource` (no transaction): read as committed.
 */
export async function lockAppliedPosition(
  manager: EntityManager | DataSource,
  consumer: string,
  topic: string,
  partition: number,
): Promise<AppliedPosition | undefined> {
  const rows: Array<{ next: string; last: string | null }> = await manager.query(
    `select next_offset as next, last_event_id::text as last from consumer_positions
     where consumer = $1 and topic = $2 and partition = $3 for update`,
    [consumer, topic, partition],
  );
  return rows.length === 0 ? undefined : { nextOffset: Number(rows[0].next), lastEventId: rows[0].last };
}

/**
 * Moves the consumer's position on the record's partition past it (never back), naming its event id. In the
 * transaction that handled it (`manager`), or on its own (`DataSource`: a record parked on the dead-letter topic).
 */
export async function advanceAppliedPosition(
  db: EntityManager | DataSource,
  consumer: string,
  position: RecordPosition,
  eventId: string | null,
): Promise<void> {
  await db.query(
    `insert into consumer_positions as p (consumer, topic, partition, next_offset, last_event_id)
     values ($1, $2, $3, $4::bigint + 1, $5)
     on conflict (consumer, topic, partition) do update
       set next_offset = excluded.next_offset, last_event_id = excluded.last_event_id, updated_at = now()
       where p.next_offset < excluded.next_offset`,
    [consumer, position.topic, position.partition, position.offset, eventId],
  );
}

/**
 * Deletes up to `limit` of the consumer's expired inbox rows, oldest first (rows another transaction is deleting are
 * passed over); returns how many. Their records lie below the consumer's positions, where a redelivery is dropped
 * without the inbox.
 */
export async function pruneInbox(db: DataSource, consumer: string, limit: number): Promise<number> {
  const rows: Array<{ n: number }> = await db.query(
    `with doomed as (
       delete from inbox where ctid = any(array(
         select ctid from inbox where consumer = $1 and expires_at < now()
         order by expires_at limit $2 for update skip locked))
       returning 1)
     select count(*)::int as n from doomed`,
    [consumer, limit],
  );
  return rows[0].n;
}
