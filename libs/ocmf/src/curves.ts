import { getCurves } from 'node:crypto';

/**
 * The signature algorithms OCMF names (spec "Cryptography → Signature methods", Table 22; the same seven in
 * the OCA signed-meter-values whitepaper's signingMethod table): ECDSA over seven curves, always SHA-256.
 */
export type OcmfCurve =
  'secp192k1' | 'secp256k1' | 'secp192r1' | 'secp256r1' | 'brainpool256r1' | 'secp384r1' | 'brainpool384r1';

export interface CurveInfo {
  /** The curve in OCMF's spelling. */
  readonly name: OcmfCurve;
  /** OpenSSL's name for it (what `crypto.getCurves()` lists and `asymmetricKeyDetails.namedCurve` reports). */
  readonly openssl: string;
  /** DER of the curve's OID (the namedCurve parameter of an EC SubjectPublicKeyInfo). */
  readonly oid: Uint8Array;
  /** Size of a coordinate, and of r and s, in bytes. */
  readonly size: number;
}

const h = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

export const CURVES: Readonly<Record<OcmfCurve, CurveInfo>> = {
  // 1.3.132.0.31
  secp192k1: { name: 'secp192k1', openssl: 'secp192k1', oid: h('06052b8104001f'), size: 24 },
  // 1.3.132.0.10
  secp256k1: { name: 'secp256k1', openssl: 'secp256k1', oid: h('06052b8104000a'), size: 32 },
  // 1.2.840.10045.3.1.1 (prime192v1)
  secp192r1: { name: 'secp192r1', openssl: 'prime192v1', oid: h('06082a8648ce3d030101'), size: 24 },
  // 1.2.840.10045.3.1.7 (prime256v1)
  secp256r1: { name: 'secp256r1', openssl: 'prime256v1', oid: h('06082a8648ce3d030107'), size: 32 },
  // 1.3.36.3.3.2.8.1.1.7
  brainpool256r1: { name: 'brainpool256r1', openssl: 'brainpoolP256r1', oid: h('06092b2403030208010107'), size: 32 },
  // 1.3.132.0.34
  secp384r1: { name: 'secp384r1', openssl: 'secp384r1', oid: h('06052b81040022'), size: 48 },
  // 1.3.36.3.3.2.8.1.1.11
  brainpool384r1: { name: 'brainpool384r1', openssl: 'brainpoolP384r1', oid: h('06092b240303020801010b'), size: 48 },
};

/** SA when the signature section gives none. */
export const DEFAULT_SIGNATURE_ALGORITHM = 'ECDSA-secp256r1-SHA256';

/**
 * Every SA spelling accepted, and its curve. The spec writes `brainpool256r1`; meters (NZR) write
 * `brainpoolP256r1`, the RFC 5639 name, and both are taken for both brainpool curves. Matching is exact
 * (case included): anything else is UNSUPPORTED.
 */
export const SIGNATURE_ALGORITHMS: ReadonlyMap<string, OcmfCurve> = new Map<string, OcmfCurve>([
  ['ECDSA-secp192k1-SHA256', 'secp192k1'],
  ['ECDSA-secp256k1-SHA256', 'secp256k1'],
  ['ECDSA-secp192r1-SHA256', 'secp192r1'],
  ['ECDSA-secp256r1-SHA256', 'secp256r1'],
  ['ECDSA-brainpool256r1-SHA256', 'brainpool256r1'],
  ['ECDSA-brainpoolP256r1-SHA256', 'brainpool256r1'],
  ['ECDSA-secp384r1-SHA256', 'secp384r1'],
  ['ECDSA-brainpool384r1-SHA256', 'brainpool384r1'],
  ['ECDSA-brainpoolP384r1-SHA256', 'brainpool384r1'],
]);

/** The OCMF curve of an SA value, or undefined when OCMF names no such algorithm. */
export function curveOfSignatureAlgorithm(sa: string): OcmfCurve | undefined {
  return SIGNATURE_ALGORITHMS.get(sa);
}

/** The OCMF curve OpenSSL calls `opensslName`, if it is one of the seven. */
export function curveOfOpensslName(opensslName: string | undefined): OcmfCurve | undefined {
  return (Object.values(CURVES) as CurveInfo[]).find((c) => c.openssl === opensslName)?.name;
}

/**
 * Whether this process's OpenSSL can verify on the curve. Asked of `crypto.getCurves()` on each call (a
 * short list; no module-level cache). On Node 20 with OpenSSL 3.0 all seven are there.
 */
export function isCurveAvailable(curve: OcmfCurve): boolean {
  return getCurves().includes(CURVES[curve].openssl);
}

/** The OCMF curves this process can verify. */
export function availableCurves(): OcmfCurve[] {
  const have = new Set(getCurves());
  return (Object.keys(CURVES) as OcmfCurve[]).filter((c) => have.has(CURVES[c].openssl));
}
