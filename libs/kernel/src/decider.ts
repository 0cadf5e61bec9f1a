/**
 * The shape of every decider (an aggregate written as pure functions):
 * - `decide(command, state)` → the events the command causes (or a `DomainError` thrown when it is refused);
 * - `evolve(state, event)` → the state after one event;
 * - `initialState()` → the state before any event.
 * Type parameters in the order Command, Event, State.
 */
export interface Decider<Command, Event, State> {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
  /**
   * Optional: decide and return the state after the decided events in one step. A decider whose
   * `decide` already folds its own events (to know what is due) offers this so that `handle` does not
   * fold them a second time. Must equal `{ events: decide(c, s), state: fold(evolve, s, events) }`.
   */
  decideAndEvolve?: (command: Command, state: State) => { events: Event[]; state: State };
}

/** The state after folding `events` into `state`, in order. */
export function fold<Event, State>(
  evolve: (state: State, event: Event) => State,
  state: State,
  events: readonly Event[],
): State {
  let s = state;
  for (const e of events) s = evolve(s, e);
  return s;
}

/** The state of a history: its events folded into the decider's initial state. */
export function replay<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  events: readonly Event[],
): State {
  return fold(decider.evolve, decider.initialState(), events);
}

/** Decides one command and folds the decided events: the events and the state after them. */
export function handle<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  command: Command,
  state: State,
): { events: Event[]; state: State } {
  if (decider.decideAndEvolve) return decider.decideAndEvolve(command, state);
  const events = decider.decide(command, state);
  return { events, state: fold(decider.evolve, state, events) };
}

/** Handles commands in turn, each against the state the previous ones left: every decided event and the final state. */
export function handleAll<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  commands: readonly Command[],
  state: State = decider.initialState(),
): { events: Event[]; state: State } {
  const events: Event[] = [];
  let s = state;
  for (const c of commands) {
    const r = handle(decider, c, s);
    for (const e of r.events) events.push(e);
    s = r.state;
  }
  return { events, state: s };
}
