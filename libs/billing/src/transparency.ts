/**
 * Pure: a CDR's signed meter values as the XML container of the S.A.F.E. e.V. Transparenzsoftware (the
 * transparency viewer German Eichrecht names for checking a charging record; it reads OCMF in this form):
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <values>
 *     <value transactionId="1" context="Transaction.Begin">
 *       <signedData format="OCMF" encoding="plain">OCMF|{…}|{…}</signedData>
 *       <publicKey encoding="hex">3059…</publicKey>
 *     </value>
 *     …
 *   </values>
 *
 * One `value` per signed value of the CDR's OCPI signed_data, in order (transactionId 1, 2, …; context
 * Transaction.Begin / Transaction.End / Sample.Periodic from the value's nature). `signedData` holds the signed
 * record as text, exactly the bytes the meter signed (decoded from signed_data's base64; XML escapes only `&`,
 * `<`, `>` and a carriage return, which an XML reader gives back as they were; no whitespace around it, as the
 * viewer requires). `publicKey`: the key the CDR was verified with (signed_data.public_key), as SubjectPublicKeyInfo
 * DER in hex; absent when no key was trusted (the viewer then asks for the key printed on the meter).
 */
import type { OcpiCdr } from '@csms/contracts';
import {
  CURVES,
  DEFAULT_SIGNATURE_ALGORITHM,
  curveOfSignatureAlgorithm,
  decodeBase64,
  decodeKeyText,
  keyForCurve,
  parseOcmf,
  type OcmfCurve,
} from '@csms/ocmf';

export interface TransparencyExport {
  xml: string;
  /** values written; values that are not UTF-8 text XML can hold are left out (their signature could not be checked there) */
  values: number;
  omitted: number;
}

const CONTEXTS: Record<string, string> = {
  Start: 'Transaction.Begin',
  End: 'Transaction.End',
};

/** XML 1.0 character data: `&`, `<`, `>` escaped; CR as a character reference (a reader would turn a raw one into LF). */
function text(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}
const attr = (s: string) => text(s).replace(/"/g, '&quot;');

/** Characters XML 1.0 cannot hold at all (controls other than tab, LF, CR; lone surrogates; U+FFFE/U+FFFF). */
const NOT_XML =
  // eslint-disable-next-line no-control-regex -- these control characters are exactly what XML 1.0 cannot hold
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The bytes as UTF-8 text when they are exactly that (decoding and encoding again gives the same bytes). */
function utf8(bytes: Uint8Array): string | null {
  const t = Buffer.from(bytes).toString('utf8');
  return Buffer.from(t, 'utf8').equals(Buffer.from(bytes)) ? t : null;
}

/** The key as SubjectPublicKeyInfo DER hex, on the curve SA names (else any OCMF curve), or null when unreadable. */
export function spkiHexOf(keyText: string, preferred: OcmfCurve | undefined): string | null {
  const decoded = decodeKeyText(keyText);
  if (!decoded.ok) return null;
  const curves = (Object.keys(CURVES) as OcmfCurve[]).sort((a, b) => Number(b === preferred) - Number(a === preferred));
  for (const curve of curves) {
    const k = keyForCurve(decoded.bytes, curve);
    if (k.ok) return k.key.export({ type: 'spki', format: 'der' }).toString('hex').toUpperCase();
  }
  return null;
}

export function transparencyXml(cdr: Pick<OcpiCdr, 'signed_data'>): TransparencyExport {
  const sd = cdr.signed_data;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<values>'];
  let values = 0;
  let omitted = 0;
  for (const v of sd?.signed_values ?? []) {
    const bytes = decodeBase64(v.signed_data);
    const record = bytes ? utf8(bytes) : null;
    if (record === null || NOT_XML.test(record)) {
      omitted += 1;
      continue;
    }
    values += 1;
    const parsed = parseOcmf(record);
    const sa = parsed.ok ? (parsed.record.signature.SA ?? DEFAULT_SIGNATURE_ALGORITHM) : DEFAULT_SIGNATURE_ALGORITHM;
    const key = sd?.public_key ? spkiHexOf(sd.public_key, curveOfSignatureAlgorithm(sa)) : null;
    lines.push(
      `  <value transactionId="${values}" context="${attr(CONTEXTS[v.nature] ?? 'Sample.Periodic')}">`,
      `    <signedData format="OCMF" encoding="plain">${text(record)}</signedData>`,
      ...(key ? [`    <publicKey encoding="hex">${key}</publicKey>`] : []),
      '  </value>',
    );
  }
  lines.push('</values>', '');
  return { xml: lines.join('\n'), values, omitted };
}
