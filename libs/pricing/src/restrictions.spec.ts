import { priceSession } from './engine';
import { aSession, aTariff, element, energy, time } from './testing/builders';
import type { OcpiTariffRestrictions, PricingOptions } from './types';

/**
 * One restricted element (index 0, 1.00/kWh) before an unrestricted fallback (index 1, 0.10/kWh):
 * the ENERGY element chosen for the LAST period shows whether the restriction matched there.
 * Times are UTC; Europe/Amsterdam is UTC+1 in January.
 */
function chosenAt(
  restrictions: OcpiTariffRestrictions,
  periods: Parameters<typeof aSession>[0]['periods'],
  end: string,
  options?: PricingOptions,
  tz?: string,
): number | null {
  const tariff = aTariff({ elements: [element([energy(1)], restrictions), element([energy('0.1')])] });
  const cdr = priceSession(tariff, aSession({ periods, end, tz }), options);
  const last = cdr.breakdown.periods[cdr.breakdown.periods.length - 1];
  return last.elements.ENERGY;
}

const at = (utc: string, extra: Partial<Parameters<typeof aSession>[0]['periods'][number]> = {}) => [
  { at: utc, kwh: '1', ...extra },
];

describe('start_time / end_time (local, start inclusive, end exclusive)', () => {
  it.each<[string, OcpiTariffRestrictions, string, number]>([
    ['just before the window', { start_time: '10:00', end_time: '12:00' }, '2024-01-15T08:59:59Z', 1],
    ['at start_time (inclusive)', { start_time: '10:00', end_time: '12:00' }, '2024-01-15T09:00:00Z', 0],
    ['inside', { start_time: '10:00', end_time: '12:00' }, '2024-01-15T10:59:59Z', 0],
    ['at end_time (exclusive)', { start_time: '10:00', end_time: '12:00' }, '2024-01-15T11:00:00Z', 1],
    ['midnight window: before start', { start_time: '22:00', end_time: '06:00' }, '2024-01-15T20:59:59Z', 1],
    ['midnight window: at start', { start_time: '22:00', end_time: '06:00' }, '2024-01-15T21:00:00Z', 0],
    ['midnight window: at local midnight', { start_time: '22:00', end_time: '06:00' }, '2024-01-15T23:00:00Z', 0],
    ['midnight window: after midnight', { start_time: '22:00', end_time: '06:00' }, '2024-01-16T04:59:59Z', 0],
    ['midnight window: at end', { start_time: '22:00', end_time: '06:00' }, '2024-01-16T05:00:00Z', 1],
    ['end_time 00:00 = end of day: 23:59:59', { start_time: '20:00', end_time: '00:00' }, '2024-01-15T22:59:59Z', 0],
    [
      'end_time 00:00 = end of day: midnight is out',
      { start_time: '20:00', end_time: '00:00' },
      '2024-01-15T23:00:00Z',
      1,
    ],
    ['00:00-00:00 is the whole day', { start_time: '00:00', end_time: '00:00' }, '2024-01-15T13:00:00Z', 0],
    ['start_time only: before', { start_time: '18:00' }, '2024-01-15T16:59:59Z', 1],
    ['start_time only: at', { start_time: '18:00' }, '2024-01-15T17:00:00Z', 0],
    ['end_time only: before', { end_time: '08:00' }, '2024-01-15T06:59:59Z', 0],
    ['end_time only: at', { end_time: '08:00' }, '2024-01-15T07:00:00Z', 1],
  ])('%s', (_name, r, utc, expected) => {
    expect(chosenAt(r, at(utc), '2024-01-16T12:00:00Z')).toBe(expected);
  });

  it('uses the local time zone, not UTC', () => {
    const r = { start_time: '10:00', end_time: '11:00' };
    expect(chosenAt(r, at('2024-01-15T10:30:00Z'), '2024-01-15T12:00:00Z', {}, 'Europe/Amsterdam')).toBe(1);
    expect(chosenAt(r, at('2024-01-15T10:30:00Z'), '2024-01-15T12:00:00Z', {}, 'UTC')).toBe(0);
    expect(chosenAt(r, at('2024-01-15T01:30:00Z'), '2024-01-15T12:00:00Z', {}, 'Asia/Tokyo')).toBe(0);
  });
});

describe('start_date / end_date (local dates, start inclusive, end exclusive)', () => {
  const r = { start_date: '2024-01-10', end_date: '2024-01-12' };
  it.each<[string, string, number]>([
    ['local 2024-01-09 23:59:59', '2024-01-09T22:59:59Z', 1],
    ['local 2024-01-10 00:00 (UTC still the 9th)', '2024-01-09T23:00:00Z', 0],
    ['local 2024-01-11 23:59:59', '2024-01-11T22:59:59Z', 0],
    ['local 2024-01-12 00:00 (end exclusive)', '2024-01-11T23:00:00Z', 1],
  ])('%s', (_name, utc, expected) => {
    expect(chosenAt(r, at(utc), '2024-01-13T00:00:00Z')).toBe(expected);
  });
});

describe('day_of_week (local)', () => {
  const weekend = { day_of_week: ['SATURDAY', 'SUNDAY'] } as OcpiTariffRestrictions;
  it.each<[string, string, number]>([
    ['Friday 23:59:59 local', '2024-01-19T22:59:59Z', 1],
    ['Saturday 00:00 local (Friday in UTC)', '2024-01-19T23:00:00Z', 0],
    ['Sunday 23:59:59 local', '2024-01-21T22:59:59Z', 0],
    ['Monday 00:00 local', '2024-01-21T23:00:00Z', 1],
  ])('%s', (_name, utc, expected) => {
    expect(chosenAt(weekend, at(utc), '2024-01-23T00:00:00Z')).toBe(expected);
  });
});

describe('min_kwh / max_kwh (energy before the period; min inclusive, max exclusive)', () => {
  const twoPeriods = (first: string) => [
    { at: '2024-01-15T10:00:00Z', kwh: first },
    { at: '2024-01-15T11:00:00Z', kwh: '1' },
  ];
  it.each<[string, OcpiTariffRestrictions, string, number]>([
    ['below min_kwh', { min_kwh: 10 }, '9.999', 1],
    ['at min_kwh', { min_kwh: 10 }, '10', 0],
    ['below max_kwh', { max_kwh: 10 }, '9.999999', 0],
    ['at max_kwh', { max_kwh: 10 }, '10', 1],
    ['fractional threshold, just below', { min_kwh: '0.0000005' }, '0', 1],
    ['fractional threshold, above', { min_kwh: '0.0000005' }, '0.000001', 0],
  ])('%s', (_name, r, first, expected) => {
    expect(chosenAt(r, twoPeriods(first), '2024-01-15T12:00:00Z')).toBe(expected);
  });
});

describe('min/max current and power (sum over phases; min inclusive, max exclusive)', () => {
  it.each<[string, OcpiTariffRestrictions, Record<string, string>, number]>([
    ['MAX_CURRENT below max_current', { max_current: 32 }, { maxA: '31.99' }, 0],
    ['MAX_CURRENT at max_current', { max_current: 32 }, { maxA: '32' }, 1],
    ['MIN_CURRENT at min_current', { min_current: 32 }, { minA: '32' }, 0],
    ['MIN_CURRENT below min_current', { min_current: 32 }, { minA: '31.9', maxA: '40' }, 1],
    ['only MAX_CURRENT for a min_current restriction', { min_current: 32 }, { maxA: '33' }, 0],
    ['MAX_POWER below max_power', { max_power: 16 }, { maxKw: '15.999' }, 0],
    ['MAX_POWER at max_power', { max_power: 16 }, { maxKw: '16' }, 1],
    ['MIN_POWER at min_power', { min_power: 50 }, { minKw: '50' }, 0],
    ['MIN_POWER below min_power', { min_power: 50 }, { minKw: '49.5' }, 1],
    ['inside a min/max power band', { min_power: 16, max_power: 32 }, { minKw: '20', maxKw: '31' }, 0],
  ])('%s', (_name, r, dims, expected) => {
    expect(chosenAt(r, at('2024-01-15T10:00:00Z', dims), '2024-01-15T11:00:00Z')).toBe(expected);
  });

  it('a missing measurement satisfies the restriction by default (reference implementation) and says so', () => {
    const tariff = aTariff({ elements: [element([energy(1)], { max_current: 32 }), element([energy('0.1')])] });
    const cdr = priceSession(tariff, aSession({ periods: at('2024-01-15T10:00:00Z'), end: '2024-01-15T11:00:00Z' }));
    expect(cdr.breakdown.periods[0].elements.ENERGY).toBe(0);
    expect(cdr.audit.warnings.map((w) => w.code)).toEqual(['MEASUREMENT_MISSING_FOR_RESTRICTION']);
  });

  it('policy NOT_SATISFIED: a missing measurement does not match', () => {
    expect(
      chosenAt({ max_current: 32 }, at('2024-01-15T10:00:00Z'), '2024-01-15T11:00:00Z', {
        missingMeasurement: 'NOT_SATISFIED',
      }),
    ).toBe(1);
  });
});

describe('min_duration / max_duration (session age at the period start, seconds)', () => {
  const periods = (second: string) => [
    { at: '2024-01-15T10:00:00Z', kwh: '1' },
    { at: second, kwh: '1' },
  ];
  it.each<[string, OcpiTariffRestrictions, string, number]>([
    ['before min_duration', { min_duration: 1800 }, '2024-01-15T10:29:59Z', 1],
    ['at min_duration (inclusive)', { min_duration: 1800 }, '2024-01-15T10:30:00Z', 0],
    ['before max_duration', { max_duration: 1800 }, '2024-01-15T10:29:59.999Z', 0],
    ['at max_duration (exclusive)', { max_duration: 1800 }, '2024-01-15T10:30:00Z', 1],
  ])('%s', (_name, r, second, expected) => {
    expect(chosenAt(r, periods(second), '2024-01-15T11:00:00Z')).toBe(expected);
  });
});

describe('restrictions are ANDed and the first matching element wins per dimension', () => {
  it('an element matching only some restrictions is skipped', () => {
    const r: OcpiTariffRestrictions = { start_time: '10:00', end_time: '12:00', day_of_week: ['SATURDAY'] };
    expect(chosenAt(r, at('2024-01-15T09:30:00Z'), '2024-01-15T12:00:00Z')).toBe(1); // Monday
    expect(chosenAt(r, at('2024-01-20T09:30:00Z'), '2024-01-20T12:00:00Z')).toBe(0); // Saturday
  });

  it('different dimensions may come from different elements', () => {
    const tariff = aTariff({
      elements: [
        element([time(6)], { start_time: '10:00', end_time: '11:00' }),
        element([energy('0.3')]),
        element([time(1), energy(9)]),
      ],
    });
    const cdr = priceSession(tariff, aSession({ periods: at('2024-01-15T09:15:00Z'), end: '2024-01-15T09:45:00Z' }));
    expect(cdr.breakdown.periods[0].elements).toEqual({ ENERGY: 1, FLAT: null, TIME: 0, PARKING_TIME: null });
    expect(cdr.total_energy_cost.excl_vat).toBe('0.30');
    expect(cdr.total_time_cost.excl_vat).toBe('3.00');
  });
});

describe('reservation restriction', () => {
  const tariff = aTariff({
    elements: [
      element([time(6)], { reservation: 'RESERVATION_EXPIRES' }),
      element([time(3)], { reservation: 'RESERVATION' }),
      element([time(1), energy('0.25')]),
    ],
  });
  const periods: Parameters<typeof aSession>[0]['periods'] = [
    { at: '2024-01-15T09:00:00Z', state: 'RESERVATION' },
    { at: '2024-01-15T09:30:00Z', kwh: '10' },
  ];

  it('a used reservation is priced by RESERVATION elements only; charging by unrestricted elements only', () => {
    const cdr = priceSession(tariff, aSession({ periods, end: '2024-01-15T10:30:00Z', expired: false }));
    expect(cdr.breakdown.periods.map((p) => p.elements.TIME)).toEqual([1, 2]);
    expect(cdr.total_reservation_cost.excl_vat).toBe('1.50');
    expect(cdr.total_time_cost.excl_vat).toBe('1.00');
    expect(cdr.total_cost.excl_vat).toBe('5.00');
  });

  it('an expired reservation also matches RESERVATION_EXPIRES (first in list order here)', () => {
    const cdr = priceSession(tariff, aSession({ periods: [periods[0]], end: '2024-01-15T09:30:00Z', expired: true }));
    expect(cdr.breakdown.periods[0].elements.TIME).toBe(0);
    expect(cdr.total_cost.excl_vat).toBe('3.00');
  });
});
