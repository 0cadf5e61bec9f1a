import type { EntityManager } from 'typeorm';
import { CdrCreatedV2, SessionPricingFailedV1, deriveId, type Envelope, type EventCatalogue, type SessionEndedEvent } from '@csms/contracts';
import type { ChunkEndHook, ChunkStartHook, EventHandler, GiveUpHandler } from '@csms/messaging';
import type { TariffAssignment } from '@csms/billing';
import { allAssignments, stationOf, stationsOf, tokenOf, tokensOf, versionsOf, type StationFacts, type StoredVersion } from './catalogue';
import { buildCdr, creditCdrOf, type CdrAudit, type OcpiCdr, type PricingContext, type SourcePosition } from './cdr-builder';
import type { TariffServiceConfig } from './config';
import { SettleFailureCode, settle, type Pricer } from './settle';

export const SERVICE_SOURCE = 'tariff-service';

/** The catalogue as the transaction sees it (read once per chunk of sessions). */
export interface CatalogueSnapshot {
  assignments: TariffAssignment[];
  versions: StoredVersion[];
}

export async function catalogueSnapshot(m: EntityManager): Promise<CatalogueSnapshot> {
  return { assignments: await allAssignments(m), versions: await versionsOf(m) };
}

function contextOf(cfg: TariffServiceConfig, session: SessionEndedEvent['payload'], source: SourcePosition, cat: CatalogueSnapshot): PricingContext {
  return {
    session,
    source,
    assignments: cat.assignments,
    versions: cat.versions,
    cpo: { countryCode: cfg.CPO_COUNTRY_CODE, partyId: cfg.CPO_PARTY_ID },
    defaultTimeZone: cfg.DEFAULT_TIME_ZONE,
    rounding: cfg.PRICING_ROUNDING as PricingContext['rounding'],
  };
}

/** Everything buildCdr needs, read from the service's tables inside the consumer's transaction. */
export async function pricingContext(
  m: EntityManager,
  cfg: TariffServiceConfig,
  session: SessionEndedEvent['payload'],
  source: SourcePosition,
  snapshot?: CatalogueSnapshot,
): Promise<PricingContext> {
  const cat = snapshot ?? (await catalogueSnapshot(m));
  return {
    ...contextOf(cfg, session, source, cat),
    station: await stationOf(m, session.stationId),
    token: session.idToken ? await tokenOf(m, session.idToken.idToken) : undefined,
  };
}

interface TokenFacts {
  groupId: string | null;
  accountId: string | null;
}

/** Rows a chunk has priced and not written yet (written in one statement per table). */
interface PendingWrites {
  priced: Array<Record<string, unknown>>;
  failures: Array<Record<string, unknown>>;
  cdrs: Array<Record<string, unknown>>;
}

/** What one chunk transaction read once for all its sessions, and what it will write at its end. */
interface ChunkState {
  snapshot: CatalogueSnapshot;
  stations: Map<string, StationFacts | undefined>;
  tokens: Map<string, TokenFacts | undefined>;
  /** `<sessionId>/<revision>` already in priced_sessions (committed, or priced earlier in this chunk) */
  priced: Set<string>;
  /** sessions that may have a CDR to credit: one committed, or one priced earlier in this chunk */
  withCdrs: Set<string>;
  pending: PendingWrites;
}
const CHUNK = 'pricing';

const pricedKey = (sessionId: string, revision: number) => `${sessionId.toLowerCase()}/${revision}`;

/**
 * Reads, in a few statements, what the chunk's sessions need: the catalogue snapshot, their stations
 * and tokens, which revisions were priced before, and which sessions have CDRs (a correction credits them).
 */
async function loadChunk(m: EntityManager, sessions: readonly SessionEndedEvent['payload'][]): Promise<ChunkState> {
  const snapshot = await catalogueSnapshot(m);
  const stationIds = [...new Set(sessions.map((s) => s.stationId))];
  const uids = [...new Set(sessions.flatMap((s) => (s.idToken ? [s.idToken.idToken] : [])))];
  const sessionIds = [...new Set(sessions.map((s) => s.sessionId))];
  const stations = await stationsOf(m, stationIds);
  const tokens = await tokensOf(m, uids);
  const priced = new Set<string>();
  const withCdrs = new Set<string>();
  if (sessionIds.length > 0) {
    const rows: Array<{ session_id: string; revision: number | null; has_cdr: boolean }> = await m.query(
      `select session_id::text, revision, false as has_cdr from priced_sessions where session_id = any($1::uuid[])
       union all
       select distinct session_id::text, null::integer, true from cdrs where session_id = any($1::uuid[]) and not credit`,
      [sessionIds],
    );
    for (const r of rows) {
      if (r.has_cdr) withCdrs.add(r.session_id.toLowerCase());
      else priced.add(pricedKey(r.session_id, r.revision as number));
    }
  }
  return { snapshot, stations, tokens, priced, withCdrs, pending: { priced: [], failures: [], cdrs: [] } };
}

function cdrRow(cdr: OcpiCdr, audit: CdrAudit): Record<string, unknown> {
  return {
    cdr_id: cdr.id,
    session_id: audit.sessionId,
    revision: audit.sessionRevision,
    station_id: audit.stationId,
    token_uid: cdr.cdr_token.uid,
    start_at: cdr.start_date_time,
    end_at: cdr.end_date_time,
    currency: cdr.currency,
    total_excl_vat: cdr.total_cost.excl_vat,
    total_incl_vat: cdr.total_cost.incl_vat,
    credit: cdr.credit === true,
    credit_reference_id: cdr.credit_reference_id ?? null,
    tariff_id: audit.tariffId,
    tariff_version: audit.tariffVersion,
    content_hash: audit.contentHash,
    cdr,
    audit,
  };
}

/**
 * Writes what the chunk priced: one statement per table, rows passed as one JSON document (the
 * jsonb columns get the same values as from JSON.stringify of each object). A priced revision that is
 * already there (another transaction priced it since the chunk started) fails the chunk: the consumer
 * retries and this time the revision is seen as priced, so nothing is emitted twice.
 */
async function flush(m: EntityManager, w: PendingWrites): Promise<void> {
  if (w.priced.length > 0) {
    const inserted: unknown[] = await m.query(
      `insert into priced_sessions (session_id, revision, station_id, site_id, started_at, ended_at, session, source, outcome)
       select session_id, revision, station_id, site_id, started_at, ended_at, session, source, outcome
         from json_to_recordset($1::json) as x(session_id uuid, revision integer, station_id text, site_id text, started_at timestamptz,
           ended_at timestamptz, session jsonb, source jsonb, outcome text)
       on conflict (session_id, revision) do nothing returning 1`,
      [JSON.stringify(w.priced)],
    );
    if (inserted.length !== w.priced.length) {
      throw new Error(`${w.priced.length - inserted.length} session revision(s) were priced concurrently; the chunk is retried`);
    }
  }
  if (w.failures.length > 0) {
    await m.query(
      `insert into pricing_failures (session_id, revision, station_id, code, detail, field, ended_at)
       select session_id, revision, station_id, code, detail, field, ended_at
         from json_to_recordset($1::json) as x(session_id uuid, revision integer, station_id text, code text, detail text, field text, ended_at timestamptz)
       on conflict do nothing`,
      [JSON.stringify(w.failures)],
    );
  }
  if (w.cdrs.length > 0) {
    await m.query(
      `insert into cdrs (cdr_id, session_id, revision, station_id, token_uid, start_at, end_at, currency, total_excl_vat, total_incl_vat, credit,
         credit_reference_id, tariff_id, tariff_version, content_hash, cdr, audit)
       select cdr_id, session_id, revision, station_id, token_uid, start_at, end_at, currency, total_excl_vat, total_incl_vat, credit,
         credit_reference_id, tariff_id, tariff_version, content_hash, cdr, audit
         from json_to_recordset($1::json) as x(cdr_id text, session_id uuid, revision integer, station_id text, token_uid text, start_at timestamptz,
           end_at timestamptz, currency text, total_excl_vat numeric, total_incl_vat numeric, credit boolean, credit_reference_id text, tariff_id text,
           tariff_version integer, content_hash text, cdr jsonb, audit jsonb)
       on conflict (cdr_id) do nothing`,
      [JSON.stringify(w.cdrs)],
    );
  }
  w.priced = [];
  w.failures = [];
  w.cdrs = [];
}

type Common = { key: string; occurredAt: string; source: string; causationId: string; correlationId: string };

const commonOf = (event: Envelope, s: SessionEndedEvent['payload']): Common => ({
  key: s.sessionId,
  occurredAt: s.endedAt,
  source: SERVICE_SOURCE,
  causationId: event.id,
  correlationId: event.correlationId ?? event.id,
});

/** The pricing_failures row and the session.pricing_failed event of a revision that could not be priced. */
function failureOf(catalogue: EventCatalogue, s: SessionEndedEvent['payload'], source: SourcePosition, common: Common, f: { code: string; detail: string; field?: string }) {
  return {
    row: { session_id: s.sessionId, revision: s.revision, station_id: s.stationId, code: f.code, detail: f.detail, field: f.field ?? null, ended_at: s.endedAt },
    event: catalogue.create(SessionPricingFailedV1, {
      ...common,
      id: deriveId('pricing-failed', s.sessionId, s.revision),
      payload: { sessionId: s.sessionId, sessionRevision: s.revision, stationId: s.stationId, code: f.code, detail: f.detail, ...(f.field ? { field: f.field } : {}), sessionEndedAt: s.endedAt, sourceEvent: source },
    }),
  };
}

/**
 * Prices each session.ended (each revision once) into a CDR, or a session.pricing_failed event: exactly
 * one of the two (`settle`): the engine throwing, a CDR that breaks the cdr.created contract or one too
 * large for a record become a pricing failure with its reason, not a failed chunk or a dead letter; only
 * infrastructure failures are thrown (and retried by the consumer).
 * A later revision of an already priced session first credits the earlier CDR (credit CDR), then
 * emits the new one: history is never edited.
 *
 * Per chunk transaction (the consumer's, with the inbox and outbox rows): the catalogue snapshot, the
 * stations, tokens and earlier revisions of the chunk's sessions are read in a few statements at its
 * start (`onChunkStart`), the priced sessions, failures and CDRs are written in one statement per
 * table at its end (`onChunkEnd`). Nothing is cached across transactions. A session with a CDR to
 * credit writes what is pending first and reads its open CDRs as stored (as before).
 */
export function makePricingConsumer(
  catalogue: EventCatalogue,
  cfg: TariffServiceConfig,
  opts: { price?: Pricer } = {},
): { handler: EventHandler; onChunkStart: ChunkStartHook; onChunkEnd: ChunkEndHook; onGiveUp: GiveUpHandler } {
  const price: Pricer = opts.price ?? buildCdr;
  const endedOf = (events: readonly Envelope[]) => events.filter((e) => e.type === 'session.ended').map((e) => (e as SessionEndedEvent).payload);

  const onChunkStart: ChunkStartHook = async ({ manager, scratch, events }) => {
    scratch.set(CHUNK, await loadChunk(manager, endedOf(events)));
  };

  const onChunkEnd: ChunkEndHook = async ({ manager, scratch }) => {
    const c = scratch.get(CHUNK) as ChunkState | undefined;
    if (c) await flush(manager, c.pending);
  };

  const handler: EventHandler = async (event, ctx) => {
    if (event.type !== 'session.ended') return;
    const s = (event as SessionEndedEvent).payload;
    const m = ctx.manager;
    let c = ctx.scratch.get(CHUNK) as ChunkState | undefined;
    if (!c) {
      // the chunk hooks did not run (a caller without them): read now, write at once
      c = await loadChunk(m, [s]);
    }
    const source: SourcePosition = { eventId: event.id, topic: ctx.position.topic, partition: ctx.position.partition, offset: ctx.position.offset };
    const station = c.stations.has(s.stationId) ? c.stations.get(s.stationId) : (await stationsOf(m, [s.stationId])).get(s.stationId);
    const uid = s.idToken?.idToken;
    const token = uid === undefined ? undefined : c.tokens.has(uid) ? c.tokens.get(uid) : (await tokensOf(m, [uid])).get(uid);
    const pc: PricingContext = { ...contextOf(cfg, s, source, c.snapshot), station, token };
    const key = pricedKey(s.sessionId, s.revision);
    if (c.priced.has(key)) return; // this revision was priced before (a re-emitted session.ended)
    const common = commonOf(event, s);
    // a CDR whose event satisfies its contract and fits a record, or a failure: never a chunk failed by one session
    const outcome = settle(
      catalogue,
      price,
      pc,
      (o) => catalogue.create(CdrCreatedV2, { ...common, id: deriveId('cdr-created', o.cdr.id), payload: { cdr: o.cdr, audit: o.audit } as never }),
      cfg.TARIFF_MAX_EVENT_BYTES,
    );
    c.priced.add(key);
    c.pending.priced.push({
      session_id: s.sessionId,
      revision: s.revision,
      station_id: s.stationId,
      site_id: pc.station?.siteId ?? null,
      started_at: s.startedAt,
      ended_at: s.endedAt,
      session: s,
      source,
      outcome: outcome.kind,
    });
    if (outcome.kind === 'failed') {
      ctx.logger.warn({ sessionId: s.sessionId, revision: s.revision, stationId: s.stationId, code: outcome.code, detail: outcome.detail }, 'session not priced: session.pricing_failed');
      const f = failureOf(catalogue, s, source, common, outcome);
      c.pending.failures.push(f.row);
      ctx.emit(f.event);
    } else {
      const sessionKey = s.sessionId.toLowerCase();
      if (c.withCdrs.has(sessionKey)) {
        // a correction: credit every CDR of this session that is not credited yet, as stored
        await flush(m, c.pending);
        const open: Array<{ cdr: OcpiCdr; audit: CdrAudit }> = await m.query(
          `select cdr, audit from cdrs c where session_id = $1 and not credit and revision < $2
             and not exists (select 1 from cdrs k where k.credit and k.credit_reference_id = c.cdr_id) order by revision`,
          [s.sessionId, s.revision],
        );
        for (const o of open) {
          const credit = creditCdrOf(o.cdr, { ...o.audit, sourceEvent: source }, s.endedAt);
          c.pending.cdrs.push(cdrRow(credit.cdr, credit.audit));
          ctx.emit(catalogue.create(CdrCreatedV2, { ...common, id: deriveId('cdr-created', credit.cdr.id), payload: credit as never }));
        }
      }
      if (outcome.audit.dataQuality) {
        ctx.logger.warn(
          { sessionId: s.sessionId, stationId: s.stationId, cdrId: outcome.cdr.id, missing: outcome.audit.dataQuality.missingLocationFields },
          'CDR priced with an incomplete cdr_location (LOCATION_INCOMPLETE): register the station location and connector types',
        );
      }
      c.pending.cdrs.push(cdrRow(outcome.cdr, outcome.audit));
      c.withCdrs.add(sessionKey);
      ctx.emit(outcome.event);
    }
    if (!ctx.scratch.has(CHUNK)) await flush(m, c.pending);
  };

  /**
   * The pricing of a revision failed for good outside the pricing function (the service's own SQL refused what
   * it wrote, retried 5 times, e.g. a CDR with a character PostgreSQL does not store): recorded as a pricing
   * failure (HANDLER_FAILED) in a transaction of its own instead of parking the session.ended. A revision that
   * was settled meanwhile is left as it is; if this fails too, the consumer parks the event.
   */
  const onGiveUp: GiveUpHandler = async (event, error, ctx) => {
    if (event.type !== 'session.ended') throw error;
    const s = (event as SessionEndedEvent).payload;
    const settled: unknown[] = await ctx.manager.query('select 1 from priced_sessions where session_id = $1 and revision = $2', [s.sessionId, s.revision]);
    if (settled.length > 0) return;
    const source: SourcePosition = { eventId: event.id, topic: ctx.position.topic, partition: ctx.position.partition, offset: ctx.position.offset };
    const e = error as { code?: unknown; message?: unknown };
    const detail = `${typeof e?.code === 'string' ? `${e.code}: ` : ''}${typeof e?.message === 'string' ? e.message : String(error)}`.slice(0, 2000);
    const f = failureOf(catalogue, s, source, commonOf(event, s), { code: SettleFailureCode.handlerFailed, detail });
    const priced = { session_id: s.sessionId, revision: s.revision, station_id: s.stationId, site_id: null, started_at: s.startedAt, ended_at: s.endedAt, session: s, source, outcome: 'failed' };
    await flush(ctx.manager, { priced: [priced], failures: [f.row], cdrs: [] });
    ctx.logger.error({ err: error, sessionId: s.sessionId, revision: s.revision }, 'session not priced (the service failed to record it): session.pricing_failed HANDLER_FAILED');
    ctx.emit(f.event);
  };

  return { handler, onChunkStart, onChunkEnd, onGiveUp };
}

/** The pricing handler alone (without the chunk hooks it reads and writes per session). */
export function makePricingHandler(catalogue: EventCatalogue, cfg: TariffServiceConfig): EventHandler {
  return makePricingConsumer(catalogue, cfg).handler;
}
