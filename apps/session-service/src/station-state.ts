import type { SessionState, SessionsState } from '@csms/sessions';

/**
 * How a station's decider state is persisted so that writing it after a chunk costs the same whatever the
 * length of its sessions (the decider state itself is unchanged: `libs/sessions`).
 *
 * The long lists of a session (`readings`, `power`, `current`, `seqNos`, `sources`) are chunks of 32 that the
 * decider never mutates: appending copies only the last chunk (and the index), so every full chunk keeps its
 * object identity from one state to the next. The row `station_state.state` holds the **head**: the state with
 * only the last chunk of each list of an open session, the number of chunks stored apart, and the ids of the
 * closed sessions. Each earlier chunk is a row of `station_state_parts` written once (again only if the decider
 * replaced it: an out-of-order reading rebuilds the chunks), and each closed session (ended, kept for late
 * messages) has its head in one row written when it changes (its chunks stay where they were written while it was
 * open). So a chunk of records writes the small head plus the chunks it filled, not the whole history.
 */
export const CHUNKED_LISTS = ['readings', 'power', 'current', 'seqNos', 'sources'] as const;
type ListKey = (typeof CHUNKED_LISTS)[number];
type Chunks = unknown[][];

/** Persisted form of `station_state.state` (a row in the older form is a plain SessionsState). */
export interface StateHead {
  head: SessionsState;
  /** open session id → list → number of chunks stored in station_state_parts (idx 0 .. n-1) */
  out: Record<string, Partial<Record<ListKey, number>>>;
  /** closed sessions stored in station_state_parts (list 'session'), in the order of `closed` */
  closedIds: string[];
}

/** A closed session as stored (list 'session'): its head and the number of chunks of each list stored apart. */
interface ClosedHead {
  session: SessionState;
  out: Partial<Record<ListKey, number>>;
}

/** A row of station_state_parts: a chunk of a session's list, or a closed session's head (list 'session', idx 0). */
export interface StatePart {
  session_id: string;
  list: string;
  idx: number;
  items: unknown;
}

/** What is already stored for a station (object identities of the decider's state, compared when saving). */
export interface Persisted {
  /** session id → list → the chunks stored apart (open and closed sessions) */
  lists: Map<string, Partial<Record<ListKey, Chunks>>>;
  closed: Map<string, SessionState>;
}

export const emptyPersisted = (): Persisted => ({ lists: new Map(), closed: new Map() });

function listOf(s: SessionState, k: ListKey): Chunks {
  return s[k] as unknown as Chunks;
}

/** A session without the full chunks of its lists, the chunks to write (those not stored yet), and what is then stored. */
function splitSession(
  s: SessionState,
  was: Partial<Record<ListKey, Chunks>>,
  parts: StatePart[],
): { head: SessionState; counts: Partial<Record<ListKey, number>>; now: Partial<Record<ListKey, Chunks>> } {
  const now: Partial<Record<ListKey, Chunks>> = {};
  const counts: Partial<Record<ListKey, number>> = {};
  const copy = { ...s } as unknown as Record<string, unknown>;
  for (const k of CHUNKED_LISTS) {
    const chunks = listOf(s, k);
    const n = Math.max(0, chunks.length - 1);
    const old = was[k] ?? [];
    for (let i = 0; i < n; i++)
      if (old[i] !== chunks[i]) parts.push({ session_id: s.sessionId, list: k, idx: i, items: chunks[i] });
    now[k] = chunks.slice(0, n);
    counts[k] = n;
    copy[k] = chunks.slice(n);
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
    return split.head;
  });
  const closedIds = Object.keys(state.closed);
  for (const id of closedIds) {
    const s = state.closed[id];
    const was = before.lists.get(id);
    if (before.closed.get(id) === s && was) {
      persisted.lists.set(id, was); // unchanged: nothing of it to write
    } else {
      const split = splitSession(s, was ?? {}, parts);
      const items: ClosedHead = { session: split.head, out: split.counts };
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
  return { head: { head, out, closedIds }, parts, deletes, persisted };
}

/** A session back from its head and its stored chunks. */
function joinSession(
  s: SessionState,
  counts: Partial<Record<ListKey, number>>,
  byKey: Map<string, unknown>,
): { session: SessionState; now: Partial<Record<ListKey, Chunks>> } {
  const copy = { ...s } as unknown as Record<string, unknown>;
  const now: Partial<Record<ListKey, Chunks>> = {};
  for (const k of CHUNKED_LISTS) {
    const n = counts[k] ?? 0;
    const chunks: Chunks = [];
    for (let i = 0; i < n; i++) {
      const c = byKey.get(`${s.sessionId}|${k}|${i}`);
      if (c === undefined)
        throw new Error(`station state of ${s.stationId}: chunk ${i} of ${k} of session ${s.sessionId} is missing`);
      chunks.push(c as unknown[]);
    }
    now[k] = chunks.slice();
    copy[k] = [...chunks, ...listOf(s, k)];
  }
  return { session: copy as unknown as SessionState, now };
}

/** The state back from its head and its stored parts (any order); a plain SessionsState row is taken as it is. */
export function joinState(
  stored: StateHead | SessionsState,
  parts: Iterable<StatePart>,
): { state: SessionsState; persisted: Persisted } {
  const persisted = emptyPersisted();
  if (!('head' in stored)) {
    // the older form: everything in the row; the next save stores every part once
    return { state: stored, persisted };
  }
  const byKey = new Map<string, unknown>();
  for (const p of parts) byKey.set(`${p.session_id}|${p.list}|${p.idx}`, p.items);
  const sessions = stored.head.sessions.map((s) => {
    const j = joinSession(s, stored.out[s.sessionId] ?? {}, byKey);
    persisted.lists.set(s.sessionId, j.now);
    return j.session;
  });
  const closed: SessionsState['closed'] = {};
  for (const id of stored.closedIds) {
    const h = byKey.get(`${id}|session|0`) as ClosedHead | undefined;
    if (h === undefined) throw new Error(`station state: closed session ${id} is missing`);
    const j = joinSession(h.session, h.out, byKey);
    closed[id] = j.session;
    persisted.lists.set(id, j.now);
    persisted.closed.set(id, j.session);
  }
  return { state: { ...stored.head, sessions, closed }, persisted };
}
