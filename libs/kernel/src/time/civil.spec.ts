import fc from 'fast-check';
import {
  addDays,
  civilFromDays,
  daysFromCivil,
  daysInMonth,
  daysOfEpochMs,
  isLeapYear,
  utcMs,
  weekdayOfDays,
} from './civil';

/** Date.UTC without its two-digit-year quirk (years 0-99 would read as 1900-1999). */
function dateUtc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, f = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, f);
  return t.getTime();
}

describe('civil dates', () => {
  it('leap years and month lengths', () => {
    expect([1900, 2000, 2024, 2026].map(isLeapYear)).toEqual([false, true, true, false]);
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(2100, 2)).toBe(28);
    expect(daysInMonth(2026, 4)).toBe(30);
    expect(daysInMonth(2026, 12)).toBe(31);
  });

  it('day numbers round-trip and agree with Date for any date of years 0000-9999', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (y, m, d) => {
          fc.pre(d <= daysInMonth(y, m));
          const days = daysFromCivil(y, m, d);
          expect(days * 86_400_000).toBe(dateUtc(y, m, d));
          expect(civilFromDays(days)).toEqual([y, m, d]);
          expect(daysOfEpochMs(days * 86_400_000 + 86_399_999)).toBe(days);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('utcMs equals Date.UTC, out-of-range fields rolling over as Date.UTC does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: -40, max: 70 }),
        fc.integer({ min: -30, max: 60 }),
        fc.integer({ min: -100, max: 100 }),
        fc.integer({ min: -100, max: 100 }),
        fc.integer({ min: -2000, max: 2000 }),
        (y, mo, d, h, mi, s, f) => {
          expect(utcMs(y, mo, d, h, mi, s, f)).toBe(Date.UTC(y, mo - 1, d, h, mi, s, f));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('weekdays (0 = Monday) and adding days across months, years and leap days', () => {
    expect(weekdayOfDays(0)).toBe(3); // 1970-01-01, a Thursday
    expect(weekdayOfDays(daysFromCivil(2026, 12, 7))).toBe(0);
    expect(weekdayOfDays(-1)).toBe(2);
    expect(addDays(2024, 2, 28, 1)).toEqual([2024, 2, 29]);
    expect(addDays(2024, 12, 31, 1)).toEqual([2025, 1, 1]);
    expect(addDays(2024, 3, 1, -1)).toEqual([2024, 2, 29]);
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (days) => {
        expect(weekdayOfDays(days)).toBe((new Date(days * 86_400_000).getUTCDay() + 6) % 7);
      }),
    );
  });
});
