import { parseRfc3339, TimeZones } from '@csms/kernel';
import { TariffValidationError, priceSession } from '@csms/pricing';
import type { OcpiTariffRestrictions } from '@csms/pricing';
import { BillingError } from './errors';
import { aSessionEnded, aTariff, starts, toPricingText as toPricingSession, volumes } from './spec-helpers';

const AMS = 'Europe/Amsterdam';
const bridge = (payload: ReturnType<typeof aSessionEnded>, restrictions: OcpiTariffRestrictions[], timeZone = AMS) =>
  toPricingSession(payload, { timeZone, currency: 'EUR', tariff: aTariff(restrictions) });

/** Charging at a constant 10 kW from `start` to `end` (one period, linear timeline). */
function steady(start: string, end: string) {
  const kwh = (parseRfc3339(end)! - parseRfc3339(start)!) / 360_000; // 10 kW
  const wh = `${kwh * 1000}`;
  return aSessionEnded(
    start,
    [{ to: end, wh, maxPowerW: '11000', maxCurrentA: '16' }],
    [
      [start, '0'],
      [end, wh],
    ],
  );
}

describe('toPricingSession: splitting at every cost-relevant moment of the tariff', () => {
  it.each([
    {
      name: 'time-of-day start_time and end_time (winter, UTC+1)',
      start: '2026-01-15T15:30:00Z',
      end: '2026-01-15T22:30:00Z',
      restrictions: [{ start_time: '17:00', end_time: '23:00' }],
      // 17:00 local = 16:00Z; 23:00 local = 22:00Z
      expected: ['2026-01-15T15:30:00Z', '2026-01-15T16:00:00Z', '2026-01-15T22:00:00Z'],
    },
    {
      name: 'window across midnight (22:00-06:00): no cut at midnight',
      start: '2026-01-15T20:00:00Z',
      end: '2026-01-16T06:00:00Z',
      restrictions: [{ start_time: '22:00', end_time: '06:00' }],
      expected: ['2026-01-15T20:00:00Z', '2026-01-15T21:00:00Z', '2026-01-16T05:00:00Z'],
    },
    {
      name: 'end_time 00:00 (end of day) cuts at local midnight',
      start: '2026-07-01T19:00:00Z',
      end: '2026-07-01T23:00:00Z',
      restrictions: [{ start_time: '22:00', end_time: '00:00' }],
      // summer UTC+2: 22:00 local = 20:00Z, midnight = 22:00Z
      expected: ['2026-07-01T19:00:00Z', '2026-07-01T20:00:00Z', '2026-07-01T22:00:00Z'],
    },
    {
      name: 'a window with only start_time is open until midnight',
      start: '2026-01-15T18:00:00Z',
      end: '2026-01-16T01:00:00Z',
      restrictions: [{ start_time: '20:00' }],
      expected: ['2026-01-15T18:00:00Z', '2026-01-15T19:00:00Z', '2026-01-15T23:00:00Z'],
    },
    {
      name: 'day_of_week cuts at local midnight',
      start: '2026-01-16T21:00:00Z',
      end: '2026-01-17T01:00:00Z',
      restrictions: [{ day_of_week: ['FRIDAY' as const] }],
      expected: ['2026-01-16T21:00:00Z', '2026-01-16T23:00:00Z'],
    },
    {
      name: 'start_date / end_date cut at local midnight',
      start: '2026-05-31T20:00:00Z',
      end: '2026-06-01T01:00:00Z',
      restrictions: [{ start_date: '2026-06-01' }],
      expected: ['2026-05-31T20:00:00Z', '2026-05-31T22:00:00Z'],
    },
    {
      name: 'min_duration and max_duration (seconds since session start)',
      start: '2026-01-15T10:00:00Z',
      end: '2026-01-15T12:00:00Z',
      restrictions: [{ min_duration: 1800, max_duration: 5400 }],
      expected: ['2026-01-15T10:00:00Z', '2026-01-15T10:30:00Z', '2026-01-15T11:30:00Z'],
    },
    {
      name: 'a duration beyond the session end is no cut',
      start: '2026-01-15T10:00:00Z',
      end: '2026-01-15T11:00:00Z',
      restrictions: [{ max_duration: 3600 }],
      expected: ['2026-01-15T10:00:00Z'],
    },
    {
      name: 'min_kwh / max_kwh at the instant the energy crosses them (10 kW: 1 kWh per 6 min)',
      start: '2026-01-15T10:00:00Z',
      end: '2026-01-15T11:00:00Z',
      restrictions: [{ min_kwh: 2, max_kwh: 7.5 }],
      expected: ['2026-01-15T10:00:00Z', '2026-01-15T10:12:00Z', '2026-01-15T10:45:00Z'],
    },
  ])('$name', ({ start, end, restrictions, expected }) => {
    const s = bridge(steady(start, end), restrictions);
    expect(starts(s)).toEqual(expected);
    // every piece keeps the parent's maxima (kW, A)
    expect(volumes(s, 'MAX_POWER').every((v) => v === '11')).toBe(true);
    expect(volumes(s, 'MAX_CURRENT').every((v) => v === '16')).toBe(true);
  });

  it('a reservation element sets no boundary (it never applies to charging periods)', () => {
    const tariff = aTariff([]);
    tariff.elements.unshift({
      price_components: [{ type: 'TIME', price: 5, step_size: 1 }],
      restrictions: { start_time: '17:00', reservation: 'RESERVATION' },
    });
    const s = toPricingSession(steady('2026-01-15T15:30:00Z', '2026-01-15T17:30:00Z'), {
      timeZone: AMS,
      currency: 'EUR',
      tariff,
    });
    expect(starts(s)).toEqual(['2026-01-15T15:30:00Z']);
  });

  describe('DST in Europe/Amsterdam, 2026', () => {
    it('spring forward (29 March, 02:00 CET -> 03:00 CEST at 01:00Z): midnight, 07:00 CEST and a boundary in the missing hour', () => {
      const s = bridge(steady('2026-03-28T22:00:00Z', '2026-03-29T08:00:00Z'), [
        { start_time: '07:00', end_time: '17:00', day_of_week: ['SUNDAY'] },
        { start_time: '02:30' },
      ]);
      expect(starts(s)).toEqual([
        '2026-03-28T22:00:00Z',
        '2026-03-28T23:00:00Z', // local midnight (CET)
        '2026-03-29T01:00:00Z', // the wall clock jumps 02:00 -> 03:00, over 02:30
        '2026-03-29T05:00:00Z', // 07:00 CEST
      ]);
      const cdr = priceSession(
        aTariff([{ start_time: '07:00', end_time: '17:00', day_of_week: ['SUNDAY'] }, { start_time: '02:30' }]),
        s,
      );
      expect(cdr.breakdown.periods.map((p) => [p.local_time, p.elements.TIME])).toEqual([
        ['2026-03-28T23:00:00', 1], // from 02:30 until midnight
        ['2026-03-29T00:00:00', null],
        ['2026-03-29T03:00:00', 1],
        ['2026-03-29T07:00:00', 0],
      ]);
    });

    it('fall back (25 October, 03:00 CEST -> 02:00 CET at 01:00Z): 02:30 happens twice, the jump back is a cut', () => {
      const s = bridge(steady('2026-10-24T21:00:00Z', '2026-10-25T07:00:00Z'), [
        { start_time: '02:30' },
        { start_time: '07:00', end_time: '17:00' },
      ]);
      expect(starts(s)).toEqual([
        '2026-10-24T21:00:00Z',
        '2026-10-24T22:00:00Z', // local midnight (CEST)
        '2026-10-25T00:30:00Z', // 02:30 CEST
        '2026-10-25T01:00:00Z', // 03:00 CEST -> 02:00 CET
        '2026-10-25T01:30:00Z', // 02:30 CET
        '2026-10-25T06:00:00Z', // 07:00 CET
      ]);
    });

    it('a boundary on the hour that repeats (02:00-03:00 on the fall-back day)', () => {
      const s = bridge(steady('2026-10-24T23:30:00Z', '2026-10-25T02:30:00Z'), [
        { start_time: '02:00', end_time: '03:00' },
      ]);
      // 02:00 CEST = 00:00Z; 03:00 CEST = 01:00Z is also the jump back to 02:00 CET; 03:00 CET = 02:00Z
      expect(starts(s)).toEqual([
        '2026-10-24T23:30:00Z',
        '2026-10-25T00:00:00Z',
        '2026-10-25T01:00:00Z',
        '2026-10-25T02:00:00Z',
      ]);
      const cdr = priceSession(aTariff([{ start_time: '02:00', end_time: '03:00' }]), s);
      expect(cdr.breakdown.periods.map((p) => p.elements.TIME)).toEqual([null, 0, 0, null]);
    });

    it('other time zones: America/New_York spring forward (2026-03-08, 07:00Z)', () => {
      const s = bridge(
        steady('2026-03-08T04:00:00Z', '2026-03-08T13:00:00Z'),
        [{ start_time: '02:15', end_time: '08:00' }],
        'America/New_York',
      );
      // 02:15 EST does not exist: the window opens at 03:00 EDT (07:00Z); 08:00 EDT = 12:00Z
      expect(starts(s)).toEqual(['2026-03-08T04:00:00Z', '2026-03-08T07:00:00Z', '2026-03-08T12:00:00Z']);
    });
  });

  describe('energy of the pieces', () => {
    it('follows the energy timeline between readings (not the clock), exactly', () => {
      // 0 Wh at 10:00, 10 000 Wh at 10:20, 20 000 Wh at 10:50; cut at 10:30 (11:30 CET)
      const payload = aSessionEnded(
        '2026-03-01T10:00:00Z',
        [{ to: '2026-03-01T10:50:00Z', wh: '20000' }],
        [
          ['2026-03-01T10:00:00Z', '0'],
          ['2026-03-01T10:20:00Z', '10000'],
          ['2026-03-01T10:50:00Z', '20000'],
        ],
      );
      const s = bridge(payload, [{ start_time: '11:30' }]);
      expect(starts(s)).toEqual(['2026-03-01T10:00:00Z', '2026-03-01T10:30:00Z']);
      // 13 333.333... Wh at 10:30, floored to 1 mWh; the last piece takes the remainder
      expect(volumes(s, 'ENERGY')).toEqual(['13.333333', '6.666667']);
      expect(volumes(s, 'TIME')).toEqual(['1800', '1200']);
    });

    it('a kWh threshold between two readings, at a fractional millisecond (rounded up to the ms)', () => {
      // 0 Wh at 10:00:00, 3 Wh at 10:00:00.007 (odd numbers on purpose), 1003 Wh at 10:01:00
      const payload = aSessionEnded(
        '2026-03-01T10:00:00Z',
        [{ to: '2026-03-01T10:01:00Z', wh: '1003' }],
        [
          ['2026-03-01T10:00:00Z', '0'],
          ['2026-03-01T10:00:00.007Z', '3'],
          ['2026-03-01T10:01:00Z', '1003'],
        ],
      );
      // 0.001 kWh = 1 Wh is reached at 7/3 ms -> the piece starts at 3 ms
      const s = bridge(payload, [{ min_kwh: 0.001 }]);
      expect(starts(s)).toEqual(['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.003Z']);
      expect(volumes(s, 'ENERGY')).toEqual(['0.001285', '1.001715']);
      const cdr = priceSession(aTariff([{ min_kwh: 0.001 }]), s);
      expect(cdr.breakdown.periods.map((p) => [p.energy_before_kwh, p.elements.ENERGY])).toEqual([
        ['0', 1],
        ['0.001285', 0],
      ]);
    });

    it('a kWh threshold exactly on a reading: the piece starts at that reading and sees the threshold', () => {
      const payload = aSessionEnded(
        '2026-03-01T10:00:00Z',
        [{ to: '2026-03-01T10:30:00Z', wh: '9000' }],
        [
          ['2026-03-01T10:00:00Z', '0'],
          ['2026-03-01T10:07:00Z', '5000'],
          ['2026-03-01T10:30:00Z', '9000'],
        ],
      );
      const s = bridge(payload, [{ max_kwh: 5 }]);
      expect(starts(s)).toEqual(['2026-03-01T10:00:00Z', '2026-03-01T10:07:00Z']);
      expect(volumes(s, 'ENERGY')).toEqual(['5', '4']);
      const cdr = priceSession(aTariff([{ max_kwh: 5 }]), s);
      expect(cdr.breakdown.periods.map((p) => p.elements.ENERGY)).toEqual([0, 1]);
    });

    it('without readings inside a period, energy is spread linearly over its time', () => {
      const payload = aSessionEnded('2026-01-15T15:30:00Z', [{ to: '2026-01-15T16:30:00Z', wh: '7000' }], []);
      const s = bridge(payload, [{ start_time: '17:10' }]);
      expect(starts(s)).toEqual(['2026-01-15T15:30:00Z', '2026-01-15T16:10:00Z']);
      expect(volumes(s, 'ENERGY')).toEqual(['4.666666', '2.333334']);
    });
  });

  describe('categories and dimensions', () => {
    it.each([
      ['CHARGING', 'TIME'],
      ['SUSPENDED_EVSE', 'TIME'],
      ['PREPARING', 'TIME'],
      ['PARKING', 'PARKING_TIME'],
      ['IDLE', '-'],
    ] as const)('%s carries %s', (category, dimension) => {
      const payload = aSessionEnded('2026-01-15T10:00:00Z', [{ to: '2026-01-15T10:10:00.5Z', wh: '0', category }], []);
      const s = bridge(payload, []);
      expect(s.charging_periods).toHaveLength(1);
      const time = s.charging_periods[0].dimensions.filter((d) => d.type === 'TIME' || d.type === 'PARKING_TIME');
      expect(time.map((d) => `${d.type}=${d.volume}`)).toEqual(dimension === '-' ? [] : [`${dimension}=600.5`]);
    });

    it('copies identity, times, currency and total energy; periods tile the session', () => {
      const payload = aSessionEnded(
        '2026-01-15T10:00:00Z',
        [
          { to: '2026-01-15T10:40:00Z', wh: '12000.5', maxPowerW: '22000.5' },
          { to: '2026-01-15T11:00:00Z', wh: '0', category: 'PARKING' },
        ],
        [
          ['2026-01-15T10:00:00Z', '0'],
          ['2026-01-15T10:40:00Z', '12000.5'],
        ],
      );
      const s = bridge(payload, []);
      expect(s).toEqual({
        session_id: payload.sessionId,
        start_date_time: '2026-01-15T10:00:00Z',
        end_date_time: '2026-01-15T11:00:00Z',
        time_zone: AMS,
        currency: 'EUR',
        total_energy: '12.0005',
        charging_periods: [
          {
            start_date_time: '2026-01-15T10:00:00Z',
            dimensions: [
              { type: 'ENERGY', volume: '12.0005' },
              { type: 'TIME', volume: '2400' },
              { type: 'MAX_POWER', volume: '22.0005' },
            ],
          },
          {
            start_date_time: '2026-01-15T10:40:00Z',
            dimensions: [
              { type: 'ENERGY', volume: '0' },
              { type: 'PARKING_TIME', volume: '1200' },
            ],
          },
        ],
      });
    });

    it('folds a zero-length period into the next one', () => {
      const payload = aSessionEnded(
        '2026-01-15T10:00:00Z',
        [
          { to: '2026-01-15T10:00:00Z', wh: '1' },
          { to: '2026-01-15T10:30:00Z', wh: '999' },
        ],
        [],
      );
      const s = bridge(payload, []);
      expect(starts(s)).toEqual(['2026-01-15T10:00:00Z']);
      expect(volumes(s, 'ENERGY')).toEqual(['1']);
    });
  });

  describe('refuses a payload that contradicts itself, with a typed error', () => {
    const ok = () => steady('2026-01-15T10:00:00Z', '2026-01-15T11:00:00Z');
    it.each([
      [
        'an unknown time zone',
        () => toPricingSession(ok(), { timeZone: 'Mars/Olympus', currency: 'EUR', tariff: aTariff([]) }),
        'BILLING_INVALID_TIME_ZONE',
      ],
      [
        'period energies that do not sum to the total',
        () => bridge({ ...ok(), totals: { ...ok().totals, energyKwh: '10.001' } }, []),
        'BILLING_ENERGY_MISMATCH',
      ],
      [
        'a gap between periods',
        () =>
          bridge(
            { ...ok(), chargingPeriods: [{ ...ok().chargingPeriods[0], startDateTime: '2026-01-15T10:00:01Z' }] },
            [],
          ),
        'BILLING_PERIODS_NOT_CONTIGUOUS',
      ],
      [
        'a last period that does not end at endedAt',
        () => bridge({ ...ok(), endedAt: '2026-01-15T11:00:01Z' }, []),
        'BILLING_PERIODS_NOT_CONTIGUOUS',
      ],
      ['no periods', () => bridge({ ...ok(), chargingPeriods: [] }, []), 'BILLING_INVALID_SESSION'],
      [
        'a negative energy',
        () => bridge({ ...ok(), chargingPeriods: [{ ...ok().chargingPeriods[0], energyWh: '-1' }] }, []),
        'BILLING_INVALID_SESSION',
      ],
    ])('%s', (_name, run, code) => {
      expect(run).toThrow(BillingError);
      expect(run).toThrow(expect.objectContaining({ code, retriable: false }));
    });

    it('an invalid tariff (TariffValidationError from the engine)', () => {
      expect(() =>
        toPricingSession(ok(), { timeZone: AMS, currency: 'EUR', tariff: { ...aTariff([]), elements: [] } }),
      ).toThrow(TariffValidationError);
    });
  });

  it('local parts at each piece start agree with the engine (sanity of the helper)', () => {
    const s = bridge(steady('2026-01-15T15:30:00Z', '2026-01-15T17:30:00Z'), [{ start_time: '17:00' }]);
    expect(new TimeZones().localParts(AMS, parseRfc3339(s.charging_periods[1].start_date_time)!).secondOfDay).toBe(
      17 * 3600,
    );
  });
});
