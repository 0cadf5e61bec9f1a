import { NEVI_YEAR_MINUTES, UptimeInputError, minutesOf, neviTrailingYear, neviUptime } from './nevi';

const MIN = 60_000n;
const YEAR = NEVI_YEAR_MINUTES * MIN;

describe('NEVI uptime, 23 CFR 680.116(b): ((525,600 - (outage - excluded)) / 525,600) x 100', () => {
  it.each([
    // [what, outage minutes, excluded minutes, percent]
    ['no outage', 0n, 0n, '100.00'],
    ['the 97 % line exactly: 15,768 minutes down', 15_768n, 0n, '97.00'],
    ['one minute more: 96.99 (rounded down, never up to 97)', 15_769n, 0n, '96.99'],
    ['all of it excluded', 10_000n, 10_000n, '100.00'],
    ['half excluded', 20_000n, 10_000n, '98.09'],
    ['a day down', 1_440n, 0n, '99.72'],
    ['the UK 99 % line: 5,256 minutes', 5_256n, 0n, '99.00'],
    ['down all year', 525_600n, 0n, '0.00'],
    ['longer than 525,600 minutes (a 366-day window): 0 %, not negative', 527_040n, 0n, '0.00'],
  ])('%s', (_what, outage, excluded, percent) => {
    expect(neviTrailingYear(outage * MIN, excluded * MIN).percent).toBe(percent);
  });

  it('is exact: 1 ms of outage in a year is below 100 % exactly', () => {
    const r = neviUptime(YEAR, 1n, 0n);
    expect(r.exact.n * 1n < r.exact.d * 100n).toBe(true);
    expect(r.percent).toBe('99.99');
  });

  it.each([
    // the same formula over a chosen period's minutes
    ['a 30-day month, 432 minutes down', 43_200n, 432n, 0n, '99.00'],
    ['a 31-day month, 1 hour down, 1 hour excluded', 44_640n, 60n, 60n, '100.00'],
    ['a day, 6 hours down', 1_440n, 360n, 0n, '75.00'],
  ])('over a period: %s', (_what, period, outage, excluded, percent) => {
    expect(neviUptime(period * MIN, outage * MIN, excluded * MIN).percent).toBe(percent);
  });

  it.each([
    ['a zero period', 0n, 0n, 0n, 'periodMs'],
    ['negative outage', YEAR, -1n, 0n, 'outageMs'],
    ['more excluded than outage', YEAR, 5n, 6n, 'excludedMs'],
  ])('refuses %s', (_what, p, o, e, field) => {
    let err: unknown;
    try {
      neviUptime(p, o, e);
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(UptimeInputError);
    expect((err as UptimeInputError).field).toBe(field);
  });

  it.each([
    [0n, '0.00'],
    [30_000n, '0.50'],
    [90_000n, '1.50'],
    [60_000n * 525_600n, '525600.00'],
  ])('minutes of %s ms: %s', (ms, text) => expect(minutesOf(ms)).toBe(text));
});
