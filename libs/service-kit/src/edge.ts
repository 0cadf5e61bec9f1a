import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ApiProblem } from './problem';

/**
 * The edge rules every request of every service passes, before any handler sees its input
 * (libs/service-kit/README.md, "Edge rules"):
 * - JSON bodies nest at most MAX_JSON_DEPTH levels (arrays and objects); deeper: 400 `JSON_TOO_DEEP`;
 * - no string anywhere in path parameters, query parameters or a JSON body (values and object keys) holds
 *   U+0000 or a lone UTF-16 surrogate, which PostgreSQL cannot store: 400 `INVALID_CHARACTERS` with the
 *   field path (`path/<param>`, `query/<name>`, `body/<a>/<b>/0`).
 */
export const MAX_JSON_DEPTH = 64;

// U+0000, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one
// eslint-disable-next-line no-control-regex
const BAD_CHARACTERS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string holds a character PostgreSQL cannot store (U+0000, a lone surrogate). */
export function hasBadCharacters(s: string): boolean {
  return BAD_CHARACTERS.test(s);
}

const escapeKey = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The first edge problem of a parsed value (iterative: 10,000 levels do not recurse), or undefined.
 * `where` is the field path of the value itself (`body`, `query`, `path/id`).
 */
export function edgeProblem(value: unknown, where: string, maxDepth = MAX_JSON_DEPTH): ApiProblem | undefined {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: where, depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (hasBadCharacters(v))
        return new ApiProblem(400, 'INVALID_CHARACTERS', `${path}: U+0000 and lone surrogates are not accepted`, {
          field: path,
        });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth)
      return new ApiProblem(400, 'JSON_TOO_DEEP', `${path}: JSON nests deeper than ${maxDepth} levels`, {
        field: path,
      });
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}/${i}`, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i];
      const p = `${path}/${escapeKey(k)}`;
      if (hasBadCharacters(k))
        return new ApiProblem(400, 'INVALID_CHARACTERS', `${p}: U+0000 and lone surrogates are not accepted in names`, {
          field: p,
        });
      stack.push({ v: (v as Record<string, unknown>)[k], path: p, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Throws the first edge problem of a value (see edgeProblem). */
export function assertEdgeSafe(value: unknown, where: string): void {
  const p = edgeProblem(value, where);
  if (p) throw p;
}

/**
 * Global pipe (installed by createHttpService): every `@Param`, `@Query` and `@Body` argument of every
 * controller passes the edge rules, so a controller written tomorrow is covered without a line of its own.
 * It runs after the API-key guard: an unauthenticated request is a 401 whatever it carries.
 */
@Injectable()
export class EdgeInputPipe implements PipeTransform {
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if (meta.type === 'param') assertEdgeSafe(value, meta.data ? `path/${meta.data}` : 'path');
    else if (meta.type === 'query') assertEdgeSafe(value, meta.data ? `query/${meta.data}` : 'query');
    else if (meta.type === 'body') assertEdgeSafe(value, meta.data ? `body/${meta.data}` : 'body');
    return value;
  }
}
