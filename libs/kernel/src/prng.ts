/**
 * Seeded pseudo-random numbers (mulberry32, Tommy Ettinger, public domain: 32-bit state, period 2^32): the same seed
 * gives the same sequence on every machine and library version. For the simulator and for generated test and bench
 * workloads, never for anything derived from events.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
