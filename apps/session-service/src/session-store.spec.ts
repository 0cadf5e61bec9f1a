import { initialState } from '@csms/sessions';
import { longSession16, run } from '../../../libs/sessions/src/spec-helpers';
import { StateCache, stateItems } from './session-store';

describe('the states kept in memory between chunks', () => {
  it('count the list items of the open and closed sessions (what their memory grows with)', () => {
    const { commands } = longSession16({ from: '2026-03-10T00:00:00Z', samples: 100, intervalSeconds: 10 });
    expect(stateItems(initialState())).toBe(0);
    const open = run(commands.slice(0, -1)).state;
    const closed = run(commands).state;
    const items = stateItems(open);
    // per MeterValues (an energy register here): a reading and a source record (1.6: no seqNos)
    expect(items).toBeGreaterThanOrEqual(200);
    expect(items).toBeLessThan(210);
    expect(closed.sessions).toHaveLength(0);
    expect(stateItems(closed)).toBeGreaterThanOrEqual(items);
  });

  it('give back a station only with the token it was kept with, and make it the most recently used', () => {
    const c = new StateCache<string>({ stations: 2, items: 1_000 });
    c.put('A', 't1', 'a', 10);
    c.put('B', 't2', 'b', 10);
    expect(c.take('A', 't0')).toBeUndefined(); // written since by another instance or rolled back
    expect(c.take('A', null)).toBeUndefined();
    expect(c.take('A', 't1')).toBe('a'); // A is now the most recently used
    c.put('C', 't3', 'c', 10);
    c.trim();
    expect(c.take('B', 't2')).toBeUndefined(); // B, the least recently used, was dropped
    expect(c.take('A', 't1')).toBe('a');
    expect(c.size).toEqual({ stations: 2, items: 20 });
  });

  it('drop the least recently used while the kept states hold more items than allowed, whatever their number', () => {
    const c = new StateCache<string>({ stations: 100, items: 1_000 });
    c.put('A', 't', 'a', 400);
    c.put('B', 't', 'b', 400);
    c.put('C', 't', 'c', 400);
    c.trim();
    expect(c.size).toEqual({ stations: 2, items: 800 });
    expect(c.take('A', 't')).toBeUndefined();
    // a state written again replaces its own weight
    c.put('B', 't2', 'b2', 100);
    expect(c.size).toEqual({ stations: 2, items: 500 });
    // one state above the limit alone is not kept
    c.put('D', 't', 'd', 5_000);
    c.trim();
    expect(c.size).toEqual({ stations: 0, items: 0 });
  });
});
