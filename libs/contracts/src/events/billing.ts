import { Type, type Static } from '@sinclair/typebox';
import { defineEvent, type EventOf, type Upcaster } from '../catalogue';
import { closed } from '../envelope';
import {
  OCPI_CONNECTOR_FORMATS,
  OCPI_CONNECTOR_TYPES,
  OCPI_POWER_TYPES,
  OcpiGeoLocation,
  stringEnum,
} from '../ocpi-location';
import { Topics } from '../topics';
import { OcpiTariffSchema } from '../ocpi-tariff';
import {
  CdrAssignmentSchema,
  CdrChargingPeriodSchema,
  CdrPricingSchema,
  CdrSignedAuditSchema,
  CdrSignedDataSchema,
  CdrTokenSchema,
} from './cdr-parts';
import { EnergyTimelineResolutionSchema, SourceRangeSchema } from './session';
import { SESSION_ENDED_LIMITS, sourceRanges, type SourceRefIn } from './session-bounds';

const Instant = Type.String({ format: 'date-time' });
const Decimal = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 40 });
const Price = closed({ excl_vat: Decimal, incl_vat: Decimal });
const Obj = Type.Object({}, { additionalProperties: true });

/**
 * OCPI 2.2.1 CdrLocation. The ids are always there; the location fields (address, city, country, coordinates)
 * and the connector fields (standard, format, power type) are required by OCPI but optional here: a station
 * the registry has no location or connector type for is still priced, with the CDR's cdr_location holding
 * what is known and its audit flagging `LOCATION_INCOMPLETE` with the missing fields (never a free CDR).
 */
export const CdrLocationSchema = closed({
  id: Type.String({ minLength: 1, maxLength: 36 }),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  address: Type.Optional(Type.String({ maxLength: 45 })),
  city: Type.Optional(Type.String({ maxLength: 45 })),
  postal_code: Type.Optional(Type.String({ maxLength: 10 })),
  state: Type.Optional(Type.String({ maxLength: 20 })),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
  coordinates: Type.Optional(OcpiGeoLocation),
  evse_uid: Type.String({ minLength: 1, maxLength: 36 }),
  evse_id: Type.String({ minLength: 1, maxLength: 48 }),
  connector_id: Type.String({ minLength: 1, maxLength: 36 }),
  connector_standard: Type.Optional(stringEnum(OCPI_CONNECTOR_TYPES)),
  connector_format: Type.Optional(stringEnum(OCPI_CONNECTOR_FORMATS)),
  connector_power_type: Type.Optional(stringEnum(OCPI_POWER_TYPES)),
});

/** The cdr_location fields OCPI requires that the registry may not have; listed in the audit when missing. */
export const CDR_LOCATION_REQUIRED_FIELDS = [
  'address',
  'city',
  'country',
  'coordinates',
  'connector_standard',
  'connector_format',
  'connector_power_type',
] as const;

/** Data-quality findings about the CDR itself (the session's own flags are in its `remark`). */
export const CdrDataQualitySchema = closed({
  flags: Type.Array(Type.Union([Type.Literal('LOCATION_INCOMPLETE')])),
  /** the required cdr_location fields that could not be filled */
  missingLocationFields: Type.Array(stringEnum(CDR_LOCATION_REQUIRED_FIELDS)),
});

/** A price breakdown as the example shows it: one energy line of 20 kWh at 0.35 (7.00 excl VAT, 21 % VAT). */
const EXAMPLE_PRICING: Static<typeof CdrPricingSchema> = {
  breakdown: {
    periods: [
      {
        period_index: 0,
        start_date_time: '2026-03-01T10:00:00Z',
        local_time: '2026-03-01T11:00:00',
        day_of_week: 'SUNDAY',
        session_seconds: '0',
        energy_before_kwh: '0',
        duration_seconds: '3600',
        reservation: false,
        elements: { ENERGY: 0, FLAT: null, TIME: null, PARKING_TIME: null },
      },
    ],
    lines: [
      {
        category: 'ENERGY',
        dimension: 'ENERGY',
        element_index: 0,
        component_index: 0,
        restrictions: {},
        periods: [0],
        unit: 'kWh',
        quantity: '20',
        billed_quantity: '20',
        step_size: 1,
        unit_price: '0.35',
        vat: '21',
        amount_excl_vat: '7',
        amount_incl_vat: '8.47',
        note: 'PRICED',
      },
    ],
    step_rounding: [],
    price_adjustment: { rule: 'NONE', excl_vat: '0', incl_vat: '0', bound: { excl_vat: null, incl_vat: null } },
  },
  audit: {
    engine_version: 'csms-pricing-ocpi-2.2.1/1.1.0',
    rounding: 'HALF_UP',
    minor_units: 2,
    policies: { parking_step_basis: 'BILLABLE', missing_measurement: 'SATISFIED', unpriced_consumption: 'FREE' },
    time_zone: 'Europe/Amsterdam',
    unrounded: {
      total_cost: { excl_vat: '7', incl_vat: '8.47' },
      total_cost_before_min_max: { excl_vat: '7', incl_vat: '8.47' },
      total_fixed_cost: { excl_vat: '0', incl_vat: '0' },
      total_energy_cost: { excl_vat: '7', incl_vat: '8.47' },
      total_time_cost: { excl_vat: '0', incl_vat: '0' },
      total_parking_cost: { excl_vat: '0', incl_vat: '0' },
      total_reservation_cost: { excl_vat: '0', incl_vat: '0' },
      price_adjustment: { rule: 'NONE', excl_vat: '0', incl_vat: '0', bound: { excl_vat: null, incl_vat: null } },
      total_energy_kwh: '20',
      total_time_seconds: '3600',
      total_parking_time_seconds: '0',
      total_charging_time_seconds: '3600',
      total_reservation_time_seconds: '0',
    },
    warnings: [],
  },
};

/**
 * A priced session: the OCPI 2.2.1 CDR object exactly (`cdr`), and how it was computed (`audit`):
 * tariff id and version, the element used per period, the line items, the unrounded totals, the source
 * session event and inbound records, the engine version and the content hash of `cdr`.
 * A credit CDR (`cdr.credit = true`, `credit_reference_id`) cancels an earlier one when a session is
 * corrected; history is never edited.
 */
export const CdrCreatedV1 = defineEvent({
  type: 'cdr.created',
  version: 1,
  topic: Topics.billingEvents,
  description: 'an OCPI 2.2.1 CDR (or credit CDR) with its audit section',
  schema: closed({
    cdr: Type.Object(
      {
        country_code: Type.String({ minLength: 2, maxLength: 2 }),
        party_id: Type.String({ minLength: 3, maxLength: 3 }),
        id: Type.String({ minLength: 1, maxLength: 39 }),
        start_date_time: Instant,
        end_date_time: Instant,
        session_id: Type.String({ maxLength: 36 }),
        cdr_token: Obj,
        auth_method: Type.String(),
        cdr_location: CdrLocationSchema,
        currency: Type.String({ minLength: 3, maxLength: 3 }),
        tariffs: Type.Array(Obj),
        charging_periods: Type.Array(Obj),
        total_cost: Price,
        total_fixed_cost: Type.Optional(Price),
        total_energy: Decimal,
        total_energy_cost: Type.Optional(Price),
        total_time: Decimal,
        total_time_cost: Type.Optional(Price),
        total_parking_time: Type.Optional(Decimal),
        total_parking_cost: Type.Optional(Price),
        total_reservation_cost: Type.Optional(Price),
        remark: Type.Optional(Type.String({ maxLength: 255 })),
        signed_data: Type.Optional(Obj),
        meter_id: Type.Optional(Type.String({ maxLength: 255 })),
        credit: Type.Optional(Type.Boolean()),
        credit_reference_id: Type.Optional(Type.String({ maxLength: 39 })),
        last_updated: Instant,
      },
      { additionalProperties: false },
    ),
    audit: Type.Object(
      {
        sessionId: Type.String({ format: 'uuid' }),
        sessionRevision: Type.Integer({ minimum: 1 }),
        stationId: Type.String(),
        tariffId: Type.String(),
        tariffVersion: Type.Integer({ minimum: 1 }),
        tariffContentHash: Type.String(),
        assignment: Obj,
        engineVersion: Type.String(),
        timeZone: Type.String(),
        timeZoneSource: Type.Union([Type.Literal('registry'), Type.Literal('default')]),
        sourceEvent: closed({
          eventId: Type.String(),
          topic: Type.String(),
          partition: Type.Integer(),
          offset: Type.String(),
        }),
        inboundRecords: Type.Array(Obj),
        pricing: Obj,
        contentHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
        /** present when the CDR lacks data OCPI requires (e.g. the station has no location registered) */
        dataQuality: Type.Optional(CdrDataQualitySchema),
      },
      { additionalProperties: false },
    ),
  }),
  example: {
    cdr: {
      country_code: 'NL',
      party_id: 'CSM',
      id: 'CDR-5f0c6f1e1b8e3f1d2a4c6b8e0f2a4c6e',
      start_date_time: '2026-03-01T10:00:00Z',
      end_date_time: '2026-03-01T11:00:00Z',
      session_id: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
      cdr_token: { country_code: 'NL', party_id: 'CSM', uid: 'ABC123', type: 'RFID', contract_id: 'ABC123' },
      auth_method: 'WHITELIST',
      cdr_location: {
        id: 'site-amsterdam-1',
        name: 'Stadhuis garage',
        address: 'Amstel 1',
        city: 'Amsterdam',
        postal_code: '1011 PN',
        country: 'NLD',
        coordinates: { latitude: '52.367030', longitude: '4.900840' },
        evse_uid: 'CP-001*1',
        evse_id: 'NL*CSM*E001*1',
        connector_id: '1',
        connector_standard: 'IEC_62196_T2',
        connector_format: 'SOCKET',
        connector_power_type: 'AC_3_PHASE',
      },
      currency: 'EUR',
      tariffs: [
        {
          id: 'AC-STANDARD',
          currency: 'EUR',
          elements: [{ price_components: [{ type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 }] }],
        },
      ],
      charging_periods: [
        {
          start_date_time: '2026-03-01T10:00:00Z',
          dimensions: [{ type: 'ENERGY', volume: '20' }],
          tariff_id: 'AC-STANDARD',
        },
      ],
      total_cost: { excl_vat: '7.00', incl_vat: '8.47' },
      total_energy: '20',
      total_energy_cost: { excl_vat: '7.00', incl_vat: '8.47' },
      total_time: '1',
      last_updated: '2026-03-01T11:00:00Z',
    },
    audit: {
      sessionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
      sessionRevision: 1,
      stationId: 'CP-001',
      tariffId: 'AC-STANDARD',
      tariffVersion: 1,
      tariffContentHash: '5f0c6f1e1b8e3f1d2a4c6b8e0f2a4c6e8a0c2e4f6a8c0e2f4a6c8e0a2c4e6f80',
      assignment: {
        assignmentId: 'asg-1',
        level: 'station',
        scope: { kind: 'station', stationId: 'CP-001' },
        effectiveFrom: '2026-01-01T00:00:00Z',
      },
      engineVersion: 'pricing-1',
      timeZone: 'Europe/Amsterdam',
      timeZoneSource: 'registry',
      sourceEvent: {
        eventId: '7c9e6679-7425-50de-944b-e07fc1f90ae7',
        topic: 'session.events',
        partition: 0,
        offset: '3',
      },
      inboundRecords: [],
      pricing: EXAMPLE_PRICING,
      contentHash: '5f0c6f1e1b8e3f1d2a4c6b8e0f2a4c6e8a0c2e4f6a8c0e2f4a6c8e0a2c4e6f80',
    },
  },
});

/** A session that could not be priced (no tariff applies, the tariff is not in force, the input is invalid): never a free CDR. */
export const SessionPricingFailedV1 = defineEvent({
  type: 'session.pricing_failed',
  version: 1,
  topic: Topics.billingEvents,
  description: 'a session could not be priced; reporting shows it, nothing is billed until it is resolved',
  schema: closed({
    sessionId: Type.String({ format: 'uuid' }),
    sessionRevision: Type.Integer({ minimum: 1 }),
    stationId: Type.String(),
    code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }),
    detail: Type.String(),
    field: Type.Optional(Type.String()),
    sessionEndedAt: Instant,
    sourceEvent: closed({
      eventId: Type.String(),
      topic: Type.String(),
      partition: Type.Integer(),
      offset: Type.String(),
    }),
  }),
  example: {
    sessionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
    sessionRevision: 1,
    stationId: 'CP-001',
    code: 'NO_ASSIGNMENT',
    detail: 'no tariff is assigned to station CP-001, its site, its token or as the default',
    sessionEndedAt: '2026-03-01T11:00:00Z',
    sourceEvent: {
      eventId: '7c9e6679-7425-50de-944b-e07fc1f90ae7',
      topic: 'session.events',
      partition: 0,
      offset: '3',
    },
  },
});

const AuditV1 = CdrCreatedV1.schema.properties.audit;

/**
 * v2: the audit's `inboundRecords` are the session's compact source ranges (per topic + partition: first
 * and last offset, count, SHA-256 of the used records' ids in offset order; recipe in session-bounds.ts)
 * instead of one entry per inbound record, and `energyTimeline` says whether the session's energy timeline
 * the periods were cut on was exact or resampled (and at which grid). The CDR itself is unchanged.
 */
export const CdrCreatedV2 = defineEvent({
  type: 'cdr.created',
  version: 2,
  topic: Topics.billingEvents,
  description: 'an OCPI 2.2.1 CDR (or credit CDR) with its audit section; inbound records as compact ranges',
  schema: closed({
    cdr: CdrCreatedV1.schema.properties.cdr,
    audit: Type.Object(
      {
        ...AuditV1.properties,
        inboundRecords: Type.Array(SourceRangeSchema, { maxItems: SESSION_ENDED_LIMITS.sourceRanges }),
        /** the resolution of the session's energy timeline (absent in CDRs upcast from v1) */
        energyTimeline: Type.Optional(EnergyTimelineResolutionSchema),
      },
      { additionalProperties: false },
    ),
  }),
  example: {
    cdr: CdrCreatedV1.example.cdr,
    audit: {
      ...CdrCreatedV1.example.audit,
      inboundRecords: [
        {
          topic: 'ocpp.inbound',
          partition: 0,
          firstOffset: '17',
          lastOffset: '17',
          count: 1,
          sha256: 'aa97426dec509285fb92fd359a5ac1d4280477eac0b1bcefc391a941b65c3e34',
        },
      ],
      energyTimeline: { mode: 'exact', points: 2 },
    },
  },
});

type CdrCreatedV1Payload = Static<typeof CdrCreatedV1.schema>;
type CdrCreatedV2Payload = Static<typeof CdrCreatedV2.schema>;

const CdrV1 = CdrCreatedV1.schema.properties.cdr;
const { signed_data: _none, ...V1_EXAMPLE_CDR } = CdrCreatedV1.example.cdr;
const AuditV2 = CdrCreatedV2.schema.properties.audit;

/** The OCPI 2.2.1 CDR object of a cdr.created v3: every field closed (v1/v2 left cdr_token, tariffs, charging_periods and signed_data open). */
export const OcpiCdrSchema = Type.Object(
  {
    ...CdrV1.properties,
    cdr_token: CdrTokenSchema,
    tariffs: Type.Array(OcpiTariffSchema),
    charging_periods: Type.Array(CdrChargingPeriodSchema, { minItems: 1 }),
    signed_data: Type.Optional(CdrSignedDataSchema),
  },
  { additionalProperties: false },
);
export type OcpiCdr = Static<typeof OcpiCdrSchema>;

/** How a CDR was computed (v3: the assignment and the pricing sections closed). */
export const CdrAuditSchema = Type.Object(
  {
    ...AuditV2.properties,
    assignment: CdrAssignmentSchema,
    pricing: CdrPricingSchema,
  },
  { additionalProperties: false },
);
/** How a CDR was computed (v4: and, for a session with signed meter values, how they were checked). */
export const CdrAuditV4Schema = Type.Object(
  {
    ...CdrAuditSchema.properties,
    signedMeterValues: Type.Optional(CdrSignedAuditSchema),
  },
  { additionalProperties: false },
);
export type CdrAudit = Static<typeof CdrAuditV4Schema>;
export type CdrSignedAudit = Static<typeof CdrSignedAuditSchema>;
export type CdrSignedData = Static<typeof CdrSignedDataSchema>;
export type CdrDataQuality = Static<typeof CdrDataQualitySchema>;
export type CdrLocation = Static<typeof CdrLocationSchema>;
export type CdrLocationField = (typeof CDR_LOCATION_REQUIRED_FIELDS)[number];
/** Where a CDR's session.ended was read (topic, partition, offset) and its envelope id. */
export type CdrSourceEvent = CdrAudit['sourceEvent'];

/**
 * v3: the CDR and its audit are closed to the last field (OCPI 2.2.1 CdrToken, Tariff, ChargingPeriod and
 * SignedData; the audit's assignment and pricing sections), and `billingAccountId` names the billing account
 * that pays: the registry's `billingAccountId` of the session's token (registry.token_registered), null when
 * the token has none or the registry does not know the token. A payment service needs no join of its own.
 */
export const CdrCreatedV3 = defineEvent({
  type: 'cdr.created',
  version: 3,
  topic: Topics.billingEvents,
  description: 'an OCPI 2.2.1 CDR (or credit CDR) with its audit section and the billing account that pays',
  schema: closed({
    cdr: OcpiCdrSchema,
    audit: CdrAuditSchema,
    /** the billing account of the session's token in the registry (null: none, or the token is unknown) */
    billingAccountId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
  }),
  example: {
    cdr: {
      ...V1_EXAMPLE_CDR,
      cdr_token: { country_code: 'NL', party_id: 'CSM', uid: 'ABC123', type: 'RFID', contract_id: 'acct-1001' },
      tariffs: [
        {
          id: 'AC-STANDARD',
          currency: 'EUR',
          elements: [{ price_components: [{ type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 }] }],
        },
      ],
      charging_periods: [
        {
          start_date_time: '2026-03-01T10:00:00Z',
          dimensions: [{ type: 'ENERGY', volume: '20' }],
          tariff_id: 'AC-STANDARD',
        },
      ],
    },
    audit: {
      ...CdrCreatedV2.example.audit,
      assignment: {
        assignmentId: 'asg-1',
        level: 'station',
        scope: { kind: 'station', stationId: 'CP-001' },
        effectiveFrom: '2026-01-01T00:00:00Z',
      },
      pricing: EXAMPLE_PRICING,
    },
    billingAccountId: 'acct-1001',
  },
});

/**
 * v4: the audit gains `signedMeterValues` (present exactly when the session had signed meter values: what was
 * verified, with which key and policy, each value's status, the pairing checks, signed vs billed energy), and the
 * CDR then carries OCPI `signed_data`. A CDR of a session without signed values is the same as in v3.
 */
export const CdrCreatedV4 = defineEvent({
  type: 'cdr.created',
  version: 4,
  topic: Topics.billingEvents,
  description:
    'an OCPI 2.2.1 CDR (or credit CDR) with its audit section (and the check of its signed meter values) and the billing account that pays',
  schema: closed({
    cdr: OcpiCdrSchema,
    audit: CdrAuditV4Schema,
    billingAccountId: CdrCreatedV3.schema.properties.billingAccountId,
  }),
  example: CdrCreatedV3.example,
});
export type CdrCreatedPayload = Static<typeof CdrCreatedV4.schema>;

/** v3 -> v4: the same record (v3 had no signed meter values to check). */
export const cdrCreatedV3ToV4: Upcaster = {
  type: CdrCreatedV4.type,
  fromVersion: 3,
  up: (payload) => payload,
};

/**
 * v2 -> v3: the CDR and audit as they were (the code that wrote v1/v2 wrote the shapes v3 closes), and the billing
 * account read back from the CDR: `cdr_token.contract_id` is the token's billing account when it has one, else its
 * uid, so a contract_id other than the uid is the account; equal to it, the account is not known (null).
 */
export const cdrCreatedV2ToV3: Upcaster = {
  type: CdrCreatedV3.type,
  fromVersion: 2,
  up: (payload) => {
    const p = payload as CdrCreatedV2Payload;
    const token = p.cdr.cdr_token as { uid?: unknown; contract_id?: unknown };
    const account = typeof token.contract_id === 'string' && token.contract_id !== token.uid ? token.contract_id : null;
    return { ...p, billingAccountId: account };
  },
};

/** v1 -> v2: the audit's inbound records become ranges by the session.ended v1 -> v2 rule; no timeline resolution was recorded. */
export const cdrCreatedV1ToV2: Upcaster = {
  type: CdrCreatedV2.type,
  fromVersion: 1,
  up: (payload) => {
    const p = payload as CdrCreatedV1Payload;
    return {
      ...p,
      audit: { ...p.audit, inboundRecords: sourceRanges(p.audit.inboundRecords as unknown as SourceRefIn[]) },
    };
  },
};

export type CdrCreated = EventOf<typeof CdrCreatedV4>;
export type SessionPricingFailed = EventOf<typeof SessionPricingFailedV1>;
