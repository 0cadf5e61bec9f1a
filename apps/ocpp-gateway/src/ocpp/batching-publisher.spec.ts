import type { OutgoingRecord, RecordPublisher } from '@csms/messaging';
import { BatchingPublisher, PublishTimeoutError, ShardedPublisher } from './batching-publisher';

class FakeBroker implements RecordPublisher {
  readonly batches: OutgoingRecord[][] = [];
  private acks: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  publish(records: readonly OutgoingRecord[]): Promise<void> {
    this.batches.push([...records]);
    return new Promise((resolve, reject) => this.acks.push({ resolve, reject }));
  }
  ack(): void {
    this.acks.shift()!.resolve();
  }
  get unacknowledged(): number {
    return this.acks.length;
  }
  fail(e: Error): void {
    this.acks.shift()!.reject(e);
  }
}

const rec = (key: string): OutgoingRecord => ({ topic: 't', key, value: key });
const flush = () => new Promise((r) => setImmediate(r));

describe('BatchingPublisher', () => {
  it('sends what queued up while a batch was in flight as the next batch, in order, resolving each caller on its ack', async () => {
    const broker = new FakeBroker();
    const p = new BatchingPublisher(broker, { lingerMs: 0, maxBatch: 100, timeoutMs: 60_000 });
    const done: string[] = [];
    const a = p.publish(rec('a')).then(() => done.push('a'));
    const b = p.publish(rec('b')).then(() => done.push('b'));
    const c = p.publish(rec('c')).then(() => done.push('c'));
    expect(broker.batches.map((x) => x.map((r) => r.key))).toEqual([['a']]);
    broker.ack();
    await a;
    await flush();
    expect(broker.batches.map((x) => x.map((r) => r.key))).toEqual([['a'], ['b', 'c']]);
    expect(done).toEqual(['a']);
    broker.ack();
    await Promise.all([b, c]);
    expect(done).toEqual(['a', 'b', 'c']);
  });

  it('caps a batch at maxBatch', async () => {
    const broker = new FakeBroker();
    const p = new BatchingPublisher(broker, { lingerMs: 0, maxBatch: 2, timeoutMs: 60_000 });
    const all = ['a', 'b', 'c', 'd', 'e'].map((k) => p.publish(rec(k)));
    broker.ack();
    await flush();
    broker.ack();
    await flush();
    broker.ack();
    await Promise.all(all);
    expect(broker.batches.map((x) => x.length)).toEqual([1, 2, 2]);
  });

  it('rejects every caller of a batch the broker refused, and reports it in health', async () => {
    const broker = new FakeBroker();
    const p = new BatchingPublisher(broker, { lingerMs: 0, maxBatch: 100, timeoutMs: 60_000 });
    const a = p.publish(rec('a'));
    broker.fail(new Error('broker down'));
    await expect(a).rejects.toThrow('broker down');
    expect(p.health()).toEqual(expect.objectContaining({ ok: false, consecutiveFailures: 1 }));
  });

  it('rejects a caller whose record is not acknowledged in time', async () => {
    jest.useFakeTimers();
    try {
      const broker = new FakeBroker();
      const p = new BatchingPublisher(broker, { lingerMs: 0, maxBatch: 100, timeoutMs: 1000 });
      const a = p.publish(rec('a'));
      jest.advanceTimersByTime(1000);
      await expect(a).rejects.toBeInstanceOf(PublishTimeoutError);
    } finally {
      jest.useRealTimers();
    }
  });

  it('never sends a record whose caller timed out while it was queued (broker away), and sends what came after', async () => {
    jest.useFakeTimers();
    try {
      const broker = new FakeBroker();
      const p = new BatchingPublisher(broker, { lingerMs: 0, maxBatch: 100, timeoutMs: 1000 });
      const a = p.publish(rec('a')); // in flight, the broker does not answer
      const b = p.publish(rec('b')); // queued behind it
      const aRejected = expect(a).rejects.toBeInstanceOf(PublishTimeoutError);
      const bRejected = expect(b).rejects.toBeInstanceOf(PublishTimeoutError);
      jest.advanceTimersByTime(1000);
      await aRejected;
      await bRejected;
      expect(p.health()).toEqual(expect.objectContaining({ ok: false }));
      const c = p.publish(rec('c'));
      broker.ack(); // the broker is back: the batch in flight lands late (its caller was told it failed)
      await jest.advanceTimersByTimeAsync(0);
      expect(broker.batches.map((x) => x.map((r) => r.key))).toEqual([['a'], ['c']]);
      broker.ack();
      await c;
      expect(p.droppedAfterTimeout).toBe(1);
      expect(p.acknowledgedAfterTimeout).toBe(1);
      expect(p.health()).toEqual(expect.objectContaining({ ok: true }));
    } finally {
      jest.useRealTimers();
    }
  });

  it('drain waits for the callers, at most their timeout, even if the broker never answers', async () => {
    jest.useFakeTimers();
    try {
      const broker = new FakeBroker();
      const p = new BatchingPublisher(broker, { lingerMs: 50, maxBatch: 100, timeoutMs: 1000 });
      const a = p.publish(rec('a')).catch((e: Error) => e);
      let drained = false;
      void p.drain().then(() => (drained = true));
      await jest.advanceTimersByTimeAsync(0);
      expect(broker.batches).toHaveLength(1); // drain sends what lingers at once
      await jest.advanceTimersByTimeAsync(990);
      expect(drained).toBe(false);
      await jest.advanceTimersByTimeAsync(20);
      expect(drained).toBe(true);
      expect(await a).toBeInstanceOf(PublishTimeoutError);
    } finally {
      jest.useRealTimers();
    }
  });

  it('lingers to collect a batch when asked to', async () => {
    jest.useFakeTimers();
    try {
      const broker = new FakeBroker();
      const p = new BatchingPublisher(broker, { lingerMs: 5, maxBatch: 100, timeoutMs: 60_000 });
      void p.publish(rec('a'));
      void p.publish(rec('b'));
      expect(broker.batches).toHaveLength(0);
      jest.advanceTimersByTime(5);
      expect(broker.batches.map((x) => x.length)).toEqual([2]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('ShardedPublisher', () => {
  it('sends every record of a key through the same producer, in order, and spreads keys over the producers', async () => {
    const brokers = [new FakeBroker(), new FakeBroker(), new FakeBroker()];
    const sharded = new ShardedPublisher(
      brokers.map((b) => new BatchingPublisher(b, { lingerMs: 0, maxBatch: 1000, timeoutMs: 60_000 })),
    );
    const keys = Array.from({ length: 30 }, (_, i) => `CP-${i}`);
    const pending = keys.flatMap((k) =>
      [1, 2, 3].map((n) => sharded.publish({ topic: 't', key: k, value: `${k}#${n}` })),
    );
    // acknowledge batch after batch until every caller has its answer
    while (brokers.some((b) => b.unacknowledged > 0)) {
      for (const b of brokers) if (b.unacknowledged > 0) b.ack();
      await flush();
    }
    await Promise.all(pending);
    const seenBy = new Map<string, Set<number>>();
    brokers.forEach((b, i) =>
      b.batches.flat().forEach((r) => seenBy.set(r.key!, (seenBy.get(r.key!) ?? new Set()).add(i))),
    );
    expect([...seenBy.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...seenBy.values()].map((s) => [...s][0])).size).toBe(3);
    for (const b of brokers) {
      const values = b.batches.flat().map((r) => r.value as string);
      for (const k of keys) {
        const mine = values.filter((v) => v.startsWith(`${k}#`));
        expect(mine).toEqual(mine.length ? [`${k}#1`, `${k}#2`, `${k}#3`] : []);
      }
    }
  });
});
