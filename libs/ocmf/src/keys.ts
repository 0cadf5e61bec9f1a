import { createPublicKey, type KeyObject } from 'node:crypto';
import { CURVES, curveOfOpensslName, type OcmfCurve } from './curves';

/**
 * Meter public keys as they reach a CSMS: printed on the meter or sent by the station, as
 * - SubjectPublicKeyInfo DER (what OCMF's "Public Key Types", Table 23, and most meters give), or
 * - the raw point: X‖Y (no `04` prefix, e.g. Isabellenhütte), `04`‖X‖Y, or compressed `02|03`‖X,
 * written as hex (upper or lower case, spaces allowed: meters print it in groups), or base64, or wrapped
 * as the OCA whitepaper "Signed Meter Values in OCPP" (§3.2.2, §4.2) says: `oca:<base16|base64>:asn1:<key>`,
 * itself base64-encoded in OCPP 2.0.1's `publicKey` field.
 */

export type KeyTextEncoding = 'hex' | 'base64';

export type DecodedKeyText =
  | { readonly ok: true; readonly bytes: Uint8Array; readonly encoding: KeyTextEncoding; readonly ocaWrapped: boolean }
  | { readonly ok: false; readonly detail: string };

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const OCA_PREFIX = 'oca:';

/** Strict hex (an even count of hex digits), or null. Whitespace must have been removed. */
export function decodeHex(text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 2 !== 0 || !HEX.test(text)) return null;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Strict base64 (standard alphabet, padded, nothing Node's lenient decoder would skip), or null. */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  // a non-canonical tail (bits set past the last byte) decodes, but is not the encoding of those bytes
  if (bytes.toString('base64') !== text) return null;
  return new Uint8Array(bytes);
}

/**
 * The bytes of a key written as text. `encoding` forces one reading; otherwise hex is tried first (a
 * hex key is never valid-looking base64 of the same key), then base64, after taking off an OCA wrapping
 * (plain, or base64 of it). Never throws.
 */
export function decodeKeyText(text: string, encoding?: KeyTextEncoding): DecodedKeyText {
  const trimmed = text.trim();
  if (trimmed.startsWith(OCA_PREFIX)) return decodeOca(trimmed);
  if (encoding === undefined && trimmed.length > 0 && BASE64.test(trimmed)) {
    const inner = decodeBase64(trimmed);
    if (inner) {
      const asText = Buffer.from(inner).toString('utf8');
      if (asText.startsWith(OCA_PREFIX)) return decodeOca(asText.trim());
    }
  }
  const compact = trimmed.replace(/\s+/g, '');
  if (encoding !== 'base64') {
    const bytes = decodeHex(compact);
    if (bytes) return { ok: true, bytes, encoding: 'hex', ocaWrapped: false };
    if (encoding === 'hex') return { ok: false, detail: 'the key is not hex' };
  }
  const bytes = decodeBase64(compact);
  if (bytes) return { ok: true, bytes, encoding: 'base64', ocaWrapped: false };
  if (compact.length === 0) return { ok: false, detail: 'the key is empty' };
  return { ok: false, detail: encoding === 'base64' ? 'the key is not base64' : 'the key is neither hex nor base64' };
}

/** `oca:<base16|base64>:asn1:<key>`: only the ASN.1 (SubjectPublicKeyInfo) form is defined. */
function decodeOca(text: string): DecodedKeyText {
  const parts = text.split(':');
  if (parts.length < 4) return { ok: false, detail: 'an OCA key is oca:<base16|base64>:asn1:<key>' };
  const [, enc, form] = parts;
  const body = parts.slice(3).join(':').replace(/\s+/g, '');
  if (form !== 'asn1') return { ok: false, detail: `OCA key form ${JSON.stringify(form)} is not asn1` };
  if (enc === 'base16') {
    const bytes = decodeHex(body);
    return bytes
      ? { ok: true, bytes, encoding: 'hex', ocaWrapped: true }
      : { ok: false, detail: 'the OCA base16 key is not hex' };
  }
  if (enc === 'base64') {
    const bytes = decodeBase64(body);
    return bytes
      ? { ok: true, bytes, encoding: 'base64', ocaWrapped: true }
      : { ok: false, detail: 'the OCA base64 key is not base64' };
  }
  return { ok: false, detail: `OCA key encoding ${JSON.stringify(enc)} is neither base16 nor base64` };
}

export type KeyForCurve =
  | { readonly ok: true; readonly key: KeyObject; readonly format: 'spki-der' | 'raw-point' }
  | { readonly ok: false; readonly problem: 'UNREADABLE' | 'CURVE_MISMATCH'; readonly detail: string };

/**
 * A verification key for `curve` from key bytes: SubjectPublicKeyInfo DER (its own curve, which must be
 * `curve`), or a raw point of `curve` wrapped into SubjectPublicKeyInfo with the curve's OID. OpenSSL
 * checks that the point lies on the curve.
 */
export function keyForCurve(bytes: Uint8Array, curve: OcmfCurve): KeyForCurve {
  const info = CURVES[curve];
  if (bytes[0] === 0x30) {
    const spki = tryKey(bytes);
    if (spki) {
      if (spki.asymmetricKeyType !== 'ec') {
        return {
          ok: false,
          problem: 'CURVE_MISMATCH',
          detail: `the key is ${spki.asymmetricKeyType ?? 'of an unknown type'}, not an EC key on ${curve}`,
        };
      }
      const named = spki.asymmetricKeyDetails?.namedCurve;
      const keyCurve = curveOfOpensslName(named);
      if (keyCurve !== curve) {
        return {
          ok: false,
          problem: 'CURVE_MISMATCH',
          detail: `the key is on ${keyCurve ?? named ?? 'an unnamed curve'}, the signature algorithm names ${curve}`,
        };
      }
      return { ok: true, key: spki, format: 'spki-der' };
    }
  }
  const n = info.size;
  let point: Uint8Array | null = null;
  if (bytes.length === 2 * n) point = concat(Uint8Array.of(0x04), bytes);
  else if (bytes.length === 2 * n + 1 && bytes[0] === 0x04) point = bytes;
  else if (bytes.length === n + 1 && (bytes[0] === 0x02 || bytes[0] === 0x03)) point = bytes;
  if (!point) {
    return {
      ok: false,
      problem: 'CURVE_MISMATCH',
      detail: `the key is not SubjectPublicKeyInfo DER and its ${bytes.length} bytes are no point of ${curve} (X‖Y is ${2 * n} bytes)`,
    };
  }
  const key = tryKey(spkiOfPoint(point, curve));
  if (!key) return { ok: false, problem: 'UNREADABLE', detail: `the raw key is not a point on ${curve}` };
  return { ok: true, key, format: 'raw-point' };
}

function tryKey(der: Uint8Array): KeyObject | null {
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

/** SubjectPublicKeyInfo DER of an EC point: SEQUENCE { SEQUENCE { id-ecPublicKey, curve OID }, BIT STRING point }. */
export function spkiOfPoint(point: Uint8Array, curve: OcmfCurve): Uint8Array {
  const ecPublicKey = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01); // 1.2.840.10045.2.1
  const algorithm = der(0x30, concat(ecPublicKey, CURVES[curve].oid));
  const bitString = der(0x03, concat(Uint8Array.of(0x00), point));
  return der(0x30, concat(algorithm, bitString));
}

function der(tag: number, body: Uint8Array): Uint8Array {
  const len = body.length;
  const header = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  return concat(Uint8Array.from(header), body);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Verification keys already built, by key text and curve: building one (`createPublicKey`) costs more than the
 * ECDSA verification itself, and a CSMS verifies the same few meter keys over and over. An explicit object its
 * owner makes and passes in (`verifyOcmf(…, { keys })`; no module state); at most `max` entries, emptied when full.
 */
export class KeyCache {
  private readonly entries = new Map<string, KeyForCurve | { ok: false; unreadable: string }>();
  constructor(private readonly max = 1000) {}

  /** The key for `curve` from `text` (as decodeKeyText reads it), or why there is none. */
  of(
    text: string,
    curve: OcmfCurve,
    encoding?: KeyTextEncoding,
  ): KeyForCurve | { readonly ok: false; readonly unreadable: string } {
    const id = `${curve}\u0000${encoding ?? ''}\u0000${text}`;
    let hit = this.entries.get(id);
    if (hit === undefined) {
      const decoded = decodeKeyText(text, encoding);
      hit = decoded.ok ? keyForCurve(decoded.bytes, curve) : { ok: false, unreadable: decoded.detail };
      if (this.entries.size >= this.max) this.entries.clear();
      this.entries.set(id, hit);
    }
    return hit;
  }
}
