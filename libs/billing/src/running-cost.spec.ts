import fc from 'fast-check';
import { deriveId, type OcpiTariffDocument } from '@csms/contracts';
import type { SessionCommand } from '../../sessions/src/decider';
import { sessionDecider } from '../../sessions/src/decider';
import { initialState } from '../../sessions/src/state';
import { endedOf, run, station, updatesOf } from '../../sessions/src/spec-helpers';
import { buildCdr, type PricingContext } from './cdr';
import type { PricingFacts, StationFacts } from './facts';
import {
  estimateDue,
  estimateRunningCost,
  foldUpdate,
  runningAsEnded,
  selectSessionTariff,
  startRunning,
  type RunningSession,
} from './running-cost';

/**
 * The running-cost estimate is the CDR's price: a session driven through the session decider (OCPP 2.0.1
 * TransactionEvents: meter samples, state changes), its session.updated events folded and priced at the last one,
 * then the session ended at that moment with the same reading and priced into its CDR: equal totals, for tariffs
 * with a start fee, energy, charging time, parking time, time-of-day elements, VAT and a max_price.
 */
const tariffOf = (id: string, rest: Partial<OcpiTariffDocument>): OcpiTariffDocument => ({
  country_code: 'NL',
  party_id: 'CSM',
  id,
  currency: 'EUR',
  elements: [],
  last_updated: '2026-01-01T00:00:00Z',
  ...rest,
});

const TARIFFS: OcpiTariffDocument[] = [
  tariffOf('FLAT-ENERGY', {
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: 0.5, vat: 21, step_size: 1 },
          { type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 },
        ],
      },
    ],
  }),
  tariffOf('TIME-PARK', {
    elements: [
      {
        price_components: [
          { type: 'ENERGY', price: 0.3, vat: 19, step_size: 1 },
          { type: 'TIME', price: 1.2, vat: 19, step_size: 60 },
          { type: 'PARKING_TIME', price: 3, vat: 19, step_size: 300 },
        ],
      },
    ],
  }),
  tariffOf('TOD', {
    elements: [
      {
        price_components: [{ type: 'ENERGY', price: 0.55, vat: 21, step_size: 1 }],
        restrictions: { start_time: '11:30', end_time: '13:00' },
      },
      {
        price_components: [
          { type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 },
          { type: 'PARKING_TIME', price: 2, vat: 21, step_size: 60 },
        ],
      },
    ],
  }),
  tariffOf('CAPPED', {
    max_price: { excl_vat: 8, incl_vat: 9.68 },
    elements: [{ price_components: [{ type: 'ENERGY', price: 0.6, vat: 21, step_size: 1 }] }],
  }),
];

const stationFacts: StationFacts = {
  siteId: 'site-ams',
  timeZone: 'Europe/Amsterdam',
  location: null,
  evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }],
};

function factsFor(tariff: OcpiTariffDocument): PricingFacts {
  return {
    station: stationFacts,
    assignments: [
      {
        assignmentId: 'asg',
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

const source = { eventId: deriveId('src'), topic: 'session.events', partition: 0, offset: '1' };
const at = (minute: number) => new Date(Date.UTC(2026, 2, 10, 10, 0, 0) + minute * 60_000).toISOString();

interface Step {
  minute: number;
  wh: number;
  state?: 'Charging' | 'SuspendedEV' | 'EVConnected' | 'SuspendedEVSE';
}

/** A 2.0.1 session: Started at minute 0, the steps as TransactionEvent Updated (samples, state changes). */
function sessionCommands(steps: Step[]): SessionCommand[] {
  const cs = station('CS-RUN', 'ocpp2.0.1');
  let seq = 0;
  const cmds: SessionCommand[] = [
    ...cs.tx201({ eventType: 'Started', seqNo: seq++, at: at(0), wh: 10_000, chargingState: 'Charging' }),
  ];
  for (const s of steps)
    cmds.push(
      ...cs.tx201({
        eventType: 'Updated',
        seqNo: seq++,
        at: at(s.minute),
        wh: 10_000 + s.wh,
        ...(s.state ? { chargingState: s.state, triggerReason: 'ChargingStateChanged' } : {}),
      }),
    );
  return cmds;
}

/** The updates of the steps, folded; the session ended at the last update with its reading; both priced. */
function estimateAndCdr(steps: Step[], tariff: OcpiTariffDocument, updateIntervalSeconds = 60) {
  const decider = sessionDecider({ updateIntervalSeconds });
  const cmds = sessionCommands(steps);
  const running = run(cmds, initialState(), decider);
  const started = running.published.find((e) => e.type === 'session.started')!;
  const updates = updatesOf(running.events);
  expect(updates.length).toBeGreaterThan(0);
  let r: RunningSession = startRunning(started.payload as never);
  for (const u of updates) r = foldUpdate(r, u.payload, u.occurredAt);
  const last = updates[updates.length - 1];
  const lastStep = steps.find((s) => at(s.minute) === last.occurredAt)!;
  const cs = station('CS-RUN', 'ocpp2.0.1');
  // the same station's records again, then the end at the last update's time with the same reading
  const ended = run(
    [
      ...cmds,
      ...cs.tx201({ eventType: 'Ended', seqNo: steps.length + 1, at: last.occurredAt, wh: 10_000 + lastStep.wh }),
    ],
    initialState(),
    sessionDecider({ updateIntervalSeconds }),
  );
  const s = endedOf(ended.events)[0];
  expect(s).toBeDefined();
  const facts = factsFor(tariff);
  const cdr = buildCdr({ ...facts, session: s.payload, source } as PricingContext);
  if (cdr.kind !== 'priced') throw new Error(`${cdr.code}: ${cdr.detail}`);
  const estimate = estimateRunningCost(r, facts, source);
  if (!estimate?.ok) throw new Error(`estimate failed: ${JSON.stringify(estimate)}`);
  return { estimate, cdr: cdr.cdr, ended: s.payload, running: r };
}

const SCENARIOS: Array<{ name: string; steps: Step[] }> = [
  {
    name: 'charging only, a sample every 5 minutes',
    steps: [5, 10, 15, 20, 25, 30, 35, 40, 45].map((m) => ({ minute: m, wh: m * 250 })),
  },
  {
    name: 'charging, then the EV suspends (parking), sampled on',
    steps: [
      { minute: 10, wh: 3_000 },
      { minute: 20, wh: 6_500 },
      { minute: 31, wh: 9_100, state: 'SuspendedEV' },
      { minute: 40, wh: 9_100 },
      { minute: 55, wh: 9_100 },
    ],
  },
  {
    name: 'across a time-of-day boundary (11:30 local = 10:30Z), suspended by the EVSE, charging again',
    steps: [
      { minute: 15, wh: 4_000 },
      { minute: 26, wh: 7_000, state: 'SuspendedEVSE' },
      { minute: 35, wh: 7_000, state: 'Charging' },
      { minute: 50, wh: 11_000 },
      { minute: 65, wh: 15_000 },
      { minute: 80, wh: 19_000 },
    ],
  },
];

describe('running cost = the CDR price when the session ends at the last update with the same readings', () => {
  // every sample gives a session.updated here (interval 60 s < the 5-minute samples): the updates carry every
  // reading the CDR is made of
  for (const tariff of TARIFFS)
    for (const sc of SCENARIOS)
      it(`${tariff.id}: ${sc.name}`, () => {
        const { estimate, cdr } = estimateAndCdr(sc.steps, tariff);
        expect(estimate.costInclVat).toBe(String(cdr.total_cost.incl_vat));
        expect(estimate.costExclVat).toBe(String(cdr.total_cost.excl_vat));
        expect(estimate.currency).toBe(cdr.currency);
        expect(estimate.tariffId).toBe(tariff.id);
      });

  it('the session as estimated has the same periods and totals as the real one', () => {
    const { running, ended } = estimateAndCdr(SCENARIOS[1].steps, TARIFFS[1]);
    const asEnded = runningAsEnded(running)!;
    expect(asEnded.totals).toEqual(ended.totals);
    expect(asEnded.chargingPeriods.map((p) => [p.category, p.energyWh, p.durationSeconds])).toEqual(
      ended.chargingPeriods.map((p) => [p.category, p.energyWh, p.durationSeconds]),
    );
  });

  it('the max_price caps the estimate as it caps the CDR', () => {
    const steps = [5, 10, 15, 20, 25, 30, 35, 40, 45].map((m) => ({ minute: m, wh: m * 600 }));
    const { estimate } = estimateAndCdr(steps, TARIFFS[3]);
    expect(estimate.costInclVat).toBe('9.68');
  });
});

describe('tariff selection at the start', () => {
  it('names the tariff the CDR will use and its max_price incl. VAT', () => {
    const sel = selectSessionTariff(
      { startedAt: '2026-03-10T10:00:00Z', stationId: 'CS-RUN', evseId: 1 },
      factsFor(TARIFFS[3]),
    );
    expect(sel).toEqual({ ok: true, tariffId: 'CAPPED', tariffVersion: 1, currency: 'EUR', maxPriceInclVat: '9.68' });
  });

  it('a tariff without max_price: null; no tariff: the code the CDR would get', () => {
    expect(
      selectSessionTariff({ startedAt: '2026-03-10T10:00:00Z', stationId: 'X' }, factsFor(TARIFFS[0])),
    ).toMatchObject({
      ok: true,
      maxPriceInclVat: null,
    });
    expect(
      selectSessionTariff({ startedAt: '2026-03-10T10:00:00Z', stationId: 'X' }, { assignments: [], versions: [] }),
    ).toMatchObject({ ok: false, code: 'NO_ASSIGNMENT' });
  });
});

describe('throttling by event time', () => {
  const base: RunningSession = {
    ...startRunning({
      sessionId: deriveId('s'),
      stationId: 'CS',
      protocol: 'ocpp2.0.1',
      transactionId: 'T',
      startedAt: at(0),
      startKnown: true,
      sources: [],
    }),
  };
  const u = (wh: string, state: 'Charging' | 'SuspendedEV' = 'Charging') => ({
    sessionId: base.sessionId,
    stationId: 'CS',
    protocol: 'ocpp2.0.1' as const,
    transactionId: 'T',
    status: 'active' as const,
    startedAt: at(0),
    chargingState: state,
    energyWh: wh,
    missingSeqNos: [],
    flags: [],
  });

  it('the first update is priced; then only after the interval of session time or at a state change', () => {
    let r = foldUpdate(base, u('100'), at(1));
    expect(estimateDue(r, true, 300)).toBe(true);
    r = { ...r, estimate: { asOf: at(1), costInclVat: '1.00' } };
    r = foldUpdate(r, u('200'), at(5));
    expect(estimateDue(r, false, 300)).toBe(false);
    r = foldUpdate(r, u('300'), at(6));
    expect(estimateDue(r, false, 300)).toBe(true);
    r = foldUpdate(r, u('300', 'SuspendedEV'), at(6.5));
    expect(r.segments.map((s) => s.state)).toEqual(['Charging', 'SuspendedEV']);
    expect(estimateDue(r, true, 300)).toBe(true);
  });

  it('an update older than the last one folded changes nothing; energy never goes back', () => {
    const r = foldUpdate(base, u('500'), at(10));
    expect(foldUpdate(r, u('900'), at(9))).toBe(r);
    expect(foldUpdate(r, u('400'), at(11)).last).toEqual({ at: at(11), energyWh: '500' });
  });
});

describe('property: any charging history, ended at its last update, prices as its last estimate', () => {
  // every sample gives an update (60 s throttle, samples at least a minute apart): the updates carry every reading
  const stepsArb = fc
    .array(
      fc.record({
        gap: fc.integer({ min: 1, max: 40 }),
        kwh: fc.integer({ min: 0, max: 4000 }),
        state: fc.constantFrom(undefined, 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'EVConnected'),
      }),
      { minLength: 1, maxLength: 12 },
    )
    .map((xs) => {
      let minute = 0;
      let wh = 0;
      return xs.map((x) => {
        minute += x.gap;
        wh += x.kwh;
        return { minute, wh, ...(x.state ? { state: x.state as Step['state'] } : {}) };
      });
    });

  it('estimate = CDR total, incl. and excl. VAT, for every tariff of the table', () => {
    fc.assert(
      fc.property(stepsArb, fc.constantFrom(...TARIFFS), (steps, tariff) => {
        const { estimate, cdr } = estimateAndCdr(steps, tariff);
        expect([estimate.costExclVat, estimate.costInclVat]).toEqual([
          String(cdr.total_cost.excl_vat),
          String(cdr.total_cost.incl_vat),
        ]);
      }),
      { numRuns: 200 },
    );
  });
});
