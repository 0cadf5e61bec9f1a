/**
 * A lossless JSON reader for OCMF sections. JSON.parse turns `2935.600` into the double 2935.6 and loses
 * the meter's resolution; OCMF forbids re-formatting a reading (spec "Readings": RV must not be
 * re-formatted), so every number here keeps its exact source text. Strings, booleans, null, arrays and
 * objects are read as JSON.parse reads them (RFC 8259 grammar, the same escapes).
 *
 * Stricter than JSON.parse in one place: a repeated key in an object is refused. The signed bytes would
 * then mean two different things to two readers (JSON.parse keeps the last), which a signed record must not.
 */

/** A JSON number with its exact source text (`"2935.600"`, `"-0.5e3"`). */
export interface JsonNumber {
  readonly kind: 'number';
  readonly text: string;
}

export type JsonValue = null | boolean | string | JsonNumber | readonly JsonValue[] | JsonObject;

/** An object with its members in source order (a Map: no prototype keys, no `__proto__` surprises). */
export type JsonObject = ReadonlyMap<string, JsonValue>;

export type JsonReadResult = { ok: true; value: JsonValue } | { ok: false; error: string; offset: number };

/** Deepest nesting accepted; OCMF needs 3 (payload → RD → reading). */
const MAX_DEPTH = 32;

class JsonSyntaxError {
  constructor(
    readonly message: string,
    readonly offset: number,
  ) {}
}

export function isJsonNumber(v: JsonValue | undefined): v is JsonNumber {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Map) &&
    (v as JsonNumber).kind === 'number'
  );
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return v instanceof Map;
}

export function isJsonArray(v: JsonValue | undefined): v is readonly JsonValue[] {
  return Array.isArray(v);
}

/** Reads one JSON text (surrounding whitespace allowed, nothing else after it). Never throws. */
export function readJson(text: string): JsonReadResult {
  const reader = new Reader(text);
  try {
    reader.ws();
    const value = reader.value(0);
    reader.ws();
    if (reader.pos !== text.length) reader.fail('unexpected text after the JSON value');
    return { ok: true, value };
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { ok: false, error: err.message, offset: err.offset };
    throw err;
  }
}

class Reader {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(message: string): never {
    throw new JsonSyntaxError(`${message} at offset ${this.pos}`, this.pos);
  }

  ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const c = this.s[this.pos];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail(c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`);
    }
  }

  private literal<T>(word: string, value: T): T {
    if (this.s.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    return this.fail('invalid literal');
  }

  private object(depth: number): JsonObject {
    const out = new Map<string, JsonValue>();
    this.pos++; // {
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') this.fail('expected a member name');
      const keyAt = this.pos;
      const key = this.string();
      if (out.has(key)) {
        this.pos = keyAt;
        this.fail(`repeated member ${JSON.stringify(key)}`);
      }
      this.ws();
      if (this.s[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      this.ws();
      out.set(key, this.value(depth + 1));
      this.ws();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // [
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const s = this.s;
    const start = ++this.pos; // after the opening quote
    let out = '';
    let chunk = start;
    for (;;) {
      if (this.pos >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += s.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += s.slice(chunk, this.pos);
      const e = s[this.pos + 1];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = s.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail('invalid escape');
      }
      this.pos += 2;
      chunk = this.pos;
    }
  }

  private number(): JsonNumber {
    const s = this.s;
    const start = this.pos;
    if (s[this.pos] === '-') this.pos++;
    if (s[this.pos] === '0') this.pos++;
    else if (!this.digits()) this.fail('invalid number');
    if (s[this.pos] === '.') {
      this.pos++;
      if (!this.digits()) this.fail('invalid number: no digit after the point');
    }
    if (s[this.pos] === 'e' || s[this.pos] === 'E') {
      this.pos++;
      if (s[this.pos] === '+' || s[this.pos] === '-') this.pos++;
      if (!this.digits()) this.fail('invalid number: no digit in the exponent');
    }
    return { kind: 'number', text: s.slice(start, this.pos) };
  }

  private digits(): boolean {
    const s = this.s;
    const start = this.pos;
    while (this.pos < s.length && s.charCodeAt(this.pos) >= 48 && s.charCodeAt(this.pos) <= 57) this.pos++;
    return this.pos > start;
  }
}
