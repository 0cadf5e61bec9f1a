import { OcppNormaliseError } from './errors';

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
