import {
  AccountStandingChangedV1,
  CdrCreatedV1,
  StationRegisteredV1,
  StationRegisteredV2,
  StationRegisteredV3,
  deriveId,
  systemCatalogue,
  type Envelope,
} from '../index';
import { contractError, specEnvelope } from './spec-helpers';

const catalogue = systemCatalogue();

function envelope(type: string, version: number, payload: unknown): Envelope {
  return specEnvelope(type, version, payload, {
    key: 'CP-001',
    source: 'ocpp-gateway',
    id: deriveId('registry-spec', type, version),
  });
}

describe('registry.station_registered v1 -> v2 -> v3', () => {
  it('reads a v1 record from the log as v3: no location, no hash, everything else kept', () => {
    // a record as the gateway wrote it before locations existed
    const wire = JSON.stringify(envelope('registry.station_registered', 1, StationRegisteredV1.example));
    const env = catalogue.decode(wire);
    expect(env.version).toBe(3);
    const { passwordHash: _hash, ...rest } = StationRegisteredV1.example;
    expect(env.payload).toEqual({ ...rest, location: null, passwordSet: true, credentialRevision: 0 });
    expect(JSON.stringify(env)).not.toContain('scrypt');
    expect(env.id).toBe(deriveId('registry-spec', 'registry.station_registered', 1));
  });

  it('keeps a deleted v1 station deleted', () => {
    const env = catalogue.parse(
      envelope('registry.station_registered', 1, { ...StationRegisteredV1.example, deleted: true, revision: 9 }),
    );
    expect(env.payload).toMatchObject({ deleted: true, revision: 9, location: null });
  });

  it.each([
    ['with a password hash', StationRegisteredV2.example.passwordHash, true],
    ['without a password (profile 3)', null, false],
  ])('reads a v2 record %s as v3 without the hash', (_what, passwordHash, passwordSet) => {
    const env = catalogue.parse(
      envelope('registry.station_registered', 2, { ...StationRegisteredV2.example, passwordHash }),
    );
    expect(env.version).toBe(3);
    const { passwordHash: _hash, ...rest } = StationRegisteredV2.example;
    expect(env.payload).toEqual({ ...rest, passwordSet, credentialRevision: 0 });
    expect(env.payload).not.toHaveProperty('passwordHash');
  });

  it('a v3 record is read as it is', () => {
    const v3 = envelope('registry.station_registered', 3, StationRegisteredV3.example);
    expect(catalogue.parse(v3)).toEqual(v3);
  });

  it('v3 refuses a password hash (closed schema: credential material never goes on the topic)', () => {
    const err = contractError(() =>
      catalogue.parse(
        envelope('registry.station_registered', 3, {
          ...StationRegisteredV3.example,
          passwordHash: StationRegisteredV2.example.passwordHash,
        }),
      ),
    );
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.field).toBe('/payload/passwordHash');
  });

  it.each([
    ['no passwordSet', { passwordSet: undefined }, '/payload/passwordSet'],
    ['a negative credential revision', { credentialRevision: -1 }, '/payload/credentialRevision'],
    ['a fractional credential revision', { credentialRevision: 1.5 }, '/payload/credentialRevision'],
  ])('v3 refuses %s', (_what, change, field) => {
    const payload = JSON.parse(JSON.stringify({ ...StationRegisteredV3.example, ...change }));
    const err = contractError(() => catalogue.parse(envelope('registry.station_registered', 3, payload)));
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.field).toBe(field);
  });

  it.each([
    [
      'a country that is not three capitals',
      { location: { ...StationRegisteredV2.example.location!, country: 'NL' } },
      '/payload/location/country',
    ],
    [
      'a latitude without the OCPI decimals',
      {
        location: {
          ...StationRegisteredV2.example.location!,
          coordinates: { latitude: '52.3', longitude: '4.900840' },
        },
      },
      '/payload/location/coordinates/latitude',
    ],
    [
      'an address longer than 45',
      { location: { ...StationRegisteredV2.example.location!, address: 'x'.repeat(46) } },
      '/payload/location/address',
    ],
    [
      'an unknown connector standard',
      { evses: [{ evseId: 1, connectors: [{ connectorId: 1, standard: 'TYPE2' }] }] },
      '/payload/evses/0/connectors/0/standard',
    ],
    [
      'an unknown power type',
      { evses: [{ evseId: 1, connectors: [{ connectorId: 1, power_type: 'AC' }] }] },
      '/payload/evses/0/connectors/0/power_type',
    ],
    [
      'an eMI3 id that is not one',
      { evses: [{ evseId: 1, emi3EvseId: 'CP-001*1', connectors: [] }] },
      '/payload/evses/0/emi3EvseId',
    ],
    ['no location field at all', { location: undefined }, '/payload/location'],
  ])('v2 refuses %s', (_what, change, field) => {
    const payload = JSON.parse(JSON.stringify({ ...StationRegisteredV2.example, ...change }));
    const err = contractError(() => catalogue.parse(envelope('registry.station_registered', 2, payload)));
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.field).toBe(field);
  });
});

describe('cdr.created cdr_location', () => {
  const cdrWith = (cdrLocation: unknown) => ({
    ...CdrCreatedV1.example,
    cdr: { ...CdrCreatedV1.example.cdr, cdr_location: cdrLocation },
  });

  it('still reads a CDR with the ids only (priced before locations, or LOCATION_INCOMPLETE)', () => {
    const old = cdrWith({ id: 'CP-001', evse_uid: 'CP-001*1', evse_id: 'CP-001*1', connector_id: '1' });
    expect(() => catalogue.parse(envelope('cdr.created', 1, old))).not.toThrow();
  });

  it('takes the audit data-quality flag with the missing fields', () => {
    const payload = {
      ...cdrWith({ id: 'CP-001', evse_uid: 'CP-001*1', evse_id: 'CP-001*1', connector_id: '1' }),
      audit: {
        ...CdrCreatedV1.example.audit,
        dataQuality: { flags: ['LOCATION_INCOMPLETE'], missingLocationFields: ['address', 'connector_standard'] },
      },
    };
    expect(() => catalogue.parse(envelope('cdr.created', 1, payload))).not.toThrow();
  });

  it.each([
    [
      'a field OCPI does not have',
      { ...CdrCreatedV1.example.cdr.cdr_location, floor: 2 },
      '/payload/cdr/cdr_location/floor',
    ],
    [
      'no evse_uid',
      { ...CdrCreatedV1.example.cdr.cdr_location, evse_uid: undefined },
      '/payload/cdr/cdr_location/evse_uid',
    ],
    [
      'an unknown connector standard',
      { ...CdrCreatedV1.example.cdr.cdr_location, connector_standard: 'SCHUKO' },
      '/payload/cdr/cdr_location/connector_standard',
    ],
    [
      'a longitude out of the OCPI format',
      { ...CdrCreatedV1.example.cdr.cdr_location, coordinates: { latitude: '52.367030', longitude: '4.9' } },
      '/payload/cdr/cdr_location/coordinates/longitude',
    ],
    [
      'an alpha-2 country',
      { ...CdrCreatedV1.example.cdr.cdr_location, country: 'NL' },
      '/payload/cdr/cdr_location/country',
    ],
  ])('refuses %s', (_what, cdrLocation, field) => {
    const err = contractError(() =>
      catalogue.parse(envelope('cdr.created', 1, JSON.parse(JSON.stringify(cdrWith(cdrLocation))))),
    );
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.field).toBe(field);
  });
});

describe('registry.account_standing_changed v1', () => {
  const account = (payload: unknown) =>
    specEnvelope('registry.account_standing_changed', 1, payload, {
      key: 'acct-1001',
      source: 'payment-service',
      id: deriveId('registry-spec', 'account', JSON.stringify(payload)),
    });

  it('reads a blocked account and one that can pay again', () => {
    expect(catalogue.parse(account(AccountStandingChangedV1.example)).payload).toEqual(
      AccountStandingChangedV1.example,
    );
    const ok = { accountId: 'acct-1001', canPay: true, reason: 'wallet_topped_up', revision: 3 };
    expect(catalogue.parse(account(ok)).payload).toEqual(ok);
  });

  it.each([
    ['a reason that is not a code', { ...AccountStandingChangedV1.example, reason: 'Broke!' }, '/payload/reason'],
    ['no account', { ...AccountStandingChangedV1.example, accountId: '' }, '/payload/accountId'],
    ['revision 0', { ...AccountStandingChangedV1.example, revision: 0 }, '/payload/revision'],
    ['an unknown field', { ...AccountStandingChangedV1.example, balance: '0' }, '/payload/balance'],
  ])('refuses %s', (_what, payload, field) => {
    const err = contractError(() => catalogue.parse(account(payload)));
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.field).toBe(field);
  });
});
