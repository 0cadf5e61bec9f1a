import type { ChargingState, IdToken, OcppProtocol } from '@csms/ocpp-normaliser';
import type { SessionClosure, SessionFlag, SignedReading, SourceRef } from './events';

/** A total active-import register reading (Wh, decimal string) at a station time. */
/**
 * Immutable singly linked list, newest first. Appending is O(1) and shares everything with the previous
 * state (arrays would be copied on every event). Plain data: deep-equal comparable, JSON serialisable.
 */
export type Chain<T> = { readonly head: T; readonly tail: Chain<T> } | null;

export function chainToArray<T>(c: Chain<T>): T[] {
  const out: T[] = [];
  for (let x = c; x; x = x.tail) out.push(x.head);
  return out.reverse();
}

/** Inserts by ascending ms (newest at the head); keeps the chain when an item at that ms is `same`. */
export function chainInsert<T extends { ms: number }>(c: Chain<T>, item: T, same: (x: T) => boolean): Chain<T> {
  if (!c || c.head.ms < item.ms) return { head: item, tail: c }; // the usual case: in order
  const newer: T[] = [];
  let x: Chain<T> = c;
  while (x && x.head.ms >= item.ms) {
    if (x.head.ms === item.ms && same(x.head)) return c;
    newer.push(x.head);
    x = x.tail;
  }
  let out: Chain<T> = { head: item, tail: x };
  for (let i = newer.length - 1; i >= 0; i--) out = { head: newer[i], tail: out };
  return out;
}

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
  meterStartWh?: string;
  reservationId?: number;
  remoteStartId?: number;
  initialState?: ChargingState;
  end?: SessionEnd;
  readings: Chain<EnergyReading>;
  power: Chain<InstantReading>;
  current: Chain<InstantReading>;
  states: StateChange[];
  /** 2.0.1: the seqNos seen, each with the source record id that first carried it */
  seqNos: Chain<{ seqNo: number; eventId: string }>;
  seqCount: number;
  seqMin?: number;
  seqMax?: number;
  startSeqNo?: number;
  endSeqNo?: number;
  signed: SignedReading[];
  flags: SessionFlag[];
  /** newest first; may repeat an id that is not at the head (deduplicated when published) */
  sources: Chain<SourceRef>;
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
  ended?: { revision: number; digest: string; receivedMs: number };
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

export const initialState = (): SessionsState => ({ sessions: [], closed: {}, byTransaction: {}, byStartIdentity: {}, connectors: {} });
