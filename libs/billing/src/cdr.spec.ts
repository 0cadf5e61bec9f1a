import {
  CdrCreatedV4,
  SessionEndedV2,
  StationRegisteredV2,
  deriveId,
  sessionStationOf,
  systemCatalogue,
  type OcpiTariffDocument,
} from '@csms/contracts';
import { buildCdr, cdrLocationOf, type PricingContext } from './cdr';
import { sessionStationFacts, type StationFacts } from './facts';
import type { SessionEndedPayload } from './to-pricing-session';

const tariff: OcpiTariffDocument = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'AC-1',
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
  last_updated: '2026-01-01T00:00:00Z',
};

// the contract example's location, under another location id
const location = { ...StationRegisteredV2.example.location!, id: 'LOC-AMS-1' };
const t2 = {
  standard: 'IEC_62196_T2',
  format: 'SOCKET',
  power_type: 'AC_3_PHASE',
  max_voltage: 400,
  max_amperage: 32,
  max_electric_power: 22000,
} as const;
const ccs = { standard: 'IEC_62196_T2_COMBO', format: 'CABLE', power_type: 'DC' } as const;

/** A registered station: EVSE 1 (eMI3 id, one Type 2 socket), EVSE 2 (CCS cable and a Type 2 socket). */
const station: StationFacts = {
  siteId: 'site-ams',
  timeZone: 'Europe/Amsterdam',
  location,
  evses: [
    { evseId: 1, emi3EvseId: 'NL*CSM*E001*1', connectors: [{ connectorId: 1, ...t2 }] },
    {
      evseId: 2,
      connectors: [
        { connectorId: 1, ...ccs },
        { connectorId: 2, ...t2 },
      ],
    },
  ],
};

const session16 = (connectorId = 1): SessionEndedPayload => ({
  ...SessionEndedV2.example,
  stationId: 'CP-001',
  protocol: 'ocpp1.6',
  connectorId,
});
const session201 = (evseId: number, connectorId?: number): SessionEndedPayload => {
  const { connectorId: _c, ...rest } = SessionEndedV2.example;
  return {
    ...rest,
    stationId: 'CP-001',
    protocol: 'ocpp2.0.1',
    transactionId: 'tx-1',
    evseId,
    ...(connectorId === undefined ? {} : { connectorId }),
  };
};

function ctx(session: SessionEndedPayload, facts: StationFacts | undefined): PricingContext {
  return {
    session,
    source: { eventId: deriveId('src'), topic: 'session.events', partition: 0, offset: '1' },
    station: facts,
    assignments: [
      {
        assignmentId: 'asg-default',
        tariffId: tariff.id,
        scope: { kind: 'default' },
        effectiveFrom: '2026-01-01T00:00:00Z',
        sequence: 1,
        removed: false,
      },
    ],
    versions: [
      {
        tariffId: tariff.id,
        version: 1,
        effectiveFrom: '2026-01-01T00:00:00Z',
        publishedAt: '2026-01-01T00:00:00Z',
        contentHash: 'a'.repeat(64),
        tariff,
      },
    ],
    cpo: { countryCode: 'NL', partyId: 'CSM' },
    defaultTimeZone: 'UTC',
    rounding: 'HALF_UP',
  };
}

const catalogue = systemCatalogue();

function priced(session: SessionEndedPayload, facts: StationFacts | undefined) {
  const out = buildCdr(ctx(session, facts));
  if (out.kind !== 'priced') throw new Error(`not priced: ${out.code}`);
  // the result is a valid cdr.created (closed cdr_location schema)
  catalogue.create(CdrCreatedV4, {
    id: deriveId('cdr', out.cdr.id),
    key: session.sessionId,
    occurredAt: session.endedAt,
    source: 'test',
    payload: { cdr: out.cdr, audit: out.audit, billingAccountId: null },
  });
  return out;
}

describe('cdr_location', () => {
  it('with a registered location: every OCPI CdrLocation field, from the station and the connector used', () => {
    const { cdr, audit } = priced(session16(1), station);
    expect(cdr.cdr_location).toEqual({
      id: 'LOC-AMS-1',
      name: 'Stadhuis garage',
      address: 'Amstel 1',
      city: 'Amsterdam',
      postal_code: '1011 PN',
      country: 'NLD',
      coordinates: { latitude: '52.367030', longitude: '4.900840' },
      evse_uid: 'CP-001*1',
      evse_id: 'NL*CSM*E001*1',
      connector_id: '1',
      connector_standard: 'IEC_62196_T2',
      connector_format: 'SOCKET',
      connector_power_type: 'AC_3_PHASE',
    });
    expect(audit.dataQuality).toBeUndefined();
    expect(cdr.total_cost).toEqual({ excl_vat: '6.00', incl_vat: '7.26' });
  });

  it('OCPP 1.6 connector N is EVSE N with connector 1; evse_id falls back to the evse_uid without an eMI3 id', () => {
    const { location: l, missing } = cdrLocationOf(session16(2), station);
    expect(l).toMatchObject({
      evse_uid: 'CP-001*2',
      evse_id: 'CP-001*2',
      connector_id: '1',
      connector_standard: 'IEC_62196_T2_COMBO',
      connector_format: 'CABLE',
      connector_power_type: 'DC',
    });
    expect(missing).toEqual([]);
  });

  it('OCPP 2.0.1: the reported EVSE and connector; an EVSE with one connector when the session names none', () => {
    expect(cdrLocationOf(session201(2, 2), station).location).toMatchObject({
      evse_uid: 'CP-001*2',
      connector_id: '2',
      connector_standard: 'IEC_62196_T2',
      connector_power_type: 'AC_3_PHASE',
    });
    expect(cdrLocationOf(session201(1), station).location).toMatchObject({
      evse_uid: 'CP-001*1',
      evse_id: 'NL*CSM*E001*1',
      connector_id: '1',
      connector_standard: 'IEC_62196_T2',
    });
    // two connectors and none named: the connector type is unknown, and said so
    const ambiguous = cdrLocationOf(session201(2), station);
    expect(ambiguous.location).toMatchObject({ evse_uid: 'CP-001*2', connector_id: '1', address: 'Amstel 1' });
    expect(ambiguous.location.connector_standard).toBeUndefined();
    expect(ambiguous.missing).toEqual(['connector_standard', 'connector_format', 'connector_power_type']);
  });

  it('without a location (station unknown to the registry): still priced, ids only, LOCATION_INCOMPLETE with every missing field', () => {
    const { cdr, audit } = priced(session16(1), undefined);
    expect(cdr.cdr_location).toEqual({ id: 'CP-001', evse_uid: 'CP-001*1', evse_id: 'CP-001*1', connector_id: '1' });
    expect(cdr.total_cost).toEqual({ excl_vat: '6.00', incl_vat: '7.26' });
    expect(audit.dataQuality).toEqual({
      flags: ['LOCATION_INCOMPLETE'],
      missingLocationFields: [
        'address',
        'city',
        'country',
        'coordinates',
        'connector_standard',
        'connector_format',
        'connector_power_type',
      ],
    });
  });

  it('a station registered without location (old registration): the site id as location id, connector types when known', () => {
    const { cdr, audit } = priced(session16(1), { ...station, location: null });
    expect(cdr.cdr_location).toEqual({
      id: 'site-ams',
      evse_uid: 'CP-001*1',
      evse_id: 'NL*CSM*E001*1',
      connector_id: '1',
      connector_standard: 'IEC_62196_T2',
      connector_format: 'SOCKET',
      connector_power_type: 'AC_3_PHASE',
    });
    expect(audit.dataQuality).toEqual({
      flags: ['LOCATION_INCOMPLETE'],
      missingLocationFields: ['address', 'city', 'country', 'coordinates'],
    });
  });

  it('a location without connector types (connectors only reported by the station): the connector fields are missing', () => {
    const { audit, cdr } = priced(session16(1), {
      ...station,
      evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }],
    });
    expect(cdr.cdr_location).toMatchObject({ id: 'LOC-AMS-1', country: 'NLD', evse_id: 'CP-001*1' });
    expect(audit.dataQuality).toEqual({
      flags: ['LOCATION_INCOMPLETE'],
      missingLocationFields: ['connector_standard', 'connector_format', 'connector_power_type'],
    });
  });

  it('ids longer than OCPI allows become a name-based UUID of the readable id (deterministic)', () => {
    const longId = `STATION-${'X'.repeat(34)}`; // 42 characters: a valid OCPP identity
    const s = { ...session16(1), stationId: longId };
    const a = cdrLocationOf(s, undefined).location;
    expect(a.id).toBe(deriveId('ocpi-id', 'location', longId));
    expect(a.evse_uid).toBe(deriveId('ocpi-id', 'evse_uid', `${longId}*1`));
    expect(a.evse_id).toBe(`${longId}*1`); // 44 <= 48
    expect(cdrLocationOf(s, undefined).location).toEqual(a);
    priced(s, undefined);
  });

  it('the same inputs give the same bytes', () => {
    expect(JSON.stringify(priced(session16(2), station))).toBe(JSON.stringify(priced(session16(2), station)));
  });
});

describe('cdr_location from the station facts as the session carries them (narrowed to its EVSE and connector)', () => {
  // the same registry data, as answered at the start and carried on the session, against the whole EVSE list
  const answered = { revision: 5, ...station };
  it.each<[string, SessionEndedPayload]>([
    ['1.6 connector 1 (EVSE 1 with an eMI3 id)', session16(1)],
    ['1.6 connector 2 (EVSE 2, its connector 1)', session16(2)],
    ['1.6 a connector the registry does not know', session16(7)],
    ['2.0.1 EVSE 2 connector 2', session201(2, 2)],
    ['2.0.1 EVSE 2 connector 1', session201(2, 1)],
    ['2.0.1 EVSE 1, no connector named, its only one', session201(1)],
    ['2.0.1 EVSE 2, no connector named, two on it', session201(2)],
    ['2.0.1 a connector EVSE 1 has not', session201(1, 3)],
    ['2.0.1 an EVSE the registry does not know', session201(9, 1)],
  ])('%s: the same as from the whole list (narrowing loses nothing)', (_what, s) => {
    const recorded = sessionStationOf(answered, s);
    expect(recorded.evses.length).toBeLessThanOrEqual(1);
    const fromRecorded = cdrLocationOf(s, sessionStationFacts(recorded, undefined));
    expect(fromRecorded).toEqual(cdrLocationOf(s, station));
    // and the whole CDR and audit: the narrowed facts price and describe the session the same
    expect(priced(s, sessionStationFacts(recorded, undefined))).toEqual(priced(s, station));
  });

  it('the recorded facts win over a copy that differs', () => {
    const recorded = sessionStationOf(answered, session16(1));
    const moved: StationFacts = { ...station, location: { ...location, id: 'LOC-RTM-1', address: 'Coolsingel 40' } };
    expect(cdrLocationOf(session16(1), sessionStationFacts(recorded, moved))).toEqual(
      cdrLocationOf(session16(1), station),
    );
    expect(cdrLocationOf(session16(1), sessionStationFacts(undefined, moved)).location).toMatchObject({
      id: 'LOC-RTM-1',
      address: 'Coolsingel 40',
    });
  });
});

describe('tariff selection by OCPI validity window', () => {
  // The contract example session starts 2026-03-01T10:00:00Z.
  const promo: OcpiTariffDocument = {
    ...tariff,
    id: 'PROMO',
    elements: [{ price_components: [{ type: 'ENERGY', price: 0.1, vat: 21, step_size: 1 }] }],
  };
  const withPromo = (window: { start_date_time?: string; end_date_time?: string }): PricingContext => {
    const base = ctx(session16(1), station);
    const p = { ...promo, ...window };
    return {
      ...base,
      assignments: [
        ...base.assignments,
        {
          assignmentId: 'asg-promo',
          tariffId: 'PROMO',
          scope: { kind: 'default' },
          effectiveFrom: '2026-02-01T00:00:00Z',
          sequence: 2,
          removed: false,
        },
      ],
      versions: [
        ...base.versions,
        {
          tariffId: 'PROMO',
          version: 1,
          effectiveFrom: '2026-02-01T00:00:00Z',
          publishedAt: '2026-02-01T00:00:00Z',
          contentHash: 'b'.repeat(64),
          tariff: p,
        },
      ],
    };
  };

  it('a later assignment whose tariff has expired is passed over (said in the audit), the earlier one prices the session', () => {
    const out = buildCdr(withPromo({ start_date_time: '2026-02-01T00:00:00Z', end_date_time: '2026-03-01T00:00:00Z' }));
    if (out.kind !== 'priced') throw new Error(`not priced: ${out.code}`);
    expect(out.audit.tariffId).toBe('AC-1');
    expect(out.cdr.total_cost).toEqual({ excl_vat: '6.00', incl_vat: '7.26' });
    expect(out.audit.assignment).toMatchObject({
      assignmentId: 'asg-default',
      skipped: [
        {
          assignmentId: 'asg-promo',
          tariffId: 'PROMO',
          version: 1,
          level: 'default',
          reason: 'EXPIRED',
          end_date_time: '2026-03-01T00:00:00Z',
        },
      ],
    });
    catalogue.create(CdrCreatedV4, {
      id: deriveId('cdr', out.cdr.id),
      key: 'k',
      occurredAt: '2026-03-01T11:00:00Z',
      source: 'test',
      payload: { cdr: out.cdr, audit: out.audit, billingAccountId: null },
    });
  });

  it('while the later tariff is valid it prices the session, and the audit has no skipped list', () => {
    const out = buildCdr(withPromo({ end_date_time: '2026-04-01T00:00:00Z' }));
    if (out.kind !== 'priced') throw new Error(`not priced: ${out.code}`);
    expect(out.audit.tariffId).toBe('PROMO');
    expect(out.audit.assignment).not.toHaveProperty('skipped');
  });

  it('no valid tariff at all: an explicit NO_VALID_TARIFF failure, never a free CDR', () => {
    const base = withPromo({ end_date_time: '2026-03-01T00:00:00Z' });
    const out = buildCdr({ ...base, assignments: base.assignments.filter((a) => a.tariffId === 'PROMO') });
    expect(out).toMatchObject({ kind: 'failed', code: 'NO_VALID_TARIFF', detail: expect.stringContaining('PROMO v1') });
  });
});
