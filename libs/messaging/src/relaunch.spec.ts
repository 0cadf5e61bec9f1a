import { EventEmitter } from 'node:events';
import type { Consumer } from 'kafkajs';
import { RELAUNCH_BACKOFF, relaunchOnCrash, type RelaunchOwner } from './relaunch';

/** Just what relaunchOnCrash touches of a kafkajs consumer: its CRASH event and disconnect. */
class FakeConsumer extends EventEmitter {
  readonly events = { CRASH: 'consumer.crash' };
  disconnects = 0;
  constructor(readonly n: number) {
    super();
  }
  async disconnect(): Promise<void> {
    this.disconnects += 1;
  }
  crash(restart: boolean): void {
    this.emit(this.events.CRASH, { payload: { error: new Error('boom'), restart } });
  }
}

/** An owner that launches numbered fakes; `failures` launches fail first (after making their consumer current). */
function owner(failures = 0) {
  const made: FakeConsumer[] = [];
  const errors: string[] = [];
  const o = {
    running: true,
    current: undefined as FakeConsumer | undefined,
    failures,
    made,
    errors,
  };
  const r: RelaunchOwner = {
    name: 'test consumer',
    logger: { error: (_obj: object, msg: string) => void errors.push(msg) } as RelaunchOwner['logger'],
    running: () => o.running,
    current: () => o.current as unknown as Consumer,
    launch: async () => {
      const c = new FakeConsumer(made.length);
      made.push(c);
      o.current = c;
      if (o.failures > 0) {
        o.failures -= 1;
        throw new Error('connect refused');
      }
      relaunchOnCrash(c as unknown as Consumer, r);
    },
  };
  return { o, r };
}

/** lets the relaunch's promise chain run (no timers involved) */
const settle = () => new Promise((r) => setImmediate(r));

describe('relaunchOnCrash', () => {
  it('leaves a crash kafkajs restarts from alone', async () => {
    const { o, r } = owner();
    await r.launch();
    o.made[0].crash(true);
    await settle();
    expect(o.made).toHaveLength(1);
    expect(o.made[0].disconnects).toBe(0);
    expect(o.errors).toEqual([]);
  });

  it('replaces a consumer that crashed without restart: the old one disconnected, a new one current', async () => {
    const { o, r } = owner();
    await r.launch();
    o.made[0].crash(false);
    await settle();
    expect(o.made).toHaveLength(2);
    expect(o.made[0].disconnects).toBe(1);
    expect(o.current).toBe(o.made[1]);
    expect(o.errors).toEqual(['test consumer crashed without restart: restarting it']);
    // the new one is guarded too
    o.made[1].crash(false);
    await settle();
    expect(o.made).toHaveLength(3);
  });

  it('ignores a crash of a consumer that is no longer current, and any crash once the owner stops', async () => {
    const { o, r } = owner();
    await r.launch();
    await r.launch();
    o.made[0].crash(false);
    await settle();
    expect(o.made).toHaveLength(2);
    o.running = false;
    o.made[1].crash(false);
    await settle();
    expect(o.made).toHaveLength(2);
    expect(o.errors).toEqual([]);
  });

  it('retries a failed launch with back-off, discarding each half-started consumer, until one starts', async () => {
    jest.useFakeTimers();
    try {
      const { o, r } = owner();
      await r.launch();
      o.failures = 2;
      o.made[0].crash(false);
      await jest.advanceTimersByTimeAsync(0);
      expect(o.made).toHaveLength(2); // first attempt failed
      expect(o.made[1].disconnects).toBe(1);
      await jest.advanceTimersByTimeAsync(RELAUNCH_BACKOFF.initialMs - 1);
      expect(o.made).toHaveLength(2); // still waiting
      await jest.advanceTimersByTimeAsync(1);
      expect(o.made).toHaveLength(3); // second attempt failed; the next waits twice as long
      await jest.advanceTimersByTimeAsync(2 * RELAUNCH_BACKOFF.initialMs);
      expect(o.made).toHaveLength(4);
      expect(o.current).toBe(o.made[3]);
      expect(o.made[3].disconnects).toBe(0);
      expect(o.errors.filter((m) => m.includes('restart failed'))).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('stops retrying once the owner stops', async () => {
    jest.useFakeTimers();
    try {
      const { o, r } = owner();
      await r.launch();
      o.failures = 100;
      o.made[0].crash(false);
      await jest.advanceTimersByTimeAsync(0);
      o.running = false;
      await jest.advanceTimersByTimeAsync(60_000);
      expect(o.made).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
