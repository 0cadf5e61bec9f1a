import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { insertRows, type RowColumn } from '@csms/platform';
import type { ChargerEvent } from '@csms/ocpp-normaliser';
import type { Chunk, SessionDeciderEvent, SessionState, SessionsState } from '@csms/sessions';
import type { SessionEndedEvent, SessionStartedEvent, SessionUpdatedEvent } from '@csms/contracts';

import {
  CHUNKED_LISTS,
  joinState,
  loadUnloaded,
  splitState,
  unloadedSessions,
  unloadStored,
  type Persisted,
  type StateHead,
  type StateHeadV1,
  type StatePart,
} from './station-state';

export type PublicSessionEnvelope = SessionStartedEvent | SessionUpdatedEvent | SessionEndedEvent;

/** A station's decider state as the handler holds it, with what is already stored of it (see station-state.ts). */
export interface LoadedStation {
  state: SessionsState;
  persisted: Persisted;
}

/** What the kept states may hold together: stations, and list items (readings, power, current, seqNos, sources). */
export interface StateCacheLimits {
  stations: number;
  items: number;
}

/**
 * The list items a station's state holds in memory (its open and kept closed sessions): a chunk held without its
 * items counts 2 (its first and last). Walks each list back to its first chunk held without items (those before it
 * are too, but after a load): the cost of the chunks filled since the last save.
 */
export function stateItems(state: SessionsState): number {
  let n = 0;
  const count = (s: SessionsState['sessions'][number]) => {
    for (const k of CHUNKED_LISTS) {
      const chunks = s[k] as unknown as Array<Chunk<unknown>>;
      for (let i = chunks.length - 1; i >= 0; i--) {
        const c = chunks[i];
        if (Array.isArray(c)) n += c.length;
        else {
          n += 2 * (i + 1);
          break;
        }
      }
    }
  };
  for (const s of state.sessions) count(s);
  for (const s of Object.values(state.closed)) count(s);
  return n;
}

/**
 * The stations' states kept in memory between chunks, least recently used dropped first when there are more than
 * `limits.stations` of them or they hold more than `limits.items` list items together (the memory a state takes grows
 * with its sessions' readings). Each entry carries the token of the write that stored it.
 */
export class StateCache<T> {
  private readonly entries = new Map<string, { token: string; value: T; items: number }>();
  private items = 0;

  constructor(private readonly limits: StateCacheLimits) {}

  /** The value kept for the station if it was kept with this token (and it becomes the most recently used). */
  take(stationId: string, token: string | null): T | undefined {
    const e = this.entries.get(stationId);
    if (!e || token === null || e.token !== token) return undefined;
    this.entries.delete(stationId);
    this.entries.set(stationId, e);
    return e.value;
  }

  put(stationId: string, token: string, value: T, items: number): void {
    this.drop(stationId);
    this.entries.set(stationId, { token, value, items });
    this.items += items;
  }

  /** Drops the least recently used until within the limits. */
  trim(): void {
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.limits.stations && this.items <= this.limits.items) break;
      this.drop(id);
    }
  }

  get size(): { stations: number; items: number } {
    return { stations: this.entries.size, items: this.items };
  }

  private drop(stationId: string): void {
    const e = this.entries.get(stationId);
    if (!e) return;
    this.entries.delete(stationId);
    this.items -= e.items;
  }
}

/**
 * The decider states of the stations, stored as a small head per station (`station_state`) and parts written
 * once (`station_state_parts`), and kept in memory between chunks (`StateCache`: within a number of stations and
 * of list items, least recently used dropped). Each write stamps the row with a token unique to this process and
 * write; a station is taken from memory only when its row still carries the token this process wrote, so a write
 * of another instance (after a rebalance) or a rolled-back chunk is never missed: the state is then read from the
 * database.
 */
export class StationStateStore {
  private readonly cache: StateCache<LoadedStation>;
  private readonly process = randomUUID();
  private writes = 0;

  constructor(limits: StateCacheLimits = { stations: 2000, items: Number.POSITIVE_INFINITY }) {
    this.cache = new StateCache(limits);
  }

  /** The states of some stations (absent: none stored), their rows locked for the rest of the transaction (in a stable order). */
  async load(m: EntityManager, stationIds: readonly string[]): Promise<Map<string, LoadedStation>> {
    const ids = [...new Set(stationIds)].sort();
    const out = new Map<string, LoadedStation>();
    if (ids.length === 0) return out;
    const rows: Array<{ station_id: string; token: string | null }> = await m.query(
      'select station_id, token from station_state where station_id = any($1::text[]) order by station_id for update',
      [ids],
    );
    const misses: string[] = [];
    for (const r of rows) {
      const kept = this.cache.take(r.station_id, r.token);
      if (kept) out.set(r.station_id, kept);
      else misses.push(r.station_id);
    }
    if (misses.length > 0) {
      const heads: Array<{ station_id: string; state: StateHead | StateHeadV1 | SessionsState }> = await m.query(
        'select station_id, state from station_state where station_id = any($1::text[])',
        [misses],
      );
      const parts: Array<StatePart & { station_id: string }> = await m.query(
        'select station_id, session_id, list, idx, items from station_state_parts where station_id = any($1::text[])',
        [misses],
      );
      const partsOf = new Map<string, StatePart[]>();
      for (const p of parts) {
        let l = partsOf.get(p.station_id);
        if (!l) partsOf.set(p.station_id, (l = []));
        l.push(p);
      }
      for (const h of heads) out.set(h.station_id, joinState(h.state, partsOf.get(h.station_id) ?? []));
    }
    return out;
  }

  /**
   * Puts back the items of the chunks a station's state holds without them (see `unloadStored`), from its stored
   * parts: when the decider needs them (`ChunkNotLoaded`: a session's end, an out-of-order record, a revision).
   */
  async loadUnloaded(m: EntityManager, stationId: string, station: LoadedStation): Promise<void> {
    const sessions = unloadedSessions(station.state);
    if (sessions.length === 0) return;
    const parts: StatePart[] = await m.query(
      `select session_id, list, idx, items from station_state_parts
        where station_id = $1 and session_id = any($2::text[]) and list like '%:%'`,
      [stationId, sessions],
    );
    loadUnloaded(station.state, station.persisted, parts);
    this.loads++;
  }

  /** How many times a state's unloaded chunks were read back (`loadUnloaded`). */
  loads = 0;

  /**
   * Writes the states (heads in one statement, new parts in one, stale parts deleted) and keeps them in memory, the
   * chunks stored whole held without their items (`prepare`: the decider's `prepareToUnload`).
   */
  async save(
    m: EntityManager,
    states: ReadonlyArray<{ stationId: string; station: LoadedStation; lastEventAt: string; records: number }>,
    prepare?: (s: SessionState) => void,
  ): Promise<void> {
    if (states.length === 0) return;
    const ids: string[] = [];
    const heads: string[] = [];
    const tokens: string[] = [];
    const parts: Array<StatePart & { station_id: string }> = [];
    const deletes: Array<{ station_id: string; session_id: string }> = [];
    const saved: Array<{ stationId: string; token: string; station: LoadedStation }> = [];
    for (const s of states) {
      const split = splitState(s.station.state, s.station.persisted);
      const token = `${this.process}:${++this.writes}`;
      ids.push(s.stationId);
      heads.push(JSON.stringify(split.head));
      tokens.push(token);
      for (const p of split.parts) parts.push({ station_id: s.stationId, ...p });
      for (const d of split.deletes) deletes.push({ station_id: s.stationId, ...d });
      saved.push({ stationId: s.stationId, token, station: { state: s.station.state, persisted: split.persisted } });
    }
    if (deletes.length > 0) {
      await m.query(
        `delete from station_state_parts p using jsonb_to_recordset($1::jsonb) as d(station_id text, session_id text)
          where p.station_id = d.station_id and p.session_id = d.session_id`,
        [JSON.stringify(deletes)],
      );
    }
    if (parts.length > 0) {
      await m.query(
        `insert into station_state_parts (station_id, session_id, list, idx, items)
         select station_id, session_id, list, idx, items from jsonb_to_recordset($1::jsonb) as p(station_id text, session_id text, list text, idx integer, items jsonb)
         on conflict (station_id, session_id, list, idx) do update set items = excluded.items`,
        [JSON.stringify(parts)],
      );
    }
    // each head its own parameter (JSON text): not escaped into a jsonb[] array literal, which node-postgres builds
    // by concatenation and then flattens (a fifth of a replay's CPU in profiles)
    await insertRows(
      m,
      'station_state',
      STATION_STATE_COLUMNS,
      states.map((s, i) => ({
        station_id: ids[i],
        state: heads[i],
        last_event: s.lastEventAt,
        records: s.records,
        token: tokens[i],
      })),
      `on conflict (station_id) do update set state = excluded.state, token = excluded.token,
         last_event = greatest(station_state.last_event, excluded.last_event), records = station_state.records + excluded.records`,
    );
    for (const s of saved) {
      // what is now stored whole is held without its items (memory that does not grow with the sessions' length)
      unloadStored(s.station.state, s.station.persisted, prepare);
      this.cache.put(s.stationId, s.token, s.station, stateItems(s.station.state));
    }
    this.cache.trim();
  }
}

const STATION_STATE_COLUMNS: RowColumn[] = ['station_id', 'state', 'last_event', 'records', 'token'];

/** One row of the `sessions` read model as a chunk's events leave it (null = not stated by this chunk). */
export interface SessionRow {
  session_id: string;
  station_id: string;
  transaction_id: string;
  protocol: string;
  evse_id: number | null;
  connector_id: number | null;
  id_token: string | null;
  status: string | null;
  started_at: string;
  ended_at: string | null;
  energy_wh: string | null;
  revision: number;
  needs_review: boolean | null;
  started: unknown;
  latest: unknown;
  ended: unknown;
}

/** Folds a public session event into the in-memory row of its session (same rules as the SQL merge below). */
export function foldIntoRow(rows: Map<string, SessionRow>, e: PublicSessionEnvelope): void {
  const p = e.payload;
  let r = rows.get(p.sessionId);
  if (!r) {
    r = {
      session_id: p.sessionId,
      station_id: p.stationId,
      transaction_id: p.transactionId,
      protocol: p.protocol,
      evse_id: p.evseId ?? null,
      connector_id: p.connectorId ?? null,
      id_token: null,
      status: null,
      started_at: p.startedAt,
      ended_at: null,
      energy_wh: null,
      revision: 0,
      needs_review: null,
      started: null,
      latest: null,
      ended: null,
    };
    rows.set(p.sessionId, r);
  }
  if (e.type === 'session.started') {
    r.started = e.payload;
    r.started_at = e.payload.startedAt;
    r.id_token = e.payload.idToken?.idToken ?? r.id_token;
    if (r.status === null) r.status = 'active';
    r.latest = r.latest ?? e.payload;
  } else if (e.type === 'session.updated') {
    if (r.status !== 'ended') {
      r.status = e.payload.status;
      r.energy_wh = e.payload.energyWh;
    }
    r.latest = e.payload;
  } else if (e.payload.revision > r.revision) {
    r.status = 'ended';
    r.started_at = e.payload.startedAt;
    r.ended_at = e.payload.endedAt;
    r.energy_wh = e.payload.totals.energyWh;
    r.revision = e.payload.revision;
    r.needs_review = e.payload.dataQuality.needsReview;
    r.id_token = r.id_token ?? e.payload.idToken?.idToken ?? null;
    r.latest = e.payload;
    r.ended = e.payload;
  }
}

/**
 * Writes the rows a chunk produced in one statement, merged with what earlier chunks wrote:
 * an ended session stays ended unless a higher revision arrives; a later chunk's facts win otherwise.
 */
export async function saveSessionRows(m: EntityManager, rows: Iterable<SessionRow>): Promise<void> {
  const list = [...rows];
  if (list.length === 0) return;
  await m.query(
    `insert into sessions (session_id, station_id, transaction_id, protocol, evse_id, connector_id, id_token, status, started_at, ended_at,
                           energy_wh, revision, needs_review, started, latest, ended)
     select session_id, station_id, transaction_id, protocol, evse_id, connector_id, id_token, coalesce(status, 'active'), started_at, ended_at,
            energy_wh, revision, coalesce(needs_review, false), started, latest, ended
       from jsonb_populate_recordset(null::sessions, $1::jsonb)
     on conflict (session_id) do update set
       id_token     = coalesce(sessions.id_token, excluded.id_token),
       started      = coalesce(excluded.started, sessions.started),
       started_at   = case when excluded.revision > sessions.revision or excluded.started is not null then excluded.started_at else sessions.started_at end,
       status       = case when excluded.revision > sessions.revision then 'ended' when sessions.status = 'ended' then 'ended' else excluded.status end,
       energy_wh    = case when excluded.revision > sessions.revision then excluded.energy_wh when sessions.status = 'ended' then sessions.energy_wh
                           else coalesce(excluded.energy_wh, sessions.energy_wh) end,
       ended_at     = case when excluded.revision > sessions.revision then excluded.ended_at else sessions.ended_at end,
       needs_review = case when excluded.revision > sessions.revision then excluded.needs_review else sessions.needs_review end,
       ended        = case when excluded.revision > sessions.revision then excluded.ended else sessions.ended end,
       revision     = greatest(sessions.revision, excluded.revision),
       latest       = coalesce(excluded.latest, sessions.latest)`,
    [JSON.stringify(list)],
  );
}

/** A meter sample applied to a session (session_readings). */
export interface ReadingRow {
  session_id: string;
  event_id: string;
  occurred_at: string;
  received_at: string;
  source_event_id: string;
  source_topic: string | null;
  source_partition: number | null;
  source_offset: string | null;
  samples: unknown;
}

/** An inbound record a session used (session_sources). Records without a log position (none in the service) are not kept. */
export interface SourceRow {
  session_id: string;
  event_id: string;
  topic: string;
  partition: number;
  log_offset: string;
}

export interface DetailRows {
  readings: Map<string, ReadingRow>;
  sources: Map<string, SourceRow>;
}

function addSource(d: DetailRows, sessionId: string, fact: ChargerEvent): void {
  const { eventId, topic, partition, offset } = fact.source;
  if (topic === undefined || partition === undefined || offset === undefined) return;
  const k = `${sessionId}|${eventId}`;
  if (!d.sources.has(k))
    d.sources.set(k, { session_id: sessionId, event_id: eventId, topic, partition, log_offset: offset });
}

/**
 * The detail rows of one decided event: a record is a source of a session when the decider recorded a fact of
 * it for that session (or aliased its transaction to it), the rule the session's `sources` follow; a reading is
 * a `meter.sampled` fact recorded for a session. A reading's row names the record that carried it, position
 * included, so that record gets no `session_sources` row for this fact: the sources the API lists are the union
 * of both tables (`SESSION_SOURCES` below). Most of a session's records are MeterValues; each was written twice.
 */
export function foldIntoDetail(d: DetailRows, e: SessionDeciderEvent): void {
  if (e.type === 'session.transaction.aliased') return addSource(d, e.sessionId, e.fact);
  if (e.type !== 'session.fact.recorded' || e.sessionId === undefined) return;
  const f = e.fact;
  if (f.type !== 'meter.sampled') return addSource(d, e.sessionId, f);
  const k = `${e.sessionId}|${f.eventId}`;
  if (d.readings.has(k)) return;
  d.readings.set(k, {
    session_id: e.sessionId,
    event_id: f.eventId,
    occurred_at: f.occurredAt,
    received_at: f.receivedAt,
    source_event_id: f.source.eventId,
    source_topic: f.source.topic ?? null,
    source_partition: f.source.partition ?? null,
    source_offset: f.source.offset ?? null,
    samples: f.samples,
  });
}

/**
 * Every inbound record a session used, with its log position: the `session_sources` rows and the records that
 * carried its readings (`session_readings` names them; rows written before 2026-12-06 night are in both tables, and
 * `union` lists each once). A query's `from`, with the columns `session_id, event_id, topic, partition, log_offset`;
 * PostgreSQL pushes a filter on them into both branches.
 */
export const SESSION_SOURCES = `(
  select session_id, event_id, topic, partition, log_offset from session_sources
  union
  select session_id, source_event_id, source_topic, source_partition, source_offset from session_readings
   where source_topic is not null and source_partition is not null and source_offset is not null
) as sources`;

/** Writes a chunk's detail rows (one statement per table); a row already there (a replay) is kept as it is. */
export async function saveDetailRows(m: EntityManager, d: DetailRows): Promise<void> {
  if (d.readings.size > 0) {
    await m.query(
      `insert into session_readings (session_id, event_id, occurred_at, received_at, source_event_id, source_topic, source_partition, source_offset, samples)
       select session_id, event_id, occurred_at, received_at, source_event_id, source_topic, source_partition, source_offset, samples
         from jsonb_populate_recordset(null::session_readings, $1::jsonb)
       on conflict do nothing`,
      [JSON.stringify([...d.readings.values()])],
    );
  }
  if (d.sources.size > 0) {
    await m.query(
      `insert into session_sources (session_id, event_id, topic, partition, log_offset)
       select session_id, event_id, topic, partition, log_offset from jsonb_populate_recordset(null::session_sources, $1::jsonb)
       on conflict do nothing`,
      [JSON.stringify([...d.sources.values()])],
    );
  }
}
