import type { ChargerEvent, ChargingState, NormalisedSample, TransactionEventInfo } from '@csms/ocpp-normaliser';
import { DEFAULT_SESSION_CONFIG, type SessionDeciderConfig } from './config';
import {
  REVIEW_FLAGS,
  type PublicSessionEvent,
  type SessionClosure,
  type SessionDeciderEvent,
  type SessionEnded,
  type SessionEndedPayload,
  type SessionFlag,
  type SessionStarted,
  type SessionUpdated,
  type SourceRef,
} from './events';
import { chunkedAppend, chunkedFindFromEnd, chunkedInsert, chunkedLast, chunkedToArray, cloneSession, initialState, type EnergyReading, type InstantReading, type SessionState, type SessionsState, type StateChange } from './state';
import { fastUuidV5, uuidNamespace } from './uuid-v5';
import { boundedDetail, chargingPeriods, compareDecimal, computeEnergy, decimalsOf, fromFixed, toDecimal, toFixed, totals } from './summary';

/** Namespaces of the name-based ids. */
export const SESSION_NAMESPACE = 'b7d4c1e2-3f5a-5c8b-9d0e-1a2b3c4d5e6f';
export const SESSION_EVENT_NAMESPACE = 'c8e5d2f3-4a6b-5d9c-8e1f-2b3c4d5e6f70';
// parsed once: uuid's v5 would parse a string namespace on every call
const SESSION_NS = uuidNamespace(SESSION_NAMESPACE);
const SESSION_EVENT_NS = uuidNamespace(SESSION_EVENT_NAMESPACE);

/** The session id of a transaction: UUID v5 of `${stationId}|${transactionId}` (the first transactionId seen). */
export const sessionIdOf = (stationId: string, transactionId: string): string => fastUuidV5(`${stationId}|${transactionId}`, SESSION_NS);

export type SessionCommand =
  /**
   * fold the charger events normalised from ONE inbound record (a 2.0.1 TransactionEvent gives several);
   * public events are decided once, after all of them are applied
   */
  | { type: 'RecordChargerEvents'; events: ChargerEvent[] }
  /** fold one normalised charger event (a record that gave a single event) */
  | { type: 'RecordChargerEvent'; event: ChargerEvent }
  /**
   * apply the time-based closing rules at `now` (event time, e.g. the receivedAt of the newest inbound
   * record the service consumed; never the wall clock)
   */
  | { type: 'CloseStaleSessions'; now: string };

export interface Decider<Command, State, Event> {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
}

/** Epoch ms of an instant; fast path for the canonical `YYYY-MM-DDTHH:mm:ss.sssZ` the normaliser emits. */
function digits(iso: string, a: number, b: number): number {
  let v = 0;
  for (let i = a; i < b; i++) v = v * 10 + iso.charCodeAt(i) - 48;
  return v;
}

let lastIso = '';
let lastMs = 0;

function ms(iso: string): number {
  if (iso === lastIso) return lastMs;
  lastIso = iso;
  lastMs = parseMs(iso);
  return lastMs;
}

function parseMs(iso: string): number {
  if (iso.length === 24 && iso.charCodeAt(23) === 90 /* Z */ && iso.charCodeAt(10) === 84 /* T */) {
    const y = digits(iso, 0, 4);
    const mo = digits(iso, 5, 7);
    const d = digits(iso, 8, 10);
    const h = digits(iso, 11, 13);
    const mi = digits(iso, 14, 16);
    const sec = digits(iso, 17, 19);
    const f = digits(iso, 20, 23);
    if (y >= 100 && y <= 9999 && mo >= 1 && mo <= 12) return utcMs(y, mo, d, h, mi, sec, f);
    return Date.UTC(y, mo - 1, d, h, mi, sec, f);
  }
  return Date.parse(iso);
}

/**
 * Date.UTC(y, mo - 1, d, h, mi, s, f) for years 100..9999 and months 1..12 (the other fields may be any
 * integers: Date.UTC is linear in them), in plain arithmetic instead of a call into the runtime.
 * Days from the civil date: H. Hinnant's algorithm (proleptic Gregorian, as ECMAScript's MakeDay).
 */
export function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, f: number): number {
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146_097 + doe - 719_468;
  return days * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + f;
}

const ALWAYS = (): boolean => true;
/** Readings at one instant: a register only rises, so the lower value comes first. */
const byRegister = (a: EnergyReading, b: EnergyReading): number => compareDecimal(a.wh, b.wh);
const EARLIEST = new Map<string, number>();
// the key of the last transaction looked up: records of one transaction come in runs, and a key string used
// before is found without building and hashing it again
let txKeyStation = '';
let txKeyTx = '';
let txKeyLast = '|';
function txKey(stationId: string, transactionId: string): string {
  if (stationId !== txKeyStation || transactionId !== txKeyTx) {
    txKeyStation = stationId;
    txKeyTx = transactionId;
    txKeyLast = `${stationId}|${transactionId}`;
  }
  return txKeyLast;
}

function connectorKeyOf(e: { stationId: string; protocol: string; evseId?: number; connectorId?: number }): string | undefined {
  if (e.protocol === 'ocpp1.6') return e.connectorId === undefined || e.connectorId === 0 ? undefined : `${e.stationId}|c${e.connectorId}`;
  return e.evseId === undefined || e.evseId === 0 ? undefined : `${e.stationId}|e${e.evseId}`;
}

/** A session wherever it is kept: open/held sessions in `sessions`, sessions with a session.ended in `closed`. */
export function sessionOf(state: SessionsState, id: string): SessionState | undefined {
  for (const s of state.sessions) if (s.sessionId === id) return s;
  return state.closed[id];
}

/** A new state object with one fixed shape (object spreads of records fall into slow dictionary mode). */
function withState(
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
function put(
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
    return withState(state, sessions, { ...state.closed, [s.sessionId]: s }, byTransaction, byStartIdentity, connectors);
  }
  let sessions: SessionState[];
  if (i < 0) sessions = [...list, s];
  else {
    sessions = list.slice();
    sessions[i] = s;
  }
  return withState(state, sessions, state.closed, byTransaction, byStartIdentity, connectors);
}

/** The transaction info of a charger event, if it has one (no `in`: facts come in many shapes). */
const txOf = (e: ChargerEvent): TransactionEventInfo | undefined => (e as { tx?: TransactionEventInfo }).tx;
const connectorIdOf = (e: ChargerEvent): number | undefined => (e as { connectorId?: number }).connectorId;

function addFlag(flags: SessionFlag[], f: SessionFlag): SessionFlag[] {
  return flags.includes(f) ? flags : [...flags, f].sort();
}

function insertSorted<T extends { ms: number }>(list: T[], item: T, same: (a: T) => boolean): T[] {
  const n = list.length;
  if (n === 0 || list[n - 1].ms < item.ms) return [...list, item]; // the usual case: in order
  if (list.some((x) => x.ms === item.ms && same(x))) return list;
  let i = list.length;
  while (i > 0 && list[i - 1].ms > item.ms) i--;
  return [...list.slice(0, i), item, ...list.slice(i)];
}

const LINE_PHASES = new Set(['L1', 'L2', 'L3', 'L1-N', 'L2-N', 'L3-N']);

/** Total of a quantity at one instant: the phase-less value, else the sum of L1, L2, L3 (or L1-N...). */
function total(samples: NormalisedSample[], measurand: string, unit: string): string | undefined {
  // no list for the usual single value
  let first: string | undefined;
  let parts: string[] | undefined;
  for (const x of samples) {
    if (x.measurand !== measurand || x.unit !== unit || x.value === undefined || x.unitMismatch) continue;
    if (x.location !== 'Outlet' && measurand.startsWith('Energy')) continue;
    if (x.phase === undefined) return x.value;
    if (LINE_PHASES.has(x.phase)) {
      if (first === undefined) first = x.value;
      else (parts ??= [first]).push(x.value);
    }
  }
  // exact decimal sum without floats
  return parts === undefined ? first : sumOf(parts);
}

/** total() of active-import energy (Wh), power (W) and current (A), in one pass over the samples. */
function totals3(samples: NormalisedSample[]): [string | undefined, string | undefined, string | undefined] {
  // per quantity: the phase-less value (which wins, as in total()), else the line phases in order
  let e: string | undefined;
  let p: string | undefined;
  let c: string | undefined;
  let eLines: string[] | undefined;
  let pLines: string[] | undefined;
  let cLines: string[] | undefined;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    const m = x.measurand;
    const value = x.value;
    if (value === undefined || x.unitMismatch) continue;
    if (m === 'Energy.Active.Import.Register') {
      if (e !== undefined || x.unit !== 'Wh' || x.location !== 'Outlet') continue;
      if (x.phase === undefined) e = value;
      else if (LINE_PHASES.has(x.phase)) (eLines ??= []).push(value);
    } else if (m === 'Power.Active.Import') {
      if (p !== undefined || x.unit !== 'W') continue;
      if (x.phase === undefined) p = value;
      else if (LINE_PHASES.has(x.phase)) (pLines ??= []).push(value);
    } else if (m === 'Current.Import') {
      if (c !== undefined || x.unit !== 'A') continue;
      if (x.phase === undefined) c = value;
      else if (LINE_PHASES.has(x.phase)) (cLines ??= []).push(value);
    }
  }
  return [e ?? sumOf(eLines), p ?? sumOf(pLines), c ?? sumOf(cLines)];
}

/** Exact decimal sum of phase values (one value: itself). */
function sumOf(parts: string[] | undefined): string | undefined {
  if (parts === undefined) return undefined;
  if (parts.length === 1) return parts[0];
  let scale = 0;
  for (const p of parts) scale = Math.max(scale, decimalsOf(p));
  let sum = 0n;
  for (const p of parts) sum += toFixed(p, scale);
  return fromFixed(sum, scale);
}

function earliest(cfg: SessionDeciderConfig): number {
  let v = EARLIEST.get(cfg.earliestPlausibleTime);
  if (v === undefined) EARLIEST.set(cfg.earliestPlausibleTime, (v = ms(cfg.earliestPlausibleTime)));
  return v;
}

function clockFlags(s: SessionState, e: ChargerEvent, occurred: number, received: number, cfg: SessionDeciderConfig): SessionFlag[] {
  let flags = s.flags;
  if (e.flags?.includes('TIMESTAMP_WITHOUT_OFFSET')) flags = addFlag(flags, 'TIMESTAMP_WITHOUT_OFFSET');
  const offline = txOf(e)?.offline === true;
  if (offline) flags = addFlag(flags, 'OFFLINE_QUEUED');
  if (e.occurredAtIsReceiveTime) return flags;
  if (occurred - received > cfg.clockAheadToleranceSeconds * 1000) flags = addFlag(flags, 'STATION_CLOCK_AHEAD');
  const min = earliest(cfg);
  if (occurred < min) flags = addFlag(flags, 'STATION_CLOCK_INVALID');
  // lateness is the delay of the message (its own timestamp to its receipt), never the age of a sample inside it
  const stamped = e.messageAt === undefined ? occurred : ms(e.messageAt);
  if (stamped >= min && received - stamped > cfg.lateDeliveryToleranceSeconds * 1000 && !offline) flags = addFlag(flags, 'DELIVERED_LATE');
  return flags;
}

function sourceOf(e: ChargerEvent): SourceRef {
  const { eventId, topic, partition, offset } = e.source;
  const ref: SourceRef = { eventId };
  if (topic !== undefined) ref.topic = topic;
  if (partition !== undefined) ref.partition = partition;
  if (offset !== undefined) ref.offset = offset;
  return ref;
}

function newSession(sessionId: string, e: ChargerEvent & { transactionId: string }): SessionState {
  const t = ms(e.occurredAt);
  // every field present (optional ones undefined): one object shape, so the copies made by evolve stay fast
  return {
    sessionId,
    stationId: e.stationId,
    protocol: e.protocol,
    transactionId: e.transactionId,
    aliases: [],
    evseId: undefined,
    connectorId: undefined,
    connectorKey: undefined,
    startKnown: false,
    startedAt: e.occurredAt,
    startedAtMs: t,
    startIdentity: undefined,
    idToken: undefined,
    meterStartWh: undefined,
    reservationId: undefined,
    remoteStartId: undefined,
    initialState: undefined,
    end: undefined,
    readings: [],
    power: [],
    current: [],
    states: [],
    seqNos: [],
    signed: [],
    flags: [],
    sources: [],
    lastEventMs: t,
    lastEventAt: e.occurredAt,
    lastReceivedMs: ms(e.receivedAt),
    duplicatesIgnored: 0,
    seqCount: 0,
    seqMin: undefined,
    seqMax: undefined,
    startSeqNo: undefined,
    endSeqNo: undefined,
    published: 0,
    startedEmitted: false,
    lastUpdateMs: undefined,
    lastUpdateState: undefined,
    heldIncomplete: undefined,
    closure: undefined,
    ended: undefined,
  };
}

// ---------------------------------------------------------------------------------------------------------
// evolve

function applyFact(state: SessionsState, fact: ChargerEvent, sessionId: string | undefined, cfg: SessionDeciderConfig): SessionsState {
  let connectors = state.connectors;
  const statusKey = fact.type === 'connector.status.changed' ? connectorKeyOf(fact) : undefined;
  if (fact.type === 'connector.status.changed' && statusKey) {
    const ckey = statusKey;
    const prev = connectors[ckey];
    const t = ms(fact.occurredAt);
    if (!prev || prev.ms <= t) {
      connectors = { ...connectors, [ckey]: { ...prev, status: fact.status, ms: t, ...(fact.chargingState ? { chargingState: fact.chargingState } : {}) } };
    }
  }
  if (sessionId === undefined || !('transactionId' in fact || fact.type === 'connector.status.changed')) {
    return connectors === state.connectors ? state : withState(state, state.sessions, state.closed, undefined, undefined, connectors);
  }
  const existing = sessionOf(state, sessionId);
  if (!existing && fact.type === 'connector.status.changed') return withState(state, state.sessions, state.closed, undefined, undefined, connectors);
  const s: SessionState = existing ? cloneSession(existing) : newSession(sessionId, fact as ChargerEvent & { transactionId: string });
  let byTransaction = state.byTransaction;
  let byStartIdentity = state.byStartIdentity;
  const t = ms(fact.occurredAt);

  if (!existing) byTransaction = { ...byTransaction, [txKey(s.stationId, s.transactionId)]: sessionId };
  const ckey = statusKey ?? (s.connectorKey === undefined ? connectorKeyOf(fact as { stationId: string; protocol: string; evseId?: number; connectorId?: number }) : undefined);
  if (ckey && s.connectorKey === undefined) {
    s.connectorKey = ckey;
    const evseId = (fact as { evseId?: number }).evseId;
    if (evseId !== undefined) s.evseId = evseId;
    if (connectorIdOf(fact) !== undefined && fact.type !== 'connector.status.changed') s.connectorId = connectorIdOf(fact);
  }
  if (fact.type !== 'connector.status.changed' && connectorIdOf(fact) !== undefined && s.connectorId === undefined) {
    s.connectorId = connectorIdOf(fact);
  }
  const received = ms(fact.receivedAt);
  s.flags = clockFlags(s, fact, t, received, cfg);
  if (chunkedLast(s.sources)?.eventId !== fact.source.eventId) s.sources = chunkedAppend(s.sources, sourceOf(fact));
  if (t > s.lastEventMs) {
    s.lastEventMs = t;
    s.lastEventAt = fact.occurredAt;
  }
  s.lastReceivedMs = Math.max(s.lastReceivedMs, received);
  if (!s.startKnown && fact.type !== 'transaction.started' && t < s.startedAtMs) {
    s.startedAt = fact.occurredAt;
    s.startedAtMs = t;
  }
  const tx = txOf(fact);
  if (tx && seqSource(s, tx.seqNo) === undefined) {
    const n = tx.seqNo;
    s.seqNos = chunkedAppend(s.seqNos, { seqNo: n, eventId: fact.source.eventId });
    s.seqCount += 1;
    s.seqMin = s.seqMin === undefined ? n : Math.min(s.seqMin, n);
    s.seqMax = s.seqMax === undefined ? n : Math.max(s.seqMax, n);
  }

  switch (fact.type) {
    case 'transaction.started': {
      s.startKnown = true;
      s.startedAt = fact.occurredAt;
      s.startedAtMs = t;
      if (fact.idToken) s.idToken = fact.idToken;
      if (fact.meterStartWh !== undefined) s.meterStartWh = fact.meterStartWh;
      if (fact.reservationId !== undefined) s.reservationId = fact.reservationId;
      if (fact.remoteStartId !== undefined) s.remoteStartId = fact.remoteStartId;
      if (fact.tx) s.startSeqNo = fact.tx.seqNo;
      const fromConnector = s.connectorKey ? connectors[s.connectorKey]?.chargingState : undefined;
      const initial = fact.chargingState ?? (fromConnector && fromConnector !== 'Idle' ? fromConnector : undefined);
      if (initial) s.initialState = initial;
      if (fact.protocol === 'ocpp1.6' && fact.meterStartWh !== undefined && fact.connectorId !== undefined) {
        s.startIdentity = `${fact.stationId}|${fact.connectorId}|${fact.meterStartWh}|${fact.occurredAt}`;
        byStartIdentity = { ...byStartIdentity, [s.startIdentity]: sessionId };
      }
      break;
    }
    case 'meter.sampled': {
      const [energy, power, current] = totals3(fact.samples);
      if (energy !== undefined) {
        let ctx: string = 'Sample.Periodic';
        for (const x of fact.samples) {
          if (x.measurand === 'Energy.Active.Import.Register') {
            ctx = x.context;
            break;
          }
        }
        const r: EnergyReading = { ms: t, at: fact.occurredAt, wh: energy, context: ctx };
        // the same value at the same instant is one reading; different values at one instant are all kept
        // (a placeholder next to the real register), lowest first whatever their order of arrival
        const last = chunkedLast(s.readings);
        if (last === undefined || last.ms < t) s.readings = chunkedAppend(s.readings, r); // in order: no closure to allocate
        else s.readings = chunkedInsert(s.readings, r, (x) => compareDecimal(x.wh, energy) === 0, byRegister);
      }
      if (power !== undefined) s.power = chunkedInsert<InstantReading>(s.power, { ms: t, value: power }, ALWAYS);
      if (current !== undefined) s.current = chunkedInsert<InstantReading>(s.current, { ms: t, value: current }, ALWAYS);
      for (const x of fact.samples) {
        if (x.unitMismatch) s.flags = addFlag(s.flags, 'UNIT_MISMATCH_IGNORED');
        if (x.signed && !s.signed.some((y) => y.at === fact.occurredAt && y.context === x.context && y.measurand === x.measurand)) {
          s.signed = [...s.signed, { at: fact.occurredAt, context: x.context, measurand: x.measurand, signed: x.signed }];
        }
      }
      break;
    }
    case 'charging.state.changed':
    case 'connector.status.changed': {
      const cs = fact.chargingState;
      if (cs) s.states = insertSorted<StateChange>(s.states, { ms: t, at: fact.occurredAt, state: cs }, (x) => x.state === cs);
      break;
    }
    case 'transaction.updated':
      if (fact.idToken && !s.idToken) s.idToken = fact.idToken;
      break;
    case 'transaction.ended': {
      s.end = { at: fact.occurredAt, ms: t, receivedAtMs: ms(fact.receivedAt), eventId: fact.eventId };
      if (fact.meterStopWh !== undefined) s.end.meterStopWh = fact.meterStopWh;
      if (fact.stoppedReason !== undefined) s.end.reason = fact.stoppedReason;
      if (fact.idToken) s.end.stopIdToken = fact.idToken;
      if (fact.tx) s.endSeqNo = fact.tx.seqNo;
      break;
    }
    default:
      break;
  }

  const open = s.end === undefined && s.closure === undefined;
  // the connector only changes when a session starts or stops being open on it
  if (s.connectorKey && (!open || fact.type === 'transaction.started')) {
    const c = connectors[s.connectorKey];
    if (open && fact.type === 'transaction.started' && (!c?.openSessionId || (sessionOf(state, c.openSessionId)?.startedAtMs ?? 0) <= s.startedAtMs)) {
      connectors = { ...connectors, [s.connectorKey]: { status: c?.status ?? 'Occupied', ms: c?.ms ?? t, ...(c?.chargingState ? { chargingState: c.chargingState } : {}), openSessionId: sessionId } };
    } else if (!open && c?.openSessionId === sessionId) {
      const { openSessionId: _drop, ...rest } = c;
      connectors = { ...connectors, [s.connectorKey]: rest };
    }
  }
  return put(state, s, byTransaction, byStartIdentity, connectors);
}

export function evolveWith(cfg: SessionDeciderConfig) {
  return (state: SessionsState, event: SessionDeciderEvent): SessionsState => {
    switch (event.type) {
      case 'session.fact.recorded':
        return applyFact(state, event.fact, event.sessionId, cfg);
      case 'session.transaction.aliased': {
        const s = sessionOf(state, event.sessionId);
        if (!s) return state;
        const next = cloneSession(s);
        next.aliases = [...s.aliases, event.transactionId];
        next.duplicatesIgnored = s.duplicatesIgnored + 1;
        next.flags = addFlag(s.flags, 'DUPLICATES_IGNORED');
        if (chunkedLast(next.sources)?.eventId !== event.fact.source.eventId) next.sources = chunkedAppend(next.sources, sourceOf(event.fact));
        return put(state, next, { ...state.byTransaction, [txKey(event.stationId, event.transactionId)]: s.sessionId });
      }
      case 'session.fact.discarded': {
        const s = event.sessionId === undefined ? undefined : sessionOf(state, event.sessionId);
        if (!s || event.reason === 'REPEATED_IN_TRANSACTION_DATA') return state;
        const next = cloneSession(s);
        next.duplicatesIgnored = s.duplicatesIgnored + 1;
        next.flags = addFlag(s.flags, 'DUPLICATES_IGNORED');
        return put(state, next);
      }
      case 'session.forgotten': {
        const drop = new Set(event.sessionIds);
        const keep = <T>(rec: Record<string, T>, id: (v: T) => string | undefined): Record<string, T> =>
          Object.fromEntries(Object.entries(rec).filter(([, v]) => !drop.has(id(v) ?? '')));
        return {
          sessions: state.sessions.filter((s) => !drop.has(s.sessionId)),
          closed: keep(state.closed, (s) => s.sessionId),
          byTransaction: keep(state.byTransaction, (v) => v),
          byStartIdentity: keep(state.byStartIdentity, (v) => v),
          connectors: state.connectors,
        };
      }
      case 'session.started':
      case 'session.updated':
      case 'session.ended': {
        const s = sessionOf(state, event.payload.sessionId);
        if (!s) return state;
        const next = cloneSession(s);
        next.published = s.published + 1;
        let connectors = state.connectors;
        if (event.type === 'session.started') next.startedEmitted = true;
        if (event.type === 'session.updated') {
          next.lastUpdateMs = ms(event.occurredAt);
          next.lastUpdateState = event.payload.chargingState;
          if (event.payload.status === 'incomplete') next.heldIncomplete = true;
        }
        if (event.type === 'session.ended') {
          const p = event.payload;
          next.ended = { revision: p.revision, payload: p, receivedMs: Math.max(s.lastReceivedMs, s.ended?.receivedMs ?? 0) };
          if (p.closure !== 'stop' && !s.end) next.closure = { rule: p.closure as Exclude<SessionClosure, 'stop'>, endedAt: p.endedAt, endedAtMs: ms(p.endedAt) };
          if (p.closure === 'incomplete-timeout') next.closure = { rule: 'incomplete-timeout', endedAt: p.endedAt, endedAtMs: ms(p.endedAt) };
          const c = s.connectorKey ? connectors[s.connectorKey] : undefined;
          if (c?.openSessionId === s.sessionId && s.connectorKey) {
            const { openSessionId: _drop, ...rest } = c;
            connectors = { ...connectors, [s.connectorKey]: rest };
          }
        }
        return put(state, next, undefined, undefined, connectors);
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------------------
// decide

/** The record that first carried a seqNo, if seen. O(1) for a seqNo above all seen (the usual case). */
function seqSource(s: SessionState, n: number): string | undefined {
  if (s.seqMax === undefined || n > s.seqMax) return undefined;
  return chunkedFindFromEnd(s.seqNos, (x) => x.seqNo === n)?.eventId;
}

/** Provenance in first-seen order, each record once. */
function sourcesOf(s: SessionState): SourceRef[] {
  const seen = new Set<string>();
  return chunkedToArray(s.sources).filter((x) => !seen.has(x.eventId) && seen.add(x.eventId) !== undefined);
}

/** O(1) in the usual case: are seqNos missing between the start (or lowest) and the end (or highest)? */
function hasGap(s: SessionState): boolean {
  if (s.seqCount === 0 || s.seqMin === undefined || s.seqMax === undefined) return false;
  const from = s.startSeqNo ?? s.seqMin;
  const to = s.endSeqNo ?? s.seqMax;
  if (s.seqMin >= from && s.seqMax <= to) return to - from + 1 !== s.seqCount;
  return missingSeqNos(s).length > 0;
}

export function missingSeqNos(s: SessionState): number[] {
  if (s.seqCount === 0) return [];
  const seenSet = new Set(chunkedToArray(s.seqNos).map((x) => x.seqNo));
  const seen = [...seenSet];
  if (seen.length === 0) return [];
  const from = s.startSeqNo ?? s.seqMin ?? 0;
  const to = s.endSeqNo ?? s.seqMax ?? 0;
  const missing: number[] = [];
  for (let n = from; n <= to && missing.length < 1000; n++) if (!seenSet.has(n)) missing.push(n);
  return missing;
}

const digests = new WeakMap<SessionEndedPayload, string>();

/** What a revision compares: the payload without revision, provenance and the revision flag (memoised per payload). */
function digestOf(p: SessionEndedPayload): string {
  let d = digests.get(p);
  if (d === undefined) digests.set(p, (d = computeDigest(p)));
  return d;
}

function computeDigest(p: SessionEndedPayload): string {
  const { revision: _r, sources: _s, dataQuality, ...rest } = p;
  return JSON.stringify({ ...rest, flags: dataQuality.flags.filter((f) => f !== 'REVISED_AFTER_CLOSE'), missing: dataQuality.missingSeqNos });
}

function currentState(s: SessionState): ChargingState {
  return s.states.length > 0 ? s.states[s.states.length - 1].state : (s.initialState ?? 'Charging');
}

function envelope<T extends PublicSessionEvent['type'], P>(s: SessionState, type: T, n: number, occurredAt: string, causationId: string, payload: P) {
  return {
    id: fastUuidV5(`${s.sessionId}|${type}|${s.published + n}`, SESSION_EVENT_NS),
    type,
    version: (type === 'session.ended' ? 2 : 1) as T extends 'session.ended' ? 2 : 1,
    occurredAt,
    key: s.sessionId,
    causationId,
    correlationId: s.sessionId,
    payload,
  };
}

function identity(s: SessionState) {
  const id: { sessionId: string; stationId: string; protocol: SessionState['protocol']; transactionId: string; evseId?: number; connectorId?: number } = {
    sessionId: s.sessionId,
    stationId: s.stationId,
    protocol: s.protocol,
    transactionId: s.transactionId,
  };
  if (s.evseId !== undefined) id.evseId = s.evseId;
  if (s.connectorId !== undefined) id.connectorId = s.connectorId;
  return id;
}

function started(s: SessionState, n: number, causationId: string): SessionStarted {
  // fields added in order to the identity object (a spread into a literal here made V8 miss its caches every call)
  const p = identity(s) as SessionStarted['payload'];
  p.startedAt = s.startedAt;
  p.startKnown = s.startKnown;
  p.sources = sourcesOf(s);
  if (s.idToken) p.idToken = s.idToken;
  if (s.meterStartWh !== undefined) p.meterStartWh = s.meterStartWh;
  if (s.reservationId !== undefined) p.reservationId = s.reservationId;
  if (s.remoteStartId !== undefined) p.remoteStartId = s.remoteStartId;
  return envelope(s, 'session.started', n, s.startedAt, causationId, p);
}

function updated(s: SessionState, n: number, occurredAt: string, causationId: string, cfg: SessionDeciderConfig): SessionUpdated {
  const energy = computeEnergy(s, Math.max(s.lastEventMs, s.startedAtMs), cfg, false);
  const flags = [...new Set<SessionFlag>([...s.flags, ...energy.flags.filter((f) => f !== 'ENERGY_FROM_LAST_SAMPLE' && f !== 'NO_ENERGY_DATA')])].sort();
  const missing = hasGap(s) ? missingSeqNos(s) : [];
  if (missing.length > 0) flags.push('SEQNO_GAP');
  if (!s.startKnown) flags.push('START_MISSING');
  const p = identity(s) as SessionUpdated['payload'];
  p.status = s.end && (missing.length > 0 || !s.startKnown) ? 'incomplete' : 'active';
  p.startedAt = s.startedAt;
  p.chargingState = currentState(s);
  p.energyWh = fromFixed(energy.total, energy.scale);
  p.missingSeqNos = missing;
  p.flags = [...new Set(flags)].sort();
  if (energy.lastAt !== undefined) p.lastReadingAt = energy.lastAt;
  return envelope(s, 'session.updated', n, occurredAt, causationId, p);
}

function ended(
  s: SessionState,
  n: number,
  closure: SessionClosure,
  endedAtOverride: string | undefined,
  causationId: string,
  cfg: SessionDeciderConfig,
): SessionEnded {
  const flags = new Set<SessionFlag>(s.flags);
  let endAt = s.end?.at ?? endedAtOverride ?? s.closure?.endedAt ?? s.lastEventAt;
  let endMs = ms(endAt);
  if (endMs < s.startedAtMs) {
    flags.add('END_BEFORE_START');
    endMs = s.startedAtMs;
    endAt = s.startedAt;
  }
  const energy = computeEnergy(s, endMs, cfg);
  energy.flags.forEach((f) => flags.add(f));
  const { periods, parkingMs } = chargingPeriods(s, s.startedAtMs, endMs, energy);
  const missing = hasGap(s) ? missingSeqNos(s) : [];
  if (missing.length > 0) flags.add('SEQNO_GAP');
  if (!s.startKnown) flags.add('START_MISSING');
  if (closure === 'new-transaction') flags.add('NEVER_STOPPED').add('CLOSED_BY_NEW_TRANSACTION');
  if (closure === 'timeout') flags.add('NEVER_STOPPED').add('CLOSED_BY_TIMEOUT');
  const revision = (s.ended?.revision ?? 0) + 1;
  if (revision > 1) flags.add('REVISED_AFTER_CLOSE');
  // bounded whatever the session's length: periods, timeline, signed values and sources (summary.ts)
  const detail = boundedDetail(periods, energy, s.startedAtMs, endMs, s.signed, sourcesOf(s));
  if (detail.merged) flags.add('CHARGING_PERIODS_MERGED');
  const sorted = [...flags].sort();
  const p = identity(s) as SessionEndedPayload;
  p.revision = revision;
  p.closure = closure;
  p.startedAt = s.startedAt;
  p.endedAt = new Date(endMs).toISOString();
  p.totals = totals(toDecimal(energy.total, energy.scale), endMs - s.startedAtMs, parkingMs);
  p.chargingPeriods = detail.chargingPeriods;
  p.energyTimeline = detail.energyTimeline;
  p.energyTimelineResolution = detail.energyTimelineResolution;
  p.signedMeterValues = detail.signedMeterValues;
  p.signedMeterValuesOmitted = detail.signedMeterValuesOmitted;
  p.dataQuality = {
    flags: sorted,
    needsReview: sorted.some((f) => REVIEW_FLAGS.includes(f)),
    estimated: sorted.includes('ENERGY_FROM_LAST_SAMPLE') || sorted.includes('NEVER_STOPPED') || sorted.includes('NO_ENERGY_DATA'),
    missingSeqNos: missing,
    duplicatesIgnored: s.duplicatesIgnored,
  };
  p.sources = detail.sources;
  if (s.end?.reason !== undefined) p.stoppedReason = s.end.reason;
  if (s.idToken) p.idToken = s.idToken;
  if (s.end?.stopIdToken) p.stopIdToken = s.end.stopIdToken;
  if (s.meterStartWh !== undefined) p.meterStartWh = s.meterStartWh;
  if (s.end?.meterStopWh !== undefined) p.meterStopWh = s.end.meterStopWh;
  return envelope(s, 'session.ended', n, p.endedAt, causationId, p);
}

/**
 * Emits the public events owed by a session after a fact was applied to it. All of them are computed from
 * `s`, the session as it was before the first of them (their per-session numbers are s.published + 0, 1).
 */
function emitPublicEvents(ctx: DecideContext, s: SessionState, e: ChargerEvent, cfg: SessionDeciderConfig): void {
  let n = 0;
  if (!s.startedEmitted) emit(ctx, started(s, n++, e.eventId));
  const incomplete = !s.startKnown || hasGap(s);
  const closedByRule = s.closure !== undefined;
  if (s.end || closedByRule) {
    if (s.end && incomplete && !s.ended) {
      // held incomplete: say so once, then wait for the missing seqNos or the grace rule
      if (!s.heldIncomplete) emit(ctx, updated(s, n, e.occurredAt, e.eventId, cfg));
      return;
    }
    const closure: SessionClosure = s.end ? (s.closure?.rule === 'incomplete-timeout' && incomplete ? 'incomplete-timeout' : 'stop') : s.closure!.rule;
    const candidate = ended(s, n, closure, undefined, e.eventId, cfg);
    if (!s.ended || digestOf(s.ended.payload) !== digestOf(candidate.payload)) emit(ctx, candidate);
    return;
  }
  if (!s.startedEmitted) return;
  const stateChanged = (s.lastUpdateState ?? s.initialState ?? 'Charging') !== currentState(s);
  if (stateChanged || ms(e.occurredAt) >= (s.lastUpdateMs ?? s.startedAtMs) + cfg.updateIntervalSeconds * 1000) {
    emit(ctx, updated(s, n, e.occurredAt, e.eventId, cfg));
  }
}

function fold(state: SessionsState, events: SessionDeciderEvent[], evolve: (s: SessionsState, e: SessionDeciderEvent) => SessionsState): SessionsState {
  return events.reduce(evolve, state);
}

type Evolve = (state: SessionsState, event: SessionDeciderEvent) => SessionsState;

/**
 * decide() already folds its own events to know what is due; it remembers that result for the returned
 * array so that handle() need not fold the same events a second time. Purely an optimisation: the memo
 * is keyed by the (fresh) events array and only used for the exact state and evolve it was made from.
 */
let memoEvents: SessionDeciderEvent[] | undefined;
let memoFrom: SessionsState | undefined;
let memoTo: SessionsState | undefined;
let memoEvolve: Evolve | undefined;

export function decideWith(cfg: SessionDeciderConfig, evolve: Evolve = evolveWith(cfg)) {
  return (command: SessionCommand, state: SessionsState): SessionDeciderEvent[] => {
    if (command.type === 'CloseStaleSessions') return closeStale(state, ms(command.now), cfg);
    const ctx: DecideContext = { out: [], current: state, evolve };
    if (command.type === 'RecordChargerEvent' || command.events.length === 1) {
      // the usual record: one charger event
      const e = command.type === 'RecordChargerEvent' ? command.event : command.events[0];
      const sessionId = route(e, state, ctx, cfg);
      const s = sessionId === undefined ? undefined : sessionOf(ctx.current, sessionId);
      if (s) emitPublicEvents(ctx, s, e, cfg);
    } else {
      // each session touched once, in the order of its last event, judged after all of them are applied
      const touchedIds: string[] = [];
      const touchedBy: ChargerEvent[] = [];
      for (const e of command.events) {
        const sessionId = route(e, state, ctx, cfg);
        if (sessionId !== undefined) {
          const k = touchedIds.indexOf(sessionId);
          if (k >= 0) {
            touchedIds.splice(k, 1);
            touchedBy.splice(k, 1);
          }
          touchedIds.push(sessionId);
          touchedBy.push(e);
        }
      }
      for (let k = 0; k < touchedIds.length; k++) {
        const s = sessionOf(ctx.current, touchedIds[k]);
        if (s) emitPublicEvents(ctx, s, touchedBy[k], cfg);
      }
    }
    memoEvents = ctx.out;
    memoFrom = state;
    memoTo = ctx.current;
    memoEvolve = evolve;
    return ctx.out;
  };
}

interface DecideContext {
  out: SessionDeciderEvent[];
  current: SessionsState;
  evolve: Evolve;
}

function emit(ctx: DecideContext, ev: SessionDeciderEvent): void {
  ctx.out.push(ev);
  ctx.current = ctx.evolve(ctx.current, ev);
}

/**
 * Routes one charger event: emits the internal fact (or discard/alias) and any rule-based closing of an
 * older session. Returns the session whose public events may be due. `before` is the state before the
 * inbound record: duplicates are judged against earlier records only.
 */
function route(e: ChargerEvent, before: SessionsState, ctx: DecideContext, cfg: SessionDeciderConfig): string | undefined {
  const current = ctx.current;
  if (!('transactionId' in e) || e.transactionId === undefined) {
    if (e.type !== 'connector.status.changed') return undefined;
    // 1.6: the connector's status is the charging state of the session open on it
    const key = connectorKeyOf(e);
    const open = key ? current.connectors[key]?.openSessionId : undefined;
    const applies = open !== undefined && e.chargingState !== undefined;
    emit(ctx, { type: 'session.fact.recorded', fact: e, ...(applies ? { sessionId: open } : {}) });
    return applies ? open : undefined;
  }
  let sessionId = current.byTransaction[txKey(e.stationId, e.transactionId)];
  if (e.type === 'transaction.started' && e.protocol === 'ocpp1.6' && e.meterStartWh !== undefined && e.connectorId !== undefined) {
    // dedupe a retried 1.6 StartTransaction: same station+connector+meterStart+timestamp
    const same = current.byStartIdentity[`${e.stationId}|${e.connectorId}|${e.meterStartWh}|${e.occurredAt}`];
    if (same !== undefined) {
      if (sessionId === same) emit(ctx, { type: 'session.fact.discarded', sessionId: same, eventId: e.eventId, reason: 'DUPLICATE_START' });
      else emit(ctx, { type: 'session.transaction.aliased', sessionId: same, stationId: e.stationId, transactionId: e.transactionId, fact: e });
      return undefined;
    }
  }
  const existing = sessionId === undefined ? undefined : sessionOf(before, sessionId);
  const tx = txOf(e);
  if (existing && tx) {
    const first = seqSource(existing, tx.seqNo);
    if (first !== undefined && first !== e.source.eventId) {
      emit(ctx, { type: 'session.fact.discarded', sessionId, eventId: e.eventId, reason: 'DUPLICATE_SEQNO' });
      return undefined;
    }
  }
  if (existing && e.protocol === 'ocpp1.6') {
    if (e.type === 'transaction.ended' && existing.end && existing.end.at === e.occurredAt && existing.end.meterStopWh === e.meterStopWh) {
      emit(ctx, { type: 'session.fact.discarded', sessionId, eventId: e.eventId, reason: 'DUPLICATE_END' });
      return undefined;
    }
    if (e.type === 'meter.sampled' && isRepeat(existing, e)) {
      // transactionData repeating what MeterValues already said is normal 1.6 behaviour, not a repeated message
      const reason = e.source.action === 'StopTransaction' ? 'REPEATED_IN_TRANSACTION_DATA' : 'DUPLICATE_SAMPLE';
      emit(ctx, { type: 'session.fact.discarded', sessionId, eventId: e.eventId, reason });
      return undefined;
    }
  }
  if (sessionId === undefined) {
    sessionId = sessionIdOf(e.stationId, e.transactionId);
    // never-stopped rule: a new transaction on a connector closes the older session still open there
    const key = connectorKeyOf(e);
    const openId = key ? current.connectors[key]?.openSessionId : undefined;
    const open = openId ? sessionOf(current, openId) : undefined;
    if (e.type === 'transaction.started' && open && !open.end && !open.closure && open.startedAtMs <= ms(e.occurredAt)) {
      const endAt = open.lastEventMs <= ms(e.occurredAt) ? open.lastEventAt : e.occurredAt;
      emit(ctx, ended(open, 0, 'new-transaction', endAt, e.eventId, cfg));
    }
  }
  emit(ctx, { type: 'session.fact.recorded', sessionId, fact: e });
  return sessionId;
}

/**
 * A 1.6 sample group already applied: a retried MeterValues (a repeated message, counted) or transactionData
 * repeating MeterValues (normal, not counted).
 */
function isRepeat(s: SessionState, e: ChargerEvent & { type: 'meter.sampled' }): boolean {
  const t = ms(e.occurredAt);
  // the usual case: newer than every reading so far
  const last = chunkedLast(s.readings);
  if (last === undefined || last.ms < t) return false;
  const wh = total(e.samples, 'Energy.Active.Import.Register', 'Wh');
  if (wh === undefined) return false;
  // newest first, stopping at the first reading older than t
  const hit = chunkedFindFromEnd(s.readings, (r) => r.ms < t || (r.ms === t && compareDecimal(r.wh, wh) === 0));
  return hit !== undefined && hit.ms === t;
}

function closeStale(state: SessionsState, now: number, cfg: SessionDeciderConfig): SessionDeciderEvent[] {
  // cheap when nothing is due (the service runs it after every record): only due sessions are sorted
  const retain = cfg.retainEndedSeconds * 1000;
  const forget: string[] = [];
  for (const id in state.closed) {
    const s = state.closed[id];
    if (s.ended && now - s.ended.receivedMs >= retain && now - s.lastReceivedMs >= retain) forget.push(id);
  }
  const due: Array<{ s: SessionState; closure: 'incomplete-timeout' | 'timeout' }> = [];
  for (const s of state.sessions) {
    if (s.end) {
      // held incomplete (seqNo gap or start missing): closed anyway after the grace period
      if (now - Math.max(s.end.receivedAtMs, s.lastReceivedMs) >= cfg.incompleteGraceSeconds * 1000) due.push({ s, closure: 'incomplete-timeout' });
    } else if (now - s.lastReceivedMs >= cfg.staleAfterSeconds * 1000) due.push({ s, closure: 'timeout' });
  }
  const out: SessionDeciderEvent[] = [];
  if (due.length > 0) {
    const cause = `close-stale@${new Date(now).toISOString()}`;
    due.sort((a, b) => (a.s.sessionId < b.s.sessionId ? -1 : 1));
    for (const d of due) out.push(ended(d.s, 0, d.closure, d.closure === 'timeout' ? d.s.lastEventAt : undefined, cause, cfg));
  }
  if (forget.length > 0) out.push({ type: 'session.forgotten', sessionIds: forget.sort() });
  return out;
}

export function sessionDecider(config: Partial<SessionDeciderConfig> = {}): Decider<SessionCommand, SessionsState, SessionDeciderEvent> {
  const cfg = { ...DEFAULT_SESSION_CONFIG, ...config };
  const evolve = evolveWith(cfg);
  return { decide: decideWith(cfg, evolve), evolve, initialState };
}

const defaultDecider = sessionDecider();
export const decide = defaultDecider.decide;
export const evolve = defaultDecider.evolve;
export { initialState };

/** Convenience: decide, then fold the decided events into the state. */
export function handle(
  command: SessionCommand,
  state: SessionsState,
  decider: Decider<SessionCommand, SessionsState, SessionDeciderEvent> = defaultDecider,
): { events: SessionDeciderEvent[]; state: SessionsState } {
  const events = decider.decide(command, state);
  const to = memoTo;
  const hit = memoEvents === events && memoFrom === state && memoEvolve === decider.evolve;
  memoEvents = memoFrom = memoTo = memoEvolve = undefined;
  if (hit && to) return { events, state: to };
  return { events, state: fold(state, events, decider.evolve) };
}
