/**
 * The events of the session decider. Public events (session.started / session.updated / session.ended) go
 * to `session.events`; the `session.fact.*` / `session.transaction.aliased` events are the decider's own
 * record of what it applied, so that `evolve` can rebuild the state from the decider's output alone.
 */
import type { ChargerEvent } from '@csms/ocpp-normaliser';
import type {
  EnergyTimelineResolution,
  SessionEndedEvent,
  SessionStartedEvent,
  SessionUpdatedEvent,
  SourceRange,
} from '@csms/contracts';

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

/**
 * The public events are the contracts' (`@csms/contracts` events/session.ts): their payload types are the
 * `Static<>` of the TypeBox schemas, so the decider builds exactly what the schemas check. The one mapping:
 * a decided event has no `source` yet (the service that publishes it adds its own name).
 */
type Decided<E> = Omit<E, 'source'>;
export type SessionStarted = Decided<SessionStartedEvent>;
export type SessionUpdated = Decided<SessionUpdatedEvent>;
/** version 2: of bounded size (see the README, "Size bound") */
export type SessionEnded = Decided<SessionEndedEvent>;
export type PublicSessionEvent = SessionStarted | SessionUpdated | SessionEnded;

export type SessionStartedPayload = SessionStartedEvent['payload'];
export type SessionUpdatedPayload = SessionUpdatedEvent['payload'];
export type SessionEndedPayload = SessionEndedEvent['payload'];

/** Where a session's facts came from: the inbound records (envelope id and log position). */
export type SourceRef = SessionStartedPayload['sources'][number];
export type SessionClosure = SessionEndedPayload['closure'];
export type SessionTotals = SessionEndedPayload['totals'];
export type ChargingPeriod = SessionEndedPayload['chargingPeriods'][number];
/**
 * CHARGING: Charging. SUSPENDED_EVSE: the EV wants power, the EVSE gives none (not parking, per OCPI 2.2.1).
 * PREPARING: connected before energy first flowed. PARKING: connected, not requesting power (SuspendedEV; or
 * EVConnected/Finishing after charging). IDLE: no EV connected while the transaction runs.
 */
export type PeriodCategory = ChargingPeriod['category'];
/** OCPI 2.2.1 CdrDimensionType subset the session can state: ENERGY kWh, TIME/PARKING_TIME hours (6 dp), MAX_POWER kW, MAX_CURRENT A. */
export type CdrDimension = ChargingPeriod['dimensions'][number];
export type SignedReading = SessionEndedPayload['signedMeterValues'][number];

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

export type InternalSessionEvent =
  SessionFactRecorded | SessionFactDiscarded | SessionTransactionAliased | SessionsForgotten;
export type SessionDeciderEvent = PublicSessionEvent | InternalSessionEvent;

export function isPublicSessionEvent(e: SessionDeciderEvent): e is PublicSessionEvent {
  return e.type === 'session.started' || e.type === 'session.updated' || e.type === 'session.ended';
}
