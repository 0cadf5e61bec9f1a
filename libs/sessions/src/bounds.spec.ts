import Decimal from 'decimal.js';
import { SESSION_ENDED_LIMITS, SessionEndedV2, sourceHash, systemCatalogue } from '@csms/contracts';
import { endedOf, longSession16, run, station } from './spec-helpers';

/**
 * session.ended v2 has a size that does not grow with the session (rules in @csms/contracts session-bounds):
 * given/when/then over long sessions.
 */
const catalogue = systemCatalogue();
const encoded = (e: unknown) =>
  Buffer.byteLength(catalogue.encode(catalogue.check({ ...(e as object), source: 'session-service' })), 'utf8');
const KB = 1024;

/** Linear interpolation of a timeline at `ms` (right-continuous), exact, as billing interpolates. */
function interpolate(timeline: Array<{ at: string; cumulativeWh: string }>, ms: number): Decimal {
  const pts = timeline.map((p) => ({ ms: Date.parse(p.at), wh: new Decimal(p.cumulativeWh) }));
  let k = 0;
  while (k < pts.length && pts[k].ms <= ms) k++;
  if (k === 0) return pts[0].wh;
  if (k === pts.length) return pts[pts.length - 1].wh;
  const a = pts[k - 1];
  const b = pts[k];
  return a.wh.plus(
    b.wh
      .minus(a.wh)
      .times(ms - a.ms)
      .div(b.ms - a.ms),
  );
}

describe('session.ended v2: bounded whatever the session length', () => {
  it('given a short session, when it stops, then its timeline is exact: every reading, as before', () => {
    const s = longSession16({ from: '2026-03-10T10:00:00Z', samples: 60, intervalSeconds: 60 });
    const [e] = endedOf(run(s.commands).events);
    expect(e.version).toBe(2);
    expect(e.payload.energyTimelineResolution).toEqual({ mode: 'exact', points: 62 });
    expect(e.payload.energyTimeline).toEqual(s.timeline);
    expect(e.payload.sources).toEqual([
      expect.objectContaining({ topic: 'ocpp.inbound', partition: 0, count: s.commands.length - 1 }),
    ]);
  });

  describe('given a 24-hour 1.6 session sampled every 5 seconds (17,280 MeterValues)', () => {
    const s = longSession16({
      from: '2026-03-10T06:00:00Z',
      samples: 17_280,
      intervalSeconds: 5,
      flipEverySamples: 2_000,
      signedEverySamples: 100,
    });
    const { events } = run(s.commands);
    const [e] = endedOf(events);
    const p = e.payload;

    it('when it stops, then session.ended is a valid v2 well under 256 KB', () => {
      expect(p.totals.energyWh).toBe(String(s.energyWh));
      expect(encoded(e)).toBeLessThan(256 * KB);
      // the figure for v1 was 490 KB at 3,000 samples
      expect(encoded(e)).toBeLessThan(150 * KB);
    });

    it('then the timeline is resampled on a 60 s grid, keeping the start, the end and every period boundary', () => {
      expect(p.energyTimelineResolution).toEqual({ mode: 'resampled', gridSeconds: 60, points: 17_282 });
      const at = new Set(p.energyTimeline.map((x) => x.at));
      expect(at.has(p.startedAt)).toBe(true);
      expect(at.has(p.endedAt)).toBe(true);
      for (const period of p.chargingPeriods.slice(1)) expect(at.has(period.startDateTime)).toBe(true);
      expect(p.energyTimeline.length).toBeLessThanOrEqual(SESSION_ENDED_LIMITS.timelinePoints);
      // start, end, the 1,440 minutes in between, and the period boundaries (never on a minute here)
      expect(p.energyTimeline.length).toBe(1_442 + p.chargingPeriods.length - 1);
    });

    it('then each resampled point is the exact interpolation of the full timeline (floored to 1 µWh)', () => {
      for (const x of p.energyTimeline.filter((_, i) => i % 97 === 0)) {
        const exact = interpolate(s.timeline, Date.parse(x.at));
        expect(new Decimal(x.cumulativeWh).lte(exact)).toBe(true);
        expect(exact.minus(x.cumulativeWh).lt('0.000001')).toBe(true);
      }
    });

    it('then the sources are one range: first and last offset, the count and the hash of the used records', () => {
      const ids = Array.from({ length: s.commands.length }, (_, i) => `CS-LONG-rec-${i + 1}`).slice(1); // the Preparing status precedes the session
      expect(p.sources).toEqual([
        {
          topic: 'ocpp.inbound',
          partition: 0,
          firstOffset: '2',
          lastOffset: String(s.commands.length),
          count: ids.length,
          sha256: sourceHash(ids),
        },
      ]);
    });

    it('then the signed values kept are the Transaction.Begin and Transaction.End ones and two others; the rest are counted', () => {
      expect(p.signedMeterValues.map((v) => v.context)).toEqual([
        'Transaction.Begin',
        'Sample.Periodic',
        'Sample.Periodic',
        'Transaction.End',
      ]);
      expect(p.signedMeterValuesOmitted).toBe(2 + 172 - 4);
      expect(p.signedMeterValues[1].at < p.signedMeterValues[2].at).toBe(true);
    });
  });

  // (every 30 s, not 5: each state change also emits a session.updated that recomputes the running energy
  // over all readings, quadratic in this test's size; the bound itself does not depend on the rate)
  it('given a station flipping Charging / SuspendedEV every 30 s for 24 h, when it stops, then at most 64 periods, merged and flagged, keeping time and energy per category', () => {
    const s = longSession16({
      stationId: 'CS-FLIP',
      from: '2026-03-10T06:00:00Z',
      samples: 2_880,
      intervalSeconds: 30,
      flipEverySamples: 1,
    });
    const [e] = endedOf(run(s.commands).events);
    const p = e.payload;
    expect(p.chargingPeriods.length).toBeLessThanOrEqual(SESSION_ENDED_LIMITS.chargingPeriods);
    expect(p.dataQuality.flags).toContain('CHARGING_PERIODS_MERGED');
    expect(p.dataQuality.needsReview).toBe(true);
    // contiguous from start to end, energies summing exactly to the total
    expect(p.chargingPeriods[0].startDateTime).toBe(p.startedAt);
    expect(p.chargingPeriods[p.chargingPeriods.length - 1].endDateTime).toBe(p.endedAt);
    for (let i = 1; i < p.chargingPeriods.length; i++)
      expect(p.chargingPeriods[i].startDateTime).toBe(p.chargingPeriods[i - 1].endDateTime);
    expect(p.chargingPeriods.reduce((a, x) => a.plus(x.energyWh), new Decimal(0)).toFixed()).toBe(p.totals.energyWh);
    expect(p.chargingPeriods.reduce((a, x) => a.plus(x.durationSeconds), new Decimal(0)).toFixed()).toBe(
      p.totals.timeSeconds,
    );
    const parking = p.chargingPeriods.filter((x) => x.category === 'PARKING');
    expect(parking.reduce((a, x) => a.plus(x.durationSeconds), new Decimal(0)).toFixed()).toBe(
      p.totals.parkingTimeSeconds,
    );
    expect(p.chargingPeriods.map((x) => x.category)).toEqual(expect.arrayContaining(['CHARGING', 'PARKING']));
    expect(encoded(e)).toBeLessThan(256 * KB);
  });

  it('given a 24-hour session sampled every second (86,400 MeterValues), when it stops, then session.ended is as small as at 5 s', () => {
    const s = longSession16({ stationId: 'CS-1S', from: '2026-03-10T06:00:00Z', samples: 86_400, intervalSeconds: 1 });
    const [e] = endedOf(run(s.commands).events);
    expect(e.payload.energyTimelineResolution).toEqual({ mode: 'resampled', gridSeconds: 60, points: 86_402 });
    expect(encoded(e)).toBeLessThan(100 * KB);
  });

  it('given a session of three days, when it stops, then the grid step grows (180 s) and the timeline stays within its limit', () => {
    const s = longSession16({
      stationId: 'CS-3D',
      from: '2026-03-10T06:00:00Z',
      samples: 3 * 1440,
      intervalSeconds: 60,
    });
    const [e] = endedOf(run(s.commands).events);
    expect(e.payload.energyTimelineResolution).toMatchObject({ mode: 'resampled', gridSeconds: 180 });
    expect(e.payload.energyTimeline.length).toBeLessThanOrEqual(SESSION_ENDED_LIMITS.timelinePoints);
  });

  it('given 1,000 readings or fewer, when the session stops, then the timeline is exact; at 1,001 it is resampled', () => {
    const exact = endedOf(
      run(longSession16({ stationId: 'CS-E', from: '2026-03-10T06:00:00Z', samples: 998, intervalSeconds: 5 }).commands)
        .events,
    )[0];
    const resampled = endedOf(
      run(longSession16({ stationId: 'CS-R', from: '2026-03-10T06:00:00Z', samples: 999, intervalSeconds: 5 }).commands)
        .events,
    )[0];
    expect(exact.payload.energyTimelineResolution).toEqual({ mode: 'exact', points: 1000 });
    expect(resampled.payload.energyTimelineResolution).toEqual({ mode: 'resampled', gridSeconds: 60, points: 1001 });
  });

  it('given a signed value too big for the event, when the session stops, then it is left out and counted', () => {
    const cs = station('CS-BIG');
    const big = `OCMF|${'x'.repeat(SESSION_ENDED_LIMITS.signedMeterValueBytes)}|{}`;
    const { events } = run([
      ...cs.start16({ tx: 5, meterStart: 0, at: '2026-03-10T10:00:00Z' }),
      ...cs.meter16({
        tx: 5,
        at: '2026-03-10T10:00:01Z',
        values: [{ value: big, format: 'SignedData', context: 'Transaction.Begin' }],
      }),
      ...cs.stop16({ tx: 5, meterStop: 1000, at: '2026-03-10T11:00:00Z' }),
    ]);
    const [e] = endedOf(events);
    expect(e.payload.signedMeterValues).toEqual([]);
    expect(e.payload.signedMeterValuesOmitted).toBe(1);
  });

  it('the contract example is a v2 payload the decider could have written', () => {
    expect(() =>
      catalogue.check({
        id: '7c9e6679-7425-50de-944b-e07fc1f90ae7',
        type: 'session.ended',
        version: 2,
        occurredAt: '2026-03-01T11:00:00Z',
        key: 'k',
        source: 's',
        causationId: null,
        correlationId: null,
        payload: SessionEndedV2.example,
      }),
    ).not.toThrow();
  });
});
