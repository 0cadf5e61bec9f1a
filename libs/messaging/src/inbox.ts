import type { EntityManager } from 'typeorm';
import type { RecordPosition } from './records';

/**
 * Records, inside the caller's transaction, that `consumer` has applied event `eventId`.
 * Returns false when it had already been applied: the caller must then change nothing.
 * Because the row commits or rolls back with the state change, a redelivered event
 * (a crash after the commit, before the offset commit) changes state exactly once.
 */
export async function recordInInbox(
  manager: EntityManager,
  consumer: string,
  eventId: string,
  pos: RecordPosition,
): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `insert into inbox (consumer, event_id, topic, partition, "offset") values ($1, $2, $3, $4, $5)
     on conflict (consumer, event_id) do nothing returning 1`,
    [consumer, eventId, pos.topic, pos.partition, pos.offset],
  );
  return rows.length === 1;
}

/**
 * Records a run of events in one statement; returns the ids that were newly recorded, in lower case (the others had
 * been applied before, or occur twice in the run: only their first occurrence counts). The statement answers with
 * one row: the newly recorded ids only when some of the run's were not (the usual run, all new, would otherwise
 * send back a row per event: a chunk of 10,000 records parsed 10,000 rows it did not need).
 */
export async function recordManyInInbox(
  manager: EntityManager,
  consumer: string,
  items: ReadonlyArray<{ eventId: string; position: RecordPosition }>,
): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const rows: Array<{ n: number; ids: string[] | null }> = await manager.query(
    `with recorded as (
       insert into inbox (consumer, event_id, topic, partition, "offset")
       select $1, * from unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[])
       on conflict (consumer, event_id) do nothing returning event_id)
     select count(*)::int as n, case when count(*) < $6 then array_agg(event_id::text) end as ids from recorded`,
    [
      consumer,
      items.map((i) => i.eventId),
      items.map((i) => i.position.topic),
      items.map((i) => i.position.partition),
      items.map((i) => i.position.offset),
      items.length,
    ],
  );
  const { n, ids } = rows[0];
  // all recorded: every id of the run was new and occurs once in it
  if (n === items.length) return new Set(items.map((i) => i.eventId.toLowerCase()));
  return new Set(ids ?? []);
}
