import {
  ChunkNotLoaded,
  handle,
  initialState,
  sessionDecider,
  type SessionDecider,
  type SessionCommand,
  type SessionDeciderEvent,
  type SessionsState,
} from '@csms/sessions';
import { longSession16, randomStationCommands, station } from '../../../libs/sessions/src/spec-helpers';
import {
  CHUNKED_LISTS,
  emptyPersisted,
  joinState,
  loadUnloaded,
  splitState,
  unloadStored,
  type Persisted,
  type StateHead,
  type StateHeadV1,
  type StatePart,
} from './station-state';

/** The first split's form (what rows written before pieces hold): whole chunks apart, the last chunk in the head. */
function splitV1(state: SessionsState): { head: StateHeadV1; parts: StatePart[] } {
  const parts: StatePart[] = [];
  const cut = (s: SessionsState['sessions'][number]) => {
    const copy = { ...s } as unknown as Record<string, unknown[][]>;
    const counts: Record<string, number> = {};
    for (const k of CHUNKED_LISTS) {
      const chunks = copy[k];
      const n = Math.max(0, chunks.length - 1);
      for (let i = 0; i < n; i++) parts.push({ session_id: s.sessionId, list: k, idx: i, items: chunks[i] });
      counts[k] = n;
      copy[k] = chunks.slice(n);
    }
    return { head: copy as unknown as SessionsState['sessions'][number], counts };
  };
  const out: StateHeadV1['out'] = {};
  const sessions = state.sessions.map((s) => {
    const c = cut(s);
    out[s.sessionId] = c.counts;
    return c.head;
  });
  for (const [id, s] of Object.entries(state.closed)) {
    const c = cut(s);
    parts.push({ session_id: id, list: 'session', idx: 0, items: { session: c.head, out: c.counts } });
  }
  const head = { ...state, sessions, closed: {} };
  return {
    head: JSON.parse(JSON.stringify({ head, out, closedIds: Object.keys(state.closed) })) as StateHeadV1,
    parts: JSON.parse(JSON.stringify(parts)) as StatePart[],
  };
}

/** A stand-in for the two tables: the head row and the parts (upserted and deleted as save does), kept as JSON text. */
class Stored {
  head = '';
  parts = new Map<string, string>();

  /** how many times chunks held without their items were read back */
  loads = 0;

  save(
    state: SessionsState,
    persisted: Persisted,
    prepare?: (s: SessionsState['sessions'][number]) => void,
  ): { persisted: Persisted; headBytes: number; partsWritten: number; partsBytes: number } {
    const split = splitState(state, persisted);
    let partsBytes = 0;
    for (const d of split.deletes)
      for (const k of [...this.parts.keys()]) if (k.startsWith(`${d.session_id}|`)) this.parts.delete(k);
    for (const p of split.parts) {
      const text = JSON.stringify(p);
      partsBytes += text.length;
      this.parts.set(`${p.session_id}|${p.list}|${p.idx}`, text);
    }
    this.head = JSON.stringify(split.head);
    unloadStored(state, split.persisted, prepare); // as the service does with the states it keeps
    return { persisted: split.persisted, headBytes: this.head.length, partsWritten: split.parts.length, partsBytes };
  }

  load(): { state: SessionsState; persisted: Persisted } {
    return joinState(JSON.parse(this.head) as StateHead, this.partList());
  }

  partList(): StatePart[] {
    return [...this.parts.values()].map((p) => JSON.parse(p) as StatePart);
  }

  /** Decides as the service does: the chunks held without their items read back from the parts when the decider asks. */
  handle(c: SessionCommand, state: SessionsState, persisted: Persisted, decider: SessionDecider) {
    try {
      return handle(c, state, decider);
    } catch (e) {
      if (!(e instanceof ChunkNotLoaded)) throw e;
      this.loads++;
      loadUnloaded(state, persisted, this.partList());
      return handle(c, state, decider);
    }
  }

  /** A state as plain JSON, the chunks it holds without their items read from the parts (what a reload gives back). */
  plain(state: SessionsState): SessionsState {
    const copy = (x: SessionsState['sessions'][number]) => {
      const c = { ...x } as unknown as Record<string, unknown>;
      for (const k of CHUNKED_LISTS) c[k] = [...(x[k] as unknown[])];
      return c as unknown as SessionsState['sessions'][number];
    };
    const closed: SessionsState['closed'] = {};
    for (const [id, x] of Object.entries(state.closed)) closed[id] = copy(x);
    const filled: SessionsState = { ...state, sessions: state.sessions.map(copy), closed };
    loadUnloaded(filled, emptyPersisted(), this.partList());
    return JSON.parse(JSON.stringify(filled)) as SessionsState;
  }
}

/** A state the decider alone made, as plain JSON (what a reload gives back). */
const plain = (state: SessionsState): SessionsState => JSON.parse(JSON.stringify(state)) as SessionsState;

/** Folds the commands one record at a time, saving after each (as a chunk of one record), optionally reloading from the store. */
function fold(
  commands: SessionCommand[],
  reloadEvery: number,
): { events: SessionDeciderEvent[]; state: SessionsState; stored: Stored } {
  const decider = sessionDecider();
  const stored = new Stored();
  let state = initialState();
  let persisted = emptyPersisted();
  const events: SessionDeciderEvent[] = [];
  commands.forEach((c, i) => {
    const r = stored.handle(c, state, persisted, decider);
    events.push(...r.events);
    state = r.state;
    persisted = stored.save(state, persisted, decider.prepareToUnload).persisted;
    if (reloadEvery > 0 && i % reloadEvery === reloadEvery - 1) {
      const back = stored.load();
      expect(back.state).toEqual(stored.plain(state));
      ({ state, persisted } = back);
    }
  });
  return { events, state, stored };
}

describe('station state stored as a head and parts', () => {
  it('gives back the same state, and the same events after it, over the seeded workloads (reloaded at every record or every few)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const commands = randomStationCommands(seed);
      const whole = fold(commands, 0);
      for (const every of [1, 7]) {
        const reloaded = fold(commands, every);
        expect(JSON.stringify(reloaded.events)).toBe(JSON.stringify(whole.events));
        expect(reloaded.stored.load().state).toEqual(whole.stored.plain(whole.state));
      }
    }
  });

  it('folds the states it keeps (stored chunks held without their items) to the same events and states as the decider alone', () => {
    const { commands } = longSession16({ from: '2026-03-01T08:00:00.000Z', samples: 400, intervalSeconds: 10 });
    const late = station('CS-LONG').wh16({ tx: 1, at: '2026-03-01T08:01:05.000Z', wh: '12.5' });
    const workloads = [
      commands,
      [...commands.slice(0, 250), ...late, ...commands.slice(250)],
      ...[1, 2, 3, 4, 5, 6].map((seed) => randomStationCommands(seed, 900)),
    ];
    for (const cs of workloads) {
      const decider = sessionDecider();
      let state = initialState();
      const events: SessionDeciderEvent[] = [];
      for (const c of cs) {
        const r = handle(c, state, decider);
        events.push(...r.events);
        state = r.state;
      }
      for (const every of [0, 5]) {
        const kept = fold(cs, every);
        expect(JSON.stringify(kept.events)).toBe(JSON.stringify(events));
        expect(kept.stored.plain(kept.state)).toEqual(plain(state));
      }
    }
    // the chunks held without their items are read back only when the decider needs them: at the session's end
    // (the session.updated every 15 minutes finds every full chunk's energy folded before it was unloaded)
    expect(fold(commands, 0).stored.loads).toBe(1);
    expect(fold(commands, 5).stored.loads).toBe(1);
    // the kept state holds its stored chunks without their items (a long session's readings: 400 in 12 full chunks
    // and a last one)
    const kept = fold(commands.slice(0, -1), 0);
    const session = kept.state.sessions[0];
    type Held = unknown[] | { length: number; first?: unknown; last?: unknown };
    const readings = session.readings as unknown as Held[];
    expect(readings.filter((c) => !Array.isArray(c))).toHaveLength(readings.length - 1);
    expect(readings.length).toBe(13);
    // of the readings, the first chunk keeps its first and last item, the others their last (the energy's fold reads
    // them); the other lists' stored chunks keep none
    const keys = (c: Held) => (Array.isArray(c) ? 'items' : Object.keys(c).sort().join(','));
    expect(readings.map(keys)).toEqual(['first,last,length', ...Array<string>(11).fill('last,length'), 'items']);
    expect((session.sources as unknown as Held[]).length).toBeGreaterThan(1);
    for (const k of ['power', 'current', 'seqNos', 'sources'] as const) {
      const stored = (session[k] as unknown as Held[]).slice(0, -1);
      expect(stored.map(keys)).toEqual(stored.map(() => 'length'));
    }
    expect(kept.stored.loads).toBe(0);
  });

  it('stores a long session right when an out-of-order reading makes its chunks anew after many saves', () => {
    const { commands } = longSession16({ from: '2026-03-01T08:00:00.000Z', samples: 300, intervalSeconds: 10 });
    // after 200 records (6 whole chunks stored), a reading from the first minutes arrives late: every chunk is new
    const late = station('CS-LONG').wh16({ tx: 1, at: '2026-03-01T08:01:05.000Z', wh: '12.5' });
    const all = [...commands.slice(0, 200), ...late, ...commands.slice(200)];
    for (const reloadEvery of [0, 7]) {
      const { state, stored } = fold(all, reloadEvery);
      expect(stored.load().state).toEqual(stored.plain(state));
    }
  });

  it('reads a row in the older form (the whole state) and stores it in parts at the next write', () => {
    const folded = fold(randomStationCommands(5), 0);
    const state = folded.stored.plain(folded.state);
    const old = joinState(plain(state) as SessionsState, []);
    expect(old.state).toEqual(plain(state));
    const stored = new Stored();
    stored.save(old.state, old.persisted);
    expect(stored.load().state).toEqual(plain(state));
  });

  it('reads a row of the first split (whole chunks apart, the last chunk in the head) and stores it in pieces at the next write', () => {
    const { commands } = longSession16({ from: '2026-03-10T00:00:00Z', samples: 300, intervalSeconds: 10 });
    const plainFold = (cs: SessionCommand[]) => {
      const f = fold(cs, 0);
      return f.stored.plain(f.state);
    };
    const whole = plainFold(commands);
    const half = plainFold(commands.slice(0, 150));
    for (const state of [half, whole]) {
      const v1 = splitV1(plain(state));
      const back = joinState(v1.head, v1.parts);
      expect(back.state).toEqual(plain(state));
      const stored = new Stored();
      for (const p of v1.parts) stored.parts.set(`${p.session_id}|${p.list}|${p.idx}`, JSON.stringify(p));
      const r = stored.save(back.state, back.persisted);
      expect(r.partsWritten).toBeGreaterThan(0); // everything again, in pieces
      expect(stored.load().state).toEqual(plain(state));
    }
    // and folds on from it as from the state itself
    const decider = sessionDecider();
    const v1 = splitV1(plain(half));
    let { state } = joinState(v1.head, v1.parts);
    const events: SessionDeciderEvent[] = [];
    for (const c of commands.slice(150)) {
      const r = handle(c, state, decider);
      events.push(...r.events);
      state = r.state;
    }
    let direct = half;
    const directEvents: SessionDeciderEvent[] = [];
    for (const c of commands.slice(150)) {
      const r = handle(c, direct, decider);
      directEvents.push(...r.events);
      direct = r.state;
    }
    expect(JSON.stringify(events)).toBe(JSON.stringify(directEvents));
    expect(state).toEqual(plain(direct));
  });

  it('keeps the head and the writes per record the same size whatever the length of the session', () => {
    const { commands } = longSession16({ from: '2026-03-10T00:00:00Z', samples: 3600, intervalSeconds: 10 });
    const decider = sessionDecider();
    const stored = new Stored();
    let state = initialState();
    let persisted = emptyPersisted();
    const heads: number[] = [];
    let maxParts = 0;
    let maxBytes = 0;
    for (const c of commands.slice(0, -1)) {
      state = stored.handle(c, state, persisted, decider).state;
      const r = stored.save(state, persisted, decider.prepareToUnload);
      persisted = r.persisted;
      heads.push(r.headBytes);
      maxParts = Math.max(maxParts, r.partsWritten);
      maxBytes = Math.max(maxBytes, r.partsBytes);
    }
    const wholeBytes = JSON.stringify(stored.plain(state)).length;
    const early = Math.max(...heads.slice(100, 200));
    const late = Math.max(...heads.slice(-100));
    expect(wholeBytes).toBeGreaterThan(500_000); // what the row held before: grows with the session
    expect(late).toBeLessThan(early + 200); // the head does not (a few digits of counts)
    expect(late).toBeLessThan(5_000); // the items not yet in a full piece: a few at most
    expect(maxParts).toBeLessThanOrEqual(CHUNKED_LISTS.length); // a full piece of a list at most
    expect(maxBytes).toBeLessThan(5_000);
    expect(stored.load().state).toEqual(stored.plain(state));
    // the end: the closed session's head (with its session.ended) is written, its chunks stay where they are
    const ended = stored.handle(commands[commands.length - 1], state, persisted, decider);
    expect(ended.events.some((e) => e.type === 'session.ended')).toBe(true);
    const end = stored.save(ended.state, persisted, decider.prepareToUnload);
    expect(Object.keys(ended.state.closed)).toHaveLength(1);
    expect(end.partsBytes).toBeLessThan(60_000);
    expect(end.headBytes).toBeLessThan(early);
    expect(stored.load().state).toEqual(stored.plain(ended.state));
    // forgotten: every part of the session goes
    const parts = stored.parts.size;
    expect(parts).toBeGreaterThan(800); // 3,600 readings and sources in pieces of 8
    stored.save(initialState(), end.persisted);
    expect(stored.parts.size).toBe(0);
  });

  it("writes an open session's station facts once, in their own row, not in the head written after every chunk", () => {
    const facts = {
      revision: 4,
      siteId: 'site-amsterdam-1',
      timeZone: 'Europe/Amsterdam',
      location: {
        id: 'site-amsterdam-1',
        name: 'Stadhuis garage',
        address: 'Amstel 1',
        city: 'Amsterdam',
        country: 'NLD',
        coordinates: { latitude: '52.367030', longitude: '4.900840' },
      },
      evses: [{ evseId: 1, connectors: [{ connectorId: 1, standard: 'IEC_62196_T2' as const }] }],
    };
    const { commands } = longSession16({ from: '2026-03-10T00:00:00Z', samples: 40, intervalSeconds: 10 });
    // the start as the normaliser gives it when the record carries the station facts
    const withFacts = commands.map((c) =>
      c.type === 'RecordChargerEvents'
        ? { ...c, events: c.events.map((e) => (e.type === 'transaction.started' ? { ...e, station: facts } : e)) }
        : c,
    );
    const decider = sessionDecider();
    const stored = new Stored();
    let state = initialState();
    let persisted = emptyPersisted();
    const stationRows: number[] = [];
    withFacts.slice(0, -1).forEach((c, i) => {
      state = stored.handle(c, state, persisted, decider).state;
      const split = splitState(state, persisted);
      stationRows.push(split.parts.filter((p) => p.list === 'station').length);
      expect(JSON.stringify(split.head)).not.toContain('Stadhuis garage');
      persisted = stored.save(state, persisted, decider.prepareToUnload).persisted;
      if (i % 7 === 6) ({ state, persisted } = stored.load()); // reloaded: still not written again
    });
    expect(stationRows.reduce((a, b) => a + b)).toBe(1);
    expect(state.sessions[0].station).toEqual(facts);
    expect(stored.load().state).toEqual(stored.plain(state));
    // ended: the closed session's head keeps them; forgotten: the row goes with the session's other parts
    const ended = stored.handle(withFacts[withFacts.length - 1], state, persisted, decider);
    const end = stored.save(ended.state, persisted, decider.prepareToUnload);
    expect(stored.load().state).toEqual(stored.plain(ended.state));
    const [closed] = Object.values(stored.load().state.closed);
    expect(closed.station).toEqual(facts);
    stored.save(initialState(), end.persisted);
    expect(stored.parts.size).toBe(0);
  });
});
