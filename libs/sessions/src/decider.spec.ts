import Decimal from 'decimal.js';
import { fold, givenCommands, replay } from '@csms/kernel';
import { sourceHash } from '@csms/contracts';
import type { SessionCommand } from './decider';
import { handle, sessionDecider } from './decider';
import { sessionIdOf } from './ids';
import { sessionOf } from './state';
import { isPublicSessionEvent, type SessionEndedPayload } from './events';
import { normaliseOrThrow } from '@csms/ocpp-normaliser';
import { closeStale, endedOf, randomStationCommands, run, station, typesOf, updatesOf } from './spec-helpers';

/**
 * given/when/then (the kernel's givenCommands): `given` decides the history, record by record; `when` returns
 * only what the new commands decide, and the published (public) events among them.
 */
function given(...history: SessionCommand[][]) {
  const g = givenCommands(sessionDecider(), history.flat());
  return {
    state: g.state,
    when: (...cmds: SessionCommand[][]) => {
      const { events, state, error } = g.when(...cmds.flat());
      if (error !== undefined) throw error;
      return { events, published: events.filter(isPublicSessionEvent), state };
    },
  };
}
const only = (events: Parameters<typeof endedOf>[0]): SessionEndedPayload => {
  const ended = endedOf(events);
  expect(ended).toHaveLength(1);
  return ended[0].payload;
};
const sumPeriods = (p: SessionEndedPayload): string =>
  p.chargingPeriods.reduce((a, x) => a.plus(x.energyWh), new Decimal(0)).toString();

describe('OCPP 1.6 session: start, samples, status, stop', () => {
  const cs = station();
  const history = [
    cs.status16({ status: 'Preparing', at: '2026-03-01T09:59:00Z' }),
    cs.start16({ tx: 1, meterStart: 1000, at: '2026-03-01T10:00:00Z' }),
    cs.status16({ status: 'Charging', at: '2026-03-01T10:00:00Z' }),
    cs.meter16({
      tx: 1,
      at: '2026-03-01T10:15:00Z',
      values: [
        { value: '5000' },
        { value: '11000', measurand: 'Power.Active.Import', unit: 'W' },
        { value: '16', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
        { value: '16', measurand: 'Current.Import', phase: 'L2', unit: 'A' },
        { value: '15.5', measurand: 'Current.Import', phase: 'L3', unit: 'A' },
      ],
    }),
    cs.wh16({ tx: 1, at: '2026-03-01T10:30:00Z', wh: '9000' }),
    cs.status16({ status: 'SuspendedEV', at: '2026-03-01T10:30:00Z' }),
    cs.wh16({ tx: 1, at: '2026-03-01T10:45:00Z', wh: '9000' }),
    cs.status16({ status: 'Finishing', at: '2026-03-01T10:50:00Z' }),
  ];

  it('given a running session, when StopTransaction arrives, then session.ended has totals, periods and provenance', () => {
    const { published } = given(...history).when(
      cs.stop16({ tx: 1, meterStop: 9000, at: '2026-03-01T11:00:00Z', idTag: 'TAG1', reason: 'EVDisconnected' }),
    );
    expect(typesOf(published)).toEqual(['session.ended']);
    const p = only(published);
    expect(p).toMatchObject({
      sessionId: sessionIdOf('CS-1', '1'),
      transactionId: '1',
      connectorId: 1,
      closure: 'stop',
      revision: 1,
      startedAt: '2026-03-01T10:00:00.000Z',
      endedAt: '2026-03-01T11:00:00.000Z',
      stoppedReason: 'EVDisconnected',
      idToken: { idToken: 'TAG1', type: 'ocpp1.6-idTag' },
      stopIdToken: { idToken: 'TAG1', type: 'ocpp1.6-idTag' },
      meterStartWh: '1000',
      meterStopWh: '9000',
      totals: {
        energyWh: '8000',
        energyKwh: '8',
        timeSeconds: '3600',
        chargingTimeSeconds: '1800',
        parkingTimeSeconds: '1800',
      },
    });
    expect(
      p.chargingPeriods.map((x) => [x.chargingState, x.category, x.startDateTime, x.energyWh, x.durationSeconds]),
    ).toEqual([
      ['Charging', 'CHARGING', '2026-03-01T10:00:00.000Z', '8000', '1800'],
      ['SuspendedEV', 'PARKING', '2026-03-01T10:30:00.000Z', '0', '1200'],
      ['EVConnected', 'PARKING', '2026-03-01T10:50:00.000Z', '0', '600'],
    ]);
    expect(p.chargingPeriods[0]).toMatchObject({ maxPowerW: '11000', maxCurrentA: '47.5' });
    expect(p.chargingPeriods[0].dimensions).toEqual([
      { type: 'ENERGY', volume: '8' },
      { type: 'TIME', volume: '0.5' },
      { type: 'MAX_POWER', volume: '11' },
      { type: 'MAX_CURRENT', volume: '47.5' },
    ]);
    expect(p.chargingPeriods[1].dimensions[1]).toEqual({ type: 'PARKING_TIME', volume: '0.333333' });
    expect(p.chargingPeriods[2].dimensions[1]).toEqual({ type: 'PARKING_TIME', volume: '0.166667' });
    expect(p.dataQuality).toEqual({
      flags: [],
      needsReview: false,
      estimated: false,
      missingSeqNos: [],
      duplicatesIgnored: 0,
    });
    // one range per topic + partition: offsets, count, and the hash of the used records' ids in offset order
    const used = [
      'CS-1-rec-2',
      'CS-1-rec-3',
      'CS-1-rec-4',
      'CS-1-rec-5',
      'CS-1-rec-6',
      'CS-1-rec-7',
      'CS-1-rec-8',
      'CS-1-rec-9',
    ];
    expect(p.sources).toEqual([
      { topic: 'ocpp.inbound', partition: 0, firstOffset: '2', lastOffset: '9', count: 8, sha256: sourceHash(used) },
    ]);
    expect(p.energyTimelineResolution).toEqual({ mode: 'exact', points: p.energyTimeline.length });
  });

  it('given nothing, when StartTransaction arrives, then session.started with a name-based id', () => {
    const cs2 = station('CS-9');
    const { published } = given().when(cs2.start16({ tx: 77, meterStart: 5, at: '2026-03-01T10:00:00+01:00' }));
    expect(published).toEqual([
      {
        id: expect.any(String),
        type: 'session.started',
        version: 1,
        occurredAt: '2026-03-01T09:00:00.000Z',
        key: sessionIdOf('CS-9', '77'),
        causationId: expect.any(String),
        correlationId: sessionIdOf('CS-9', '77'),
        payload: {
          sessionId: sessionIdOf('CS-9', '77'),
          stationId: 'CS-9',
          protocol: 'ocpp1.6',
          transactionId: '77',
          connectorId: 1,
          startedAt: '2026-03-01T09:00:00.000Z',
          startKnown: true,
          idToken: { idToken: 'TAG1', type: 'ocpp1.6-idTag' },
          meterStartWh: '5',
          sources: [{ eventId: 'CS-9-rec-1', topic: 'ocpp.inbound', partition: 0, offset: '1' }],
        },
      },
    ]);
  });

  it('stop without idTag: the session keeps the start idToken and has no stopIdToken', () => {
    const { published } = given(...history).when(cs.stop16({ tx: 1, meterStop: 9000, at: '2026-03-01T11:00:00Z' }));
    const p = only(published);
    expect(p.idToken).toEqual({ idToken: 'TAG1', type: 'ocpp1.6-idTag' });
    expect(p.stopIdToken).toBeUndefined();
    expect(p.stoppedReason).toBe('Local');
  });

  it('kWh and Wh samples in one session give the same energy as all-Wh', () => {
    const k = station('CS-K');
    const { published } = run([
      ...k.start16({ tx: 5, meterStart: 12000, at: '2026-03-01T10:00:00Z' }),
      ...k.meter16({ tx: 5, at: '2026-03-01T10:30:00Z', values: [{ value: '15.5', unit: 'kWh' }] }),
      ...k.meter16({ tx: 5, at: '2026-03-01T10:45:00Z', values: [{ value: '17250', unit: 'Wh' }] }),
      ...k.stop16({ tx: 5, meterStop: 18000, at: '2026-03-01T11:00:00Z' }),
    ]);
    expect(only(published).totals.energyWh).toBe('6000');
    expect(only(published).energyTimeline.map((x) => x.cumulativeWh)).toEqual(['0', '3500', '5250', '6000']);
  });

  it('per-phase registers without a total are summed; a total is never added to its phases', () => {
    const k = station('CS-P');
    const { published } = run([
      ...k.start16({ tx: 5, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      ...k.meter16({
        tx: 5,
        at: '2026-03-01T10:30:00Z',
        values: [
          { value: '1000', phase: 'L1' },
          { value: '1000', phase: 'L2' },
          { value: '1000.5', phase: 'L3' },
        ],
      }),
      ...k.meter16({
        tx: 5,
        at: '2026-03-01T10:45:00Z',
        values: [
          { value: '4000' },
          { value: '1333', phase: 'L1' },
          { value: '1333', phase: 'L2' },
          { value: '1334', phase: 'L3' },
        ],
      }),
      ...k.stop16({ tx: 5, meterStop: 4000, at: '2026-03-01T11:00:00Z' }),
    ]);
    expect(only(published).energyTimeline.map((x) => x.cumulativeWh)).toEqual(['0', '3000.5', '4000', '4000']);
  });
});

describe('charging periods: parking rule (OCPI 2.2.1 errata: parking = connected, not requesting power)', () => {
  const cases: Array<[string, string, string, string]> = [
    // protocol, state sequence (first is initial), expected categories, expected parking seconds
    ['ocpp2.0.1', 'Charging', 'CHARGING', '0'],
    ['ocpp2.0.1', 'Charging,SuspendedEV', 'CHARGING,PARKING', '1800'],
    ['ocpp2.0.1', 'Charging,SuspendedEVSE', 'CHARGING,SUSPENDED_EVSE', '0'],
    ['ocpp2.0.1', 'EVConnected,Charging', 'PREPARING,CHARGING', '0'],
    ['ocpp2.0.1', 'Charging,EVConnected', 'CHARGING,PARKING', '1800'],
    ['ocpp2.0.1', 'Charging,Idle', 'CHARGING,IDLE', '0'],
    ['ocpp2.0.1', 'SuspendedEV,Charging', 'PARKING,CHARGING', '1800'],
  ];
  it.each(cases)('%s %s → %s, parking %s s', (_protocol, seq, expected, parking) => {
    const cs = station('CS-201', 'ocpp2.0.1');
    const states = seq.split(',');
    const { published } = run([
      ...cs.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', chargingState: states[0], wh: 0 }),
      ...(states[1]
        ? cs.tx201({
            eventType: 'Updated',
            seqNo: 1,
            at: '2026-03-01T10:30:00Z',
            chargingState: states[1],
            triggerReason: 'ChargingStateChanged',
          })
        : cs.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:30:00Z', wh: 500 })),
      ...cs.tx201({ eventType: 'Ended', seqNo: 2, at: '2026-03-01T11:00:00Z', wh: 1000 }),
    ]);
    const p = only(published);
    expect(p.chargingPeriods.map((x) => x.category).join(',')).toBe(expected);
    expect(p.totals.parkingTimeSeconds).toBe(parking);
    expect(new Decimal(p.totals.chargingTimeSeconds).plus(p.totals.parkingTimeSeconds).toString()).toBe('3600');
  });

  const cases16: Array<[string, string, string]> = [
    ['Charging', 'CHARGING', '0'],
    ['Charging,SuspendedEV', 'CHARGING,PARKING', '1800'],
    ['Charging,SuspendedEVSE', 'CHARGING,SUSPENDED_EVSE', '0'],
    ['Charging,Finishing', 'CHARGING,PARKING', '1800'],
    ['Preparing,Charging', 'PREPARING,CHARGING', '0'],
    ['Charging,Available', 'CHARGING,IDLE', '0'],
    ['Charging,Faulted', 'CHARGING', '0'],
  ];
  it.each(cases16)('ocpp1.6 StatusNotification %s → %s, parking %s s', (seq, expected, parking) => {
    const cs = station('CS-16');
    const states = seq.split(',');
    const { published } = run([
      ...cs.status16({ status: states[0], at: '2026-03-01T09:59:00Z' }),
      ...cs.start16({ tx: 3, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      ...cs.status16({ status: states[1] ?? states[0], at: '2026-03-01T10:30:00Z' }),
      ...cs.stop16({ tx: 3, meterStop: 1000, at: '2026-03-01T11:00:00Z' }),
    ]);
    const p = only(published);
    expect(p.chargingPeriods.map((x) => x.category).join(',')).toBe(expected);
    expect(p.totals.parkingTimeSeconds).toBe(parking);
  });

  it('without any status, a 1.6 session is charging from its start', () => {
    const cs = station('CS-N');
    const { published } = run([
      ...cs.start16({ tx: 3, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      ...cs.stop16({ tx: 3, meterStop: 10, at: '2026-03-01T10:10:00Z' }),
    ]);
    expect(only(published).chargingPeriods.map((x) => x.category)).toEqual(['CHARGING']);
  });

  it('energy of periods is interpolated at the state change and sums exactly to the total', () => {
    const cs = station('CS-I', 'ocpp2.0.1');
    const { published } = run([
      ...cs.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', chargingState: 'Charging', wh: 1000 }),
      ...cs.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:20:00Z', chargingState: 'SuspendedEV' }),
      ...cs.tx201({ eventType: 'Ended', seqNo: 2, at: '2026-03-01T10:30:00Z', wh: 2000 }),
    ]);
    const p = only(published);
    expect(p.chargingPeriods.map((x) => x.energyWh)).toEqual(['666.667', '333.333']);
    expect(sumPeriods(p)).toBe(p.totals.energyWh);
  });
});

describe('session.updated throttling (event time)', () => {
  it('emits at most one update per 15 min of event time, plus one per charging-state change', () => {
    const cs = station('CS-T', 'ocpp2.0.1');
    const cmds = [
      cs.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', chargingState: 'Charging', wh: 0 }),
    ];
    for (let i = 1; i <= 12; i++) {
      const at = new Date(Date.UTC(2026, 2, 1, 10, i * 5)).toISOString();
      cmds.push(cs.tx201({ eventType: 'Updated', seqNo: i, at, wh: i * 1000 }));
    }
    cmds.push(cs.tx201({ eventType: 'Updated', seqNo: 13, at: '2026-03-01T11:02:00Z', chargingState: 'SuspendedEV' }));
    const { published } = run(cmds.flat());
    const ups = updatesOf(published);
    expect(ups.map((u) => [u.occurredAt, u.payload.chargingState, u.payload.energyWh])).toEqual([
      ['2026-03-01T10:15:00.000Z', 'Charging', '3000'],
      ['2026-03-01T10:30:00.000Z', 'Charging', '6000'],
      ['2026-03-01T10:45:00.000Z', 'Charging', '9000'],
      ['2026-03-01T11:00:00.000Z', 'Charging', '12000'],
      ['2026-03-01T11:02:00.000Z', 'SuspendedEV', '12000'],
    ]);
  });

  it('late (older) events do not trigger updates', () => {
    const cs = station('CS-T2', 'ocpp2.0.1');
    const g = given(
      cs.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', chargingState: 'Charging', wh: 0 }),
      cs.tx201({ eventType: 'Updated', seqNo: 2, at: '2026-03-01T10:20:00Z', wh: 2000 }),
    );
    expect(
      updatesOf(g.when(cs.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:10:00Z', wh: 1000 })).published),
    ).toEqual([]);
  });
});

describe('duplicates', () => {
  it('2.0.1: a TransactionEvent retried with a new message id is dropped by station+transactionId+seqNo', () => {
    const cs = station('CS-D', 'ocpp2.0.1');
    const start = cs.tx201({
      eventType: 'Started',
      seqNo: 0,
      at: '2026-03-01T10:00:00Z',
      chargingState: 'Charging',
      wh: 0,
    });
    const mid = cs.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:30:00Z', wh: 5000 });
    const retry = cs.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:30:00Z', wh: 5000 });
    const g = given(start, mid);
    const { events, published } = g.when(retry);
    expect(published).toEqual([]);
    expect(events).toEqual([expect.objectContaining({ type: 'session.fact.discarded', reason: 'DUPLICATE_SEQNO' })]);
    const end = cs.tx201({ eventType: 'Ended', seqNo: 2, at: '2026-03-01T11:00:00Z', wh: 6000 });
    const p = only(run([...start, ...mid, ...retry, ...end].flat()).published);
    expect(p.totals.energyWh).toBe('6000');
    expect(p.dataQuality.duplicatesIgnored).toBe(1);
    expect(p.dataQuality.flags).toEqual(['DUPLICATES_IGNORED']);
    expect(p.dataQuality.needsReview).toBe(false);
    // the discarded retry (record 3) is not among the used records
    expect(p.sources).toEqual([
      {
        topic: 'ocpp.inbound',
        partition: 0,
        firstOffset: '1',
        lastOffset: '4',
        count: 3,
        sha256: sourceHash(['CS-D-rec-1', 'CS-D-rec-2', 'CS-D-rec-4']),
      },
    ]);
  });

  it('1.6: a retried StartTransaction (same connector, meterStart, timestamp; new transactionId) joins the first session', () => {
    const cs = station('CS-R');
    const { published, state } = run([
      ...cs.start16({ tx: 10, meterStart: 500, at: '2026-03-01T10:00:00Z' }),
      ...cs.start16({ tx: 11, meterStart: 500, at: '2026-03-01T10:00:00Z', receivedAt: '2026-03-01T10:00:40Z' }),
      ...cs.wh16({ tx: 11, at: '2026-03-01T10:30:00Z', wh: '2500' }),
      ...cs.stop16({ tx: 11, meterStop: 3500, at: '2026-03-01T11:00:00Z' }),
    ]);
    expect(typesOf(published)).toEqual(['session.started', 'session.updated', 'session.ended']);
    const p = only(published);
    expect(p.transactionId).toBe('10');
    expect(p.totals.energyWh).toBe('3000');
    expect(state.byTransaction['CS-R|11']).toBe(sessionIdOf('CS-R', '10'));
  });

  describe('1.6 transactionData repeating MeterValues is normal, not a duplicate; repeated messages are', () => {
    const cs = station('CS-TD');
    const base = [
      cs.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      cs.meter16({ tx: 1, at: '2026-03-01T10:30:00Z', values: [{ value: '3000' }] }),
    ];
    const transactionData = [{ timestamp: '2026-03-01T10:30:00Z', sampledValue: [{ value: '3000' }] }];
    const stop = cs.stop16({ tx: 1, meterStop: 6000, at: '2026-03-01T11:00:00Z', transactionData });

    it('given MeterValues, when transactionData repeats them (same time, same value), then nothing is counted or flagged', () => {
      const { events, published } = given(...base).when(stop);
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'session.fact.discarded', reason: 'REPEATED_IN_TRANSACTION_DATA' }),
      );
      const p = only(published);
      expect(p.totals.energyWh).toBe('6000');
      expect(p.dataQuality).toMatchObject({ flags: [], needsReview: false, duplicatesIgnored: 0 });
    });

    it('given an ended session, when the StopTransaction is retried under a new message id, then it is one repeated message', () => {
      const again = given(...base, stop).when(
        cs.stop16({ tx: 1, meterStop: 6000, at: '2026-03-01T11:00:00Z', transactionData }),
      );
      expect(again.published).toEqual([]);
      expect(again.events.map((e) => (e.type === 'session.fact.discarded' ? e.reason : e.type))).toEqual([
        'REPEATED_IN_TRANSACTION_DATA',
        'DUPLICATE_END',
      ]);
      // counted once (the session.ended already published is not re-emitted for a duplicate)
      expect(sessionOf(again.state, sessionIdOf('CS-TD', '1'))).toMatchObject({
        flags: ['DUPLICATES_IGNORED'],
        duplicatesIgnored: 1,
      });
    });

    it('given MeterValues, when the same MeterValues is retried under a new message id, then DUPLICATES_IGNORED counts it', () => {
      const { events } = given(...base).when(
        cs.meter16({ tx: 1, at: '2026-03-01T10:30:00Z', values: [{ value: '3000' }] }),
      );
      expect(events).toEqual([expect.objectContaining({ type: 'session.fact.discarded', reason: 'DUPLICATE_SAMPLE' })]);
      const p = only(
        run([...base, cs.meter16({ tx: 1, at: '2026-03-01T10:30:00Z', values: [{ value: '3000' }] }), stop].flat())
          .published,
      );
      expect(p.dataQuality).toMatchObject({ flags: ['DUPLICATES_IGNORED'], needsReview: false, duplicatesIgnored: 1 });
    });
  });
});

describe('realistic traces', () => {
  it('2.0.1: Started with a 0 Wh placeholder register, Updated at the same timestamp with the real register, samples, Ended', () => {
    const cs = station('CS-TRACE201', 'ocpp2.0.1');
    const recv = (at: string, seconds: number): string => new Date(Date.parse(at) + seconds * 1000).toISOString();
    const tx = 'c3f1e2d4-7a9b-4c1d-8e2f-0a1b2c3d4e5f';
    const trace = (order: 'in order' | 'Updated first') => {
      const start = cs.tx201({
        eventType: 'Started',
        tx,
        seqNo: 0,
        at: '2026-03-01T17:02:11Z',
        triggerReason: 'CablePluggedIn',
        chargingState: 'EVConnected',
        wh: 0,
        receivedAt: recv('2026-03-01T17:02:11Z', 1),
      });
      const real = cs.tx201({
        eventType: 'Updated',
        tx,
        seqNo: 1,
        at: '2026-03-01T17:02:11Z',
        triggerReason: 'ChargingStateChanged',
        chargingState: 'Charging',
        wh: 1834.512,
        unit: 'kWh',
        context: 'Sample.Clock',
        receivedAt: recv('2026-03-01T17:02:11Z', 2),
      });
      const rest = [
        cs.tx201({
          eventType: 'Updated',
          tx,
          seqNo: 2,
          at: '2026-03-01T17:17:11Z',
          wh: 1837.262,
          unit: 'kWh',
          power: 11040,
          receivedAt: recv('2026-03-01T17:17:11Z', 1),
        }),
        cs.tx201({
          eventType: 'Updated',
          tx,
          seqNo: 3,
          at: '2026-03-01T17:32:11Z',
          wh: 1840.013,
          unit: 'kWh',
          power: 11010,
          receivedAt: recv('2026-03-01T17:32:11Z', 1),
        }),
        cs.tx201({
          eventType: 'Updated',
          tx,
          seqNo: 4,
          at: '2026-03-01T17:47:11Z',
          triggerReason: 'ChargingStateChanged',
          chargingState: 'SuspendedEV',
          wh: 1842.108,
          unit: 'kWh',
          receivedAt: recv('2026-03-01T17:47:11Z', 1),
        }),
        cs.tx201({
          eventType: 'Ended',
          tx,
          seqNo: 5,
          at: '2026-03-01T18:05:40Z',
          triggerReason: 'EVDeparted',
          stoppedReason: 'EVDisconnected',
          wh: 1842.109,
          unit: 'kWh',
          receivedAt: recv('2026-03-01T18:05:40Z', 2),
        }),
      ];
      return run((order === 'in order' ? [start, real, ...rest] : [real, start, ...rest]).flat()).published;
    };
    for (const order of ['in order', 'Updated first'] as const) {
      const p = only(trace(order));
      // billed from the first real register (1834.512 kWh), not from the placeholder: 1842.109 - 1834.512 kWh
      expect(p.totals.energyWh).toBe('7597');
      expect(p.energyTimeline.find((x) => x.at === '2026-03-01T17:17:11.000Z')?.cumulativeWh).toBe('2750');
      expect(sumPeriods(p)).toBe('7597');
      expect(p.dataQuality).toMatchObject({
        flags: ['START_REGISTER_PLACEHOLDER'],
        needsReview: true,
        duplicatesIgnored: 0,
      });
    }
  });

  it('1.6: MeterValues during the session, StopTransaction repeating them in transactionData, every message received seconds after its timestamp', () => {
    const cs = station('CS-TRACE16');
    const recv = (at: string, seconds: number): string => new Date(Date.parse(at) + seconds * 1000).toISOString();
    const periodic: Array<[string, string, string]> = [
      ['2026-03-01T10:15:00Z', '1240123', '22080'],
      ['2026-03-01T10:30:00Z', '1245678', '22010'],
      ['2026-03-01T10:45:00Z', '1251234', '21950'],
    ];
    const sv = (wh: string, w: string) => [
      { value: wh, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
      { value: w, context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
    ];
    const { events, published } = run([
      ...cs.status16({ status: 'Preparing', at: '2026-03-01T09:59:50Z', receivedAt: recv('2026-03-01T09:59:50Z', 3) }),
      ...cs.start16({
        tx: 4711,
        meterStart: 1234567,
        at: '2026-03-01T10:00:00Z',
        receivedAt: recv('2026-03-01T10:00:00Z', 2),
      }),
      ...cs.status16({ status: 'Charging', at: '2026-03-01T10:00:04Z', receivedAt: recv('2026-03-01T10:00:04Z', 4) }),
      ...periodic.flatMap(([at, wh, w]) => cs.meter16({ tx: 4711, at, values: sv(wh, w), receivedAt: recv(at, 3) })),
      ...cs.status16({ status: 'Finishing', at: '2026-03-01T10:59:58Z', receivedAt: recv('2026-03-01T10:59:58Z', 2) }),
      ...cs.stop16({
        tx: 4711,
        meterStop: 1256789,
        at: '2026-03-01T11:00:00Z',
        reason: 'EVDisconnected',
        receivedAt: recv('2026-03-01T11:00:00Z', 4),
        transactionData: [
          {
            timestamp: '2026-03-01T10:00:00Z',
            sampledValue: [{ value: '1234567', context: 'Transaction.Begin', unit: 'Wh' }],
          },
          ...periodic.map(([timestamp, wh, w]) => ({ timestamp, sampledValue: sv(wh, w) })),
          {
            timestamp: '2026-03-01T11:00:00Z',
            sampledValue: [{ value: '1256789', context: 'Transaction.End', unit: 'Wh' }],
          },
        ],
      }),
    ]);
    const p = only(published);
    expect(p.totals.energyWh).toBe('22222');
    expect(sumPeriods(p)).toBe('22222');
    expect(p.dataQuality).toEqual({
      flags: [],
      needsReview: false,
      estimated: false,
      missingSeqNos: [],
      duplicatesIgnored: 0,
    });
    expect(
      events
        .filter((e) => e.type === 'session.fact.discarded')
        .map((e) => (e.type === 'session.fact.discarded' ? e.reason : '')),
    ).toEqual(['REPEATED_IN_TRANSACTION_DATA', 'REPEATED_IN_TRANSACTION_DATA', 'REPEATED_IN_TRANSACTION_DATA']);
  });
});

describe('samples outside a transaction', () => {
  it('1.6 MeterValues without transactionId and 2.0.1 MeterValues are not attributed to a session', () => {
    const a = station('CS-X');
    const b = station('CS-Y', 'ocpp2.0.1');
    const g = given(a.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }));
    const r = g.when(
      a.meter16({ at: '2026-03-01T10:30:00Z', values: [{ value: '99999' }] }),
      a.stop16({ tx: 1, meterStop: 100, at: '2026-03-01T11:00:00Z' }),
    );
    expect(only(r.published).totals.energyWh).toBe('100');
    const started = given(b.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', wh: 0 }));
    const { events } = normaliseOrThrow(
      {
        stationId: 'CS-Y',
        protocol: 'ocpp2.0.1',
        kind: 'call',
        action: 'MeterValues',
        payload: { evseId: 1, meterValue: [{ timestamp: '2026-03-01T10:30:00Z', sampledValue: [{ value: 99999 }] }] },
        receivedAt: '2026-03-01T10:30:00Z',
        connectionId: 'c',
        gatewayInstance: 'g',
      },
      { eventId: 'mv-1' },
    );
    expect(started.when([{ type: 'RecordChargerEvents', events }]).events).toEqual([]);
  });
});

describe('out of order and offline', () => {
  it('1.6 messages queued offline and delivered days late are priced at station time, flagged DELIVERED_LATE', () => {
    const cs = station('CS-O');
    const late = '2026-03-04T08:00:00Z';
    const { published } = run([
      ...cs.start16({ tx: 2, meterStart: 100, at: '2026-03-01T10:00:00Z', receivedAt: late }),
      ...cs.wh16({ tx: 2, at: '2026-03-01T10:30:00Z', wh: '1100', receivedAt: late }),
      ...cs.stop16({ tx: 2, meterStop: 2100, at: '2026-03-01T11:00:00Z', receivedAt: late }),
    ]);
    const p = only(published);
    expect(p).toMatchObject({
      startedAt: '2026-03-01T10:00:00.000Z',
      endedAt: '2026-03-01T11:00:00.000Z',
      totals: { energyWh: '2000', timeSeconds: '3600' },
    });
    expect(p.dataQuality.flags).toEqual(['DELIVERED_LATE']);
    expect(p.dataQuality.needsReview).toBe(false);
  });

  describe('lateness is the delay of a message (its own timestamp to its receipt), never the age of a sample in it', () => {
    const cs = station('CS-LT');
    const history = [
      cs.start16({ tx: 1, meterStart: 1000, at: '2026-03-01T10:00:00Z', receivedAt: '2026-03-01T10:00:04Z' }),
      cs.wh16({ tx: 1, at: '2026-03-01T10:30:00Z', wh: '4000', receivedAt: '2026-03-01T10:30:03Z' }),
    ];
    const transactionData = [
      { timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: '1000', context: 'Transaction.Begin' }] },
      { timestamp: '2026-03-01T10:45:00Z', sampledValue: [{ value: '5500' }] },
    ];

    it('given a 1.6 session, when StopTransaction arrives 5 s after its timestamp with transactionData sampled up to an hour earlier, then it is not late', () => {
      const { published } = given(...history).when(
        cs.stop16({
          tx: 1,
          meterStop: 7000,
          at: '2026-03-01T11:00:00Z',
          receivedAt: '2026-03-01T11:00:05Z',
          transactionData,
        }),
      );
      const p = only(published);
      expect(p.totals.energyWh).toBe('6000');
      expect(p.dataQuality.flags).toEqual([]);
    });

    it('given a 1.6 session, when its StopTransaction is received 20 min after its own timestamp, then DELIVERED_LATE', () => {
      const { published } = given(...history).when(
        cs.stop16({
          tx: 1,
          meterStop: 7000,
          at: '2026-03-01T11:00:00Z',
          receivedAt: '2026-03-01T11:20:00Z',
          transactionData,
        }),
      );
      expect(only(published).dataQuality.flags).toEqual(['DELIVERED_LATE']);
    });

    it.each([
      [
        'sampled 40 min before a message received 5 s after its timestamp',
        '2026-03-01T10:30:00Z',
        '2026-03-01T10:30:05Z',
        [],
      ],
      [
        'whose own timestamp is 40 min before its receipt',
        '2026-03-01T10:30:00Z',
        '2026-03-01T11:10:00Z',
        ['DELIVERED_LATE'],
      ],
    ])('2.0.1: an Updated meter value %s', (_, at, receivedAt, flags) => {
      const v = station('CS-LT2', 'ocpp2.0.1');
      const { published } = given(
        v.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T09:00:00Z', wh: 1000 }),
      ).when(
        v.tx201({ eventType: 'Updated', seqNo: 1, at, sampledAt: '2026-03-01T09:50:00Z', wh: 3000, receivedAt }),
        v.tx201({ eventType: 'Ended', seqNo: 2, at: '2026-03-01T11:10:00Z', wh: 5000 }),
      );
      expect(only(published).dataQuality.flags).toEqual(flags);
    });

    it('a message stamped with an unset clock is flagged for its clock, and its samples are not judged late by that stamp', () => {
      const { published } = given(...history).when(
        cs.stop16({
          tx: 1,
          meterStop: 7000,
          at: '2001-01-01T00:00:00Z',
          receivedAt: '2026-03-01T11:00:05Z',
          transactionData,
        }),
      );
      expect(only(published).dataQuality.flags).toEqual(expect.arrayContaining(['STATION_CLOCK_INVALID']));
      expect(only(published).dataQuality.flags).not.toContain('DELIVERED_LATE');
    });
  });

  it('2.0.1 offline events are flagged OFFLINE_QUEUED', () => {
    const cs = station('CS-OQ', 'ocpp2.0.1');
    const { published } = run([
      ...cs.tx201({
        eventType: 'Started',
        seqNo: 0,
        at: '2026-03-01T10:00:00Z',
        wh: 0,
        offline: true,
        receivedAt: '2026-03-03T10:00:00Z',
      }),
      ...cs.tx201({
        eventType: 'Ended',
        seqNo: 1,
        at: '2026-03-01T11:00:00Z',
        wh: 7000,
        offline: true,
        receivedAt: '2026-03-03T10:00:00Z',
      }),
    ]);
    expect(only(published).dataQuality.flags).toEqual(['OFFLINE_QUEUED']);
  });

  it('2.0.1 messages out of order (Updated and Ended before Started) give the same session as in order', () => {
    const cs = station('CS-OO', 'ocpp2.0.1');
    const s = cs.tx201({
      eventType: 'Started',
      seqNo: 0,
      at: '2026-03-01T10:00:00Z',
      chargingState: 'Charging',
      wh: 1000,
    });
    const u = cs.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:30:00Z', wh: 4000 });
    const e = cs.tx201({ eventType: 'Ended', seqNo: 2, at: '2026-03-01T11:00:00Z', wh: 7000 });
    const inOrder = only(run([...s, ...u, ...e]).published);
    const shuffled = run([...u, ...e, ...s]);
    const p = only(shuffled.published);
    expect(p.totals).toEqual(inOrder.totals);
    expect(p.chargingPeriods).toEqual(inOrder.chargingPeriods);
    expect(p.startedAt).toBe('2026-03-01T10:00:00.000Z');
    expect(p.dataQuality.flags).toEqual([]);
    // the session was opened by the early Updated, flagged as missing its start until it came
    expect(shuffled.published[0]).toMatchObject({ type: 'session.started', payload: { startKnown: false } });
  });

  it('a meter value older than the start is dropped and flagged', () => {
    const cs = station('CS-W');
    const { published } = run([
      ...cs.start16({ tx: 2, meterStart: 100, at: '2026-03-01T10:00:00Z' }),
      ...cs.wh16({ tx: 2, at: '2026-03-01T08:00:00Z', wh: '50' }),
      ...cs.stop16({ tx: 2, meterStop: 600, at: '2026-03-01T11:00:00Z' }),
    ]);
    expect(only(published).totals.energyWh).toBe('500');
    expect(only(published).dataQuality.flags).toContain('READING_OUTSIDE_SESSION');
  });
});

describe('2.0.1 seqNo gaps', () => {
  const cs = station('CS-G', 'ocpp2.0.1');
  const s0 = cs.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', chargingState: 'Charging', wh: 0 });
  const u1 = cs.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:20:00Z', wh: 2000 });
  const u2 = cs.tx201({
    eventType: 'Updated',
    seqNo: 2,
    at: '2026-03-01T10:40:00Z',
    wh: 4000,
    chargingState: 'SuspendedEV',
  });
  const e3 = cs.tx201({
    eventType: 'Ended',
    seqNo: 3,
    at: '2026-03-01T11:00:00Z',
    wh: 5000,
    receivedAt: '2026-03-01T11:00:01Z',
  });

  it('given a gap, when the end arrives, then the session is held incomplete (no session.ended) and the gap is reported', () => {
    const { published } = given(s0, u1).when(e3);
    expect(typesOf(published)).toEqual(['session.updated']);
    expect(updatesOf(published)[0].payload).toMatchObject({
      status: 'incomplete',
      missingSeqNos: [2],
      flags: ['SEQNO_GAP'],
    });
  });

  it('given a held session, when the missing seqNo arrives, then session.ended without SEQNO_GAP', () => {
    const { published } = given(s0, u1, e3).when(u2);
    const p = only(published);
    expect(p.closure).toBe('stop');
    expect(p.dataQuality.flags).toEqual([]);
    expect(p.chargingPeriods.map((x) => x.category)).toEqual(['CHARGING', 'PARKING']);
  });

  it('given a held session, when 24 h of event time pass, then it is closed with SEQNO_GAP and needs review', () => {
    const g = given(s0, u1, e3);
    expect(g.when(closeStale('2026-03-02T11:00:00Z')).published).toEqual([]);
    const p = only(g.when(closeStale('2026-03-02T11:00:01Z')).published);
    expect(p).toMatchObject({
      closure: 'incomplete-timeout',
      endedAt: '2026-03-01T11:00:00.000Z',
      totals: { energyWh: '5000' },
    });
    expect(p.dataQuality).toMatchObject({ flags: ['SEQNO_GAP'], needsReview: true, missingSeqNos: [2] });
  });

  it('a continuously increasing seqNo (not starting at 0) is no gap', () => {
    const c = station('CS-G2', 'ocpp2.0.1');
    const { published } = run([
      ...c.tx201({ eventType: 'Started', seqNo: 40, at: '2026-03-01T10:00:00Z', wh: 0 }),
      ...c.tx201({ eventType: 'Ended', seqNo: 41, at: '2026-03-01T11:00:00Z', wh: 10 }),
    ]);
    expect(only(published).dataQuality.flags).toEqual([]);
  });
});

describe('meter data pitfalls', () => {
  it('2.0.1 Ended without a stop meter value: energy from the last sample, flagged estimated', () => {
    const cs = station('CS-S', 'ocpp2.0.1');
    const { published } = run([
      ...cs.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', wh: 100 }),
      ...cs.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:45:00Z', wh: 5100 }),
      ...cs.tx201({ eventType: 'Ended', seqNo: 2, at: '2026-03-01T11:00:00Z', stoppedReason: 'PowerLoss' }),
    ]);
    const p = only(published);
    expect(p.totals.energyWh).toBe('5000');
    expect(p.meterStopWh).toBeUndefined();
    expect(p.dataQuality).toMatchObject({ flags: ['ENERGY_FROM_LAST_SAMPLE'], estimated: true, needsReview: false });
  });

  it('1.6 meterStop 0 after non-zero readings is a failed read: last sample used, flagged for review', () => {
    const cs = station('CS-Z');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 1000, at: '2026-03-01T10:00:00Z' }),
      ...cs.wh16({ tx: 1, at: '2026-03-01T10:50:00Z', wh: '4000' }),
      ...cs.stop16({ tx: 1, meterStop: 0, at: '2026-03-01T11:00:00Z' }),
    ]);
    const p = only(published);
    expect(p.totals.energyWh).toBe('3000');
    expect(p.dataQuality.flags).toEqual(['ENERGY_FROM_LAST_SAMPLE', 'STOP_METER_VALUE_ZERO']);
    expect(p.dataQuality.needsReview).toBe(true);
  });

  it('meterStop below meterStart: energy is 0, never negative, flagged for review', () => {
    const cs = station('CS-B');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 5000, at: '2026-03-01T10:00:00Z' }),
      ...cs.stop16({ tx: 1, meterStop: 4000, at: '2026-03-01T11:00:00Z' }),
    ]);
    const p = only(published);
    expect(p.totals.energyWh).toBe('0');
    expect(p.chargingPeriods.every((x) => !new Decimal(x.energyWh).isNeg())).toBe(true);
    expect(p.dataQuality).toMatchObject({ flags: ['REGISTER_WENT_BACKWARDS'], needsReview: true });
  });

  it('register reset mid-session: increases before and after the reset count, the drop does not', () => {
    const cs = station('CS-RS');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 1000, at: '2026-03-01T10:00:00Z' }),
      ...cs.wh16({ tx: 1, at: '2026-03-01T10:20:00Z', wh: '5000' }),
      ...cs.wh16({ tx: 1, at: '2026-03-01T10:30:00Z', wh: '200' }),
      ...cs.wh16({ tx: 1, at: '2026-03-01T10:50:00Z', wh: '1200' }),
      ...cs.stop16({ tx: 1, meterStop: 1300, at: '2026-03-01T11:00:00Z' }),
    ]);
    const p = only(published);
    expect(p.totals.energyWh).toBe('5100');
    expect(p.dataQuality.flags).toEqual(['REGISTER_WENT_BACKWARDS']);
  });

  it('Transaction.Begin placeholder 0 followed by a 910 kWh register: bills the real increase, not 910 kWh (1.6)', () => {
    const cs = station('CS-PH');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      ...cs.wh16({ tx: 1, at: '2026-03-01T10:01:00Z', wh: '910000' }),
      ...cs.wh16({ tx: 1, at: '2026-03-01T10:30:00Z', wh: '925000' }),
      ...cs.stop16({ tx: 1, meterStop: 940000, at: '2026-03-01T11:00:00Z' }),
    ]);
    const p = only(published);
    expect(p.totals.energyWh).toBe('30000');
    expect(p.dataQuality.flags).toEqual(['START_REGISTER_PLACEHOLDER']);
    expect(p.dataQuality.needsReview).toBe(true);
  });

  it('Transaction.Begin placeholder 0 followed by a 910 kWh register (2.0.1, kWh with multiplier)', () => {
    const cs = station('CS-PH2', 'ocpp2.0.1');
    const { published } = run([
      ...cs.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', wh: 0 }),
      ...cs.tx201({
        eventType: 'Updated',
        seqNo: 1,
        at: '2026-03-01T10:15:00Z',
        wh: 91000,
        unit: 'kWh',
        multiplier: -2,
      }),
      ...cs.tx201({ eventType: 'Ended', seqNo: 2, at: '2026-03-01T11:00:00Z', wh: 92000, unit: 'kWh', multiplier: -2 }),
    ]);
    const p = only(published);
    expect(p.totals.energyWh).toBe('10000');
    expect(p.dataQuality.flags).toEqual(['START_REGISTER_PLACEHOLDER']);
  });

  describe('readings at the same instant with different values are all kept (not duplicates), in either order of arrival', () => {
    const cs = station('CS-SI', 'ocpp2.0.1');
    const T0 = '2026-03-01T10:00:00Z';
    const started = (wh: number) =>
      cs.tx201({ eventType: 'Started', seqNo: 0, at: T0, chargingState: 'EVConnected', wh });
    const real = cs.tx201({
      eventType: 'Updated',
      seqNo: 1,
      at: T0,
      triggerReason: 'ChargingStateChanged',
      chargingState: 'Charging',
      wh: 910000,
      context: 'Sample.Clock',
    });
    const later = [
      cs.tx201({ eventType: 'Updated', seqNo: 2, at: '2026-03-01T10:15:00Z', wh: 912750 }),
      cs.tx201({ eventType: 'Ended', seqNo: 3, at: '2026-03-01T10:30:00Z', wh: 915000 }),
    ];

    it.each([
      ['a 0 Wh placeholder, placeholder first', 0, 'placeholder', 'START_REGISTER_PLACEHOLDER'],
      ['a 0 Wh placeholder, real register first', 0, 'real', 'START_REGISTER_PLACEHOLDER'],
      ['a stale register far below, placeholder first', 12345, 'placeholder', 'ENERGY_JUMP_IMPLAUSIBLE'],
      ['a stale register far below, real register first', 12345, 'real', 'ENERGY_JUMP_IMPLAUSIBLE'],
    ])('given %s, when the rest arrives, then billing starts at the real register', (_, placeholder, first, flag) => {
      const history = first === 'placeholder' ? [started(placeholder), real] : [real, started(placeholder)];
      const { published } = given(...history).when(...later);
      const p = only(published);
      expect(p.totals.energyWh).toBe('5000');
      expect(p.energyTimeline.find((x) => x.at === '2026-03-01T10:15:00.000Z')?.cumulativeWh).toBe('2750');
      expect(p.dataQuality.flags).toEqual([flag]);
    });

    it('given a Started reading, when an Updated repeats it at the same instant (same value), then it is one reading', () => {
      const { published } = given(started(910000)).when(
        cs.tx201({ eventType: 'Updated', seqNo: 1, at: T0, wh: 910000 }),
        ...later,
      );
      const p = only(published);
      expect(p.totals.energyWh).toBe('5000');
      expect(p.energyTimeline.map((x) => x.cumulativeWh)).toEqual(['0', '2750', '5000']);
      expect(p.dataQuality).toMatchObject({ flags: [], duplicatesIgnored: 0 });
    });

    it.each([
      ['lower first', ['3000', '3100']],
      ['higher first', ['3100', '3000']],
    ])(
      '1.6: two MeterValues at one instant with different values (%s) are ordered by value: no backwards step',
      (_, values) => {
        const c16 = station('CS-SI16');
        const { published } = given(
          c16.start16({ tx: 1, meterStart: 1000, at: T0 }),
          ...values.map((wh) => c16.wh16({ tx: 1, at: '2026-03-01T10:30:00Z', wh })),
        ).when(c16.stop16({ tx: 1, meterStop: 6000, at: '2026-03-01T11:00:00Z' }));
        const p = only(published);
        expect(p.totals.energyWh).toBe('5000');
        expect(p.energyTimeline.map((x) => x.cumulativeWh)).toEqual(['0', '2000', '2100', '5000']);
        expect(p.dataQuality.flags).toEqual([]);
      },
    );
  });

  it('Wh values mislabelled kWh (a ×1000 jump) are not billed and are flagged', () => {
    const cs = station('CS-MU');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 10000, at: '2026-03-01T10:00:00Z' }),
      ...cs.meter16({ tx: 1, at: '2026-03-01T10:30:00Z', values: [{ value: '12000', unit: 'kWh' }] }),
      ...cs.stop16({ tx: 1, meterStop: 14000, at: '2026-03-01T11:00:00Z' }),
    ]);
    const p = only(published);
    expect(p.dataQuality.flags).toEqual(expect.arrayContaining(['ENERGY_JUMP_IMPLAUSIBLE', 'REGISTER_WENT_BACKWARDS']));
    expect(p.totals.energyWh).toBe('0');
    expect(p.dataQuality.needsReview).toBe(true);
  });

  it('signed meter values are carried to session.ended untouched', () => {
    const cs = station('CS-SG');
    const ocmf = 'OCMF|{"FV":"1.0","RD":[{"TX":"E","RV":8.36706}]}|{"SD":"3045"}';
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      ...cs.stop16({
        tx: 1,
        meterStop: 8000,
        at: '2026-03-01T11:00:00Z',
        transactionData: [
          {
            timestamp: '2026-03-01T11:00:00Z',
            sampledValue: [{ value: ocmf, format: 'SignedData', context: 'Transaction.End' }],
          },
        ],
      }),
    ]);
    expect(only(published).signedMeterValues).toEqual([
      {
        at: '2026-03-01T11:00:00.000Z',
        context: 'Transaction.End',
        measurand: 'Energy.Active.Import.Register',
        signed: { format: 'ocpp1.6-SignedData', data: ocmf },
      },
    ]);
  });
});

describe('time', () => {
  it('a session across midnight and the spring DST change lasts its real duration', () => {
    const cs = station('CS-DST');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 0, at: '2026-03-28T23:30:00+01:00' }),
      ...cs.wh16({ tx: 1, at: '2026-03-29T01:59:00+01:00', wh: '2000' }),
      ...cs.wh16({ tx: 1, at: '2026-03-29T03:01:00+02:00', wh: '2100' }),
      ...cs.stop16({ tx: 1, meterStop: 3000, at: '2026-03-29T03:30:00+02:00' }),
    ]);
    const p = only(published);
    expect(p).toMatchObject({
      startedAt: '2026-03-28T22:30:00.000Z',
      endedAt: '2026-03-29T01:30:00.000Z',
      totals: { timeSeconds: '10800', energyWh: '3000' },
    });
    expect(p.energyTimeline.map((x) => x.at)).toEqual([
      '2026-03-28T22:30:00.000Z',
      '2026-03-29T00:59:00.000Z',
      '2026-03-29T01:01:00.000Z',
      '2026-03-29T01:30:00.000Z',
    ]);
  });

  it('a station clock far in the future is flagged for review', () => {
    const cs = station('CS-F');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 0, at: '2031-03-01T10:00:00Z', receivedAt: '2026-03-01T10:00:00Z' }),
      ...cs.stop16({ tx: 1, meterStop: 10, at: '2031-03-01T11:00:00Z', receivedAt: '2026-03-01T11:00:00Z' }),
    ]);
    expect(only(published).dataQuality).toMatchObject({ flags: ['STATION_CLOCK_AHEAD'], needsReview: true });
  });

  it('a station clock far in the past (unset, 1970) is flagged for review', () => {
    const cs = station('CS-P70');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 0, at: '1970-01-01T00:00:10Z', receivedAt: '2026-03-01T10:00:00Z' }),
      ...cs.stop16({ tx: 1, meterStop: 10, at: '1970-01-01T01:00:10Z', receivedAt: '2026-03-01T11:00:00Z' }),
    ]);
    expect(only(published).dataQuality).toMatchObject({ flags: ['STATION_CLOCK_INVALID'], needsReview: true });
  });

  it('a stop timestamped before the start gives zero duration, flagged', () => {
    const cs = station('CS-EB');
    const { published } = run([
      ...cs.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      ...cs.stop16({ tx: 1, meterStop: 10, at: '2026-03-01T09:00:00Z' }),
    ]);
    const p = only(published);
    expect(p.totals.timeSeconds).toBe('0');
    expect(p.dataQuality.flags).toContain('END_BEFORE_START');
  });
});

describe('transaction never stopped', () => {
  const cs = station('CS-NS');
  const first = [
    cs.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
    cs.wh16({ tx: 1, at: '2026-03-01T10:40:00Z', wh: '4000' }),
  ];

  it('given an open session, when a new StartTransaction on the same connector arrives, then the old one ends at its last event, flagged', () => {
    const { published } = given(...first).when(cs.start16({ tx: 2, meterStart: 4100, at: '2026-03-01T12:00:00Z' }));
    expect(typesOf(published)).toEqual(['session.ended', 'session.started']);
    const p = only(published);
    expect(p).toMatchObject({
      transactionId: '1',
      closure: 'new-transaction',
      endedAt: '2026-03-01T10:40:00.000Z',
      totals: { energyWh: '4000' },
    });
    expect(p.dataQuality).toMatchObject({
      flags: ['CLOSED_BY_NEW_TRANSACTION', 'ENERGY_FROM_LAST_SAMPLE', 'NEVER_STOPPED'],
      needsReview: true,
      estimated: true,
    });
  });

  it('2.0.1: a new Started on the same EVSE closes the open transaction there', () => {
    const c = station('CS-NS2', 'ocpp2.0.1');
    const { published } = given(
      c.tx201({
        eventType: 'Started',
        tx: 'A',
        seqNo: 0,
        at: '2026-03-01T10:00:00Z',
        chargingState: 'Charging',
        wh: 0,
      }),
      c.tx201({ eventType: 'Updated', tx: 'A', seqNo: 1, at: '2026-03-01T10:30:00Z', wh: 2000 }),
    ).when(
      c.tx201({
        eventType: 'Started',
        tx: 'B',
        seqNo: 2,
        at: '2026-03-01T13:00:00Z',
        chargingState: 'Charging',
        wh: 2100,
      }),
    );
    expect(typesOf(published)).toEqual(['session.ended', 'session.started']);
    expect(only(published)).toMatchObject({
      transactionId: 'A',
      closure: 'new-transaction',
      endedAt: '2026-03-01T10:30:00.000Z',
      totals: { energyWh: '2000' },
    });
  });

  it('a new transaction on another connector does not close it', () => {
    const { published } = given(...first).when(
      cs.start16({ tx: 2, connectorId: 2, meterStart: 0, at: '2026-03-01T12:00:00Z' }),
    );
    expect(typesOf(published)).toEqual(['session.started']);
  });

  it('given an open session, when 72 h of event time pass without a message, then it is closed by timeout', () => {
    const g = given(...first);
    expect(g.when(closeStale('2026-03-04T10:39:59Z')).published).toEqual([]);
    const p = only(g.when(closeStale('2026-03-04T10:40:00Z')).published);
    expect(p).toMatchObject({ closure: 'timeout', endedAt: '2026-03-01T10:40:00.000Z' });
    expect(p.dataQuality.flags).toEqual(['CLOSED_BY_TIMEOUT', 'ENERGY_FROM_LAST_SAMPLE', 'NEVER_STOPPED']);
  });

  it('given a session closed by rule, when its StopTransaction finally arrives, then session.ended revision 2 replaces it', () => {
    const g = given(...first, closeStale('2026-03-05T00:00:00Z'));
    const { published } = g.when(
      cs.stop16({ tx: 1, meterStop: 5000, at: '2026-03-01T11:00:00Z', receivedAt: '2026-03-05T01:00:00Z' }),
    );
    const p = only(published);
    expect(p).toMatchObject({
      revision: 2,
      closure: 'stop',
      endedAt: '2026-03-01T11:00:00.000Z',
      totals: { energyWh: '5000' },
    });
    expect(p.dataQuality.flags).toEqual(['DELIVERED_LATE', 'REVISED_AFTER_CLOSE']);
    expect(published[0].id).not.toBe(endedOf(g.when(closeStale('2026-03-05T00:00:00Z')).published)[0]?.id);
  });

  it('ended sessions are forgotten after the retention; a late event then opens a new session flagged START_MISSING', () => {
    const c = station('CS-FG');
    const g = given(
      c.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      c.stop16({ tx: 1, meterStop: 10, at: '2026-03-01T11:00:00Z' }),
      closeStale('2026-03-03T11:00:00Z'),
    );
    expect(g.state.sessions).toEqual([]);
    expect(g.state.closed).toEqual({});
    const { published } = g.when(c.wh16({ tx: 1, at: '2026-03-01T10:30:00Z', wh: '5' }));
    expect(published[0]).toMatchObject({ type: 'session.started', payload: { startKnown: false } });
  });
});

describe('determinism', () => {
  it('the same records in the same order give deep-equal output with the same ids', () => {
    const build = () => {
      const cs = station('CS-DET', 'ocpp2.0.1');
      return [
        ...cs.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', chargingState: 'Charging', wh: 0 }),
        ...cs.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:20:00Z', wh: 3000, power: 9000 }),
        ...cs.tx201({ eventType: 'Updated', seqNo: 2, at: '2026-03-01T10:40:00Z', chargingState: 'SuspendedEV' }),
        ...cs.tx201({ eventType: 'Ended', seqNo: 3, at: '2026-03-01T11:00:00Z', wh: 6000 }),
      ];
    };
    const a = run(build());
    const b = run(build());
    expect(a.events).toEqual(b.events);
    expect(a.state).toEqual(b.state);
    expect(new Set(a.published.map((e) => e.id)).size).toBe(a.published.length);
  });

  it('a state persisted as JSON between records (as the service stores it) gives the same events', () => {
    const build = () => {
      const cs = station('CS-JSON');
      return [
        ...cs.status16({ status: 'Charging', at: '2026-03-01T09:59:00Z' }),
        ...cs.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
        ...cs.meter16({
          tx: 1,
          at: '2026-03-01T10:20:00Z',
          values: [{ value: '3000' }, { value: '9000', measurand: 'Power.Active.Import', unit: 'W' }],
        }),
        ...cs.wh16({ tx: 1, at: '2026-03-01T10:10:00Z', wh: '1500' }),
        ...cs.status16({ status: 'SuspendedEV', at: '2026-03-01T10:40:00Z' }),
        ...cs.stop16({ tx: 1, meterStop: 5000, at: '2026-03-01T11:00:00Z' }),
        ...cs.wh16({ tx: 1, at: '2026-03-01T10:50:00Z', wh: '4500', receivedAt: '2026-03-02T10:00:00Z' }),
      ];
    };
    const direct = run(build());
    let state = sessionDecider().initialState();
    const events = [];
    for (const c of build()) {
      const r = run([c], JSON.parse(JSON.stringify(state)));
      events.push(...r.events);
      state = r.state;
    }
    expect(JSON.parse(JSON.stringify(events))).toEqual(JSON.parse(JSON.stringify(direct.events)));
    expect(endedOf(direct.events).map((e) => e.payload.revision)).toEqual([1, 2]);
  });

  it('evolve rebuilds the state from the decided events alone', () => {
    const cs = station('CS-EV');
    const { events, state } = run([
      ...cs.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      ...cs.status16({ status: 'Charging', at: '2026-03-01T10:00:01Z' }),
      ...cs.wh16({ tx: 1, at: '2026-03-01T10:30:00Z', wh: '3000' }),
      ...cs.stop16({ tx: 1, meterStop: 5000, at: '2026-03-01T11:00:00Z' }),
    ]);
    expect(replay(sessionDecider(), events)).toEqual(state);
  });

  it('the caches of a decider are not state: one decider for many stations, or a new one per record, decide the same', () => {
    for (const seed of [5, 13]) {
      const cmds = [...randomStationCommands(seed), ...randomStationCommands(seed + 100)];
      const shared = run(cmds);
      let state = sessionDecider().initialState();
      const events = [];
      for (const c of cmds) {
        const r = handle(c, state); // a new decider (empty caches) for each record
        events.push(...r.events);
        state = r.state;
      }
      expect(JSON.stringify(events)).toBe(JSON.stringify(shared.events));
      expect(JSON.stringify(state)).toBe(JSON.stringify(shared.state));
    }
  });

  it('decideAndEvolve gives the events of decide and the state of folding them (the kernel decider contract)', () => {
    const d = sessionDecider();
    let state = d.initialState();
    for (const c of randomStationCommands(8)) {
      const both = d.decideAndEvolve(c, state);
      const events = d.decide(c, state);
      expect(both.events).toEqual(events);
      expect(both.state).toEqual(fold(d.evolve, state, events));
      state = both.state;
    }
  });
});
