export type { OcppInboundRecord, SourceIdentity, StationAsAnswered, TokenRegistryFacts } from './inbound-record';
export * from './events';
export { OcppNormaliseError, type NormaliseErrorCode } from './errors';
export { normalise, normaliseOrThrow, CHARGER_EVENT_NAMESPACE, type NormaliseResult } from './normalise';
export {
  chargingStateFrom16Status,
  OCPP16_STATION_ACTIONS,
  OCPP201_STATION_ACTIONS,
  STATION_ACTION_TABLES,
  stationAction,
  stationActions,
  answeredActions,
  noFact,
  isNoFact,
  type AnsweredActions,
  type Draft,
  type FactInput,
  type FactMapping,
  type NoFact,
  type StationActionDeclaration,
  type StationActionTable,
} from './actions';
export { normaliseSample16, normaliseSample201, defaultUnit } from './meter';
