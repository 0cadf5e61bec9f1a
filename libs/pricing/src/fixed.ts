/**
 * Exact fixed-point quantities and amounts as BigInt (docs/architecture.md rule 4: never a JS number for
 * energy, time or money used in a price): energy in mWh (1e-6 kWh), priced time in milliseconds,
 * and amounts as integers over a per-tariff denominator (see CompiledTariff.amountDenominator).
 */
import type { RoundingMode } from '@csms/money';

const POW10N: bigint[] = [];
for (let i = 0, p = 1n; i <= 64; i++, p *= 10n) POW10N.push(p);

/** 10^n as a bigint. */
export function pow10(n: number): bigint {
  return n <= 64 ? POW10N[n] : 10n ** BigInt(n);
}

/**
 * Parse a non-negative plain decimal string ("12", "0.1152", "007.50") into an integer count of
 * 10^-decimals units, or return null when it is not one, has more fractional digits than
 * `decimals` (trailing zeros excepted) or more than 15 significant digits (a sanity bound: no
 * meter reports more).
 */
export function parseScaled(text: string, decimals: number): bigint | null {
  const n = text.length;
  let i = 0;
  let intStart = -1;
  while (i < n) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    if (intStart < 0 && c !== 0) intStart = i;
    i++;
  }
  if (i === 0) return null;
  const intEnd = i;
  const intDigits = intStart < 0 ? 0 : intEnd - intStart;
  let fracEnd = intEnd + 1; // one past the last non-zero fraction digit
  if (i < n) {
    if (text.charCodeAt(i) !== 46 || i === n - 1) return null;
    i++;
    while (i < n) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return null;
      if (c !== 0) fracEnd = i + 1;
      i++;
    }
  }
  const fracDigits = fracEnd - intEnd - 1;
  if (fracDigits > decimals || intDigits + decimals > 15) return null;
  const intText = intStart < 0 ? '' : text.slice(intStart, intEnd);
  const fracText = fracDigits > 0 ? text.slice(intEnd + 1, fracEnd) : '';
  const digits = intText + fracText;
  if (digits.length === 0) return 0n;
  const v = BigInt(digits);
  return fracDigits === decimals ? v : v * POW10N[decimals - fracDigits];
}

/** Plain decimal string of an integer count of 10^-decimals units, without trailing zeros. */
export function formatScaled(value: bigint, decimals: number): string {
  if (value === 0n) return '0';
  if (value < 0n) return `-${formatDigits((-value).toString(), decimals)}`;
  return formatDigits(value.toString(), decimals);
}

/** The decimal text of `digits` (a non-negative integer's digits, no leading zero) x 10^-decimals. */
function formatDigits(digits: string, decimals: number): string {
  if (decimals <= 0) return decimals === 0 ? digits : digits + '0'.repeat(-decimals);
  const len = digits.length;
  let end = len;
  const stop = len - decimals; // index of the first fraction digit (may be negative)
  while (end > stop && end > 0 && digits.charCodeAt(end - 1) === 48) end--;
  if (stop > 0) return end === stop ? digits.slice(0, stop) : `${digits.slice(0, stop)}.${digits.slice(stop, end)}`;
  return `0.${'0'.repeat(-stop)}${digits.slice(0, end)}`;
}

/** formatScaled for a JS integer that is not a priced quantity (an instant difference, an age). */
export function formatMillis(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}`;
  return formatScaled(BigInt(ms), 3);
}

/** Hours with at most 4 decimals, HALF_UP, from milliseconds (OCPI CDR time volumes). */
export function hoursFromMs(ms: bigint): string {
  // 1e-4 h = 360 ms.
  const q = ms / 360n;
  return formatScaled(ms % 360n >= 180n ? q + 1n : q, 4);
}

/** Smallest multiple of `step` that is >= `value` (both non-negative). */
export function ceilToStep(value: bigint, step: bigint): bigint {
  const r = value % step;
  return r === 0n ? value : value - r + step;
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
      throw new Error(`unknown rounding mode ${String(mode)}`);
  }
}

/** An amount in minor units as money text ("5.63", "1235", "1.235"); never "-0.00". */
export function formatMinor(units: bigint, minorUnits: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString();
  let s: string;
  if (minorUnits === 0) s = digits;
  else if (digits.length > minorUnits) s = `${digits.slice(0, digits.length - minorUnits)}.${digits.slice(digits.length - minorUnits)}`;
  else s = `0.${digits.padStart(minorUnits, '0')}`;
  return negative ? `-${s}` : s;
}

const SIGNIFICANT = 40;

/**
 * Plain decimal text of the exact rational n / d (d > 0), rounded HALF_UP to 40 significant digits
 * (the precision of the platform's decimal type; a value that terminates within 40 digits is
 * exact), without trailing zeros. `k >= 0` says d = 9 x 10^k (the engine's amount denominator),
 * which allows a fast path.
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
