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

export const ROUNDING_MODES: readonly RoundingMode[] = [
  'HALF_UP',
  'HALF_EVEN',
  'HALF_DOWN',
  'UP',
  'DOWN',
  'CEILING',
  'FLOOR',
];

export function isRoundingMode(value: unknown): value is RoundingMode {
  return typeof value === 'string' && (ROUNDING_MODES as readonly string[]).includes(value);
}

/** n / d rounded to an integer by `mode` (d > 0), exactly. */
export function divRound(n: bigint, d: bigint, mode: RoundingMode): bigint {
  const q = n / d; // truncates towards zero
  const r = n - q * d;
  if (r === 0n) return q;
  const negative = n < 0n;
  const away = negative ? q - 1n : q + 1n;
  const twice = (r < 0n ? -r : r) * 2n;
  switch (mode) {
    case 'UP':
      return away;
    case 'DOWN':
      return q;
    case 'CEILING':
      return negative ? q : away;
    case 'FLOOR':
      return negative ? away : q;
    case 'HALF_UP':
      return twice >= d ? away : q;
    case 'HALF_DOWN':
      return twice > d ? away : q;
    case 'HALF_EVEN':
      return twice > d || (twice === d && (q & 1n) !== 0n) ? away : q;
    default:
      throw new RangeError(`unknown rounding mode ${String(mode)}`);
  }
}

/** floor(n / d), d > 0. */
export function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n < 0n && q * d !== n ? q - 1n : q;
}

/** ceil(n / d), d > 0. */
export function ceilDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n > 0n && q * d !== n ? q + 1n : q;
}

/** Smallest multiple of `step` that is >= `value` (both non-negative). */
export function ceilToStep(value: bigint, step: bigint): bigint {
  const r = value % step;
  return r === 0n ? value : value - r + step;
}
