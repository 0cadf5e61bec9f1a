import { Type } from '@sinclair/typebox';
import { closed } from '../envelope';
import { stringEnum } from '../ocpi-location';
import { OCPI_DAYS_OF_WEEK } from '../ocpi-tariff';
import { TariffAssignmentScope } from './tariff';

/**
 * The parts of a `cdr.created` (v3) that v1 and v2 left open: the OCPI 2.2.1 CdrToken, CdrDimension /
 * ChargingPeriod and SignedData classes (Sessions and CDRs modules), and the audit's assignment and pricing
 * sections (how libs/billing chose the tariff; what libs/pricing computed). Amounts and quantities are decimal
 * strings (the system's rule: never a binary float) where OCPI says `number`.
 */
const Decimal = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 40 });
const Instant = Type.String({ format: 'date-time' });

/** OCPI 2.2.1 TokenType enum. */
export const OCPI_TOKEN_TYPES = ['AD_HOC_USER', 'APP_USER', 'OTHER', 'RFID'] as const;

/**
 * OCPI 2.2.1 CdrToken. `contract_id` is the paying billing account when the registry has one (up to 100
 * characters, the registry's limit; OCPI says 36), else the token's uid.
 */
export const CdrTokenSchema = closed({
  country_code: Type.String({ pattern: '^[A-Z]{2}$' }),
  party_id: Type.String({ pattern: '^[A-Z0-9]{3}$' }),
  uid: Type.String({ minLength: 1, maxLength: 36 }),
  type: stringEnum(OCPI_TOKEN_TYPES, 'OCPI TokenType'),
  contract_id: Type.String({ minLength: 1, maxLength: 100 }),
});

/** OCPI 2.2.1 CdrDimensionType enum. */
export const OCPI_CDR_DIMENSION_TYPES = [
  'CURRENT',
  'ENERGY',
  'ENERGY_EXPORT',
  'ENERGY_IMPORT',
  'MAX_CURRENT',
  'MIN_CURRENT',
  'MAX_POWER',
  'MIN_POWER',
  'PARKING_TIME',
  'POWER',
  'RESERVATION_TIME',
  'STATE_OF_CHARGE',
  'TIME',
] as const;

/** OCPI 2.2.1 ChargingPeriod of a CDR: its dimensions' volumes as decimal strings (kWh, hours, A, kW). */
export const CdrChargingPeriodSchema = closed({
  start_date_time: Instant,
  dimensions: Type.Array(
    closed({ type: stringEnum(OCPI_CDR_DIMENSION_TYPES, 'OCPI CdrDimensionType'), volume: Decimal }),
    { minItems: 1 },
  ),
  tariff_id: Type.Optional(Type.String({ maxLength: 36 })),
});

/** OCPI 2.2.1 SignedData: the CDR's signed meter values (OCMF records, `signed_data` base64 of the signed bytes). */
export const CdrSignedDataSchema = closed({
  encoding_method: Type.String({ maxLength: 36 }),
  encoding_method_version: Type.Optional(Type.Integer()),
  public_key: Type.Optional(Type.String({ maxLength: 512 })),
  signed_values: Type.Array(
    closed({
      nature: Type.String({ maxLength: 32 }),
      plain_data: Type.String({ maxLength: 512 }),
      signed_data: Type.String({ maxLength: 5000 }),
    }),
  ),
  url: Type.Optional(Type.String({ maxLength: 512 })),
});

export const SCOPE_LEVELS = ['account', 'token_group', 'connector', 'evse', 'station', 'site', 'default'] as const;

/** A candidate assignment passed over because its tariff's OCPI validity window excludes the session start. */
export const SkippedCandidateSchema = closed({
  assignmentId: Type.String(),
  tariffId: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  level: stringEnum(SCOPE_LEVELS),
  reason: Type.Union([Type.Literal('NOT_YET_VALID'), Type.Literal('EXPIRED')]),
  start_date_time: Type.Optional(Type.String()),
  end_date_time: Type.Optional(Type.String()),
});

/** Which assignment chose the tariff (a draft tariff of what-if: `{ draft: true }`, never emitted). */
export const CdrAssignmentSchema = Type.Union([
  closed({
    assignmentId: Type.String(),
    level: stringEnum(SCOPE_LEVELS),
    scope: TariffAssignmentScope,
    effectiveFrom: Type.String(),
    skipped: Type.Optional(Type.Array(SkippedCandidateSchema)),
  }),
  closed({ draft: Type.Literal(true) }),
]);

/** a figure of the audit: unrounded, so of any length */
const Unrounded = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$' });
const UnroundedPrice = closed({ excl_vat: Unrounded, incl_vat: Unrounded });
const DimensionIndex = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);
const PriceLimitBound = Type.Union([
  closed({
    limit: Type.Union([Type.Literal('MIN_PRICE'), Type.Literal('MAX_PRICE')]),
    value: Unrounded,
    derived: Type.Boolean(),
  }),
  Type.Null(),
]);
const PriceAdjustment = closed({
  rule: Type.Union([
    Type.Literal('MIN_PRICE'),
    Type.Literal('MAX_PRICE'),
    Type.Literal('MIN_AND_MAX_PRICE'),
    Type.Literal('NONE'),
  ]),
  excl_vat: Unrounded,
  incl_vat: Unrounded,
  /** which limit set each side (absent in CDRs priced by engine 1.0, before the four limits were independent) */
  bound: Type.Optional(closed({ excl_vat: PriceLimitBound, incl_vat: PriceLimitBound })),
});
const TimeGroup = Type.Union([
  Type.Literal('ENERGY'),
  Type.Literal('TIME'),
  Type.Literal('PARKING_TIME'),
  Type.Literal('RESERVATION_TIME'),
]);

/** libs/pricing's breakdown and audit of a priced session (PricedCdr `breakdown` and `audit`): unrounded figures, line by line. */
export const CdrPricingSchema = closed({
  breakdown: closed({
    periods: Type.Array(
      closed({
        period_index: Type.Integer({ minimum: 0 }),
        start_date_time: Type.String(),
        local_time: Type.String(),
        day_of_week: stringEnum(OCPI_DAYS_OF_WEEK),
        session_seconds: Unrounded,
        energy_before_kwh: Unrounded,
        duration_seconds: Unrounded,
        reservation: Type.Boolean(),
        elements: closed({
          ENERGY: DimensionIndex,
          FLAT: DimensionIndex,
          TIME: DimensionIndex,
          PARKING_TIME: DimensionIndex,
        }),
      }),
    ),
    lines: Type.Array(
      closed({
        category: Type.Union([
          Type.Literal('FIXED'),
          Type.Literal('ENERGY'),
          Type.Literal('TIME'),
          Type.Literal('PARKING'),
          Type.Literal('RESERVATION'),
        ]),
        dimension: Type.Union([
          Type.Literal('ENERGY'),
          Type.Literal('FLAT'),
          Type.Literal('PARKING_TIME'),
          Type.Literal('TIME'),
          Type.Literal('RESERVATION_TIME'),
        ]),
        element_index: DimensionIndex,
        component_index: DimensionIndex,
        restrictions: Type.Record(Type.String(), Type.String()),
        periods: Type.Array(Type.Integer({ minimum: 0 })),
        unit: Type.Union([Type.Literal('kWh'), Type.Literal('s'), Type.Literal('fee')]),
        quantity: Unrounded,
        billed_quantity: Unrounded,
        step_size: Type.Union([Type.Integer(), Type.Null()]),
        unit_price: Unrounded,
        vat: Type.Union([Unrounded, Type.Null()]),
        amount_excl_vat: Unrounded,
        amount_incl_vat: Unrounded,
        note: Type.Union([
          Type.Literal('PRICED'),
          Type.Literal('FLAT_ONCE'),
          Type.Literal('UNPRICED_NO_APPLICABLE_ELEMENT'),
        ]),
      }),
    ),
    step_rounding: Type.Array(
      closed({
        group: TimeGroup,
        unit: Type.Union([Type.Literal('kWh'), Type.Literal('s')]),
        quantity: Unrounded,
        step_size: Type.Integer(),
        billed_quantity: Unrounded,
        extra: Unrounded,
        period_index: Type.Integer({ minimum: 0 }),
        element_index: Type.Integer({ minimum: 0 }),
      }),
    ),
    price_adjustment: PriceAdjustment,
  }),
  audit: closed({
    engine_version: Type.String(),
    rounding: Type.String(),
    minor_units: Type.Integer({ minimum: 0 }),
    policies: closed({
      parking_step_basis: Type.Union([Type.Literal('BILLABLE'), Type.Literal('TOTAL')]),
      missing_measurement: Type.Union([Type.Literal('SATISFIED'), Type.Literal('NOT_SATISFIED')]),
      unpriced_consumption: Type.Union([Type.Literal('FREE'), Type.Literal('REJECT')]),
    }),
    time_zone: Type.String(),
    unrounded: closed({
      total_cost: UnroundedPrice,
      total_cost_before_min_max: UnroundedPrice,
      total_fixed_cost: UnroundedPrice,
      total_energy_cost: UnroundedPrice,
      total_time_cost: UnroundedPrice,
      total_parking_cost: UnroundedPrice,
      total_reservation_cost: UnroundedPrice,
      price_adjustment: PriceAdjustment,
      total_energy_kwh: Unrounded,
      total_time_seconds: Unrounded,
      total_parking_time_seconds: Unrounded,
      total_charging_time_seconds: Unrounded,
      total_reservation_time_seconds: Unrounded,
    }),
    warnings: Type.Array(
      closed({
        code: Type.Union([
          Type.Literal('UNPRICED_CONSUMPTION'),
          Type.Literal('PERIOD_BEFORE_SESSION_START'),
          Type.Literal('ENERGY_TOTAL_MISMATCH'),
          Type.Literal('MEASUREMENT_MISSING_FOR_RESTRICTION'),
        ]),
        period_index: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
        detail: Type.String(),
      }),
    ),
  }),
});

/** The outcome of checking a CDR's signed meter values (libs/billing signed-data.ts): VERIFIED, FAILED, UNVERIFIED. */
export const SIGNED_DATA_RESULTS = ['VERIFIED', 'FAILED', 'UNVERIFIED'] as const;
/** What the signed meter values of a CDR showed; FAILED when one of the first five is set, UNVERIFIED for the next two. */
export const SIGNED_DATA_FLAGS = [
  'SIGNATURE_INVALID',
  'SIGNED_DATA_MALFORMED',
  'PAIRING_FAILED',
  'SIGNED_ENERGY_MISMATCH',
  'METER_NOT_REGISTERED',
  'NO_TRUSTED_KEY',
  'SIGNATURE_UNSUPPORTED',
  'SIGNED_VALUES_OMITTED',
  'SIGNED_VALUE_TOO_LARGE',
] as const;
/** Per signed value, libs/ocmf's verification status. */
export const SIGNED_VALUE_STATUSES = ['VALID', 'INVALID', 'NO_KEY', 'UNSUPPORTED', 'MALFORMED'] as const;

const Text = (max: number) => Type.String({ maxLength: max });
const NullableText = (max: number) => Type.Union([Type.String({ maxLength: max }), Type.Null()]);

/**
 * The audit's `signedMeterValues` section (cdr.created v4): which signed values of the session were checked,
 * with which key and policy, each value's status, the pairing checks over them and the signed energy compared
 * with the billed energy. Present exactly when the session had signed meter values.
 */
export const CdrSignedAuditSchema = closed({
  result: stringEnum(SIGNED_DATA_RESULTS),
  flags: Type.Array(stringEnum(SIGNED_DATA_FLAGS), { maxItems: SIGNED_DATA_FLAGS.length }),
  /** the policy applied: where it was set (default: none set, flag and trust no station key) */
  policy: closed({
    invalidSignature: Type.Union([Type.Literal('flag'), Type.Literal('block')]),
    trustStationKeys: Type.Boolean(),
    scope: Type.Union([Type.Literal('default'), Type.Literal('site'), Type.Literal('station')]),
    sequence: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  }),
  /** the key the values were verified with: from the operator's registry, the one the station sent (when the policy trusts it), or none */
  key: closed({
    source: Type.Union([Type.Literal('registry'), Type.Literal('station'), Type.Literal('none')]),
    keyId: NullableText(64),
    publicKey: NullableText(1024),
    /** the key the station sent in its signed values (OCPP 2.0.1 publicKey), recorded whether trusted or not */
    stationKey: NullableText(1024),
  }),
  values: Type.Array(
    closed({
      at: Text(40),
      context: Text(40),
      nature: Text(32),
      status: stringEnum(SIGNED_VALUE_STATUSES),
      reason: Text(64),
      detail: Text(300),
      curve: NullableText(32),
      meterSerial: NullableText(64),
      /** SHA-256 (hex) of the signed bytes (the OCMF payload section) */
      payloadSha256: NullableText(64),
    }),
    { maxItems: 8 },
  ),
  checks: Type.Array(closed({ name: Text(64), passed: Type.Boolean(), detail: Text(300) }), { maxItems: 16 }),
  energy: Type.Union([
    closed({
      signedWh: Text(40),
      billedWh: Text(40),
      differenceWh: Text(40),
      toleranceWh: Text(40),
      result: Type.Union([Type.Literal('match'), Type.Literal('mismatch')]),
    }),
    Type.Null(),
  ]),
  /** signed values the session had that session.ended left out (only begin, end and the latest are carried) */
  omitted: Type.Integer({ minimum: 0 }),
});
