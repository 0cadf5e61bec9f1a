import { statementMonthDue } from './schedule';

describe('the statement month due', () => {
  it.each([
    ['2026-12-01T00:00:00Z', 1, '2026-11'],
    ['2026-12-05T04:00:00Z', 1, '2026-11'],
    ['2027-01-01T00:00:00Z', 1, '2026-12'],
    ['2026-12-02T23:59:59Z', 3, null],
    ['2026-12-03T00:00:00Z', 3, '2026-11'],
    ['2026-11-30T23:00:00-02:00', 1, '2026-11'],
    ['2026-12-05T04:00:00Z', 0, null],
  ] as const)('at %s from day %d: %s', (now, day, month) => {
    expect(statementMonthDue(now, day)).toBe(month);
  });
});
