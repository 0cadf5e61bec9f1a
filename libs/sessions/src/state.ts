import type { ChargingState, IdToken, OcppProtocol, StationAsAnswered } from '@csms/ocpp-normaliser';
import type { SessionClosure, SessionEndedPayload, SessionFlag, SignedReading, SourceRef } from './events';

/**
 * Append-mostly list stored as chunks of at most CHUNK items (plain, flat JSON: the service persists the
 * state). Appending copies one chunk and the chunk index, not the whole list, so folding a long session
 * stays cheap; earlier states keep their own chunks (nothing is mutated). A full chunk keeps its object identity
 * from one state to the next: the session service stores each full chunk once and compares identities.
 *
 * A full chunk before the last may be **stored apart** (`StoredChunk`: its length with its first and last item only;
 * the items are where the caller stored them). The
 * session service keeps the chunks it has stored this way, so that the states it keeps in memory between chunks of
 * records hold a few objects per 32 items instead of every item (what the garbage collector marks, and the memory of
 * the open sessions, then no longer grow with the sessions' length). The decider never makes one; it reads every
 * chunk through `itemsOf`, `firstOf` and `lastOf`, and the in-order path reads only the last chunk and the first and
 * last item of the others. Reading the items of a chunk stored without them throws `ChunkNotLoaded`: the caller
 * loads them back (the same items) and decides again — the decider is pure, so the retry gives what the first try
 * would have.
 */
export interface StoredChunk<T> {
  length: number;
  /** its first and last item, when the holder keeps them (`unload`): reading one it does not keep needs the items */
  first?: T;
  last?: T;
}
export type Chunk<T> = T[] | StoredChunk<T>;
export type Chunked<T> = Array<Chunk<T>>;
const CHUNK = 32;

/** A chunk held without its items (see `StoredChunk`). */
export const isUnloaded = <T>(c: Chunk<T>): c is StoredChunk<T> => !Array.isArray(c);

/** What `itemsOf` throws for a chunk held without its items: load them and decide again. */
export class ChunkNotLoaded extends Error {
  readonly code = 'CHUNK_NOT_LOADED';
  constructor() {
    super('the items of a stored chunk are not in memory');
  }
}

/** A chunk's items; a chunk held without them throws `ChunkNotLoaded`. */
export function itemsOf<T>(c: Chunk<T>): T[] {
  if (Array.isArray(c)) return c;
  throw new ChunkNotLoaded();
}

/** A chunk's first item; a chunk held without its items and without that one throws `ChunkNotLoaded`. */
export function firstOf<T>(c: Chunk<T>): T | undefined {
  if (Array.isArray(c)) return c[0];
  if (c.first === undefined) throw new ChunkNotLoaded();
  return c.first;
}
/** A chunk's last item; a chunk held without its items and without that one throws `ChunkNotLoaded`. */
export function lastOf<T>(c: Chunk<T>): T | undefined {
  if (Array.isArray(c)) return c[c.length - 1];
  if (c.last === undefined) throw new ChunkNotLoaded();
  return c.last;
}

/**
 * A full chunk held without its items (see `Chunked`): the caller has them stored. `keep` says which of its items it
 * keeps for `firstOf` and `lastOf` (the fewer, the fewer live objects): the decider's in-order path reads the first
 * item of a session's first chunk of readings and the last item of its other chunks of readings (the energy's
 * running fold), and no item of the other lists' chunks before the last.
 */
export function unload<T>(items: T[], keep: 'both' | 'last' | 'none' = 'both'): StoredChunk<T> {
  if (keep === 'none') return { length: items.length };
  if (keep === 'last') return { length: items.length, last: items[items.length - 1] };
  return { length: items.length, first: items[0], last: items[items.length - 1] };
}

export function chunkedToArray<T>(c: Chunked<T>): T[] {
  return c.length === 1 ? itemsOf(c[0]).slice() : ([] as T[]).concat(...c.map((x) => itemsOf(x)));
}

export function chunkedLast<T>(c: Chunked<T>): T | undefined {
  const last = c[c.length - 1];
  return last ? lastOf(last) : undefined;
}

export function chunkedAppend<T>(c: Chunked<T>, item: T): Chunked<T> {
  const last = c[c.length - 1];
  if (!last || last.length >= CHUNK) return [...c, [item]];
  const out = c.slice();
  out[out.length - 1] = [...itemsOf(last), item];
  return out;
}

function rechunk<T>(items: T[]): Chunked<T> {
  const out: Chunked<T> = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Inserts by ascending ms; keeps the list when an item at that ms is `same`. Other items at an equal ms are
 * kept in `order` when given (so the list does not depend on arrival order), else in arrival order.
 * O(chunk) when in order.
 */
export function chunkedInsert<T extends { ms: number }>(
  c: Chunked<T>,
  item: T,
  same: (x: T) => boolean,
  order?: (a: T, b: T) => number,
): Chunked<T> {
  const last = chunkedLast(c);
  if (!last || last.ms < item.ms) return chunkedAppend(c, item); // the usual case: in order
  const all = chunkedToArray(c);
  if (all.some((x) => x.ms === item.ms && same(x))) return c;
  let i = all.length;
  while (
    i > 0 &&
    (all[i - 1].ms > item.ms || (order !== undefined && all[i - 1].ms === item.ms && order(all[i - 1], item) > 0))
  )
    i--;
  all.splice(i, 0, item);
  return rechunk(all);
}

/** Visits items newest first until `visit` returns true (a stored chunk is read only when the visit gets to it). */
export function chunkedFindFromEnd<T>(c: Chunked<T>, visit: (x: T) => boolean): T | undefined {
  for (let k = c.length - 1; k >= 0; k--) {
    const chunk = itemsOf(c[k]);
    for (let i = chunk.length - 1; i >= 0; i--) if (visit(chunk[i])) return chunk[i];
  }
  return undefined;
}

/** A total active-import register reading (Wh, decimal string) at a station time. */
export interface EnergyReading {
  ms: number;
  at: string;
  wh: string;
  context: string;
}

export interface InstantReading {
  ms: number;
  value: string;
}

export interface StateChange {
  ms: number;
  at: string;
  state: ChargingState;
}

export interface SessionEnd {
  at: string;
  ms: number;
  receivedAtMs: number;
  meterStopWh?: string;
  reason?: string;
  stopIdToken?: IdToken;
  eventId: string;
}

export interface SessionState {
  sessionId: string;
  stationId: string;
  protocol: OcppProtocol;
  transactionId: string;
  /** other transactionIds of the same session (retried 1.6 StartTransaction) */
  aliases: string[];
  evseId?: number;
  connectorId?: number;
  connectorKey?: string;
  startKnown: boolean;
  startedAt: string;
  startedAtMs: number;
  /** 1.6 identity station+connector+meterStart+timestamp */
  startIdentity?: string;
  idToken?: IdToken;
  /** the registry's facts of the station when the gateway answered the start (absent: not recorded) */
  station?: StationAsAnswered;
  meterStartWh?: string;
  reservationId?: number;
  remoteStartId?: number;
  initialState?: ChargingState;
  end?: SessionEnd;
  readings: Chunked<EnergyReading>;
  power: Chunked<InstantReading>;
  current: Chunked<InstantReading>;
  states: StateChange[];
  /** 2.0.1: the seqNos seen, each with the source record id that first carried it */
  seqNos: Chunked<{ seqNo: number; eventId: string }>;
  seqCount: number;
  seqMin?: number;
  seqMax?: number;
  startSeqNo?: number;
  endSeqNo?: number;
  signed: SignedReading[];
  flags: SessionFlag[];
  /** in arrival order; may repeat an id that is not the last (deduplicated when published) */
  sources: Chunked<SourceRef>;
  lastEventMs: number;
  lastEventAt: string;
  lastReceivedMs: number;
  duplicatesIgnored: number;
  // bookkeeping of the public events (evolved from them)
  published: number;
  startedEmitted: boolean;
  lastUpdateMs?: number;
  lastUpdateState?: ChargingState;
  /** a session.updated(status incomplete) was emitted for the held end */
  heldIncomplete?: true;
  closure?: { rule: Exclude<SessionClosure, 'stop'>; endedAt: string; endedAtMs: number };
  /** the last session.ended published (compared with a recomputation when late messages arrive) */
  ended?: { revision: number; payload: SessionEndedPayload; receivedMs: number };
}

/** Copies a session with one fixed object shape (faster than a spread, whatever the source's hidden class). */
export function cloneSession(s: SessionState): SessionState {
  return {
    sessionId: s.sessionId,
    stationId: s.stationId,
    protocol: s.protocol,
    transactionId: s.transactionId,
    aliases: s.aliases,
    evseId: s.evseId,
    connectorId: s.connectorId,
    connectorKey: s.connectorKey,
    startKnown: s.startKnown,
    startedAt: s.startedAt,
    startedAtMs: s.startedAtMs,
    startIdentity: s.startIdentity,
    idToken: s.idToken,
    station: s.station,
    meterStartWh: s.meterStartWh,
    reservationId: s.reservationId,
    remoteStartId: s.remoteStartId,
    initialState: s.initialState,
    end: s.end,
    readings: s.readings,
    power: s.power,
    current: s.current,
    states: s.states,
    seqNos: s.seqNos,
    seqCount: s.seqCount,
    seqMin: s.seqMin,
    seqMax: s.seqMax,
    startSeqNo: s.startSeqNo,
    endSeqNo: s.endSeqNo,
    signed: s.signed,
    flags: s.flags,
    sources: s.sources,
    lastEventMs: s.lastEventMs,
    lastEventAt: s.lastEventAt,
    lastReceivedMs: s.lastReceivedMs,
    duplicatesIgnored: s.duplicatesIgnored,
    published: s.published,
    startedEmitted: s.startedEmitted,
    lastUpdateMs: s.lastUpdateMs,
    lastUpdateState: s.lastUpdateState,
    heldIncomplete: s.heldIncomplete,
    closure: s.closure,
    ended: s.ended,
  };
}

export interface ConnectorState {
  status: string;
  chargingState?: ChargingState;
  ms: number;
  openSessionId?: string;
}

/** The state of all sessions of one or more stations. Plain JSON: deep-equal comparable. */
export interface SessionsState {
  /** sessions not yet ended (open, or held incomplete): a few per station, so a list */
  sessions: SessionState[];
  /** sessions with a session.ended, kept for late messages until the retention rule forgets them */
  closed: Record<string, SessionState>;
  /** `${stationId}|${transactionId}` → sessionId */
  byTransaction: Record<string, string>;
  /** 1.6 start identity → sessionId */
  byStartIdentity: Record<string, string>;
  /** `${stationId}|${evseId}|${connectorId}` → connector */
  connectors: Record<string, ConnectorState>;
}

export const initialState = (): SessionsState => ({
  sessions: [],
  closed: {},
  byTransaction: {},
  byStartIdentity: {},
  connectors: {},
});

/** A session wherever it is kept: open/held sessions in `sessions`, sessions with a session.ended in `closed`. */
export function sessionOf(state: SessionsState, id: string): SessionState | undefined {
  for (const s of state.sessions) if (s.sessionId === id) return s;
  return state.closed[id];
}

/** A new state object with one fixed shape (object spreads of records fall into slow dictionary mode). */
export function withState(
  st: SessionsState,
  sessions: SessionState[],
  closed: SessionsState['closed'],
  byTransaction: SessionsState['byTransaction'] = st.byTransaction,
  byStartIdentity: SessionsState['byStartIdentity'] = st.byStartIdentity,
  connectors: SessionsState['connectors'] = st.connectors,
): SessionsState {
  return { sessions, closed, byTransaction, byStartIdentity, connectors };
}

/** Stores a session in the map its status belongs to (moving it from `sessions` to `closed` once ended). */
export function putSession(
  state: SessionsState,
  s: SessionState,
  byTransaction: SessionsState['byTransaction'] = state.byTransaction,
  byStartIdentity: SessionsState['byStartIdentity'] = state.byStartIdentity,
  connectors: SessionsState['connectors'] = state.connectors,
): SessionsState {
  const list = state.sessions;
  let i = -1;
  for (let k = 0; k < list.length; k++) if (list[k].sessionId === s.sessionId) i = k;
  if (s.ended) {
    const sessions = i < 0 ? list : list.filter((_, k) => k !== i);
    return withState(
      state,
      sessions,
      { ...state.closed, [s.sessionId]: s },
      byTransaction,
      byStartIdentity,
      connectors,
    );
  }
  let sessions: SessionState[];
  if (i < 0) sessions = [...list, s];
  else {
    sessions = list.slice();
    sessions[i] = s;
  }
  return withState(state, sessions, state.closed, byTransaction, byStartIdentity, connectors);
}

/** The charging state a session is in now: its last state change, else its initial state, else Charging. */
export function currentState(s: SessionState): ChargingState {
  return s.states.length > 0 ? s.states[s.states.length - 1].state : (s.initialState ?? 'Charging');
}
