import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { getOcppSchemaForAjv, type OcppMessageDirection, type OcppProtocol } from '@csms/ocpp';
import {
  callErrorCode,
  failureOfViolation,
  fieldOfViolation,
  type CallErrorCode,
  type FailureClass,
  type SchemaViolation,
} from './callerror';

export type ValidationOutcome =
  { ok: true } | { ok: false; failure: FailureClass; errorCode: CallErrorCode; field: string; description: string };

/**
 * Validates OCPP payloads against the official JSON schemas of their version (libs/ocpp), compiled once
 * per (version, action, direction) on first use. The first violation decides the CALLERROR code.
 */
export class OcppSchemaValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction | null>();

  constructor() {
    // strict: false because the official schemas carry keywords ajv's strict mode rejects (javaType, ...)
    this.ajv = new Ajv({ strict: false, allErrors: false });
    addFormats(this.ajv);
  }

  /** True when the version defines that action (in that direction). */
  has(protocol: OcppProtocol, action: string, direction: OcppMessageDirection): boolean {
    return this.get(protocol, action, direction) !== null;
  }

  validate(
    protocol: OcppProtocol,
    action: string,
    direction: OcppMessageDirection,
    payload: unknown,
  ): ValidationOutcome {
    const fn = this.get(protocol, action, direction);
    if (!fn) {
      return {
        ok: false,
        failure: 'notImplemented',
        errorCode: callErrorCode(protocol, 'notImplemented'),
        field: '',
        description: `${action} is not an action of ${protocol}`,
      };
    }
    if (fn(payload)) return { ok: true };
    const v = (fn.errors?.[0] ?? { keyword: 'unknown', instancePath: '', params: {} }) as SchemaViolation;
    const failure = failureOfViolation(v);
    const field = fieldOfViolation(v);
    return {
      ok: false,
      failure,
      errorCode: callErrorCode(protocol, failure),
      field,
      description: `${field}: ${v.message ?? v.keyword}`,
    };
  }

  private get(protocol: OcppProtocol, action: string, direction: OcppMessageDirection): ValidateFunction | null {
    const key = `${protocol}|${action}|${direction}`;
    let fn = this.compiled.get(key);
    if (fn === undefined) {
      const schema = getOcppSchemaForAjv(protocol, action, direction);
      fn = schema ? this.ajv.compile(schema) : null;
      this.compiled.set(key, fn);
    }
    return fn;
  }
}
