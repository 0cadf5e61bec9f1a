import fc from 'fast-check';
import { priceSession } from './engine';
import { aSession, aTariff, element, energy, time } from './testing/builders';
import { formatLocal, localParts, offsetMinutes } from './time';

/**
 * Europe/Amsterdam, 2026: summer time starts Sunday 29 March 01:00 UTC (02:00 CET -> 03:00 CEST)
 * and ends Sunday 25 October 01:00 UTC (03:00 CEST -> 02:00 CET).
 */
const AMS = 'Europe/Amsterdam';

describe('local time across DST changes (Europe/Amsterdam 2026)', () => {
  it.each<[string, string, string]>([
    ['last second of CET before spring forward', '2026-03-29T00:59:59Z', '2026-03-29T01:59:59'],
    ['first second of CEST', '2026-03-29T01:00:00Z', '2026-03-29T03:00:00'],
    ['before fall back (first 02:30)', '2026-10-25T00:30:00Z', '2026-10-25T02:30:00'],
    ['last second of CEST', '2026-10-25T00:59:59Z', '2026-10-25T02:59:59'],
    ['first second of CET (02:00 again)', '2026-10-25T01:00:00Z', '2026-10-25T02:00:00'],
    ['after fall back (second 02:30)', '2026-10-25T01:30:00Z', '2026-10-25T02:30:00'],
    ['local midnight in summer', '2026-07-01T22:00:00Z', '2026-07-02T00:00:00'],
  ])('%s', (_name, utc, local) => {
    expect(formatLocal(localParts(AMS, Date.parse(utc)))).toBe(local);
  });

  it('agrees with Intl for any instant of 2026 in several zones (offset cache included)', () => {
    const zones = ['Europe/Amsterdam', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns', 'UTC'];
    const fmt = new Map(zones.map((z) => [z, new Intl.DateTimeFormat('sv-SE', { timeZone: z, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })]));
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2026, 0, 1) / 1000, max: Date.UTC(2027, 0, 1) / 1000 }), fc.constantFrom(...zones), (sec, zone) => {
        const ms = sec * 1000;
        expect(formatLocal(localParts(zone, ms))).toBe(fmt.get(zone)!.format(new Date(ms)).replace(' ', 'T'));
      }),
      { numRuns: 2000 },
    );
  });

  it('offsets around the transitions', () => {
    expect(offsetMinutes(AMS, Date.parse('2026-03-29T00:59:59Z'))).toBe(60);
    expect(offsetMinutes(AMS, Date.parse('2026-03-29T01:00:00Z'))).toBe(120);
    expect(offsetMinutes(AMS, Date.parse('2026-10-25T00:59:59Z'))).toBe(120);
    expect(offsetMinutes(AMS, Date.parse('2026-10-25T01:00:00Z'))).toBe(60);
  });
});

describe('pricing on DST days', () => {
  // Night rate 02:00-03:00 local (element 0) before a day rate (element 1).
  const night = aTariff({ elements: [element([energy(1), time(6)], { start_time: '02:00', end_time: '03:00' }), element([energy('0.1'), time(1)])] });

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
    const cdr = priceSession(t, aSession({ periods: [{ at: '2026-03-29T00:00:00Z' }], end: '2026-03-29T02:00:00Z', tz: AMS }));
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
      priceSession(t, aSession({ periods: [{ at: utc, kwh: '1' }], end: '2026-10-26T12:00:00Z', tz: AMS })).breakdown.periods[0];
    expect(priced('2026-10-24T21:59:59Z')).toMatchObject({ day_of_week: 'SATURDAY', elements: { ENERGY: 1 } });
    expect(priced('2026-10-24T22:00:00Z')).toMatchObject({ day_of_week: 'SUNDAY', elements: { ENERGY: 0 } });
    expect(priced('2026-10-25T22:59:59Z')).toMatchObject({ day_of_week: 'SUNDAY', elements: { ENERGY: 0 } });
    expect(priced('2026-10-25T23:00:00Z')).toMatchObject({ day_of_week: 'MONDAY', elements: { ENERGY: 1 } });
  });
});
