import type { OcppActionOf, OcppProtocol, OcppRequest } from '@csms/ocpp';
import type { ChargerEvent, EventQualityFlag } from '../events';
import type { OcppInboundRecord } from '../inbound-record';
import type { Unchecked } from '../read';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A charger event as a mapping states it; normalise() adds the ids, the station, the times and the source. */
export type Draft = DistributiveOmit<
  ChargerEvent,
  'eventId' | 'stationId' | 'protocol' | 'receivedAt' | 'source' | 'occurredAt' | 'flags'
> & {
  occurredAt?: string;
  flags?: EventQualityFlag[];
};

/** What a mapping reads: the request payload (an object, its fields not yet checked) and the record (for the gateway's response). */
export interface FactInput<Req> {
  payload: Unchecked<Req>;
  record: OcppInboundRecord;
}

/** The charger events one station request states. Throws OcppNormaliseError on a payload it cannot read. */
export type FactMapping<Req> = (input: FactInput<Req>) => Draft[];

/** The action states no charger fact; `noFact` says why (it becomes the result's `ignored`). */
export interface NoFact {
  readonly noFact: string;
}

export function noFact(why: string): NoFact {
  return { noFact: why };
}

/**
 * One action a station sends, declared once per protocol:
 * - `gateway`: `'answers'` when the gateway routes the call to its handler (one per action under
 *   apps/ocpp-gateway/src/ocpp/handlers/<version>/), validates it against the action's schema (libs/ocpp)
 *   and records it on `ocpp.inbound`; `'notSupported'` when it answers NotSupported (the frame is recorded
 *   as rejected, no fact);
 * - `facts`: the mapping from the request (typed by the generated OCPP type) to charger events, or
 *   `noFact(why)`.
 */
export interface StationActionDeclaration<Req> {
  readonly gateway: 'answers' | 'notSupported';
  readonly facts: FactMapping<Req> | NoFact;
}

/** Every action a station of a protocol may send, by name, each with its generated request type. */
export type StationActionTable<P extends OcppProtocol> = {
  readonly [A in OcppActionOf<P>]?: StationActionDeclaration<OcppRequest<P, A>>;
};

/** The actions of a table the gateway answers (the keys its handler table must have, exactly). */
export type AnsweredActions<T> = { [A in keyof T]: T[A] extends { gateway: 'answers' } ? A : never }[keyof T];

/**
 * A declaration as normalise() calls it: the payload only checked to be an object. Sound for every
 * mapping: `Unchecked<Req>` promises nothing about a field but its name, and a field the object lacks
 * reads as undefined, which each reader checks.
 */
export interface CallableDeclaration {
  readonly gateway: 'answers' | 'notSupported';
  readonly facts: ((input: { payload: object; record: OcppInboundRecord }) => Draft[]) | NoFact;
}

export function isNoFact<M>(facts: M | NoFact): facts is NoFact {
  return typeof facts === 'object';
}
