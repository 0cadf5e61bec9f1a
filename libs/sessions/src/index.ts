export * from './events';
export { DEFAULT_SESSION_CONFIG, type SessionDeciderConfig } from './config';
export type { SessionsState, SessionState, ConnectorState, EnergyReading } from './state';
export {
  decide,
  evolve,
  initialState,
  handle,
  sessionDecider,
  sessionIdOf,
  missingSeqNos,
  sessionOf,
  SESSION_NAMESPACE,
  SESSION_EVENT_NAMESPACE,
  type SessionCommand,
  type Decider,
} from './decider';
