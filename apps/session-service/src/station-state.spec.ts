import {
  handle,
  initialState,
  sessionDecider,
  type SessionCommand,
  type SessionDeciderEvent,
  type SessionsState,
} from '@csms/sessions';
import { longSession16, randomStationCommands } from '../../../libs/sessions/src/spec-helpers';
import { emptyPersisted, joinState, splitState, type Persisted, type StateHead, type StatePart } from './station-state';

/** A stand-in for the two tables: the head row and the parts (upserted and deleted as save does), kept as JSON text. */
class Stored {
  head = '';
  parts = new Map<string, string>();

  save(
    state: SessionsState,
    persisted: Persisted,
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
    return { persisted: split.persisted, headBytes: this.head.length, partsWritten: split.parts.length, partsBytes };
  }

  load(): { state: SessionsState; persisted: Persisted } {
    return joinState(
      JSON.parse(this.head) as StateHead,
      [...this.parts.values()].map((p) => JSON.parse(p) as StatePart),
    );
  }
}

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
    const r = handle(c, state, decider);
    events.push(...r.events);
    state = r.state;
    persisted = stored.save(state, persisted).persisted;
    if (reloadEvery > 0 && i % reloadEvery === reloadEvery - 1) {
      const back = stored.load();
      expect(back.state).toEqual(JSON.parse(JSON.stringify(state)));
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
        expect(reloaded.stored.load().state).toEqual(JSON.parse(JSON.stringify(whole.state)));
      }
    }
  });

  it('reads a row in the older form (the whole state) and stores it in parts at the next write', () => {
    const { state } = fold(randomStationCommands(5), 0);
    const old = joinState(JSON.parse(JSON.stringify(state)) as SessionsState, []);
    expect(old.state).toEqual(JSON.parse(JSON.stringify(state)));
    const stored = new Stored();
    stored.save(old.state, old.persisted);
    expect(stored.load().state).toEqual(JSON.parse(JSON.stringify(state)));
  });

  it('keeps the head and the writes per record the same size whatever the length of the session', () => {
    const { commands } = longSession16({ from: '2026-03-10T00:00:00Z', samples: 3600, intervalSeconds: 10 });
    const decider = sessionDecider();
    const stored = new Stored();
    let state = initialState();
    let persisted = emptyPersisted();
    const heads: number[] = [];
    let maxParts = 0;
    for (const c of commands.slice(0, -1)) {
      state = handle(c, state, decider).state;
      const r = stored.save(state, persisted);
      persisted = r.persisted;
      heads.push(r.headBytes);
      maxParts = Math.max(maxParts, r.partsWritten);
    }
    const wholeBytes = JSON.stringify(state).length;
    const early = Math.max(...heads.slice(100, 200));
    const late = Math.max(...heads.slice(-100));
    expect(wholeBytes).toBeGreaterThan(500_000); // what the row held before: grows with the session
    expect(late).toBeLessThan(early + 200); // the head does not (a few digits of counts)
    expect(late).toBeLessThan(20_000);
    expect(maxParts).toBeLessThanOrEqual(2); // a full chunk of readings and of sources at most
    expect(stored.load().state).toEqual(JSON.parse(JSON.stringify(state)));
    // the end: the closed session's head (with its session.ended) is written, its chunks stay where they are
    const ended = handle(commands[commands.length - 1], state, decider);
    expect(ended.events.some((e) => e.type === 'session.ended')).toBe(true);
    const end = stored.save(ended.state, persisted);
    expect(Object.keys(ended.state.closed)).toHaveLength(1);
    expect(end.partsBytes).toBeLessThan(60_000);
    expect(end.headBytes).toBeLessThan(early);
    expect(stored.load().state).toEqual(JSON.parse(JSON.stringify(ended.state)));
    // forgotten: every part of the session goes
    const parts = stored.parts.size;
    expect(parts).toBeGreaterThan(200); // 3,600 readings and sources in chunks of 32
    stored.save(initialState(), end.persisted);
    expect(stored.parts.size).toBe(0);
  });
});
