export * from './events';
export { DEFAULT_SESSION_CONFIG, type SessionDeciderConfig } from './config';
export {
  initialState,
  sessionOf,
  type SessionsState,
  type SessionState,
  type ConnectorState,
  type EnergyReading,
  itemsOf,
  unload,
  isUnloaded,
  ChunkNotLoaded,
  type Chunk,
  type StoredChunk,
} from './state';
export { handle, sessionDecider, type SessionCommand, type SessionDecider } from './decider';
export { sessionIdOf, SESSION_NAMESPACE, SESSION_EVENT_NAMESPACE } from './ids';
export { missingSeqNos } from './seq-nos';
