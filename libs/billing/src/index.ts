export { BillingError } from './errors';
export type { BillingErrorCode } from './errors';
export { CANDIDATE_ORDER, SCOPE_PRECEDENCE, VERSION_ORDER, selectTariff } from './select-tariff';
export type { AssignmentScope, ScopeLevel, SkippedCandidate, TariffAssignment, TariffSelection, TariffSelectionContext, TariffVersionRef } from './select-tariff';
export { localBoundaryCuts, toPricingSession } from './to-pricing-session';
export type { SessionEndedPayload, ToPricingSessionOptions } from './to-pricing-session';
