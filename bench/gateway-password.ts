import { createHash } from 'node:crypto';

/** The password of a benchmark station (BENCH_PASSWORDS): 24 characters derived from its id, one per station. */
export function benchPassword(stationId: string): string {
  return createHash('sha256').update(`bench-password:${stationId}`).digest('base64url').slice(0, 24);
}
