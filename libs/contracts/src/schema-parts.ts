/**
 * A JSON schema cut into parts that Ajv compiles into one function each (why: README "Validation speed").
 * Ajv inlines a schema without `$ref` into a single function; for a large closed schema (cdr.created v3: over
 * 400 KB of generated code) V8 runs that function several times slower than the same checks split into
 * functions of ordinary size. Each large object sub-schema becomes a part with its own `$id`, referenced by
 * `$ref` where it was. The result accepts exactly the same values and reports the same first error (instance
 * path, keyword, params, message); only the errors' `schemaPath` is relative to the part. Pure: the input is not
 * changed (shared sub-schemas are copied, not moved).
 */

/** The keywords whose value is a schema, a list of schemas, or a map of names to schemas (draft-07 and 2019-09). */
const SCHEMA_VALUED = new Set([
  'additionalItems',
  'additionalProperties',
  'contains',
  'else',
  'if',
  'items',
  'not',
  'propertyNames',
  'then',
  'unevaluatedItems',
  'unevaluatedProperties',
]);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const SCHEMA_MAPS = new Set(['definitions', '$defs', 'dependentSchemas', 'patternProperties', 'properties']);

type Schema = Record<string, unknown>;

export interface SchemaParts {
  /** the schema to compile: the original with large object sub-schemas replaced by `{ $ref }` */
  root: Schema;
  /** the parts referenced, each with its `$id` (register them with the Ajv instance first) */
  parts: Schema[];
}

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Cuts `schema` into parts: every object sub-schema (one with `properties`) whose JSON is longer than
 * `minChars` and that has no `$id`/`$ref` of its own becomes a part named `${idPrefix}/<n>`. The root stays the
 * root. A schema with `$ref`s already, or none large enough, comes back unchanged (no parts).
 */
export function schemaParts(schema: Schema, idPrefix: string, minChars = 2000): SchemaParts {
  if (JSON.stringify(schema).includes('"$ref"')) return { root: schema, parts: [] };
  const parts: Schema[] = [];
  const visit = (node: Schema, isRoot: boolean): Schema => {
    let out: Schema | undefined;
    const set = (k: string, v: unknown): void => {
      if (v !== node[k]) (out ??= { ...node })[k] = v;
    };
    for (const k of Object.keys(node)) {
      const v = node[k];
      if (SCHEMA_VALUED.has(k) && isSchema(v)) set(k, visit(v, false));
      else if (SCHEMA_LISTS.has(k) && Array.isArray(v)) {
        const list = v.map((x: unknown) => (isSchema(x) ? visit(x, false) : x));
        set(k, list.some((x, i) => x !== v[i]) ? list : v);
      } else if (SCHEMA_MAPS.has(k) && isSchema(v)) {
        let map: Schema | undefined;
        for (const name of Object.keys(v)) {
          const sub = v[name];
          const w = isSchema(sub) ? visit(sub, false) : sub;
          if (w !== sub) (map ??= { ...v })[name] = w;
        }
        if (map) set(k, map);
      }
    }
    const result = out ?? node;
    if (isRoot || !isSchema(result.properties) || '$id' in result || JSON.stringify(result).length <= minChars)
      return result;
    const $id = `${idPrefix}/${parts.length + 1}`;
    parts.push({ ...result, $id });
    return { $ref: $id };
  };
  const root = visit(schema, true);
  return { root, parts };
}
