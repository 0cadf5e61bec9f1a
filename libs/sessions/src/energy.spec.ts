import fc from 'fast-check';
import { DEFAULT_SESSION_CONFIG } from './config';
import { computeEnergy, energyChunkCache } from './energy';
import type { EnergyChunkCache, EnergyResult } from './energy';
import { chunkedInsert, firstOf } from './state';
import type { Chunked, EnergyReading, SessionState } from './state';

/**
 * computeEnergy keeps the fold of each chunk before the last (a running total for session.updated). Whatever the
 * readings (decreasing, jumping, repeated, fractional with more decimals later, out of order, outside the session),
 * the start moving, and the instant it is computed to, a cache kept across the calls must give what a fresh one gives.
 */
const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);

type Step =
  | { kind: 'reading'; minute: number; wh: string }
  | { kind: 'compute'; endMinute: number }
  | { kind: 'start'; minute: number }
  | { kind: 'meterStart'; wh: string | undefined };

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('reading' as const),
      minute: fc.integer({ min: -20, max: 400 }),
      wh: fc.oneof(
        fc.integer({ min: 0, max: 300_000 }).map(String),
        fc.integer({ min: 0, max: 3_000 }).map(String),
        fc.integer({ min: 0, max: 300_000_000 }).map((x) => (x / 1000).toFixed(3)),
        fc.integer({ min: 0, max: 3_000 }).map((x) => (x / 10).toFixed(1)),
        fc.constant('0'),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('compute' as const), endMinute: fc.integer({ min: 0, max: 420 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('start' as const), minute: fc.integer({ min: -10, max: 150 }) }),
  },
);

function session(
  readings: Chunked<EnergyReading>,
  startMinute: number,
  meterStart: string | undefined,
  meterStopWh?: string,
): SessionState {
  const ms = T0 + startMinute * 60_000;
  const end = meterStopWh === undefined ? undefined : { ms: T0 + 500 * 60_000, at: 'x', meterStopWh };
  return {
    end,
    meterStartWh: meterStart,
    startKnown: true,
    startedAtMs: ms,
    startedAt: new Date(ms).toISOString(),
    readings,
  } as unknown as SessionState;
}

const summary = (e: EnergyResult) => ({ total: e.total, scale: e.scale, lastAt: e.lastAt, flags: e.flags });

describe('computeEnergy: the kept fold of each chunk', () => {
  it('gives what a fresh computation gives, call after call', () => {
    fc.assert(
      fc.property(
        fc.array(arbStep, { minLength: 1, maxLength: 400, size: 'max' }),
        fc.boolean(),
        fc.constantFrom<string | undefined>('0', '500', '1000.5', undefined),
        fc.integer({ min: 0, max: 400 }),
        (steps, inOrder, firstMeterStart, decimalsFrom) => {
          let meterStart = firstMeterStart;
          const kept: EnergyChunkCache = energyChunkCache();
          let readings: Chunked<EnergyReading> = [];
          let startMinute = 0;
          let clock = 0;
          let k = 0;
          for (const step of steps) {
            if (step.kind === 'start') startMinute = step.minute;
            else if (step.kind === 'meterStart') meterStart = step.wh;
            else if (step.kind === 'reading') {
              // in order (the usual case, where the kept folds are used), else as generated (chunks made anew)
              const minute = inOrder ? (clock += step.minute % 4 === 0 ? 2 : 1) : step.minute;
              const ms = T0 + minute * 60_000;
              // registers with decimals only from some reading on (the scale then changes under the kept folds)
              const wh = k++ < decimalsFrom ? String(Math.trunc(+step.wh)) : step.wh;
              const r: EnergyReading = { ms, at: new Date(ms).toISOString(), wh, context: 'Sample.Periodic' };
              readings = chunkedInsert(readings, r, (x) => x.wh === r.wh);
            } else {
              const s = session(readings, startMinute, meterStart);
              const endMs = T0 + (inOrder ? Math.max(clock - (step.endMinute % 5), 0) : step.endMinute) * 60_000;
              const a = computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, kept, false);
              const b = computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, energyChunkCache(), false);
              expect(summary(a)).toEqual(summary(b));
            }
          }
          // ended with a zero meterStop: whether any reading was not zero decides its flag
          const endMs = T0 + 500 * 60_000;
          for (const stop of [undefined, '0']) {
            const s = session(readings, startMinute, meterStart, stop);
            expect(summary(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, kept, false))).toEqual(
              summary(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, energyChunkCache(), false)),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  // what the kept folds depend on, each changed between two computations with the same chunks
  const inOrder = (n: number, wh: (i: number) => string): Chunked<EnergyReading> => {
    let readings: Chunked<EnergyReading> = [];
    for (let i = 1; i <= n; i++) {
      const ms = T0 + i * 60_000;
      readings = chunkedInsert(readings, { ms, at: new Date(ms).toISOString(), wh: wh(i), context: 'x' }, () => false);
    }
    return readings;
  };
  it.each([
    ['meterStart changes (the point before the first chunk)', '500', '600', 0, 0, (i: number) => String(1000 + i * 10)],
    ['meterStart appears (no point before the first chunk)', undefined, '0', 0, 0, (i: number) => String(i * 10)],
    ['the start moves past the first chunk', '0', '0', 0, 40, (i: number) => String(i * 10)],
    [
      'a register of zeros then a jump (placeholder or implausible)',
      '0',
      '7',
      0,
      0,
      (i: number) => (i < 50 ? '0' : '90000'),
    ],
  ])('%s', (_what, before, after, startBefore, startAfter, wh) => {
    const readings = inOrder(100, wh);
    const kept = energyChunkCache();
    const endMs = T0 + 100 * 60_000;
    for (const stop of [undefined, '0']) {
      computeEnergy(session(readings, startBefore, before, stop), endMs, DEFAULT_SESSION_CONFIG, kept, false);
      const s = session(readings, startAfter, after, stop);
      expect(summary(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, kept, false))).toEqual(
        summary(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, energyChunkCache(), false)),
      );
    }
  });

  it('a reading with more decimals changes the scale under the kept folds', () => {
    const kept = energyChunkCache();
    const endMs = T0 + 100 * 60_000;
    // a register going back once: the sum is then not the last register minus the first
    const readings = inOrder(70, (i) => (i === 5 ? '0' : String(i * 10)));
    computeEnergy(session(readings, 0, '0'), endMs, DEFAULT_SESSION_CONFIG, kept, false);
    const ms = T0 + 71 * 60_000;
    const more = chunkedInsert(
      readings,
      { ms, at: new Date(ms).toISOString(), wh: '710.125', context: 'x' },
      () => false,
    );
    const s = session(more, 0, '0');
    const a = computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, kept, false);
    expect(summary(a)).toEqual(summary(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, energyChunkCache(), false)));
    expect([a.total, a.scale]).toEqual([750_125n, 3]);
  });

  it('all zeros and a meterStop of zero: the zero stop is a failed read only after a reading that was not zero', () => {
    const kept = energyChunkCache();
    const endMs = T0 + 100 * 60_000;
    const zeros = inOrder(70, () => '0');
    const nonZero = inOrder(70, (i) => (i === 3 ? '5' : '0'));
    for (const readings of [zeros, nonZero, zeros]) {
      const s = session(readings, 0, '0', '0');
      computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, kept, false);
      expect(summary(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, kept, false))).toEqual(
        summary(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, energyChunkCache(), false)),
      );
    }
  });

  it('uses the kept folds: an in-order session is not walked reading by reading again', () => {
    const kept = energyChunkCache();
    let readings: Chunked<EnergyReading> = [];
    for (let i = 1; i <= 3_600; i++) {
      const ms = T0 + i * 10_000;
      const r: EnergyReading = { ms, at: new Date(ms).toISOString(), wh: String(i * 30), context: 'Sample.Periodic' };
      readings = chunkedInsert(readings, r, () => false);
    }
    // a chunk in the middle that counts the reads of its inner readings
    let reads = 0;
    const watched = new Proxy(readings[5], {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^[0-9]+$/.test(key) && +key > 0 && +key < target.length - 1) reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    readings = readings.map((c, i) => (i === 5 ? watched : c));
    const s = session(readings, 0, '0');
    const endMs = T0 + 3_600 * 10_000;
    expect(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, kept, false).total).toBe(108_000n);
    expect(reads).toBeGreaterThan(0);
    reads = 0;
    expect(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, kept, false).total).toBe(108_000n);
    expect(reads).toBe(0);
    // the points of session.ended walk every reading
    expect(computeEnergy(s, endMs, DEFAULT_SESSION_CONFIG, kept, true).points).toHaveLength(3_601);
    expect(reads).toBeGreaterThan(0);
  });

  it.each([
    ['every reading inside the session', 0],
    ['its first 120 readings before the start (dropped, the last six clamped to it)', 20],
  ])('keeps the chunks before the last as one fold (%s): the next computations do not visit them', (_, start) => {
    const kept = energyChunkCache();
    let readings: Chunked<EnergyReading> = [];
    /** the same readings without the watched chunks below */
    let plain: Chunked<EnergyReading> = [];
    const add = (i: number) => {
      const ms = T0 + i * 10_000;
      const r: EnergyReading = { ms, at: new Date(ms).toISOString(), wh: String(i * 30), context: 'Sample.Periodic' };
      readings = chunkedInsert(readings, r, () => false);
      plain = chunkedInsert(plain, r, () => false);
    };
    const endMs = (n: number) => T0 + n * 10_000;
    const fresh = (n: number, list = plain) =>
      summary(computeEnergy(session(list, start, '0'), endMs(n), DEFAULT_SESSION_CONFIG, energyChunkCache(), false));
    for (let i = 1; i <= 3_600; i++) add(i);
    const first = computeEnergy(session(readings, start, '0'), endMs(3_600), DEFAULT_SESSION_CONFIG, kept, false);
    expect(summary(first)).toEqual(fresh(3_600));
    expect(first.total).toBe(start === 0 ? 108_000n : 108_000n - 3_420n);
    // every chunk but the first, the one closing the prefix and the last: any access to them throws
    const k = readings.length - 1;
    const untouchable = (c: unknown) =>
      new Proxy(c as object, {
        get() {
          throw new Error('a chunk inside the prefix fold was visited');
        },
      }) as EnergyReading[];
    readings = readings.map((c, i) => (i > 0 && i < k - 1 ? untouchable(c) : c));
    for (let i = 3_601; i <= 3_700; i++) {
      add(i);
      const s = session(readings, start, '0');
      expect(summary(computeEnergy(s, endMs(i), DEFAULT_SESSION_CONFIG, kept, false))).toEqual(fresh(i));
    }
    // a reading inserted out of order inside the prefix makes every chunk anew, with the same readings but shifted:
    // the prefix no longer holds and the walk visits them (here: throws), as a fresh computation would
    const ms = T0 + 200 * 10_000 + 5;
    const anew = chunkedInsert(plain, { ms, at: new Date(ms).toISOString(), wh: '0', context: 'x' }, () => false);
    expect(firstOf(anew[0])).toBe(firstOf(plain[0]));
    const watched = anew.map((c, i) => (i > 0 && i < k - 1 ? untouchable(c) : c));
    expect(() =>
      computeEnergy(session(watched, start, '0'), endMs(3_700), DEFAULT_SESSION_CONFIG, kept, false),
    ).toThrow(/visited/);
    const s = session(anew, start, '0');
    expect(summary(computeEnergy(s, endMs(3_700), DEFAULT_SESSION_CONFIG, kept, false))).toEqual(fresh(3_700, anew));
  });
});
