import type { Dec, TimeZones } from '@csms/kernel';
import type { OcpiTariff, ReservationRestrictionType, TariffDimensionType, TariffType } from './types';

/** A price component with its numbers parsed once. */
export interface CompiledComponent {
  readonly type: TariffDimensionType;
  readonly elementIndex: number;
  readonly componentIndex: number;
  /** Price excl. VAT per kWh / per hour / per fee. */
  readonly price: Dec;
  /** price and vat as plain decimal strings (for the breakdown). */
  readonly priceText: string;
  readonly vatText: string | null;
  /** VAT percentage; null when the tariff gives no VAT (incl = excl). */
  readonly vat: Dec | null;
  /** 1 + vat/100, or 1 when vat is null. */
  readonly vatFactor: Dec;
  /** step_size as written (Wh for ENERGY, s for TIME / PARKING_TIME, unused for FLAT). */
  readonly stepSize: number;
  /** step_size in the engine's quantity units (mWh or ms): stepSize x 1000, exact. */
  readonly stepUnits: bigint;
  /**
   * The amount of one quantity unit (one mWh, one ms, one fee) as an integer over the tariff's
   * amountDenominator, excl. and incl. VAT: exact (the denominator is chosen so these are integers).
   */
  readonly exclPerUnit: bigint;
  readonly inclPerUnit: bigint;
  /** Category of a FLAT fee: RESERVATION for a FLAT in a reservation element, FIXED otherwise. */
  readonly reservation: boolean;
}

export interface CompiledRestrictions {
  /** Seconds of the local day; end 86400 for "00:00" as end_time. Undefined when absent. */
  readonly startSecond?: number;
  readonly endSecond?: number;
  /** Local dates as YYYYMMDD integers; start inclusive, end exclusive. */
  readonly startDate?: number;
  readonly endDate?: number;
  /** min_kwh / max_kwh as thresholds on energy in mWh (exact): energy >= min, energy < max. */
  readonly minMilliWh?: bigint;
  readonly maxMilliWh?: bigint;
  readonly minCurrent?: Dec;
  readonly maxCurrent?: Dec;
  readonly minPower?: Dec;
  readonly maxPower?: Dec;
  /** Milliseconds of session age (an age, compared, never priced). */
  readonly minDurationMs?: number;
  readonly maxDurationMs?: number;
  /** Bit i set = weekday i active (0 = MONDAY). Undefined when absent. */
  readonly dayMask?: number;
  readonly reservation?: ReservationRestrictionType;
}

export interface CompiledElement {
  readonly index: number;
  readonly restrictions: CompiledRestrictions | null;
  /** The restrictions as written, values as strings, in a fixed key order (for the breakdown). */
  readonly restrictionsText: Readonly<Record<string, string>>;
  readonly components: Readonly<Partial<Record<TariffDimensionType, CompiledComponent>>>;
}

export interface CompiledPrice {
  readonly excl: Dec;
  readonly incl: Dec | null;
  /** The same over the tariff's amountDenominator (exact integers). */
  readonly exclUnits: bigint;
  readonly inclUnits: bigint | null;
}

/** A validated, pre-parsed tariff. Build with compileTariff(); treat as opaque and immutable. */
export interface CompiledTariff {
  readonly kind: 'CompiledTariff';
  readonly source: OcpiTariff;
  readonly id: string;
  readonly currency: string;
  readonly type: TariffType | null;
  readonly minPrice: CompiledPrice | null;
  readonly maxPrice: CompiledPrice | null;
  readonly validFromMs: number | null;
  readonly validToMs: number | null;
  readonly elements: readonly CompiledElement[];
  /**
   * Amounts are exact integers over amountDenominator = 9 x 10^amountScale, where amountScale
   * covers every price's and VAT factor's decimals plus 7: then an ENERGY amount (price x mWh / 10^6),
   * a TIME amount (price x ms / 3,600,000 = price x ms x 25 / 10^8 / 9), a VAT factor and min/max
   * prices are all exact integers over it.
   */
  readonly amountScale: number;
  readonly amountDenominator: bigint;
  /** For each dimension, the elements (in list order) that hold a component of it. */
  readonly elementsByDimension: Readonly<Record<TariffDimensionType, readonly CompiledElement[]>>;
  /** For each dimension, the component of that dimension of each element of `elementsByDimension` (same order). */
  readonly componentsByDimension: Readonly<Record<TariffDimensionType, readonly CompiledComponent[]>>;
  /**
   * The time-zone cache the sessions priced with this tariff use (offsets per zone and UTC hour): owned by
   * the compiled tariff, which its user keeps, so no cache lives at module level. Its only mutable part;
   * no result depends on what it holds.
   */
  readonly timeZones: TimeZones;
}
