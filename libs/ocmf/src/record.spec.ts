import { readJson, isJsonNumber } from './json';
import { parseOcmf, type OcmfRecord } from './record';
import { vector } from './testing/vectors';

function parsed(text: string | Uint8Array): OcmfRecord {
  const r = parseOcmf(text);
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.record;
}

const SIG = '{"SD":"3045"}';

describe('parseOcmf: the signed bytes', () => {
  it('keeps the payload section verbatim: spaces around ":" and number spelling are the bytes signed', () => {
    const v = vector('ts-dzg-secp256k1-begin');
    const r = parsed(v.ocmf);
    const second = v.ocmf.indexOf('|', 5);
    expect(r.payloadText).toBe(v.ocmf.slice(5, second));
    expect(Buffer.from(r.signedBytes).toString('utf8')).toBe(r.payloadText);
    expect(r.payloadText).toContain('"FV" : "1.0"');
  });

  it('takes the bytes of non-ASCII text as UTF-8, and reads the same record from its bytes', () => {
    const text = `OCMF|{"GI":"Zähler €","RD":[]}|${SIG}`;
    const fromText = parsed(text);
    const fromBytes = parsed(new Uint8Array(Buffer.from(text, 'utf8')));
    expect(Buffer.from(fromText.signedBytes)).toEqual(Buffer.from('{"GI":"Zähler €","RD":[]}', 'utf8'));
    expect(Buffer.from(fromBytes.signedBytes)).toEqual(Buffer.from(fromText.signedBytes));
    expect(fromBytes.payload.GI).toBe('Zähler €');
  });

  it('splits at the first and second "|" only', () => {
    const r = parsed(`OCMF|{"RD":[]}|{"SD":"00","X":"a|b"}`);
    expect(r.payloadText).toBe('{"RD":[]}');
    expect(r.signature.raw.get('X')).toBe('a|b');
  });
});

describe('parseOcmf: readings without loss', () => {
  it('keeps RV "2935.600" as written (JSON.parse would give 2935.6)', () => {
    const r = parsed(
      `OCMF|{"RD":[{"TM":"2018-07-24T13:22:04,000+0200 S","TX":"B","RV":2935.600,"RI":"1-b:1.8.0","RU":"kWh","ST":"G"},{"TX":"E","RV":2965.100}]}|${SIG}`,
    );
    expect(r.payload.RD[0].RV).toEqual({ text: '2935.600', jsonType: 'number', decimal: '2935.600' });
    expect(r.payload.RD[1].RV?.text).toBe('2965.100');
    expect(JSON.parse(r.payloadText).RD[0].RV).toBe(2935.6); // what a JSON.parse reader would have kept
  });

  it('keeps trailing zeros of the vectors ("0.00", "2.10720") and string values verbatim ("       3.988")', () => {
    expect(parsed(vector('ts-keba-series-1').ocmf).payload.RD[2].RV?.text).toBe('0.00');
    expect(parsed(vector('rl-brainpool384r1-basic').ocmf).payload.RD[0].RV?.text).toBe('2.10720');
    const dzg = parsed(vector('ts-dzg-secp256k1-begin').ocmf).payload.RD[0].RV;
    expect(dzg).toEqual({ text: '       3.988', jsonType: 'string', decimal: '3.988' });
    expect(parsed(vector('ts-isa-raw-rs').ocmf).payload.RD[0].RV?.decimal).toBe('00000000.000');
  });

  it('a value that is no plain decimal has no decimal, but keeps its text', () => {
    const r = parsed(`OCMF|{"RD":[{"RV":1e3,"RU":"Wh"},{"RV":"n/a"}]}|${SIG}`);
    expect(r.payload.RD[0].RV).toEqual({ text: '1e3', jsonType: 'number', decimal: null });
    expect(r.payload.RD[1].RV).toEqual({ text: 'n/a', jsonType: 'string', decimal: null });
  });

  it("fills a reading's left-out fields from the previous reading and names them", () => {
    const rd = parsed(vector('ts-keba-series-1').ocmf).payload.RD;
    expect(rd[2]).toMatchObject({ TM: rd[1].TM, TX: 'E', ST: 'G', EF: '', RI: '1-b:1.9.0', RU: 'kWh' });
    expect([...rd[2].inherited].sort()).toEqual(['EF', 'ST', 'TM', 'TX']);
    expect(rd[2].raw.has('TM')).toBe(false);
    expect(rd[0].inherited).toEqual([]);
  });

  it('exposes the header fields typed, numbers given for text fields as their source text', () => {
    const p = parsed(vector('ts-chargepoint-base64-sig').ocmf).payload;
    expect(p).toMatchObject({
      FV: '1.0',
      CT: '0',
      GS: 'TC_00010',
      IS: true,
      IL: 'HEARSAY',
      IT: 'ISO14443',
      ID: 'ad228beb',
      MS: '33019230',
    });
    expect(p.raw.get('UCPN')).toBe('101');
    const isa = parsed(vector('ts-isa-raw-rs').ocmf).payload;
    expect(isa).toMatchObject({
      TT: '0,42 EUR/kWh',
      MF: '80.01.01',
      IF: ['RFID_PSK', 'OCPP_CERTIFIED', 'ISO15118_NONE', 'PLMN_NONE'],
      PG: 'T0',
    });
    expect(isa.RD[0]).toMatchObject({ TX: 'B', EF: 'E', ST: 'E', RT: 'DC', RI: '1-b:1.8.e' });
  });
});

describe('parseOcmf: MALFORMED, never a throw', () => {
  it.each([
    ['no pipe at all', '{"RD":[]}', 'MISSING_SECTION'],
    ['only one pipe', 'OCMF|{"RD":[]}', 'MISSING_SECTION'],
    ['another format', 'EDL|{"RD":[]}|{"SD":"00"}', 'NOT_OCMF'],
    ['empty', '', 'MISSING_SECTION'],
    ['payload not JSON', `OCMF|{"RD":[}|${SIG}`, 'PAYLOAD_NOT_JSON'],
    ['payload with text after it', `OCMF|{"RD":[]} x|${SIG}`, 'PAYLOAD_NOT_JSON'],
    ['payload a repeated key', `OCMF|{"RD":[],"RD":[]}|${SIG}`, 'PAYLOAD_NOT_JSON'],
    ['payload an array', `OCMF|[]|${SIG}`, 'PAYLOAD_SHAPE'],
    ['payload without RD', `OCMF|{"FV":"1.0"}|${SIG}`, 'PAYLOAD_SHAPE'],
    ['RD not an array', `OCMF|{"RD":{}}|${SIG}`, 'PAYLOAD_SHAPE'],
    ['a reading not an object', `OCMF|{"RD":[1]}|${SIG}`, 'PAYLOAD_SHAPE'],
    ['RV a boolean', `OCMF|{"RD":[{"RV":true}]}|${SIG}`, 'PAYLOAD_SHAPE'],
    ['IS a string', `OCMF|{"IS":"true","RD":[]}|${SIG}`, 'PAYLOAD_SHAPE'],
    ['IF not strings', `OCMF|{"IF":[1],"RD":[]}|${SIG}`, 'PAYLOAD_SHAPE'],
    ['GS an object', `OCMF|{"GS":{},"RD":[]}|${SIG}`, 'PAYLOAD_SHAPE'],
    ['signature not JSON', 'OCMF|{"RD":[]}|{SD:00}', 'SIGNATURE_NOT_JSON'],
    ['signature empty', 'OCMF|{"RD":[]}|', 'SIGNATURE_NOT_JSON'],
    ['signature without SD', 'OCMF|{"RD":[]}|{"SA":"ECDSA-secp256r1-SHA256"}', 'SIGNATURE_SHAPE'],
    ['SD a number', 'OCMF|{"RD":[]}|{"SD":3045}', 'SIGNATURE_SHAPE'],
    ['a lone surrogate', `OCMF|{"GI":"\uD800","RD":[]}|${SIG}`, 'NOT_UTF8'],
  ])('%s', (_name, text, reason) => {
    expect(parseOcmf(text)).toMatchObject({ ok: false, status: 'MALFORMED', reason });
  });

  it('bytes that are not UTF-8', () => {
    const bytes = new Uint8Array([...Buffer.from('OCMF|{"GI":"'), 0xff, ...Buffer.from(`","RD":[]}|${SIG}`)]);
    expect(parseOcmf(bytes)).toMatchObject({ ok: false, reason: 'NOT_UTF8' });
  });
});

describe('readJson', () => {
  it('reads what JSON.parse reads, numbers as source text', () => {
    const text = '{"a":[1,-0.50,2E+3,true,false,null,"x\\u00e9\\n\\"\\/"],"b":{}}';
    const r = readJson(text);
    if (!r.ok) throw new Error(r.error);
    const a = (r.value as ReadonlyMap<string, unknown>).get('a') as unknown[];
    expect(a.map((x) => (isJsonNumber(x as never) ? (x as { text: string }).text : x))).toEqual([
      '1',
      '-0.50',
      '2E+3',
      true,
      false,
      null,
      'xé\n"/',
    ]);
  });

  it.each([
    '',
    '01',
    '1.',
    '.5',
    '-',
    '1e',
    '"a',
    '"\\x"',
    '{"a" 1}',
    '[1,]',
    '{"a":1,}',
    'tru',
    '"\u0001"',
    '[1] 2',
    '+1',
  ])('refuses %j as JSON.parse does', (text) => {
    expect(readJson(text).ok).toBe(false);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('refuses nesting deeper than it needs', () => {
    expect(readJson('['.repeat(40) + ']'.repeat(40)).ok).toBe(false);
  });
});
