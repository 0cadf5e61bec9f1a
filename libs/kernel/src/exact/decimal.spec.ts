import Decimal from 'decimal.js';
import fc from 'fast-check';
import { DECIMAL_ROUNDING, Dec, decOfWireNumber, isDec, ratioOfDec, toPlainString } from './decimal';
import { ROUNDING_MODES } from './rounding';

describe('Dec: the decimal.js clone for money', () => {
  it('computes at 40 significant digits, HALF_UP, in plain notation, whatever the global decimal.js settings', () => {
    const saved = Decimal.precision;
    Decimal.set({ precision: 5 });
    try {
      expect(new Dec(1).div(3).toFixed()).toBe('0.3333333333333333333333333333333333333333');
      expect(new Dec(2).div(3).toFixed()).toBe('0.6666666666666666666666666666666666666667');
      expect(new Dec('1e-50').toString()).toBe(`0.${'0'.repeat(49)}1`);
    } finally {
      Decimal.set({ precision: saved });
    }
  });

  it.each([
    [0.1, '0.1'],
    [20.45, '20.45'],
    [1e-7, '0.0000001'],
    [1e21, '1000000000000000000000'],
    [-3, '-3'],
  ])('decOfWireNumber(%s) is the decimal JSON.parse read: %s', (value, text) => {
    expect(decOfWireNumber(value).toFixed()).toBe(text);
  });

  it.each([
    ['0', '0'],
    ['-0', '0'],
    ['1.50', '1.5'],
    ['1e-7', '0.0000001'],
    ['-12.25', '-12.25'],
  ])('toPlainString(%s) = %s', (text, plain) => {
    expect(toPlainString(new Dec(text))).toBe(plain);
  });

  it('isDec recognises decimal.js values of any clone', () => {
    expect(isDec(new Dec(1))).toBe(true);
    expect(isDec(new Decimal(1))).toBe(true);
    expect(isDec('1')).toBe(false);
    expect(isDec(1)).toBe(false);
  });

  it('ratioOfDec is the exact value of a decimal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 12 }), (n, k) => {
        const d = new Dec(n.toString()).div(new Dec(10).pow(k));
        const r = ratioOfDec(d);
        expect(new Dec(r.n.toString()).div(r.d.toString()).eq(d)).toBe(true);
      }),
    );
    expect(ratioOfDec(new Dec('1e-7'))).toEqual({ n: 1n, d: 10_000_000n });
  });

  it('maps every named rounding mode to its decimal.js constant', () => {
    expect(Object.keys(DECIMAL_ROUNDING).sort()).toEqual([...ROUNDING_MODES].sort());
    expect(new Dec('2.5').toDecimalPlaces(0, DECIMAL_ROUNDING.HALF_EVEN).toFixed()).toBe('2');
    expect(new Dec('-2.5').toDecimalPlaces(0, DECIMAL_ROUNDING.HALF_UP).toFixed()).toBe('-3');
    expect(new Dec('-2.1').toDecimalPlaces(0, DECIMAL_ROUNDING.CEILING).toFixed()).toBe('-2');
  });
});
