/**
 * Bounds of every number of a tariff (README "Bounds of a tariff's numbers"). OCPI sets none; these
 * are chosen so that any tariff that validates, priced over any session the engine accepts, gives a
 * CDR whose amounts fit the cdr.created contract (decimal strings of at most 40 characters): every
 * total stays below 10^19 (see the README for the arithmetic), 20+ digits under that limit.
 */
export const TARIFF_LIMITS = {
  /** price_components[].price, min_price / max_price excl_vat and incl_vat: below this (10^9: 9 integer digits). */
  amountBelow: '1000000000',
  /** ... with at most the currency's minor units plus this many decimals (EUR: 6, JPY: 4, KWD: 7). */
  amountExtraDecimals: 4,
  /** price_components[].vat: a percentage, at most 100 (incl VAT at most twice excl), 4 decimals. */
  vatAtMost: '100',
  vatDecimals: 4,
  /** price_components[].step_size: an integer up to 1,000,000 (Wh for ENERGY, s for TIME / PARKING_TIME). */
  stepSizeAtMost: 1_000_000,
  /** restrictions min_kwh / max_kwh: below 10^9 kWh (the most energy the engine reads: 15 digits at 1 mWh), 9 decimals. */
  kwhBelow: '1000000000',
  kwhDecimals: 9,
  /** restrictions min_/max_current (A) and min_/max_power (kW): below 10^6, 6 decimals. */
  currentPowerBelow: '1000000',
  currentPowerDecimals: 6,
  /** restrictions min_duration / max_duration: integer seconds up to 10^10 (317 years). */
  durationAtMost: 10_000_000_000,
} as const;
