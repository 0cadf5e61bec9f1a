import type { DataSource, EntityManager } from 'typeorm';
import type { Envelope, EventCatalogue } from '@csms/contracts';
import type { Logger } from '@csms/platform';
import type { OutgoingRecord, RecordPublisher } from './records';

/** Headers every published event carries, so consumers and tools can route without parsing. */
export function eventHeaders(env: Envelope): Record<string, string> {
  const h: Record<string, string> = { 'event-id': env.id, 'event-type': env.type, 'event-version': String(env.version) };
  if (env.correlationId) h['correlation-id'] = env.correlationId;
  return h;
}

/**
 * Appends events to the outbox inside the caller's transaction: they are published if and only if
 * that transaction commits. Each event is validated against its contract first (validate on produce).
 *
 * Commit order per key: a transaction-scoped advisory lock on each key serialises the transactions
 * that write the same key, so their outbox positions are in their commit order, and the relay, which
 * publishes in position order, publishes each key's events in commit order.
 */
export async function appendToOutbox(manager: EntityManager, catalogue: EventCatalogue, events: readonly Envelope[]): Promise<void> {
  if (events.length === 0) return;
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('appendToOutbox must run inside a transaction (the outbox commits with the state change)');
  }
  const rows = events.map((e) => ({ id: e.id, topic: catalogue.topicOf(e), key: e.key, value: catalogue.encode(e), headers: JSON.stringify(eventHeaders(e)) }));
  const keys = [...new Set(rows.map((r) => `${r.topic}/${r.key}`))].sort();
  await manager.query('select pg_advisory_xact_lock(hashtextextended(k, 7001)) from unnest($1::text[]) as k order by k', [keys]);
  await manager.query(
    `insert into outbox (event_id, topic, key, value, headers)
     select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
     on conflict (event_id) do nothing`,
    [rows.map((r) => r.id), rows.map((r) => r.topic), rows.map((r) => r.key), rows.map((r) => r.value), rows.map((r) => r.headers)],
  );
}

export interface OutboxRelayOptions {
  /** rows published per round */
  batchSize?: number;
  /** how often to look for rows committed by other processes */
  pollIntervalMs?: number;
  /** test hook: runs after the broker acknowledged a batch and before the rows are deleted */
  afterPublish?: (eventIds: string[]) => Promise<void> | void;
}

/** Lock id shared by every relay of one database: only one relay publishes at a time. */
const RELAY_LOCK = 7002;

/**
 * Publishes committed outbox rows, in position order, with the idempotent producer, then deletes
 * them. If the process dies between the broker's acknowledgement and the delete, the rows are
 * published again on restart: consumers drop the duplicates by event id (the inbox). Several
 * instances may run; a transaction-scoped advisory lock lets one publish at a time.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private pending = false;
  private consecutiveFailures = 0;
  private lastError?: Error;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: RecordPublisher,
    private readonly logger: Logger,
    private readonly opts: OutboxRelayOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 100;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Asks for a round now (after a local commit), instead of waiting for the next poll. */
  nudge(): void {
    this.pending = true;
    this.wake?.();
  }

  /**
   * Finishes the round in hand, then publishes what is still committed in the outbox (what the consumers,
   * stopped before the relay, committed after its last round), then stops. Without this last drain a graceful
   * stop left those events in the outbox until the next start. Bounded: it gives up after `drainTimeoutMs` or
   * on a failure (the rows stay and go with the next start).
   */
  async stop(drainTimeoutMs = 10_000): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    const until = Date.now() + drainTimeoutMs;
    try {
      while (Date.now() < until && (await this.relayOnce()) === this.batchSize);
    } catch (e) {
      this.logger.warn({ err: e }, 'outbox not drained at stop; the rows are published at the next start');
    }
  }

  /** Healthy unless publishing has failed several times in a row. */
  health(): { ok: boolean; consecutiveFailures: number; lastError?: string } {
    return { ok: this.consecutiveFailures < 3, consecutiveFailures: this.consecutiveFailures, lastError: this.lastError?.message };
  }

  /** One round: publishes up to batchSize rows. Returns how many it published (0 if another relay holds the lock). */
  async relayOnce(): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const [{ locked }] = await m.query('select pg_try_advisory_xact_lock($1) as locked', [RELAY_LOCK]);
      if (!locked) return 0;
      const rows: Array<{ position: string; event_id: string; topic: string; key: string; value: string; headers: Record<string, string> }> = await m.query(
        'select position, event_id, topic, key, value, headers from outbox order by position limit $1',
        [this.batchSize],
      );
      if (rows.length === 0) return 0;
      const records: OutgoingRecord[] = rows.map((r) => ({ topic: r.topic, key: r.key, value: r.value, headers: r.headers }));
      await this.publisher.publish(records);
      await this.opts.afterPublish?.(rows.map((r) => r.event_id));
      await m.query('delete from outbox where position = any($1::bigint[])', [rows.map((r) => r.position)]);
      return rows.length;
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.pending = false;
      let published = 0;
      try {
        published = await this.relayOnce();
        this.consecutiveFailures = 0;
      } catch (e) {
        this.consecutiveFailures += 1;
        this.lastError = e as Error;
        this.logger.error({ err: e, consecutiveFailures: this.consecutiveFailures }, 'outbox relay round failed; retrying');
      }
      if (!this.running) break;
      if (published === this.batchSize && this.consecutiveFailures === 0) continue;
      if (this.pending && this.consecutiveFailures === 0) continue;
      const delay = this.consecutiveFailures === 0 ? this.pollIntervalMs : Math.min(5000, this.pollIntervalMs * 2 ** this.consecutiveFailures);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
