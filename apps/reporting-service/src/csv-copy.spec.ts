import { Readable } from 'node:stream';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { JsonLinesToArray, PgCsvToRfc4180, inlineParams, type JsonLinesState } from './csv-copy';
import { CSV_OPTIONS } from './finance.store';

/** PostgreSQL's COPY (FORMAT csv) of `rows`: LF records; a field quoted when it holds , " CR LF or is ''. */
function pgCsv(rows: Array<Array<string | null>>): string {
  const field = (v: string | null) =>
    v === null ? '' : v === '' || /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  return rows.map((r) => `${r.map(field).join(',')}\n`).join('');
}

async function through(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  const t = Readable.from(chunks, { objectMode: false }).pipe(new PgCsvToRfc4180());
  for await (const c of t) out.push(c as Buffer);
  return Buffer.concat(out).toString('utf8');
}

const ROWS: Array<Array<string | null>> = [
  ['CDR-1', 'false', null, 'a,b', '12.50'],
  ['"', '""', '', 'x"y', 'line 1\nline 2'],
  ['', null, '"quoted"', 'a\r\nb', 'ü € 😀'],
  ['"\n"', ',', '\n', '"""', 'end'],
  [null, null, null, null, ''],
  ['', '', '', '', ''],
];

describe('PgCsvToRfc4180', () => {
  const input = Buffer.from(pgCsv(ROWS), 'utf8');
  // csv-stringify with CRLF records leaves a field with a bare line feed unquoted (a line break in an unquoted
  // field: not RFC 4180); PostgreSQL quotes it, and the exports now do
  const expected = stringifySync(ROWS, { ...CSV_OPTIONS, quoted_match: /\n/ });

  it('gives what csv-stringify writes (RFC 4180: CRLF records, empty strings and nulls empty, line feeds in quotes kept)', async () => {
    expect(await through([input])).toBe(expected);
    expect(expected).toContain('"line 1\nline 2"');
    expect(expected).toContain('\r\n,,,,\r\n');
  });

  it('whatever the chunk boundaries: a split at every byte, a pair of splits at every two bytes, byte by byte', async () => {
    for (let i = 0; i <= input.length; i++) {
      expect(await through([input.subarray(0, i), input.subarray(i)])).toBe(expected);
    }
    for (let i = 0; i <= input.length; i++)
      for (let j = i; j <= input.length; j += 3)
        expect(await through([input.subarray(0, i), input.subarray(i, j), input.subarray(j)])).toBe(expected);
    expect(await through([...input].map((b) => Buffer.from([b])))).toBe(expected);
  });

  it('changes nothing else: a line feed inside quotes is not a record delimiter', async () => {
    expect(await through([Buffer.from('"a\nb",c\n')])).toBe('"a\nb",c\r\n');
    expect(await through([Buffer.from('"a""\n""b"\n')])).toBe('"a""\n""b"\r\n');
    expect(await through([Buffer.from('a,"",b\n')])).toBe('a,,b\r\n');
  });
});

describe('inlineParams', () => {
  it('replaces $n by escaped literals, $10 not taken for $1', () => {
    const params = Array.from({ length: 10 }, (_, i) => `p${i + 1}`);
    expect(inlineParams('select $1, $10, $2', params)).toBe(`select 'p1', 'p10', 'p2'`);
  });

  it('escapes quotes and backslashes: a value cannot end its literal', () => {
    expect(inlineParams('x = $1', ["a'); drop table t; --"])).toBe(`x = 'a''); drop table t; --'`);
    expect(inlineParams('x = $1', ['a\\b'])).toBe(`x =  E'a\\\\b'`);
  });

  it('refuses a missing parameter and values that are not strings or numbers', () => {
    expect(() => inlineParams('x = $2', ['a'])).toThrow('no parameter $2');
    expect(() => inlineParams('x = $1', [{ a: 1 }])).toThrow();
    expect(inlineParams('x = $1 and y = $2', [null, 5])).toBe(`x = null and y = '5'`);
  });
});

describe('JsonLinesToArray', () => {
  /** The parts of one answer, each a stream of chunks, through transforms sharing one state. */
  async function joined(parts: Buffer[][]): Promise<string> {
    const state: JsonLinesState = { owed: false };
    const out: Buffer[] = [];
    for (const chunks of parts)
      for await (const c of Readable.from(chunks, { objectMode: false }).pipe(new JsonLinesToArray(state)))
        out.push(c as Buffer);
    return Buffer.concat(out).toString('utf8');
  }
  const rows = [
    { a: 'x,y', b: 'line\nfeed "quoted" \\ back', c: null },
    { a: 'ü € 😀', n: 12.5 },
    { z: [1, 2, { w: '}' }] },
  ].map((r) => JSON.stringify(r));
  const lines = (rs: string[]) => Buffer.from(rs.map((r) => `${r}\n`).join(''), 'utf8');

  it('joins the rows by commas and drops the last line feed, whatever the chunk boundaries', async () => {
    const input = lines(rows);
    const expected = rows.join(',');
    expect(JSON.parse(`[${expected}]`)).toHaveLength(3);
    for (let i = 0; i <= input.length; i++)
      for (let j = i; j <= input.length; j += 5)
        expect(await joined([[input.subarray(0, i), input.subarray(i, j), input.subarray(j)]])).toBe(expected);
    expect(await joined([[...input].map((b) => Buffer.from([b]))])).toBe(expected);
  });

  it('joins the parts of one answer (a range cut into months), empty parts and one-row parts included', async () => {
    expect(await joined([[lines(rows.slice(0, 1))], [], [lines(rows.slice(1))]])).toBe(rows.join(','));
    expect(await joined([[lines(rows.slice(0, 2))], [lines(rows.slice(2))], []])).toBe(rows.join(','));
    expect(await joined([[], [], []])).toBe('');
    expect(await joined([[lines([rows[0]]).subarray(0, 5), lines([rows[0]]).subarray(5)], [lines([rows[1]])]])).toBe(
      `${rows[0]},${rows[1]}`,
    );
  });
});
