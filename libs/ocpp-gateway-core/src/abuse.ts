/**
 * Rules that make abuse of the OCPP edge cost the abuser, not the operator: a backoff for failed
 * authentication (per station id, per remote address) and a token bucket for a connection's CALLs.
 * Pure: every method takes the time (`nowMs`, milliseconds on any monotonic or wall clock) from the caller.
 */

export interface BackoffPolicy {
  /** failures allowed before the key is throttled */
  freeFailures: number;
  /** the wait after the first failure past the free ones; each further failure doubles it */
  baseMs: number;
  /** the longest wait */
  maxMs: number;
}

/**
 * How long a key is refused after its `failures`-th consecutive failure: nothing up to the free failures,
 * then `baseMs`, `2 × baseMs`, `4 × baseMs`, … capped at `maxMs`.
 */
export function backoffMs(policy: BackoffPolicy, failures: number): number {
  const over = failures - policy.freeFailures;
  if (over <= 0) return 0;
  // 2^over overflows to Infinity long after the cap: Math.min keeps it finite
  return Math.min(policy.maxMs, policy.baseMs * 2 ** (over - 1));
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

interface FailureEntry {
  failures: number;
  blockedUntil: number;
}

/**
 * Failed attempts per key (a station id, a remote address). While a key is blocked, attempts are refused
 * without being checked (no password hash is computed for them) and do not count. A key is forgotten after a
 * success, and after `maxMs` of quiet once its block has ended (so the steady state of a guesser at the cap is
 * one attempt per `maxMs`). At most `maxKeys` keys are held: past that the key failing least recently is
 * dropped (an attacker spraying keys can only make the table forget, never grow).
 */
export class FailureThrottle {
  private readonly entries = new Map<string, FailureEntry>();

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly maxKeys = 100_000,
  ) {}

  check(key: string, nowMs: number): ThrottleVerdict {
    const e = this.live(key, nowMs);
    if (!e || e.blockedUntil <= nowMs) return { allowed: true };
    return { allowed: false, retryAfterMs: e.blockedUntil - nowMs };
  }

  /** Records a failure; returns how long the key is now refused (0 while within the free failures). */
  fail(key: string, nowMs: number): number {
    const previous = this.live(key, nowMs);
    const failures = (previous?.failures ?? 0) + 1;
    const waitMs = backoffMs(this.policy, failures);
    // delete + set: the Map's order is the order of the last failure (oldest first, dropped first)
    this.entries.delete(key);
    this.entries.set(key, { failures, blockedUntil: nowMs + waitMs });
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    return waitMs;
  }

  succeed(key: string): void {
    this.entries.delete(key);
  }

  failures(key: string, nowMs: number): number {
    return this.live(key, nowMs)?.failures ?? 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops every forgotten key (call now and then; `check` and `fail` forget lazily too). */
  prune(nowMs: number): void {
    for (const [key, e] of this.entries) if (this.expired(e, nowMs)) this.entries.delete(key);
  }

  private live(key: string, nowMs: number): FailureEntry | undefined {
    const e = this.entries.get(key);
    if (e && this.expired(e, nowMs)) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private expired(e: FailureEntry, nowMs: number): boolean {
    return nowMs - e.blockedUntil >= this.policy.maxMs;
  }
}

export interface RateLimit {
  /** sustained CALLs per second */
  perSecond: number;
  /** CALLs allowed back to back above the sustained rate (the bucket's size) */
  burst: number;
}

/**
 * A token bucket: it holds up to `burst` tokens, refills at `perSecond`, and each CALL takes one. A CALL
 * finding the bucket empty is over the rate (and takes nothing).
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly limit: RateLimit,
    nowMs: number,
  ) {
    this.tokens = limit.burst;
    this.at = nowMs;
  }

  take(nowMs: number): boolean {
    if (nowMs > this.at) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((nowMs - this.at) * this.limit.perSecond) / 1000);
      this.at = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
