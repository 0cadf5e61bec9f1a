/**
 * The events of the session decider. Public events (session.started / session.updated / session.ended) go
 * to `session.events`; the `session.fact.*` / `session.transaction.aliased` events are the decider's own
 * record of what it applied, so that `evolve` can rebuild the state from the decider's output alone.
 */
import type { ChargerEvent, ChargingState, IdToken, OcppProtocol, SignedMeterValue } from '@csms/ocpp-normaliser';
import type { EnergyTimelineResolution, SourceRange } from '@csms/contracts';

export type { EnergyTimelineResolution, SourceRange };

/** Data-quality flags. Review flags set `needsReview`; see README for each rule. */
export type SessionFlag =
  // review
  | 'START_MISSING'
  | 'START_REGISTER_PLACEHOLDER'
  | 'ENERGY_JUMP_IMPLAUSIBLE'
  | 'REGISTER_WENT_BACKWARDS'
  | 'STOP_METER_VALUE_ZERO'
  | 'NEVER_STOPPED'
  | 'SEQNO_GAP'
  | 'STATION_CLOCK_AHEAD'
  | 'STATION_CLOCK_INVALID'
  | 'END_BEFORE_START'
  | 'NO_ENERGY_DATA'
  | 'CHARGING_PERIODS_MERGED'
  // informational
  | 'ENERGY_FROM_LAST_SAMPLE'
  | 'CLOSED_BY_NEW_TRANSACTION'
  | 'CLOSED_BY_TIMEOUT'
  | 'DELIVERED_LATE'
  | 'OFFLINE_QUEUED'
  | 'TIMESTAMP_WITHOUT_OFFSET'
  | 'READING_OUTSIDE_SESSION'
  | 'DUPLICATES_IGNORED'
  | 'REVISED_AFTER_CLOSE'
  | 'UNIT_MISMATCH_IGNORED';

export const REVIEW_FLAGS: readonly SessionFlag[] = [
  'START_MISSING',
  'START_REGISTER_PLACEHOLDER',
  'ENERGY_JUMP_IMPLAUSIBLE',
  'REGISTER_WENT_BACKWARDS',
  'STOP_METER_VALUE_ZERO',
  'NEVER_STOPPED',
  'SEQNO_GAP',
  'STATION_CLOCK_AHEAD',
  'STATION_CLOCK_INVALID',
  'END_BEFORE_START',
  'NO_ENERGY_DATA',
  'CHARGING_PERIODS_MERGED',
];

/** Where a session's facts came from: the inbound records (envelope id and log position). */
export interface SourceRef {
  eventId: string;
  topic?: string;
  partition?: number;
  offset?: string;
}

/**
 * CHARGING: Charging. SUSPENDED_EVSE: the EV wants power, the EVSE gives none (not parking, per OCPI 2.2.1).
 * PREPARING: connected before energy first flowed. PARKING: connected, not requesting power (SuspendedEV; or
 * EVConnected/Finishing after charging). IDLE: no EV connected while the transaction runs.
 */
export type PeriodCategory = 'CHARGING' | 'SUSPENDED_EVSE' | 'PREPARING' | 'PARKING' | 'IDLE';

/** OCPI 2.2.1 CdrDimensionType subset the session can state. Volumes are decimal strings. */
export interface CdrDimension {
  type: 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'MAX_POWER' | 'MAX_CURRENT';
  /** ENERGY kWh, TIME/PARKING_TIME hours (6 dp), MAX_POWER kW, MAX_CURRENT A */
  volume: string;
}

export interface ChargingPeriod {
  startDateTime: string;
  endDateTime: string;
  chargingState: ChargingState;
  category: PeriodCategory;
  /** decimal strings */
  energyWh: string;
  durationSeconds: string;
  maxPowerW?: string;
  /** max power was not sampled; it is the highest average power between two register readings */
  maxPowerDerived?: true;
  /** sum over phases */
  maxCurrentA?: string;
  dimensions: CdrDimension[];
}

export interface SignedReading {
  at: string;
  context: string;
  measurand: string;
  signed: SignedMeterValue;
}

export type SessionClosure = 'stop' | 'new-transaction' | 'timeout' | 'incomplete-timeout';

interface SessionIdentity {
  sessionId: string;
  stationId: string;
  protocol: OcppProtocol;
  transactionId: string;
  evseId?: number;
  connectorId?: number;
}

export interface SessionStartedPayload extends SessionIdentity {
  startedAt: string;
  /** false when the session was opened by a later message because its start never arrived (yet) */
  startKnown: boolean;
  idToken?: IdToken;
  meterStartWh?: string;
  reservationId?: number;
  remoteStartId?: number;
  sources: SourceRef[];
}

export interface SessionUpdatedPayload extends SessionIdentity {
  /** incomplete: the end arrived but seqNos or the start are missing (held until they arrive or the grace rule closes it) */
  status: 'active' | 'incomplete';
  startedAt: string;
  chargingState: ChargingState;
  /** energy so far, Wh, decimal string */
  energyWh: string;
  lastReadingAt?: string;
  missingSeqNos: number[];
  flags: SessionFlag[];
}

export interface SessionTotals {
  energyWh: string;
  energyKwh: string;
  timeSeconds: string;
  chargingTimeSeconds: string;
  parkingTimeSeconds: string;
}

export interface SessionEndedPayload extends SessionIdentity {
  /** 1 for the first session.ended; a later message that changes the result re-emits it with revision + 1 */
  revision: number;
  closure: SessionClosure;
  startedAt: string;
  endedAt: string;
  stoppedReason?: string;
  idToken?: IdToken;
  stopIdToken?: IdToken;
  meterStartWh?: string;
  meterStopWh?: string;
  totals: SessionTotals;
  /** at most 64 (shorter ones merged beyond: CHARGING_PERIODS_MERGED) */
  chargingPeriods: ChargingPeriod[];
  /**
   * cumulative billed energy (for splitting periods at tariff boundaries): at each register reading used
   * when there are at most 1,000, else resampled (start, end, period boundaries and a grid; see
   * energyTimelineResolution)
   */
  energyTimeline: Array<{ at: string; cumulativeWh: string }>;
  energyTimelineResolution: EnergyTimelineResolution;
  /** at most 4 (Transaction.Begin, Transaction.End first); all of them are in the session service */
  signedMeterValues: SignedReading[];
  signedMeterValuesOmitted: number;
  dataQuality: {
    flags: SessionFlag[];
    needsReview: boolean;
    /** energy or end time is an estimate (last sample used, or closed by a rule) */
    estimated: boolean;
    missingSeqNos: number[];
    duplicatesIgnored: number;
  };
  /** per topic + partition: offset range, count and hash of the inbound records used */
  sources: SourceRange[];
}

/** Envelope of docs/architecture.md "Events" (session.ended is version 2); `id` is UUID v5 of (sessionId, type, per-session sequence). */
export interface SessionEventEnvelope<T extends string, P, V extends number = 1> {
  id: string;
  type: T;
  version: V;
  occurredAt: string;
  key: string;
  causationId: string;
  correlationId: string;
  payload: P;
}

export type SessionStarted = SessionEventEnvelope<'session.started', SessionStartedPayload>;
export type SessionUpdated = SessionEventEnvelope<'session.updated', SessionUpdatedPayload>;
export type SessionEnded = SessionEventEnvelope<'session.ended', SessionEndedPayload, 2>;
export type PublicSessionEvent = SessionStarted | SessionUpdated | SessionEnded;

/** Internal: a charger event applied to the state (sessionId absent for connector-only facts). */
export interface SessionFactRecorded {
  type: 'session.fact.recorded';
  sessionId?: string;
  fact: ChargerEvent;
}
/**
 * Internal: a charger event recognised as a duplicate (or irrelevant) and not applied. Counted in
 * duplicatesIgnored, except REPEATED_IN_TRANSACTION_DATA (1.6 transactionData repeating samples the session
 * already has: normal, not a repeated message).
 */
export interface SessionFactDiscarded {
  type: 'session.fact.discarded';
  sessionId?: string;
  eventId: string;
  reason: 'DUPLICATE_SEQNO' | 'DUPLICATE_START' | 'DUPLICATE_END' | 'DUPLICATE_SAMPLE' | 'REPEATED_IN_TRANSACTION_DATA';
}
/** Internal: a retried 1.6 StartTransaction got a second transactionId from the gateway; both name one session. */
export interface SessionTransactionAliased {
  type: 'session.transaction.aliased';
  sessionId: string;
  stationId: string;
  transactionId: string;
  fact: ChargerEvent;
}
/** Internal: ended sessions older than the retention are dropped from the state. */
export interface SessionsForgotten {
  type: 'session.forgotten';
  sessionIds: string[];
}

export type InternalSessionEvent = SessionFactRecorded | SessionFactDiscarded | SessionTransactionAliased | SessionsForgotten;
export type SessionDeciderEvent = PublicSessionEvent | InternalSessionEvent;

export function isPublicSessionEvent(e: SessionDeciderEvent): e is PublicSessionEvent {
  return e.type === 'session.started' || e.type === 'session.updated' || e.type === 'session.ended';
}
