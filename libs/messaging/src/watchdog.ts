/**
 * kafkajs consumers are known to stall silently (no fetch, no error, no crash event). The consumer
 * wrapper reports every sign of life here (fetch started, heartbeat, batch processed, retry wait);
 * when none has come for `timeoutMs` while it should be running, the wrapper restarts the consumer.
 * Pure: time is passed in.
 */
export class StallDetector {
  private last: number;

  constructor(
    private readonly timeoutMs: number,
    now: number,
  ) {
    this.last = now;
  }

  alive(now: number): void {
    if (now > this.last) this.last = now;
  }

  silentForMs(now: number): number {
    return Math.max(0, now - this.last);
  }

  isStalled(now: number): boolean {
    return this.silentForMs(now) > this.timeoutMs;
  }
}

/** Exponential back-off with a cap: attempt 1 waits initialMs. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
}
