import { Transform, type TransformCallback } from 'node:stream';
import { escapeLiteral } from 'pg';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Where the transform is in PostgreSQL's CSV: the bytes seen so far decide it, whatever the chunk boundaries. */
const enum At {
  /** the start of a field (the start of the stream, after a comma, after a record delimiter) */
  FieldStart,
  /** inside an unquoted field */
  Unquoted,
  /** a quote at the start of a field, held back: `""` next to a delimiter is an empty string */
  OpeningQuote,
  /** `""` at the start of a field, held back */
  TwoQuotes,
  /** inside a quoted field */
  Quoted,
  /** a quote inside a quoted field: the closing one, or the first of an escaped pair */
  QuoteInQuoted,
}

/**
 * PostgreSQL's `COPY ... (FORMAT csv)` output made what csv-stringify wrote for the exports (CSV_OPTIONS): records
 * end with CRLF rather than LF, and an empty string is an empty field rather than `""` (csv-stringify writes null
 * and '' alike; PostgreSQL quotes '' to tell it from NULL). A line feed inside a quoted field is data and stays as
 * it is. A byte-level state machine: PostgreSQL's CSV is UTF-8 and no byte of a multi-byte UTF-8 sequence is a
 * quote, a comma or a line feed, so chunks may split anywhere, a character included.
 */
export class PgCsvToRfc4180 extends Transform {
  private at: At = At.FieldStart;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    // at most two held-back bytes, and each byte becomes at most two
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let n = 0;
    let at = this.at;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      switch (at) {
        case At.FieldStart:
        case At.Unquoted:
          if (b === LF) {
            out[n++] = CR;
            out[n++] = LF;
            at = At.FieldStart;
          } else if (b === COMMA) {
            out[n++] = b;
            at = At.FieldStart;
          } else if (b === QUOTE && at === At.FieldStart) {
            at = At.OpeningQuote;
          } else {
            out[n++] = b;
            at = At.Unquoted;
          }
          break;
        case At.OpeningQuote:
          if (b === QUOTE) at = At.TwoQuotes;
          else {
            out[n++] = QUOTE;
            out[n++] = b;
            at = At.Quoted;
          }
          break;
        case At.TwoQuotes:
          if (b === COMMA || b === LF) {
            // an empty string: an empty field
            if (b === LF) out[n++] = CR;
            out[n++] = b;
            at = At.FieldStart;
          } else if (b === QUOTE) {
            // `"""`: a quoted field that starts with an escaped quote
            out[n++] = QUOTE;
            out[n++] = QUOTE;
            out[n++] = QUOTE;
            at = At.Quoted;
          } else {
            // not PostgreSQL's output; passed on as it came
            out[n++] = QUOTE;
            out[n++] = QUOTE;
            out[n++] = b;
            at = At.Unquoted;
          }
          break;
        case At.Quoted:
          out[n++] = b;
          if (b === QUOTE) at = At.QuoteInQuoted;
          break;
        case At.QuoteInQuoted:
          if (b === QUOTE) {
            out[n++] = b;
            at = At.Quoted;
          } else if (b === LF) {
            out[n++] = CR;
            out[n++] = LF;
            at = At.FieldStart;
          } else {
            out[n++] = b;
            at = b === COMMA ? At.FieldStart : At.Unquoted;
          }
          break;
      }
    }
    this.at = at;
    done(null, n > 0 ? out.subarray(0, n) : undefined);
  }

  override _flush(done: TransformCallback): void {
    // PostgreSQL ends every record with a line feed; a stream cut short ends as it came (an empty string: empty)
    done(null, this.at === At.OpeningQuote ? Buffer.from('"') : undefined);
  }
}

/**
 * `sql` with its `$1`, `$2`, ... placeholders replaced by the parameters as SQL string literals, for
 * `COPY (query) TO STDOUT`: COPY is a utility statement and takes no bind parameters. Each value goes through pg's
 * `escapeLiteral` (quotes doubled; a backslash makes it an `E'...'` literal with the backslashes doubled), never
 * concatenated raw: a literal cannot end early, whatever it holds. The values are already validated by the API
 * (timestamps, ids, codes); a literal is typed by its context as a bind parameter is (`issued_at >= '...'` is a
 * timestamptz). Only for the service's own SQL: a `$n` inside a string literal of `sql` would be replaced too.
 */
export function inlineParams(sql: string, params: readonly unknown[]): string {
  return sql.replace(/\$(\d+)(?!\d)/g, (_m, d: string) => {
    const i = Number(d) - 1;
    if (!(i >= 0 && i < params.length)) throw new Error(`no parameter $${d}`);
    const v = params[i];
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return escapeLiteral(v);
    if (typeof v === 'number' && Number.isFinite(v)) return escapeLiteral(String(v));
    throw new Error(`parameter $${d}: a string or a finite number`);
  });
}

/**
 * COPY options under which each row of a one-column query of JSON texts comes out as the text itself and a line
 * feed: CSV with a delimiter and a quote that JSON never holds raw (to_json writes every control character as an
 * escape), so no value is quoted or escaped (the text format would double each backslash).
 */
export const COPY_JSON_LINES = `(format csv, delimiter E'\\x02', quote E'\\x01')`;

/** What the JSON-lines transforms of one answer share: a row ended last, its comma owed until another row comes. */
export interface JsonLinesState {
  owed: boolean;
}

/**
 * COPY_JSON_LINES output (a JSON text and a line feed per row) made the inside of a JSON array: the texts joined by
 * commas, the last line feed dropped. Each line feed becomes a comma (JSON holds none raw); one ending a
 * chunk is held back until another row follows, in this stream or in the next one sharing `state` (the parts of
 * one answer, each a COPY of its own), so chunks may split anywhere.
 */
export class JsonLinesToArray extends Transform {
  constructor(private readonly state: JsonLinesState) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (chunk.length === 0) return done();
    if (this.state.owed) this.push(COMMA_BYTE);
    // a copy (the chunk is the reader's): a memcpy, the line feeds found by indexOf
    const out = Buffer.from(chunk);
    const endsRow = out[out.length - 1] === LF;
    for (let i = out.indexOf(LF); i >= 0; i = out.indexOf(LF, i + 1)) out[i] = COMMA;
    this.state.owed = endsRow;
    done(null, endsRow ? out.subarray(0, out.length - 1) : out);
  }
}

const COMMA_BYTE = Buffer.from(',');
