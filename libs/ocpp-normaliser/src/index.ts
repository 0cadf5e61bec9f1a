export type { OcppInboundRecord, SourceIdentity } from './inbound-record';
export * from './events';
export { OcppNormaliseError, type NormaliseErrorCode } from './errors';
export { normalise, normaliseOrThrow, chargingStateFrom16Status, CHARGER_EVENT_NAMESPACE, type NormaliseResult } from './normalise';
export { normaliseSample16, normaliseSample201, defaultUnit } from './meter';
