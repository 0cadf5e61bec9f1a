import { initialState } from '@csms/sessions';
import { longSession16, run } from '../../../libs/sessions/src/spec-helpers';
import { StateCache, foldIntoDetail, stateItems, type DetailRows } from './session-store';

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

describe('the detail rows of a session', () => {
  it('name each record once: a MeterValues in its reading row only, the other records in session_sources', () => {
    const { commands } = longSession16({ from: '2026-03-10T00:00:00Z', samples: 20, intervalSeconds: 10 });
    const { events } = run(commands);
    const d: DetailRows = { readings: new Map(), sources: new Map() };
    for (const e of events) foldIntoDetail(d, e);
    // the 20 MeterValues, and the meter values of the start and the stop
    expect(d.readings.size).toBeGreaterThanOrEqual(20);
    const readingSources = new Set([...d.readings.values()].map((r) => r.source_event_id));
    // every reading carries its record's log position, which the API's union (SESSION_SOURCES) lists
    for (const r of d.readings.values()) {
      expect(r.source_topic).toBe('ocpp.inbound');
      expect(r.source_partition).not.toBeNull();
      expect(r.source_offset).not.toBeNull();
    }
    // session_sources holds the records with a fact other than a reading (the start, the stop…), no MeterValues
    const otherFacts = new Set(
      events.flatMap((e) =>
        (e.type === 'session.fact.recorded' && e.sessionId !== undefined && e.fact.type !== 'meter.sampled') ||
        e.type === 'session.transaction.aliased'
          ? [e.fact.source.eventId]
          : [],
      ),
    );
    expect(new Set([...d.sources.values()].map((s) => s.event_id))).toEqual(otherFacts);
    expect(d.sources.size).toBeLessThan(5);
    // together: every record the decider recorded a fact of for the session, once
    const recorded = new Set(
      events.flatMap((e) =>
        (e.type === 'session.fact.recorded' && e.sessionId !== undefined) || e.type === 'session.transaction.aliased'
          ? [e.fact.source.eventId]
          : [],
      ),
    );
    expect(new Set([...readingSources, ...[...d.sources.values()].map((s) => s.event_id)])).toEqual(recorded);
  });
});
