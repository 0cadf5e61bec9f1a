/**
 * Seeded pseudo-random numbers for the simulator. Every choice the simulator makes comes from here,
 * never from Math.random, so a seed reproduces a run.
 *
 * mulberry32 (Tommy Ettinger, public domain): 32-bit state, period 2^32, good enough for simulation.
 * Streams are derived by name (`Rng.derive(seed, 'station', 3)`), not by consuming a parent stream, so
 * adding a draw in one stream never shifts another (station 2's plan does not depend on station 1's).
 */

import { mulberry32 } from '@csms/kernel';

/** The mulberry32 generator (libs/kernel): a function returning uniform floats in [0, 1). */
export { mulberry32 };

/** 32-bit FNV-1a of a string, then a murmur3 finaliser for avalanche. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An inclusive numeric range `[min, max]`. */
export type Range = readonly [number, number];

export class Rng {
  private readonly gen: () => number;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.gen = mulberry32(this.seed);
  }

  /** A stream named by `labels` under `seed`: same seed and labels, same stream. */
  static derive(seed: number, ...labels: Array<string | number>): Rng {
    return new Rng(hash32(`${seed >>> 0}/${labels.join('/')}`));
  }

  /** A child stream named by `labels`; does not consume from this stream. */
  fork(...labels: Array<string | number>): Rng {
    return Rng.derive(this.seed, ...labels);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.gen();
  }

  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    const lo = Math.ceil(Math.min(min, max));
    const hi = Math.floor(Math.max(min, max));
    if (hi < lo) throw new RangeError(`empty integer range [${min}, ${max}]`);
    return lo + Math.floor(this.gen() * (hi - lo + 1));
  }

  /** Uniform integer in an inclusive range. */
  intIn(range: Range): number {
    return this.int(range[0], range[1]);
  }

  /** Uniform float in [min, max). */
  float(min: number, max: number): number {
    return min + this.gen() * (max - min);
  }

  /** True with probability p (p <= 0 never draws true, p >= 1 always). */
  chance(p: number): boolean {
    const u = this.gen();
    return u < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.gen() * items.length)];
  }
}
