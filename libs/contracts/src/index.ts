export * from './errors';
export * from './envelope';
export * from './ids';
export * from './topics';
export * from './catalogue';
export * from './ocpi-location';
export * from './ocpi-tariff';
export * from './events/ocpp';
export * from './events/session';
export * from './events/session-bounds';
export * from './events/registry';
export * from './events/tariff';
export * from './events/billing';
export * from './events/cdr-parts';
export * from './events/commands';
export * from './events/monitoring';
export * from './events/payment';
export * from './events/meter-keys';
export * from './events/finance';
export * from './events/settlement';
export * from './events/reconciliation';
export * from './events/billing-running';
export * from './events/ocpi';

import { EventCatalogue, type EventDefinition, type Upcaster } from './catalogue';
import { OcppMessageReceivedV1 } from './events/ocpp';
import {
  SessionEndedV1,
  SessionEndedV2,
  SessionStartedV1,
  SessionUpdatedV1,
  sessionEndedV1ToV2,
} from './events/session';
import {
  StationRegisteredV1,
  StationRegisteredV2,
  StationRegisteredV3,
  TokenRegisteredV1,
  AccountStandingChangedV1,
  stationRegisteredV1ToV2,
  stationRegisteredV2ToV3,
} from './events/registry';
import {
  TariffAssignmentSetV1,
  TariffAssignmentSetV2,
  TariffVersionPublishedV1,
  TariffVersionPublishedV2,
  tariffAssignmentSetV1ToV2,
  tariffVersionPublishedV1ToV2,
} from './events/tariff';
import {
  CdrCreatedV1,
  CdrCreatedV2,
  CdrCreatedV3,
  CdrCreatedV4,
  SessionPricingFailedV1,
  cdrCreatedV1ToV2,
  cdrCreatedV2ToV3,
  cdrCreatedV3ToV4,
} from './events/billing';
import { MeterKeySetV1, SignaturePolicySetV1 } from './events/meter-keys';
import { OcppCommandCompletedV1, OcppCommandRequestedV1 } from './events/commands';
import {
  AlarmAcknowledgedV1,
  AlarmAcknowledgedV2,
  MaintenanceDeclaredV1,
  alarmAcknowledgedV1ToV2,
} from './events/monitoring';
import { PAYMENT_EVENTS } from './events/payment';
import { PeriodClosedV1 } from './events/finance';
import { SETTLEMENT_EVENTS } from './events/settlement';
import { RECONCILIATION_EVENTS } from './events/reconciliation';
import { SessionCostEstimatedV1, SessionTariffSelectedV1 } from './events/billing-running';
import { OCPI_EVENTS } from './events/ocpi';

/** Every event version the system knows, newest and old (old ones need an upcaster below). */
export const ALL_EVENTS: readonly EventDefinition[] = [
  OcppMessageReceivedV1,
  StationRegisteredV1,
  StationRegisteredV2,
  StationRegisteredV3,
  TokenRegisteredV1,
  AccountStandingChangedV1,
  SessionStartedV1,
  SessionUpdatedV1,
  SessionEndedV1,
  SessionEndedV2,
  TariffVersionPublishedV1,
  TariffVersionPublishedV2,
  TariffAssignmentSetV1,
  TariffAssignmentSetV2,
  CdrCreatedV1,
  CdrCreatedV2,
  CdrCreatedV3,
  CdrCreatedV4,
  SessionPricingFailedV1,
  SessionTariffSelectedV1,
  SessionCostEstimatedV1,
  MeterKeySetV1,
  SignaturePolicySetV1,
  OcppCommandRequestedV1,
  OcppCommandCompletedV1,
  AlarmAcknowledgedV1,
  AlarmAcknowledgedV2,
  MaintenanceDeclaredV1,
  PeriodClosedV1,
  ...PAYMENT_EVENTS,
  ...SETTLEMENT_EVENTS,
  ...RECONCILIATION_EVENTS,
  ...OCPI_EVENTS,
];
export const ALL_UPCASTERS: readonly Upcaster[] = [
  stationRegisteredV1ToV2,
  stationRegisteredV2ToV3,
  sessionEndedV1ToV2,
  cdrCreatedV1ToV2,
  cdrCreatedV2ToV3,
  cdrCreatedV3ToV4,
  tariffVersionPublishedV1ToV2,
  tariffAssignmentSetV1ToV2,
  alarmAcknowledgedV1ToV2,
];

/** The catalogue of the whole system. Services may build narrower ones for what they consume. */
export function systemCatalogue(): EventCatalogue {
  return new EventCatalogue(ALL_EVENTS, ALL_UPCASTERS);
}
