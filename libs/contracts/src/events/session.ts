import { Type, type Static } from '@sinclair/typebox';
import { defineEvent, type EventOf, type Upcaster } from '../catalogue';
import { closed } from '../envelope';
import { Topics } from '../topics';
import { SessionStationSchema, TokenAsAnsweredSchema } from './ocpp';
import {
  SESSION_ENDED_LIMITS as L,
  boundPeriods,
  boundSignedMeterValues,
  boundTimeline,
  sourceRanges,
} from './session-bounds';

/** Decimal strings: energy, durations, power and current travel as text, never JS numbers. */
export const Decimal = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 40 });
const Instant = Type.String({ format: 'date-time' });
const ChargingState = Type.Union(
  (['Charging', 'EVConnected', 'SuspendedEV', 'SuspendedEVSE', 'Idle'] as const).map((s) => Type.Literal(s)),
);
const Protocol = Type.Union([Type.Literal('ocpp1.6'), Type.Literal('ocpp2.0.1')]);
/**
 * `registry`: what the gateway's registry said of the token when the gateway answered the station with it (from the
 * inbound record; absent in sessions made from records of before it was recorded). Added to session.started v1 and
 * session.ended v1/v2 as an optional property (additive: every earlier event still reads).
 */
const IdToken = closed({
  idToken: Type.String({ maxLength: 255 }),
  type: Type.String({ maxLength: 50 }),
  registry: Type.Optional(TokenAsAnsweredSchema),
});
const SourceRef = closed({
  eventId: Type.String({ minLength: 1 }),
  topic: Type.Optional(Type.String()),
  partition: Type.Optional(Type.Integer({ minimum: 0 })),
  offset: Type.Optional(Type.String()),
});
const Flag = Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' });
const SignedMeterValue = Type.Union([
  closed({ format: Type.Literal('ocpp1.6-SignedData'), data: Type.String() }),
  closed({
    format: Type.Literal('ocpp2.0.1-signedMeterValue'),
    signedMeterData: Type.String(),
    signingMethod: Type.String(),
    encodingMethod: Type.String(),
    publicKey: Type.String(),
  }),
]);
const identity = {
  sessionId: Type.String({ format: 'uuid' }),
  stationId: Type.String({ minLength: 1 }),
  protocol: Protocol,
  transactionId: Type.String({ minLength: 1 }),
  evseId: Type.Optional(Type.Integer({ minimum: 0 })),
  connectorId: Type.Optional(Type.Integer({ minimum: 0 })),
};

export const SessionStartedV1 = defineEvent({
  type: 'session.started',
  version: 1,
  topic: Topics.sessionEvents,
  description: 'a charging session began (or was opened by a later message when its start never arrived)',
  schema: closed({
    ...identity,
    startedAt: Instant,
    startKnown: Type.Boolean(),
    idToken: Type.Optional(IdToken),
    /**
     * the registry's facts of the station when the gateway answered the start (site, time zone, location, the
     * session's EVSE): added as an optional property (absent in sessions made from records of before, or when the
     * registry did not know the station)
     */
    station: Type.Optional(SessionStationSchema),
    meterStartWh: Type.Optional(Decimal),
    reservationId: Type.Optional(Type.Integer()),
    remoteStartId: Type.Optional(Type.Integer()),
    sources: Type.Array(SourceRef),
  }),
  example: {
    sessionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
    stationId: 'CP-001',
    protocol: 'ocpp1.6',
    transactionId: '42',
    connectorId: 1,
    startedAt: '2026-03-01T10:00:00Z',
    startKnown: true,
    idToken: { idToken: 'ABC123', type: 'ocpp1.6-idTag' },
    meterStartWh: '1200',
    sources: [{ eventId: '7c9e6679-7425-50de-944b-e07fc1f90ae7', topic: 'ocpp.inbound', partition: 0, offset: '17' }],
  },
});

export const SessionUpdatedV1 = defineEvent({
  type: 'session.updated',
  version: 1,
  topic: Topics.sessionEvents,
  description: 'progress of a running session (throttled)',
  schema: closed({
    ...identity,
    status: Type.Union([Type.Literal('active'), Type.Literal('incomplete')]),
    startedAt: Instant,
    chargingState: ChargingState,
    energyWh: Decimal,
    lastReadingAt: Type.Optional(Instant),
    missingSeqNos: Type.Array(Type.Integer({ minimum: 0 })),
    flags: Type.Array(Flag),
  }),
  example: {
    sessionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
    stationId: 'CP-001',
    protocol: 'ocpp2.0.1',
    transactionId: 'tx-9',
    evseId: 1,
    status: 'active',
    startedAt: '2026-03-01T10:00:00Z',
    chargingState: 'Charging',
    energyWh: '5230.5',
    lastReadingAt: '2026-03-01T10:15:00Z',
    missingSeqNos: [],
    flags: [],
  },
});

const Dimension = closed({
  type: Type.Union(
    (['ENERGY', 'TIME', 'PARKING_TIME', 'MAX_POWER', 'MAX_CURRENT'] as const).map((s) => Type.Literal(s)),
  ),
  volume: Decimal,
});

const ChargingPeriod = closed({
  startDateTime: Instant,
  endDateTime: Instant,
  chargingState: ChargingState,
  category: Type.Union(
    (['CHARGING', 'SUSPENDED_EVSE', 'PREPARING', 'PARKING', 'IDLE'] as const).map((s) => Type.Literal(s)),
  ),
  energyWh: Decimal,
  durationSeconds: Decimal,
  maxPowerW: Type.Optional(Decimal),
  maxPowerDerived: Type.Optional(Type.Literal(true)),
  maxCurrentA: Type.Optional(Decimal),
  dimensions: Type.Array(Dimension),
});

export const SessionEndedV1 = defineEvent({
  type: 'session.ended',
  version: 1,
  topic: Topics.sessionEvents,
  description:
    'a session closed, with totals, charging periods, data quality and provenance; a later correction re-emits it with revision + 1',
  schema: closed({
    ...identity,
    revision: Type.Integer({ minimum: 1 }),
    closure: Type.Union(
      (['stop', 'new-transaction', 'timeout', 'incomplete-timeout'] as const).map((s) => Type.Literal(s)),
    ),
    startedAt: Instant,
    endedAt: Instant,
    stoppedReason: Type.Optional(Type.String()),
    idToken: Type.Optional(IdToken),
    /**
     * the registry's facts of the station when the gateway answered the start (site, time zone, location, the
     * session's EVSE): added as an optional property (absent in sessions made from records of before, or when the
     * registry did not know the station)
     */
    station: Type.Optional(SessionStationSchema),
    stopIdToken: Type.Optional(IdToken),
    meterStartWh: Type.Optional(Decimal),
    meterStopWh: Type.Optional(Decimal),
    totals: closed({
      energyWh: Decimal,
      energyKwh: Decimal,
      timeSeconds: Decimal,
      chargingTimeSeconds: Decimal,
      parkingTimeSeconds: Decimal,
    }),
    chargingPeriods: Type.Array(ChargingPeriod),
    energyTimeline: Type.Array(closed({ at: Instant, cumulativeWh: Decimal })),
    signedMeterValues: Type.Array(
      closed({ at: Instant, context: Type.String(), measurand: Type.String(), signed: SignedMeterValue }),
    ),
    dataQuality: closed({
      flags: Type.Array(Flag),
      needsReview: Type.Boolean(),
      estimated: Type.Boolean(),
      missingSeqNos: Type.Array(Type.Integer({ minimum: 0 })),
      duplicatesIgnored: Type.Integer({ minimum: 0 }),
    }),
    sources: Type.Array(SourceRef),
  }),
  example: {
    sessionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
    stationId: 'CP-001',
    protocol: 'ocpp1.6',
    transactionId: '42',
    connectorId: 1,
    revision: 1,
    closure: 'stop',
    startedAt: '2026-03-01T10:00:00Z',
    endedAt: '2026-03-01T11:00:00Z',
    stoppedReason: 'Local',
    idToken: { idToken: 'ABC123', type: 'ocpp1.6-idTag' },
    meterStartWh: '1200',
    meterStopWh: '21200',
    totals: {
      energyWh: '20000',
      energyKwh: '20',
      timeSeconds: '3600',
      chargingTimeSeconds: '3000',
      parkingTimeSeconds: '600',
    },
    chargingPeriods: [
      {
        startDateTime: '2026-03-01T10:00:00Z',
        endDateTime: '2026-03-01T10:50:00Z',
        chargingState: 'Charging',
        category: 'CHARGING',
        energyWh: '20000',
        durationSeconds: '3000',
        maxPowerW: '24000',
        maxCurrentA: '34.8',
        dimensions: [
          { type: 'ENERGY', volume: '20' },
          { type: 'TIME', volume: '0.833333' },
          { type: 'MAX_POWER', volume: '24' },
        ],
      },
      {
        startDateTime: '2026-03-01T10:50:00Z',
        endDateTime: '2026-03-01T11:00:00Z',
        chargingState: 'SuspendedEV',
        category: 'PARKING',
        energyWh: '0',
        durationSeconds: '600',
        dimensions: [{ type: 'PARKING_TIME', volume: '0.166667' }],
      },
    ],
    energyTimeline: [
      { at: '2026-03-01T10:00:00Z', cumulativeWh: '0' },
      { at: '2026-03-01T10:50:00Z', cumulativeWh: '20000' },
    ],
    signedMeterValues: [],
    dataQuality: { flags: [], needsReview: false, estimated: false, missingSeqNos: [], duplicatesIgnored: 0 },
    sources: [{ eventId: '7c9e6679-7425-50de-944b-e07fc1f90ae7', topic: 'ocpp.inbound', partition: 0, offset: '17' }],
  },
});

// ------------------------------------------------------------------ session.ended v2: bounded size

const Instant2 = Type.String({ format: 'date-time', maxLength: 35 });
const Decimal2 = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 40 });
const Flag2 = Type.String({ pattern: '^[A-Z][A-Z0-9_]*$', maxLength: 40 });
const IdToken2 = IdToken;
const identity2 = {
  sessionId: Type.String({ format: 'uuid' }),
  stationId: Type.String({ minLength: 1, maxLength: 255 }),
  protocol: Protocol,
  transactionId: Type.String({ minLength: 1, maxLength: 64 }),
  evseId: Type.Optional(Type.Integer({ minimum: 0 })),
  connectorId: Type.Optional(Type.Integer({ minimum: 0 })),
};

/** Inbound records of a session, per topic + partition: the recipe of `sha256` is in `session-bounds.ts` and the README. */
export const SourceRangeSchema = closed({
  topic: Type.Optional(Type.String({ minLength: 1, maxLength: 249, pattern: '^[A-Za-z0-9._-]+$' })),
  partition: Type.Optional(Type.Integer({ minimum: 0 })),
  firstOffset: Type.Optional(Type.String({ pattern: '^\\d+$', maxLength: 20 })),
  lastOffset: Type.Optional(Type.String({ pattern: '^\\d+$', maxLength: 20 })),
  /** records of this range the session used (others in between belong to other sessions or stations) */
  count: Type.Integer({ minimum: 1 }),
  /** SHA-256 (hex) of the used records' envelope ids, each followed by "\n", in ascending offset order */
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
});
export type SourceRangeWire = Static<typeof SourceRangeSchema>;

export const EnergyTimelineResolutionSchema = closed({
  mode: Type.Union([Type.Literal('exact'), Type.Literal('resampled')]),
  /** resampled: the grid step (UTC epoch aligned), besides the start, the end and every period boundary */
  gridSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
  /** points of the full timeline (all of them are in the session service: GET /api/v1/sessions/{id}/readings) */
  points: Type.Integer({ minimum: 0 }),
});

const ChargingPeriod2 = closed({
  startDateTime: Instant2,
  endDateTime: Instant2,
  chargingState: ChargingState,
  category: Type.Union(
    (['CHARGING', 'SUSPENDED_EVSE', 'PREPARING', 'PARKING', 'IDLE'] as const).map((s) => Type.Literal(s)),
  ),
  energyWh: Decimal2,
  durationSeconds: Decimal2,
  maxPowerW: Type.Optional(Decimal2),
  maxPowerDerived: Type.Optional(Type.Literal(true)),
  maxCurrentA: Type.Optional(Decimal2),
  dimensions: Type.Array(Dimension, { maxItems: 4 }),
});

const signedText = Type.String({ maxLength: L.signedMeterValueBytes });
const SignedMeterValue2 = Type.Union([
  closed({ format: Type.Literal('ocpp1.6-SignedData'), data: signedText }),
  closed({
    format: Type.Literal('ocpp2.0.1-signedMeterValue'),
    signedMeterData: signedText,
    signingMethod: Type.String({ maxLength: 50 }),
    encodingMethod: Type.String({ maxLength: 50 }),
    publicKey: signedText,
  }),
]);

/**
 * v2: v1 with a size that does not grow with the session (see `session-bounds.ts` for the rules and
 * the README for the bound): `sources` are offset ranges with a count and a hash per topic + partition;
 * `energyTimeline` is exact up to 1,000 points, else resampled (`energyTimelineResolution` says which);
 * at most 64 `chargingPeriods` (merged beyond, flag CHARGING_PERIODS_MERGED); at most 4
 * `signedMeterValues` (`signedMeterValuesOmitted` counts the others). Every reading and source record
 * stays reachable through the session service's API.
 */
export const SessionEndedV2 = defineEvent({
  type: 'session.ended',
  version: 2,
  topic: Topics.sessionEvents,
  description:
    'a session closed, with totals, charging periods, data quality and provenance, of bounded size; a later correction re-emits it with revision + 1',
  schema: closed({
    ...identity2,
    revision: Type.Integer({ minimum: 1 }),
    closure: Type.Union(
      (['stop', 'new-transaction', 'timeout', 'incomplete-timeout'] as const).map((s) => Type.Literal(s)),
    ),
    startedAt: Instant2,
    endedAt: Instant2,
    stoppedReason: Type.Optional(Type.String({ maxLength: 64 })),
    idToken: Type.Optional(IdToken2),
    stopIdToken: Type.Optional(IdToken2),
    /**
     * the registry's facts of the station when the gateway answered the start (site, time zone, location, the
     * session's EVSE): added as an optional property (absent in sessions made from records of before, or when the
     * registry did not know the station)
     */
    station: Type.Optional(SessionStationSchema),
    meterStartWh: Type.Optional(Decimal2),
    meterStopWh: Type.Optional(Decimal2),
    totals: closed({
      energyWh: Decimal2,
      energyKwh: Decimal2,
      timeSeconds: Decimal2,
      chargingTimeSeconds: Decimal2,
      parkingTimeSeconds: Decimal2,
    }),
    chargingPeriods: Type.Array(ChargingPeriod2, { maxItems: L.chargingPeriods }),
    energyTimeline: Type.Array(
      closed({
        at: Type.String({
          format: 'date-time',
          pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$',
          maxLength: 24,
        }),
        cumulativeWh: Type.String({ pattern: '^\\d+(\\.\\d+)?$', maxLength: 20 }),
      }),
      { maxItems: L.timelinePoints },
    ),
    energyTimelineResolution: EnergyTimelineResolutionSchema,
    signedMeterValues: Type.Array(
      closed({
        at: Instant2,
        context: Type.String({ maxLength: 50 }),
        measurand: Type.String({ maxLength: 50 }),
        signed: SignedMeterValue2,
      }),
      {
        maxItems: L.signedMeterValues,
      },
    ),
    signedMeterValuesOmitted: Type.Integer({ minimum: 0 }),
    dataQuality: closed({
      flags: Type.Array(Flag2, { maxItems: 32 }),
      needsReview: Type.Boolean(),
      estimated: Type.Boolean(),
      missingSeqNos: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: L.missingSeqNos }),
      duplicatesIgnored: Type.Integer({ minimum: 0 }),
    }),
    sources: Type.Array(SourceRangeSchema, { maxItems: L.sourceRanges }),
  }),
  example: {
    ...SessionEndedV1.example,
    energyTimeline: [
      { at: '2026-03-01T10:00:00.000Z', cumulativeWh: '0' },
      { at: '2026-03-01T10:50:00.000Z', cumulativeWh: '20000' },
    ],
    energyTimelineResolution: { mode: 'exact', points: 2 },
    signedMeterValuesOmitted: 0,
    sources: [
      {
        topic: 'ocpp.inbound',
        partition: 0,
        firstOffset: '17',
        lastOffset: '17',
        count: 1,
        sha256: 'aa97426dec509285fb92fd359a5ac1d4280477eac0b1bcefc391a941b65c3e34',
      },
    ],
  },
});
export type SessionEndedV1Payload = Static<typeof SessionEndedV1.schema>;
export type SessionEndedV2Payload = Static<typeof SessionEndedV2.schema>;

/** The (review) flag bounding adds when it merged charging periods. */
export const CHARGING_PERIODS_MERGED = 'CHARGING_PERIODS_MERGED';

/**
 * v1 -> v2: the same rules the session decider applies (session-bounds.ts) to the v1 lists: sources to
 * ranges, the timeline resampled when longer than 1,000 points, periods merged beyond 64 (flag
 * CHARGING_PERIODS_MERGED, needsReview), signed meter values bounded.
 */
export const sessionEndedV1ToV2: Upcaster = {
  type: SessionEndedV2.type,
  fromVersion: 1,
  up: (payload) => {
    const p = payload as SessionEndedV1Payload;
    const periods = boundPeriods(p.chargingPeriods);
    const startMs = Date.parse(p.startedAt);
    const endMs = Date.parse(p.endedAt);
    const boundaries = periods.periods.slice(1).map((x) => Date.parse(x.startDateTime));
    const timeline = boundTimeline(p.energyTimeline, startMs, endMs, boundaries);
    const signed = boundSignedMeterValues(p.signedMeterValues);
    const flags =
      periods.merged && !p.dataQuality.flags.includes(CHARGING_PERIODS_MERGED)
        ? [...p.dataQuality.flags, CHARGING_PERIODS_MERGED].sort()
        : p.dataQuality.flags;
    const out: SessionEndedV2Payload = {
      ...p,
      chargingPeriods: periods.periods,
      energyTimeline: timeline.points,
      energyTimelineResolution: timeline.resolution,
      signedMeterValues: signed.kept,
      signedMeterValuesOmitted: signed.omitted,
      dataQuality: { ...p.dataQuality, flags, needsReview: p.dataQuality.needsReview || periods.merged },
      sources: sourceRanges(p.sources),
    };
    return out;
  },
};

export type SessionStartedEvent = EventOf<typeof SessionStartedV1>;
export type SessionUpdatedEvent = EventOf<typeof SessionUpdatedV1>;
export type SessionEndedEvent = EventOf<typeof SessionEndedV2>;
export type SessionEndedV1Event = EventOf<typeof SessionEndedV1>;
