import type { EntityManager } from 'typeorm';
import type {
  OcpiCredentialsUpdated,
  OcpiPartyRegistered,
  OcpiPartyUnregistered,
  OcpiRegistrationOpened,
} from '@csms/contracts';
import type { EventHandler } from '@csms/messaging';
import {
  cdrAudience,
  tokenOfAuthorization,
  tokenSha256,
  type CdrAudience,
  type PartyRole,
  type TokenKind,
} from '@csms/ocpi';
import { configuredPartyOf, type OcpiParty } from './ocpi';

/**
 * The OCPI parties read model (`ocpi_parties`), folded from ocpi.events: one row per registration, its status
 * (`OPEN`: token A issued; `REGISTERED`; `UNREGISTERED`), the SHA-256 of its live token (A while open, C once
 * registered; none after), its roles and versions URL. An event applies only over an older revision, so the
 * controller's own write and the consumer's reading of it back are one change, and a rebuild gives the same rows.
 */
export interface PartyRow {
  registration_id: string;
  revision: number;
  name: string;
  status: 'OPEN' | 'REGISTERED' | 'UNREGISTERED';
  token_a_sha256: string | null;
  token_c_sha256: string | null;
  url: string | null;
  roles: PartyRole[];
}

export async function applyRegistrationOpened(m: EntityManager, p: OcpiRegistrationOpened['payload']): Promise<void> {
  await m.query(
    `insert into ocpi_parties (registration_id, revision, name, status, token_a_sha256, opened_at, opened_by,
       opened_by_role, updated_at)
     values ($1, $2, $3, 'OPEN', $4, $5, $6, $7, $5) on conflict (registration_id) do nothing`,
    [p.registrationId, p.revision, p.name, p.tokenASha256, p.at, p.by, p.byRole],
  );
}

export async function applyCredentials(
  m: EntityManager,
  p: OcpiPartyRegistered['payload'] | OcpiCredentialsUpdated['payload'],
): Promise<void> {
  await m.query(
    `update ocpi_parties set revision = $2, status = 'REGISTERED', token_a_sha256 = null, token_b_sha256 = $3,
       token_c_sha256 = $4, version = $5, url = $6, roles = $7, endpoints = $8,
       registered_at = coalesce(registered_at, $9), updated_at = $9
     where registration_id = $1 and revision < $2`,
    [
      p.registrationId,
      p.revision,
      p.tokenBSha256,
      p.tokenCSha256,
      p.version,
      p.url,
      JSON.stringify(p.roles),
      JSON.stringify(p.endpoints),
      p.at,
    ],
  );
}

export async function applyUnregistered(m: EntityManager, p: OcpiPartyUnregistered['payload']): Promise<void> {
  await m.query(
    `update ocpi_parties set revision = $2, status = 'UNREGISTERED', token_a_sha256 = null, token_c_sha256 = null,
       unregistered_at = $3, unregistered_by = $4, updated_at = $3
     where registration_id = $1 and revision < $2`,
    [p.registrationId, p.revision, p.at, p.by],
  );
}

export const ocpiPartiesHandler: EventHandler = async (event, ctx) => {
  switch (event.type) {
    case 'ocpi.registration_opened':
      return applyRegistrationOpened(ctx.manager, (event as OcpiRegistrationOpened).payload);
    case 'ocpi.party_registered':
    case 'ocpi.credentials_updated':
      return applyCredentials(ctx.manager, (event as OcpiPartyRegistered).payload);
    case 'ocpi.party_unregistered':
      return applyUnregistered(ctx.manager, (event as OcpiPartyUnregistered).payload);
  }
};

/** Who calls: the kind of token (libs/ocpi `access`), the token itself (echoed by GET credentials), what it sees. */
export interface OcpiCaller {
  kind: TokenKind;
  token: string;
  /** the configured name, or the registration's */
  name: string;
  /** null for a configured token */
  party: PartyRow | null;
  audience: CdrAudience;
}

const PARTY_COLUMNS = 'registration_id, revision, name, status, token_a_sha256, token_c_sha256, url, roles';

/**
 * The caller of an OCPI request: a configured token (`OCPI_TOKENS`, hub-like: sees every CDR), else the open
 * registration whose token A or the registered party whose token C it is; undefined for anything else. With
 * `forUpdate` the party's row is locked (the credentials module's writes, in their transaction).
 */
export async function ocpiCallerOf(
  m: Pick<EntityManager, 'query'>,
  header: string | undefined,
  configured: readonly OcpiParty[],
  forUpdate = false,
): Promise<OcpiCaller | undefined> {
  const token = tokenOfAuthorization(header);
  if (token === undefined) return undefined;
  const conf = configuredPartyOf(token, configured);
  if (conf) return { kind: 'configured', token, name: conf.name, party: null, audience: { all: true } };
  const sha = tokenSha256(token);
  const rows: PartyRow[] = await m.query(
    `select ${PARTY_COLUMNS} from ocpi_parties where token_a_sha256 = $1 or token_c_sha256 = $1
     ${forUpdate ? 'for update' : ''}`,
    [sha],
  );
  const row = rows[0];
  if (!row) return undefined;
  const kind: TokenKind = row.token_c_sha256 === sha ? 'C' : 'A';
  return {
    kind,
    token,
    name: row.name,
    party: row,
    audience: kind === 'C' ? cdrAudience(row.roles) : { all: false, parties: [] },
  };
}
