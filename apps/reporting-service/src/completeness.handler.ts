import type { EntityManager } from 'typeorm';
import type { Envelope } from '@csms/contracts';
import type { ChunkEndHook, EventHandler } from '@csms/messaging';

/**
 * Billing completeness, folded from session.events (session.ended), billing.events (cdr.created,
 * session.pricing_failed) and the tariff service's pricing dead letters: one row per session revision with
 * what became of it. Only identity fields are read (session id, revision, station, end; a CDR's id,
 * currency and credit flag; the audit's session id and revision), so newer versions of these events
 * change nothing here. Event time only: the newest `occurredAt` seen is the clock a session's age is
 * measured by, so a rebuild from the topics gives the same answers.
 */

interface SessionEndedIds {
  sessionId: string;
  revision: number;
  stationId: string;
  endedAt: string;
}
interface CdrCreatedIds {
  cdr: { id: string; currency: string; end_date_time: string; credit?: boolean };
  audit: { sessionId: string; sessionRevision: number; stationId: string };
}
interface PricingFailedIds {
  sessionId: string;
  sessionRevision: number;
  stationId: string;
  code: string;
  sessionEndedAt: string;
}

const NEWEST = 'completeness.newest';

/**
 * Inserts a revision's row with `values` in `columns`, or updates it with `set` (`b` is the row, `excluded`
 * the one proposed). An outcome read before its session.ended gives the row the end it carries.
 */
async function upsert(
  m: EntityManager,
  ids: SessionEndedIds,
  columns: Record<string, unknown>,
  set: string,
): Promise<void> {
  const names = Object.keys(columns);
  const params = names.map((_, i) => `$${i + 5}`);
  await m.query(
    `insert into billing_sessions as b (session_id, revision, station_id, ended_at${names.map((n) => `, ${n}`).join('')})
     values ($1, $2, $3, $4${params.map((x) => `, ${x}`).join('')})
     on conflict (session_id, revision) do update set ${set}`,
    [ids.sessionId, ids.revision, ids.stationId, ids.endedAt, ...Object.values(columns)],
  );
}

export function applySessionEnded(m: EntityManager, p: SessionEndedIds): Promise<void> {
  return upsert(m, p, { ended: true }, 'ended = true, ended_at = excluded.ended_at, station_id = excluded.station_id');
}

export function applyCdrCreated(m: EntityManager, p: CdrCreatedIds): Promise<void> {
  const ids = {
    sessionId: p.audit.sessionId,
    revision: p.audit.sessionRevision,
    stationId: p.audit.stationId,
    endedAt: p.cdr.end_date_time,
  };
  if (p.cdr.credit === true) {
    // a credit CDR cancels the CDR of the revision its audit names: it is counted in that revision's row
    return upsert(
      m,
      ids,
      { currency: p.cdr.currency, credit_cdrs: 1 },
      'credit_cdrs = b.credit_cdrs + 1, currency = coalesce(b.currency, excluded.currency)',
    );
  }
  // the same CDR read again is one CDR; another CDR for the same revision is a second outcome
  return upsert(
    m,
    ids,
    { currency: p.cdr.currency, cdr_id: p.cdr.id, cdrs: 1 },
    'cdrs = b.cdrs + case when b.cdr_id is not distinct from excluded.cdr_id then 0 else 1 end, cdr_id = excluded.cdr_id, currency = excluded.currency',
  );
}

export function applyPricingFailed(m: EntityManager, p: PricingFailedIds): Promise<void> {
  const ids = {
    sessionId: p.sessionId,
    revision: p.sessionRevision,
    stationId: p.stationId,
    endedAt: p.sessionEndedAt,
  };
  return upsert(
    m,
    ids,
    { pricing_failures: 1, failure_code: p.code },
    'pricing_failures = b.pricing_failures + 1, failure_code = excluded.failure_code',
  );
}

export function applyDeadLetter(m: EntityManager, p: SessionEndedIds): Promise<void> {
  return upsert(m, p, { dead_letters: 1 }, 'dead_letters = b.dead_letters + 1');
}

/** session.events and billing.events: what ended, what was priced, what failed; and the newest event time. */
export const completenessHandler: EventHandler = async (event, ctx) => {
  const newest = ctx.scratch.get(NEWEST) as string | undefined;
  if (newest === undefined || Date.parse(event.occurredAt) > Date.parse(newest))
    ctx.scratch.set(NEWEST, event.occurredAt);
  if (event.type === 'session.ended') await applySessionEnded(ctx.manager, event.payload as SessionEndedIds);
  else if (event.type === 'cdr.created') await applyCdrCreated(ctx.manager, event.payload as CdrCreatedIds);
  else if (event.type === 'session.pricing_failed')
    await applyPricingFailed(ctx.manager, event.payload as PricingFailedIds);
};

/** Moves the newest event time seen forward, once per chunk (never back). */
export const completenessChunkEnd: ChunkEndHook = async ({ manager, scratch }) => {
  const newest = scratch.get(NEWEST) as string | undefined;
  if (newest === undefined) return;
  await manager.query(
    `insert into billing_watermark (id, newest_event_at) values (true, $1)
     on conflict (id) do update set newest_event_at = greatest(billing_watermark.newest_event_at, excluded.newest_event_at)`,
    [newest],
  );
};

/**
 * The tariff service's pricing dead letters: each record is the original session.ended, verbatim (read by a
 * consumer group of its own: its event ids are those already read from session.events).
 */
export const deadLetterHandler: EventHandler = async (event: Envelope, ctx) => {
  if (event.type === 'session.ended') await applyDeadLetter(ctx.manager, event.payload as SessionEndedIds);
};
