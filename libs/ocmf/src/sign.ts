import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { CURVES, type OcmfCurve } from './curves';

/**
 * Signing, for simulated meters and tests only: a CSMS never signs meter values, it verifies what the meter
 * signed. The record is `OCMF|{payload}|{"SA":…,"SD":…}` with SD the hex DER ECDSA-SHA256 signature over the
 * payload text's UTF-8 bytes, exactly as given (the caller writes the JSON: its bytes are what is signed).
 */
export function signOcmf(payloadText: string, privateKey: KeyObject, curve: OcmfCurve = 'secp256r1'): string {
  const sd = cryptoSign('sha256', Buffer.from(payloadText, 'utf8'), { key: privateKey, dsaEncoding: 'der' });
  return `OCMF|${payloadText}|${JSON.stringify({ SA: `ECDSA-${curve}-SHA256`, SD: sd.toString('hex').toUpperCase() })}`;
}

/** A meter key pair on an OCMF curve; `publicKeyHex`: its SubjectPublicKeyInfo DER in hex (as meters print it). */
export function meterKeyPair(curve: OcmfCurve = 'secp256r1'): {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyHex: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: CURVES[curve].openssl });
  const publicKeyHex = publicKey.export({ type: 'spki', format: 'der' }).toString('hex').toUpperCase();
  return { privateKey, publicKey, publicKeyHex };
}
