import { verify as cryptoVerify } from 'node:crypto';
import {
  CURVES,
  DEFAULT_SIGNATURE_ALGORITHM,
  curveOfSignatureAlgorithm,
  isCurveAvailable,
  type OcmfCurve,
} from './curves';
import { decodeBase64, decodeHex, decodeKeyText, keyForCurve, type KeyCache, type KeyTextEncoding } from './keys';
import { parseOcmf, type MalformedReason, type OcmfRecord } from './record';

export type VerificationStatus = 'VALID' | 'INVALID' | 'NO_KEY' | 'UNSUPPORTED' | 'MALFORMED';

/** Why a record got its status: a stable code (API: never renamed). */
export type VerificationReason =
  // VALID
  | 'SIGNATURE_VERIFIED'
  // INVALID
  | 'SIGNATURE_MISMATCH'
  | 'KEY_CURVE_MISMATCH'
  // NO_KEY
  | 'NO_PUBLIC_KEY'
  | 'KEY_UNREADABLE'
  // UNSUPPORTED
  | 'UNKNOWN_SIGNATURE_ALGORITHM'
  | 'CURVE_NOT_AVAILABLE'
  | 'UNKNOWN_SIGNATURE_ENCODING'
  | 'UNKNOWN_SIGNATURE_MIME_TYPE'
  | 'UNKNOWN_ENCODING_METHOD'
  // MALFORMED
  | MalformedReason
  | 'SIGNATURE_ENCODING'
  | 'SIGNED_METER_DATA_ENCODING'
  | 'SIGNING_METHOD_CONFLICT';

export type SignatureFormat = 'der' | 'raw-r||s';

export interface VerificationResult {
  readonly status: VerificationStatus;
  readonly reason: VerificationReason;
  /** One sentence for a person (an auditor, an operator). */
  readonly detail: string;
  /** The parsed record; null when it could not be parsed. */
  readonly record: OcmfRecord | null;
  /** The signature algorithm applied (SA, or the default), null when the record could not be parsed. */
  readonly signatureAlgorithm: string | null;
  readonly curve: OcmfCurve | null;
  /** How the signature was read, once it was decoded. */
  readonly signatureFormat: SignatureFormat | null;
}

export interface VerifyOptions {
  /** Force how the key text is read (otherwise hex, then base64, OCA wrapping recognised). */
  readonly keyEncoding?: KeyTextEncoding;
  /** SA to apply when the record's signature section has none (OCPP 2.0.1 `signingMethod`); else the OCMF default. */
  readonly signatureAlgorithm?: string;
  /** Keys already built (the caller's cache): the same verdicts, without building a key per record. */
  readonly keys?: KeyCache;
}

const DER_MIME_TYPE = 'application/x-der';

/**
 * Verifies one OCMF record against a meter public key (see keys.ts for the forms accepted). Which key is
 * trusted for which meter is the caller's decision; this only says whether `publicKey` signed the record.
 * Never throws.
 */
export function verifyOcmf(
  input: string | Uint8Array | OcmfRecord,
  publicKey?: string | null,
  options: VerifyOptions = {},
): VerificationResult {
  let record: OcmfRecord;
  if (typeof input !== 'object' || input === null || input instanceof Uint8Array || !('signedBytes' in input)) {
    const parsed = parseOcmf(input);
    if (!parsed.ok) return result('MALFORMED', parsed.reason, parsed.detail, null);
    record = parsed.record;
  } else {
    record = input;
  }
  const sig = record.signature;
  const sa = sig.SA ?? options.signatureAlgorithm ?? DEFAULT_SIGNATURE_ALGORITHM;
  const base = { record, signatureAlgorithm: sa } as const;
  const curve = curveOfSignatureAlgorithm(sa);
  if (!curve) {
    return result(
      'UNSUPPORTED',
      'UNKNOWN_SIGNATURE_ALGORITHM',
      `OCMF names no signature algorithm ${JSON.stringify(sa)}`,
      record,
      { signatureAlgorithm: sa },
    );
  }
  const withCurve = { ...base, curve } as const;
  if (!isCurveAvailable(curve)) {
    return result(
      'UNSUPPORTED',
      'CURVE_NOT_AVAILABLE',
      `this process's OpenSSL has no curve ${CURVES[curve].openssl} (${curve})`,
      record,
      withCurve,
    );
  }
  const se = sig.SE ?? 'hex';
  if (se !== 'hex' && se !== 'base64') {
    return result(
      'UNSUPPORTED',
      'UNKNOWN_SIGNATURE_ENCODING',
      `signature encoding (SE) ${JSON.stringify(se)} is neither hex nor base64`,
      record,
      withCurve,
    );
  }
  if (sig.SM !== undefined && sig.SM !== DER_MIME_TYPE) {
    return result(
      'UNSUPPORTED',
      'UNKNOWN_SIGNATURE_MIME_TYPE',
      `signature MIME type (SM) ${JSON.stringify(sig.SM)} is not ${DER_MIME_TYPE}`,
      record,
      withCurve,
    );
  }
  const signature = se === 'hex' ? decodeHex(sig.SD) : decodeBase64(sig.SD);
  if (!signature)
    return result('MALFORMED', 'SIGNATURE_ENCODING', `the signature data (SD) is not ${se}`, record, withCurve);
  // OCMF's default is DER; a signature of exactly 2 x the curve size that is not a DER SEQUENCE is raw
  // r‖s (IEEE P1363), as Isabellenhütte meters send it without an SM.
  const size = CURVES[curve].size;
  const format: SignatureFormat =
    sig.SM === undefined && signature.length === 2 * size && !looksLikeDerSignature(signature) ? 'raw-r||s' : 'der';
  const withFormat = { ...withCurve, signatureFormat: format } as const;

  if (typeof publicKey !== 'string' || publicKey.trim() === '') {
    return result('NO_KEY', 'NO_PUBLIC_KEY', 'no public key was given for this meter', record, withFormat);
  }
  let key;
  if (options.keys) {
    const cached = options.keys.of(publicKey, curve, options.keyEncoding);
    if ('unreadable' in cached) return result('NO_KEY', 'KEY_UNREADABLE', cached.unreadable, record, withFormat);
    key = cached;
  } else {
    const keyText = decodeKeyText(publicKey, options.keyEncoding);
    if (!keyText.ok) return result('NO_KEY', 'KEY_UNREADABLE', keyText.detail, record, withFormat);
    key = keyForCurve(keyText.bytes, curve);
  }
  if (!key.ok) {
    return key.problem === 'CURVE_MISMATCH'
      ? result('INVALID', 'KEY_CURVE_MISMATCH', key.detail, record, withFormat)
      : result('NO_KEY', 'KEY_UNREADABLE', key.detail, record, withFormat);
  }
  let verified: boolean;
  try {
    verified = cryptoVerify(
      'sha256',
      record.signedBytes,
      { key: key.key, dsaEncoding: format === 'der' ? 'der' : 'ieee-p1363' },
      signature,
    );
  } catch {
    verified = false;
  }
  return verified
    ? result(
        'VALID',
        'SIGNATURE_VERIFIED',
        `the ${format === 'der' ? 'DER' : 'raw r‖s'} signature verifies with ${sa} over the payload's ${record.signedBytes.length} bytes`,
        record,
        withFormat,
      )
    : result(
        'INVALID',
        'SIGNATURE_MISMATCH',
        `the signature does not verify with ${sa} and this key: the payload, the signature or the key is not the one signed`,
        record,
        withFormat,
      );
}

/**
 * OCPP 2.0.1 `SignedMeterValueType` (Part 2 §2.46) with `encodingMethod` "OCMF": `signedMeterData` is the
 * base64 of the OCMF string, `signingMethod` is empty when SA is in the record (OCA whitepaper §4.2), and
 * `publicKey` is empty or the base64 of an OCA-wrapped key. `publicKey` here overrides the one in the
 * message (a key from the operator's registry); pass `null` to verify with no key.
 */
export interface SignedMeterValue {
  readonly signedMeterData: string;
  readonly signingMethod: string;
  readonly encodingMethod: string;
  readonly publicKey: string;
}

export function verifySignedMeterValue(
  value: SignedMeterValue,
  publicKey: string | null = value.publicKey,
  options: Pick<VerifyOptions, 'keys'> = {},
): VerificationResult {
  if (value.encodingMethod !== 'OCMF') {
    return result(
      'UNSUPPORTED',
      'UNKNOWN_ENCODING_METHOD',
      `encodingMethod ${JSON.stringify(value.encodingMethod)} is not OCMF`,
      null,
    );
  }
  const bytes = decodeBase64(value.signedMeterData.replace(/\s+/g, ''));
  if (!bytes) return result('MALFORMED', 'SIGNED_METER_DATA_ENCODING', 'signedMeterData is not base64', null);
  const parsed = parseOcmf(bytes);
  if (!parsed.ok) return result('MALFORMED', parsed.reason, parsed.detail, null);
  const sa = parsed.record.signature.SA;
  const method = value.signingMethod;
  if (method !== '' && sa !== undefined && method !== sa) {
    return result(
      'MALFORMED',
      'SIGNING_METHOD_CONFLICT',
      `signingMethod ${JSON.stringify(method)} differs from the record's SA ${JSON.stringify(sa)}`,
      parsed.record,
    );
  }
  return verifyOcmf(parsed.record, publicKey, method === '' ? options : { ...options, signatureAlgorithm: method });
}

/** A SEQUENCE of exactly two INTEGERs with consistent short lengths (the shape, not the strictness OpenSSL checks). */
function looksLikeDerSignature(b: Uint8Array): boolean {
  if (b[0] !== 0x30) return false;
  let at = 2;
  if (b[1] === 0x81) at = 3;
  else if (b[1] > 0x80) return false;
  const seqLen = b[1] === 0x81 ? b[2] : b[1];
  if (at + seqLen !== b.length) return false;
  for (let i = 0; i < 2; i++) {
    if (b[at] !== 0x02) return false;
    const len = b[at + 1];
    if (len === undefined || len >= 0x80) return false;
    at += 2 + len;
  }
  return at === b.length;
}

function result(
  status: VerificationStatus,
  reason: VerificationReason,
  detail: string,
  record: OcmfRecord | null,
  extra: {
    signatureAlgorithm?: string | null;
    curve?: OcmfCurve | null;
    signatureFormat?: SignatureFormat | null;
  } = {},
): VerificationResult {
  return {
    status,
    reason,
    detail,
    record,
    signatureAlgorithm: extra.signatureAlgorithm ?? (record ? (record.signature.SA ?? null) : null),
    curve: extra.curve ?? null,
    signatureFormat: extra.signatureFormat ?? null,
  };
}
