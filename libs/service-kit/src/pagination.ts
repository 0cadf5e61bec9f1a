import { ApiProblem } from './problem';

/**
 * Keyset pagination cursors: the sort key of the last item of a page (e.g. [startedAt, id]), opaque to
 * clients (base64url JSON). A stable order and no offsets: a page never skips or repeats an item when
 * rows are added meanwhile.
 */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key of a cursor this API issued; 400 problem (`INVALID_CURSOR`, field `query/cursor`) otherwise. */
export function decodeCursor(cursor: string, parts: number): string[] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === parts && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // fall through
  }
  throw new ApiProblem(400, 'INVALID_CURSOR', 'cursor is not one this API issued', { field: 'query/cursor' });
}

/** The `limit` query parameter: 1..500 as text (the schema pattern every list endpoint shares). */
export const LIMIT_PATTERN = '^([1-9]|[1-9][0-9]|[1-4][0-9][0-9]|500)$';
