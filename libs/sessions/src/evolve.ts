/**
 * evolve: the state after one decided event. Internal events carry the facts applied (or discarded), public
 * events the bookkeeping of what was published; the state is rebuilt from the decider's output alone.
 * The state is immutable: a changed session is a copy (`cloneSession`), changed maps are new objects.
 */
import * as kernel from '@csms/kernel';
import type { ChargerEvent, ChargingState } from '@csms/ocpp-normaliser';
import type { DeciderContext } from './context';
import type { Evolve } from './decision';
import type { PublicSessionEvent, SessionDeciderEvent, SessionFlag, SessionsForgotten } from './events';
import * as factsModule from './facts';
import * as seqNosModule from './seq-nos';
import * as stateModule from './state';
import type { ConnectorState, EnergyReading, InstantReading, SessionState, SessionsState, StateChange } from './state';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { compareDecimal } = kernel;
const { connectorIdOf, connectorKeyOf, evseIdOf, meterTotals, registerContextOf, sourceOf, startIdentityOf, txOf } =
  factsModule;
const { noteSeqNo } = seqNosModule;
const { chunkedAppend, chunkedInsert, chunkedLast, cloneSession, putSession, sessionOf, withState } = stateModule;

type Fact<T extends ChargerEvent['type']> = Extract<ChargerEvent, { type: T }>;
type Connectors = SessionsState['connectors'];

export function evolveWith(ctx: DeciderContext): Evolve {
  return (state, event) => {
    switch (event.type) {
      case 'session.fact.recorded':
        return applyFact(state, event.fact, event.sessionId, ctx);
      case 'session.transaction.aliased':
        return addAlias(state, event, ctx);
      case 'session.fact.discarded':
        return countDiscarded(state, event);
      case 'session.forgotten':
        return forget(state, event);
      case 'session.started':
      case 'session.updated':
      case 'session.ended':
        return notePublished(state, event, ctx);
    }
  };
}

export function addFlag(flags: SessionFlag[], f: SessionFlag): SessionFlag[] {
  return flags.includes(f) ? flags : [...flags, f].sort();
}

// ------------------------------------------------------------------------------------------ facts

function applyFact(
  state: SessionsState,
  fact: ChargerEvent,
  sessionId: string | undefined,
  ctx: DeciderContext,
): SessionsState {
  const statusKey = fact.type === 'connector.status.changed' ? connectorKeyOf(fact) : undefined;
  let connectors =
    fact.type === 'connector.status.changed' && statusKey
      ? withConnectorStatus(state.connectors, statusKey, fact, ctx)
      : state.connectors;
  if (sessionId === undefined || !('transactionId' in fact || fact.type === 'connector.status.changed')) {
    return connectors === state.connectors
      ? state
      : withState(state, state.sessions, state.closed, undefined, undefined, connectors);
  }
  const existing = sessionOf(state, sessionId);
  // a status of a connector whose session is not kept (forgotten): the connector only
  if (!existing && fact.type === 'connector.status.changed')
    return withState(state, state.sessions, state.closed, undefined, undefined, connectors);
  const s = existing
    ? cloneSession(existing)
    : newSession(sessionId, fact as ChargerEvent & { transactionId: string }, ctx);
  const byTransaction = existing
    ? state.byTransaction
    : { ...state.byTransaction, [ctx.transactionKey(s.stationId, s.transactionId)]: sessionId };
  let byStartIdentity = state.byStartIdentity;
  const t = ctx.ms(fact.occurredAt);
  placeOnConnector(s, fact, statusKey);
  noteMessage(s, fact, t, ctx);
  const tx = txOf(fact);
  if (tx) noteSeqNo(s, tx.seqNo, fact.source.eventId);
  switch (fact.type) {
    case 'transaction.started': {
      applyStart(s, fact, t, connectors);
      const identity = startIdentityOf(fact);
      if (identity !== undefined) {
        s.startIdentity = identity;
        byStartIdentity = { ...byStartIdentity, [identity]: sessionId };
      }
      break;
    }
    case 'meter.sampled':
      applySamples(s, fact, t);
      break;
    case 'charging.state.changed':
    case 'connector.status.changed':
      applyChargingState(s, fact.chargingState, fact.occurredAt, t);
      break;
    case 'transaction.updated':
      if (fact.idToken && !s.idToken) s.idToken = fact.idToken;
      break;
    case 'transaction.ended':
      applyEnd(s, fact, t, ctx);
      break;
    default:
      break;
  }
  connectors = withOpenSessionOnConnector(connectors, state, s, fact, t);
  return putSession(state, s, byTransaction, byStartIdentity, connectors);
}

/** A 1.6 StatusNotification sets its connector's status (unless a newer one is known). */
function withConnectorStatus(
  connectors: Connectors,
  key: string,
  fact: Fact<'connector.status.changed'>,
  ctx: DeciderContext,
): Connectors {
  const prev = connectors[key];
  const t = ctx.ms(fact.occurredAt);
  if (prev && prev.ms > t) return connectors;
  return {
    ...connectors,
    [key]: {
      ...prev,
      status: fact.status,
      ms: t,
      ...(fact.chargingState ? { chargingState: fact.chargingState } : {}),
    },
  };
}

function newSession(sessionId: string, e: ChargerEvent & { transactionId: string }, ctx: DeciderContext): SessionState {
  const t = ctx.ms(e.occurredAt);
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
    station: undefined,
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
    lastReceivedMs: ctx.ms(e.receivedAt),
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

/** The first fact naming a connector (or EVSE) places the session on it. */
function placeOnConnector(s: SessionState, fact: ChargerEvent, statusKey: string | undefined): void {
  const key =
    statusKey ??
    (s.connectorKey === undefined
      ? connectorKeyOf(fact as { stationId: string; protocol: string; evseId?: number; connectorId?: number })
      : undefined);
  const connectorId = fact.type === 'connector.status.changed' ? undefined : connectorIdOf(fact);
  if (key && s.connectorKey === undefined) {
    s.connectorKey = key;
    const evseId = evseIdOf(fact);
    if (evseId !== undefined) s.evseId = evseId;
    if (connectorId !== undefined) s.connectorId = connectorId;
  }
  if (connectorId !== undefined && s.connectorId === undefined) s.connectorId = connectorId;
}

/** What every message tells a session: clock and delivery flags, provenance, its latest times, an earlier start. */
function noteMessage(s: SessionState, fact: ChargerEvent, t: number, ctx: DeciderContext): void {
  const received = ctx.ms(fact.receivedAt);
  s.flags = clockFlags(s.flags, fact, t, received, ctx);
  if (chunkedLast(s.sources)?.eventId !== fact.source.eventId) s.sources = chunkedAppend(s.sources, sourceOf(fact));
  if (t > s.lastEventMs) {
    s.lastEventMs = t;
    s.lastEventAt = fact.occurredAt;
  }
  s.lastReceivedMs = Math.max(s.lastReceivedMs, received);
  // while the start is unknown, the session starts at its earliest message
  if (!s.startKnown && fact.type !== 'transaction.started' && t < s.startedAtMs) {
    s.startedAt = fact.occurredAt;
    s.startedAtMs = t;
  }
}

/** README "Out of order, offline" and "Clock": flags judged on each message's own timestamp and receive time. */
function clockFlags(
  flags: SessionFlag[],
  e: ChargerEvent,
  occurred: number,
  received: number,
  ctx: DeciderContext,
): SessionFlag[] {
  const { cfg } = ctx;
  if (e.flags?.includes('TIMESTAMP_WITHOUT_OFFSET')) flags = addFlag(flags, 'TIMESTAMP_WITHOUT_OFFSET');
  const offline = txOf(e)?.offline === true;
  if (offline) flags = addFlag(flags, 'OFFLINE_QUEUED');
  if (e.occurredAtIsReceiveTime) return flags;
  if (occurred - received > cfg.clockAheadToleranceSeconds * 1000) flags = addFlag(flags, 'STATION_CLOCK_AHEAD');
  const min = ctx.earliestPlausibleMs;
  if (occurred < min) flags = addFlag(flags, 'STATION_CLOCK_INVALID');
  // lateness is the delay of the message (its own timestamp to its receipt), never the age of a sample inside it
  const stamped = e.messageAt === undefined ? occurred : ctx.ms(e.messageAt);
  if (stamped >= min && received - stamped > cfg.lateDeliveryToleranceSeconds * 1000 && !offline)
    flags = addFlag(flags, 'DELIVERED_LATE');
  return flags;
}

function applyStart(s: SessionState, fact: Fact<'transaction.started'>, t: number, connectors: Connectors): void {
  s.startKnown = true;
  s.startedAt = fact.occurredAt;
  s.startedAtMs = t;
  if (fact.idToken) s.idToken = fact.idToken;
  if (fact.station) s.station = fact.station;
  if (fact.meterStartWh !== undefined) s.meterStartWh = fact.meterStartWh;
  if (fact.reservationId !== undefined) s.reservationId = fact.reservationId;
  if (fact.remoteStartId !== undefined) s.remoteStartId = fact.remoteStartId;
  if (fact.tx) s.startSeqNo = fact.tx.seqNo;
  // the state at the start: the Started event's, else the connector's last known (unless Idle)
  const fromConnector = s.connectorKey ? connectors[s.connectorKey]?.chargingState : undefined;
  const initial = fact.chargingState ?? (fromConnector && fromConnector !== 'Idle' ? fromConnector : undefined);
  if (initial) s.initialState = initial;
}

const ALWAYS = (): boolean => true;
/** Readings at one instant: a register only rises, so the lower value comes first. */
const byRegister = (a: EnergyReading, b: EnergyReading): number => compareDecimal(a.wh, b.wh);

function applySamples(s: SessionState, fact: Fact<'meter.sampled'>, t: number): void {
  const [energy, power, current] = meterTotals(fact.samples);
  if (energy !== undefined)
    s.readings = withReading(s.readings, {
      ms: t,
      at: fact.occurredAt,
      wh: energy,
      context: registerContextOf(fact.samples),
    });
  if (power !== undefined) s.power = chunkedInsert<InstantReading>(s.power, { ms: t, value: power }, ALWAYS);
  if (current !== undefined) s.current = chunkedInsert<InstantReading>(s.current, { ms: t, value: current }, ALWAYS);
  for (const x of fact.samples) {
    if (x.unitMismatch) s.flags = addFlag(s.flags, 'UNIT_MISMATCH_IGNORED');
    if (
      x.signed &&
      !s.signed.some((y) => y.at === fact.occurredAt && y.context === x.context && y.measurand === x.measurand)
    ) {
      s.signed = [...s.signed, { at: fact.occurredAt, context: x.context, measurand: x.measurand, signed: x.signed }];
    }
  }
}

/**
 * The same value at the same instant is one reading; different values at one instant are all kept (a
 * placeholder next to the real register), lowest first whatever their order of arrival.
 */
function withReading(readings: SessionState['readings'], r: EnergyReading): SessionState['readings'] {
  const last = chunkedLast(readings);
  if (last === undefined || last.ms < r.ms) return chunkedAppend(readings, r); // in order: no closure to allocate
  return chunkedInsert(readings, r, (x) => compareDecimal(x.wh, r.wh) === 0, byRegister);
}

/** A charging-state change is placed by station time; the same state at the same instant is kept once. */
function applyChargingState(s: SessionState, cs: ChargingState | undefined, at: string, t: number): void {
  if (cs) s.states = insertSorted<StateChange>(s.states, { ms: t, at, state: cs }, (x) => x.state === cs);
}

function insertSorted<T extends { ms: number }>(list: T[], item: T, same: (a: T) => boolean): T[] {
  const n = list.length;
  if (n === 0 || list[n - 1].ms < item.ms) return [...list, item]; // the usual case: in order
  if (list.some((x) => x.ms === item.ms && same(x))) return list;
  let i = list.length;
  while (i > 0 && list[i - 1].ms > item.ms) i--;
  return [...list.slice(0, i), item, ...list.slice(i)];
}

function applyEnd(s: SessionState, fact: Fact<'transaction.ended'>, t: number, ctx: DeciderContext): void {
  s.end = { at: fact.occurredAt, ms: t, receivedAtMs: ctx.ms(fact.receivedAt), eventId: fact.eventId };
  if (fact.meterStopWh !== undefined) s.end.meterStopWh = fact.meterStopWh;
  if (fact.stoppedReason !== undefined) s.end.reason = fact.stoppedReason;
  if (fact.idToken) s.end.stopIdToken = fact.idToken;
  if (fact.tx) s.endSeqNo = fact.tx.seqNo;
}

/**
 * A connector knows the session open on it (for the never-stopped rule): set when a session starts there
 * (unless a later-started one is open), cleared once it ends or is closed by a rule.
 */
function withOpenSessionOnConnector(
  connectors: Connectors,
  before: SessionsState,
  s: SessionState,
  fact: ChargerEvent,
  t: number,
): Connectors {
  const open = s.end === undefined && s.closure === undefined;
  const starts = fact.type === 'transaction.started';
  if (!s.connectorKey || (open && !starts)) return connectors;
  const c = connectors[s.connectorKey];
  if (open && (!c?.openSessionId || (sessionOf(before, c.openSessionId)?.startedAtMs ?? 0) <= s.startedAtMs)) {
    return {
      ...connectors,
      [s.connectorKey]: {
        status: c?.status ?? 'Occupied',
        ms: c?.ms ?? t,
        ...(c?.chargingState ? { chargingState: c.chargingState } : {}),
        openSessionId: s.sessionId,
      },
    };
  }
  if (!open && c?.openSessionId === s.sessionId) return { ...connectors, [s.connectorKey]: withoutOpenSession(c) };
  return connectors;
}

function withoutOpenSession(c: ConnectorState): ConnectorState {
  const { openSessionId: _drop, ...rest } = c;
  return rest;
}

// ------------------------------------------------------------------------------------------ duplicates, retention

/** A retried 1.6 StartTransaction: its transactionId names the first session too (counted as a duplicate). */
function addAlias(
  state: SessionsState,
  event: Extract<SessionDeciderEvent, { type: 'session.transaction.aliased' }>,
  ctx: DeciderContext,
): SessionsState {
  const s = sessionOf(state, event.sessionId);
  if (!s) return state;
  const next = cloneSession(s);
  next.aliases = [...s.aliases, event.transactionId];
  next.duplicatesIgnored = s.duplicatesIgnored + 1;
  next.flags = addFlag(s.flags, 'DUPLICATES_IGNORED');
  if (chunkedLast(next.sources)?.eventId !== event.fact.source.eventId)
    next.sources = chunkedAppend(next.sources, sourceOf(event.fact));
  return putSession(state, next, {
    ...state.byTransaction,
    [ctx.transactionKey(event.stationId, event.transactionId)]: s.sessionId,
  });
}

/** Repeated messages are counted (DUPLICATES_IGNORED); transactionData repeating samples is normal, not counted. */
function countDiscarded(
  state: SessionsState,
  event: Extract<SessionDeciderEvent, { type: 'session.fact.discarded' }>,
): SessionsState {
  const s = event.sessionId === undefined ? undefined : sessionOf(state, event.sessionId);
  if (!s || event.reason === 'REPEATED_IN_TRANSACTION_DATA') return state;
  const next = cloneSession(s);
  next.duplicatesIgnored = s.duplicatesIgnored + 1;
  next.flags = addFlag(s.flags, 'DUPLICATES_IGNORED');
  return putSession(state, next);
}

function forget(state: SessionsState, event: SessionsForgotten): SessionsState {
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

// ------------------------------------------------------------------------------------------ published

/** What a session remembers of its public events: their count, the last update, the last session.ended. */
function notePublished(state: SessionsState, event: PublicSessionEvent, ctx: DeciderContext): SessionsState {
  const s = sessionOf(state, event.payload.sessionId);
  if (!s) return state;
  const next = cloneSession(s);
  next.published = s.published + 1;
  let connectors = state.connectors;
  if (event.type === 'session.started') next.startedEmitted = true;
  if (event.type === 'session.updated') {
    next.lastUpdateMs = ctx.ms(event.occurredAt);
    next.lastUpdateState = event.payload.chargingState;
    if (event.payload.status === 'incomplete') next.heldIncomplete = true;
  }
  if (event.type === 'session.ended') {
    const p = event.payload;
    next.ended = { revision: p.revision, payload: p, receivedMs: Math.max(s.lastReceivedMs, s.ended?.receivedMs ?? 0) };
    if (p.closure !== 'stop' && !s.end)
      next.closure = { rule: p.closure, endedAt: p.endedAt, endedAtMs: ctx.ms(p.endedAt) };
    if (p.closure === 'incomplete-timeout')
      next.closure = { rule: 'incomplete-timeout', endedAt: p.endedAt, endedAtMs: ctx.ms(p.endedAt) };
    const c = s.connectorKey ? connectors[s.connectorKey] : undefined;
    if (c?.openSessionId === s.sessionId && s.connectorKey)
      connectors = { ...connectors, [s.connectorKey]: withoutOpenSession(c) };
  }
  return putSession(state, next, undefined, undefined, connectors);
}
