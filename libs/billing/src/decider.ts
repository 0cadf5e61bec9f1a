/**
 * The shape of a decider: `decide` turns a command and the state into events, `evolve` folds an event into
 * the state, `initialState` is the state before any event. Pure functions; the caller loads the state,
 * decides, evolves and saves. (The same shape as the session decider's; one shared definition belongs in the
 * shared kernel once it has one.)
 */
export interface Decider<Command, State, Event> {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
}
