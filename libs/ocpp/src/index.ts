/**
 * OCPP message types generated from the official JSON schemas (via ocpp-rpc), the list of actions per
 * protocol version, and the schema of each action's request/response for validation at the edge.
 * The generated files are never edited by hand: run `npx tsx scripts/gen-ocpp-types.ts`.
 */
import type * as V16 from './generated/v16';
import type * as V201 from './generated/v201';
import { OCPP16_ACTIONS, OCPP201_ACTIONS, type Ocpp16Action, type Ocpp201Action } from './generated/actions';
import ocpp16Schemas from './schemas/ocpp1_6.json';
import ocpp201Schemas from './schemas/ocpp2_0_1.json';

export type { V16, V201 };
export { OCPP16_ACTIONS, OCPP201_ACTIONS };
export type { Ocpp16Action, Ocpp201Action };

/** OCPP-J subprotocol names, as negotiated on the WebSocket. */
export type OcppProtocol = 'ocpp1.6' | 'ocpp2.0.1';
export const OCPP_PROTOCOLS: readonly OcppProtocol[] = ['ocpp1.6', 'ocpp2.0.1'];

export type OcppActionOf<P extends OcppProtocol> = P extends 'ocpp1.6' ? Ocpp16Action : Ocpp201Action;
export type OcppMessageDirection = 'request' | 'response';

/** Every action of a protocol by name: its generated request and response types. */
export type OcppMessages<P extends OcppProtocol> = P extends 'ocpp1.6' ? V16.Messages : V201.Messages;
/** The generated request type of an action, e.g. `OcppRequest<'ocpp1.6', 'StartTransaction'>` is `V16.StartTransactionRequest`. */
export type OcppRequest<P extends OcppProtocol, A extends OcppActionOf<P>> = OcppMessages<P>[A &
  keyof OcppMessages<P>] extends { request: infer R }
  ? R
  : never;
/** The generated response type of an action. */
export type OcppResponse<P extends OcppProtocol, A extends OcppActionOf<P>> = OcppMessages<P>[A &
  keyof OcppMessages<P>] extends { response: infer R }
  ? R
  : never;

/** Convenience names for the 1.6 shapes that the schemas define inline. */
export type V16MeterValue = V16.MeterValuesRequest['meterValue'][number];
export type V16SampledValue = V16MeterValue['sampledValue'][number];

/** A JSON schema (draft-07) as shipped in the official OCPP schema files. */
export interface OcppJsonSchema {
  $id: string;
  $schema?: string;
  [keyword: string]: unknown;
}

const byProtocol: Record<OcppProtocol, { actions: readonly string[]; schemas: Map<string, OcppJsonSchema> }> = {
  'ocpp1.6': { actions: OCPP16_ACTIONS, schemas: index(ocpp16Schemas as OcppJsonSchema[]) },
  'ocpp2.0.1': { actions: OCPP201_ACTIONS, schemas: index(ocpp201Schemas as OcppJsonSchema[]) },
};

function index(list: OcppJsonSchema[]): Map<string, OcppJsonSchema> {
  return new Map(list.map((s) => [s.$id, s]));
}

/** The actions defined for a protocol version, in schema order. */
export function ocppActions(protocol: OcppProtocol): readonly string[] {
  return byProtocol[protocol].actions;
}

export function isOcppAction<P extends OcppProtocol>(protocol: P, action: string): action is OcppActionOf<P> {
  return byProtocol[protocol]?.actions.includes(action) ?? false;
}

/**
 * The official JSON schema of an action's request (`.req`) or response (`.conf`), or undefined when the
 * version does not define that action. The returned object is shared: treat it as read-only.
 */
export function getOcppSchema(
  protocol: OcppProtocol,
  action: string,
  direction: OcppMessageDirection,
): OcppJsonSchema | undefined {
  const entry = byProtocol[protocol];
  if (!entry) return undefined;
  return entry.schemas.get(`urn:${action}.${direction === 'request' ? 'req' : 'conf'}`);
}

/** Like getOcppSchema but throws when the action is unknown for the version. */
export function requireOcppSchema(
  protocol: OcppProtocol,
  action: string,
  direction: OcppMessageDirection,
): OcppJsonSchema {
  const schema = getOcppSchema(protocol, action, direction);
  if (!schema) throw new Error(`no ${direction} schema for ${protocol} action ${action}`);
  return schema;
}

/**
 * The schema with an `$id` that ajv >= 8.17 accepts. The official ids (`urn:StartTransaction.req`) are URNs
 * without a namespace id, which fast-uri (ajv's URI library since 8.17) refuses to serialise ("URN without
 * nid cannot be serialized"). This copy uses `urn:ocpp:<protocol>:<Action>.<req|conf>`, unique across
 * versions so both versions can live in one ajv instance. Everything else is the official schema.
 */
export function getOcppSchemaForAjv(
  protocol: OcppProtocol,
  action: string,
  direction: OcppMessageDirection,
): OcppJsonSchema | undefined {
  const schema = getOcppSchema(protocol, action, direction);
  if (!schema) return undefined;
  return { ...schema, $id: `urn:ocpp:${protocol}:${schema.$id.slice('urn:'.length)}` };
}
