/**
 * OCPI 2.2.1 party registrations of the CPO's OCPI interface (topic ocpi.events, key = the registration id): the
 * operator opens a registration (credentials token A), the party registers with the credentials module (POST: its
 * token B, versions URL and roles; our answer carries token C), rotates its credentials (PUT: a new token C) and
 * unregisters (DELETE; or the operator revokes it). Tokens are never in an event: only their SHA-256 (hex), so the
 * topic (and a rebuild from it) can restore who may call without holding a secret. `revision` counts the
 * registration's events from 1; a read model applies an event only over an older revision (idempotent, and the
 * events of one registration share a key, so they are read in order).
 */
import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import { Topics } from '../topics';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const RegistrationId = Type.String({ format: 'uuid' });
const Revision = Type.Integer({ minimum: 1, maximum: 1_000_000 });
const At = Type.String({ format: 'date-time' });
const By = Type.String({ minLength: 1, maxLength: 200 });
const ByRole = Type.Union([
  Type.Literal('operator'),
  Type.Literal('finance'),
  Type.Literal('integration'),
  Type.Literal('admin'),
]);
/** OCPI 2.2.1 Role */
export const OCPI_ROLES = ['CPO', 'EMSP', 'HUB', 'NAP', 'NSP', 'OTHER', 'SCSP'] as const;
export const OcpiPartyRole = closed({
  role: Type.Union(OCPI_ROLES.map((r) => Type.Literal(r))),
  /** CiString(2), stored upper case */
  countryCode: Type.String({ pattern: '^[A-Z]{2}$' }),
  /** CiString(3), stored upper case */
  partyId: Type.String({ pattern: '^[A-Z0-9]{3}$' }),
  /** business_details.name */
  businessName: Type.String({ minLength: 1, maxLength: 100 }),
});
/** An endpoint of the party's version details (what it offers us). */
const PartyEndpoint = closed({
  identifier: Type.String({ minLength: 1, maxLength: 64 }),
  role: Type.Union([Type.Literal('SENDER'), Type.Literal('RECEIVER')]),
  url: Type.String({ minLength: 1, maxLength: 255 }),
});
const Credentials = {
  registrationId: RegistrationId,
  revision: Revision,
  /** the OCPI version the party registered with */
  version: Type.Literal('2.2.1'),
  /** SHA-256 of the party's token B (ours to call it with; the token itself is not kept: nothing is pushed yet) */
  tokenBSha256: Sha256,
  /** SHA-256 of token C, the token the party calls us with from now on */
  tokenCSha256: Sha256,
  /** the party's versions URL */
  url: Type.String({ minLength: 1, maxLength: 255 }),
  roles: Type.Array(OcpiPartyRole, { minItems: 1, maxItems: 50 }),
  /** the endpoints of the party's version 2.2.1 details, as fetched during the handshake */
  endpoints: Type.Array(PartyEndpoint, { maxItems: 100 }),
  at: At,
};
const exampleRoles = [{ role: 'EMSP' as const, countryCode: 'DE', partyId: 'EMS', businessName: 'Example eMSP' }];

export const OcpiRegistrationOpenedV1 = defineEvent({
  type: 'ocpi.registration_opened',
  version: 1,
  topic: Topics.ocpiEvents,
  description: 'the operator opened an OCPI party registration: credentials token A (its SHA-256) may now register',
  schema: closed({
    registrationId: RegistrationId,
    revision: Type.Literal(1),
    /** the operator's name for the party */
    name: Type.String({ minLength: 1, maxLength: 100 }),
    tokenASha256: Sha256,
    at: At,
    /** who: `api-key:<name>` */
    by: By,
    byRole: ByRole,
  }),
  example: {
    registrationId: '6f0c1f2e-3b4a-5c6d-8e7f-0a1b2c3d4e5f',
    revision: 1,
    name: 'Example eMSP',
    tokenASha256: 'aa97426dec509285fb92fd359a5ac1d4280477eac0b1bcefc391a941b65c3e34',
    at: '2026-12-01T09:00:00.000Z',
    by: 'api-key:finance-desk',
    byRole: 'finance',
  },
});
export type OcpiRegistrationOpened = EventOf<typeof OcpiRegistrationOpenedV1>;

const credentialsExample = {
  registrationId: '6f0c1f2e-3b4a-5c6d-8e7f-0a1b2c3d4e5f',
  revision: 2,
  version: '2.2.1' as const,
  tokenBSha256: '1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8',
  tokenCSha256: '2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90',
  url: 'https://emsp.example.com/ocpi/versions',
  roles: exampleRoles,
  endpoints: [{ identifier: 'cdrs', role: 'RECEIVER' as const, url: 'https://emsp.example.com/ocpi/2.2.1/cdrs' }],
  at: '2026-12-01T09:05:00.000Z',
};

export const OcpiPartyRegisteredV1 = defineEvent({
  type: 'ocpi.party_registered',
  version: 1,
  topic: Topics.ocpiEvents,
  description: 'a party registered with the credentials module (POST): token A is spent, token C issued',
  schema: closed(Credentials),
  example: credentialsExample,
});
export type OcpiPartyRegistered = EventOf<typeof OcpiPartyRegisteredV1>;

export const OcpiCredentialsUpdatedV1 = defineEvent({
  type: 'ocpi.credentials_updated',
  version: 1,
  topic: Topics.ocpiEvents,
  description: 'a registered party updated its credentials (PUT): a new token C replaces the old one',
  schema: closed(Credentials),
  example: { ...credentialsExample, revision: 3, at: '2026-12-02T09:00:00.000Z' },
});
export type OcpiCredentialsUpdated = EventOf<typeof OcpiCredentialsUpdatedV1>;

export const OcpiPartyUnregisteredV1 = defineEvent({
  type: 'ocpi.party_unregistered',
  version: 1,
  topic: Topics.ocpiEvents,
  description: 'a party unregistered (DELETE on the credentials module) or the operator revoked it: no token works',
  schema: closed({
    registrationId: RegistrationId,
    revision: Revision,
    at: At,
    /** `party` (the party's DELETE) or `api-key:<name>` (the operator's revocation) */
    by: By,
    byRole: Type.Union([ByRole, Type.Null()]),
  }),
  example: {
    registrationId: '6f0c1f2e-3b4a-5c6d-8e7f-0a1b2c3d4e5f',
    revision: 4,
    at: '2026-12-03T09:00:00.000Z',
    by: 'party',
    byRole: null,
  },
});
export type OcpiPartyUnregistered = EventOf<typeof OcpiPartyUnregisteredV1>;

export const OCPI_EVENTS = [
  OcpiRegistrationOpenedV1,
  OcpiPartyRegisteredV1,
  OcpiCredentialsUpdatedV1,
  OcpiPartyUnregisteredV1,
] as const;
