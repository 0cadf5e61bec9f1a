/**
 * Simulated time. Station time = `startTime` + virtual ms; virtual ms = real ms elapsed × `speed`.
 * Everything a station does is scheduled in virtual time and stamped with its scheduled time (not the
 * moment the event loop got round to it), so timestamps and meter readings depend only on the plan.
 */
export interface ClockOptions {
  /** station time at virtual 0, epoch ms (default: now, whole seconds) */
  startTime?: number;
  /** virtual ms per real ms (default 1) */
  speed?: number;
  /** real clock, for tests (default Date.now) */
  now?: () => number;
}

export class SimClock {
  readonly startTime: number;
  readonly speed: number;
  private readonly realNow: () => number;
  private readonly realStart: number;

  constructor(opts: ClockOptions = {}) {
    this.realNow = opts.now ?? Date.now;
    this.realStart = this.realNow();
    this.startTime = opts.startTime ?? Math.floor(this.realStart / 1000) * 1000;
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0) || !Number.isFinite(this.speed))
      throw new RangeError(`speed must be a positive number (got ${opts.speed})`);
  }

  /** Virtual ms elapsed now. */
  virtualNow(): number {
    return Math.floor((this.realNow() - this.realStart) * this.speed);
  }

  /** Real ms to wait until virtual time `at` (0 if past). */
  realDelay(at: number): number {
    return Math.max(0, Math.ceil(at / this.speed - (this.realNow() - this.realStart)));
  }

  /** Virtual ms for a real duration. */
  toVirtual(realMs: number): number {
    return Math.floor(realMs * this.speed);
  }

  /** Station timestamp (RFC 3339 UTC, ms) of virtual time `at`. */
  iso(at: number): string {
    return new Date(this.startTime + at).toISOString();
  }

  /** Virtual time of a station timestamp. */
  virtualOf(iso: string): number {
    return Date.parse(iso) - this.startTime;
  }
}

export interface ScheduledEvent {
  at: number;
  seq: number;
  label: string;
  run: () => Promise<void> | void;
  cancelled: boolean;
}

/**
 * One station's event queue: events run one at a time in (virtual time, insertion) order, each when the
 * real clock reaches it. A handler may await a CALL's answer; later events wait for it. Deterministic
 * order for a given plan (and the same CSMS answers).
 */
export class Scheduler {
  private readonly events: ScheduledEvent[] = [];
  private seq = 0;
  private wake?: () => void;
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  /** virtual time of the event being (or last) run */
  current = 0;

  constructor(
    private readonly clock: SimClock,
    private readonly onError: (label: string, err: unknown) => void,
  ) {}

  schedule(at: number, label: string, run: () => Promise<void> | void): ScheduledEvent {
    const ev: ScheduledEvent = { at: Math.max(Math.floor(at), 0), seq: this.seq++, label, run, cancelled: false };
    // binary insert by (at, seq)
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.events[mid];
      if (e.at < ev.at || (e.at === ev.at && e.seq < ev.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.events.splice(lo, 0, ev);
    this.poke();
    return ev;
  }

  cancel(ev: ScheduledEvent | undefined): void {
    if (ev) ev.cancelled = true;
  }

  /** Number of events not cancelled still waiting. */
  get pending(): number {
    return this.events.filter((e) => !e.cancelled).length;
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.poke();
  }

  /** Resolves when no event is due or waiting (all cancelled or run). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private poke(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      while (this.events.length && this.events[0].cancelled) this.events.shift();
      const next = this.events[0];
      if (!next) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      const delay = this.clock.realDelay(next.at);
      if (delay > 0) {
        await new Promise<void>((r) => {
          this.wake = r;
          this.timer = setTimeout(
            () => {
              this.timer = undefined;
              this.wake = undefined;
              r();
            },
            Math.min(delay, 2 ** 31 - 1),
          );
        });
        continue;
      }
      this.events.shift();
      this.current = Math.max(this.current, next.at);
      try {
        await next.run();
      } catch (err) {
        this.onError(next.label, err);
      }
    }
    if (this.timer) clearTimeout(this.timer);
  }
}
