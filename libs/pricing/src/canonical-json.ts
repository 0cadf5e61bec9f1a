/**
 * Canonical JSON: object keys sorted (UTF-16 code unit order), no whitespace, arrays in order.
 * Two equal values always give the same bytes, whatever order their keys were built in.
 * Only JSON values are expected (strings, finite numbers, booleans, null, arrays, plain objects).
 */
export function toCanonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      // built by concatenation, not map/join: the CDR's content hash runs this once per CDR
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += (i === 0 ? '' : ',') + (v === undefined ? 'null' : toCanonicalJson(v));
        }
        return `${out}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = '{';
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${toCanonicalJson(v)}`;
      }
      return `${out}}`;
    }
  }
  throw new TypeError(`canonical JSON: unsupported ${typeof value}`);
}
