import { OcpiInputError } from './errors';

export const OCPI_VERSION = '2.2.1';

export interface Endpoint {
  identifier: string;
  role: 'SENDER' | 'RECEIVER';
  url: string;
}

/** `GET /ocpi/versions`: the versions this CPO offers (only 2.2.1), under `base` (no trailing slash). */
export function versionsOf(base: string): Array<{ version: string; url: string }> {
  return [{ version: OCPI_VERSION, url: `${base}/ocpi/${OCPI_VERSION}` }];
}

/**
 * `GET /ocpi/2.2.1`: the endpoints of this CPO. The credentials module is symmetric: offered as SENDER and RECEIVER
 * (a party can both fetch our credentials and push its own); the CDRs module as SENDER only (parties pull).
 */
export function versionDetailsOf(base: string): { version: string; endpoints: Endpoint[] } {
  const at = (module: string) => `${base}/ocpi/${OCPI_VERSION}/${module}`;
  return {
    version: OCPI_VERSION,
    endpoints: [
      { identifier: 'credentials', role: 'SENDER', url: at('credentials') },
      { identifier: 'credentials', role: 'RECEIVER', url: at('credentials') },
      { identifier: 'cdrs', role: 'SENDER', url: at('cdrs') },
    ],
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The data of an OCPI response envelope (status_code 1xxx), or 3001 naming what was wrong. */
export function envelopeData(body: unknown, what: string): unknown {
  if (!isObject(body) || typeof body.status_code !== 'number')
    throw new OcpiInputError(3001, `${what}: not an OCPI response`);
  if (body.status_code < 1000 || body.status_code > 1999)
    throw new OcpiInputError(3001, `${what}: status_code ${body.status_code}`);
  return body.data;
}

/** From the party's versions (the data of its versions endpoint), the URL of 2.2.1's details; 3002 without it. */
export function versionUrlOf(data: unknown): string {
  if (!Array.isArray(data)) throw new OcpiInputError(3001, 'versions: data is not a list of versions');
  const mine = data.find((v) => isObject(v) && v.version === OCPI_VERSION);
  if (!mine) throw new OcpiInputError(3002, `the party offers no version ${OCPI_VERSION}`);
  const url = (mine as Record<string, unknown>).url;
  if (typeof url !== 'string' || url.length === 0 || url.length > 255)
    throw new OcpiInputError(3001, `versions: version ${OCPI_VERSION} has no url`);
  return url;
}

/**
 * The endpoints of the party's 2.2.1 version details. The party must offer its credentials module (OCPI: every
 * platform implements it); 3003 otherwise.
 */
export function partyEndpointsOf(data: unknown): Endpoint[] {
  if (!isObject(data) || data.version !== OCPI_VERSION || !Array.isArray(data.endpoints))
    throw new OcpiInputError(3001, `version details: not the details of ${OCPI_VERSION}`);
  const out: Endpoint[] = [];
  for (const e of data.endpoints.slice(0, 100)) {
    if (!isObject(e)) continue;
    const { identifier, role, url } = e;
    if (typeof identifier !== 'string' || identifier.length === 0 || identifier.length > 64) continue;
    if (role !== 'SENDER' && role !== 'RECEIVER') continue;
    if (typeof url !== 'string' || url.length === 0 || url.length > 255) continue;
    out.push({ identifier, role, url });
  }
  if (!out.some((e) => e.identifier === 'credentials'))
    throw new OcpiInputError(3003, 'the party offers no credentials endpoint');
  return out;
}
