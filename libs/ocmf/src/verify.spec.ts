import { ECDH, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { CURVES, availableCurves, curveOfSignatureAlgorithm, type OcmfCurve } from './curves';
import { decodeKeyText, spkiOfPoint } from './keys';
import { vector } from './testing/vectors';
import { verifyOcmf, verifySignedMeterValue } from './verify';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A key pair on `curve`, made for the test, and a record signed with it. */
function signed(
  curve: OcmfCurve,
  opts: { sa?: string | null; se?: 'hex' | 'base64'; raw?: boolean; payload?: string } = {},
) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: CURVES[curve].openssl });
  const payload =
    opts.payload ??
    '{"FV":"1.0","GS":"G1","PG":"T1","MS":"M1","RD":[{"TM":"2026-01-01T10:00:00,000+0000 S","TX":"B","RV":12.340,"RI":"1-b:1.8.0","RU":"kWh","ST":"G"}]}';
  const sig = sign('sha256', Buffer.from(payload, 'utf8'), {
    key: privateKey,
    dsaEncoding: opts.raw ? 'ieee-p1363' : 'der',
  });
  const sd = opts.se === 'base64' ? sig.toString('base64') : sig.toString('hex').toUpperCase();
  const section: Record<string, string> = {};
  const sa = opts.sa === undefined ? `ECDSA-${curve}-SHA256` : opts.sa;
  if (sa !== null) section.SA = sa;
  if (opts.se) section.SE = opts.se;
  section.SD = sd;
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return { ocmf: `OCMF|${payload}|${JSON.stringify(section)}`, spkiHex: spki.toString('hex'), publicKey, privateKey };
}

/** The uncompressed point 04‖X‖Y of a public key. */
function point(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const size = CURVES[curveOf(publicKey)].size;
  return spki.subarray(spki.length - (2 * size + 1));
}
function curveOf(k: KeyObject): OcmfCurve {
  return (Object.keys(CURVES) as OcmfCurve[]).find((c) => CURVES[c].openssl === k.asymmetricKeyDetails?.namedCurve)!;
}

describe('curves', () => {
  it('this Node verifies on all seven OCMF curves', () => {
    expect(availableCurves().sort()).toEqual([
      'brainpool256r1',
      'brainpool384r1',
      'secp192k1',
      'secp192r1',
      'secp256k1',
      'secp256r1',
      'secp384r1',
    ]);
  });

  it('reads both spellings of the brainpool curves, and nothing else', () => {
    expect(curveOfSignatureAlgorithm('ECDSA-brainpoolP256r1-SHA256')).toBe('brainpool256r1');
    expect(curveOfSignatureAlgorithm('ECDSA-brainpool384r1-SHA256')).toBe('brainpool384r1');
    expect(curveOfSignatureAlgorithm('ECDSA-secp256r1-SHA384')).toBeUndefined();
    expect(curveOfSignatureAlgorithm('ecdsa-secp256r1-sha256')).toBeUndefined();
  });

  it('builds the same SubjectPublicKeyInfo DER as OpenSSL for a raw point on every curve', () => {
    for (const curve of Object.keys(CURVES) as OcmfCurve[]) {
      const { publicKey, spkiHex } = signed(curve);
      expect(Buffer.from(spkiOfPoint(new Uint8Array(point(publicKey)), curve)).toString('hex')).toBe(spkiHex);
    }
  });
});

describe('verifyOcmf with keys made here', () => {
  it.each(Object.keys(CURVES) as OcmfCurve[])(
    '%s: DER and raw r‖s, hex and base64, SPKI and raw keys all VALID',
    (curve) => {
      const der = signed(curve);
      expect(verifyOcmf(der.ocmf, der.spkiHex)).toMatchObject({ status: 'VALID', curve, signatureFormat: 'der' });
      const raw = signed(curve, { raw: true, se: 'base64' });
      expect(verifyOcmf(raw.ocmf, raw.spkiHex)).toMatchObject({ status: 'VALID', signatureFormat: 'raw-r||s' });
      const p = point(raw.publicKey);
      expect(verifyOcmf(raw.ocmf, p.subarray(1).toString('hex')).status).toBe('VALID'); // X‖Y
      expect(verifyOcmf(raw.ocmf, p.toString('hex')).status).toBe('VALID'); // 04‖X‖Y
      expect(verifyOcmf(raw.ocmf, p.subarray(1).toString('base64')).status).toBe('VALID');
      const compressed = ECDH.convertKey(p, CURVES[curve].openssl, undefined, 'hex', 'compressed') as string; // 02|03‖X
      expect(verifyOcmf(raw.ocmf, compressed).status).toBe('VALID');
      const other = signed(curve);
      expect(verifyOcmf(raw.ocmf, other.spkiHex)).toMatchObject({ status: 'INVALID', reason: 'SIGNATURE_MISMATCH' });
    },
  );

  it('no SA: the default ECDSA-secp256r1-SHA256', () => {
    const s = signed('secp256r1', { sa: null });
    expect(verifyOcmf(s.ocmf, s.spkiHex)).toMatchObject({
      status: 'VALID',
      signatureAlgorithm: 'ECDSA-secp256r1-SHA256',
      curve: 'secp256r1',
    });
    const k1 = signed('secp256k1', { sa: null });
    expect(verifyOcmf(k1.ocmf, k1.spkiHex)).toMatchObject({ status: 'INVALID', reason: 'KEY_CURVE_MISMATCH' });
  });

  it('a key on another curve than SA is INVALID, and the reason says so', () => {
    const v = vector('rl-secp256r1-basic');
    const r = verifyOcmf(v.ocmf, vector('rl-brainpool256r1-basic').publicKey.value);
    expect(r).toMatchObject({ status: 'INVALID', reason: 'KEY_CURVE_MISMATCH' });
    expect(r.detail).toContain('brainpool256r1');
    expect(r.detail).toContain('secp256r1');
    // a raw key of another curve's size
    expect(verifyOcmf(v.ocmf, 'ab'.repeat(48))).toMatchObject({ status: 'INVALID', reason: 'KEY_CURVE_MISMATCH' });
  });

  it('an RSA key is INVALID: not a key on the curve SA names', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const v = vector('rl-secp256r1-basic');
    expect(verifyOcmf(v.ocmf, publicKey.export({ format: 'der', type: 'spki' }).toString('base64'))).toMatchObject({
      status: 'INVALID',
      reason: 'KEY_CURVE_MISMATCH',
    });
  });
});

describe('verifyOcmf: statuses other than VALID and INVALID', () => {
  const v = vector('rl-secp256r1-basic');
  const key = v.publicKey.value;
  const withSignature = (section: string) => v.ocmf.slice(0, v.ocmf.lastIndexOf('|') + 1) + section;
  const sd = JSON.parse(v.ocmf.slice(v.ocmf.lastIndexOf('|') + 1)).SD as string;

  it.each([
    ['no key', undefined, 'NO_PUBLIC_KEY'],
    ['null key', null, 'NO_PUBLIC_KEY'],
    ['empty key (OCPP sends "" when it sends none)', '', 'NO_PUBLIC_KEY'],
    ['key not hex nor base64', 'xyz!', 'KEY_UNREADABLE'],
    ['raw key not on the curve', '00'.repeat(64), 'KEY_UNREADABLE'],
  ])('NO_KEY: %s', (_n, k, reason) => {
    expect(verifyOcmf(v.ocmf, k)).toMatchObject({ status: 'NO_KEY', reason });
  });

  it.each([
    ['unknown SA', `{"SA":"ECDSA-secp521r1-SHA512","SD":"${sd}"}`, 'UNKNOWN_SIGNATURE_ALGORITHM'],
    ['RSA SA', `{"SA":"RSA-2048-SHA256","SD":"${sd}"}`, 'UNKNOWN_SIGNATURE_ALGORITHM'],
    ['unknown SE', `{"SA":"ECDSA-secp256r1-SHA256","SE":"base32","SD":"${sd}"}`, 'UNKNOWN_SIGNATURE_ENCODING'],
    [
      'unknown SM',
      `{"SA":"ECDSA-secp256r1-SHA256","SM":"application/x-p1363","SD":"${sd}"}`,
      'UNKNOWN_SIGNATURE_MIME_TYPE',
    ],
  ])('UNSUPPORTED: %s', (_n, section, reason) => {
    expect(verifyOcmf(withSignature(section), key)).toMatchObject({ status: 'UNSUPPORTED', reason });
  });

  it.each([
    ['SD bad hex', `{"SA":"ECDSA-secp256r1-SHA256","SD":"${sd.slice(0, -1)}Z"}`],
    ['SD odd hex', `{"SA":"ECDSA-secp256r1-SHA256","SD":"${sd.slice(0, -1)}"}`],
    ['SD empty', '{"SA":"ECDSA-secp256r1-SHA256","SD":""}'],
    ['SD not base64', `{"SA":"ECDSA-secp256r1-SHA256","SE":"base64","SD":"${sd}!"}`],
  ])('MALFORMED: %s', (_n, section) => {
    expect(verifyOcmf(withSignature(section), key)).toMatchObject({
      status: 'MALFORMED',
      reason: 'SIGNATURE_ENCODING',
    });
  });

  it('MALFORMED when the record is: missing pipes, bad JSON', () => {
    expect(verifyOcmf('OCMF|{"RD":[]}', key)).toMatchObject({
      status: 'MALFORMED',
      reason: 'MISSING_SECTION',
      record: null,
    });
    expect(verifyOcmf(v.ocmf.replace('"RD":[', '"RD":[[,'), key)).toMatchObject({
      status: 'MALFORMED',
      reason: 'PAYLOAD_NOT_JSON',
    });
  });

  it('an explicit SM application/x-der reads DER: a raw r‖s signature then does not verify', () => {
    const raw = signed('secp256r1', { raw: true });
    const section = JSON.parse(raw.ocmf.slice(raw.ocmf.lastIndexOf('|') + 1));
    const text =
      raw.ocmf.slice(0, raw.ocmf.lastIndexOf('|') + 1) + JSON.stringify({ ...section, SM: 'application/x-der' });
    expect(verifyOcmf(text, raw.spkiHex)).toMatchObject({
      status: 'INVALID',
      reason: 'SIGNATURE_MISMATCH',
      signatureFormat: 'der',
    });
  });

  it('strict DER: r written without its sign byte and s with a needless 0x00 (the eBZ form) is INVALID', () => {
    // sign until r has its top bit set, so that canonical DER writes it with a leading 0x00
    for (let attempt = 0; attempt < 64; attempt++) {
      const s = signed('secp192r1');
      const cut = s.ocmf.lastIndexOf('|') + 1;
      const sig = Buffer.from(JSON.parse(s.ocmf.slice(cut)).SD, 'hex');
      const rLen = sig[3];
      if (rLen !== 25) continue;
      const r = sig.subarray(5, 4 + rLen); // 24 bytes, top bit set
      const sBytes = sig.subarray(4 + rLen + 2);
      const lenient = Buffer.concat([
        Buffer.from([0x02, r.length]),
        r,
        Buffer.from([0x02, sBytes.length + 1, 0x00]),
        sBytes,
      ]);
      const der = Buffer.concat([Buffer.from([0x30, lenient.length]), lenient]);
      const text = s.ocmf.slice(0, cut) + JSON.stringify({ SA: 'ECDSA-secp192r1-SHA256', SD: der.toString('hex') });
      expect(verifyOcmf(text, s.spkiHex)).toMatchObject({
        status: 'INVALID',
        reason: 'SIGNATURE_MISMATCH',
        signatureFormat: 'der',
      });
      // the same r and s, canonically encoded, verify
      expect(verifyOcmf(s.ocmf, s.spkiHex).status).toBe('VALID');
      return;
    }
    throw new Error('no signature with a high r in 64 attempts');
  });

  it('never throws on values of the wrong type (a caller in plain JavaScript, a JSON field)', () => {
    for (const input of [null, undefined, 42, {}, ['OCMF|{}|{}']]) {
      expect(verifyOcmf(input as never, key)).toMatchObject({ status: 'MALFORMED', reason: 'NOT_OCMF', record: null });
    }
    expect(verifyOcmf(v.ocmf, 42 as never)).toMatchObject({ status: 'NO_KEY', reason: 'NO_PUBLIC_KEY' });
  });

  it('never throws, whatever the key text', () => {
    for (const k of ['30', '3059', 'oca:', 'oca:base16:asn1:', 'oca:base16:pem:3059', '====', ' ', '\u0000']) {
      expect(['NO_KEY', 'INVALID']).toContain(verifyOcmf(v.ocmf, k).status);
    }
  });
});

describe('public keys as they arrive', () => {
  const v = vector('rl-secp256k1-basic');
  const hex = v.publicKey.value;

  it('hex in either case, hex in groups with spaces, base64', () => {
    expect(verifyOcmf(v.ocmf, hex.toLowerCase()).status).toBe('VALID');
    expect(verifyOcmf(v.ocmf, hex.replace(/(.{4})/g, '$1 ')).status).toBe('VALID');
    expect(verifyOcmf(v.ocmf, Buffer.from(hex, 'hex').toString('base64')).status).toBe('VALID');
    expect(verifyOcmf(v.ocmf, Buffer.from(hex, 'hex').toString('base64'), { keyEncoding: 'hex' })).toMatchObject({
      status: 'NO_KEY',
      reason: 'KEY_UNREADABLE',
    });
  });

  it('the OCA wrapping oca:<base16|base64>:asn1:<key>, plain or base64 as OCPP 2.0.1 publicKey carries it', () => {
    const base16 = `oca:base16:asn1:${hex.toLowerCase()}`;
    const base64 = `oca:base64:asn1:${Buffer.from(hex, 'hex').toString('base64')}`;
    expect(decodeKeyText(base16)).toMatchObject({ ok: true, ocaWrapped: true, encoding: 'hex' });
    for (const k of [base16, base64, b64(base16), b64(base64)]) expect(verifyOcmf(v.ocmf, k).status).toBe('VALID');
    // the key as printed on the meter, in groups (the whitepaper's example has spaces in it)
    expect(verifyOcmf(v.ocmf, b64(`oca:base16:asn1:${hex.slice(0, 90)} ${hex.slice(90)}`)).status).toBe('VALID');
  });

  it('an OCA wrapping that is not asn1, or not base16/base64, is unreadable', () => {
    expect(decodeKeyText(`oca:base16:raw:${hex}`)).toMatchObject({ ok: false });
    expect(decodeKeyText(`oca:base32:asn1:${hex}`)).toMatchObject({ ok: false });
    expect(verifyOcmf(v.ocmf, b64(`oca:base16:asn1:${hex}zz`))).toMatchObject({
      status: 'NO_KEY',
      reason: 'KEY_UNREADABLE',
    });
  });
});

describe('verifySignedMeterValue (OCPP 2.0.1 SignedMeterValueType)', () => {
  const v = vector('ts-nzr-brainpool256r1-begin');
  const hex = v.publicKey.value;
  const smv = {
    signedMeterData: b64(v.ocmf),
    signingMethod: '',
    encodingMethod: 'OCMF',
    publicKey: b64(`oca:base16:asn1:${hex}`),
  };

  it('the OCMF string in base64 with the OCA-wrapped key it carries: VALID', () => {
    expect(verifySignedMeterValue(smv)).toMatchObject({ status: 'VALID', curve: 'brainpool256r1' });
  });

  it('a key given by the caller replaces the one in the message; none at all is NO_KEY', () => {
    expect(verifySignedMeterValue({ ...smv, publicKey: '' })).toMatchObject({ status: 'NO_KEY' });
    expect(verifySignedMeterValue({ ...smv, publicKey: '' }, hex)).toMatchObject({ status: 'VALID' });
    expect(verifySignedMeterValue(smv, null)).toMatchObject({ status: 'NO_KEY' });
    expect(verifySignedMeterValue(smv, vector('rl-brainpool256r1-basic').publicKey.value)).toMatchObject({
      status: 'INVALID',
    });
  });

  it('signingMethod stands for a missing SA; one that contradicts SA is MALFORMED', () => {
    const k = vector('ts-keba-kcp30'); // no SA in the record
    const noSa = {
      signedMeterData: b64(k.ocmf),
      signingMethod: 'ECDSA-secp256k1-SHA256',
      encodingMethod: 'OCMF',
      publicKey: '',
    };
    expect(verifySignedMeterValue(noSa, k.publicKey.value)).toMatchObject({
      status: 'INVALID',
      reason: 'KEY_CURVE_MISMATCH',
    });
    expect(
      verifySignedMeterValue({ ...noSa, signingMethod: 'ECDSA-secp256r1-SHA256' }, k.publicKey.value),
    ).toMatchObject({ status: 'VALID' });
    expect(verifySignedMeterValue({ ...smv, signingMethod: 'ECDSA-secp256r1-SHA256' })).toMatchObject({
      status: 'MALFORMED',
      reason: 'SIGNING_METHOD_CONFLICT',
    });
  });

  it('another encodingMethod is UNSUPPORTED; signedMeterData that is not base64 is MALFORMED', () => {
    expect(verifySignedMeterValue({ ...smv, encodingMethod: 'EDL' })).toMatchObject({
      status: 'UNSUPPORTED',
      reason: 'UNKNOWN_ENCODING_METHOD',
    });
    expect(verifySignedMeterValue({ ...smv, signedMeterData: 'OCMF|{}|{}' })).toMatchObject({
      status: 'MALFORMED',
      reason: 'SIGNED_METER_DATA_ENCODING',
    });
  });
});
