import Decimal from 'decimal.js';
import fc from 'fast-check';
import { DECIMAL_ROUNDING } from './decimal';
import {
  ZERO_RATIO,
  addRatio,
  ceilToScale,
  cmpRatio,
  divRatio,
  floorToScale,
  formatRatio,
  formatRational,
  mulRatio,
  negRatio,
  parseRatio,
  ratio,
  ratioOfScaled,
  roundToScale,
  subRatio,
  type Ratio,
} from './rational';
import { ROUNDING_MODES } from './rounding';
import { formatScaled } from './text';

const D40 = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -100, toExpPos: 100 });
const D300 = Decimal.clone({ precision: 300, toExpNeg: -400, toExpPos: 400 });

/**
 * The 100-digit decimal.js ratios the billing library used before the kernel: numerator and
 * denominator are decimals, the one division rounds towards floor (or ceiling) at 100 digits, then the
 * integer floor (ceiling) is taken. Kept here as the reference the BigInt rationals must match.
 */
const XF = Decimal.clone({ precision: 100, rounding: Decimal.ROUND_FLOOR, toExpNeg: -120, toExpPos: 120 });
const XC = Decimal.clone({ precision: 100, rounding: Decimal.ROUND_CEIL, toExpNeg: -120, toExpPos: 120 });
interface X {
  n: Decimal;
  d: Decimal;
}
const x = {
  of: (text: string, d = '1'): X => ({ n: new XF(text), d: new XF(d) }),
  add: (a: X, b: X): X =>
    a.d.eq(b.d) ? { n: a.n.plus(b.n), d: a.d } : { n: a.n.times(b.d).plus(b.n.times(a.d)), d: a.d.times(b.d) },
  sub: (a: X, b: X): X =>
    a.d.eq(b.d) ? { n: a.n.minus(b.n), d: a.d } : { n: a.n.times(b.d).minus(b.n.times(a.d)), d: a.d.times(b.d) },
  mul: (a: X, b: X): X => ({ n: a.n.times(b.n), d: a.d.times(b.d) }),
  div: (a: X, b: X): X => ({ n: a.n.times(b.d), d: a.d.times(b.n) }),
  cmp: (a: X, b: X): number => a.n.times(b.d).cmp(b.n.times(a.d)),
  floor6: (r: X): string => new XF(r.n.times(1_000_000)).div(r.d).floor().div(1_000_000).toFixed(),
  ceilInt: (r: X): string => new XC(r.n).div(r.d).ceil().toFixed(),
};

/** A decimal string: up to 12 integer digits, up to 9 decimals, either sign. */
const decimal = fc
  .tuple(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.integer({ min: 0, max: 9 }))
  .map(([n, k]) => formatScaled(n, k));
const positive = fc
  .tuple(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.integer({ min: 0, max: 9 }))
  .map(([n, k]) => formatScaled(n, k));
const exact = (r: Ratio): Decimal => new D300(r.n.toString()).div(r.d.toString());
const parse = (text: string): Ratio => parseRatio(text) as Ratio;

describe('exact rationals (BigInt)', () => {
  it.each([
    ['0', 0n, 1n],
    ['12', 12n, 1n],
    ['-12.50', -1250n, 100n],
    ['007.5', 75n, 10n],
    ['0.000001', 1n, 1_000_000n],
    ['-0', 0n, 1n],
  ])('parseRatio(%j) = %s / %s', (text, n, d) => {
    expect(parseRatio(text)).toEqual({ n, d });
  });

  it.each(['', '-', '1.', '.5', '1e3', '+1', '1.2.3', '1 ', '--1', '0x10'])('parseRatio refuses %j', (text) => {
    expect(parseRatio(text)).toBeNull();
  });

  it('ratio normalises the sign of the denominator and refuses zero', () => {
    expect(ratio(3n, -4n)).toEqual({ n: -3n, d: 4n });
    expect(ratio(5n)).toEqual({ n: 5n, d: 1n });
    expect(() => ratio(1n, 0n)).toThrow(RangeError);
    expect(ratioOfScaled(1500n, 3)).toEqual({ n: 1500n, d: 1000n });
    expect(ZERO_RATIO).toEqual({ n: 0n, d: 1n });
  });

  it('add, sub, mul, div, neg and cmp are exact (checked at 300 digits)', () => {
    fc.assert(
      fc.property(decimal, decimal, positive, (a, b, c) => {
        const [ra, rb, rc] = [parse(a), parse(b), parse(c)];
        const [da, db, dc] = [new D300(a), new D300(b), new D300(c)];
        expect(exact(addRatio(ra, rb)).eq(da.plus(db))).toBe(true);
        expect(exact(subRatio(ra, rb)).eq(da.minus(db))).toBe(true);
        expect(exact(mulRatio(ra, rb)).eq(da.times(db))).toBe(true);
        expect(exact(negRatio(ra)).eq(da.neg())).toBe(true);
        const q = divRatio(addRatio(ra, rb), rc);
        expect(q.d > 0n).toBe(true);
        expect(exact(q).eq(da.plus(db).div(dc))).toBe(true);
        const qn = divRatio(ra, negRatio(rc));
        expect(qn.d > 0n).toBe(true);
        expect(exact(qn).eq(da.div(dc.neg()))).toBe(true);
        expect(cmpRatio(ra, rb)).toBe(da.cmp(db));
        expect(cmpRatio(divRatio(ra, rc), divRatio(rb, rc))).toBe(da.cmp(db));
      }),
      { numRuns: 3000 },
    );
    expect(() => divRatio(ratio(1n), ZERO_RATIO)).toThrow(RangeError);
  });

  it('sums of decimals stay on the finer power of ten', () => {
    expect(addRatio(parse('1.5'), parse('0.25'))).toEqual({ n: 175n, d: 100n });
    expect(subRatio(parse('0.001'), parse('2'))).toEqual({ n: -1999n, d: 1000n });
    expect(addRatio(ratio(1n, 3n), ratio(1n, 6n))).toEqual({ n: 3n, d: 6n });
    expect(addRatio(ratio(1n, 4n), ratio(1n, 6n))).toEqual({ n: 10n, d: 24n });
  });

  it('floorToScale / ceilToScale / roundToScale round the exact value to a scale', () => {
    fc.assert(
      fc.property(
        decimal,
        positive,
        fc.integer({ min: 0, max: 9 }),
        fc.constantFrom(...ROUNDING_MODES),
        (a, b, scale, mode) => {
          const r = divRatio(parse(a), parse(b));
          const v = exact(r);
          const at = (m: Decimal.Rounding): string =>
            v.toDecimalPlaces(scale, m).times(new D300(10).pow(scale)).toFixed();
          expect(floorToScale(r, scale).toString()).toBe(at(Decimal.ROUND_FLOOR));
          expect(ceilToScale(r, scale).toString()).toBe(at(Decimal.ROUND_CEIL));
          const rounded = at(DECIMAL_ROUNDING[mode]);
          expect(roundToScale(r, scale, mode).toString()).toBe(rounded === '-0' ? '0' : rounded);
        },
      ),
      { numRuns: 3000 },
    );
    expect(floorToScale(parse('-0.0000001'), 6)).toBe(-1n);
    expect(ceilToScale(parse('0.0000001'), 6)).toBe(1n);
    expect(roundToScale(parse('2.0000005'), 6, 'HALF_UP')).toBe(2_000_001n);
    expect(roundToScale(parse('2.0000005'), 6, 'HALF_EVEN')).toBe(2_000_000n);
  });

  describe('agrees with the 100-digit decimal.js ratios billing used', () => {
    // Linear interpolation of a cumulative energy between two readings (Wh), floored to 1 mWh as kWh.
    it('interpolated energy floored to 1 mWh', () => {
      fc.assert(
        fc.property(
          decimal,
          decimal,
          fc.integer({ min: 0, max: 10 ** 9 }),
          fc.integer({ min: 1, max: 10 ** 9 }),
          fc.integer({ min: 0, max: 10 ** 9 }),
          (whA, whB, msA, span, at) => {
            const t = at % span;
            // kWh = (a.wh x span + (b.wh - a.wh) x t) / span / 1000
            const q = divRatio(
              addRatio(
                mulRatio(parse(whA), ratio(BigInt(span))),
                mulRatio(subRatio(parse(whB), parse(whA)), ratio(BigInt(t))),
              ),
              ratio(BigInt(span) * 1000n),
            );
            const xa = x.of(whA);
            const xq = x.div(
              x.add(x.mul(xa, x.of(String(span))), x.mul(x.sub(x.of(whB), xa), x.of(String(t)))),
              x.of(String(span * 1000)),
            );
            expect(formatScaled(floorToScale(q, 6), 6)).toBe(xq.n.isZero() ? '0' : x.floor6(xq));
            expect(cmpRatio(q, parse(whA))).toBe(x.cmp(xq, xa));
            void msA;
          },
        ),
        { numRuns: 3000 },
      );
    });

    // The first millisecond at which a cumulative energy reaches a target between two readings.
    it('crossing instants ceiled to the millisecond', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 4 * 10 ** 12 }),
          fc.integer({ min: 1, max: 10 ** 9 }),
          positive,
          positive,
          fc.integer({ min: 1, max: 999 }),
          (msA, span, whA, rise, permille) => {
            const a = parse(whA);
            const b = addRatio(a, parse(rise));
            const target = addRatio(a, mulRatio(subRatio(b, a), ratio(BigInt(permille), 1000n)));
            const t = addRatio(
              ratio(BigInt(msA)),
              divRatio(mulRatio(subRatio(target, a), ratio(BigInt(span))), subRatio(b, a)),
            );
            const xa = x.of(whA);
            const xb = x.add(xa, x.of(rise));
            const xt0 = x.add(xa, x.mul(x.sub(xb, xa), x.of(String(permille), '1000')));
            const xt = x.add(x.of(String(msA)), x.div(x.mul(x.sub(xt0, xa), x.of(String(span))), x.sub(xb, xa)));
            expect(ceilToScale(t, 0).toString()).toBe(x.ceilInt(xt));
          },
        ),
        { numRuns: 3000 },
      );
    });
  });

  it('formatRatio is the exact value rounded HALF_UP to 40 significant digits (as Dec divides)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 25n }),
        (n, d) => {
          const expected = n === 0n ? '0' : new D40(n.toString()).div(d.toString()).toFixed();
          expect(formatRatio(n, d)).toBe(expected);
          expect(formatRational({ n, d })).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 20 }), (n, k) => {
        const d = 9n * 10n ** BigInt(k);
        expect(formatRatio(n, d, k)).toBe(n === 0n ? '0' : new D40(n.toString()).div(d.toString()).toFixed());
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    [10n ** 40n - 1n, 10n ** 40n, -1, '0.9999999999999999999999999999999999999999'],
    [2n * 10n ** 41n - 1n, 2n * 10n ** 41n, -1, '1'], // carry through all the nines
    [7n, 3600n, -1, '0.001944444444444444444444444444444444444444'],
    [-45n, 9000n, 3, '-0.005'],
    [1n, 3n, -1, '0.3333333333333333333333333333333333333333'],
  ])('formatRatio(%s, %s, %s) = %j', (n, d, k, text) => {
    expect(formatRatio(n, d, k)).toBe(text);
  });
});
