import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * Declares every `{name}` of a path as a required string path parameter where the document does not already.
 * `@nestjs/swagger` takes a `@Param()`'s type from decorator metadata, which a build by `tsc` emits and a run under
 * tsx (esbuild) does not: without this, the same service described its path parameters when built (`npm start`) and
 * left them out when run from source (the tests, and the console's generated types), so the hostile-input table
 * attacked no path parameter of those operations. Mutates and returns `doc`.
 */
export function declarePathParameters(doc: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    if (names.length === 0) continue;
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const op = item[method];
      if (!op) continue;
      const params = (op.parameters ??= []);
      for (const name of names) {
        const declared = params.some((p) => 'in' in p && p.in === 'path' && p.name === name);
        if (!declared) params.push({ name, required: true, in: 'path', schema: { type: 'string' } });
      }
    }
  }
  return doc;
}
