import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import { Topics } from '../topics';

/** Decimal strings: energy, durations, power and current travel as text, never JS numbers. */
export const Decimal = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 40 });
const Instant = Type.String({ format: 'date-time' });
const ChargingState = Type.Union(['Charging', 'EVConnected', 'SuspendedEV', 'SuspendedEVSE', 'Idle'].map((s) => Type.Literal(s)));
const Protocol = Type.Union([Type.Literal('ocpp1.6'), Type.Literal('ocpp2.0.1')]);
const IdToken = closed({ idToken: Type.String({ maxLength: 255 }), type: Type.String({ maxLength: 50 }) });
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
  type: Type.Union(['ENERGY', 'TIME', 'PARKING_TIME', 'MAX_POWER', 'MAX_CURRENT'].map((s) => Type.Literal(s))),
  volume: Decimal,
});

const ChargingPeriod = closed({
  startDateTime: Instant,
  endDateTime: Instant,
  chargingState: ChargingState,
  category: Type.Union(['CHARGING', 'SUSPENDED_EVSE', 'PREPARING', 'PARKING', 'IDLE'].map((s) => Type.Literal(s))),
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
  description: 'a session closed, with totals, charging periods, data quality and provenance; a later correction re-emits it with revision + 1',
  schema: closed({
    ...identity,
    revision: Type.Integer({ minimum: 1 }),
    closure: Type.Union(['stop', 'new-transaction', 'timeout', 'incomplete-timeout'].map((s) => Type.Literal(s))),
    startedAt: Instant,
    endedAt: Instant,
    stoppedReason: Type.Optional(Type.String()),
    idToken: Type.Optional(IdToken),
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
    signedMeterValues: Type.Array(closed({ at: Instant, context: Type.String(), measurand: Type.String(), signed: SignedMeterValue })),
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
    totals: { energyWh: '20000', energyKwh: '20', timeSeconds: '3600', chargingTimeSeconds: '3000', parkingTimeSeconds: '600' },
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

export type SessionStartedEvent = EventOf<typeof SessionStartedV1>;
export type SessionUpdatedEvent = EventOf<typeof SessionUpdatedV1>;
export type SessionEndedEvent = EventOf<typeof SessionEndedV1>;
