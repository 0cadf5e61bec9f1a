import {
  CdrCreatedV1,
  SESSION_ENDED_LIMITS,
  SessionEndedV1,
  boundPeriods,
  boundSignedMeterValues,
  boundTimeline,
  deriveId,
  sourceHash,
  sourceRanges,
  systemCatalogue,
  type Envelope,
} from '../index';

const catalogue = systemCatalogue();
const L = SESSION_ENDED_LIMITS;
const KB = 1024;

function envelope(type: string, version: number, payload: unknown): Envelope {
  return {
    id: deriveId('bounds-spec', type, version),
    type,
    version,
    occurredAt: '2026-03-01T11:00:00.000Z',
    key: 'k',
    source: 'test',
    causationId: null,
    correlationId: null,
    payload,
  };
}

/** A JSON string of `n` characters that each take 6 bytes encoded (\u0001): the worst a free string can do. */
const worst = (n: number) => '\u0001'.repeat(n);
const digits = (n: number) => '9'.repeat(n);
const instant = '2026-03-01T10:00:00.123456789+01:00'; // 35 characters

/** The largest session.ended v2 the limits allow (every list full, every string at its longest and worst). */
function largestSessionEnded(): unknown {
  const dec = digits(40);
  const signedValue = (i: number) => {
    const v = {
      at: instant,
      context: 'Transaction.Begin',
      measurand: 'Energy.Active.Import.Register',
      signed: { format: 'ocpp1.6-SignedData', data: '' },
    };
    const room = L.signedMeterValueBytes - Buffer.byteLength(JSON.stringify(v));
    return { ...v, signed: { ...v.signed, data: `${i}${'x'.repeat(room - 1)}` } };
  };
  const registryFacts = { revision: Number.MAX_SAFE_INTEGER, groupId: worst(36), billingAccountId: worst(100) };
  // the station facts as answered at the start: every free string at its longest and worst; the patterned ones at the
  // longest their pattern and maxLength allow; one EVSE with one connector (SessionStationSchema), every field set
  const station = {
    revision: Number.MAX_SAFE_INTEGER,
    siteId: worst(100),
    timeZone: worst(64),
    location: {
      id: worst(36),
      name: worst(255),
      address: worst(45),
      city: worst(45),
      postal_code: worst(10),
      state: worst(20),
      country: 'NLD', // ^[A-Z]{3}$
      // ^-?[0-9]{1,2}\.[0-9]{5,7}$ within maxLength 10; ^-?[0-9]{1,3}\.[0-9]{5,7}$ within maxLength 11
      coordinates: { latitude: '-89.999999', longitude: '-179.999999' },
    },
    evses: [
      {
        evseId: Number.MAX_SAFE_INTEGER,
        // EMI3_EVSE_ID_PATTERN: 2 + * + 3 + * + E + 30 = 38 characters, the most it matches (maxLength 48)
        emi3EvseId: `NL*CSM*E${'9'.repeat(30)}`,
        connectors: [
          {
            connectorId: Number.MAX_SAFE_INTEGER,
            standard: 'IEC_60309_2_single_16', // the longest OCPI ConnectorType
            format: 'SOCKET',
            power_type: 'AC_2_PHASE_SPLIT', // the longest OCPI PowerType
            max_voltage: 100_000,
            max_amperage: 100_000,
            max_electric_power: 100_000_000,
          },
        ],
      },
    ],
  };
  return {
    sessionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
    stationId: worst(255),
    protocol: 'ocpp2.0.1',
    transactionId: worst(64),
    evseId: Number.MAX_SAFE_INTEGER,
    connectorId: Number.MAX_SAFE_INTEGER,
    revision: Number.MAX_SAFE_INTEGER,
    closure: 'incomplete-timeout',
    startedAt: instant,
    endedAt: instant,
    stoppedReason: worst(64),
    idToken: { idToken: worst(255), type: worst(50), registry: registryFacts },
    stopIdToken: { idToken: worst(255), type: worst(50), registry: registryFacts },
    station,
    meterStartWh: dec,
    meterStopWh: dec,
    totals: { energyWh: dec, energyKwh: dec, timeSeconds: dec, chargingTimeSeconds: dec, parkingTimeSeconds: dec },
    chargingPeriods: Array.from({ length: L.chargingPeriods }, () => ({
      startDateTime: instant,
      endDateTime: instant,
      chargingState: 'SuspendedEVSE',
      category: 'SUSPENDED_EVSE',
      energyWh: dec,
      durationSeconds: dec,
      maxPowerW: dec,
      maxPowerDerived: true,
      maxCurrentA: dec,
      dimensions: Array.from({ length: 4 }, () => ({ type: 'PARKING_TIME', volume: dec })),
    })),
    energyTimeline: Array.from({ length: L.timelinePoints }, () => ({
      at: '2026-03-01T10:00:00.000Z',
      cumulativeWh: digits(20),
    })),
    energyTimelineResolution: {
      mode: 'resampled',
      gridSeconds: Number.MAX_SAFE_INTEGER,
      points: Number.MAX_SAFE_INTEGER,
    },
    signedMeterValues: Array.from({ length: L.signedMeterValues }, (_, i) => signedValue(i)),
    signedMeterValuesOmitted: Number.MAX_SAFE_INTEGER,
    dataQuality: {
      flags: Array.from({ length: 32 }, () => 'A'.repeat(40)),
      needsReview: false,
      estimated: false,
      missingSeqNos: Array.from({ length: L.missingSeqNos }, () => Number.MAX_SAFE_INTEGER),
      duplicatesIgnored: Number.MAX_SAFE_INTEGER,
    },
    sources: Array.from({ length: L.sourceRanges }, () => ({
      topic: 'a'.repeat(249),
      partition: Number.MAX_SAFE_INTEGER,
      firstOffset: digits(20),
      lastOffset: digits(20),
      count: Number.MAX_SAFE_INTEGER,
      sha256: 'f'.repeat(64),
    })),
  };
}

describe('the size bound of session.ended v2 and cdr.created v2', () => {
  it('the largest session.ended v2 the schema and the limits allow is valid and encodes to under 256 KB', () => {
    const env = catalogue.check(envelope('session.ended', 2, largestSessionEnded()));
    const bytes = Buffer.byteLength(catalogue.encode(env), 'utf8');
    // the figure stated in libs/sessions/README.md ("Size bound")
    expect(bytes).toBeLessThan(256 * KB);
    // 226,353 before the station facts as answered at the start; 224,569 before the registry facts of the two id tokens
    expect(bytes).toBe(230_332);
  });

  it('one more of anything the limits count is refused', () => {
    const p = largestSessionEnded() as Record<string, unknown[]>;
    for (const [field, extra] of [
      ['chargingPeriods', p.chargingPeriods[0]],
      ['energyTimeline', p.energyTimeline[0]],
      ['signedMeterValues', p.signedMeterValues[0]],
      ['sources', p.sources[0]],
    ] as const) {
      const over = { ...p, [field]: [...p[field], extra] };
      expect(() => catalogue.check(envelope('session.ended', 2, over))).toThrow(
        expect.objectContaining({ code: 'INVALID_PAYLOAD', field: `/payload/${field}` }),
      );
    }
    // the station facts: one EVSE with one connector at most, however many the station has
    const station = p.station as unknown as { evses: Array<{ connectors: unknown[] }> };
    const [evse] = station.evses;
    for (const [field, over] of [
      ['station/evses', { ...station, evses: [evse, evse] }],
      [
        'station/evses/0/connectors',
        { ...station, evses: [{ ...evse, connectors: [...evse.connectors, ...evse.connectors] }] },
      ],
    ] as const) {
      expect(() => catalogue.check(envelope('session.ended', 2, { ...p, station: over }))).toThrow(
        expect.objectContaining({ code: 'INVALID_PAYLOAD', field: `/payload/${field}` }),
      );
    }
  });
});

describe('source ranges', () => {
  it('are one range per topic and partition, in offset order (numeric), with the count and the hash of the ids in that order', () => {
    const refs = [
      { eventId: 'b', topic: 'ocpp.inbound', partition: 1, offset: '10' },
      { eventId: 'a', topic: 'ocpp.inbound', partition: 1, offset: '9' },
      { eventId: 'c', topic: 'ocpp.inbound', partition: 0, offset: '100' },
      { eventId: 'a', topic: 'ocpp.inbound', partition: 1, offset: '9' }, // the same record twice counts once
      { eventId: 'z' }, // no log position: a range of its own, arrival order
    ];
    expect(sourceRanges(refs)).toEqual([
      { count: 1, sha256: sourceHash(['z']) },
      {
        topic: 'ocpp.inbound',
        partition: 0,
        firstOffset: '100',
        lastOffset: '100',
        count: 1,
        sha256: sourceHash(['c']),
      },
      {
        topic: 'ocpp.inbound',
        partition: 1,
        firstOffset: '9',
        lastOffset: '10',
        count: 2,
        sha256: sourceHash(['a', 'b']),
      },
    ]);
  });

  it('hash: SHA-256 of each id followed by a newline (the recipe an auditor recomputes)', () => {
    expect(sourceHash(['7c9e6679-7425-50de-944b-e07fc1f90ae7'])).toBe(
      'aa97426dec509285fb92fd359a5ac1d4280477eac0b1bcefc391a941b65c3e34',
    );
    expect(sourceHash([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('energy timeline', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 2, 1, 10) + s * 1000).toISOString();
  // 2,001 readings 3 s apart with uneven increments
  const full = Array.from({ length: 2001 }, (_, k) => ({ at: at(3 * k), cumulativeWh: String(k * 10 + (k % 7)) }));

  it('a timeline of at most 1,000 points is carried as it is', () => {
    const r = boundTimeline(full.slice(0, 1000), Date.parse(at(0)), Date.parse(at(2997)), []);
    expect(r.resolution).toEqual({ mode: 'exact', points: 1000 });
    expect(r.points).toEqual(full.slice(0, 1000));
  });

  it('a longer one is resampled: start, end, boundaries and every minute, each the exact interpolation floored to 1 µWh', () => {
    const start = Date.parse(at(0));
    const end = Date.parse(at(6000));
    const r = boundTimeline(full, start, end, [Date.parse(at(1001))]);
    expect(r.resolution).toEqual({ mode: 'resampled', gridSeconds: 60, points: 2001 });
    expect(r.points.map((p) => p.at)).toEqual([
      ...[0, ...Array.from({ length: 99 }, (_, i) => 60 * (i + 1)), 1001, 6000].sort((a, b) => a - b).map(at),
    ]);
    // 10:16:41 lies between the readings at 1,000 s (k = 333: 3336 Wh) and 1,002 s (k = 334: 3340 + 5 = 3345 Wh)... at 3 s steps:
    // 999 s (k = 333, 3330 + 4 = 3334) and 1,002 s (k = 334, 3345): 3334 + 11 × 2/3 = 3341.333333(3)
    expect(r.points.find((p) => p.at === at(1001))!.cumulativeWh).toBe('3341.333333');
    expect(r.points.find((p) => p.at === at(60))!.cumulativeWh).toBe(full[20].cumulativeWh);
  });
});

describe('charging periods', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 2, 1, 10) + s * 1000).toISOString();
  const period = (i: number, state: 'Charging' | 'SuspendedEV') => ({
    startDateTime: at(i * 10),
    endDateTime: at(i * 10 + 10),
    chargingState: state,
    category: state === 'Charging' ? 'CHARGING' : 'PARKING',
    energyWh: state === 'Charging' ? '20' : '0',
    durationSeconds: '10',
    dimensions: [],
  });

  it('at most 64 are kept as they are', () => {
    const list = Array.from({ length: 64 }, (_, i) => period(i, i % 2 ? 'SuspendedEV' : 'Charging'));
    expect(boundPeriods(list)).toEqual({ periods: list, merged: false });
  });

  it('beyond, they are grouped; time and energy per category are kept and the periods still tile the session', () => {
    const list = Array.from({ length: 1001 }, (_, i) => period(i, i % 3 ? 'SuspendedEV' : 'Charging'));
    const r = boundPeriods(list);
    expect(r.merged).toBe(true);
    expect(r.periods.length).toBeLessThanOrEqual(64);
    expect(r.periods[0].startDateTime).toBe(at(0));
    expect(r.periods[r.periods.length - 1].endDateTime).toBe(at(10010));
    for (let i = 1; i < r.periods.length; i++) expect(r.periods[i].startDateTime).toBe(r.periods[i - 1].endDateTime);
    const sum = (cat: string, f: 'energyWh' | 'durationSeconds') =>
      r.periods.filter((p) => p.category === cat).reduce((a, p) => a + Number(p[f]), 0);
    expect(sum('CHARGING', 'durationSeconds')).toBe(334 * 10);
    expect(sum('PARKING', 'durationSeconds')).toBe(667 * 10);
    expect(sum('CHARGING', 'energyWh')).toBe(334 * 20);
    expect(r.periods.find((p) => p.category === 'PARKING')!.dimensions).toEqual([
      { type: 'ENERGY', volume: '0' },
      { type: 'PARKING_TIME', volume: expect.stringMatching(/^\d+\.\d{1,6}$|^\d+$/) },
    ]);
  });
});

describe('upcasting v1 records already in a log', () => {
  it('a long session.ended v1 (3,002 sources, 3,002 timeline points) is read as a bounded v2', () => {
    const ex = SessionEndedV1.example;
    const start = Date.parse('2026-03-01T10:00:00Z');
    const sources = Array.from({ length: 3002 }, (_, i) => ({
      eventId: deriveId('rec', i),
      topic: 'ocpp.inbound',
      partition: 2,
      offset: String(1000 + 2 * i),
    }));
    const timeline = Array.from({ length: 3002 }, (_, i) => ({
      at: new Date(start + i * 5000).toISOString(),
      cumulativeWh: String(i * 7),
    }));
    const endedAt = timeline[3001].at;
    const v1 = {
      ...ex,
      endedAt,
      totals: {
        ...ex.totals,
        energyWh: '21007',
        energyKwh: '21.007',
        timeSeconds: '15005',
        chargingTimeSeconds: '15005',
        parkingTimeSeconds: '0',
      },
      chargingPeriods: [
        { ...ex.chargingPeriods[0], endDateTime: endedAt, energyWh: '21007', durationSeconds: '15005' },
      ],
      energyTimeline: timeline,
      sources,
    };
    const wire = catalogue.encode(catalogue.check(envelope('session.ended', 1, v1)));
    expect(Buffer.byteLength(wire)).toBeGreaterThan(400 * KB);
    const env = catalogue.decode(wire);
    expect(env.version).toBe(2);
    const p = env.payload as { sources: unknown[]; energyTimelineResolution: unknown; energyTimeline: unknown[] };
    expect(p.sources).toEqual([
      {
        topic: 'ocpp.inbound',
        partition: 2,
        firstOffset: '1000',
        lastOffset: String(1000 + 2 * 3001),
        count: 3002,
        sha256: sourceHash(sources.map((s) => s.eventId)),
      },
    ]);
    expect(p.energyTimelineResolution).toEqual({ mode: 'resampled', gridSeconds: 60, points: 3002 });
    expect(p.energyTimeline.length).toBe(252);
    expect(JSON.stringify(env).length).toBeLessThan(30 * KB);
  });

  it('a short session.ended v1 keeps its periods and timeline (instants in canonical form)', () => {
    const env = catalogue.parse(envelope('session.ended', 1, SessionEndedV1.example));
    expect(env.payload).toMatchObject({
      chargingPeriods: SessionEndedV1.example.chargingPeriods,
      energyTimeline: [
        { at: '2026-03-01T10:00:00.000Z', cumulativeWh: '0' },
        { at: '2026-03-01T10:50:00.000Z', cumulativeWh: '20000' },
      ],
      energyTimelineResolution: { mode: 'exact', points: 2 },
      signedMeterValuesOmitted: 0,
      sources: [
        {
          topic: 'ocpp.inbound',
          partition: 0,
          firstOffset: '17',
          lastOffset: '17',
          count: 1,
          sha256: sourceHash(['7c9e6679-7425-50de-944b-e07fc1f90ae7']),
        },
      ],
    });
  });

  it('a cdr.created v1 audit lists its inbound records as ranges in v2 (read as v4); the CDR itself is unchanged', () => {
    const records = [
      { eventId: 'r1', topic: 'ocpp.inbound', partition: 0, offset: '5' },
      { eventId: 'r2', topic: 'ocpp.inbound', partition: 0, offset: '8' },
    ];
    const v1 = { ...CdrCreatedV1.example, audit: { ...CdrCreatedV1.example.audit, inboundRecords: records } };
    const env = catalogue.parse(envelope('cdr.created', 1, v1));
    expect(env.version).toBe(4);
    expect(env.payload).toEqual({
      cdr: CdrCreatedV1.example.cdr,
      audit: {
        ...CdrCreatedV1.example.audit,
        inboundRecords: [
          {
            topic: 'ocpp.inbound',
            partition: 0,
            firstOffset: '5',
            lastOffset: '8',
            count: 2,
            sha256: sourceHash(['r1', 'r2']),
          },
        ],
      },
      // v2 -> v3: the example's contract_id is its uid, so no billing account is known
      billingAccountId: null,
    });
  });
});

describe('signed meter values kept in session.ended', () => {
  const v = (context: string, measurand: string, at: string) => ({ context, measurand, at });
  it('keeps the earliest begin and the latest end even when more begin values than the bound were signed', () => {
    const measurands = ['Import', 'Export', 'ReactiveImport', 'ReactiveExport', 'Apparent'];
    const values = [
      ...measurands.map((m) => v('Transaction.Begin', m, '2026-03-01T10:00:00Z')),
      v('Sample.Periodic', 'Import', '2026-03-01T10:30:00Z'),
      v('Transaction.End', 'Import', '2026-03-01T11:00:00Z'),
    ];
    const { kept, omitted } = boundSignedMeterValues(values);
    expect(omitted).toBe(3);
    expect(kept.map((x) => `${x.context} ${x.measurand}`)).toEqual([
      'Transaction.Begin Import',
      'Transaction.Begin Export',
      'Transaction.Begin ReactiveImport',
      'Transaction.End Import',
    ]);
  });

  it('with begin and end values that fit, the others are the latest', () => {
    const values = [
      v('Transaction.Begin', 'Import', 't0'),
      ...[1, 2, 3, 4].map((i) => v('Sample.Clock', 'Import', `t${i}`)),
      v('Transaction.End', 'Import', 't5'),
    ];
    expect(boundSignedMeterValues(values).kept.map((x) => x.at)).toEqual(['t0', 't3', 't4', 't5']);
  });
});
