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
 * messages) is one row written when it changes. So a chunk of records writes the small head plus the chunks it
 * filled, not the whole history.
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

/** A row of station_state_parts: a chunk of an open session's list, or a whole closed session (list 'session', idx 0). */
export interface StatePart {
  session_id: string;
  list: string;
  idx: number;
  items: unknown;
}

/** What is already stored for a station (object identities of the decider's state, compared when saving). */
export interface Persisted {
  open: Map<string, Partial<Record<ListKey, Chunks>>>;
  closed: Map<string, SessionState>;
}

export const emptyPersisted = (): Persisted => ({ open: new Map(), closed: new Map() });

function listOf(s: SessionState, k: ListKey): Chunks {
  return s[k] as unknown as Chunks;
}

/** Splits a state into its head and the parts not stored yet; `deletes` are sessions whose parts are stale. */
export function splitState(
  state: SessionsState,
  before: Persisted,
): { head: StateHead; parts: StatePart[]; deletes: Array<{ session_id: string; list: 'lists' | 'session' }>; persisted: Persisted } {
  const parts: StatePart[] = [];
  const deletes: Array<{ session_id: string; list: 'lists' | 'session' }> = [];
  const persisted = emptyPersisted();
  const out: StateHead['out'] = {};
  const sessions = state.sessions.map((s) => {
    const was = before.open.get(s.sessionId) ?? {};
    const now: Partial<Record<ListKey, Chunks>> = {};
    const counts: Partial<Record<ListKey, number>> = {};
    const copy = { ...s } as unknown as Record<string, unknown>;
    for (const k of CHUNKED_LISTS) {
      const chunks = listOf(s, k);
      const n = Math.max(0, chunks.length - 1);
      const old = was[k] ?? [];
      for (let i = 0; i < n; i++) if (old[i] !== chunks[i]) parts.push({ session_id: s.sessionId, list: k, idx: i, items: chunks[i] });
      now[k] = chunks.slice(0, n);
      counts[k] = n;
      copy[k] = chunks.slice(n);
    }
    persisted.open.set(s.sessionId, now);
    out[s.sessionId] = counts;
    return copy as unknown as SessionState;
  });
  for (const id of before.open.keys()) if (!persisted.open.has(id)) deletes.push({ session_id: id, list: 'lists' });
  const closedIds = Object.keys(state.closed);
  for (const id of closedIds) {
    const s = state.closed[id];
    if (before.closed.get(id) !== s) parts.push({ session_id: id, list: 'session', idx: 0, items: s });
    persisted.closed.set(id, s);
  }
  for (const id of before.closed.keys()) if (!persisted.closed.has(id)) deletes.push({ session_id: id, list: 'session' });
  const head: SessionsState = { sessions, closed: {}, byTransaction: state.byTransaction, byStartIdentity: state.byStartIdentity, connectors: state.connectors };
  return { head: { head, out, closedIds }, parts, deletes, persisted };
}

/** The state back from its head and its stored parts (any order); a plain SessionsState row is taken as it is. */
export function joinState(stored: StateHead | SessionsState, parts: Iterable<StatePart>): { state: SessionsState; persisted: Persisted } {
  const persisted = emptyPersisted();
  if (!('head' in stored)) {
    // the older form: everything in the row; the next save stores every part once
    return { state: stored, persisted };
  }
  const byKey = new Map<string, unknown>();
  for (const p of parts) byKey.set(`${p.session_id}|${p.list}|${p.idx}`, p.items);
  const sessions = stored.head.sessions.map((s) => {
    const counts = stored.out[s.sessionId] ?? {};
    const copy = { ...s } as unknown as Record<string, unknown>;
    const now: Partial<Record<ListKey, Chunks>> = {};
    for (const k of CHUNKED_LISTS) {
      const n = counts[k] ?? 0;
      const chunks: Chunks = [];
      for (let i = 0; i < n; i++) {
        const c = byKey.get(`${s.sessionId}|${k}|${i}`);
        if (c === undefined) throw new Error(`station state of ${s.stationId}: chunk ${i} of ${k} of session ${s.sessionId} is missing`);
        chunks.push(c as unknown[]);
      }
      now[k] = chunks.slice();
      copy[k] = [...chunks, ...listOf(s, k)];
    }
    persisted.open.set(s.sessionId, now);
    return copy as unknown as SessionState;
  });
  const closed: SessionsState['closed'] = {};
  for (const id of stored.closedIds) {
    const s = byKey.get(`${id}|session|0`) as SessionState | undefined;
    if (s === undefined) throw new Error(`station state: closed session ${id} is missing`);
    closed[id] = s;
    persisted.closed.set(id, s);
  }
  return { state: { ...stored.head, sessions, closed }, persisted };
}
