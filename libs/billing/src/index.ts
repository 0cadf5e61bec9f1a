export { BillingError } from './errors';
export type { BillingErrorCode } from './errors';
export { CANDIDATE_ORDER, SCOPE_PRECEDENCE, TariffIndex, VERSION_ORDER, selectTariff } from './select-tariff';
export type {
  AssignmentScope,
  ScopeLevel,
  SkippedCandidate,
  TariffAssignment,
  TariffSelection,
  TariffSelectionContext,
  TariffVersionRef,
} from './select-tariff';
export { localBoundaryCuts, toPricingSession } from './to-pricing-session';
export type { SessionEndedPayload, ToPricingSessionOptions } from './to-pricing-session';
export type { PricingFacts, StationFacts, StoredVersion, TokenFacts } from './facts';
export { sessionStationFacts, sessionTokenFacts } from './facts';
export { CompiledTariffs, buildCdr, cdrIdOf, cdrLocationOf, creditCdrOf, sha256 } from './cdr';
export type { PricingContext, PricingOutcome, SourcePosition } from './cdr';
export { SIGNED_METER_VALUES_FAILED, checkSignedMeterValues, meterKeyFor, policyFor } from './signed-data';
export type { AppliedPolicy, MeterKeyFact, SignaturePolicyFact, SignedDataOutcome } from './signed-data';
export { SettleFailureCode, retriableOnly, settle } from './settle';
export type { InfrastructureFailure, Pricer, Settled, SettledFailure } from './settle';
export { billingDecider, pricingFailedEvent } from './billing-decider';
export type {
  BillingCommand,
  BillingDeciderConfig,
  BillingEvent,
  BillingState,
  IssuedCdr,
  PriceEndedSession,
} from './billing-decider';
export { BACKDATE_TOLERANCE_MS, CatalogueError, catalogueDecider } from './catalogue-decider';
export type {
  CatalogueCommand,
  CatalogueErrorCode,
  CatalogueEvent,
  CatalogueState,
  PublishTariffVersion,
  SetTariffAssignment,
} from './catalogue-decider';
export { MeterKeyError, curveOfKeyText, meterKeyDecider } from './meter-keys';
export type {
  MeterKeyCommand,
  MeterKeyErrorCode,
  MeterKeyEvent,
  MeterKeyState,
  SetMeterKey,
  SetSignaturePolicy,
} from './meter-keys';
export { spkiHexOf, transparencyXml } from './transparency';
export type { TransparencyExport } from './transparency';
export {
  estimateDue,
  estimateRunningCost,
  foldUpdate,
  runningAsEnded,
  selectSessionTariff,
  startRunning,
} from './running-cost';
export type { RunningEstimate, RunningSegment, RunningSession, SelectedTariff } from './running-cost';
