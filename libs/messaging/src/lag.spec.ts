import { LagTracker, partitionLag } from './lag';

describe('partitionLag', () => {
  const base = { topic: 't', partition: 0 };

  it('is zero records and zero seconds when caught up, however old the last record is', () => {
    expect(partitionLag({ ...base, nextOffset: 10, highWatermark: 10, lastAppliedTimestampMs: 0 }, 1_000_000)).toEqual({
      records: 0,
      seconds: 0,
    });
    // a committed offset past the watermark seen (the watermark read before the commit): never negative
    expect(partitionLag({ ...base, nextOffset: 12, highWatermark: 10 }, 5)).toEqual({ records: 0, seconds: 0 });
  });

  it('counts records between the next offset and the high watermark; seconds since the last applied record', () => {
    expect(partitionLag({ ...base, nextOffset: 7, highWatermark: 10, lastAppliedTimestampMs: 1_000 }, 4_500)).toEqual({
      records: 3,
      seconds: 3.5,
    });
  });

  it('measures seconds from the moment the consumer was last caught up when that is later than the last applied record', () => {
    // idle for an hour, caught up at 3,600 s, a burst arrives: behind since 3,600 s at most, not since the last record
    expect(
      partitionLag(
        { ...base, nextOffset: 7, highWatermark: 9, lastAppliedTimestampMs: 0, caughtUpAtMs: 3_600_000 },
        3_602_000,
      ),
    ).toEqual({ records: 2, seconds: 2 });
  });

  it('measures seconds from when the partition was first seen when nothing was applied and it was never caught up', () => {
    expect(partitionLag({ ...base, nextOffset: 0, highWatermark: 5 }, 10_000, 4_000)).toEqual({
      records: 5,
      seconds: 6,
    });
  });
});

describe('LagTracker', () => {
  let now = 0;
  const tracker = () => new LagTracker(() => now);

  beforeEach(() => {
    now = 1_000;
  });

  it('follows chunks: lag from the batch high watermark, down to zero when the last record is applied', () => {
    const t = tracker();
    t.assigned({ t: [0, 1] });
    t.batchSeen('t', 0, 300);
    t.applied('t', 0, 99, 900);
    now = 2_000;
    expect(t.snapshot().find((p) => p.partition === 0)).toMatchObject({
      nextOffset: 100,
      highWatermark: 300,
      records: 200,
      seconds: 1.1,
    });
    t.applied('t', 0, 299, 1_900);
    expect(t.snapshot().find((p) => p.partition === 0)).toMatchObject({ records: 0, seconds: 0, caughtUpAtMs: 2_000 });
    // partition 1 assigned, nothing known of it yet
    expect(t.snapshot().find((p) => p.partition === 1)).toMatchObject({ records: 0, seconds: 0 });
  });

  it('grows from the broker read while the consumer applies nothing (stuck or idle)', () => {
    const t = tracker();
    t.assigned({ t: [0] });
    t.batchSeen('t', 0, 10);
    t.applied('t', 0, 9, 500);
    now = 5_000;
    t.highWatermarks('t', [{ partition: 0, high: 25 }]);
    now = 8_000;
    expect(t.snapshot()).toEqual([expect.objectContaining({ records: 15, seconds: 7 })]);
  });

  it('starts a partition not applied here yet from the committed offset, and ignores partitions assigned elsewhere', () => {
    const t = tracker();
    t.assigned({ t: [0] });
    t.highWatermarks('t', [
      { partition: 0, high: 50 },
      { partition: 1, high: 80 },
    ]);
    t.committed('t', [
      { partition: 0, offset: 50 },
      { partition: 1, offset: 10 },
    ]);
    expect(t.snapshot()).toEqual([expect.objectContaining({ partition: 0, nextOffset: 50, records: 0, seconds: 0 })]);
  });

  it('drops the partitions the group moved to another instance', () => {
    const t = tracker();
    t.assigned({ t: [0, 1] });
    t.batchSeen('t', 1, 40);
    t.assigned({ t: [0] });
    expect(t.snapshot().map((p) => p.partition)).toEqual([0]);
    expect(t.topics()).toEqual(['t']);
    t.clear();
    expect(t.snapshot()).toEqual([]);
  });
});
