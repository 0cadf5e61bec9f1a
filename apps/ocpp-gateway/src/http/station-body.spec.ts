import { StationRegisteredV2 } from '@csms/contracts';
import { ApiProblem } from '@csms/service-kit';
import { parseStationBody } from './registry.controller';

const PASSWORD = 'correct-horse-battery-staple';
// the OCPI-shaped location and typed connector of the contract's own example
const location = StationRegisteredV2.example.location!;
const connector = StationRegisteredV2.example.evses[0].connectors[0];
const valid = {
  securityProfile: 1,
  password: PASSWORD,
  siteId: 'site-amsterdam-1',
  timeZone: 'Europe/Amsterdam',
  location,
  evses: [{ evseId: 1, emi3EvseId: 'NL*CSM*E001*1', connectors: [connector] }],
};

function problemOf(body: unknown, stationId = 'CP-001'): ApiProblem {
  try {
    parseStationBody(stationId, body);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiProblem);
    return e as ApiProblem;
  }
  throw new Error('expected a 400 problem, the body was accepted');
}

const withLocation = (change: Record<string, unknown>) => ({ ...valid, location: { ...location, ...change } });
const withConnector = (change: Record<string, unknown>) => ({
  ...valid,
  evses: [{ evseId: 1, connectors: [{ ...connector, ...change }] }],
});

describe('station body: location and connector types', () => {
  it('accepts a full OCPI location and typed connectors, and a station without any', () => {
    expect(parseStationBody('CP-001', valid)).toEqual(valid);
    expect(parseStationBody('CP-001', { securityProfile: 1, password: PASSWORD })).toEqual({
      securityProfile: 1,
      password: PASSWORD,
    });
    expect(parseStationBody('CP-001', { ...valid, location: null })).toMatchObject({ location: null });
    // the optional OCPI fields may be left out; the id defaults to the site id
    const { id: _id, name: _name, postal_code: _pc, ...minimal } = location;
    expect(
      parseStationBody('CP-001', {
        ...valid,
        location: minimal,
        evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }],
      }),
    ).toMatchObject({ location: minimal });
    expect(
      parseStationBody('CP-001', withLocation({ coordinates: { latitude: '-90.000000', longitude: '-180.00000' } })),
    ).toBeDefined();
  });

  it.each([
    // shape (the schema: OCPI lengths, enums, GeoLocation regexes)
    ['a country in lower case', withLocation({ country: 'nld' }), 'body/location/country'],
    ['an alpha-2 country', withLocation({ country: 'NL' }), 'body/location/country'],
    ['no address', withLocation({ address: undefined }), 'body/location/address'],
    ['an address over 45 characters', withLocation({ address: 'x'.repeat(46) }), 'body/location/address'],
    ['no city', withLocation({ city: undefined }), 'body/location/city'],
    ['a postal code over 10 characters', withLocation({ postal_code: '12345678901' }), 'body/location/postal_code'],
    ['a state over 20 characters', withLocation({ state: 'x'.repeat(21) }), 'body/location/state'],
    ['a location id over 36 characters', withLocation({ id: 'x'.repeat(37) }), 'body/location/id'],
    ['no coordinates', withLocation({ coordinates: undefined }), 'body/location/coordinates'],
    [
      'a latitude as a number',
      withLocation({ coordinates: { latitude: 52.36703, longitude: '4.900840' } }),
      'body/location/coordinates/latitude',
    ],
    [
      'a latitude with too few decimals',
      withLocation({ coordinates: { latitude: '52.3670', longitude: '4.900840' } }),
      'body/location/coordinates/latitude',
    ],
    [
      'a longitude with a comma',
      withLocation({ coordinates: { latitude: '52.367030', longitude: '4,900840' } }),
      'body/location/coordinates/longitude',
    ],
    ['a field OCPI does not have', withLocation({ floor: '2' }), 'body/location/floor'],
    ['an unknown connector standard', withConnector({ standard: 'TYPE_2' }), 'body/evses/0/connectors/0/standard'],
    ['an unknown connector format', withConnector({ format: 'PLUG' }), 'body/evses/0/connectors/0/format'],
    ['an unknown power type', withConnector({ power_type: 'AC' }), 'body/evses/0/connectors/0/power_type'],
    ['a max voltage of 0', withConnector({ max_voltage: 0 }), 'body/evses/0/connectors/0/max_voltage'],
    ['a fractional max amperage', withConnector({ max_amperage: 31.5 }), 'body/evses/0/connectors/0/max_amperage'],
    ['a negative max power', withConnector({ max_electric_power: -1 }), 'body/evses/0/connectors/0/max_electric_power'],
    [
      'an EVSE id that is not eMI3',
      { ...valid, evses: [{ evseId: 1, emi3EvseId: 'CP-001*1', connectors: [] }] },
      'body/evses/0/emi3EvseId',
    ],
    // meaning (what a schema cannot say)
    ['a country code nobody was assigned', withLocation({ country: 'XYZ' }), 'body/location/country'],
    [
      'a latitude above 90',
      withLocation({ coordinates: { latitude: '91.000000', longitude: '4.900840' } }),
      'body/location/coordinates/latitude',
    ],
    [
      'a latitude below -90',
      withLocation({ coordinates: { latitude: '-90.000001', longitude: '4.900840' } }),
      'body/location/coordinates/latitude',
    ],
    [
      'a longitude above 180',
      withLocation({ coordinates: { latitude: '52.367030', longitude: '180.000001' } }),
      'body/location/coordinates/longitude',
    ],
    [
      'a CCS connector on AC',
      withConnector({ standard: 'IEC_62196_T2_COMBO', power_type: 'AC_3_PHASE' }),
      'body/evses/0/connectors/0/power_type',
    ],
    [
      'a domestic socket on DC',
      withConnector({ standard: 'DOMESTIC_F', power_type: 'DC' }),
      'body/evses/0/connectors/0/power_type',
    ],
    [
      'an EVSE listed twice',
      {
        ...valid,
        evses: [
          { evseId: 1, connectors: [] },
          { evseId: 1, connectors: [] },
        ],
      },
      'body/evses/1/evseId',
    ],
    [
      'a connector listed twice',
      { ...valid, evses: [{ evseId: 1, connectors: [{ connectorId: 1 }, { connectorId: 1 }] }] },
      'body/evses/0/connectors/1/connectorId',
    ],
    [
      'no location id and a site id too long for OCPI',
      { ...valid, siteId: 's'.repeat(40), location: { ...location, id: undefined } },
      'body/location/id',
    ],
  ])('refuses %s with 400 and the field', (_what, body, field) => {
    const p = problemOf(JSON.parse(JSON.stringify(body)));
    expect(p.status).toBe(400);
    expect(p.code).toBe('VALIDATION_FAILED');
    expect(p.field).toBe(field);
  });

  it('names every wrong field, not only the first', () => {
    const p = problemOf(
      withLocation({ country: 'XYZ', coordinates: { latitude: '95.000000', longitude: '200.000000' } }),
    );
    expect((p.details as { errors: Array<{ field: string }> }).errors.map((e) => e.field)).toEqual([
      'body/location/country',
      'body/location/coordinates/latitude',
      'body/location/coordinates/longitude',
    ]);
  });
});
