export { toCanonicalJson } from './canonical-json';
export type { CompiledTariff } from './compiled';
export { priceSession } from './engine';
export { PricingError, TariffValidationError } from './errors';
export type { PricingErrorCode, TariffErrorCode, TariffIssue } from './errors';
export { TARIFF_LIMITS } from './limits';
export * from './types';
export { compileTariff, isCompiledTariff, tariffIssues, unknownTariffFields, validateTariff } from './validate-tariff';
export { PRICING_ENGINE_VERSION } from './version';
