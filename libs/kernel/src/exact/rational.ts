import * as rounding from './rounding';
import type { RoundingMode } from './rounding';
import * as text from './text';

// Bound once at load: under esbuild / tsx a call through an imported CommonJS namespace goes through an
// accessor each time (formatRatio is on the pricing engine's hot path).
const { divRound } = rounding;
const { formatDigits, formatScaled, pow10 } = text;

/**
 * An exact rational n / d as two BigInts, d > 0. Never reduced by a gcd (a decimal keeps its power of
 * ten as denominator): sums of decimals stay on the finer of the two powers of ten, other sums and all
 * products multiply the denominators. No precision limit, so every operation is exact; the only
 * rounding is the explicit one to a scale (floorToScale, ceilToScale, roundToScale, formatRatio).
 */
export interface Ratio {
  readonly n: bigint;
  readonly d: bigint;
}

export const ZERO_RATIO: Ratio = { n: 0n, d: 1n };

/** n / d; d must be non-zero (a negative d moves its sign to n). */
export function ratio(n: bigint, d = 1n): Ratio {
  if (d === 0n) throw new RangeError('a ratio with a zero denominator');
  return d < 0n ? { n: -n, d: -d } : { n, d };
}

/** The exact value of `units` x 10^-scale (a scaled fixed-point quantity). */
export function ratioOfScaled(units: bigint, scale: number): Ratio {
  return { n: units, d: pow10(scale) };
}

/**
 * Strict parse of a plain decimal string ("-12.5", "0.000001", "007") into its exact ratio (denominator
 * 10^decimals), or null when it is not one (an exponent, a sign other than a leading minus, a lone point).
 */
export function parseRatio(text: string): Ratio | null {
  const n = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const intStart = i;
  while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  if (i === intStart) return null;
  let fracLen = 0;
  if (i < n) {
    if (text.charCodeAt(i) !== 46 || i === n - 1) return null;
    const fracStart = ++i;
    while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    if (i < n) return null;
    fracLen = n - fracStart;
    const units = BigInt(text.slice(intStart, fracStart - 1) + text.slice(fracStart));
    return { n: intStart === 1 ? -units : units, d: pow10(fracLen) };
  }
  const units = BigInt(text.slice(intStart));
  return { n: intStart === 1 ? -units : units, d: 1n };
}

function common(a: Ratio, b: Ratio): [bigint, bigint, bigint] | null {
  if (a.d === b.d) return [a.n, b.n, a.d];
  if (a.d > b.d) {
    if (a.d % b.d === 0n) return [a.n, b.n * (a.d / b.d), a.d];
  } else if (b.d % a.d === 0n) return [a.n * (b.d / a.d), b.n, b.d];
  return null;
}

export function addRatio(a: Ratio, b: Ratio): Ratio {
  const c = common(a, b);
  return c ? { n: c[0] + c[1], d: c[2] } : { n: a.n * b.d + b.n * a.d, d: a.d * b.d };
}

export function subRatio(a: Ratio, b: Ratio): Ratio {
  const c = common(a, b);
  return c ? { n: c[0] - c[1], d: c[2] } : { n: a.n * b.d - b.n * a.d, d: a.d * b.d };
}

export function mulRatio(a: Ratio, b: Ratio): Ratio {
  return { n: a.n * b.n, d: a.d * b.d };
}

/** a / b, b != 0. */
export function divRatio(a: Ratio, b: Ratio): Ratio {
  if (b.n === 0n) throw new RangeError('division by zero');
  return b.n < 0n ? { n: -a.n * b.d, d: a.d * -b.n } : { n: a.n * b.d, d: a.d * b.n };
}

export function negRatio(a: Ratio): Ratio {
  return { n: -a.n, d: a.d };
}

/** -1, 0 or 1 as a < b, a = b, a > b. */
export function cmpRatio(a: Ratio, b: Ratio): number {
  const c = common(a, b);
  const l = c ? c[0] : a.n * b.d;
  const r = c ? c[1] : b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** floor(r x 10^scale): r floored to `scale` decimals, as a count of 10^-scale units. */
export function floorToScale(r: Ratio, scale: number): bigint {
  return divRound(r.n * pow10(scale), r.d, 'FLOOR');
}

/** ceil(r x 10^scale): r ceiled to `scale` decimals, as a count of 10^-scale units. */
export function ceilToScale(r: Ratio, scale: number): bigint {
  return divRound(r.n * pow10(scale), r.d, 'CEILING');
}

/** r rounded to `scale` decimals by `mode`, as a count of 10^-scale units. */
export function roundToScale(r: Ratio, scale: number, mode: RoundingMode): bigint {
  return divRound(r.n * pow10(scale), r.d, mode);
}

const SIGNIFICANT = 40;

/**
 * Plain decimal text of the exact rational n / d (d > 0), rounded HALF_UP to 40 significant digits
 * (the precision of the platform's decimal type, Dec: a value that terminates within 40 digits is
 * exact), without trailing zeros. `k >= 0` says d = 9 x 10^k (the pricing engine's amount
 * denominator), which allows a fast path.
 */
export function formatRatio(n: bigint, d: bigint, k = -1): string {
  if (n === 0n) return '0';
  const negative = n < 0n;
  const a = negative ? -n : n;
  if (k >= 0 && a % 9n === 0n) {
    // d = 9 x 10^k and 9 | a: the value is exactly (a / 9) x 10^-k.
    const s = formatScaled(a / 9n, k);
    return negative ? `-${s}` : s;
  }
  // Scale so that the integer quotient q = floor(a x 10^p / d) has more than 40 digits, then round
  // it to 40 on its text: q's digits after the 40th, followed by the exact remainder, are below one
  // unit of the 40th digit, so the exact value is at least half a unit above the 40 digits exactly
  // when the 41st digit of q is 5 or more (HALF_UP).
  const p = (k >= 0 ? k + 1 : d.toString().length) + SIGNIFICANT + 2;
  // With d = 9 x 10^k, 10^k divides a x 10^p: the same quotient comes from dividing by 9 alone.
  const qs = (k >= 0 ? (a * pow10(p - k)) / 9n : (a * pow10(p)) / d).toString();
  const drop = qs.length - SIGNIFICANT; // > 0: q has at least 43 digits
  let head = qs.slice(0, SIGNIFICANT);
  if (qs.charCodeAt(SIGNIFICANT) >= 53) head = (BigInt(head) + 1n).toString();
  // The value is head x 10^drop / 10^p (also after a carry 999... + 1 = 1000...).
  const text = formatDigits(head, p - drop);
  return negative ? `-${text}` : text;
}

/** formatRatio of a Ratio. */
export function formatRational(r: Ratio): string {
  return formatRatio(r.n, r.d);
}
