/**
 * Types of the pricing engine: the OCPI 2.2.1 Tariff (input, as received on the wire), the
 * PricingSession (input, built by the session service) and the PricedCdr (output).
 *
 * Conventions: amounts, prices, energy and durations are decimal STRINGS in the output and in
 * the session input. OCPI Tariff objects carry JSON numbers on the wire; the validator accepts a
 * number or a decimal string for every OCPI `number` field and converts it exactly (shortest
 * representation of the double, i.e. the digits that were in the JSON text).
 */
import type { RoundingMode } from '@csms/kernel';

// ---------------------------------------------------------------- OCPI 2.2.1 Tariff (input)

/** An OCPI `number` as received: a JSON number, or a decimal string to carry exact digits. */
export type OcpiNumber = number | string;

export const TARIFF_DIMENSION_TYPES = ['ENERGY', 'FLAT', 'PARKING_TIME', 'TIME'] as const;
export type TariffDimensionType = (typeof TARIFF_DIMENSION_TYPES)[number];

export const DAYS_OF_WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

export const RESERVATION_RESTRICTION_TYPES = ['RESERVATION', 'RESERVATION_EXPIRES'] as const;
export type ReservationRestrictionType = (typeof RESERVATION_RESTRICTION_TYPES)[number];

export const TARIFF_TYPES = ['AD_HOC_PAYMENT', 'PROFILE_CHEAP', 'PROFILE_FAST', 'PROFILE_GREEN', 'REGULAR'] as const;
export type TariffType = (typeof TARIFF_TYPES)[number];

export interface OcpiPrice {
  excl_vat: OcpiNumber;
  incl_vat?: OcpiNumber;
}

export interface OcpiPriceComponent {
  type: TariffDimensionType;
  /** Price per unit excl. VAT: per kWh (ENERGY), per hour (TIME, PARKING_TIME), per session (FLAT). */
  price: OcpiNumber;
  /** VAT percentage. Absent = no VAT applicable (incl = excl); 0 = 0 % VAT. */
  vat?: OcpiNumber;
  /** Billing step in Wh (ENERGY) or seconds (TIME, PARKING_TIME); unused for FLAT. */
  step_size: number;
}

export interface OcpiTariffRestrictions {
  start_time?: string;
  end_time?: string;
  start_date?: string;
  end_date?: string;
  min_kwh?: OcpiNumber;
  max_kwh?: OcpiNumber;
  min_current?: OcpiNumber;
  max_current?: OcpiNumber;
  min_power?: OcpiNumber;
  max_power?: OcpiNumber;
  min_duration?: number;
  max_duration?: number;
  day_of_week?: DayOfWeek[];
  reservation?: ReservationRestrictionType;
}

export interface OcpiTariffElement {
  price_components: OcpiPriceComponent[];
  restrictions?: OcpiTariffRestrictions;
}

export interface OcpiDisplayText {
  language: string;
  text: string;
}

export interface OcpiTariff {
  country_code?: string;
  party_id?: string;
  id: string;
  currency: string;
  type?: TariffType;
  tariff_alt_text?: OcpiDisplayText[];
  tariff_alt_url?: string;
  min_price?: OcpiPrice;
  max_price?: OcpiPrice;
  elements: OcpiTariffElement[];
  start_date_time?: string;
  end_date_time?: string;
  energy_mix?: unknown;
  last_updated?: string;
}

// ---------------------------------------------------------------- PricingSession (input)

/**
 * Dimension types a pricing period may carry. Units (all values are decimal strings):
 * - ENERGY: kWh consumed during the period (import).
 * - TIME: SECONDS charging (the EV draws or requests power) during the period.
 * - PARKING_TIME: SECONDS parked (the EV requests no power) during the period.
 * - RESERVATION_TIME: SECONDS of reservation (booking until charging starts or the reservation expires).
 * - MIN_CURRENT / MAX_CURRENT: A, summed over all phases, lowest / highest during the period.
 * - MIN_POWER / MAX_POWER: kW, lowest / highest during the period.
 *
 * Time is in seconds (not OCPI's hours) because hours do not divide exactly: 7 min is 0.1166... h.
 * The output CDR converts to hours.
 *
 * Precision: ENERGY at most 6 decimals (1 mWh); time dimensions at most 3 decimals (1 ms, the
 * precision of the timestamps); current and power any number of decimals. More digits are refused
 * (PRICING_INVALID_DECIMAL), never cut.
 */
export const PERIOD_DIMENSION_TYPES = [
  'ENERGY',
  'TIME',
  'PARKING_TIME',
  'RESERVATION_TIME',
  'MIN_CURRENT',
  'MAX_CURRENT',
  'MIN_POWER',
  'MAX_POWER',
] as const;
export type PeriodDimensionType = (typeof PERIOD_DIMENSION_TYPES)[number];

export interface PricingDimension {
  type: PeriodDimensionType;
  /** Decimal string, non-negative, in the unit of the type (see PeriodDimensionType). */
  volume: string;
}

/**
 * One charging period: it starts at `start_date_time` and ends when the next period starts (the
 * last one at the session's `end_date_time`). Restrictions are evaluated at the period start, so
 * the session service MUST start a new period at every cost-relevant moment (a time-of-day or
 * date boundary of the tariff, a current or power crossing, a kWh threshold, a duration
 * threshold, a change between charging, parking and reservation), as OCPI mod_cdrs requires.
 */
export interface PricingPeriod {
  /** RFC 3339 date-time ("2024-01-16T15:00:00Z"; offsets allowed, at most millisecond precision). */
  start_date_time: string;
  dimensions: PricingDimension[];
}

export interface PricingReservation {
  /** True when the reservation expired without a charging session (RESERVATION_EXPIRES elements apply). */
  expired: boolean;
}

export interface PricingSession {
  /** Identity of the session; copied into the output. */
  session_id: string;
  /** RFC 3339. For a reserved session, the start of the reservation (OCPI mod_cdrs). */
  start_date_time: string;
  /** RFC 3339, at or after start_date_time. */
  end_date_time: string;
  /** IANA time zone of the location (OCPI Location.time_zone), e.g. "Europe/Amsterdam". */
  time_zone: string;
  /** ISO 4217 currency of the tariff; must equal tariff.currency. */
  currency: string;
  /** Total energy of the session in kWh (decimal string); reported as CDR total_energy. */
  total_energy: string;
  /** At least one period, strictly increasing start_date_time. */
  charging_periods: PricingPeriod[];
  /** Present when the session began with a reservation (periods carrying RESERVATION_TIME). */
  reservation?: PricingReservation;
}

// ---------------------------------------------------------------- PricingInput (input, parsed)

/**
 * A dimension of a PricingInput period, its value parsed (libs/kernel exact numbers): ENERGY in mWh
 * (kWh at scale 6), the time dimensions in milliseconds (seconds at scale 3), current (A) and power (kW)
 * as canonical plain decimal text: measurements that are echoed in the CDR and compared only when a
 * current or power restriction asks.
 */
export type PricingInputDimension =
  | { readonly type: 'ENERGY'; readonly mwh: bigint }
  | { readonly type: 'TIME' | 'PARKING_TIME' | 'RESERVATION_TIME'; readonly ms: bigint }
  | { readonly type: 'MIN_CURRENT' | 'MAX_CURRENT' | 'MIN_POWER' | 'MAX_POWER'; readonly volume: string };

export interface PricingInputPeriod {
  /** Epoch milliseconds; the period ends when the next one starts (the last one at the session end). */
  readonly startMs: number;
  readonly dimensions: readonly PricingInputDimension[];
}

/**
 * A PricingSession with its values already parsed: what a caller that holds exact values hands the
 * engine (billing builds it from session.ended), so nothing is written to text and read back inside the
 * process. Checked by the engine as the text form is (same codes; field paths name the text form's
 * fields). formatPricingInput writes its text form.
 */
export interface PricingInput {
  readonly sessionId: string;
  readonly startMs: number;
  readonly endMs: number;
  /** The RFC 3339 texts the instants were read from, if any: the CDR repeats them (in canonical UTC). */
  readonly startText?: string;
  readonly endText?: string;
  readonly timeZone: string;
  readonly currency: string;
  /** mWh. */
  readonly totalEnergy: bigint;
  readonly periods: readonly PricingInputPeriod[];
  readonly reservation?: PricingReservation;
}

// ---------------------------------------------------------------- options

export interface PricingOptions {
  /** Rounding of every reported total to the currency's minor unit. Default HALF_UP. */
  rounding?: RoundingMode;
  /**
   * Which parking time is step-rounded when PARKING_TIME is priced in part of the session only.
   * BILLABLE (default, OCPI 2.2.1 bug-fix text of 2025-09): only the parking time that was priced.
   * TOTAL (tag 2.2.1 text, tandemdrive 0.6): all parking time; the extra is billed in the last
   * priced parking period.
   */
  parkingStepBasis?: 'BILLABLE' | 'TOTAL';
  /**
   * A current or power restriction when the period carries no current/power value.
   * SATISFIED (default, as the reference implementation) or NOT_SATISFIED.
   */
  missingMeasurement?: 'SATISFIED' | 'NOT_SATISFIED';
  /**
   * Consumption (energy, charging/parking/reservation time) in a period where the tariff prices that
   * dimension elsewhere but no element applies. FREE (default, OCPI 2.2.1: "no element matches: that
   * dimension is free"), always reported as an UNPRICED line and an audit warning; REJECT throws
   * PricingError PRICING_NO_APPLICABLE_ELEMENT.
   */
  unpricedConsumption?: 'FREE' | 'REJECT';
}

// ---------------------------------------------------------------- PricedCdr (output)

/** OCPI Price with decimal strings, rounded to the currency's minor unit. */
export interface PriceOut {
  excl_vat: string;
  incl_vat: string;
}

export interface CdrDimensionOut {
  type:
    'ENERGY' | 'TIME' | 'PARKING_TIME' | 'RESERVATION_TIME' | 'MIN_CURRENT' | 'MAX_CURRENT' | 'MIN_POWER' | 'MAX_POWER';
  /** kWh for ENERGY; HOURS (OCPI) for the time dimensions, 4 decimals max, HALF_UP; A; kW. */
  volume: string;
}

export interface CdrChargingPeriodOut {
  start_date_time: string;
  dimensions: CdrDimensionOut[];
  tariff_id: string;
}

export type CostCategory = 'FIXED' | 'ENERGY' | 'TIME' | 'PARKING' | 'RESERVATION';

/** What the engine saw at the start of a period, to follow which restrictions matched. */
export interface PeriodContextOut {
  period_index: number;
  start_date_time: string;
  /** Local wall-clock time at the period start in the session time zone, "YYYY-MM-DDTHH:MM:SS". */
  local_time: string;
  day_of_week: DayOfWeek;
  /** Seconds since session start (min_duration / max_duration). */
  session_seconds: string;
  /** kWh consumed before this period (min_kwh / max_kwh). */
  energy_before_kwh: string;
  duration_seconds: string;
  reservation: boolean;
  /** Element index chosen per dimension for this period (null: no element applies). */
  elements: {
    ENERGY: number | null;
    FLAT: number | null;
    TIME: number | null;
    PARKING_TIME: number | null;
  };
}

/**
 * One line of the breakdown: one price component and everything it priced in the session (one
 * line per component, like a line of an invoice), or one FLAT fee, or the consumption that no
 * element priced. Amounts are unrounded (full precision).
 */
export interface LineItemOut {
  category: CostCategory;
  dimension: TariffDimensionType | 'RESERVATION_TIME';
  /** null when no element applies (UNPRICED line). */
  element_index: number | null;
  component_index: number | null;
  /** The restrictions of that element, as written in the tariff (empty object: unrestricted). */
  restrictions: Record<string, string>;
  /** Periods (indices into charging_periods) whose consumption this line prices, in order. */
  periods: number[];
  /** kWh, s (seconds) or "fee". */
  unit: 'kWh' | 's' | 'fee';
  quantity: string;
  /** Quantity after step_size rounding (the session's extra goes to the last relevant component). */
  billed_quantity: string;
  /** step_size of the component (Wh or s), null for FLAT and UNPRICED lines. */
  step_size: number | null;
  /** Price excl. VAT per kWh, per HOUR or per fee. */
  unit_price: string;
  /** VAT percentage, null when the component has no VAT field. */
  vat: string | null;
  amount_excl_vat: string;
  amount_incl_vat: string;
  note: 'PRICED' | 'FLAT_ONCE' | 'UNPRICED_NO_APPLICABLE_ELEMENT';
}

export interface StepRoundingOut {
  group: 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'RESERVATION_TIME';
  unit: 'kWh' | 's';
  quantity: string;
  step_size: number;
  billed_quantity: string;
  extra: string;
  /** Period whose line carries the extra (last period priced in that group). */
  period_index: number;
  element_index: number;
}

/** A min_price / max_price limit that set one side (excl or incl VAT) of the session total. */
export interface PriceLimitBoundOut {
  limit: 'MIN_PRICE' | 'MAX_PRICE';
  /** The limit's figure, unrounded: the side's total after the limits. */
  value: string;
  /**
   * incl side only, true when the Price has no incl_vat: the limit is its excl_vat x the session's
   * incl/excl ratio (the VAT mix is kept). Always false on the excl side.
   */
  derived: boolean;
}

/**
 * What min_price / max_price changed. The four limits (min and max, excl and incl VAT) apply each on
 * its own: `bound` says which one set each side (null: none did); `rule` sums it up (MIN_AND_MAX_PRICE:
 * one side raised by min_price, the other capped by max_price). `excl_vat` / `incl_vat`: the
 * difference added to the total as computed (unrounded; negative under a cap).
 */
export interface PriceAdjustmentOut {
  rule: 'MIN_PRICE' | 'MAX_PRICE' | 'MIN_AND_MAX_PRICE' | 'NONE';
  excl_vat: string;
  incl_vat: string;
  bound: { excl_vat: PriceLimitBoundOut | null; incl_vat: PriceLimitBoundOut | null };
}

export interface UnroundedTotalsOut {
  total_cost: PriceOut;
  total_cost_before_min_max: PriceOut;
  total_fixed_cost: PriceOut;
  total_energy_cost: PriceOut;
  total_time_cost: PriceOut;
  total_parking_cost: PriceOut;
  total_reservation_cost: PriceOut;
  price_adjustment: PriceAdjustmentOut;
  total_energy_kwh: string;
  total_time_seconds: string;
  total_parking_time_seconds: string;
  total_charging_time_seconds: string;
  total_reservation_time_seconds: string;
}

export interface PricingWarningOut {
  code:
    | 'UNPRICED_CONSUMPTION'
    | 'PERIOD_BEFORE_SESSION_START'
    | 'ENERGY_TOTAL_MISMATCH'
    | 'MEASUREMENT_MISSING_FOR_RESTRICTION';
  period_index: number | null;
  detail: string;
}

export interface PricedCdr {
  session_id: string;
  tariff_id: string;
  currency: string;
  start_date_time: string;
  end_date_time: string;
  charging_periods: CdrChargingPeriodOut[];
  total_cost: PriceOut;
  total_fixed_cost: PriceOut;
  total_energy: string;
  total_energy_cost: PriceOut;
  /** Hours, whole session (end - start), 4 decimals HALF_UP. */
  total_time: string;
  total_time_cost: PriceOut;
  /** Hours, 4 decimals HALF_UP. */
  total_parking_time: string;
  total_parking_cost: PriceOut;
  total_reservation_cost: PriceOut;
  breakdown: {
    periods: PeriodContextOut[];
    lines: LineItemOut[];
    step_rounding: StepRoundingOut[];
    price_adjustment: PriceAdjustmentOut;
  };
  audit: {
    engine_version: string;
    rounding: RoundingMode;
    minor_units: number;
    policies: {
      parking_step_basis: 'BILLABLE' | 'TOTAL';
      missing_measurement: 'SATISFIED' | 'NOT_SATISFIED';
      unpriced_consumption: 'FREE' | 'REJECT';
    };
    time_zone: string;
    unrounded: UnroundedTotalsOut;
    warnings: PricingWarningOut[];
  };
}
