import { TimeZones } from '@csms/kernel';
import { PeriodError, assignPeriod, checkClosable, dayRange, monthRange, nextPeriod, type Cut } from './periods';

const cut = (entries: Array<[number, bigint]>): Cut => new Map(entries);

describe('period placement of a CDR', () => {
  const closes = new Map([
    ['2026-10', cut([[0, 10n]])],
    [
      '2026-11',
      cut([
        [0, 20n],
        [1, 5n],
      ]),
    ],
  ]);
  it.each([
    ['open month: its own day', '2026-12-03', 0, 99n, { period: '2026-12', day: '2026-12-03' }],
    ['closed month, inside the cut: stays', '2026-11-15', 0, 20n, { period: '2026-11', day: '2026-11-15' }],
    [
      'closed month, after the cut: next open period, first day',
      '2026-11-15',
      0,
      21n,
      { period: '2026-12', day: '2026-12-01' },
    ],
    ['a partition with no cut entry: after the cut', '2026-11-15', 2, 0n, { period: '2026-12', day: '2026-12-01' }],
    [
      "October after its cut but inside November's: November (open when it came)",
      '2026-10-20',
      0,
      15n,
      { period: '2026-11', day: '2026-11-01' },
    ],
    ['October after both cuts: December', '2026-10-20', 0, 30n, { period: '2026-12', day: '2026-12-01' }],
  ])('%s', (_what, day, partition, offset, placement) => {
    expect(assignPeriod(day, partition, offset, closes)).toEqual(placement);
  });

  it('wraps the year', () => {
    expect(nextPeriod('2026-12')).toBe('2027-01');
    expect(assignPeriod('2026-12-31', 0, 5n, new Map([['2026-12', cut([])]]))).toEqual({
      period: '2027-01',
      day: '2027-01-01',
    });
  });
});

describe('closing a period', () => {
  it('only after the month is over in every zone (UTC+14)', () => {
    const dec1 = Date.UTC(2026, 11, 1);
    expect(() => checkClosable('2026-11', dec1 + 13 * 3_600_000)).toThrow(PeriodError);
    expect(() => checkClosable('2026-11', dec1 + 14 * 3_600_000)).not.toThrow();
  });
  it.each(['2026-13', '2026-1', 'x', '2026-00'])('refuses the period %s', (p) => {
    expect(() => checkClosable(p, Date.UTC(2030, 0, 1))).toThrow(expect.objectContaining({ code: 'INVALID_PERIOD' }));
  });
});

describe('local days and months', () => {
  const zones = new TimeZones();
  it('a month in Amsterdam starts at its local midnight', () => {
    expect(monthRange(zones, 'Europe/Amsterdam', '2026-03').map((t) => new Date(t).toISOString())).toEqual([
      '2026-02-28T23:00:00.000Z',
      '2026-03-31T22:00:00.000Z',
    ]);
  });
  it('the day DST starts has 23 hours', () => {
    const [a, b] = dayRange(zones, 'Europe/Amsterdam', '2026-03-29');
    expect((b - a) / 3_600_000).toBe(23);
  });
  it('UTC', () => {
    expect(dayRange(zones, 'UTC', '2026-12-31')).toEqual([Date.UTC(2026, 11, 31), Date.UTC(2027, 0, 1)]);
  });
});
