import Decimal from 'decimal.js';
import fc from 'fast-check';
import {
  compareDecimal,
  decimalsOf,
  formatMillis,
  formatMinor,
  formatScaled,
  hoursFromMs,
  isCanonicalDecimal,
  isDecimalString,
  isNonNegativeDecimal,
  parseScaled,
  pow10,
  toScaled,
} from './text';

const D80 = Decimal.clone({ precision: 80, toExpNeg: -100, toExpPos: 100 });
/** A plain decimal string with up to `k` decimals, as decimal.js writes it. */
const decimalText = (k: number) =>
  fc
    .tuple(fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), fc.integer({ min: 0, max: k }))
    .map(([n, s]) => new D80(n.toString()).div(new D80(10).pow(s)).toFixed());

describe('exact text: plain decimal strings and scaled fixed point', () => {
  it.each([
    ['0', true, true],
    ['12', true, true],
    ['007.50', true, true],
    ['-3', true, false],
    ['-0.25', true, false],
    ['1.', false, false],
    ['.5', false, false],
    ['1e3', false, false],
    ['+1', false, false],
    [' 1', false, false],
    ['', false, false],
    ['1.2.3', false, false],
  ])('%j: decimal string %s, non-negative decimal %s', (text, plain, nonNegative) => {
    expect(isDecimalString(text)).toBe(plain);
    expect(isNonNegativeDecimal(text)).toBe(nonNegative);
  });

  it('refuses every JS number, even an integer', () => {
    expect(isDecimalString(12)).toBe(false);
    expect(isNonNegativeDecimal(0.5)).toBe(false);
  });

  it.each([
    ['0', true],
    ['0.5', true],
    ['12.25', true],
    ['012', false],
    ['1.50', false],
    ['10', true],
    ['0.0', false],
  ])('isCanonicalDecimal(%j) = %s', (text, canonical) => {
    expect(isCanonicalDecimal(text)).toBe(canonical);
  });

  it.each([
    ['12', 0],
    ['1.5', 1],
    ['0.000', 3],
    ['-2.25', 2],
  ])('decimalsOf(%j) = %s', (text, decimals) => {
    expect(decimalsOf(text)).toBe(decimals);
  });

  it('pow10 is 10^n, also beyond its table', () => {
    for (const n of [0, 1, 6, 40, 64, 65, 120]) expect(pow10(n)).toBe(10n ** BigInt(n));
  });

  it('parseScaled / formatScaled round-trip decimal strings exactly', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 16n }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        (v, decimals, zeros) => {
          const text = formatScaled(v, decimals);
          expect(text).toBe(new D80(v.toString()).div(new D80(10).pow(decimals)).toFixed());
          const padded = text.includes('.') ? text + '0'.repeat(zeros) : text;
          const parsed = parseScaled(padded, decimals);
          // more than 15 significant digits (integer digits + decimals) is refused, the rest round-trips
          const intPart = v / 10n ** BigInt(decimals);
          const intDigits = intPart === 0n ? 0 : intPart.toString().length;
          expect(parsed).toBe(intDigits + decimals > 15 ? null : v);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['007.50', 3, 7500n],
    ['0', 6, 0n],
    ['0.000', 0, 0n],
    ['12', 6, 12_000_000n],
    ['0.0000001', 6, null],
    ['0.00000010', 7, 1n],
    ['1.', 3, null],
    ['.5', 3, null],
    ['-1', 3, null],
    ['1e3', 3, null],
    ['1 ', 3, null],
    ['', 3, null],
    ['999999999.999999', 6, 999_999_999_999_999n],
    ['1000000000', 6, null],
  ])('parseScaled(%j, %s) = %s', (text, decimals, expected) => {
    expect(parseScaled(text, decimals)).toBe(expected);
  });

  it('parseScaled takes a larger significant-digit bound on request', () => {
    expect(parseScaled('1000000000', 6)).toBeNull();
    expect(parseScaled('1000000000', 6, 30)).toBe(10n ** 15n);
  });

  it.each([
    [-1234n, 3, '-1.234'],
    [5n, 6, '0.000005'],
    [1_500n, 3, '1.5'],
    [0n, 6, '0'],
    [12n, 0, '12'],
    [12n, -2, '1200'],
  ])('formatScaled(%s, %s) = %j', (value, decimals, text) => {
    expect(formatScaled(value, decimals)).toBe(text);
  });

  it('toScaled reads a valid decimal string at any scale at or above its decimals (also signed)', () => {
    fc.assert(
      fc.property(decimalText(9), fc.integer({ min: 0, max: 4 }), (text, extra) => {
        const scale = decimalsOf(text) + extra;
        const v = toScaled(text, scale);
        expect(v.toString()).toBe(new D80(text).times(new D80(10).pow(scale)).toFixed());
        expect(formatScaled(v, scale)).toBe(text);
      }),
      { numRuns: 3000 },
    );
    expect(toScaled('+1.5', 3)).toBe(1500n);
    expect(toScaled('.5', 1)).toBe(5n);
  });

  it.each([
    ['1', '2', -1],
    ['10', '9', 1],
    ['9.99', '10', -1],
    ['16', '16.0', 0],
    ['0.5', '0.25', 1],
    ['-1', '1', -1],
    ['-2', '-1', -1],
    ['007', '7', 0],
    ['0.001', '0', 1],
    ['-0.5', '-0.25', -1],
  ])('compareDecimal(%j, %j) = %s', (a, b, expected) => {
    expect(compareDecimal(a, b)).toBe(expected);
  });

  it('compareDecimal agrees with decimal.js', () => {
    fc.assert(
      fc.property(decimalText(9), decimalText(9), (a, b) => expect(compareDecimal(a, b)).toBe(new D80(a).cmp(b))),
      { numRuns: 3000 },
    );
  });

  it.each([
    [563n, 2, '5.63'],
    [5n, 2, '0.05'],
    [0n, 2, '0.00'],
    [1235n, 0, '1235'],
    [1235n, 3, '1.235'],
    [-5n, 2, '-0.05'],
    [-1235n, 0, '-1235'],
  ])('formatMinor(%s, %s) = %j', (units, minor, text) => {
    expect(formatMinor(units, minor)).toBe(text);
  });

  it('hoursFromMs: hours to 4 decimals, HALF_UP', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), (ms) => {
        expect(hoursFromMs(ms)).toBe(
          new D80(ms.toString()).div(3_600_000).toDecimalPlaces(4, Decimal.ROUND_HALF_UP).toFixed(),
        );
      }),
    );
    expect(hoursFromMs(180n)).toBe('0.0001');
    expect(hoursFromMs(179n)).toBe('0');
    expect(hoursFromMs(5_400_000n)).toBe('1.5');
  });

  it.each([
    [0, '0'],
    [90_000, '90'],
    [1_500, '1.5'],
    [1, '0.001'],
    [-2_500, '-2.5'],
  ])('formatMillis(%s) = %j', (ms, text) => {
    expect(formatMillis(ms)).toBe(text);
  });
});
