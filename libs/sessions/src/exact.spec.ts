import fc from 'fast-check';
import Decimal from 'decimal.js';
import { compareDecimal, decimalsOf, formatScaled as fromFixed, toScaled as toFixed } from '@csms/kernel';

/** The kernel's exact helpers as the decider uses them: readings ordered by register, fixed point at the finest scale read. */
describe('exact decimal helpers (kernel) as the decider uses them', () => {
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
  ])('compareDecimal(%s, %s) = %s', (a, b, expected) => {
    expect(compareDecimal(a, b)).toBe(expected);
  });

  it('compareDecimal agrees with decimal.js', () => {
    const dec = fc
      .tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 6 }))
      .map(([n, k]) => new Decimal(n).div(10 ** k).toFixed());
    fc.assert(fc.property(dec, dec, (a, b) => expect(compareDecimal(a, b)).toBe(new Decimal(a).cmp(b))));
  });

  it('fixed point round-trips exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 9 }), (n, k) => {
        const v = new Decimal(n).div(10 ** k).toFixed();
        const scale = Math.max(decimalsOf(v), 3);
        expect(new Decimal(fromFixed(toFixed(v, scale), scale)).eq(v)).toBe(true);
      }),
    );
  });
});
