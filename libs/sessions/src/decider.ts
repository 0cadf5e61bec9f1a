/**
 * The session decider (emmett pattern): decide(command, state) → events, evolve(state, event) → state.
 * Modules: routing.ts (which session a fact goes to, duplicates), evolve.ts (the state after each event),
 * public-events.ts (session.started / updated / ended), close-stale.ts (the time rules), energy.ts and
 * summary.ts (what session.ended states). The README has the rules.
 */
import * as kernel from '@csms/kernel';
import type { Decider } from '@csms/kernel';
import type { ChargerEvent } from '@csms/ocpp-normaliser';
import * as closeStaleModule from './close-stale';
import * as configModule from './config';
import type { SessionDeciderConfig } from './config';
import * as contextModule from './context';
import type { DeciderContext } from './context';
import * as decisionModule from './decision';
import type { Decision } from './decision';
import type { SessionDeciderEvent } from './events';
import * as energyModule from './energy';
import * as evolveModule from './evolve';
import * as publicEventsModule from './public-events';
import * as routingModule from './routing';
import * as stateModule from './state';
import type { SessionsState, SessionState } from './state';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { fold, handle: handleWith } = kernel;
const { closeStale } = closeStaleModule;
const { DEFAULT_SESSION_CONFIG } = configModule;
const { deciderContext } = contextModule;
const { startDecision } = decisionModule;
const { evolveWith } = evolveModule;
const { emitPublicEvents } = publicEventsModule;
const { route } = routingModule;
const { ChunkNotLoaded, initialState, sessionOf } = stateModule;
const { computeEnergy } = energyModule;

export type SessionCommand =
  /**
   * fold the charger events normalised from ONE inbound record (a 2.0.1 TransactionEvent gives several);
   * public events are decided once, after all of them are applied
   */
  | { type: 'RecordChargerEvents'; events: ChargerEvent[] }
  /** fold one normalised charger event (a record that gave a single event) */
  | { type: 'RecordChargerEvent'; event: ChargerEvent }
  /**
   * apply the time-based closing rules at `now` (event time, e.g. the receivedAt of the newest inbound
   * record the service consumed; never the wall clock)
   */
  | { type: 'CloseStaleSessions'; now: string };

/** The kernel's decider, whose decideAndEvolve reuses the state decide already folded. */
export type SessionDecider = Decider<SessionCommand, SessionDeciderEvent, SessionsState> &
  Required<Pick<Decider<SessionCommand, SessionDeciderEvent, SessionsState>, 'decideAndEvolve'>> & {
    /**
     * Before a caller holds full chunks of a session's readings without their items (libs/sessions `StoredChunk`):
     * folds the session's energy as its next `session.updated` will (nothing is decided), so that the fold of
     * each full chunk is kept and that update needs no chunk's items. A chunk already held without its items whose
     * kept fold no longer fits is left as it is (the decider asks for it: `ChunkNotLoaded`).
     */
    prepareToUnload(session: SessionState): void;
  };

/** A decider with its own configuration and caches (keep one per consumer: its caches make it fast). */
export function sessionDecider(config: Partial<SessionDeciderConfig> = {}): SessionDecider {
  const ctx = deciderContext({ ...DEFAULT_SESSION_CONFIG, ...config });
  const evolve = evolveWith(ctx);
  // decide folds its own events to know what is due; decideAndEvolve reuses that state for the array decide returned
  let lastEvents: SessionDeciderEvent[] | undefined;
  let lastFrom: SessionsState | undefined;
  let lastTo: SessionsState | undefined;

  const decide = (command: SessionCommand, state: SessionsState): SessionDeciderEvent[] => {
    if (command.type === 'CloseStaleSessions') return closeStale(state, ctx.ms(command.now), ctx);
    const d = startDecision(state, evolve);
    if (command.type === 'RecordChargerEvent') recordOne(d, command.event, state, ctx);
    else if (command.events.length === 1) recordOne(d, command.events[0], state, ctx);
    else recordMany(d, command.events, state, ctx);
    lastEvents = d.out;
    lastFrom = state;
    lastTo = d.current;
    return d.out;
  };

  const decideAndEvolve = (
    command: SessionCommand,
    state: SessionsState,
  ): { events: SessionDeciderEvent[]; state: SessionsState } => {
    const events = decide(command, state);
    const folded = lastEvents === events && lastFrom === state ? lastTo : undefined;
    lastEvents = lastFrom = lastTo = undefined;
    return { events, state: folded ?? fold(evolve, state, events) };
  };

  const prepareToUnload = (s: SessionState): void => {
    try {
      computeEnergy(s, Math.max(s.lastEventMs, s.startedAtMs), ctx.cfg, ctx.energyChunks, false);
    } catch (e) {
      if (!(e instanceof ChunkNotLoaded)) throw e;
    }
  };

  return { decide, evolve, initialState, decideAndEvolve, prepareToUnload };
}

/** The usual record: one charger event. */
function recordOne(d: Decision, e: ChargerEvent, before: SessionsState, ctx: DeciderContext): void {
  const sessionId = route(e, before, d, ctx);
  const s = sessionId === undefined ? undefined : sessionOf(d.current, sessionId);
  if (s) emitPublicEvents(d, s, e, ctx);
}

/** Several events of one record: each session touched is judged once, after all are applied, in the order of its last event. */
function recordMany(d: Decision, events: ChargerEvent[], before: SessionsState, ctx: DeciderContext): void {
  const touchedIds: string[] = [];
  const touchedBy: ChargerEvent[] = [];
  for (const e of events) {
    const sessionId = route(e, before, d, ctx);
    if (sessionId === undefined) continue;
    const k = touchedIds.indexOf(sessionId);
    if (k >= 0) {
      touchedIds.splice(k, 1);
      touchedBy.splice(k, 1);
    }
    touchedIds.push(sessionId);
    touchedBy.push(e);
  }
  for (let k = 0; k < touchedIds.length; k++) {
    const s = sessionOf(d.current, touchedIds[k]);
    if (s) emitPublicEvents(d, s, touchedBy[k], ctx);
  }
}

export { initialState };

/**
 * Decide, then fold the decided events into the state. Pass the decider you keep: without one, a new
 * decider (with empty caches) is made for the call.
 */
export function handle(
  command: SessionCommand,
  state: SessionsState,
  decider: SessionDecider = sessionDecider(),
): { events: SessionDeciderEvent[]; state: SessionsState } {
  return handleWith(decider, command, state);
}
