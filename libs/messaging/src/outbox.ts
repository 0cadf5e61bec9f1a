import type { DataSource, EntityManager } from 'typeorm';
import type { Envelope, EventCatalogue } from '@csms/contracts';
import { WakeableSleep, insertRows, type Logger, type RowColumn } from '@csms/platform';
import { DEFAULT_MAX_MESSAGE_BYTES, checkRecordSize, recordBatchBytes, recordRefusal } from './record-size';
import type { OutgoingRecord, RecordPublisher } from './records';

/** Headers every published event carries, so consumers and tools can route without parsing. */
export function eventHeaders(env: Envelope): Record<string, string> {
  const h: Record<string, string> = {
    'event-id': env.id,
    'event-type': env.type,
    'event-version': String(env.version),
  };
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
 *
 * Size: an event whose record would not fit under its topic's `max.message.bytes` (`limits.maxMessageBytes`, the
 * relay's: `relay.maxMessageBytes`) is refused with RecordTooLargeError (not retriable) before anything is
 * written, so the caller's transaction rolls back (HTTP: 413 RECORD_TOO_LARGE; a consumer: the input is parked on
 * its dead-letter topic) instead of committing a record the broker would refuse.
 */
export async function appendToOutbox(
  manager: EntityManager,
  catalogue: EventCatalogue,
  events: readonly Envelope[],
  limits: { maxMessageBytes: number } = { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES },
): Promise<OutboxWritten[]> {
  if (events.length === 0) return [];
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('appendToOutbox must run inside a transaction (the outbox commits with the state change)');
  }
  const rows = events.map((e) => {
    const headers = eventHeaders(e);
    const row = { id: e.id, topic: catalogue.topicOf(e), key: e.key, value: catalogue.encode(e), headers };
    checkRecordSize(row, limits.maxMessageBytes, e);
    return { event_id: row.id, topic: row.topic, key: row.key, value: row.value, headers: JSON.stringify(headers) };
  });
  const keys = [...new Set(rows.map((r) => `${r.topic}/${r.key}`))].sort();
  await manager.query(
    'select pg_advisory_xact_lock(hashtextextended(k, 7001)) from unnest($1::text[]) as k order by k',
    [keys],
  );
  // one parameter per value: the values (JSON text) are not escaped into array literals
  const written = (await insertRows(
    manager,
    'outbox',
    OUTBOX_COLUMNS,
    rows,
    'on conflict (event_id) do nothing returning position::text as position, event_id::text as event_id',
  )) as Array<{ position: string; event_id: string }>;
  const valueOf = new Map(rows.map((r) => [r.event_id.toLowerCase(), r.value]));
  return written.map((w) => ({ position: w.position, value: valueOf.get(w.event_id.toLowerCase())! }));
}

/** An outbox row a transaction wrote: its position and its value (what `OutboxRelay.remember` takes after the commit). */
export interface OutboxWritten {
  position: string;
  value: string;
}

const OUTBOX_COLUMNS: RowColumn[] = ['event_id', 'topic', 'key', 'value', 'headers'];

export interface OutboxRelayOptions {
  /** rows published per round */
  batchSize?: number;
  /**
   * how often to look again while the outbox is busy: after a round that left rows behind, or that found another
   * relay holding the lock (its round may have started before this process's last commit)
   */
  pollIntervalMs?: number;
  /**
   * how often to look while idle, for rows committed by other processes (default: `pollIntervalMs`). A process whose
   * every outbox write nudges its relay (`nudge()` after the commit) can set this long: its own rows are published at
   * once, another instance's rows wait at most this long, and an idle service stops querying its database ten times
   * a second
   */
  idlePollIntervalMs?: number;
  /** the topics' `max.message.bytes`: a stored row over it is parked without being sent (default 1 MiB) */
  maxMessageBytes?: number;
  /** test hook: runs after the broker acknowledged a batch and before the rows are deleted */
  afterPublish?: (eventIds: string[]) => Promise<void> | void;
}

/** Lock id shared by every relay of one database: only one relay publishes at a time. */
const RELAY_LOCK = 7002;

/** Outbox values kept in memory at most (`OutboxRelay.remember`); beyond, the oldest are read back from the table. */
const REMEMBERED_MAX = 5_000;

interface OutboxRow {
  position: string;
  event_id: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  created_at: Date;
}

interface RoundOutcome {
  published: OutboxRow[];
  parked: Array<{ row: OutboxRow; code: string; message: string }>;
  /** a failure that is not a record's refusal (broker away…): what was done before it is kept, then back-off */
  failure?: unknown;
}

const recordOf = (r: OutboxRow): OutgoingRecord => ({ topic: r.topic, key: r.key, value: r.value, headers: r.headers });

/**
 * Publishes committed outbox rows, in position order, with the idempotent producer, then deletes
 * them. If the process dies between the broker's acknowledgement and the delete, the rows are
 * published again on restart: consumers drop the duplicates by event id (the inbox). Several
 * instances may run; a transaction-scoped advisory lock lets one publish at a time.
 *
 * A record the broker refuses for good (too large, invalid: `recordRefusal`) cannot stall it: when a batch is
 * refused, its rows are sent one by one to find the refused ones, and each is moved into `parked_outbox` (with
 * the refusal) in the same transaction that deletes the published rows; the round carries on with the rest.
 * Per-key order is kept: the rows of a key behind a parked row are **held** in the outbox (not published)
 * until the parked row is re-sent (`ParkedOutbox.resend`, back at its old position) — a stalled key, never a
 * stalled service, and never a key's events out of order. Other failures (the broker away, retries
 * exhausted) keep the back-off: nothing is parked for them.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly idlePollIntervalMs: number;
  readonly maxMessageBytes: number;
  /** the last round found another relay holding the lock */
  private contended = false;
  private running = false;
  private loop?: Promise<void>;
  private readonly pause = new WakeableSleep();
  private pending = false;
  private consecutiveFailures = 0;
  private lastError?: Error;
  /** rows this relay parked since it started, by topic and refusal code */
  private readonly parks = new Map<string, { topic: string; code: string; count: number }>();
  /** values of rows this process committed, by position, not read back from the table (`remember`) */
  private readonly remembered = new Map<string, string>();
  /** rows published and values read back from the table (the others came from memory) */
  readonly counts = { published: 0, readBack: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: RecordPublisher,
    private readonly logger: Logger,
    private readonly opts: OutboxRelayOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 100;
    this.idlePollIntervalMs = Math.max(this.pollIntervalMs, opts.idlePollIntervalMs ?? this.pollIntervalMs);
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Values of outbox rows a transaction of this process wrote (`appendToOutbox`'s result), to be called once it has
   * committed: the relay publishes them from memory instead of reading each value back from the table (the rows are
   * still selected, locked, ordered and deleted there as before; a row's value never changes once written). At
   * most `REMEMBERED_MAX` are kept (rows another instance's relay published are forgotten that way).
   */
  remember(rows: readonly OutboxWritten[]): void {
    for (const r of rows) this.remembered.set(r.position, r.value);
    while (this.remembered.size > REMEMBERED_MAX) this.remembered.delete(this.remembered.keys().next().value!);
  }

  /** Asks for a round now (after a local commit), instead of waiting for the next poll. */
  nudge(): void {
    this.pending = true;
    this.pause.wake();
  }

  /**
   * Finishes the round in hand, then publishes what is still committed in the outbox (what the consumers,
   * stopped before the relay, committed after its last round), then stops. Without this last drain a graceful
   * stop left those events in the outbox until the next start. Bounded: it gives up after `drainTimeoutMs` or
   * on a failure (the rows stay and go with the next start).
   */
  async stop(drainTimeoutMs = 10_000): Promise<void> {
    this.running = false;
    this.pause.wake();
    await this.loop;
    const until = Date.now() + drainTimeoutMs;
    try {
      while (Date.now() < until && (await this.relayOnce()) === this.batchSize);
    } catch (e) {
      this.logger.warn({ err: e }, 'outbox not drained at stop; the rows are published at the next start');
    }
  }

  /** Healthy unless publishing has failed several times in a row (parked rows do not make it unhealthy). */
  health(): { ok: boolean; consecutiveFailures: number; lastError?: string } {
    return {
      ok: this.consecutiveFailures < 3,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError?.message,
    };
  }

  /** Rows waiting in this database's outbox and the age of the first one (`outboxBacklog`). */
  backlog(): Promise<{ depth: number; oldestAgeSeconds: number }> {
    return outboxBacklog(this.dataSource);
  }

  /** Rows this relay parked since it started, by topic and refusal code (the `csms_outbox_parks_total` counter). */
  parkCounts(): Array<{ topic: string; code: string; count: number }> {
    return [...this.parks.values()].map((p) => ({ ...p }));
  }

  /**
   * One round: publishes up to batchSize rows (parking the refused ones). Returns how many rows it took out of
   * the outbox (0 if another relay holds the lock).
   */
  async relayOnce(): Promise<number> {
    let outcome: RoundOutcome | undefined;
    const done = await this.dataSource.transaction(async (m) => {
      const [{ locked }] = await m.query('select pg_try_advisory_xact_lock($1) as locked', [RELAY_LOCK]);
      this.contended = !locked;
      if (!locked) return 0;
      // rows of a key with a parked row are held: its order would break if they went first
      const rows: OutboxRow[] = await m.query(
        `select position::text as position, event_id, topic, key, headers, created_at from outbox o
         where not exists (select 1 from parked_outbox p where p.state = 'parked' and p.topic = o.topic and p.key = o.key)
         order by o.position limit $1`,
        [this.batchSize],
      );
      if (rows.length === 0) return 0;
      // the values: from memory when this process wrote the row, else read back
      const unknown: string[] = [];
      for (const r of rows) {
        const v = this.remembered.get(r.position);
        if (v === undefined) unknown.push(r.position);
        else r.value = v;
      }
      if (unknown.length > 0) {
        const values = new Map(
          (
            (await m.query('select position::text as position, value from outbox where position = any($1::bigint[])', [
              unknown,
            ])) as Array<{ position: string; value: string }>
          ).map((v) => [v.position, v.value]),
        );
        for (const r of rows) if (r.value === undefined) r.value = values.get(r.position)!;
        this.counts.readBack += unknown.length;
      }
      outcome = await this.publishRows(rows);
      const { published, parked } = outcome;
      if (published.length > 0) await this.opts.afterPublish?.(published.map((r) => r.event_id));
      if (parked.length > 0) {
        await m.query(
          `insert into parked_outbox (event_id, position, topic, key, value, headers, created_at, error_code, error_message)
           select * from unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[], $8::text[], $9::text[])
           on conflict (event_id) do update set
             position = excluded.position, topic = excluded.topic, key = excluded.key, value = excluded.value, headers = excluded.headers,
             state = 'parked', error_code = excluded.error_code, error_message = excluded.error_message, parked_at = now(), parks = parked_outbox.parks + 1`,
          [
            parked.map((p) => p.row.event_id),
            parked.map((p) => p.row.position),
            parked.map((p) => p.row.topic),
            parked.map((p) => p.row.key),
            parked.map((p) => p.row.value),
            parked.map((p) => JSON.stringify(p.row.headers)),
            parked.map((p) => p.row.created_at),
            parked.map((p) => p.code),
            parked.map((p) => p.message),
          ],
        );
      }
      const gone = [...published, ...parked.map((p) => p.row)];
      if (gone.length > 0)
        await m.query('delete from outbox where position = any($1::bigint[])', [gone.map((r) => r.position)]);
      return gone.length;
    });
    // taken out of the outbox (or this round rolled back: the table still has them, memory need not)
    if (outcome) {
      for (const r of outcome.published) this.remembered.delete(r.position);
      for (const p of outcome.parked) this.remembered.delete(p.row.position);
      this.counts.published += outcome.published.length;
    }
    for (const p of outcome?.parked ?? []) {
      const k = `${p.row.topic}\u0000${p.code}`;
      const c = this.parks.get(k) ?? { topic: p.row.topic, code: p.code, count: 0 };
      c.count += 1;
      this.parks.set(k, c);
      this.logger.error(
        { eventId: p.row.event_id, topic: p.row.topic, key: p.row.key, code: p.code, error: p.message },
        'outbox record refused by the broker for good: parked (GET /api/v1/outbox/parked); later records of its key are held until it is re-sent',
      );
    }
    if (outcome?.failure !== undefined) throw outcome.failure;
    return done;
  }

  /**
   * Publishes the rows as one batch; if the broker refuses a record of it for good, sends them one by one to
   * find which: the refused ones are parked, the rows of their keys behind them held, the others published.
   * Throws (nothing taken out of the outbox) if the batch failed for another reason.
   */
  private async publishRows(rows: OutboxRow[]): Promise<RoundOutcome> {
    if (rows.every((r) => recordBatchBytes(r) <= this.maxMessageBytes)) {
      try {
        await this.publisher.publish(rows.map(recordOf));
        return { published: rows, parked: [] };
      } catch (e) {
        if (!recordRefusal(e)) throw e;
        this.logger.warn(
          { err: e, rows: rows.length },
          'the broker refused a record of the batch for good: sending one by one to find it',
        );
      }
    }
    // What the refused batch wrote (other partitions, earlier requests) is sent again: consumers drop duplicates.
    const out: RoundOutcome = { published: [], parked: [] };
    const held = new Set<string>();
    for (const row of rows) {
      const key = `${row.topic}\u0000${row.key}`;
      if (held.has(key)) continue;
      try {
        checkRecordSize(row, this.maxMessageBytes, { id: row.event_id, type: row.headers['event-type'] ?? 'unknown' });
        await this.publisher.publish([recordOf(row)]);
        out.published.push(row);
      } catch (e) {
        const refusal = recordRefusal(e);
        if (!refusal) return { ...out, failure: e };
        out.parked.push({ row, ...refusal });
        held.add(key);
      }
    }
    return out;
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
        this.logger.error(
          { err: e, consecutiveFailures: this.consecutiveFailures },
          'outbox relay round failed; retrying',
        );
      }
      if (!this.running) break;
      if (published === this.batchSize && this.consecutiveFailures === 0) continue;
      if (this.pending && this.consecutiveFailures === 0) continue;
      const delay =
        this.consecutiveFailures === 0
          ? published > 0 || this.contended
            ? this.pollIntervalMs
            : this.idlePollIntervalMs
          : Math.min(5000, this.pollIntervalMs * 2 ** this.consecutiveFailures);
      await this.pause.sleep(delay);
    }
  }
}

/**
 * The outbox backlog of a database: rows committed and not published yet (held rows included) and the age in
 * seconds of the first one in outbox order (0 when empty). One query over the outbox, which stays small while the
 * relay keeps up: what `/metrics` reads at each scrape.
 */
export async function outboxBacklog(ds: DataSource): Promise<{ depth: number; oldestAgeSeconds: number }> {
  const [r] = (await ds.query(
    `select (select count(*) from outbox)::float8 as depth,
            coalesce(extract(epoch from clock_timestamp() - (select created_at from outbox order by position limit 1)), 0)::float8 as age`,
  )) as Array<{ depth: number; age: number }>;
  return { depth: Number(r.depth), oldestAgeSeconds: Math.max(0, Number(r.age)) };
}
