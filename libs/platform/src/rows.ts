/** Something that runs a parameterised statement and resolves to the rows it returns (a TypeORM EntityManager). */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** A column of `insertRows`: its name, and `json: true` for a json/jsonb column (its value is sent as JSON text). */
export type RowColumn = string | { name: string; json: true };

/** PostgreSQL's limit on the parameters of one statement. */
const MAX_PARAMS = 65_535;

/**
 * Inserts rows with one multi-row `insert … values (…), (…) <tail>` statement (several when they would pass the
 * 65,535-parameter limit), each value its own parameter: nothing is escaped into array literals or wrapped in one
 * JSON document that the server parses again, which is what made chunk writes costly on both sides. The
 * server coerces each parameter to its column's type as for a one-row insert. A json column's value is sent as
 * `JSON.stringify` of it (null stays SQL NULL). Table, column names and `tail` are the caller's SQL, never input.
 * Returns the rows `tail` returns (`returning …`), in order.
 */
export async function insertRows(
  q: Queryable,
  table: string,
  columns: readonly RowColumn[],
  rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
  tail = '',
): Promise<unknown[]> {
  const cols = columns.map((c) => (typeof c === 'string' ? { name: c, json: false } : c));
  const names = cols.map((c) => c.name).join(', ');
  const per = Math.max(1, Math.floor(MAX_PARAMS / cols.length));
  const out: unknown[] = [];
  for (let i = 0; i < rows.length; i += per) {
    const batch = rows.slice(i, i + per);
    const params: unknown[] = [];
    const tuples: string[] = [];
    for (const row of batch) {
      const marks: string[] = [];
      for (const c of cols) {
        const v = row[c.name];
        params.push(v === undefined || v === null ? null : c.json ? JSON.stringify(v) : v);
        marks.push(`$${params.length}`);
      }
      tuples.push(`(${marks.join(', ')})`);
    }
    const r = await q.query(`insert into ${table} (${names}) values ${tuples.join(', ')} ${tail}`, params);
    if (Array.isArray(r)) out.push(...r);
  }
  return out;
}
