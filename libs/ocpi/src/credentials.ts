import { OCPI_ROLES } from '@csms/contracts';
import { OcpiInputError } from './errors';

export type OcpiRole = (typeof OCPI_ROLES)[number];

/** One CredentialsRole as this system keeps it (CiStrings upper case). */
export interface PartyRole {
  role: OcpiRole;
  countryCode: string;
  partyId: string;
  businessName: string;
}

/** A credentials object a party sent (POST / PUT), validated. */
export interface PartyCredentials {
  token: string;
  url: string;
  roles: PartyRole[];
}

const TOKEN = /^[\x21-\x7e]{1,64}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (field: string, message: string) => new OcpiInputError(2001, `${field}: ${message}`, field);
const printable = (v: string) => ![...v].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127);

/** An OCPI URL (string(255)) this system will call: absolute http or https, no credentials in it. */
export function parsePartyUrl(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 255 || !printable(v))
    throw bad(field, 'a URL of at most 255 characters');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(field, 'an absolute URL');
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username !== '' || u.password !== '')
    throw bad(field, 'an http(s) URL without user information');
  return v;
}

function parseRole(v: unknown, field: string): PartyRole {
  if (!isObject(v)) throw bad(field, 'a CredentialsRole object');
  const role = v.role;
  if (typeof role !== 'string' || !(OCPI_ROLES as readonly string[]).includes(role))
    throw bad(`${field}/role`, `one of ${OCPI_ROLES.join(', ')}`);
  const cc = v.country_code;
  if (typeof cc !== 'string' || !/^[A-Za-z]{2}$/.test(cc))
    throw bad(`${field}/country_code`, 'CiString(2), ISO 3166 alpha-2');
  const pid = v.party_id;
  if (typeof pid !== 'string' || !/^[A-Za-z0-9]{3}$/.test(pid)) throw bad(`${field}/party_id`, 'CiString(3)');
  const bd = v.business_details;
  if (!isObject(bd)) throw bad(`${field}/business_details`, 'a BusinessDetails object');
  const name = bd.name;
  if (
    typeof name !== 'string' ||
    name.trim().length === 0 ||
    name.length > 100 ||
    !printable(name) ||
    /[\ud800-\udfff]/.test(name)
  )
    throw bad(`${field}/business_details/name`, 'string(100)');
  if (bd.website !== undefined) parsePartyUrl(bd.website, `${field}/business_details/website`);
  return { role: role as OcpiRole, countryCode: cc.toUpperCase(), partyId: pid.toUpperCase(), businessName: name };
}

/**
 * A credentials object (OCPI 2.2.1 §7: `token` string(64) of printable non-whitespace ASCII, `url` the party's
 * versions endpoint, `roles` one or more CredentialsRole, each combination of role, party_id and country_code
 * unique). Throws OcpiInputError 2001 naming the field at fault.
 */
export function parseCredentials(body: unknown): PartyCredentials {
  if (!isObject(body)) throw bad('body', 'a credentials object');
  if (typeof body.token !== 'string' || !TOKEN.test(body.token))
    throw bad('body/token', 'string(64) of printable non-whitespace ASCII');
  const url = parsePartyUrl(body.url, 'body/url');
  if (!Array.isArray(body.roles) || body.roles.length === 0 || body.roles.length > 50)
    throw bad('body/roles', 'one to 50 CredentialsRole objects');
  const roles = body.roles.map((r, i) => parseRole(r, `body/roles/${i}`));
  const seen = new Set<string>();
  roles.forEach((r, i) => {
    const k = `${r.role}/${r.countryCode}/${r.partyId}`;
    if (seen.has(k)) throw bad(`body/roles/${i}`, 'role, country_code and party_id repeated');
    seen.add(k);
  });
  return { token: body.token, url, roles };
}

/**
 * Which CDRs a party may pull from the CDRs sender interface. A HUB role sees every CDR (it forwards them to the
 * eMSPs behind it); otherwise a party sees the CDRs whose `cdr_token` (the eMSP that issued the token charged with)
 * has the `country_code` and `party_id` of one of its EMSP roles; a party with neither sees none.
 */
export type CdrAudience = { all: true } | { all: false; parties: Array<{ countryCode: string; partyId: string }> };

export function cdrAudience(roles: readonly PartyRole[]): CdrAudience {
  if (roles.some((r) => r.role === 'HUB')) return { all: true };
  const parties = new Map<string, { countryCode: string; partyId: string }>();
  for (const r of roles)
    if (r.role === 'EMSP')
      parties.set(`${r.countryCode}*${r.partyId}`, { countryCode: r.countryCode, partyId: r.partyId });
  return { all: false, parties: [...parties.keys()].sort().map((k) => parties.get(k)!) };
}

/** Whether a CDR's token (its `cdr_token`) is one the audience may see; CiStrings compare case-insensitively. */
export function mayPullCdr(audience: CdrAudience, cdrToken: { country_code: string; party_id: string }): boolean {
  if (audience.all) return true;
  const cc = cdrToken.country_code.toUpperCase();
  const pid = cdrToken.party_id.toUpperCase();
  return audience.parties.some((p) => p.countryCode === cc && p.partyId === pid);
}

/** The key a CDR's token party is indexed by (upper case `CC*PID`), the same as `cdrAudience`'s parties. */
export const tokenPartyKey = (countryCode: string, partyId: string) =>
  `${countryCode.toUpperCase()}*${partyId.toUpperCase()}`;
