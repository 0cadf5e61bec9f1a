import { defaultLocationId, stationLocationProblems } from './station-location';

const location = { country: 'NLD', coordinates: { latitude: '52.367030', longitude: '4.900840' } };

describe('station location rules', () => {
  it('finds nothing wrong with a valid location and typed connectors, or with none', () => {
    expect(
      stationLocationProblems({
        stationId: 'CP-1',
        location,
        evses: [{ evseId: 1, connectors: [{ connectorId: 1, standard: 'IEC_62196_T2', power_type: 'AC_3_PHASE' }] }],
      }),
    ).toEqual([]);
    expect(stationLocationProblems({ stationId: 'CP-1' })).toEqual([]);
    expect(stationLocationProblems({ stationId: 'CP-1', location: null, evses: [] })).toEqual([]);
  });

  it.each([
    ['an unassigned country', { location: { ...location, country: 'XYZ' } }, '/location/country'],
    [
      'latitude 90.000001',
      { location: { ...location, coordinates: { latitude: '90.000001', longitude: '0.000000' } } },
      '/location/coordinates/latitude',
    ],
    [
      'longitude -180.000001',
      { location: { ...location, coordinates: { latitude: '0.000000', longitude: '-180.000001' } } },
      '/location/coordinates/longitude',
    ],
    [
      'CHAdeMO on AC',
      { evses: [{ evseId: 1, connectors: [{ connectorId: 1, standard: 'CHADEMO', power_type: 'AC_1_PHASE' }] }] },
      '/evses/0/connectors/0/power_type',
    ],
    [
      'a NEMA plug on DC',
      { evses: [{ evseId: 1, connectors: [{ connectorId: 1, standard: 'NEMA_14_50', power_type: 'DC' }] }] },
      '/evses/0/connectors/0/power_type',
    ],
    [
      'a duplicate EVSE',
      {
        evses: [
          { evseId: 2, connectors: [] },
          { evseId: 2, connectors: [] },
        ],
      },
      '/evses/1/evseId',
    ],
    [
      'a duplicate connector',
      { evses: [{ evseId: 1, connectors: [{ connectorId: 3 }, { connectorId: 3 }] }] },
      '/evses/0/connectors/1/connectorId',
    ],
    ['a default location id over 36 characters', { siteId: 'x'.repeat(37), location }, '/location/id'],
  ] as const)('names the field of %s', (_what, input, field) => {
    expect(
      stationLocationProblems({ stationId: 'CP-1', ...input } as Parameters<typeof stationLocationProblems>[0]).map(
        (p) => p.field,
      ),
    ).toEqual([field]);
  });

  it('accepts the bounds, Type 2 on AC or DC, and a long site id when the location id is given', () => {
    expect(
      stationLocationProblems({
        stationId: 'CP-1',
        location: { ...location, coordinates: { latitude: '-90.000000', longitude: '180.000000' } },
      }),
    ).toEqual([]);
    expect(
      stationLocationProblems({
        stationId: 'CP-1',
        evses: [{ evseId: 1, connectors: [{ connectorId: 1, standard: 'IEC_62196_T2', power_type: 'DC' }] }],
      }),
    ).toEqual([]);
    expect(
      stationLocationProblems({ stationId: 'CP-1', siteId: 'x'.repeat(37), location: { ...location, id: 'LOC-1' } }),
    ).toEqual([]);
  });

  it('defaults the location id to the site id, else the station id', () => {
    expect(defaultLocationId('CP-1', 'site-1')).toBe('site-1');
    expect(defaultLocationId('CP-1', null)).toBe('CP-1');
    expect(defaultLocationId('CP-1', 'site-1', 'LOC-9')).toBe('LOC-9');
  });
});
