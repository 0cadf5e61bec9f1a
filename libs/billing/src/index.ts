export { BillingError } from './errors';
export type { BillingErrorCode } from './errors';
export { SCOPE_PRECEDENCE, selectTariff } from './select-tariff';
export type { AssignmentScope, ScopeLevel, TariffAssignment, TariffSelection, TariffSelectionContext, TariffVersionRef } from './select-tariff';
export { localBoundaryCuts, toPricingSession } from './to-pricing-session';
export type { SessionEndedPayload, ToPricingSessionOptions } from './to-pricing-session';
