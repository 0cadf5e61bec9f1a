import { Dec, ROUNDING_MODES, toDecimalRounding } from '@csms/money';
import Decimal from 'decimal.js';
import fc from 'fast-check';
import { ceilToStep, divRound, formatMinor, formatRatio, formatScaled, hoursFromMs, parseScaled } from './fixed';

/** The exact BigInt helpers of the engine, checked against decimal.js (the platform's decimal type). */
const D40 = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -100, toExpPos: 100 });
const D80 = Decimal.clone({ precision: 80, toExpNeg: -100, toExpPos: 100 });

describe('fixed: exact BigInt quantities and amounts', () => {
  it('parseScaled / formatScaled round-trip decimal strings exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }), (v, decimals, zeros) => {
        const text = formatScaled(v, decimals);
        expect(text).toBe(new D80(v.toString()).div(new D80(10).pow(decimals)).toFixed());
        const padded = text.includes('.') ? text + '0'.repeat(zeros) : text;
        const parsed = parseScaled(padded, decimals);
        // more than 15 significant digits (integer digits + decimals) is refused, the rest round-trips
        const intPart = v / 10n ** BigInt(decimals);
        const intDigits = intPart === 0n ? 0 : intPart.toString().length;
        expect(parsed).toBe(intDigits + decimals > 15 ? null : v);
      }),
      { numRuns: 5000 },
    );
    expect(parseScaled('007.50', 3)).toBe(7500n);
    expect(parseScaled('0.0000001', 6)).toBeNull();
    expect(parseScaled('0.00000010', 7)).toBe(1n);
    expect(parseScaled('1.', 3)).toBeNull();
    expect(parseScaled('-1', 3)).toBeNull();
    expect(formatScaled(-1234n, 3)).toBe('-1.234');
    expect(formatScaled(5n, 6)).toBe('0.000005');
  });

  it('formatRatio is the exact value rounded HALF_UP to 40 significant digits (as decimal.js divides)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 25n }), (n, d) => {
        const expected = n === 0n ? '0' : new D40(n.toString()).div(d.toString()).toFixed();
        expect(formatRatio(n, d)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 20 }), (n, k) => {
        const d = 9n * 10n ** BigInt(k);
        expect(formatRatio(n, d, k)).toBe(n === 0n ? '0' : new D40(n.toString()).div(d.toString()).toFixed());
      }),
      { numRuns: 3000 },
    );
    expect(formatRatio(10n ** 40n - 1n, 10n ** 40n)).toBe('0.9999999999999999999999999999999999999999');
    expect(formatRatio(2n * 10n ** 41n - 1n, 2n * 10n ** 41n)).toBe('1'); // carry through all the nines
    expect(formatRatio(7n, 3600n)).toBe('0.001944444444444444444444444444444444444444');
  });

  it('divRound rounds an exact ratio like decimal.js for every rounding mode, and formatMinor prints it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.constantFrom(...ROUNDING_MODES), (n, d, mode) => {
        const expected = new D80(n.toString()).div(d.toString()).toDecimalPlaces(0, toDecimalRounding(mode)).toFixed();
        expect(divRound(n, d, mode).toString()).toBe(expected === '-0' ? '0' : expected);
      }),
      { numRuns: 5000 },
    );
    expect(formatMinor(563n, 2)).toBe('5.63');
    expect(formatMinor(5n, 2)).toBe('0.05');
    expect(formatMinor(0n, 2)).toBe('0.00');
    expect(formatMinor(1235n, 0)).toBe('1235');
    expect(formatMinor(1235n, 3)).toBe('1.235');
    expect(formatMinor(-5n, 2)).toBe('-0.05');
  });

  it('hoursFromMs (4 decimals HALF_UP) and ceilToStep', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), (ms) => {
        expect(hoursFromMs(ms)).toBe(new Dec(ms.toString()).div(3_600_000).toDecimalPlaces(4, Decimal.ROUND_HALF_UP).toFixed());
      }),
    );
    expect(ceilToStep(0n, 300_000n)).toBe(0n);
    expect(ceilToStep(1n, 300_000n)).toBe(300_000n);
    expect(ceilToStep(600_000n, 300_000n)).toBe(600_000n);
  });
});
