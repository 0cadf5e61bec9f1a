import { WakeableSleep } from './wakeable-sleep';

describe('WakeableSleep', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ends after its time when nobody wakes it', async () => {
    const s = new WakeableSleep();
    let done = false;
    const p = s.sleep(1000).then(() => (done = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('ends at once when woken, and a wake with nobody asleep does nothing', async () => {
    const s = new WakeableSleep();
    s.wake();
    let done = false;
    const p = s.sleep(60_000).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    s.wake();
    await p;
    expect(done).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });
});
