import { verifyOcmf } from '@csms/ocmf';
import { VECTORS } from '../../ocmf/src/testing/vectors';
import { spkiHexOf, transparencyXml } from './transparency';

/** An XML reader of the container (the subset it uses: elements, attributes, the five entities, character references). */
function readContainer(xml: string): Array<{ attrs: Record<string, string>; signedData: string; publicKey?: string }> {
  const unescape = (s: string) =>
    s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) =>
      e.startsWith('#x')
        ? String.fromCodePoint(parseInt(e.slice(2), 16))
        : e.startsWith('#')
          ? String.fromCodePoint(Number(e.slice(1)))
          : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e],
    );
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<values>')).toBe(true);
  // an XML reader normalises a raw CR to LF: the export must have none
  expect(xml).not.toMatch(/\r/);
  const out = [];
  for (const m of xml.matchAll(/<value ([^>]*)>([\s\S]*?)<\/value>/g)) {
    const attrs = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], unescape(a[2])]));
    const sd = /<signedData format="OCMF" encoding="plain">([^<]*)<\/signedData>/.exec(m[2]);
    const pk = /<publicKey encoding="hex">([0-9A-F]+)<\/publicKey>/.exec(m[2]);
    out.push({ attrs, signedData: unescape(sd![1]), ...(pk ? { publicKey: pk[1] } : {}) });
  }
  return out;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('transparency export (S.A.F.E. Transparenzsoftware XML)', () => {
  it.each(VECTORS.map((v) => [v.id, v] as const))(
    'round-trips shared vector %s: the same signed bytes back, the key as SPKI hex, the same verdict',
    (_id, v) => {
      const { xml, values } = transparencyXml({
        signed_data: {
          encoding_method: 'OCMF',
          public_key: v.publicKey.value,
          signed_values: [{ nature: 'End', plain_data: '', signed_data: b64(v.ocmf) }],
        },
      });
      expect(values).toBe(1);
      const [value] = readContainer(xml);
      expect(value.attrs).toEqual({ transactionId: '1', context: 'Transaction.End' });
      expect(Buffer.from(value.signedData, 'utf8').equals(Buffer.from(v.ocmf, 'utf8'))).toBe(true);
      expect(value.publicKey).toBeDefined();
      const status = verifyOcmf(value.signedData, value.publicKey).status;
      expect(status).toBe(v.expected === 'valid' ? 'VALID' : 'INVALID');
    },
  );

  it('a begin/end pair as two values; characters XML must escape come back as they were', () => {
    const begin = VECTORS.find((v) => v.id === 'ts-ebee-begin')!;
    const odd = 'OCMF|{"ID":"a&b<c>\\"d\\"","RD":[]}\r|{"SD":"30"}';
    const { xml } = transparencyXml({
      signed_data: {
        encoding_method: 'OCMF',
        public_key: begin.publicKey.value,
        signed_values: [
          { nature: 'Start', plain_data: '', signed_data: b64(begin.ocmf) },
          { nature: 'End', plain_data: '', signed_data: b64(odd) },
        ],
      },
    });
    const read = readContainer(xml);
    expect(read.map((r) => r.attrs)).toEqual([
      { transactionId: '1', context: 'Transaction.Begin' },
      { transactionId: '2', context: 'Transaction.End' },
    ]);
    expect(read.map((r) => r.signedData)).toEqual([begin.ocmf, odd]);
    expect(xml).toContain('a&amp;b&lt;c&gt;');
  });

  it('no trusted key: no publicKey element; bytes that are not UTF-8 text are left out, counted', () => {
    const v = VECTORS[0];
    const out = transparencyXml({
      signed_data: {
        encoding_method: 'OCMF',
        signed_values: [
          { nature: 'Start', plain_data: '', signed_data: b64(v.ocmf) },
          { nature: 'End', plain_data: '', signed_data: Buffer.from([0xff, 0xfe, 0x00]).toString('base64') },
        ],
      },
    });
    expect(out).toMatchObject({ values: 1, omitted: 1 });
    expect(readContainer(out.xml)[0].publicKey).toBeUndefined();
  });

  it('keys as meters print them become SPKI hex (spaced hex, base64, raw X‖Y wrapped for the curve)', () => {
    for (const id of ['ts-ebee-begin', 'ts-dzg-secp256k1-b64key-begin', 'ts-isa-raw-rs']) {
      const v = VECTORS.find((x) => x.id === id)!;
      const hex = spkiHexOf(v.publicKey.value, undefined);
      expect(hex).toMatch(/^30[0-9A-F]+$/);
      expect(verifyOcmf(v.ocmf, hex).status).toBe('VALID');
    }
    expect(spkiHexOf('not a key', undefined)).toBeNull();
  });
});
