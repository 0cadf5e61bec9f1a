import Decimal from 'decimal.js';
import { InvalidRoundingError } from './errors';

/**
 * Named rounding rules. The platform default is HALF_UP (5.625 -> 5.63); a contract or a law may
 * require another one, so every rounding call names its rule.
 *
 * - HALF_UP: to nearest, ties away from zero (commercial rounding).
 * - HALF_EVEN: to nearest, ties to the even neighbour (banker's rounding: 5.625 -> 5.62).
 * - HALF_DOWN: to nearest, ties towards zero.
 * - UP: away from zero (any remainder rounds up in magnitude).
 * - DOWN: towards zero (truncation).
 * - CEILING / FLOOR: towards +infinity / -infinity.
 */
export type RoundingMode = 'HALF_UP' | 'HALF_EVEN' | 'HALF_DOWN' | 'UP' | 'DOWN' | 'CEILING' | 'FLOOR';

export const DEFAULT_ROUNDING: RoundingMode = 'HALF_UP';

const MODES: Readonly<Record<RoundingMode, Decimal.Rounding>> = {
  HALF_UP: Decimal.ROUND_HALF_UP,
  HALF_EVEN: Decimal.ROUND_HALF_EVEN,
  HALF_DOWN: Decimal.ROUND_HALF_DOWN,
  UP: Decimal.ROUND_UP,
  DOWN: Decimal.ROUND_DOWN,
  CEILING: Decimal.ROUND_CEIL,
  FLOOR: Decimal.ROUND_FLOOR,
};

export const ROUNDING_MODES: readonly RoundingMode[] = Object.keys(MODES) as RoundingMode[];

export function isRoundingMode(value: unknown): value is RoundingMode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(MODES, value);
}

/** decimal.js rounding constant for a named mode; throws InvalidRoundingError for an unknown name. */
export function toDecimalRounding(mode: RoundingMode): Decimal.Rounding {
  if (!isRoundingMode(mode)) throw new InvalidRoundingError(mode);
  return MODES[mode];
}

/** Round `value` to `decimalPlaces` decimals with the named rule. */
export function roundDecimal(value: Decimal, decimalPlaces: number, mode: RoundingMode = DEFAULT_ROUNDING): Decimal {
  return value.toDecimalPlaces(decimalPlaces, toDecimalRounding(mode));
}
