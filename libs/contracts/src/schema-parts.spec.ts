import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { Type } from '@sinclair/typebox';
import { ALL_EVENTS, CdrCreatedV3, closed } from './index';
import { schemaParts } from './schema-parts';

type Schema = Record<string, unknown>;

/** The catalogue's Ajv settings; `split` compiles the parts as the catalogue does, otherwise the schema whole. */
function compile(schema: Schema, split: boolean): { validate: ValidateFunction; parts: number } {
  const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true, inlineRefs: !split });
  addFormats(ajv);
  if (!split) return { validate: ajv.compile(schema), parts: 0 };
  const { root, parts } = schemaParts(schema, 'test:schema');
  for (const p of parts) ajv.addSchema(p);
  return { validate: ajv.compile(root), parts: parts.length };
}

/** What the catalogue reports of a refused payload: the first error without its schema path. */
const firstError = (errors: ErrorObject[] | null | undefined) => {
  const e = errors?.[0];
  return e && { instancePath: e.instancePath, keyword: e.keyword, params: e.params, message: e.message };
};

/** Every JSON pointer of a value (objects and arrays included). */
function pathsOf(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...at, i])));
  else if (typeof v === 'object' && v !== null)
    for (const k of Object.keys(v)) out.push(...pathsOf(v[k as never], [...at, k]));
  return out;
}

const REPLACEMENTS: unknown[] = [
  null,
  undefined, // delete
  '',
  'x',
  'X'.repeat(300),
  '2026-13-01T00:00:00Z',
  '12.5',
  '-1',
  0,
  -1,
  1.5,
  1e21,
  true,
  {},
  [],
  [{}],
  { extra: 1 },
  'ENERGY',
  'AC-STANDARD',
];

/** The example with one value at a path replaced (undefined: deleted), or an unknown property added to an object. */
function mutate(example: unknown, path: Array<string | number>, replacement: unknown, addProperty: boolean): unknown {
  const copy = structuredClone(example) as Record<string | number, unknown>;
  if (path.length === 0) return addProperty ? { ...copy, unknownProperty: replacement ?? 1 } : replacement;
  let parent: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  const target = parent[last];
  if (addProperty && typeof target === 'object' && target !== null && !Array.isArray(target))
    (target as Record<string, unknown>).unknownProperty = replacement ?? 1;
  else if (replacement === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = replacement;
  return copy;
}

describe('schemaParts: a large schema compiled in parts accepts and refuses exactly as the whole', () => {
  it('cuts cdr.created v3 into parts (its whole validator is one function of over 400 KB)', () => {
    expect(compile(CdrCreatedV3.schema as unknown as Schema, true).parts).toBeGreaterThan(2);
  });

  it('leaves a small schema whole, and does not change its input', () => {
    const small = closed({ a: Type.String(), b: Type.Optional(Type.Integer()) }) as unknown as Schema;
    const before = JSON.stringify(small);
    expect(schemaParts(small, 'test:small')).toEqual({ root: small, parts: [] });
    const big = CdrCreatedV3.schema as unknown as Schema;
    const bigBefore = JSON.stringify(big);
    schemaParts(big, 'test:big');
    expect(JSON.stringify(small)).toBe(before);
    expect(JSON.stringify(big)).toBe(bigBefore);
  });

  it('leaves a schema with references of its own whole', () => {
    const withRef = { type: 'object', properties: { a: { $ref: 'other' } } };
    expect(schemaParts(withRef, 'test:ref', 0).parts).toEqual([]);
  });

  const large = ALL_EVENTS.filter((d) => schemaParts(d.schema as unknown as Schema, 'test:count').parts.length > 0);

  it('has large schemas to check (cdr.created v1 to v3 at least)', () => {
    expect(large.map((d) => `${d.type}@${d.version}`)).toEqual(
      expect.arrayContaining(['cdr.created@1', 'cdr.created@2', 'cdr.created@3']),
    );
  });

  it.each(large.map((d) => [`${d.type} v${d.version}`, d] as const))(
    '%s: the same verdict and the same first error for mutated examples',
    (_name, def) => {
      const schema = def.schema as unknown as Schema;
      const whole = compile(schema, false).validate;
      const split = compile(schema, true).validate;
      expect(split(def.example)).toBe(true);
      const paths = pathsOf(def.example);
      let refused = 0;
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: paths.length - 1 }),
          fc.integer({ min: 0, max: REPLACEMENTS.length - 1 }),
          fc.boolean(),
          (p, r, add) => {
            const value = mutate(def.example, paths[p], REPLACEMENTS[r], add);
            const verdict = whole(value);
            expect(split(value)).toBe(verdict);
            if (!verdict) {
              refused++;
              expect(firstError(split.errors)).toEqual(firstError(whole.errors));
            }
          },
        ),
        { numRuns: 300, seed: 11 },
      );
      expect(refused).toBeGreaterThan(60);
    },
  );
});
