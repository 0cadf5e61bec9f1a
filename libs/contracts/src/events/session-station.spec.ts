import fc from 'fast-check';
import {
  EMI3_EVSE_ID_PATTERN,
  OCPI_CONNECTOR_FORMATS,
  OCPI_CONNECTOR_TYPES,
  OCPI_POWER_TYPES,
  OcppMessageReceivedV1,
  SessionEndedV1,
  SessionEndedV2,
  SessionStartedV1,
  StationRegisteredV2,
  deriveId,
  sessionConnectorOf,
  sessionStationOf,
  systemCatalogue,
  type Envelope,
  type RegistryConnector,
  type RegistryEvse,
  type SessionPlace,
  type StationAsAnswered,
} from '../index';
import { contractError, specEnvelope } from './spec-helpers';

const catalogue = systemCatalogue();

function envelope(type: string, version: number, payload: unknown): Envelope {
  return specEnvelope(type, version, payload, {
    key: 'k',
    source: 'test',
    id: deriveId('session-station-spec', type, version),
  });
}

const t2: RegistryConnector = { connectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', power_type: 'AC_3_PHASE' };
const ccs: RegistryConnector = { connectorId: 1, standard: 'IEC_62196_T2_COMBO', format: 'CABLE', power_type: 'DC' };
/** EVSE 1: one Type 2 socket (eMI3 id); EVSE 2: a CCS cable (1) and a Type 2 socket (2); EVSE 3: one connector numbered 3. */
const evses: RegistryEvse[] = [
  { evseId: 1, emi3EvseId: 'NL*CSM*E001*1', connectors: [t2] },
  { evseId: 2, connectors: [ccs, { ...t2, connectorId: 2 }] },
  { evseId: 3, connectors: [{ ...t2, connectorId: 3 }] },
];
const facts: StationAsAnswered = {
  revision: 7,
  siteId: 'site-amsterdam-1',
  timeZone: 'Europe/Amsterdam',
  location: StationRegisteredV2.example.location,
  evses,
};

describe('sessionConnectorOf: the EVSE and connector a session used, in the registry numbering', () => {
  it.each<[string, readonly RegistryEvse[] | undefined, SessionPlace, number, number | undefined, number, unknown]>([
    ['1.6 connector 1: EVSE 1, connector 1', evses, { protocol: 'ocpp1.6', connectorId: 1 }, 1, 1, 1, t2],
    ['1.6 connector 2: EVSE 2, connector 1 (not 2)', evses, { protocol: 'ocpp1.6', connectorId: 2 }, 2, 2, 1, ccs],
    ['1.6 without a connector: EVSE 1, connector 1', evses, { protocol: 'ocpp1.6' }, 1, 1, 1, t2],
    [
      '1.6 connector 3: EVSE 3, whose only connector is 3, not 1: no connector, 1 stated',
      evses,
      { protocol: 'ocpp1.6', connectorId: 3 },
      3,
      3,
      1,
      undefined,
    ],
    [
      '2.0.1 EVSE 2 connector 2: as reported',
      evses,
      { protocol: 'ocpp2.0.1', evseId: 2, connectorId: 2 },
      2,
      2,
      2,
      { ...t2, connectorId: 2 },
    ],
    [
      '2.0.1 EVSE 3 without a connector: its only connector (3)',
      evses,
      { protocol: 'ocpp2.0.1', evseId: 3 },
      3,
      3,
      3,
      { ...t2, connectorId: 3 },
    ],
    [
      '2.0.1 EVSE 2 without a connector, two on it: none, connector 1 stated',
      evses,
      { protocol: 'ocpp2.0.1', evseId: 2 },
      2,
      2,
      1,
      undefined,
    ],
    [
      '2.0.1 a connector the EVSE has not: none, the number as reported',
      evses,
      { protocol: 'ocpp2.0.1', evseId: 1, connectorId: 4 },
      1,
      1,
      4,
      undefined,
    ],
    [
      '2.0.1 an EVSE the registry does not know',
      evses,
      { protocol: 'ocpp2.0.1', evseId: 9, connectorId: 2 },
      9,
      undefined,
      2,
      undefined,
    ],
    [
      '1.6 a connector the registry does not know',
      evses,
      { protocol: 'ocpp1.6', connectorId: 9 },
      9,
      undefined,
      1,
      undefined,
    ],
    [
      'no EVSEs known at all (station unknown)',
      undefined,
      { protocol: 'ocpp2.0.1', evseId: 1 },
      1,
      undefined,
      1,
      undefined,
    ],
  ])('%s', (_what, list, place, evseNo, evseId, connectorNo, connector) => {
    const r = sessionConnectorOf(list, place);
    expect(r.evseNo).toBe(evseNo);
    expect(r.evse?.evseId).toBe(evseId);
    expect(r.connectorNo).toBe(connectorNo);
    expect(r.connector).toEqual(connector);
  });
});

describe('sessionStationOf: the station facts narrowed to the session EVSE and connector', () => {
  it('keeps revision, site, time zone and location, and only the session EVSE with only its connector', () => {
    expect(sessionStationOf(facts, { protocol: 'ocpp2.0.1', evseId: 2, connectorId: 2 })).toEqual({
      revision: 7,
      siteId: 'site-amsterdam-1',
      timeZone: 'Europe/Amsterdam',
      location: StationRegisteredV2.example.location,
      evses: [{ evseId: 2, connectors: [{ ...t2, connectorId: 2 }] }],
    });
    expect(sessionStationOf(facts, { protocol: 'ocpp1.6', connectorId: 1 }).evses).toEqual([evses[0]]);
  });

  it.each<[string, SessionPlace, unknown[]]>([
    ['an EVSE the registry had not: no EVSE', { protocol: 'ocpp2.0.1', evseId: 9 }, []],
    [
      '2.0.1 no connector named, two on the EVSE: the EVSE without connectors',
      { protocol: 'ocpp2.0.1', evseId: 2 },
      [{ evseId: 2, connectors: [] }],
    ],
  ])('%s', (_what, place, narrowed) => {
    expect(sessionStationOf(facts, place).evses).toEqual(narrowed);
  });

  // random registry EVSE lists (ids may repeat: the schema does not forbid it) and random places, with ids in a small
  // range so that places hit and miss EVSEs and connectors alike
  const connectorArb: fc.Arbitrary<RegistryConnector> = fc.record(
    {
      connectorId: fc.integer({ min: 1, max: 3 }),
      standard: fc.constantFrom(...OCPI_CONNECTOR_TYPES),
      format: fc.constantFrom(...OCPI_CONNECTOR_FORMATS),
      power_type: fc.constantFrom(...OCPI_POWER_TYPES),
      max_voltage: fc.integer({ min: 1, max: 100_000 }),
      max_amperage: fc.integer({ min: 1, max: 100_000 }),
      max_electric_power: fc.integer({ min: 1, max: 100_000_000 }),
    },
    { requiredKeys: ['connectorId'] },
  );
  const evseArb: fc.Arbitrary<RegistryEvse> = fc.record(
    {
      evseId: fc.integer({ min: 1, max: 4 }),
      emi3EvseId: fc.stringMatching(new RegExp(EMI3_EVSE_ID_PATTERN)).filter((id) => id.length <= 48),
      connectors: fc.array(connectorArb, { maxLength: 3 }),
    },
    { requiredKeys: ['evseId', 'connectors'] },
  );
  const factsArb: fc.Arbitrary<StationAsAnswered> = fc.record({
    revision: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    siteId: fc.option(fc.string({ minLength: 1, maxLength: 100 }), { nil: null }),
    timeZone: fc.constantFrom('Europe/Amsterdam', 'America/New_York', 'UTC'),
    location: fc.constantFrom(null, StationRegisteredV2.example.location),
    evses: fc.array(evseArb, { maxLength: 5 }),
  });
  const placeArb: fc.Arbitrary<SessionPlace> = fc.record(
    {
      protocol: fc.constantFrom('ocpp1.6' as const, 'ocpp2.0.1' as const),
      evseId: fc.integer({ min: 0, max: 5 }),
      connectorId: fc.integer({ min: 0, max: 4 }),
    },
    { requiredKeys: ['protocol'] },
  );

  it('property: sessionConnectorOf over the narrowed facts finds what it finds over the whole list', () => {
    fc.assert(
      fc.property(factsArb, placeArb, (f, p) => {
        const whole = sessionConnectorOf(f.evses, p);
        const narrowed = sessionStationOf(f, p);
        const part = sessionConnectorOf(narrowed.evses, p);
        expect(part.evseNo).toBe(whole.evseNo);
        expect(part.connectorNo).toBe(whole.connectorNo);
        expect(part.evse?.evseId).toBe(whole.evse?.evseId);
        expect(part.evse?.emi3EvseId).toBe(whole.evse?.emi3EvseId);
        expect(part.connector).toEqual(whole.connector);
        // at most one EVSE with at most one connector, the rest of the facts as they were
        expect(narrowed.evses.length).toBeLessThanOrEqual(1);
        expect(narrowed.evses[0]?.connectors.length ?? 0).toBeLessThanOrEqual(1);
        expect({ ...narrowed, evses: f.evses }).toEqual(f);
      }),
      { numRuns: 500 },
    );
  });

  it('property: the facts validate as recorded on ocpp.message_received, the narrowed ones on session.ended v2', () => {
    const { connectorId: _c, ...example } = SessionEndedV2.example;
    fc.assert(
      fc.property(factsArb, placeArb, (f, p) => {
        catalogue.check(envelope('ocpp.message_received', 1, { ...OcppMessageReceivedV1.example, station: f }));
        catalogue.check(envelope('session.ended', 2, { ...example, ...p, station: sessionStationOf(f, p) }));
      }),
      { numRuns: 200 },
    );
  });
});

describe('station facts on the session events (SessionStationSchema)', () => {
  const station = sessionStationOf(facts, { protocol: 'ocpp1.6', connectorId: 1 });

  it.each([
    ['session.started', 1, SessionStartedV1.example],
    ['session.ended', 1, SessionEndedV1.example],
    ['session.ended', 2, SessionEndedV2.example],
  ] as const)('%s v%d with station facts is valid', (type, version, example) => {
    expect(() => catalogue.check(envelope(type, version, { ...example, station }))).not.toThrow();
  });

  it('a session.ended v1 with station facts is read as v2 with the same facts', () => {
    const env = catalogue.parse(envelope('session.ended', 1, { ...SessionEndedV1.example, station }));
    expect(env.version).toBe(2);
    expect((env.payload as { station?: unknown }).station).toEqual(station);
  });

  it('a station without a site nor a location is valid (null)', () => {
    const bare = { ...station, siteId: null, location: null, evses: [] };
    expect(() =>
      catalogue.check(envelope('session.ended', 2, { ...SessionEndedV2.example, station: bare })),
    ).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['two EVSEs (the whole list, not narrowed)', { evses: evses.slice(0, 2) }, '/payload/station/evses'],
    ['an EVSE with two connectors', { evses: [evses[1]] }, '/payload/station/evses/0/connectors'],
    ['revision 0', { revision: 0 }, '/payload/station/revision'],
    ['an empty time zone', { timeZone: '' }, '/payload/station/timeZone'],
    ['a site id longer than 100', { siteId: 'x'.repeat(101) }, '/payload/station/siteId'],
    ['an unknown property', { stationId: 'CP-001' }, '/payload/station/stationId'],
  ])('session.ended v2 refuses station facts with %s', (_what, change, field) => {
    const payload = { ...SessionEndedV2.example, station: { ...station, ...change } };
    const err = contractError(() => catalogue.check(envelope('session.ended', 2, payload)));
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.field).toBe(field);
  });
});
