/**
 * Jest setup of the integration tier (jest.config.js, setupFilesAfterEnv): a timeout a suite states for a test or
 * a hook (`it(name, fn, 240_000)`, `beforeAll(fn, 120_000)`) is multiplied by TEST_SLACK, as `waitFor`'s are, since
 * with several workers the suite shares the machine with other suites. A test that passes is not slowed by it.
 */
import { TEST_SLACK } from './env';

type Fn = (...args: unknown[]) => unknown;

/** `registrar` (it, test, beforeAll, ...) with its timeout argument (at `timeoutAt`) multiplied by `slack`. */
export function withSlack<T extends Fn>(registrar: T, timeoutAt: number, slack: number): T {
  const wrapped = ((...args: unknown[]) => {
    if (typeof args[timeoutAt] === 'number') args[timeoutAt] = (args[timeoutAt] as number) * slack;
    return registrar(...args);
  }) as T;
  // it.each, it.only, it.skip, it.todo, it.concurrent, ... stay as they were
  return Object.assign(wrapped, registrar);
}

const g = globalThis as unknown as Record<string, Fn>;
if (TEST_SLACK !== 1 && typeof g.it === 'function') {
  for (const name of ['it', 'test']) g[name] = withSlack(g[name], 2, TEST_SLACK);
  for (const name of ['beforeAll', 'afterAll', 'beforeEach', 'afterEach']) g[name] = withSlack(g[name], 1, TEST_SLACK);
}
