import { deepStrictEqual, fail } from 'node:assert';
import { fold, handle, type Decider } from '../decider';
import { DomainError } from '../errors';

/**
 * Given/when/then for deciders, framework-free (any test runner; failures are `node:assert` errors):
 *
 *   given(decider, pastEvents).when(command).then(expectedEvents);
 *   givenCommands(decider, pastCommands).when(command).thenError('SOME_CODE');
 *
 * `given` folds a history (events, or commands decided in turn) into a state; `when` decides new commands
 * against it and keeps only what they decided; `then*` assert on that outcome.
 */
export interface Scenario<Command, Event, State> {
  /** the state the history left */
  readonly state: State;
  /** the history's events (for `givenCommands`: the events its commands decided) */
  readonly history: readonly Event[];
  /** Decides the commands in turn against the history's state. A refused command ends the run with its error. */
  when(...commands: Command[]): Outcome<Event, State>;
}

export interface Outcome<Event, State> {
  /** the events the `when` commands decided (before an error, if one was thrown) */
  readonly events: Event[];
  /** the state after those events */
  readonly state: State;
  /** what a command threw, if one did */
  readonly error: unknown;
  /** Asserts that no command was refused and the decided events equal `expected` (deep, strict). */
  then(expected: readonly Event[]): Outcome<Event, State>;
  /** Asserts that no command was refused and hands the events and the state to `check`. */
  thenCheck(check: (events: Event[], state: State) => void): Outcome<Event, State>;
  /** Asserts that a command was refused with a `DomainError` of this code; returns the error. */
  thenError(code: string): DomainError;
}

function outcome<Event, State>(events: Event[], state: State, error: unknown): Outcome<Event, State> {
  const noError = (): void => {
    if (error !== undefined)
      fail(
        `expected the commands to be accepted, but one was refused: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      );
  };
  const self: Outcome<Event, State> = {
    events,
    state,
    error,
    then(expected) {
      noError();
      deepStrictEqual(events, expected);
      return self;
    },
    thenCheck(check) {
      noError();
      check(events, state);
      return self;
    },
    thenError(code) {
      if (error === undefined)
        fail(`expected a refusal with ${code}, but the commands decided ${events.length} event(s)`);
      if (!(error instanceof DomainError)) throw error;
      deepStrictEqual(error.code, code, `expected error code ${code}, got ${error.code}: ${error.message}`);
      return error;
    },
  };
  return self;
}

function scenario<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  state: State,
  history: readonly Event[],
): Scenario<Command, Event, State> {
  return {
    state,
    history,
    when(...commands) {
      const events: Event[] = [];
      let s = state;
      for (const c of commands) {
        try {
          const r = handle(decider, c, s);
          for (const e of r.events) events.push(e);
          s = r.state;
        } catch (err) {
          return outcome(events, s, err);
        }
      }
      return outcome(events, s, undefined);
    },
  };
}

/** A history of past events, folded into the decider's initial state (or into `from`). */
export function given<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  events: readonly NoInfer<Event>[] = [],
  from: NoInfer<State> = decider.initialState(),
): Scenario<Command, Event, State> {
  return scenario(decider, fold(decider.evolve, from, events), events);
}

/** A history of past commands, decided in turn from the decider's initial state (or from `from`); throws if one is refused. */
export function givenCommands<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  commands: readonly NoInfer<Command>[],
  from: NoInfer<State> = decider.initialState(),
): Scenario<Command, Event, State> {
  const events: Event[] = [];
  let s = from;
  for (const c of commands) {
    const r = handle(decider, c, s);
    for (const e of r.events) events.push(e);
    s = r.state;
  }
  return scenario(decider, s, events);
}
