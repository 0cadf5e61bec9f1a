import { utcMs } from './instants';

/** The decider's timestamp fast path must read every instant as Date.UTC does. */
describe('utcMs', () => {
  it('equals Date.UTC for years 100..9999, months 1..12 and any day and time fields', () => {
    const wrong: string[] = [];
    for (let y = 100; y <= 9999; y += y < 2100 ? 1 : 13) {
      for (let mo = 1; mo <= 12; mo++) {
        for (const d of [-40, 0, 1, 28, 29, 30, 31, 32, 99]) {
          const h = (y * 7 + mo) % 30;
          const mi = (y + d + 70) % 70;
          const s = (mo * 13) % 65;
          const f = (y * mo) % 1000;
          if (utcMs(y, mo, d, h, mi, s, f) !== Date.UTC(y, mo - 1, d, h, mi, s, f)) wrong.push(`${y}-${mo}-${d}T${h}:${mi}:${s}.${f}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
