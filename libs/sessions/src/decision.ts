import type { SessionDeciderEvent } from './events';
import type { SessionsState } from './state';

export type Evolve = (state: SessionsState, event: SessionDeciderEvent) => SessionsState;

/**
 * A decision in progress: the events decided so far, and the state with them applied (later rules of the
 * same command see the effects of the earlier ones).
 */
export interface Decision {
  out: SessionDeciderEvent[];
  current: SessionsState;
  evolve: Evolve;
}

export const startDecision = (state: SessionsState, evolve: Evolve): Decision => ({ out: [], current: state, evolve });

export function emit(d: Decision, event: SessionDeciderEvent): void {
  d.out.push(event);
  d.current = d.evolve(d.current, event);
}
