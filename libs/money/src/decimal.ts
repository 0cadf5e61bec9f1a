import Decimal from 'decimal.js';
import { Dec, decOfWireNumber, isDec, isDecimalString } from '@csms/kernel';
import { InvalidAmountError } from './errors';

/**
 * Amounts entering a Money: the checks of the money API on top of the kernel's decimal type (`Dec`,
 * libs/kernel exact numbers), with money's error.
 */

/**
 * Parse a decimal string ("0.25", "-3", "20.45") or take a decimal.js value. A JS number is
 * refused: amounts and quantities never travel as binary floats.
 */
export function dec(value: string | Decimal): Decimal {
  if (typeof value === 'string') {
    if (!isDecimalString(value)) throw new InvalidAmountError(value, 'not a plain decimal string');
    return new Dec(value);
  }
  if (isDec(value)) {
    if (!value.isFinite()) throw new InvalidAmountError(value, 'not finite');
    return value;
  }
  throw new InvalidAmountError(value, `expected a decimal string or Decimal, got ${typeof value}`);
}

/**
 * Convert a JSON number received on a wire format that uses numbers (OCPI tariffs do) into a
 * decimal. The shortest round-trip representation of the double is used (what JSON.parse read),
 * so 0.1 becomes exactly 0.1, never 0.1000000000000000055511151231257827.
 */
export function decFromWireNumber(value: number): Decimal {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidAmountError(value, 'not a finite number');
  return decOfWireNumber(value);
}
