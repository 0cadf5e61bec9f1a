import Decimal from 'decimal.js';
import { parseRatio, type Ratio } from './rational';

/**
 * The platform's decimal type for money: an isolated decimal.js constructor, so that nobody's
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

/** True when `value` is a decimal.js value (of any clone). */
export function isDec(value: unknown): value is Decimal {
  return value instanceof Dec || Decimal.isDecimal(value);
}

/**
 * The decimal a JSON number stands for, on a wire format that uses numbers (OCPI tariffs do): the
 * shortest round-trip representation of the double (what JSON.parse read), so 0.1 becomes exactly 0.1,
 * never 0.1000000000000000055511151231257827. The caller checks that the number is finite.
 */
export function decOfWireNumber(value: number): Decimal {
  return new Dec(String(value));
}

/** Plain string of a decimal at full precision, without exponent and without trailing zeros. */
export function toPlainString(value: Decimal): string {
  if (value.isZero()) return '0';
  const s = value.toFixed();
  return s === '-0' ? '0' : s;
}

/** decimal.js rounding constant of each named mode. */
export const DECIMAL_ROUNDING = {
  HALF_UP: Decimal.ROUND_HALF_UP,
  HALF_EVEN: Decimal.ROUND_HALF_EVEN,
  HALF_DOWN: Decimal.ROUND_HALF_DOWN,
  UP: Decimal.ROUND_UP,
  DOWN: Decimal.ROUND_DOWN,
  CEILING: Decimal.ROUND_CEIL,
  FLOOR: Decimal.ROUND_FLOOR,
} as const satisfies Record<import('./rounding').RoundingMode, Decimal.Rounding>;

/** The exact ratio of a finite decimal.js value (its plain text, denominator 10^decimals). */
export function ratioOfDec(value: Decimal): Ratio {
  return parseRatio(value.toFixed()) as Ratio;
}
