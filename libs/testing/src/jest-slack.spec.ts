import { withSlack } from './jest-slack';

describe('withSlack: the timeouts a suite states get slack', () => {
  it('multiplies the timeout argument of a test and of a hook, and leaves the rest alone', () => {
    const calls: unknown[][] = [];
    const it = Object.assign((...a: unknown[]) => void calls.push(a), { each: 'each', only: 'only' });
    const fn = () => undefined;
    const slow = withSlack(it, 2, 3);
    slow('a test', fn, 240_000);
    slow('no stated timeout', fn);
    expect(calls).toEqual([
      ['a test', fn, 720_000],
      ['no stated timeout', fn],
    ]);
    expect([slow.each, slow.only]).toEqual(['each', 'only']);
    const hooks: unknown[][] = [];
    withSlack((...a: unknown[]) => void hooks.push(a), 1, 2)(fn, 120_000);
    expect(hooks).toEqual([[fn, 240_000]]);
  });
});
