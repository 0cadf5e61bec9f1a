import type { DataSource } from 'typeorm';

/** A parked outbox row as the API and the CLI show it. */
export interface ParkedRecord {
  eventId: string;
  /** its position in the outbox: a re-send puts it back there, ahead of its key's held rows */
  position: string;
  topic: string;
  key: string;
  eventType?: string;
  headers: Record<string, string>;
  /** the record's value as it was committed (the encoded event) */
  value: string;
  sizeBytes: number;
  createdAt: string;
  state: 'parked' | 'resent';
  error: { code: string; message: string };
  parkedAt: string;
  /** how often the broker refused it (a re-sent row refused again is parked again) */
  parks: number;
  resends: number;
  resentAt?: string;
}

interface Row {
  event_id: string;
  position: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  created_at: Date;
  state: 'parked' | 'resent';
  error_code: string;
  error_message: string;
  parked_at: Date;
  parks: number;
  resends: number;
  resent_at: Date | null;
}

const COLUMNS =
  'event_id, position::text as position, topic, key, value, headers, created_at, state, error_code, error_message, parked_at, parks, resends, resent_at';

function toRecord(r: Row): ParkedRecord {
  return {
    eventId: r.event_id,
    position: r.position,
    topic: r.topic,
    key: r.key,
    eventType: r.headers['event-type'],
    headers: r.headers,
    value: r.value,
    sizeBytes: Buffer.byteLength(r.value),
    createdAt: r.created_at.toISOString(),
    state: r.state,
    error: { code: r.error_code, message: r.error_message },
    parkedAt: r.parked_at.toISOString(),
    parks: r.parks,
    resends: r.resends,
    resentAt: r.resent_at?.toISOString(),
  };
}

/**
 * The parked outbox of a service's database (rows the broker refused for good, see OutboxRelay): inspect them,
 * count them, and re-send one after the cause is fixed (the topic's limit raised, the row's value edited).
 */
export class ParkedOutbox {
  constructor(
    private readonly dataSource: DataSource,
    /** nudged after a re-send, so the row goes out now instead of at the next poll */
    private readonly relay?: { nudge(): void },
  ) {}

  /** Parked rows (both states unless `state` is given), in outbox position order, after position `after`. */
  async list(q: {
    state?: 'parked' | 'resent';
    after?: string;
    limit: number;
  }): Promise<{ items: ParkedRecord[]; next?: string }> {
    const rows: Row[] = await this.dataSource.query(
      `select ${COLUMNS} from parked_outbox
       where ($1::text is null or state = $1) and ($2::bigint is null or position > $2::bigint)
       order by position limit $3`,
      [q.state ?? null, q.after ?? null, q.limit + 1],
    );
    const page = rows.slice(0, q.limit);
    return { items: page.map(toRecord), next: rows.length > q.limit ? page[page.length - 1].position : undefined };
  }

  async get(eventId: string): Promise<ParkedRecord | undefined> {
    const rows: Row[] = await this.dataSource.query(`select ${COLUMNS} from parked_outbox where event_id = $1`, [
      eventId,
    ]);
    return rows.length > 0 ? toRecord(rows[0]) : undefined;
  }

  /**
   * Moves a parked row back into the outbox at its old position (ahead of the rows of its key that were held
   * behind it), in one transaction, and marks it `resent`. Idempotent: a row already re-sent (and not parked
   * again since) is left alone (`resent: false`); consumers drop a record they already applied by event id in
   * any case. `undefined` if there is no such parked row.
   */
  async resend(eventId: string): Promise<{ resent: boolean; record: ParkedRecord } | undefined> {
    const result = await this.dataSource.transaction(async (m) => {
      // (a select over the update: TypeORM answers a bare UPDATE … RETURNING with [rows, count])
      const moved: Row[] = await m.query(
        `with moved as (
           update parked_outbox set state = 'resent', resends = resends + 1, resent_at = now()
           where event_id = $1 and state = 'parked' returning *)
         select ${COLUMNS} from moved`,
        [eventId],
      );
      if (moved.length === 0) {
        const rows: Row[] = await m.query(`select ${COLUMNS} from parked_outbox where event_id = $1`, [eventId]);
        return rows.length > 0 ? { resent: false, record: toRecord(rows[0]) } : undefined;
      }
      const r = moved[0];
      await m.query(
        `insert into outbox (position, event_id, topic, key, value, headers, created_at) values ($1, $2, $3, $4, $5, $6, $7)
         on conflict do nothing`,
        [r.position, r.event_id, r.topic, r.key, r.value, JSON.stringify(r.headers), r.created_at],
      );
      return { resent: true, record: toRecord(r) };
    });
    if (result?.resent) this.relay?.nudge();
    return result;
  }

  /** Rows parked now, and outbox rows held behind them (their keys wait; counted only while something is parked). */
  async counts(): Promise<{ parked: number; held: number }> {
    const [{ parked }] = await this.dataSource.query(
      `select count(*)::int as parked from parked_outbox where state = 'parked'`,
    );
    if (parked === 0) return { parked: 0, held: 0 };
    const [{ held }] = await this.dataSource.query(
      `select count(*)::int as held from outbox o where exists (select 1 from parked_outbox p where p.state = 'parked' and p.topic = o.topic and p.key = o.key)`,
    );
    return { parked, held };
  }
}
