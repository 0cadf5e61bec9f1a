import { ChunkNotLoaded, handle, initialState, sessionDecider, unload, type SessionsState } from './index';
import { firstOf, lastOf } from './state';
import { longSession16 } from './spec-helpers';
import type { Chunk, SessionState } from './state';

const LISTS = ['readings', 'power', 'current', 'seqNos', 'sources'] as const;

/**
 * A copy of the state whose open sessions hold every full chunk before the last without its items, keeping what the
 * session service keeps: of the readings the first chunk's first and last item and the others' last, of the other
 * lists nothing.
 */
function unloaded(state: SessionsState): SessionsState {
  const strip = (s: SessionState): SessionState => {
    const copy = { ...s } as unknown as Record<string, Array<Chunk<unknown>>>;
    for (const k of LISTS) {
      const chunks = copy[k];
      const keep = k !== 'readings' ? 'none' : 'last';
      copy[k] = chunks.map((c, i) =>
        i < chunks.length - 1 && Array.isArray(c) && c.length === 32 ? unload(c, i === 0 ? 'both' : keep) : c,
      );
    }
    return copy as unknown as SessionState;
  };
  return { ...state, sessions: state.sessions.map(strip) };
}

describe('chunks held without their items (StoredChunk, ChunkNotLoaded)', () => {
  it('firstOf and lastOf read what a stored chunk keeps, and ask for the items for what it does not', () => {
    const items = Array.from({ length: 32 }, (_, i) => ({ i }));
    expect([firstOf(unload(items)), lastOf(unload(items))]).toEqual([items[0], items[31]]);
    expect(lastOf(unload(items, 'last'))).toBe(items[31]);
    expect(() => firstOf(unload(items, 'last'))).toThrow(ChunkNotLoaded);
    expect(() => firstOf(unload(items, 'none'))).toThrow(ChunkNotLoaded);
    expect(() => lastOf(unload(items, 'none'))).toThrow(ChunkNotLoaded);
    expect(unload(items, 'none')).toEqual({ length: 32 });
  });

  const { commands } = longSession16({ from: '2026-03-01T08:00:00.000Z', samples: 400, intervalSeconds: 10 });
  const body = commands.slice(0, -1);
  const stop = commands[commands.length - 1];

  it('folds in order to the same events when full chunks are unloaded after prepareToUnload; the end asks for them', () => {
    const reference = sessionDecider();
    const decider = sessionDecider();
    let plain = initialState();
    let held = initialState();
    let updates = 0;
    for (const c of body) {
      const a = handle(c, plain, reference);
      plain = a.state;
      const b = handle(c, held, decider);
      expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
      updates += b.events.filter((e) => e.type === 'session.updated').length;
      for (const s of b.state.sessions) decider.prepareToUnload(s);
      held = unloaded(b.state);
    }
    expect(updates).toBeGreaterThanOrEqual(4); // one every 15 minutes of the 66
    // the end needs every reading: asked for, and the state given is unchanged (the caller loads and decides again)
    const before = JSON.stringify(held);
    expect(() => handle(stop, held, decider)).toThrow(ChunkNotLoaded);
    expect(JSON.stringify(held)).toBe(before);
    expect(JSON.stringify(handle(stop, plain, decider).events)).toBe(
      JSON.stringify(handle(stop, plain, reference).events),
    );
  });

  it('without prepareToUnload, the next session.updated asks for the chunks unloaded since the last one', () => {
    const decider = sessionDecider();
    let held = initialState();
    let asked = 0;
    for (const c of body) {
      let r;
      try {
        r = handle(c, held, decider);
      } catch (e) {
        if (!(e instanceof ChunkNotLoaded)) throw e;
        asked++;
        break;
      }
      held = unloaded(r.state);
    }
    expect(asked).toBe(1);
  });
});
