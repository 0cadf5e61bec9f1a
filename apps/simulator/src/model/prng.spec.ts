import fc from 'fast-check';
import { hash32, mulberry32, Rng } from './prng';

describe('mulberry32', () => {
  it('gives the same sequence for the same seed and floats in [0, 1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const a = mulberry32(seed);
        const b = mulberry32(seed);
        for (let i = 0; i < 50; i++) {
          const x = a();
          expect(b()).toBe(x);
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThan(1);
        }
      }),
    );
  });

  it('is roughly uniform (10 buckets, 100k draws, each within 3% of a tenth)', () => {
    const r = mulberry32(42);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Math.floor(r() * 10)]++;
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(300);
  });

  it('differs between neighbouring seeds', () => {
    expect(mulberry32(1)()).not.toBe(mulberry32(2)());
  });
});

describe('hash32', () => {
  it.each([
    ['', 'a'],
    ['station/1', 'station/2'],
    ['1/station/0/connector/1', '1/station/0/connector/2'],
  ])('separates %j from %j', (a, b) => {
    expect(hash32(a)).not.toBe(hash32(b));
    expect(hash32(a)).toBe(hash32(a));
  });
});

describe('Rng', () => {
  it.each([
    [0, 0],
    [1, 6],
    [-3, 3],
    [10, 11],
  ])('int(%i, %i) stays within the inclusive range and reaches both ends', (min, max) => {
    const r = new Rng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(min, max);
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(min);
      expect(v).toBeLessThanOrEqual(max);
      seen.add(v);
    }
    expect(seen.has(min)).toBe(true);
    expect(seen.has(max)).toBe(true);
  });

  it('derives named streams that do not depend on draws from other streams', () => {
    const a1 = Rng.derive(5, 'station', 1);
    const first = [a1.next(), a1.next()];
    const other = Rng.derive(5, 'station', 0);
    for (let i = 0; i < 100; i++) other.next();
    const a2 = Rng.derive(5, 'station', 1);
    expect([a2.next(), a2.next()]).toEqual(first);
    expect(Rng.derive(5, 'station', 2).next()).not.toBe(first[0]);
  });

  it('fork does not consume the parent stream', () => {
    const a = new Rng(9);
    const b = new Rng(9);
    a.fork('x').next();
    expect(a.next()).toBe(b.next());
  });

  it('chance(0) is never true, chance(1) always', () => {
    const r = new Rng(3);
    for (let i = 0; i < 1000; i++) {
      expect(r.chance(0)).toBe(false);
      expect(r.chance(1)).toBe(true);
    }
  });

  it('refuses an empty range or list', () => {
    expect(() => new Rng(1).int(2.2, 2.8)).toThrow(RangeError);
    expect(() => new Rng(1).pick([])).toThrow(RangeError);
  });
});
