/** Exact decimals as text and as fixed point (BigInt × 10^-scale): no binary floats. */
import Decimal from 'decimal.js';

/** Exact decimal string → fixed point at `scale` (scale >= the string's decimals). */
export function toFixed(v: string, scale: number): bigint {
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

export function decimalsOf(v: string): number {
  const dot = v.indexOf('.');
  return dot < 0 ? 0 : v.length - dot - 1;
}

/** Fixed point → canonical decimal string (no trailing zeros). */
export function fromFixed(v: bigint, scale: number): string {
  if (scale === 0) return v.toString();
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale);
  const frac = s.slice(s.length - scale).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

export const toDecimal = (v: bigint, scale: number): Decimal => new Decimal(fromFixed(v, scale));

/** Compares two plain decimal strings (no exponent, as the normaliser writes them) exactly, without parsing. */
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
