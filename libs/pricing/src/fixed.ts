/**
 * Exact fixed-point quantities as JS integers, for the hot path of the engine: energy in mWh
 * (1e-6 kWh) and time in milliseconds. Integers below 2^53 add, compare and multiply by small
 * integers exactly; money is never computed here (amounts use decimal.js).
 */

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];

/**
 * Parse a non-negative plain decimal string ("12", "0.1152", "007.50") into an integer count of
 * 10^-decimals units, or return null when it is not one, has more fractional digits than
 * `decimals` (trailing zeros excepted) or is too large to stay exact (more than 15 digits).
 */
export function parseScaled(text: string, decimals: number): number | null {
  const n = text.length;
  let i = 0;
  let int = 0;
  let intDigits = 0;
  while (i < n) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    if (int !== 0 || c !== 0) intDigits++;
    int = int * 10 + c;
    i++;
  }
  if (i === 0) return null;
  let frac = 0;
  let fracDigits = 0;
  if (i < n) {
    if (text.charCodeAt(i) !== 46 || i === n - 1) return null;
    i++;
    let pendingZeros = 0;
    while (i < n) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return null;
      if (c === 0) pendingZeros++;
      else {
        if (fracDigits + pendingZeros + 1 > decimals) return null;
        frac = frac * POW10[pendingZeros + 1] + c;
        fracDigits += pendingZeros + 1;
        pendingZeros = 0;
      }
      i++;
    }
  }
  if (intDigits + decimals > 15) return null;
  return int * POW10[decimals] + frac * POW10[decimals - fracDigits];
}

/** Plain decimal string of an integer count of 10^-decimals units, without trailing zeros. */
export function formatScaled(value: number, decimals: number): string {
  if (decimals === 0 || value === 0) return `${value}`;
  const negative = value < 0;
  const abs = negative ? -value : value;
  const unit = POW10[decimals];
  const int = Math.floor(abs / unit);
  const frac = abs - int * unit;
  if (frac === 0) return negative ? `-${int}` : `${int}`;
  // unit + frac has a leading 1 followed by the zero-padded fraction digits.
  const digits = `${unit + frac}`;
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end--;
  const s = `${int}.${digits.slice(1, end)}`;
  return negative ? `-${s}` : s;
}

/** Hours with at most 4 decimals, HALF_UP, from milliseconds (OCPI CDR time volumes). */
export function hoursFromMs(ms: number): string {
  // 1e-4 h = 360 ms.
  let q = Math.floor(ms / 360);
  if ((ms - q * 360) * 2 >= 360) q += 1;
  return formatScaled(q, 4);
}

/** Smallest multiple of `step` that is >= `value` (both non-negative integers). */
export function ceilToStep(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}
