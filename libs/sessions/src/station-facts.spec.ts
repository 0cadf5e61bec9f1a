import { systemCatalogue, type StationAsAnswered } from '@csms/contracts';
import type { SessionCommand } from './decider';
import { endedOf, run, station } from './spec-helpers';

/**
 * The registry's facts of the station as the gateway answered the start travel with the session: session.started and
 * session.ended carry them, narrowed to the session's EVSE and connector (so that the events' size does not depend on
 * the number of EVSEs), whatever the registry says later.
 */
const catalogue = systemCatalogue();
const facts: StationAsAnswered = {
  revision: 4,
  siteId: 'SITE-1',
  timeZone: 'Europe/Amsterdam',
  location: {
    id: 'LOC-1',
    address: 'Amstel 1',
    city: 'Amsterdam',
    country: 'NLD',
    coordinates: { latitude: '52.367030', longitude: '4.900840' },
  },
  evses: [
    { evseId: 1, emi3EvseId: 'NL*CSM*E1*1', connectors: [{ connectorId: 1, standard: 'IEC_62196_T2' }] },
    {
      evseId: 2,
      emi3EvseId: 'NL*CSM*E1*2',
      connectors: [
        { connectorId: 1, standard: 'IEC_62196_T2_COMBO', power_type: 'DC' },
        { connectorId: 2, standard: 'CHADEMO', power_type: 'DC' },
      ],
    },
  ],
};

/** The commands with the facts put on the transaction start, as the normaliser does from the record's `station`. */
const withFacts = (commands: SessionCommand[], f: StationAsAnswered = facts): SessionCommand[] =>
  commands.map((c) =>
    c.type === 'RecordChargerEvents'
      ? { ...c, events: c.events.map((e) => (e.type === 'transaction.started' ? { ...e, station: f } : e)) }
      : c,
  );

const valid = (e: { type: string; version: number }) =>
  expect(() => catalogue.check({ ...(e as object), source: 'session-service' } as never)).not.toThrow();

describe('the station facts as answered at the start', () => {
  it('given a 1.6 session on connector 2, then started and ended carry them with EVSE 2 and its connector 1 only', () => {
    const cs = station('CS-F');
    const { published } = run([
      ...withFacts(cs.start16({ tx: 1, connectorId: 2, meterStart: 0, at: '2026-03-01T10:00:00Z' })),
      ...cs.stop16({ tx: 1, meterStop: 5000, at: '2026-03-01T11:00:00Z' }),
    ]);
    const narrowed = {
      revision: 4,
      siteId: 'SITE-1',
      timeZone: 'Europe/Amsterdam',
      location: facts.location,
      evses: [
        {
          evseId: 2,
          emi3EvseId: 'NL*CSM*E1*2',
          connectors: [{ connectorId: 1, standard: 'IEC_62196_T2_COMBO', power_type: 'DC' }],
        },
      ],
    };
    const started = published.find((e) => e.type === 'session.started')!;
    const [ended] = endedOf(published);
    expect(started.payload.station).toEqual(narrowed);
    expect(ended.payload.station).toEqual(narrowed);
    valid(started);
    valid(ended);
  });

  it('given a 2.0.1 session on EVSE 1, then ended carries EVSE 1 with its one connector', () => {
    const cs = station('CS-G', 'ocpp2.0.1');
    const { published } = run([
      ...withFacts(cs.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', wh: 0 })),
      ...cs.tx201({ eventType: 'Ended', seqNo: 1, at: '2026-03-01T10:30:00Z', wh: 2000 }),
    ]);
    const [ended] = endedOf(published);
    expect(ended.payload.station?.evses).toEqual([facts.evses[0]]);
    valid(ended);
  });

  it('given an EVSE the registry did not have then, the site, time zone and location are kept, no EVSE', () => {
    const cs = station('CS-H');
    const { published } = run([
      ...withFacts(cs.start16({ tx: 1, connectorId: 3, meterStart: 0, at: '2026-03-01T10:00:00Z' })),
      ...cs.stop16({ tx: 1, meterStop: 100, at: '2026-03-01T10:10:00Z' }),
    ]);
    const [ended] = endedOf(published);
    expect(ended.payload.station).toMatchObject({ siteId: 'SITE-1', timeZone: 'Europe/Amsterdam', evses: [] });
  });

  it('given a start recorded without them (records of before), then the events carry none, as before', () => {
    const cs = station('CS-I');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      ...cs.stop16({ tx: 1, meterStop: 100, at: '2026-03-01T10:10:00Z' }),
    ]);
    for (const e of published) expect('station' in e.payload).toBe(false);
  });
});
