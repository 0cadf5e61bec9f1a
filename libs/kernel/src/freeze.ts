/**
 * Freezes a value and everything reachable from it (plain objects and arrays), so that a value shared between
 * transactions — a cached read of the database — cannot be changed by one of its users: a write throws (strict
 * mode) instead of leaking into the next. Returns the same value.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
