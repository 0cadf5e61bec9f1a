/**
 * The credentials module's rules (OCPI 2.2.1 §7) as a table: which token may do what. A token is one of
 * - `A`: a registration the operator opened, not used yet: it may read the versions and version details and POST
 *   its credentials, nothing else;
 * - `C`: a registered party's current token: everything but POST;
 * - `configured`: a token of the configuration (`OCPI_TOKENS`), registered outside OCPI: it may read versions, its
 *   credentials and CDRs, and cannot register, rotate or unregister through OCPI.
 * Any other token (unknown, spent A, replaced C, unregistered) is refused with HTTP 401.
 */
export type TokenKind = 'A' | 'C' | 'configured';
export type OcpiAction =
  'versions' | 'cdrs' | 'credentials.get' | 'credentials.post' | 'credentials.put' | 'credentials.delete';

export type Access = { allowed: true } | { allowed: false; http: 401 | 405; statusCode: 2000; message: string };

const refused = (http: 401 | 405, message: string): Access => ({ allowed: false, http, statusCode: 2000, message });

export function access(kind: TokenKind | undefined, action: OcpiAction): Access {
  if (kind === undefined)
    return refused(401, 'a known OCPI credentials token is required: Authorization: Token <base64 token>');
  if (action === 'versions') return { allowed: true };
  if (kind === 'A') {
    if (action === 'credentials.post') return { allowed: true };
    // "PUT/DELETE MUST return HTTP 405 if the client has not been registered yet"; the other modules need token C
    if (action === 'cdrs') return refused(401, 'credentials token A only registers: POST your credentials first');
    return refused(405, 'not registered yet: POST your credentials first');
  }
  if (action === 'credentials.post')
    // "POST MUST return HTTP 405 if the client has already been registered before"
    return refused(405, 'already registered: PUT updates the credentials, DELETE unregisters');
  if (kind === 'configured' && (action === 'credentials.put' || action === 'credentials.delete'))
    return refused(405, 'a configured token (OCPI_TOKENS) is changed in the configuration, not through OCPI');
  return { allowed: true };
}
