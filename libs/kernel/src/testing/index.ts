export { given, givenCommands } from './given-when-then';
export type { Outcome, Scenario } from './given-when-then';
