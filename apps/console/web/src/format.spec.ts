import { roundDecimal, sumDecimals, whToKwh } from './format';

describe('console display arithmetic (exact, no floating point)', () => {
  it('sums decimal strings exactly at the largest scale', () => {
    expect(sumDecimals(['0.1', '0.2'])).toBe('0.3');
    expect(sumDecimals(['2.25', '1.5', '-0.75'])).toBe('3.00');
    expect(sumDecimals(['1.0000001', '2'])).toBe('3.0000001');
    expect(sumDecimals([])).toBe('0');
    expect(sumDecimals(['-0.69', '-1.16'])).toBe('-1.85');
  });
  it('rounds half-up for display, and shows Wh as kWh', () => {
    expect(roundDecimal('2.7246175', 2)).toBe('2.72');
    expect(roundDecimal('2.725', 2)).toBe('2.73');
    expect(roundDecimal('-2.725', 2)).toBe('-2.73');
    expect(roundDecimal('3', 2)).toBe('3.00');
    expect(whToKwh('4205')).toBe('4.205');
    expect(whToKwh('7')).toBe('0.007');
  });
});
