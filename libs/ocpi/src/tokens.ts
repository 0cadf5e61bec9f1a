import { createHash } from 'node:crypto';

/**
 * OCPI 2.2.1 credentials tokens. A token is a string(64) of printable non-whitespace ASCII (U+0021 to U+007E); a
 * party sends it in the `Authorization` header as `Token <Base64 of the token>` (2.2.1 encodes it; 2.1.1 sent it
 * as it is, which is not accepted). Only a token's SHA-256 is ever stored.
 */
const TOKEN = /^[\x21-\x7e]{1,64}$/;

export function isCredentialsToken(v: unknown): v is string {
  return typeof v === 'string' && TOKEN.test(v);
}

/** The token an `Authorization: Token <base64>` header carries, or undefined (missing, malformed, not Base64). */
export function tokenOfAuthorization(header: string | undefined): string | undefined {
  if (header === undefined || header.length > 200) return undefined;
  const m = /^Token ([A-Za-z0-9+/]+={0,2})$/.exec(header);
  if (!m) return undefined;
  const bytes = Buffer.from(m[1], 'base64');
  // strict: the Base64 must be canonical (re-encoding gives it back), so one token has one header
  if (bytes.length === 0 || bytes.toString('base64').replace(/=+$/, '') !== m[1].replace(/=+$/, '')) return undefined;
  const token = bytes.toString('latin1');
  return isCredentialsToken(token) ? token : undefined;
}

/** The SHA-256 of a token as lower-case hex (what the configuration, the events and the tables hold). */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'latin1').digest('hex');
}

/** The `Authorization` header value of a token (for calling a party, and in tests). */
export function authorizationOf(token: string): string {
  return `Token ${Buffer.from(token, 'latin1').toString('base64')}`;
}
