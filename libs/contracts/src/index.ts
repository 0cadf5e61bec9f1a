export * from './errors';
export * from './envelope';
export * from './ids';
export * from './topics';
export * from './catalogue';
export * from './events/ocpp';

import { EventCatalogue, type EventDefinition, type Upcaster } from './catalogue';
import { OcppMessageReceivedV1 } from './events/ocpp';

/** Every event version the system knows, newest and old (old ones need an upcaster below). */
export const ALL_EVENTS: readonly EventDefinition[] = [OcppMessageReceivedV1];
export const ALL_UPCASTERS: readonly Upcaster[] = [];

/** The catalogue of the whole system. Services may build narrower ones for what they consume. */
export function systemCatalogue(): EventCatalogue {
  return new EventCatalogue(ALL_EVENTS, ALL_UPCASTERS);
}
