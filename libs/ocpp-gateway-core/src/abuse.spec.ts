import { FailureThrottle, TokenBucket, backoffMs, type BackoffPolicy } from './abuse';

const policy: BackoffPolicy = { freeFailures: 3, baseMs: 1000, maxMs: 60_000 };

describe('backoffMs', () => {
  it.each([
    [0, 0],
    [1, 0],
    [3, 0],
    [4, 1000],
    [5, 2000],
    [6, 4000],
    [9, 32_000],
    [10, 60_000],
    [200, 60_000],
    [5000, 60_000],
  ])('after %i failures: %i ms', (failures, wait) => {
    expect(backoffMs(policy, failures)).toBe(wait);
  });
});

describe('FailureThrottle', () => {
  type Step = ['fail' | 'succeed', number] | ['check', number, number | 'allowed'];
  const cases: Array<[string, Step[]]> = [
    [
      'free failures are not throttled',
      [
        ['fail', 0],
        ['fail', 10],
        ['fail', 20],
        ['check', 30, 'allowed'],
      ],
    ],
    [
      'the failure past the free ones blocks for baseMs',
      [
        ['fail', 0],
        ['fail', 0],
        ['fail', 0],
        ['fail', 100],
        ['check', 100, 1000],
        ['check', 600, 500],
        ['check', 1100, 'allowed'],
      ],
    ],
    [
      'each further failure doubles the wait',
      [
        ['fail', 0],
        ['fail', 0],
        ['fail', 0],
        ['fail', 0],
        ['fail', 1000],
        ['check', 1000, 2000],
        ['fail', 3000],
        ['check', 3000, 4000],
      ],
    ],
    [
      'a success forgets the key',
      [
        ['fail', 0],
        ['fail', 0],
        ['fail', 0],
        ['fail', 0],
        ['succeed', 1000],
        ['check', 1000, 'allowed'],
        ['fail', 1000],
        ['check', 1000, 'allowed'],
      ],
    ],
    [
      'quiet for maxMs after the block: forgotten, the free failures again',
      [
        ['fail', 0],
        ['fail', 0],
        ['fail', 0],
        ['fail', 0],
        ['fail', 61_000],
        ['fail', 61_000],
        ['fail', 61_000],
        ['check', 61_000, 'allowed'],
      ],
    ],
    [
      'quiet for less than maxMs after the block: still counted',
      [
        ['fail', 0],
        ['fail', 0],
        ['fail', 0],
        ['fail', 0],
        ['fail', 60_999],
        ['check', 60_999, 2000],
      ],
    ],
  ];
  it.each(cases)('%s', (_name, steps) => {
    const t = new FailureThrottle(policy);
    for (const step of steps) {
      if (step[0] === 'fail') t.fail('CP1', step[1]);
      else if (step[0] === 'succeed') t.succeed('CP1');
      else
        expect(t.check('CP1', step[1])).toEqual(
          step[2] === 'allowed' ? { allowed: true } : { allowed: false, retryAfterMs: step[2] },
        );
    }
  });

  it('keeps keys apart', () => {
    const t = new FailureThrottle({ ...policy, freeFailures: 0 });
    t.fail('a', 0);
    expect(t.check('a', 0)).toEqual({ allowed: false, retryAfterMs: 1000 });
    expect(t.check('b', 0)).toEqual({ allowed: true });
  });

  it('holds at most maxKeys, dropping the one that failed least recently', () => {
    const t = new FailureThrottle({ ...policy, freeFailures: 0 }, 2);
    t.fail('a', 0);
    t.fail('b', 1);
    t.fail('a', 2);
    t.fail('c', 3);
    expect(t.size).toBe(2);
    expect([t.failures('a', 3), t.failures('b', 3), t.failures('c', 3)]).toEqual([2, 0, 1]);
  });

  it('prune drops forgotten keys only', () => {
    const t = new FailureThrottle(policy);
    t.fail('old', 0);
    t.fail('new', 50_000);
    t.prune(60_000);
    expect(t.size).toBe(1);
    expect(t.failures('new', 60_000)).toBe(1);
  });
});

describe('TokenBucket', () => {
  it.each([
    ['a burst is allowed, then refused', { perSecond: 10, burst: 3 }, [0, 0, 0, 0], [true, true, true, false]],
    [
      'refills at the sustained rate',
      { perSecond: 10, burst: 3 },
      [0, 0, 0, 0, 99, 100, 100],
      [true, true, true, false, false, true, false],
    ],
    [
      'never holds more than the burst',
      { perSecond: 10, burst: 2 },
      [0, 0, 10_000, 10_000, 10_000],
      [true, true, true, true, false],
    ],
    [
      'a steady rate at the limit is always allowed',
      { perSecond: 5, burst: 1 },
      [0, 200, 400, 600, 800],
      [true, true, true, true, true],
    ],
    ['a refused call takes nothing', { perSecond: 1, burst: 1 }, [0, 500, 999, 1000], [true, false, false, true]],
    ['a clock going back refills nothing', { perSecond: 10, burst: 1 }, [1000, 0, 1000], [true, false, false]],
  ])('%s', (_name, limit, times, expected) => {
    const b = new TokenBucket(limit, times[0]);
    expect(times.map((t) => b.take(t))).toEqual(expected);
  });

  it('945 calls a second for 10 s: the burst plus the sustained rate get through', () => {
    const b = new TokenBucket({ perSecond: 20, burst: 200 }, 0);
    let allowed = 0;
    for (let i = 0; i < 9450; i++) if (b.take(Math.floor((i * 10_000) / 9450))) allowed++;
    expect(allowed).toBeGreaterThanOrEqual(399);
    expect(allowed).toBeLessThanOrEqual(400);
  });
});
