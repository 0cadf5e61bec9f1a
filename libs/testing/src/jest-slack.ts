/**
 * Jest setup of the integration tier (jest.config.js, setupFilesAfterEnv): a timeout a suite states for a test or
 * a hook (`it(name, fn, 240_000)`, `beforeAll(fn, 120_000)`) is multiplied by TEST_SLACK, as `waitFor`'s are, since
 * the suite shares the machine with the other suites jest runs at once. A test that passes is not slowed by it.
 */
import { TEST_SLACK } from './env';

type Registrar = (name: unknown, fn: unknown, timeout?: number) => unknown;
type Hook = (fn: unknown, timeout?: number) => unknown;
const g = globalThis as unknown as Record<string, Registrar & Hook & Record<string, unknown>>;
const scaled = (t: number | undefined) => (typeof t === 'number' ? t * TEST_SLACK : t);

if (TEST_SLACK !== 1) {
  for (const name of ['it', 'test']) {
    const original = g[name];
    const wrapped = ((title: unknown, fn: unknown, timeout?: number) =>
      original(title, fn, scaled(timeout))) as Registrar;
    // it.each, it.only, it.skip, it.todo, it.concurrent, ... stay as they were
    g[name] = Object.assign(wrapped, original) as never;
  }
  for (const name of ['beforeAll', 'afterAll', 'beforeEach', 'afterEach']) {
    const original = g[name];
    g[name] = ((fn: unknown, timeout?: number) => original(fn, scaled(timeout))) as never;
  }
}
