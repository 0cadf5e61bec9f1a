import { KeyCache } from './keys';
import { parseOcmf } from './record';
import { VECTORS } from './testing/vectors';
import { verifyOcmf, type VerificationReason } from './verify';

// Every shared vector verifies as its expectation says. The reason a vector gives for an invalid case is
// what was done to it; a verifier can only see its class: a signature that does not verify (tampered
// payload or signature, or another key on the same curve), or a key on another curve.
const REASONS: Record<'tampered-payload' | 'tampered-signature' | 'wrong-key', VerificationReason[]> = {
  'tampered-payload': ['SIGNATURE_MISMATCH'],
  'tampered-signature': ['SIGNATURE_MISMATCH'],
  'wrong-key': ['SIGNATURE_MISMATCH', 'KEY_CURVE_MISMATCH'],
};

describe('shared OCMF vectors', () => {
  it('are all here: 46 cases, 24 valid and 22 invalid', () => {
    expect(VECTORS).toHaveLength(46);
    expect(VECTORS.filter((v) => v.expected === 'valid')).toHaveLength(24);
    expect(VECTORS.filter((v) => v.expected === 'invalid')).toHaveLength(22);
  });

  describe.each(VECTORS.map((v) => [v.id, v] as const))('%s', (_id, v) => {
    it(`verifies ${v.expected === 'valid' ? 'VALID' : 'INVALID'}`, () => {
      const r = verifyOcmf(v.ocmf, v.publicKey.value);
      if (v.expected === 'valid') {
        expect(r).toMatchObject({ status: 'VALID', reason: 'SIGNATURE_VERIFIED' });
      } else {
        expect(r.status).toBe('INVALID');
        expect(REASONS[v.reason!]).toContain(r.reason);
      }
    });

    it('reads the signature as the vector says (encoding, DER or raw r‖s) and the curve SA names', () => {
      const r = verifyOcmf(v.ocmf, v.publicKey.value);
      expect(r.signatureFormat).toBe(v.signatureFormat);
      expect(r.curve).toBe(v.curve);
      expect(r.signatureAlgorithm).toBe(v.signatureAlgorithm ?? 'ECDSA-secp256r1-SHA256');
      expect(r.record?.signature.SE ?? 'hex').toBe(v.signatureEncoding);
    });

    it("reads every reading's fields as written, numbers as their source text", () => {
      const p = parseOcmf(v.ocmf);
      if (!p.ok) throw new Error(p.detail);
      expect(p.record.payload.RD).toHaveLength(v.readings.length);
      p.record.payload.RD.forEach((reading, i) => {
        const expected = v.readings[i];
        for (const [field, text] of Object.entries(expected)) {
          if (field === 'RVType') {
            expect(reading.RV?.jsonType).toBe(text);
            continue;
          }
          const raw = reading.raw.get(field);
          const rawText = typeof raw === 'string' ? raw : (raw as { text: string }).text;
          expect(rawText).toBe(text);
        }
        // nothing filled in that the vector lists as written
        for (const f of reading.inherited) expect(expected[f]).toBeUndefined();
      });
    });
  });
});

describe('a key cache gives the same verdicts', () => {
  it('every vector, twice through one KeyCache, as without it; an unreadable key stays NO_KEY', () => {
    const keys = new KeyCache(8);
    for (let round = 0; round < 2; round++) {
      for (const v of VECTORS) {
        const plain = verifyOcmf(v.ocmf, v.publicKey.value);
        const cached = verifyOcmf(v.ocmf, v.publicKey.value, { keys });
        expect([v.id, cached.status, cached.reason]).toEqual([v.id, plain.status, plain.reason]);
      }
    }
    expect(verifyOcmf(VECTORS[0].ocmf, 'not a key', { keys })).toMatchObject({
      status: 'NO_KEY',
      reason: 'KEY_UNREADABLE',
    });
  });
});
