/**
 * The decider's state as jsonb: plain JSON, with bigints (minor units) written as `{ "$bigint": "123" }` so that
 * they come back as bigints, exactly.
 */
export function encodeState(state: unknown): string {
  return JSON.stringify(state, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
}

export function decodeState<S>(json: unknown): S {
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  return JSON.parse(text, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { $bigint?: unknown }).$bigint === 'string'
      ? BigInt((v as { $bigint: string }).$bigint)
      : v,
  ) as S;
}
