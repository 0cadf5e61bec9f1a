import type { EntityManager } from 'typeorm';
import type { RecordPosition } from './records';

/**
 * Records, inside the caller's transaction, that `consumer` has applied event `eventId`.
 * Returns false when it had already been applied: the caller must then change nothing.
 * Because the row commits or rolls back with the state change, a redelivered event
 * (a crash after the commit, before the offset commit) changes state exactly once.
 */
export async function recordInInbox(manager: EntityManager, consumer: string, eventId: string, pos: RecordPosition): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `insert into inbox (consumer, event_id, topic, partition, "offset") values ($1, $2, $3, $4, $5)
     on conflict (consumer, event_id) do nothing returning 1`,
    [consumer, eventId, pos.topic, pos.partition, pos.offset],
  );
  return rows.length === 1;
}
