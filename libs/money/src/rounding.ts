import Decimal from 'decimal.js';
import { DECIMAL_ROUNDING, DEFAULT_ROUNDING, isRoundingMode, type RoundingMode } from '@csms/kernel';
import { InvalidRoundingError } from './errors';

/**
 * Named rounding rules: the kernel's (libs/kernel exact numbers; HALF_UP by default), applied to
 * decimal.js values with money's error for an unknown name.
 */

/** decimal.js rounding constant for a named mode; throws InvalidRoundingError for an unknown name. */
export function toDecimalRounding(mode: RoundingMode): Decimal.Rounding {
  if (!isRoundingMode(mode)) throw new InvalidRoundingError(mode);
  return DECIMAL_ROUNDING[mode];
}

/** Round `value` to `decimalPlaces` decimals with the named rule. */
export function roundDecimal(value: Decimal, decimalPlaces: number, mode: RoundingMode = DEFAULT_ROUNDING): Decimal {
  return value.toDecimalPlaces(decimalPlaces, toDecimalRounding(mode));
}
