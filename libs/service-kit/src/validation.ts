import { Injectable, type PipeTransform } from '@nestjs/common';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';
import { isInstant, parseInstant } from '@csms/kernel';
import { ApiProblem } from './problem';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, coerceTypes: false, useDefaults: true });
addFormats(ajv);
// every `format: 'date-time'` of an HTTP input is the one instant rule (years 0001-9999, offsets within
// ±15:59, no leap second): what PostgreSQL and ISO can hold (see @csms/kernel parseInstant)
ajv.addFormat('date-time', { type: 'string', validate: (text: string) => isInstant(text) });
// a uuid is 8-4-4-4-12 hex digits, not 36 dashes
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

/** A UUID (any version), as path parameters and filters take it. */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** Validates HTTP input against a TypeBox schema; 400 problem listing every field that is wrong. */
export function validateInput<S extends TSchema>(schema: S, value: unknown, where = 'body'): Static<S> {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  if (v(value)) return value as Static<S>;
  const errors = (v.errors ?? []).map((e) => {
    let field = e.instancePath;
    if (e.keyword === 'required') field = `${e.instancePath}/${String(e.params.missingProperty)}`;
    if (e.keyword === 'additionalProperties') field = `${e.instancePath}/${String(e.params.additionalProperty)}`;
    if (e.keyword === 'format' && e.params.format === 'date-time') {
      const parsed = parseInstant(e.data);
      return { field: `${where}${field}`, detail: parsed.ok ? 'must be an RFC 3339 date-time' : parsed.reason };
    }
    return { field: `${where}${field}`, detail: e.message ?? e.keyword };
  });
  throw new ApiProblem(400, 'VALIDATION_FAILED', `${errors[0].field}: ${errors[0].detail}`, {
    field: errors[0].field,
    errors,
  });
}

/** `@Body(new SchemaPipe(MySchema))` */
@Injectable()
export class SchemaPipe<S extends TSchema> implements PipeTransform<unknown, Static<S>> {
  constructor(
    private readonly schema: S,
    private readonly where = 'body',
  ) {}
  transform(value: unknown): Static<S> {
    return validateInput(this.schema, value, this.where);
  }
}
