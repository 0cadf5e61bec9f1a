import { Injectable, type PipeTransform } from '@nestjs/common';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';
import { ApiProblem } from './problem';

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: true });
addFormats(ajv);
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
    return { field: `${where}${field}`, detail: e.message ?? e.keyword };
  });
  throw new ApiProblem(400, 'VALIDATION_FAILED', `${errors[0].field}: ${errors[0].detail}`, { field: errors[0].field, errors });
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
