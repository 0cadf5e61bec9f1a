import * as kernel from '@csms/kernel';
import { OcppNormaliseError } from './errors';

// bound once at load: a call through a CommonJS module namespace (as esbuild / tsx emit) goes through an accessor
const { OCPP_DATE_TIME, parseInstant, toIsoString } = kernel;

/** Small structural readers: they either return the typed field or throw INVALID_PAYLOAD with its path. */
export type Obj = Record<string, unknown>;

export function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new OcppNormaliseError('INVALID_PAYLOAD', `${path} must be an object`, path);
  }
  return v as Obj;
}

export function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new OcppNormaliseError('INVALID_PAYLOAD', `${path} must be an array`, path);
  return v;
}

export function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} must be a string`, `${path}.${key}`);
  return v;
}

export function optStr(o: Obj, key: string, path: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, path);
}

export function int(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} must be an integer`, `${path}.${key}`);
  }
  return v;
}

export function optInt(o: Obj, key: string, path: string): number | undefined {
  return o[key] === undefined ? undefined : int(o, key, path);
}

export function optBool(o: Obj, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} must be a boolean`, `${path}.${key}`);
  return v;
}

export function oneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[]): T {
  const v = str(o, key, path);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new OcppNormaliseError('INVALID_PAYLOAD', `${path}.${key} has an unknown value ${v}`, `${path}.${key}`);
  }
  return v as T;
}

export function optOneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[]): T | undefined {
  return o[key] === undefined ? undefined : oneOf(o, key, path, allowed);
}

/**
 * An OCPP date-time as a UTC instant (`2026-03-29T01:30:00.000Z`), read by the kernel's time module under its
 * OCPP rules: never through the process time zone (`new Date('2026-01-01T10:00:00')` would read local time).
 * A timestamp without offset is read as UTC and reported (`offsetMissing`); fractions beyond milliseconds are
 * truncated. Anything else throws INVALID_TIMESTAMP.
 */
export function instantAt(value: unknown, path: string): { iso: string; offsetMissing: boolean } {
  if (typeof value !== 'string') throw new OcppNormaliseError('INVALID_TIMESTAMP', `${path} must be a date-time string`, path);
  const p = parseInstant(value, OCPP_DATE_TIME);
  if (p.ok) return { iso: toIsoString(p.epochMs), offsetMissing: p.offsetMissing };
  throw new OcppNormaliseError('INVALID_TIMESTAMP', p.shape ? `${path} is not an RFC 3339 date-time: ${value}` : `${path} is not a valid date-time: ${value}`, path);
}
