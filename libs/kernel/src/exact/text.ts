/**
 * Plain decimal text ("12", "-0.25", "007.50": an optional minus, digits, optionally a point and
 * digits; never an exponent, never a JS number) and scaled BigInt fixed point: a quantity held as an
 * integer count of 10^-scale units (energy in mWh = kWh at scale 6, time in ms = seconds at scale 3).
 */

const POW10N: bigint[] = [];
for (let i = 0, p = 1n; i <= 64; i++, p *= 10n) POW10N.push(p);

/** 10^n as a bigint (n >= 0). */
export function pow10(n: number): bigint {
  return n <= 64 ? POW10N[n] : 10n ** BigInt(n);
}

const DECIMAL_STRING = /^-?\d+(\.\d+)?$/;

/** True when `value` is a plain decimal string: optional minus, digits, optional fraction. No exponent. */
export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL_STRING.test(value);
}

/** A non-negative plain decimal string ("12", "0.5"): digits, optionally a point and digits. */
export function isNonNegativeDecimal(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const n = v.length;
  let i = 0;
  while (i < n && v.charCodeAt(i) >= 48 && v.charCodeAt(i) <= 57) i++;
  if (i === 0) return false;
  if (i === n) return true;
  if (v.charCodeAt(i) !== 46 || i === n - 1) return false;
  for (i++; i < n; i++) if (v.charCodeAt(i) < 48 || v.charCodeAt(i) > 57) return false;
  return true;
}

/**
 * True when a plain decimal string (already validated) is in canonical form: no leading zero
 * before another digit, no trailing zero after the point.
 */
export function isCanonicalDecimal(text: string): boolean {
  if (text.charCodeAt(0) === 48 && text.length > 1 && text.charCodeAt(1) !== 46) return false;
  return text.indexOf('.') < 0 || text.charCodeAt(text.length - 1) !== 48;
}

/** Number of digits after the point of a plain decimal string (trailing zeros included). */
export function decimalsOf(v: string): number {
  const dot = v.indexOf('.');
  return dot < 0 ? 0 : v.length - dot - 1;
}

/**
 * Strict parse of a non-negative plain decimal string ("12", "0.1152", "007.50") into an integer count
 * of 10^-decimals units, or null when it is not one, has more fractional digits than `decimals`
 * (trailing zeros excepted) or more than `maxDigits` significant digits counting `decimals` (15 by
 * default: a sanity bound, no meter reports more).
 */
export function parseScaled(text: string, decimals: number, maxDigits = 15): bigint | null {
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
  if (fracDigits > decimals || intDigits + decimals > maxDigits) return null;
  const intText = intStart < 0 ? '' : text.slice(intStart, intEnd);
  const fracText = fracDigits > 0 ? text.slice(intEnd + 1, fracEnd) : '';
  const digits = intText + fracText;
  if (digits.length === 0) return 0n;
  const v = BigInt(digits);
  return fracDigits === decimals ? v : v * POW10N[decimals - fracDigits];
}

/**
 * Lenient, fast fixed point of a plain decimal string already known to be valid (an optional sign,
 * digits, optionally a point and digits) at `scale` >= decimalsOf(v): v x 10^scale. No validation:
 * for values a boundary has checked (the normaliser writes them); use parseScaled at the boundary.
 */
export function toScaled(v: string, scale: number): bigint {
  const c = v.charCodeAt(0);
  // the usual case, an unsigned integer at scale 0: BigInt reads it as is
  if (scale === 0 && c >= 48 && c <= 57 && v.indexOf('.') < 0) return BigInt(v);
  const signed = c === 45 || c === 43; // '-' '+'
  const body = signed ? v.slice(1) : v;
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? '' : body.slice(dot + 1);
  const digits = BigInt((int || '0') + frac + (scale > frac.length ? '0'.repeat(scale - frac.length) : ''));
  return c === 45 ? -digits : digits;
}

/** Plain decimal string of an integer count of 10^-decimals units, without trailing zeros ("0" for zero). */
export function formatScaled(value: bigint, decimals: number): string {
  if (value === 0n) return '0';
  if (value < 0n) return `-${formatDigits((-value).toString(), decimals)}`;
  return formatDigits(value.toString(), decimals);
}

/** The decimal text of `digits` (a non-negative integer's digits, no leading zero) x 10^-decimals. */
export function formatDigits(digits: string, decimals: number): string {
  if (decimals <= 0) return decimals === 0 ? digits : digits + '0'.repeat(-decimals);
  const len = digits.length;
  let end = len;
  const stop = len - decimals; // index of the first fraction digit (may be negative)
  while (end > stop && end > 0 && digits.charCodeAt(end - 1) === 48) end--;
  if (stop > 0) return end === stop ? digits.slice(0, stop) : `${digits.slice(0, stop)}.${digits.slice(stop, end)}`;
  return `0.${'0'.repeat(-stop)}${digits.slice(0, end)}`;
}

/** Compares two plain decimal strings (no exponent) exactly, without parsing them. */
export function compareDecimal(a: string, b: string): number {
  const na = a.charCodeAt(0) === 45; // '-'
  const nb = b.charCodeAt(0) === 45;
  if (na !== nb) return na ? -1 : 1;
  const sign = na ? -1 : 1;
  let ia = na ? 1 : 0;
  let ib = nb ? 1 : 0;
  while (a.charCodeAt(ia) === 48 && ia + 1 < a.length && a.charCodeAt(ia + 1) !== 46) ia++; // leading zeros
  while (b.charCodeAt(ib) === 48 && ib + 1 < b.length && b.charCodeAt(ib + 1) !== 46) ib++;
  const da = a.indexOf('.', ia);
  const db = b.indexOf('.', ib);
  const la = (da < 0 ? a.length : da) - ia;
  const lb = (db < 0 ? b.length : db) - ib;
  if (la !== lb) return sign * (la < lb ? -1 : 1);
  const n = Math.max(a.length - ia, b.length - ib);
  for (let k = 0; k < n; k++) {
    // past the end, and the '.' itself, compare as '0' (the integer parts have the same length)
    let ca = ia + k < a.length ? a.charCodeAt(ia + k) : 48;
    let cb = ib + k < b.length ? b.charCodeAt(ib + k) : 48;
    if (ca === 46) ca = 48;
    if (cb === 46) cb = 48;
    if (ca !== cb) return sign * (ca < cb ? -1 : 1);
  }
  return 0;
}

/** An amount in minor units as money text ("5.63", "1235", "1.235"); never "-0.00". */
export function formatMinor(units: bigint, minorUnits: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString();
  let s: string;
  if (minorUnits === 0) s = digits;
  else if (digits.length > minorUnits)
    s = `${digits.slice(0, digits.length - minorUnits)}.${digits.slice(digits.length - minorUnits)}`;
  else s = `0.${digits.padStart(minorUnits, '0')}`;
  return negative ? `-${s}` : s;
}

/** Seconds text of a JS integer count of milliseconds that is not a priced quantity (an instant difference, an age). */
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
