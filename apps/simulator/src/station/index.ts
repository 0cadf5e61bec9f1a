export { Station } from './station';
export type { BackoffOptions, Protocol, SimEvent, SessionRecord, StationSummary, StationConfig } from './types';
