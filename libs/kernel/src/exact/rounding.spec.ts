import Decimal from 'decimal.js';
import fc from 'fast-check';
import { DECIMAL_ROUNDING } from './decimal';
import { DEFAULT_ROUNDING, ROUNDING_MODES, ceilDiv, ceilToStep, divRound, floorDiv, isRoundingMode } from './rounding';

const D80 = Decimal.clone({ precision: 80, toExpNeg: -100, toExpPos: 100 });

describe('exact rounding', () => {
  it('names seven modes, HALF_UP by default', () => {
    expect([...ROUNDING_MODES].sort()).toEqual(['CEILING', 'DOWN', 'FLOOR', 'HALF_DOWN', 'HALF_EVEN', 'HALF_UP', 'UP']);
    expect(DEFAULT_ROUNDING).toBe('HALF_UP');
    expect(isRoundingMode('HALF_EVEN')).toBe(true);
    expect(isRoundingMode('ROUND_HALF_UP')).toBe(false);
    expect(isRoundingMode('toString')).toBe(false);
    expect(isRoundingMode(1)).toBe(false);
  });

  it('divRound rounds an exact ratio like decimal.js for every mode', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.constantFrom(...ROUNDING_MODES),
        (n, d, mode) => {
          const expected = new D80(n.toString()).div(d.toString()).toDecimalPlaces(0, DECIMAL_ROUNDING[mode]).toFixed();
          expect(divRound(n, d, mode).toString()).toBe(expected === '-0' ? '0' : expected);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it.each([
    // value x 10 / 10 at the ties and just off them
    [25n, 'HALF_UP', 3n],
    [25n, 'HALF_DOWN', 2n],
    [25n, 'HALF_EVEN', 2n],
    [35n, 'HALF_EVEN', 4n],
    [-25n, 'HALF_UP', -3n],
    [-25n, 'HALF_DOWN', -2n],
    [-25n, 'HALF_EVEN', -2n],
    [21n, 'UP', 3n],
    [-21n, 'UP', -3n],
    [29n, 'DOWN', 2n],
    [-29n, 'DOWN', -2n],
    [-21n, 'CEILING', -2n],
    [-21n, 'FLOOR', -3n],
    [20n, 'UP', 2n],
  ] as const)('divRound(%s, 10, %s) = %s', (n, mode, expected) => {
    expect(divRound(n, 10n, mode)).toBe(expected);
  });

  it('refuses an unknown mode', () => {
    expect(() => divRound(1n, 3n, 'NEAREST' as never)).toThrow(RangeError);
  });

  it('floorDiv and ceilDiv round towards -infinity and +infinity', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 10n }),
        (n, d) => {
          expect(floorDiv(n, d)).toBe(divRound(n, d, 'FLOOR'));
          expect(ceilDiv(n, d)).toBe(divRound(n, d, 'CEILING'));
          expect(floorDiv(n, d) * d <= n && n < (floorDiv(n, d) + 1n) * d).toBe(true);
        },
      ),
    );
  });

  it('ceilToStep: the smallest multiple of the step at or above the value', () => {
    expect(ceilToStep(0n, 300_000n)).toBe(0n);
    expect(ceilToStep(1n, 300_000n)).toBe(300_000n);
    expect(ceilToStep(600_000n, 300_000n)).toBe(600_000n);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.bigInt({ min: 1n, max: 10n ** 7n }), (v, step) => {
        const c = ceilToStep(v, step);
        expect(c % step).toBe(0n);
        expect(c >= v && c - v < step).toBe(true);
      }),
    );
  });
});
