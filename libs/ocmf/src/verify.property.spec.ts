import fc from 'fast-check';
import { decodeBase64, decodeHex } from './keys';
import { VECTORS } from './testing/vectors';
import { verifyOcmf } from './verify';

// A single changed byte, of the signed payload or of the signature, never verifies: whatever the byte,
// whatever the change, on every valid vector (every curve, DER and raw r‖s, hex and base64 signatures).
const valid = VECTORS.filter((v) => v.expected === 'valid');

function parts(ocmf: string) {
  const bytes = Buffer.from(ocmf, 'utf8');
  const first = bytes.indexOf(0x7c);
  const second = bytes.indexOf(0x7c, first + 1);
  return { bytes, first, second };
}

describe('a flipped byte never verifies VALID', () => {
  it('in the payload bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 1, max: 255 }), (v, at, mask) => {
        const { bytes, first, second } = parts(v.ocmf);
        const copy = Buffer.from(bytes);
        const i = first + 1 + (at % (second - first - 1));
        copy[i] ^= mask;
        const r = verifyOcmf(new Uint8Array(copy), v.publicKey.value);
        expect(r.status).not.toBe('VALID');
        // a payload that still reads as a record is INVALID; one that no longer does is MALFORMED (or has lost a section)
        expect(['INVALID', 'MALFORMED']).toContain(r.status);
      }),
      { numRuns: 400 },
    );
  });

  it('in the decoded signature, re-encoded as the record encodes it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 1, max: 255 }), (v, at, mask) => {
        const cut = v.ocmf.lastIndexOf('|') + 1;
        const section = JSON.parse(v.ocmf.slice(cut)) as Record<string, string>;
        const base64 = section.SE === 'base64';
        const sig = Buffer.from((base64 ? decodeBase64(section.SD) : decodeHex(section.SD))!);
        sig[at % sig.length] ^= mask;
        const sd = base64 ? sig.toString('base64') : sig.toString('hex');
        const tampered = v.ocmf.slice(0, cut) + v.ocmf.slice(cut).replace(section.SD, sd);
        const r = verifyOcmf(tampered, v.publicKey.value);
        expect(r).toMatchObject({ status: 'INVALID', reason: 'SIGNATURE_MISMATCH' });
      }),
      { numRuns: 400 },
    );
  });

  it('the untouched vectors do verify (the properties above are not vacuous)', () => {
    for (const v of valid)
      expect(verifyOcmf(new Uint8Array(Buffer.from(v.ocmf, 'utf8')), v.publicKey.value).status).toBe('VALID');
  });
});
