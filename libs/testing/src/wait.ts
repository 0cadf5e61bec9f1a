import { TEST_SLACK } from './env';

export interface WaitOptions {
  /** the limit on a quiet machine; multiplied by TEST_SLACK */
  timeoutMs?: number;
  intervalMs?: number;
  /** says what was awaited when it times out */
  what?: string;
}

/**
 * Polls `probe` until it returns something other than undefined/false, and returns that.
 * Tests wait for a condition, never for a fixed time (no sleeps).
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = (opts.timeoutMs ?? 20_000) * TEST_SLACK;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
