import { priceSession } from './engine';
import { aSession, aTariff, element, energy, time } from './testing/builders';

/**
 * Europe/Amsterdam, 2026: summer time starts Sunday 29 March 01:00 UTC (02:00 CET -> 03:00 CEST)
 * and ends Sunday 25 October 01:00 UTC (03:00 CEST -> 02:00 CET). Local time itself across these changes
 * is tested with the time module (libs/kernel/src/time/zones.spec.ts).
 */
const AMS = 'Europe/Amsterdam';

describe('pricing on DST days', () => {
  // Night rate 02:00-03:00 local (element 0) before a day rate (element 1).
  const night = aTariff({
    elements: [
      element([energy(1), time(6)], { start_time: '02:00', end_time: '03:00' }),
      element([energy('0.1'), time(1)]),
    ],
  });

  it('spring forward: local 02:00-03:00 does not exist, so the night element never applies', () => {
    const cdr = priceSession(
      night,
      aSession({
        periods: [
          { at: '2026-03-29T00:30:00Z', kwh: '1' }, // 01:30 CET
          { at: '2026-03-29T01:00:00Z', kwh: '1' }, // 03:00 CEST
        ],
        end: '2026-03-29T02:00:00Z',
        tz: AMS,
      }),
    );
    expect(cdr.breakdown.periods.map((p) => [p.local_time, p.elements.ENERGY])).toEqual([
      ['2026-03-29T01:30:00', 1],
      ['2026-03-29T03:00:00', 1],
    ]);
  });

  it('fall back: local 02:00-03:00 happens twice and both hours get the night element', () => {
    const cdr = priceSession(
      night,
      aSession({
        periods: [
          { at: '2026-10-25T00:00:00Z', kwh: '1' }, // 02:00 CEST
          { at: '2026-10-25T01:00:00Z', kwh: '1' }, // 02:00 CET
          { at: '2026-10-25T02:00:00Z', kwh: '1' }, // 03:00 CET
        ],
        end: '2026-10-25T03:00:00Z',
        tz: AMS,
      }),
    );
    expect(cdr.breakdown.periods.map((p) => [p.local_time, p.elements.ENERGY])).toEqual([
      ['2026-10-25T02:00:00', 0],
      ['2026-10-25T02:00:00', 0],
      ['2026-10-25T03:00:00', 1],
    ]);
    // Two real hours of night charging at 6/h, one hour of day charging at 1/h.
    expect(cdr.audit.unrounded.total_time_cost.excl_vat).toBe('13');
    expect(cdr.total_energy_cost.excl_vat).toBe('2.10');
  });

  it('TIME counts real elapsed time: 01:00-04:00 local on spring-forward day is 2 hours', () => {
    const t = aTariff({ elements: [element([time(1)])] });
    const cdr = priceSession(
      t,
      aSession({ periods: [{ at: '2026-03-29T00:00:00Z' }], end: '2026-03-29T02:00:00Z', tz: AMS }),
    );
    expect(cdr.total_time).toBe('2');
    expect(cdr.total_time_cost.excl_vat).toBe('2.00');
  });

  it('min/max_duration count real seconds across the change, not wall-clock differences', () => {
    const t = aTariff({ elements: [element([energy(1)], { max_duration: 3601 }), element([energy('0.1')])] });
    const cdr = priceSession(
      t,
      aSession({
        periods: [
          { at: '2026-03-29T00:30:00Z', kwh: '1' }, // 01:30 CET
          { at: '2026-03-29T01:30:00Z', kwh: '1' }, // 03:30 CEST: 2 h on the wall clock, 3600 s in reality
        ],
        end: '2026-03-29T02:00:00Z',
        tz: AMS,
      }),
    );
    expect(cdr.breakdown.periods[1].session_seconds).toBe('3600');
    expect(cdr.breakdown.periods[1].elements.ENERGY).toBe(0);
  });

  it('day_of_week on the fall-back Sunday switches at local midnight', () => {
    const t = aTariff({ elements: [element([energy(1)], { day_of_week: ['SUNDAY'] }), element([energy('0.1')])] });
    const priced = (utc: string) =>
      priceSession(t, aSession({ periods: [{ at: utc, kwh: '1' }], end: '2026-10-26T12:00:00Z', tz: AMS })).breakdown
        .periods[0];
    expect(priced('2026-10-24T21:59:59Z')).toMatchObject({ day_of_week: 'SATURDAY', elements: { ENERGY: 1 } });
    expect(priced('2026-10-24T22:00:00Z')).toMatchObject({ day_of_week: 'SUNDAY', elements: { ENERGY: 0 } });
    expect(priced('2026-10-25T22:59:59Z')).toMatchObject({ day_of_week: 'SUNDAY', elements: { ENERGY: 0 } });
    expect(priced('2026-10-25T23:00:00Z')).toMatchObject({ day_of_week: 'MONDAY', elements: { ENERGY: 1 } });
  });
});
