import type { EntityManager } from 'typeorm';
import type {
  BillingEvent,
  BillingState,
  IssuedCdr,
  MeterKeyFact,
  SignaturePolicyFact,
  SourcePosition,
  StationFacts,
  TariffAssignment,
  TokenFacts,
} from '@csms/billing';
import type { CdrAudit, EventCatalogue, OcpiCdr, SessionEndedEvent } from '@csms/contracts';
import { insertRows, type RowColumn } from '@csms/platform';
import { deepFreeze } from '@csms/kernel';
import {
  allAssignments,
  catalogueRevision,
  meterKeysOf,
  signaturePolicies,
  stationsOf,
  tokensOf,
  versionsOf,
  type StoredVersion,
} from './catalogue';

type SessionEndedPayload = SessionEndedEvent['payload'];

/** The catalogue as the transaction sees it (read once per chunk of sessions). */
export interface CatalogueSnapshot {
  assignments: TariffAssignment[];
  versions: StoredVersion[];
  /** the meter keys and signed-meter-value policies (small: one row per write) */
  meterKeys: MeterKeyFact[];
  signaturePolicies: SignaturePolicyFact[];
}

/** Rows a chunk has settled and not written yet (written in one statement per table). */
export interface PendingWrites {
  priced: Array<Record<string, unknown>>;
  failures: Array<Record<string, unknown>>;
  cdrs: Array<Record<string, unknown>>;
}

/** What one chunk transaction read once for all its sessions, and what it will write at its end. */
export interface ChunkState {
  snapshot: CatalogueSnapshot;
  stations: Map<string, StationFacts | undefined>;
  tokens: Map<string, TokenFacts | undefined>;
  /** the billing state of each of the chunk's sessions (by lower-case session id), as stored plus what the chunk decided */
  sessions: Map<string, BillingState>;
  /**
   * sessions whose state holds a CDR decided in this chunk: a correction of one of them first writes what is
   * pending and reads the state back as stored, so that a credit CDR is made of the CDR as the table holds it
   * (the same bytes whether the correction comes in the same chunk or a later one)
   */
  fresh: Set<string>;
  pending: PendingWrites;
}

/** A stored session.ended of what-if's range, with the CDR billed for it (if any). */
export interface StoredEndedSession {
  session: SessionEndedPayload;
  source: SourcePosition;
  cdr: OcpiCdr | null;
}

export const sessionKey = (sessionId: string) => sessionId.toLowerCase();

const PRICED_COLUMNS: RowColumn[] = [
  'session_id',
  'revision',
  'station_id',
  'site_id',
  'started_at',
  'ended_at',
  { name: 'session', json: true },
  { name: 'source', json: true },
  'outcome',
];
const PRICED_CONFLICT = 'on conflict (session_id, revision) do nothing returning 1';
const FAILURE_COLUMNS: RowColumn[] = ['session_id', 'revision', 'station_id', 'code', 'detail', 'field', 'ended_at'];
const CDR_COLUMNS: RowColumn[] = [
  'cdr_id',
  'session_id',
  'revision',
  'station_id',
  'token_uid',
  'start_at',
  'end_at',
  'currency',
  'total_excl_vat',
  'total_incl_vat',
  'credit',
  'credit_reference_id',
  'tariff_id',
  'tariff_version',
  'content_hash',
  { name: 'cdr', json: true },
  { name: 'audit', json: true },
  'billing_account_id',
];

/**
 * The pricing consumer's reads and writes of the tariff service's tables (and what-if's reads of them): the
 * billing state of a session is its settled revisions (priced_sessions) and its CDRs not credited yet (cdrs),
 * the facts are the catalogue and registry projections. Every statement is parameterised.
 */
export class PricingStore {
  /**
   * The tariff versions and assignments as of a catalogue revision, frozen: the same revision has the same rows (the
   * two tables are append-only and every insert into them counts one), so a transaction that reads that revision
   * reads these, and their compiled tariffs (libs/billing `CompiledTariffs`, by object) carry over between chunks.
   */
  private tariffs?: { revision: string; assignments: TariffAssignment[]; versions: StoredVersion[] };

  constructor(private readonly catalogue: EventCatalogue) {}

  /**
   * The catalogue as this transaction sees it, and the meter keys of the given stations (all: undefined). The
   * versions and assignments are read again only when the catalogue's revision moved since the last read.
   */
  async catalogueSnapshot(m: EntityManager, stationIds?: readonly string[]): Promise<CatalogueSnapshot> {
    const { assignments, versions } = await this.catalogueTariffs(m);
    return {
      assignments,
      versions,
      meterKeys: await meterKeysOf(m, stationIds),
      signaturePolicies: await signaturePolicies(m),
    };
  }

  /**
   * The tariff versions and assignments as `m` sees them, frozen, read again only when the catalogue's revision moved
   * since the last read (one statement otherwise). The same two arrays while it stands, so a `CompiledTariffs` keeps
   * their selection index.
   */
  async catalogueTariffs(m: EntityManager): Promise<{ assignments: TariffAssignment[]; versions: StoredVersion[] }> {
    const revision = await catalogueRevision(m);
    if (this.tariffs?.revision !== revision) {
      // read after the revision: what a commit between the two added is re-read at the next read, never missed
      this.tariffs = {
        revision,
        assignments: deepFreeze(await allAssignments(m)),
        versions: deepFreeze(await versionsOf(m)),
      };
    }
    return this.tariffs;
  }

  stationsOf(m: EntityManager, stationIds: readonly string[]) {
    return stationsOf(m, stationIds);
  }

  tokensOf(m: EntityManager, uids: readonly string[]) {
    return tokensOf(m, uids);
  }

  /**
   * Reads, in a few statements, what the chunk's sessions need: the catalogue snapshot, their stations
   * and tokens, the revisions settled before and the CDRs not credited yet (a correction credits them).
   */
  async loadChunk(m: EntityManager, sessions: readonly SessionEndedPayload[]): Promise<ChunkState> {
    const stationIds = [...new Set(sessions.map((s) => s.stationId))];
    const snapshot = await this.catalogueSnapshot(m, stationIds);
    const uids = [...new Set(sessions.flatMap((s) => (s.idToken ? [s.idToken.idToken] : [])))];
    const sessionIds = [...new Set(sessions.map((s) => s.sessionId))];
    const stations = await stationsOf(m, stationIds);
    const tokens = await tokensOf(m, uids);
    return {
      snapshot,
      stations,
      tokens,
      sessions: await this.loadStates(m, sessionIds),
      fresh: new Set(),
      pending: { priced: [], failures: [], cdrs: [] },
    };
  }

  /** The billing state of each session as stored: the revisions settled, the CDRs not credited yet (as the table holds them). */
  async loadStates(m: EntityManager, sessionIds: readonly string[]): Promise<Map<string, BillingState>> {
    const states = new Map<string, { settled: number[]; cdrs: IssuedCdr[] }>();
    const stateOf = (id: string) => {
      let st = states.get(sessionKey(id));
      if (!st) states.set(sessionKey(id), (st = { settled: [], cdrs: [] }));
      return st;
    };
    if (sessionIds.length === 0) return states;
    const settled: Array<{ session_id: string; revision: number }> = await m.query(
      'select session_id::text, revision from priced_sessions where session_id = any($1::uuid[]) order by revision',
      [sessionIds],
    );
    for (const r of settled) stateOf(r.session_id).settled.push(r.revision);
    const open: Array<{ session_id: string; cdr: OcpiCdr; audit: CdrAudit; billing_account_id: string | null }> =
      await m.query(
        `select session_id::text, cdr, audit, billing_account_id from cdrs c where session_id = any($1::uuid[]) and not credit
         and not exists (select 1 from cdrs k where k.credit and k.credit_reference_id = c.cdr_id) order by revision`,
        [sessionIds],
      );
    for (const r of open)
      stateOf(r.session_id).cdrs.push({
        cdr: r.cdr,
        audit: r.audit,
        billingAccountId: r.billing_account_id,
        credited: false,
      });
    return states;
  }

  /** Whether a revision has an outcome already (committed). */
  async isSettled(m: EntityManager, sessionId: string, revision: number): Promise<boolean> {
    const rows: unknown[] = await m.query('select 1 from priced_sessions where session_id = $1 and revision = $2', [
      sessionId,
      revision,
    ]);
    return rows.length > 0;
  }

  /** The rows of what the decider emitted for a revision, added to `w`. */
  record(
    w: PendingWrites,
    s: SessionEndedPayload,
    source: SourcePosition,
    siteId: string | null,
    events: readonly BillingEvent[],
  ): void {
    const failed = events.find((e) => e.type === 'session.pricing_failed');
    w.priced.push({
      session_id: s.sessionId,
      revision: s.revision,
      station_id: s.stationId,
      site_id: siteId,
      started_at: s.startedAt,
      ended_at: s.endedAt,
      session: s,
      source,
      outcome: failed ? 'failed' : 'priced',
    });
    for (const e of events) {
      if (e.type === 'session.pricing_failed') {
        const f = (e as Extract<BillingEvent, { type: 'session.pricing_failed' }>).payload;
        w.failures.push({
          session_id: s.sessionId,
          revision: s.revision,
          station_id: s.stationId,
          code: f.code,
          detail: f.detail,
          field: f.field ?? null,
          ended_at: s.endedAt,
        });
      } else {
        const p = (e as Extract<BillingEvent, { type: 'cdr.created' }>).payload;
        w.cdrs.push(cdrRow(p.cdr, p.audit, p.billingAccountId));
      }
    }
  }

  /**
   * Writes what the chunk settled: one multi-row insert per table, each value a parameter (libs/platform
   * `insertRows`; the jsonb columns get the same values as from JSON.stringify of each object). A priced revision
   * that is already there (another transaction priced it since the chunk started) fails the chunk: the consumer
   * retries and this time the revision is seen as settled, so nothing is emitted twice.
   */
  async flush(m: EntityManager, w: PendingWrites): Promise<void> {
    if (w.priced.length > 0) {
      const inserted = await insertRows(m, 'priced_sessions', PRICED_COLUMNS, w.priced, PRICED_CONFLICT);
      if (inserted.length !== w.priced.length) {
        throw new Error(
          `${w.priced.length - inserted.length} session revision(s) were priced concurrently; the chunk is retried`,
        );
      }
    }
    if (w.failures.length > 0)
      await insertRows(m, 'pricing_failures', FAILURE_COLUMNS, w.failures, 'on conflict do nothing');
    if (w.cdrs.length > 0) await insertRows(m, 'cdrs', CDR_COLUMNS, w.cdrs, 'on conflict (cdr_id) do nothing');
    w.priced = [];
    w.failures = [];
    w.cdrs = [];
  }

  /**
   * What-if's sessions: the latest revision of each session that started in [from, to) (at a station or a
   * site), with the CDR billed for it (if any). Stored sessions from before session.ended v2 are read as v2,
   * as the consumer reads v1 records.
   */
  async endedSessionsInRange(
    m: EntityManager,
    q: { from: string; to: string; stationId?: string; siteId?: string; limit: number },
  ): Promise<StoredEndedSession[]> {
    const rows: Array<{ session: unknown; source: SourcePosition; cdr: OcpiCdr | null }> = await m.query(
      `select distinct on (p.session_id) p.session, p.source, c.cdr
         from priced_sessions p left join cdrs c on c.session_id = p.session_id and c.revision = p.revision and not c.credit
        where p.started_at >= $1 and p.started_at < $2
          and ($3::text is null or p.station_id = $3) and ($4::text is null or p.site_id = $4)
        order by p.session_id, p.revision desc limit $5`,
      [q.from, q.to, q.stationId ?? null, q.siteId ?? null, q.limit],
    );
    return rows.map((r) => ({ session: this.storedSession(r.session, r.source), source: r.source, cdr: r.cdr }));
  }

  /** A session.ended payload as stored in priced_sessions (v1 or v2), validated and brought to v2 by the catalogue. */
  private storedSession(payload: unknown, source: SourcePosition): SessionEndedPayload {
    const version = typeof payload === 'object' && payload !== null && 'energyTimelineResolution' in payload ? 2 : 1;
    const env = this.catalogue.parse({
      id: source.eventId,
      type: 'session.ended',
      version,
      occurredAt: (payload as { endedAt?: unknown }).endedAt,
      key: (payload as { sessionId?: unknown }).sessionId,
      source: 'session-service',
      causationId: null,
      correlationId: null,
      payload,
    });
    return (env as SessionEndedEvent).payload;
  }
}

function cdrRow(cdr: OcpiCdr, audit: CdrAudit, billingAccountId: string | null): Record<string, unknown> {
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
    billing_account_id: billingAccountId,
  };
}
