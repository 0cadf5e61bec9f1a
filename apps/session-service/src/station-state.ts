import { isDeepStrictEqual } from 'node:util';
import { isUnloaded, itemsOf, unload, type Chunk, type SessionState, type SessionsState } from '@csms/sessions';

/**
 * How a station's decider state is persisted so that writing it after a chunk costs little and the same whatever
 * the length of its sessions (the decider state itself is unchanged: `libs/sessions`).
 *
 * The long lists of a session (`readings`, `power`, `current`, `seqNos`, `sources`) are chunks of 32 that the
 * decider never mutates: appending copies only the last chunk (and the index), so every full chunk keeps its
 * object identity from one state to the next, and the items of the last chunk keep theirs when it is copied. The
 * service stores each chunk in **pieces of 8 items** (`PIECE`), each a row of `station_state_parts` written once
 * (again only if the decider replaced its items: an out-of-order reading rebuilds the chunks). The row
 * `station_state.state` holds the **head**: the state with, per list of an open session, only the items of the
 * last chunk not yet in a full piece (0–7), the number of chunks and of full pieces of the last chunk stored apart,
 * and the ids of the closed sessions. Each closed session (ended, kept for late messages) has its head in one row
 * written when it changes (its pieces stay where they were written while it was open). So a chunk of records writes
 * a head of about a kilobyte per open session plus the pieces it filled, not the whole history nor whole chunks.
 *
 * Rows of `station_state_parts`: list `<list>:<chunk>` idx `<piece>` (a piece), list `session` idx 0 (a closed
 * session's head), list `station` idx 0 (an open session's station facts, set at its start: `withoutStation`). Two
 * older forms are read as they are and stored in this form at their next write: a plain SessionsState (everything
 * in the row), and heads of the first split (`StateHeadV1`: the whole last chunk in the head, the earlier chunks
 * whole as rows list `<list>` idx `<chunk>`; those rows stay until the session is forgotten).
 */
export const CHUNKED_LISTS = ['readings', 'power', 'current', 'seqNos', 'sources'] as const;
type ListKey = (typeof CHUNKED_LISTS)[number];
type Chunks = Array<Chunk<unknown>>;
/** items per stored piece of a chunk */
export const PIECE = 8;

/** A list as a head counts it: [chunks of the decider (0 = empty list), full pieces of the last chunk stored apart]. */
type ListCount = [number, number];

/** Persisted form of `station_state.state`. */
export interface StateHead {
  v: 2;
  head: SessionsState;
  /** open session id → list → what is stored apart */
  out: Record<string, Partial<Record<ListKey, ListCount>>>;
  /** closed sessions stored in station_state_parts (list 'session'), in the order of `closed` */
  closedIds: string[];
}

/** The first split's head (read, never written): the whole last chunk in the head, `out` = whole chunks stored apart. */
export interface StateHeadV1 {
  head: SessionsState;
  out: Record<string, Partial<Record<ListKey, number>>>;
  closedIds: string[];
}

/** A closed session as stored (list 'session'): its head and what is stored apart of each list. */
interface ClosedHead {
  v: 2;
  session: SessionState;
  out: Partial<Record<ListKey, ListCount>>;
}
interface ClosedHeadV1 {
  session: SessionState;
  out: Partial<Record<ListKey, number>>;
}

/** A row of station_state_parts: a piece of a chunk of a session's list, or a closed session's head (list 'session', idx 0). */
export interface StatePart {
  session_id: string;
  list: string;
  idx: number;
  items: unknown;
}

/** What is stored of one list (object identities of the decider's chunks and items, compared when saving). */
interface StoredList {
  /** chunks stored apart whole (every piece): chunk i is `whole[i]` */
  whole: Chunks;
  /** the chunk after them as it was when saved, and how many of its first items are stored in full pieces */
  last?: Chunk<unknown>;
  lastStored: number;
}

/** What is already stored for a station. */
export interface Persisted {
  /** session id → list → what is stored apart (open and closed sessions) */
  lists: Map<string, Partial<Record<ListKey, StoredList>>>;
  closed: Map<string, SessionState>;
  /** open session id → its station facts as stored in their own row (list 'station') */
  stations: Map<string, unknown>;
}

export const emptyPersisted = (): Persisted => ({ lists: new Map(), closed: new Map(), stations: new Map() });

/**
 * An open session's station facts (the registry's, as the gateway answered its start: libs/sessions `station`, about
 * 0.5–1 KB) are set once and never change with its records: they go in a row of their own (list 'station'), written
 * when they are new, not in the head that is written after every chunk.
 */
function withoutStation(head: SessionState, before: Persisted, persisted: Persisted, parts: StatePart[]): SessionState {
  if (head.station === undefined) return head;
  const id = head.sessionId;
  if (before.stations.get(id) !== head.station)
    parts.push({ session_id: id, list: 'station', idx: 0, items: head.station });
  persisted.stations.set(id, head.station);
  return { ...head, station: undefined };
}

function listOf(s: SessionState, k: ListKey): Chunks {
  return s[k] as unknown as Chunks;
}

/** How many first items of `now` are the same objects as those stored of `was` (at most `stored`). */
function sameStored(was: Chunk<unknown> | undefined, stored: number, nowChunk: Chunk<unknown>): number {
  if (!was || !Array.isArray(was) || !Array.isArray(nowChunk)) return 0;
  const now = nowChunk;
  const n = Math.min(stored, now.length);
  for (let t = 0; t < n; t++) if (was[t] !== now[t]) return t;
  return n;
}

/** The pieces of chunk `i` from item `from` on that are to be written (`upTo` items: the whole chunk or its full pieces). */
function pushPieces(
  parts: StatePart[],
  sessionId: string,
  k: ListKey,
  i: number,
  chunk: Chunk<unknown>,
  from: number,
  upTo: number,
) {
  const c = itemsOf(chunk);
  for (let j = Math.floor(from / PIECE); j * PIECE < upTo; j++)
    parts.push({ session_id: sessionId, list: `${k}:${i}`, idx: j, items: c.slice(j * PIECE, (j + 1) * PIECE) });
}

/** One list: the pieces to write, its count for the head, what is then stored, and the items left in the head. */
function splitList(
  sessionId: string,
  k: ListKey,
  chunks: Chunks,
  was: StoredList | undefined,
  parts: StatePart[],
): { count: ListCount; now: StoredList; tail: Chunks } {
  const n = chunks.length;
  if (n === 0) return { count: [0, 0], now: { whole: [], lastStored: 0 }, tail: [] };
  const prevWhole = was?.whole ?? [];
  // The decider only appends to a list or makes all its chunks anew (an out-of-order item): when the first and the
  // last chunk stored whole are still the same objects, so are those between them, and only the chunks after them
  // are compared (a save costs the same at any length of the session)
  const p = prevWhole.length;
  const kept = p > 0 && p <= n - 1 && prevWhole[0] === chunks[0] && prevWhole[p - 1] === chunks[p - 1] ? p : 0;
  const whole: Chunks = kept === n - 1 ? prevWhole : chunks.slice(0, n - 1);
  for (let i = kept; i < n - 1; i++) {
    const c = chunks[i];
    if (prevWhole[i] === c) continue;
    // the chunk that was last at the previous save: its pieces already stored are kept if their items are the same
    const from = was && i === prevWhole.length ? sameStored(was.last, was.lastStored, c) : 0;
    pushPieces(parts, sessionId, k, i, c, from, c.length);
  }
  const i = n - 1;
  const c = chunks[i];
  const full = Math.floor(c.length / PIECE) * PIECE;
  let from = 0;
  if (was && i === prevWhole.length) from = sameStored(was.last, was.lastStored, c);
  else if (was && prevWhole[i] === c) from = full; // stored whole before (a list that shrank: not made by the decider)
  if (from < full) pushPieces(parts, sessionId, k, i, c, from, full);
  return {
    count: [n, full / PIECE],
    now: { whole, last: c, lastStored: full },
    tail: full < c.length ? [itemsOf(c).slice(full)] : [],
  };
}

/** A session without what is stored apart of its lists, the pieces to write, and what is then stored. */
function splitSession(
  s: SessionState,
  was: Partial<Record<ListKey, StoredList>>,
  parts: StatePart[],
): { head: SessionState; counts: Partial<Record<ListKey, ListCount>>; now: Partial<Record<ListKey, StoredList>> } {
  const now: Partial<Record<ListKey, StoredList>> = {};
  const counts: Partial<Record<ListKey, ListCount>> = {};
  const copy = { ...s } as unknown as Record<string, unknown>;
  for (const k of CHUNKED_LISTS) {
    const r = splitList(s.sessionId, k, listOf(s, k), was[k], parts);
    now[k] = r.now;
    counts[k] = r.count;
    copy[k] = r.tail;
  }
  return { head: copy as unknown as SessionState, counts, now };
}

/** Splits a state into its head and the parts not stored yet; `deletes` are sessions no longer kept (all their parts). */
export function splitState(
  state: SessionsState,
  before: Persisted,
): { head: StateHead; parts: StatePart[]; deletes: Array<{ session_id: string }>; persisted: Persisted } {
  const parts: StatePart[] = [];
  const persisted = emptyPersisted();
  const out: StateHead['out'] = {};
  const sessions = state.sessions.map((s) => {
    const split = splitSession(s, before.lists.get(s.sessionId) ?? {}, parts);
    persisted.lists.set(s.sessionId, split.now);
    out[s.sessionId] = split.counts;
    return withoutStation(split.head, before, persisted, parts);
  });
  const closedIds = Object.keys(state.closed);
  for (const id of closedIds) {
    const s = state.closed[id];
    const was = before.lists.get(id);
    if (before.closed.get(id) === s && was) {
      persisted.lists.set(id, was); // unchanged: nothing of it to write
    } else {
      const split = splitSession(s, was ?? {}, parts);
      const items: ClosedHead = { v: 2, session: split.head, out: split.counts };
      parts.push({ session_id: id, list: 'session', idx: 0, items });
      persisted.lists.set(id, split.now);
    }
    persisted.closed.set(id, s);
  }
  const deletes: Array<{ session_id: string }> = [];
  for (const id of before.lists.keys()) if (!persisted.lists.has(id)) deletes.push({ session_id: id });
  const head: SessionsState = {
    sessions,
    closed: {},
    byTransaction: state.byTransaction,
    byStartIdentity: state.byStartIdentity,
    connectors: state.connectors,
  };
  return { head: { v: 2, head, out, closedIds }, parts, deletes, persisted };
}

/** A session back from its head and its stored pieces. */
function joinSession(
  s: SessionState,
  counts: Partial<Record<ListKey, ListCount>>,
  byKey: Map<string, unknown>,
): { session: SessionState; now: Partial<Record<ListKey, StoredList>> } {
  const copy = { ...s } as unknown as Record<string, unknown>;
  const now: Partial<Record<ListKey, StoredList>> = {};
  const missing = (what: string): never => {
    throw new Error(`station state of ${s.stationId}: ${what} of session ${s.sessionId} is missing`);
  };
  for (const k of CHUNKED_LISTS) {
    const [n, full] = counts[k] ?? [0, 0];
    const chunks: Chunks = [];
    for (let i = 0; i < n - 1; i++) {
      const c: unknown[] = [];
      for (let j = 0; ; j++) {
        const p = byKey.get(`${s.sessionId}|${k}:${i}|${j}`) as unknown[] | undefined;
        if (p === undefined) break;
        c.push(...p);
      }
      if (c.length === 0) missing(`chunk ${i} of ${k}`);
      chunks.push(c);
    }
    if (n === 0) {
      now[k] = { whole: [], lastStored: 0 };
    } else {
      const last: unknown[] = [];
      for (let j = 0; j < full; j++) {
        const p = byKey.get(`${s.sessionId}|${k}:${n - 1}|${j}`) as unknown[] | undefined;
        if (p === undefined) missing(`piece ${j} of chunk ${n - 1} of ${k}`);
        last.push(...p!);
      }
      for (const tail of listOf(s, k)) last.push(...itemsOf(tail));
      now[k] = { whole: chunks.slice(), last, lastStored: full * PIECE };
      chunks.push(last);
    }
    copy[k] = chunks;
  }
  return { session: copy as unknown as SessionState, now };
}

/** The first split's session: its whole chunks stored apart, its last chunk in the head. Nothing counts as stored. */
function joinSessionV1(s: SessionState, counts: Partial<Record<ListKey, number>>, byKey: Map<string, unknown>) {
  const copy = { ...s } as unknown as Record<string, unknown>;
  for (const k of CHUNKED_LISTS) {
    const n = counts[k] ?? 0;
    const chunks: Chunks = [];
    for (let i = 0; i < n; i++) {
      const c = byKey.get(`${s.sessionId}|${k}|${i}`);
      if (c === undefined)
        throw new Error(`station state of ${s.stationId}: chunk ${i} of ${k} of session ${s.sessionId} is missing`);
      chunks.push(c as unknown[]);
    }
    copy[k] = [...chunks, ...listOf(s, k)];
  }
  return copy as unknown as SessionState;
}

/** The state back from its head and its stored parts (any order); the older forms are taken as they are. */
export function joinState(
  stored: StateHead | StateHeadV1 | SessionsState,
  parts: Iterable<StatePart>,
): { state: SessionsState; persisted: Persisted } {
  const persisted = emptyPersisted();
  if (!('head' in stored)) {
    // the whole state in the row; the next save stores every part once
    return { state: stored, persisted };
  }
  const byKey = new Map<string, unknown>();
  for (const p of parts) byKey.set(`${p.session_id}|${p.list}|${p.idx}`, p.items);
  const closed: SessionsState['closed'] = {};
  const closedHead = (id: string) => {
    const h = byKey.get(`${id}|session|0`) as ClosedHead | ClosedHeadV1 | undefined;
    if (h === undefined) throw new Error(`station state: closed session ${id} is missing`);
    return h;
  };
  if (!('v' in stored)) {
    // the first split: read as it is; nothing counts as stored, so the next save writes it all in this form
    const sessions = stored.head.sessions.map((s) => joinSessionV1(s, stored.out[s.sessionId] ?? {}, byKey));
    for (const id of stored.closedIds) {
      const h = closedHead(id) as ClosedHeadV1;
      closed[id] = joinSessionV1(h.session, h.out, byKey);
    }
    return { state: { ...stored.head, sessions, closed }, persisted };
  }
  const sessions = stored.head.sessions.map((s) => {
    const j = joinSession(s, stored.out[s.sessionId] ?? {}, byKey);
    persisted.lists.set(s.sessionId, j.now);
    const station = byKey.get(`${s.sessionId}|station|0`) as SessionState['station'];
    if (station !== undefined && j.session.station === undefined) {
      j.session.station = station;
      persisted.stations.set(s.sessionId, station);
    }
    return j.session;
  });
  for (const id of stored.closedIds) {
    const h = closedHead(id) as ClosedHead;
    const j = joinSession(h.session, h.out, byKey);
    closed[id] = j.session;
    persisted.lists.set(id, j.now);
    persisted.closed.set(id, j.session);
  }
  return { state: { ...stored.head, sessions, closed }, persisted };
}

/** Chunks of 32 items (a full chunk: what the decider fills before it starts the next). */
const FULL = 32;

/**
 * Holds, in the state kept in memory, the full chunks this save has stored whole without their items (libs/sessions
 * `StoredChunk`: the length; for the readings also the last item, and the first of the first chunk — what the
 * energy's running fold reads), and notes them as the ones stored: what an open session keeps in memory then grows
 * with its length by one small object per 32 items (two for the readings). The decider reads the in-order path from
 * the last chunk and those items of the others; when it needs the items of a chunk held without them (a session's end, an
 * out-of-order record, a revision) it throws `ChunkNotLoaded`, and the caller loads them (`loadUnloaded`) and decides
 * again. `prepare` (the decider's `prepareToUnload`) is given an open session before the first of its chunks is
 * unloaded, so that its next `session.updated` finds the energy of every full chunk folded already.
 *
 * The state is changed in place: its chunk lists are the decider's latest, owned by this state alone (the decider
 * copies a list's index to append), and a chunk held without its items means the same items. Walks back from the last
 * chunk stored whole to the first already unloaded: a save costs the chunks filled since the last one, not the
 * session's length.
 */
export function unloadStored(state: SessionsState, persisted: Persisted, prepare?: (s: SessionState) => void): void {
  const unloadSession = (s: SessionState, open: boolean) => {
    const lists = persisted.lists.get(s.sessionId);
    if (!lists) return;
    let prepared = !open || prepare === undefined;
    for (const k of CHUNKED_LISTS) {
      const stored = lists[k];
      if (!stored) continue;
      const chunks = listOf(s, k);
      for (let i = stored.whole.length - 1; i >= 0; i--) {
        const c = chunks[i];
        if (!Array.isArray(c)) break; // unloaded before, and so are those before it
        if (c !== stored.whole[i] || c.length !== FULL) continue;
        if (!prepared) {
          prepare!(s);
          prepared = true;
        }
        const u = unload(c, k !== 'readings' ? 'none' : i === 0 ? 'both' : 'last');
        chunks[i] = u;
        stored.whole[i] = u;
      }
    }
  };
  for (const s of state.sessions) unloadSession(s, true);
  for (const id of Object.keys(state.closed)) unloadSession(state.closed[id], false);
}

/** The sessions (open and closed) holding chunks without their items: those whose parts `loadUnloaded` needs. */
export function unloadedSessions(state: SessionsState): string[] {
  const out: string[] = [];
  const scan = (s: SessionState) => {
    if (CHUNKED_LISTS.some((k) => listOf(s, k).some((c) => isUnloaded(c)))) out.push(s.sessionId);
  };
  for (const s of state.sessions) scan(s);
  for (const id of Object.keys(state.closed)) scan(state.closed[id]);
  return out;
}

/**
 * Puts back, in place, the items of every chunk held without them (`unloadStored`) from the stored parts of its
 * session (the pieces of 8 its save wrote), checking that they are the chunk's (count, and the first and last item
 * where it kept them).
 */
export function loadUnloaded(state: SessionsState, persisted: Persisted, parts: Iterable<StatePart>): void {
  const byKey = new Map<string, unknown>();
  for (const p of parts) byKey.set(`${p.session_id}|${p.list}|${p.idx}`, p.items);
  const fill = (s: SessionState) => {
    const lists = persisted.lists.get(s.sessionId);
    for (const k of CHUNKED_LISTS) {
      const chunks = listOf(s, k);
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i];
        if (!isUnloaded(c)) continue;
        const items: unknown[] = [];
        for (let j = 0; ; j++) {
          const p = byKey.get(`${s.sessionId}|${k}:${i}|${j}`) as unknown[] | undefined;
          if (p === undefined) break;
          items.push(...p);
        }
        if (
          items.length !== c.length ||
          (c.first !== undefined && !isDeepStrictEqual(items[0], c.first)) ||
          (c.last !== undefined && !isDeepStrictEqual(items[items.length - 1], c.last))
        )
          throw new Error(
            `station state of ${s.stationId}: the stored chunk ${i} of ${k} of session ${s.sessionId} is not the one held (${items.length} of ${c.length} items)`,
          );
        chunks[i] = items;
        const stored = lists?.[k];
        if (stored && stored.whole[i] === c) stored.whole[i] = items;
      }
    }
  };
  for (const s of state.sessions) fill(s);
  for (const id of Object.keys(state.closed)) fill(state.closed[id]);
}
