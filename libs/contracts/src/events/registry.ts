import { Type, type Static } from '@sinclair/typebox';
import { defineEvent, type EventOf, type Upcaster } from '../catalogue';
import { closed } from '../envelope';
import { RegistryEvseSchema, StationLocationSchema } from '../ocpi-location';
import { Topics } from '../topics';

const Connector = closed({ connectorId: Type.Integer({ minimum: 1 }) });
const Evse = closed({ evseId: Type.Integer({ minimum: 1 }), connectors: Type.Array(Connector) });
const StationId = Type.String({ minLength: 1, maxLength: 48, pattern: '^[A-Za-z0-9._:*+-]+$' });

/**
 * The latest state of one station in the registry (compacted topic, key = station id). Every gateway
 * instance reads the topic from the beginning into memory and answers BootNotification and the upgrade's
 * authentication from it. `deleted: true` removes the station (followed by a tombstone when compacted).
 */
export const StationRegisteredV1 = defineEvent({
  type: 'registry.station_registered',
  version: 1,
  topic: Topics.registryStations,
  description: 'a station was registered or changed in the registry (its whole latest state)',
  schema: closed({
    stationId: StationId,
    securityProfile: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]),
    /** scrypt hash of the Basic-auth password, never the password */
    passwordHash: Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Null()]),
    /** subject CN of the client certificate (profile 3); null = the station id */
    certificateCn: Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()]),
    siteId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
    evses: Type.Array(Evse),
    enabled: Type.Boolean(),
    deleted: Type.Boolean(),
    /** increases with every change of this station */
    revision: Type.Integer({ minimum: 1 }),
  }),
  example: {
    stationId: 'CP-001',
    securityProfile: 2,
    passwordHash: 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    certificateCn: null,
    siteId: 'site-amsterdam-1',
    timeZone: 'Europe/Amsterdam',
    evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }],
    enabled: true,
    deleted: false,
    revision: 1,
  },
});
export type StationRegisteredV1Payload = Static<typeof StationRegisteredV1.schema>;

/**
 * v2: v1 plus what an OCPI 2.2.1 CDR needs about where a session took place: the station's `location`
 * (OCPI-shaped: id, name, address, city, postal_code, state, country alpha-3, coordinates; null = none
 * registered) and, per connector, its OCPI standard, format and power type (and optional ratings), per
 * EVSE an optional eMI3 EVSE ID. The site's time zone stays `timeZone`.
 */
export const StationRegisteredV2 = defineEvent({
  type: 'registry.station_registered',
  version: 2,
  topic: Topics.registryStations,
  description:
    'a station was registered or changed in the registry (its whole latest state, with its location and connector types)',
  schema: closed({
    stationId: StationId,
    securityProfile: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]),
    /** scrypt hash of the Basic-auth password, never the password */
    passwordHash: Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Null()]),
    /** subject CN of the client certificate (profile 3); null = the station id */
    certificateCn: Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()]),
    siteId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
    /** where the station is (OCPI Location fields); null: not registered (CDRs say `LOCATION_INCOMPLETE`) */
    location: Type.Union([StationLocationSchema, Type.Null()]),
    evses: Type.Array(RegistryEvseSchema),
    enabled: Type.Boolean(),
    deleted: Type.Boolean(),
    /** increases with every change of this station */
    revision: Type.Integer({ minimum: 1 }),
  }),
  example: {
    stationId: 'CP-001',
    securityProfile: 2,
    passwordHash: 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    certificateCn: null,
    siteId: 'site-amsterdam-1',
    timeZone: 'Europe/Amsterdam',
    location: {
      id: 'site-amsterdam-1',
      name: 'Stadhuis garage',
      address: 'Amstel 1',
      city: 'Amsterdam',
      postal_code: '1011 PN',
      country: 'NLD',
      coordinates: { latitude: '52.367030', longitude: '4.900840' },
    },
    evses: [
      {
        evseId: 1,
        emi3EvseId: 'NL*CSM*E001*1',
        connectors: [
          {
            connectorId: 1,
            standard: 'IEC_62196_T2',
            format: 'SOCKET',
            power_type: 'AC_3_PHASE',
            max_voltage: 400,
            max_amperage: 32,
            max_electric_power: 22000,
          },
        ],
      },
    ],
    enabled: true,
    deleted: false,
    revision: 1,
  },
});
export type StationRegisteredV2Payload = Static<typeof StationRegisteredV2.schema>;

/**
 * v3: v2 without the password hash. Credential material stays in the gateway's own database (the table its
 * registry writes, shared by the instances of a deployment); the public event says only whether a password
 * is set and the credential revision: the station revision at which the password was last set (0: set before
 * v3, or never). A gateway instance whose loaded credentials are older than it re-reads the station's row.
 */
const { passwordHash: _v2Hash, ...v2WithoutHash } = StationRegisteredV2.schema.properties;
const { passwordHash: _exampleHash, ...v2ExampleWithoutHash } = StationRegisteredV2.example;

export const StationRegisteredV3 = defineEvent({
  type: 'registry.station_registered',
  version: 3,
  topic: Topics.registryStations,
  description: 'a station was registered or changed in the registry (its whole latest state, no credential material)',
  schema: closed({
    ...v2WithoutHash,
    /** a Basic-auth password is registered (its hash is in the gateway's database only) */
    passwordSet: Type.Boolean(),
    /** the station revision at which the password was last set; 0 = before v3 or never */
    credentialRevision: Type.Integer({ minimum: 0 }),
  }),
  example: { ...v2ExampleWithoutHash, passwordSet: true, credentialRevision: 1 },
});
export type StationRegistered = EventOf<typeof StationRegisteredV3>;

/** v1 -> v2: no location was registered then (`location: null`); the EVSEs and connector ids are the same. */
export const stationRegisteredV1ToV2: Upcaster = {
  type: StationRegisteredV2.type,
  fromVersion: 1,
  up: (payload) => ({ ...(payload as StationRegisteredV1Payload), location: null }),
};

/**
 * v2 -> v3: the hash is dropped (a reader never sees it), `passwordSet` says whether there was one and the
 * credential revision is 0 (unknown: the gateway's database has the credentials).
 */
export const stationRegisteredV2ToV3: Upcaster = {
  type: StationRegisteredV3.type,
  fromVersion: 2,
  up: (payload) => {
    const { passwordHash, ...rest } = payload as StationRegisteredV2Payload;
    return { ...rest, passwordSet: passwordHash !== null, credentialRevision: 0 };
  },
};

/** OCPP 2.0.1 IdTokenEnumType: the kinds of id token the registry holds (also the registry API's). */
export const IdTokenTypeSchema = Type.Union([
  Type.Literal('Central'),
  Type.Literal('eMAID'),
  Type.Literal('ISO14443'),
  Type.Literal('ISO15693'),
  Type.Literal('KeyCode'),
  Type.Literal('Local'),
  Type.Literal('MacAddress'),
  Type.Literal('NoAuthorization'),
]);
/** What the registry says of a token (OCPP AuthorizationStatus subset); also the registry API's. */
export const IdTokenStatusSchema = Type.Union([
  Type.Literal('Accepted'),
  Type.Literal('Blocked'),
  Type.Literal('Expired'),
  Type.Literal('Invalid'),
]);

/** The latest state of one id token (compacted topic, key = token uid). */
export const TokenRegisteredV1 = defineEvent({
  type: 'registry.token_registered',
  version: 1,
  topic: Topics.registryTokens,
  description: 'an id token was registered or changed in the registry (its whole latest state)',
  schema: closed({
    uid: Type.String({ minLength: 1, maxLength: 36 }),
    type: IdTokenTypeSchema,
    status: IdTokenStatusSchema,
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    groupId: Type.Union([Type.String({ minLength: 1, maxLength: 36 }), Type.Null()]),
    billingAccountId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
    deleted: Type.Boolean(),
    revision: Type.Integer({ minimum: 1 }),
  }),
  example: {
    uid: '04A2B3C4D5E6F7',
    type: 'ISO14443',
    status: 'Accepted',
    expiresAt: '2027-01-01T00:00:00Z',
    groupId: 'FLEET-42',
    billingAccountId: 'acct-1001',
    deleted: false,
    revision: 3,
  },
});
export type TokenRegistered = EventOf<typeof TokenRegisteredV1>;

/**
 * Whether a billing account can pay (compacted topic registry.accounts, key = account id), its whole latest
 * standing. The payment service writes it when an account becomes blocked or can pay again; every gateway instance
 * reads the topic into memory, and a token whose billing account cannot pay is answered `Blocked` at its next
 * Authorize (and in StartTransaction / TransactionEvent id token info), so the gateway never calls a PSP.
 */
export const AccountStandingChangedV1 = defineEvent({
  type: 'registry.account_standing_changed',
  version: 1,
  topic: Topics.registryAccounts,
  description: 'a billing account became blocked or can pay again (its whole latest standing)',
  schema: closed({
    accountId: Type.String({ minLength: 1, maxLength: 100 }),
    canPay: Type.Boolean(),
    /** why it cannot pay or can again: the payment service's reason code (payment.account_blocked / _unblocked) */
    reason: Type.Union([Type.String({ pattern: '^[a-z][a-z_]{0,63}$' }), Type.Null()]),
    /** increases with every change of this account's standing */
    revision: Type.Integer({ minimum: 1 }),
  }),
  example: { accountId: 'acct-1001', canPay: false, reason: 'wallet_insufficient', revision: 2 },
});
export type AccountStanding = EventOf<typeof AccountStandingChangedV1>;
