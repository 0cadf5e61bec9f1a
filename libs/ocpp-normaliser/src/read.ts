import * as kernel from '@csms/kernel';
import { OcppNormaliseError } from './errors';

// bound once at load: a call through a CommonJS module namespace (as esbuild / tsx emit) goes through an accessor
const { OCPP_DATE_TIME, parseInstant, toIsoString } = kernel;

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
  if (typeof v !== 'string')
    throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} must be a string`, `${path}.${key}`);
  return v;
}

export function optStr<O extends Unchecked<unknown>>(
  o: O,
  key: FieldsOf<ShapeOf<O>, string>,
  path: string,
): string | undefined {
  return field(o, key) === undefined ? undefined : str(o, key, path);
}

export function int<O extends Unchecked<unknown>>(o: O, key: FieldsOf<ShapeOf<O>, number>, path: string): number {
  const v = field(o, key);
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} must be an integer`, `${path}.${key}`);
  }
  return v;
}

export function optInt<O extends Unchecked<unknown>>(
  o: O,
  key: FieldsOf<ShapeOf<O>, number>,
  path: string,
): number | undefined {
  return field(o, key) === undefined ? undefined : int(o, key, path);
}

export function optBool<O extends Unchecked<unknown>>(
  o: O,
  key: FieldsOf<ShapeOf<O>, boolean>,
  path: string,
): boolean | undefined {
  const v = field(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean')
    throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} must be a boolean`, `${path}.${key}`);
  return v;
}

/**
 * A string field whose value must be one of `allowed` (the normaliser's vocabulary, which may be wider
 * than the version's enum: a 1.6 station sending a 2.0.1 measurand is read, not refused).
 */
export function oneOf<O extends Unchecked<unknown>, V extends string>(
  o: O,
  key: FieldsOf<ShapeOf<O>, string>,
  path: string,
  allowed: readonly V[],
): V {
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

/**
 * An OCPP date-time as a UTC instant (`2026-03-29T01:30:00.000Z`), read by the kernel's time module under its
 * OCPP rules: never through the process time zone (`new Date('2026-01-01T10:00:00')` would read local time).
 * A timestamp without offset is read as UTC and reported (`offsetMissing`); fractions beyond milliseconds are
 * truncated. Anything else throws INVALID_TIMESTAMP.
 */
export function instantAt(value: unknown, path: string): { iso: string; offsetMissing: boolean } {
  if (typeof value !== 'string')
    throw new OcppNormaliseError('INVALID_TIMESTAMP', `${path} must be a date-time string`, path);
  const p = parseInstant(value, OCPP_DATE_TIME);
  if (p.ok) return { iso: toIsoString(p.epochMs), offsetMissing: p.offsetMissing };
  throw new OcppNormaliseError(
    'INVALID_TIMESTAMP',
    p.shape ? `${path} is not an RFC 3339 date-time: ${value}` : `${path} is not a valid date-time: ${value}`,
    path,
  );
}
