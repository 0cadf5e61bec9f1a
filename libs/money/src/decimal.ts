import Decimal from 'decimal.js';
import { InvalidAmountError } from './errors';

/**
 * The one decimal type of the platform: an isolated decimal.js constructor, so that nobody's
 * `Decimal.set(...)` elsewhere can change how money is computed here.
 *
 * 40 significant digits: exact for every sum and product of prices and quantities we meet
 * (a 4-decimal price times a 6-decimal energy volume has at most ~25 digits); only divisions
 * that do not terminate (seconds / 3600) are cut, 35+ digits below the minor unit.
 * Plain notation (no exponent) for anything between 1e-100 and 1e100.
 */
export const Dec = Decimal.clone({
  precision: 40,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -100,
  toExpPos: 100,
});
export type Dec = Decimal;

const DECIMAL_STRING = /^-?\d+(\.\d+)?$/;

/** True when `value` is a plain decimal string: optional minus, digits, optional fraction. No exponent. */
export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL_STRING.test(value);
}

/**
 * Parse a decimal string ("0.25", "-3", "20.45") or take a decimal.js value. A JS number is
 * refused: amounts and quantities never travel as binary floats.
 */
export function dec(value: string | Decimal): Decimal {
  if (typeof value === 'string') {
    if (!DECIMAL_STRING.test(value)) throw new InvalidAmountError(value, 'not a plain decimal string');
    return new Dec(value);
  }
  if (value instanceof Dec || Decimal.isDecimal(value)) {
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
  return new Dec(String(value));
}

/** Plain string of a decimal at full precision, without exponent and without trailing zeros. */
export function toPlainString(value: Decimal): string {
  if (value.isZero()) return '0';
  const s = value.toFixed();
  return s === '-0' ? '0' : s;
}
