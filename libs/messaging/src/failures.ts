import { isRetriable } from '@csms/kernel';

/** What to do with an event whose handling failed. */
export type FailureVerdict = 'retry' | 'park' | 'unknown';

const NODE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

/**
 * Infrastructure failures (the database or broker unreachable, a deadlock, a serialization
 * failure) are retried for as long as it takes; errors that say `retriable: false` (contract
 * violations, broken invariants) are parked; anything else is retried a few times, then parked.
 */
export function classifyFailure(err: unknown): FailureVerdict {
  if (typeof err !== 'object' || err === null) return 'unknown';
  const e = err as { retriable?: unknown; code?: unknown; message?: unknown };
  if (isRetriable(err)) return 'retry';
  if (e.retriable === false) return 'park';
  const code = typeof e.code === 'string' ? e.code : '';
  // PostgreSQL SQLSTATE: 08 connection exception, 53 insufficient resources, 57P0x operator intervention,
  // 40001 serialization failure, 40P01 deadlock detected
  if (/^(08|53)/.test(code) || /^57P0/.test(code) || code === '40001' || code === '40P01') return 'retry';
  if (NODE_NETWORK_CODES.has(code)) return 'retry';
  const msg = typeof e.message === 'string' ? e.message : '';
  if (
    /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
      msg,
    )
  )
    return 'retry';
  return 'unknown';
}
