import type { OcppProtocol } from '@csms/ocpp';

/**
 * CALLERROR codes of each OCPP-J version. They differ: 1.6 says `FormationViolation` and keeps the
 * misspelled `OccurenceConstraintViolation` (OCPP-J 1.6 errata 5.1: "Do not fix, this is a message level
 * change"); 2.0.1 says `FormatViolation`, `OccurrenceConstraintViolation` and adds `RpcFrameworkError` and
 * `MessageTypeNotSupported` (OCPP 2.0.1 part 4, table "Valid Error Codes").
 */
export const OCPP16_ERROR_CODES = [
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
] as const;
export const OCPP201_ERROR_CODES = [
  'FormatViolation',
  'GenericError',
  'InternalError',
  'MessageTypeNotSupported',
  'NotImplemented',
  'NotSupported',
  'OccurrenceConstraintViolation',
  'PropertyConstraintViolation',
  'ProtocolError',
  'RpcFrameworkError',
  'SecurityError',
  'TypeConstraintViolation',
] as const;
export type Ocpp16ErrorCode = (typeof OCPP16_ERROR_CODES)[number];
export type Ocpp201ErrorCode = (typeof OCPP201_ERROR_CODES)[number];
export type CallErrorCode = Ocpp16ErrorCode | Ocpp201ErrorCode;

/**
 * Version-independent classes of failure; `callErrorCode` turns one into the code of a version.
 * - `unreadable`: not JSON, not an array, no readable message id, wrong arity (2.0.1 RpcFrameworkError)
 * - `format`: a CALL whose payload is not an object, or a payload that breaks the PDU structure
 * - `messageType`: a message type number other than 2, 3, 4
 */
export type FailureClass =
  | 'unreadable'
  | 'format'
  | 'messageType'
  | 'notImplemented'
  | 'notSupported'
  | 'occurrence'
  | 'type'
  | 'property'
  | 'internal'
  | 'security'
  | 'generic';

const V16: Record<FailureClass, Ocpp16ErrorCode> = {
  unreadable: 'FormationViolation',
  format: 'FormationViolation',
  messageType: 'FormationViolation',
  notImplemented: 'NotImplemented',
  notSupported: 'NotSupported',
  occurrence: 'OccurenceConstraintViolation',
  type: 'TypeConstraintViolation',
  property: 'PropertyConstraintViolation',
  internal: 'InternalError',
  security: 'SecurityError',
  generic: 'GenericError',
};
const V201: Record<FailureClass, Ocpp201ErrorCode> = {
  unreadable: 'RpcFrameworkError',
  format: 'FormatViolation',
  messageType: 'MessageTypeNotSupported',
  notImplemented: 'NotImplemented',
  notSupported: 'NotSupported',
  occurrence: 'OccurrenceConstraintViolation',
  type: 'TypeConstraintViolation',
  property: 'PropertyConstraintViolation',
  internal: 'InternalError',
  security: 'SecurityError',
  generic: 'GenericError',
};

export function callErrorCode(protocol: OcppProtocol, failure: FailureClass): CallErrorCode {
  return protocol === 'ocpp1.6' ? V16[failure] : V201[failure];
}

export function isCallErrorCode(protocol: OcppProtocol, code: string): code is CallErrorCode {
  return (
    protocol === 'ocpp1.6' ? (OCPP16_ERROR_CODES as readonly string[]) : (OCPP201_ERROR_CODES as readonly string[])
  ).includes(code);
}

/** A JSON-schema validation error, as ajv reports it (only the fields we need). */
export interface SchemaViolation {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * Which CALLERROR a schema violation deserves:
 * - a value of the wrong JSON type -> TypeConstraintViolation ("somestring": 12)
 * - a missing required field, too few / too many items -> OccurrenceConstraintViolation
 * - a value outside its enum, length, range, pattern or format -> PropertyConstraintViolation
 * - an unknown field or anything else that breaks the PDU structure -> FormationViolation / FormatViolation
 */
export function failureOfViolation(v: SchemaViolation): FailureClass {
  switch (v.keyword) {
    case 'type':
      return 'type';
    case 'required':
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties':
      return 'occurrence';
    case 'enum':
    case 'const':
    case 'maxLength':
    case 'minLength':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'multipleOf':
    case 'pattern':
    case 'format':
      return 'property';
    default:
      return 'format';
  }
}

/** The JSON pointer of the field at fault (for a missing or unknown field, the field itself). */
export function fieldOfViolation(v: SchemaViolation): string {
  if (v.keyword === 'required') return `${v.instancePath}/${String(v.params.missingProperty)}`;
  if (v.keyword === 'additionalProperties') return `${v.instancePath}/${String(v.params.additionalProperty)}`;
  return v.instancePath || '/';
}
