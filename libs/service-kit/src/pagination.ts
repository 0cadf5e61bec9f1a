import { isInstant } from '@csms/kernel';
import { hasBadCharacters } from './edge';
import { ApiProblem } from './problem';

/**
 * Keyset pagination cursors: the sort key of the last item of a page (e.g. [startedAt, id]), opaque to
 * clients (base64url JSON). A stable order and no offsets: a page never skips or repeats an item when
 * rows are added meanwhile.
 */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Longest cursor accepted (a key of a few columns is far shorter). */
export const MAX_CURSOR_LENGTH = 2048;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a decoded cursor part fits the SQL type of its key column, so that a tampered cursor is a 400
 * and never reaches a cast in SQL: uuid, timestamptz (the one instant rule), int/integer/bigint/smallint,
 * text (no U+0000, no lone surrogate). An unknown type is refused: the cursor cannot be checked.
 */
function fitsType(value: string, type: string): boolean {
  switch (type.toLowerCase()) {
    case 'uuid':
      return UUID.test(value);
    case 'timestamptz':
    case 'timestamp with time zone':
      return isInstant(value);
    case 'int':
    case 'integer':
    case 'int4':
      return /^-?[0-9]{1,10}$/.test(value) && Math.abs(Number(value)) <= 2147483647;
    case 'smallint':
      return /^-?[0-9]{1,5}$/.test(value) && Math.abs(Number(value)) <= 32767;
    case 'bigint':
    case 'int8':
      return (
        /^-?[0-9]{1,19}$/.test(value) && BigInt(value) <= 9223372036854775807n && BigInt(value) >= -9223372036854775808n
      );
    case 'text':
      return !hasBadCharacters(value);
    default:
      return false;
  }
}

/**
 * The key of a cursor this API issued; 400 problem (`INVALID_CURSOR`, field `query/cursor`) otherwise.
 * `types` are the SQL types of the key's columns (each decoded part is checked against its type); a
 * number only checks the count of parts (strings).
 */
export function decodeCursor(cursor: string, types: number | readonly string[]): string[] {
  const parts = typeof types === 'number' ? types : types.length;
  try {
    if (typeof cursor === 'string' && cursor.length <= MAX_CURSOR_LENGTH && /^[A-Za-z0-9_-]*$/.test(cursor)) {
      const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (
        Array.isArray(v) &&
        v.length === parts &&
        v.every(
          (x, i) => typeof x === 'string' && (typeof types === 'number' ? !hasBadCharacters(x) : fitsType(x, types[i])),
        )
      ) {
        return v as string[];
      }
    }
  } catch {
    // fall through
  }
  throw new ApiProblem(400, 'INVALID_CURSOR', 'cursor is not one this API issued', { field: 'query/cursor' });
}

/** The `limit` query parameter: 1..500 as text (the schema pattern every list endpoint shares). */
export const LIMIT_PATTERN = '^([1-9]|[1-9][0-9]|[1-4][0-9][0-9]|500)$';

export interface KeysetQuery<R> {
  /** `select … from …` without where/order/limit */
  select: string;
  /** conditions, `[sql with one ?, value]` or `[sql]`; falsy entries are skipped */
  filters: Array<readonly [string, unknown] | readonly [string] | false | undefined | null | ''>;
  /** the sort key: columns with their SQL types, unique together (e.g. a time and an id) */
  key: ReadonlyArray<readonly [column: string, type: string]>;
  descending?: boolean;
  limit: number;
  cursor?: string;
  /** the sort key of a row, as text, in the order of `key` */
  keyOf: (row: R) => string[];
}

/** One page of a keyset-paginated list query, and the cursor of the next page (none on the last). */
export async function keysetPage<R>(
  db: { query(sql: string, args: unknown[]): Promise<R[]> },
  q: KeysetQuery<R>,
): Promise<{ rows: R[]; nextCursor?: string }> {
  const where: string[] = [];
  const args: unknown[] = [];
  for (const f of q.filters) {
    if (!f) continue;
    if (f.length === 1) {
      where.push(f[0]);
      continue;
    }
    args.push(f[1]);
    where.push(f[0].replace('?', `$${args.length}`));
  }
  if (q.cursor) {
    const values = decodeCursor(
      q.cursor,
      q.key.map(([, type]) => type),
    );
    const params = values.map((v, i) => {
      args.push(v);
      return `$${args.length}::${q.key[i][1]}`;
    });
    where.push(`(${q.key.map(([c]) => c).join(', ')}) ${q.descending ? '<' : '>'} (${params.join(', ')})`);
  }
  args.push(q.limit + 1);
  const order = q.key.map(([c]) => `${c}${q.descending ? ' desc' : ''}`).join(', ');
  const rows = await db.query(
    `${q.select} ${where.length ? `where ${where.join(' and ')}` : ''} order by ${order} limit $${args.length}`,
    args,
  );
  const page = rows.slice(0, q.limit);
  return { rows: page, nextCursor: rows.length > q.limit ? encodeCursor(q.keyOf(page[page.length - 1])) : undefined };
}
