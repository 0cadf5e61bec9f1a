import { Gauge, type Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import { decodeCursor, keysetPage } from '@csms/service-kit';

/**
 * Reading the billing-completeness read model. A session revision that ended has an outcome when it has a
 * CDR, a pricing failure or a dead letter; exactly one is the rule. Without one it is `pending` while it
 * ended less than the grace period before the newest event seen (event time), and `missing` after that.
 */

export interface CompletenessCounts {
  /** session.ended read (one per session revision) */
  sessionsEnded: number;
  /** CDRs (not credit CDRs) */
  cdrs: number;
  /** credit CDRs, counted with the revision whose CDR they cancel */
  creditCdrs: number;
  pricingFailures: number;
  /** session.ended the tariff service parked on its dead-letter topic */
  deadLetters: number;
  /** ended, no outcome, older than the grace period */
  missing: number;
  /** ended, no outcome yet, within the grace period */
  pending: number;
  /** revisions with more than one outcome (the rule is broken) */
  multipleOutcomes: number;
  /** outcomes whose session.ended has not been read (yet) */
  outcomesWithoutSession: number;
}

export interface CompletenessDay extends CompletenessCounts {
  /** UTC date of the session's end */
  day: string;
  /** the CDR's currency; null for revisions without a CDR (failed, dead-lettered, missing, pending) */
  currency: string | null;
}

export interface DayRange {
  /** first day (YYYY-MM-DD, UTC), inclusive */
  from?: string;
  /** last day, exclusive */
  to?: string;
}

const OUTCOMES = 'cdrs + pricing_failures + dead_letters';

/** The columns of CompletenessCounts; `$1` is the newest event time minus the grace period (null: none seen). */
const COUNTS = `
  count(*) filter (where ended)::int as "sessionsEnded",
  coalesce(sum(cdrs), 0)::int as "cdrs",
  coalesce(sum(credit_cdrs), 0)::int as "creditCdrs",
  coalesce(sum(pricing_failures), 0)::int as "pricingFailures",
  coalesce(sum(dead_letters), 0)::int as "deadLetters",
  count(*) filter (where ended and ${OUTCOMES} = 0 and ended_at <= $1)::int as "missing",
  count(*) filter (where ended and ${OUTCOMES} = 0 and (ended_at > $1 or $1 is null))::int as "pending",
  count(*) filter (where ${OUTCOMES} > 1)::int as "multipleOutcomes",
  count(*) filter (where not ended)::int as "outcomesWithoutSession"`;

/** `$2`, `$3`: the day range (UTC dates; null = open). */
const IN_RANGE = `($2::date is null or ended_at >= ($2::date)::timestamp at time zone 'UTC') and ($3::date is null or ended_at < ($3::date)::timestamp at time zone 'UTC')`;

/** The newest event time seen, and the instant before which a session without an outcome is missing. */
export async function watermark(
  ds: DataSource | EntityManager,
  graceSeconds: number,
): Promise<{ newestEventAt: string | null; missingBefore: string | null }> {
  const rows: Array<{ newest_event_at: Date }> = await ds.query('select newest_event_at from billing_watermark');
  if (rows.length === 0) return { newestEventAt: null, missingBefore: null };
  const newest = rows[0].newest_event_at;
  return {
    newestEventAt: newest.toISOString(),
    missingBefore: new Date(newest.getTime() - graceSeconds * 1000).toISOString(),
  };
}

export async function completenessByDay(
  ds: DataSource | EntityManager,
  missingBefore: string | null,
  range: DayRange,
): Promise<CompletenessDay[]> {
  return ds.query(
    `select to_char(ended_at at time zone 'UTC', 'YYYY-MM-DD') as day, currency, ${COUNTS}
       from billing_sessions where ${IN_RANGE} group by 1, 2 order by 1, 2 nulls first`,
    [missingBefore, range.from ?? null, range.to ?? null],
  );
}

export async function completenessTotals(
  ds: DataSource | EntityManager,
  missingBefore: string | null,
  range: DayRange = {},
): Promise<CompletenessCounts> {
  const [row] = await ds.query(`select ${COUNTS} from billing_sessions where ${IN_RANGE}`, [
    missingBefore,
    range.from ?? null,
    range.to ?? null,
  ]);
  return row as CompletenessCounts;
}

export interface MissingSession {
  sessionId: string;
  revision: number;
  stationId: string;
  endedAt: string;
  /** seconds between its end and the newest event seen (event time) */
  ageSeconds: number;
}

/** The sort key of the missing sessions: oldest first. */
const MISSING_KEY = [
  ['ended_at', 'timestamptz'],
  ['session_id', 'uuid'],
  ['revision', 'integer'],
] as const;

/** Sessions without an outcome past the grace period, oldest first, a page at a time. */
export async function missingSessions(
  ds: DataSource | EntityManager,
  w: { newestEventAt: string | null; missingBefore: string | null },
  range: DayRange,
  limit: number,
  cursor?: string,
): Promise<{ items: MissingSession[]; nextCursor?: string }> {
  // a cursor is checked even when there is nothing to page through: one the API did not issue is a 400 either way
  if (cursor !== undefined)
    decodeCursor(
      cursor,
      MISSING_KEY.map(([, type]) => type),
    );
  if (w.missingBefore === null || w.newestEventAt === null) return { items: [] };
  const newest = Date.parse(w.newestEventAt);
  const { rows, nextCursor } = await keysetPage<{
    session_id: string;
    revision: number;
    station_id: string;
    ended_at: Date;
  }>(ds, {
    select: 'select session_id::text, revision, station_id, ended_at from billing_sessions',
    filters: [
      [`ended and ${OUTCOMES} = 0`],
      ['ended_at <= ?::timestamptz', w.missingBefore],
      range.from && [`ended_at >= (?::date)::timestamp at time zone 'UTC'`, range.from],
      range.to && [`ended_at < (?::date)::timestamp at time zone 'UTC'`, range.to],
    ],
    key: MISSING_KEY,
    limit,
    cursor,
    keyOf: (r) => [r.ended_at.toISOString(), r.session_id, String(r.revision)],
  });
  return {
    items: rows.map((r) => ({
      sessionId: r.session_id,
      revision: r.revision,
      stationId: r.station_id,
      endedAt: r.ended_at.toISOString(),
      ageSeconds: Math.floor((newest - r.ended_at.getTime()) / 1000),
    })),
    nextCursor,
  };
}

/**
 * Prometheus gauges over the whole read model, computed at scrape time with one query (shared by the gauges
 * of one scrape): `csms_billing_sessions_missing`, `csms_billing_sessions_pending`,
 * `csms_billing_sessions_multiple_outcomes`, and `csms_billing_sessions{outcome}` (ended, cdr, credit_cdr,
 * pricing_failed, dead_letter).
 */
export function registerCompletenessMetrics(registry: Registry, ds: DataSource, graceSeconds: number): void {
  let scrape: { at: number; totals: Promise<CompletenessCounts> } | undefined;
  const totals = () => {
    // one query per scrape: the gauges of a scrape are collected one after the other, within a second
    if (!scrape || Date.now() - scrape.at > 1000) {
      scrape = {
        at: Date.now(),
        totals: watermark(ds, graceSeconds).then((w) => completenessTotals(ds, w.missingBefore)),
      };
    }
    return scrape.totals;
  };
  const single = (name: string, help: string, pick: (c: CompletenessCounts) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(pick(await totals()));
      },
    });
  single(
    'csms_billing_sessions_missing',
    'session revisions ended past the grace period with no CDR, pricing failure or dead letter (event time)',
    (c) => c.missing,
  );
  single(
    'csms_billing_sessions_pending',
    'session revisions ended within the grace period with no outcome yet',
    (c) => c.pending,
  );
  single(
    'csms_billing_sessions_multiple_outcomes',
    'session revisions with more than one outcome (CDR, pricing failure, dead letter)',
    (c) => c.multipleOutcomes,
  );
  new Gauge({
    name: 'csms_billing_sessions',
    help: 'session revisions by outcome, as the reporting service has read them',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const c = await totals();
      this.set({ outcome: 'ended' }, c.sessionsEnded);
      this.set({ outcome: 'cdr' }, c.cdrs);
      this.set({ outcome: 'credit_cdr' }, c.creditCdrs);
      this.set({ outcome: 'pricing_failed' }, c.pricingFailures);
      this.set({ outcome: 'dead_letter' }, c.deadLetters);
    },
  });
}
