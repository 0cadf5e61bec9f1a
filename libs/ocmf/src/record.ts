import { isJsonArray, isJsonNumber, isJsonObject, readJson, type JsonObject, type JsonValue } from './json';

/**
 * An OCMF record, `OCMF|{payload}|{signature}` (OCMF spec "JSON based OCMF Format → Sections"), parsed
 * without losing anything the signature covers: the payload's exact bytes, and every number's source text.
 */

/** A reading value as the meter wrote it. */
export interface ReadingValue {
  /** The JSON number's source text (`"2935.600"`), or the JSON string's content verbatim (`"       3.988"`). */
  readonly text: string;
  /** Whether RV was a JSON number or a JSON string. */
  readonly jsonType: 'number' | 'string';
  /**
   * The same value as a plain decimal (`-?\d+(\.\d+)?`, trailing zeros kept: the meter's resolution), or
   * null when the text is none (an exponent, letters). Surrounding spaces of a string value are dropped.
   */
  readonly decimal: string | null;
}

/** One entry of RD, with the fields a reading left out filled in from the previous reading. */
export interface OcmfReading {
  /** Time and its status letter, e.g. `2021-07-20T17:37:52,000+0200 I`. */
  readonly TM?: string;
  /** Transaction code: B begin, C charging, X error, E end, L/R local/remote stop, A abort, P power fail, S suspended, T tariff change. */
  readonly TX?: string;
  readonly RV?: ReadingValue;
  /** Register id (OBIS), e.g. `1-b:1.8.0`. */
  readonly RI?: string;
  /** Unit, e.g. `kWh`, `Wh`, `sec`. */
  readonly RU?: string;
  /** AC or DC. */
  readonly RT?: string;
  /** Cumulated loss. */
  readonly CL?: ReadingValue;
  /** Error flags (`E` energy, `t` time). */
  readonly EF?: string;
  /** Meter status (`G` good). */
  readonly ST?: string;
  /** Names of the fields above that this reading left out and took from the previous reading. */
  readonly inherited: readonly string[];
  /** Every member of the reading exactly as it was written (numbers as source text), nothing filled in. */
  readonly raw: JsonObject;
}

/** The payload's header fields (spec "Payload Section"). Text fields given as JSON numbers keep their source text. */
export interface OcmfPayload {
  readonly FV?: string;
  readonly GI?: string;
  readonly GS?: string;
  readonly GV?: string;
  readonly PG?: string;
  readonly MV?: string;
  readonly MM?: string;
  readonly MS?: string;
  readonly MF?: string;
  readonly IS?: boolean;
  readonly IL?: string;
  readonly IF?: readonly string[];
  readonly IT?: string;
  readonly ID?: string;
  readonly TT?: string;
  readonly CT?: string;
  readonly CI?: string;
  readonly RD: readonly OcmfReading[];
  /** Every member of the payload as written (vendor fields included). */
  readonly raw: JsonObject;
}

/** The signature section (spec "Signature Section → Signed Data"), as written: defaults are applied by the verifier. */
export interface OcmfSignature {
  /** Signature algorithm, e.g. `ECDSA-secp256r1-SHA256`; absent means that default. */
  readonly SA?: string;
  /** Signature encoding: `hex` (default) or `base64`. */
  readonly SE?: string;
  /** Signature MIME type: `application/x-der` (default). */
  readonly SM?: string;
  /** The signature data, encoded as SE says. */
  readonly SD: string;
  readonly raw: JsonObject;
}

export interface OcmfRecord {
  /** The whole string as given. */
  readonly text: string;
  /** The payload section's text, verbatim (between the first and second `|`). */
  readonly payloadText: string;
  /** The bytes the signature covers: the payload section's UTF-8 bytes, never re-serialised. */
  readonly signedBytes: Uint8Array;
  readonly payload: OcmfPayload;
  readonly signature: OcmfSignature;
}

export type MalformedReason =
  | 'NOT_OCMF'
  | 'MISSING_SECTION'
  | 'NOT_UTF8'
  | 'PAYLOAD_NOT_JSON'
  | 'PAYLOAD_SHAPE'
  | 'SIGNATURE_NOT_JSON'
  | 'SIGNATURE_SHAPE';

export type ParseResult =
  | { readonly ok: true; readonly record: OcmfRecord }
  | { readonly ok: false; readonly status: 'MALFORMED'; readonly reason: MalformedReason; readonly detail: string };

const HEADER_TEXT_FIELDS = [
  'FV',
  'GI',
  'GS',
  'GV',
  'PG',
  'MV',
  'MM',
  'MS',
  'MF',
  'IL',
  'IT',
  'ID',
  'TT',
  'CT',
  'CI',
] as const;
const READING_TEXT_FIELDS = ['TM', 'TX', 'RI', 'RU', 'RT', 'EF', 'ST'] as const;
const READING_VALUE_FIELDS = ['RV', 'CL'] as const;
/** The reading fields that carry over from the previous reading when left out (spec "Readings", Table 7). */
const INHERITED_FIELDS = [...READING_TEXT_FIELDS, ...READING_VALUE_FIELDS] as const;
type InheritedField = (typeof INHERITED_FIELDS)[number];

const PREFIX = 'OCMF|';

/** Thrown only inside this module, turned into a MALFORMED result. */
class Malformed {
  constructor(
    readonly reason: MalformedReason,
    readonly detail: string,
  ) {}
}

/**
 * Parses an OCMF string, or its bytes (as an OCPP 2.0.1 `signedMeterData` decodes to). The record is split
 * at the first and second `|`; the payload section's bytes are kept exactly as they arrived. Never throws:
 * anything that is not a readable record is `{ ok: false, status: 'MALFORMED', reason, detail }`.
 */
export function parseOcmf(input: string | Uint8Array): ParseResult {
  // callers in plain JavaScript (or a JSON field of the wrong type) may hand anything
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    return { ok: false, status: 'MALFORMED', reason: 'NOT_OCMF', detail: 'the record is neither text nor bytes' };
  }
  try {
    return { ok: true, record: parse(input) };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, status: 'MALFORMED', reason: err.reason, detail: err.detail };
    throw err;
  }
}

function parse(input: string | Uint8Array): OcmfRecord {
  let text: string;
  let signedBytes: Uint8Array;
  let payloadText: string;
  let signatureText: string;
  if (typeof input === 'string') {
    text = input;
    const [p, s] = sections(text);
    payloadText = p;
    signatureText = s;
    signedBytes = new Uint8Array(Buffer.from(payloadText, 'utf8'));
    // a lone surrogate would be written as U+FFFD: the bytes would not be the text given
    if (Buffer.from(signedBytes).toString('utf8') !== payloadText) {
      throw new Malformed('NOT_UTF8', 'the payload section holds a lone UTF-16 surrogate: it has no UTF-8 bytes');
    }
  } else {
    const bytes = input;
    // '|' is one byte in UTF-8 and never part of a multi-byte sequence: split the bytes, then decode
    const first = bytes.indexOf(0x7c);
    const second = first < 0 ? -1 : bytes.indexOf(0x7c, first + 1);
    signedBytes = first < 0 || second < 0 ? new Uint8Array(0) : bytes.slice(first + 1, second);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new Malformed('NOT_UTF8', 'the record is not valid UTF-8');
    }
    const [p, s] = sections(text);
    payloadText = p;
    signatureText = s;
  }
  const payload = readPayload(payloadText);
  const signature = readSignature(signatureText);
  return { text, payloadText, signedBytes, payload, signature };
}

function sections(text: string): [string, string] {
  if (!text.startsWith(PREFIX)) {
    if (text.indexOf('|') < 0)
      throw new Malformed('MISSING_SECTION', 'no "|" separator: an OCMF record is OCMF|{payload}|{signature}');
    throw new Malformed('NOT_OCMF', 'the record does not start with "OCMF|"');
  }
  const second = text.indexOf('|', PREFIX.length);
  if (second < 0) throw new Malformed('MISSING_SECTION', 'no second "|": the signature section is missing');
  return [text.slice(PREFIX.length, second), text.slice(second + 1)];
}

function readPayload(payloadText: string): OcmfPayload {
  const r = readJson(payloadText);
  if (!r.ok) throw new Malformed('PAYLOAD_NOT_JSON', `payload section: ${r.error}`);
  if (!isJsonObject(r.value)) throw new Malformed('PAYLOAD_SHAPE', 'the payload section is not a JSON object');
  const raw = r.value;
  const out: Record<string, unknown> = { raw };
  for (const f of HEADER_TEXT_FIELDS) {
    const v = text(raw, f, 'PAYLOAD_SHAPE', f);
    if (v !== undefined) out[f] = v;
  }
  const is = raw.get('IS');
  if (is !== undefined) {
    if (typeof is !== 'boolean') throw new Malformed('PAYLOAD_SHAPE', 'IS is not a boolean');
    out.IS = is;
  }
  const iF = raw.get('IF');
  if (iF !== undefined) {
    if (!isJsonArray(iF) || !iF.every((x) => typeof x === 'string'))
      throw new Malformed('PAYLOAD_SHAPE', 'IF is not an array of strings');
    out.IF = iF as readonly string[];
  }
  const rd = raw.get('RD');
  if (rd === undefined) throw new Malformed('PAYLOAD_SHAPE', 'the payload has no readings (RD)');
  if (!isJsonArray(rd)) throw new Malformed('PAYLOAD_SHAPE', 'RD is not an array');
  out.RD = readReadings(rd);
  return out as unknown as OcmfPayload;
}

function readReadings(rd: readonly JsonValue[]): OcmfReading[] {
  const readings: OcmfReading[] = [];
  let previous: OcmfReading | undefined;
  rd.forEach((entry, i) => {
    if (!isJsonObject(entry)) throw new Malformed('PAYLOAD_SHAPE', `RD[${i}] is not an object`);
    const reading: Record<string, unknown> = { raw: entry };
    const inherited: InheritedField[] = [];
    for (const f of READING_TEXT_FIELDS) {
      const v = text(entry, f, 'PAYLOAD_SHAPE', `RD[${i}].${f}`);
      if (v !== undefined) reading[f] = v;
    }
    for (const f of READING_VALUE_FIELDS) {
      const v = entry.get(f);
      if (v !== undefined) reading[f] = readingValue(v, `RD[${i}].${f}`);
    }
    // "fields equal to the previous reading may be left out": fill them in, and say which
    if (previous) {
      for (const f of INHERITED_FIELDS) {
        if (reading[f] === undefined && previous[f] !== undefined) {
          reading[f] = previous[f];
          inherited.push(f);
        }
      }
    }
    reading.inherited = inherited;
    previous = reading as unknown as OcmfReading;
    readings.push(previous);
  });
  return readings;
}

function readingValue(v: JsonValue, where: string): ReadingValue {
  if (isJsonNumber(v)) return { text: v.text, jsonType: 'number', decimal: plainDecimal(v.text) };
  if (typeof v === 'string') return { text: v, jsonType: 'string', decimal: plainDecimal(v.trim()) };
  throw new Malformed('PAYLOAD_SHAPE', `${where} is neither a number nor a string`);
}

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

function plainDecimal(text: string): string | null {
  return PLAIN_DECIMAL.test(text) ? text : null;
}

/** A text field: a JSON string, or a JSON number kept as its source text (some gateways write `"FV": 1.0`). */
function text(obj: JsonObject, key: string, reason: MalformedReason, where: string): string | undefined {
  const v = obj.get(key);
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (isJsonNumber(v)) return v.text;
  throw new Malformed(reason, `${where} is neither a string nor a number`);
}

function readSignature(signatureText: string): OcmfSignature {
  const r = readJson(signatureText);
  if (!r.ok) throw new Malformed('SIGNATURE_NOT_JSON', `signature section: ${r.error}`);
  if (!isJsonObject(r.value)) throw new Malformed('SIGNATURE_SHAPE', 'the signature section is not a JSON object');
  const raw = r.value;
  const out: Record<string, unknown> = { raw };
  for (const f of ['SA', 'SE', 'SM', 'SD'] as const) {
    const v = raw.get(f);
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new Malformed('SIGNATURE_SHAPE', `${f} is not a string`);
    out[f] = v;
  }
  if (out.SD === undefined) throw new Malformed('SIGNATURE_SHAPE', 'the signature section has no signature data (SD)');
  return out as unknown as OcmfSignature;
}
