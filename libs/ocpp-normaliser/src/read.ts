import { OcppNormaliseError } from './errors';

/**
 * Typed structural readers. A payload arrives as JSON the normaliser has not checked; `obj<T>` views it
 * as `Unchecked<T>`: the field names of the generated OCPP type `T` (libs/ocpp), each of unknown value.
 * The readers take a field name of `T` whose type fits (`str` only a string field, `int` only a number
 * field, ...) and either return the field checked or throw INVALID_PAYLOAD with its path. A field the
 * generated type does not declare, or declares with another type, does not compile.
 */
export type Obj = Record<string, unknown>;

declare const shape: unique symbol;
/** A value of the generated type T, not yet checked: T's field names, each of unknown value. */
export type Unchecked<T> = { readonly [K in keyof T]: unknown } & { readonly [shape]?: T };
type ShapeOf<O> = O extends { readonly [shape]?: infer T } ? NonNullable<T> : never;
/** The field names of T whose type (when present) is V. */
type FieldsOf<T, V> = { [K in keyof T]-?: NonNullable<T[K]> extends V ? K : never }[keyof T] & string;
/** The element type of T[]. */
export type ItemOf<A> = A extends readonly (infer E)[] ? E : never;

export function obj<T>(v: unknown, path: string): Unchecked<T> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new OcppNormaliseError('INVALID_PAYLOAD', `${path} must be an object`, path);
  }
  return v as Unchecked<T>;
}

export function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new OcppNormaliseError('INVALID_PAYLOAD', `${path} must be an array`, path);
  return v;
}

function field(o: object, key: string): unknown {
  return (o as Obj)[key];
}

export function str<O extends Unchecked<unknown>>(o: O, key: FieldsOf<ShapeOf<O>, string>, path: string): string {
  const v = field(o, key);
  if (typeof v !== 'string') throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} must be a string`, `${path}.${key}`);
  return v;
}

export function optStr<O extends Unchecked<unknown>>(o: O, key: FieldsOf<ShapeOf<O>, string>, path: string): string | undefined {
  return field(o, key) === undefined ? undefined : str(o, key, path);
}

export function int<O extends Unchecked<unknown>>(o: O, key: FieldsOf<ShapeOf<O>, number>, path: string): number {
  const v = field(o, key);
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} must be an integer`, `${path}.${key}`);
  }
  return v;
}

export function optInt<O extends Unchecked<unknown>>(o: O, key: FieldsOf<ShapeOf<O>, number>, path: string): number | undefined {
  return field(o, key) === undefined ? undefined : int(o, key, path);
}

export function optBool<O extends Unchecked<unknown>>(o: O, key: FieldsOf<ShapeOf<O>, boolean>, path: string): boolean | undefined {
  const v = field(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} must be a boolean`, `${path}.${key}`);
  return v;
}

/**
 * A string field whose value must be one of `allowed` (the normaliser's vocabulary, which may be wider
 * than the version's enum: a 1.6 station sending a 2.0.1 measurand is read, not refused).
 */
export function oneOf<O extends Unchecked<unknown>, V extends string>(o: O, key: FieldsOf<ShapeOf<O>, string>, path: string, allowed: readonly V[]): V {
  const v = str(o, key, path);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} has an unknown value ${v}`, `${path}.${key}`);
  }
  return v as V;
}

export function optOneOf<O extends Unchecked<unknown>, V extends string>(
  o: O,
  key: FieldsOf<ShapeOf<O>, string>,
  path: string,
  allowed: readonly V[],
): V | undefined {
  return field(o, key) === undefined ? undefined : oneOf(o, key, path, allowed);
}
