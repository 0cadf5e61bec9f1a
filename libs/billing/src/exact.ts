import Decimal from 'decimal.js';

/**
 * Exact arithmetic for energy. Sums and products of the finite decimals we handle (Wh, kWh,
 * integer milliseconds) are exact at 100 significant digits; the only inexact operation is a
 * division, and we divide once per result, rounding towards the floor (or ceiling), then take the
 * integer floor (ceiling) of the quotient. Rounding towards -inf to 100 digits never crosses an
 * integer, so floor(q') == floor(q) exactly (and likewise for ceil): interpolated energies and
 * crossing instants are exact, never approximated through a JS number.
 */
export const XF = Decimal.clone({ precision: 100, rounding: Decimal.ROUND_FLOOR, toExpNeg: -120, toExpPos: 120 });
export const XC = Decimal.clone({ precision: 100, rounding: Decimal.ROUND_CEIL, toExpNeg: -120, toExpPos: 120 });
export type X = Decimal;

export const ZERO = new XF(0);
const MILLION = new XF(1_000_000);

/** An exact rational n / d (d > 0) with decimal numerator and denominator. */
export interface Ratio {
  readonly n: X;
  readonly d: X;
}

export const ratio = (n: X, d: X = new XF(1)): Ratio => ({ n, d });

export function sub(a: Ratio, b: Ratio): Ratio {
  return a.d.eq(b.d) ? { n: a.n.minus(b.n), d: a.d } : { n: a.n.times(b.d).minus(b.n.times(a.d)), d: a.d.times(b.d) };
}

export function add(a: Ratio, b: Ratio): Ratio {
  return a.d.eq(b.d) ? { n: a.n.plus(b.n), d: a.d } : { n: a.n.times(b.d).plus(b.n.times(a.d)), d: a.d.times(b.d) };
}

export function mul(a: Ratio, b: Ratio): Ratio {
  return { n: a.n.times(b.n), d: a.d.times(b.d) };
}

/** a / b, b != 0 (b positive). */
export function div(a: Ratio, b: Ratio): Ratio {
  return { n: a.n.times(b.d), d: a.d.times(b.n) };
}

export function cmp(a: Ratio, b: Ratio): number {
  return a.n.times(b.d).cmp(b.n.times(a.d));
}

/** floor(r) to 6 decimals (1 mWh when r is in kWh), exact. */
export function floor6(r: Ratio): X {
  return new XF(r.n.times(MILLION)).div(r.d).floor().div(MILLION);
}

/** ceil(r) as an integer, exact. */
export function ceilInt(r: Ratio): X {
  return new XC(r.n).div(r.d).ceil();
}
