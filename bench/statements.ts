import type { Client } from 'pg';

/**
 * The statements PostgreSQL ran, from `pg_stat_statements` (needs `shared_preload_libraries = 'pg_stat_statements'`
 * in postgresql.conf; `resetStatements` creates the extension): what a benchmark's phase costs in statements per unit
 * of work, found by database. Diagnosis only: the figures a benchmark prints do not depend on it.
 */
export async function resetStatements(c: Client): Promise<void> {
  await c.query('create extension if not exists pg_stat_statements');
  await c.query('select pg_stat_statements_reset()');
}

/**
 * Prints, for each database named (name -> label), the statements run since `resetStatements` per `per` units of work
 * (calls, rows, PostgreSQL's execution ms; lock waits count as execution), the most called first, and the totals.
 */
export async function printStatements(
  c: Client,
  databases: ReadonlyMap<string, string>,
  per: number,
  unit: string,
  top = 25,
): Promise<void> {
  const f = (n: number) => (n / per).toFixed(3);
  for (const [db, label] of databases) {
    const { rows } = await c.query<{ calls: string; rows: string; ms: number; query: string }>(
      `select s.calls, s.rows, s.total_exec_time as ms, s.query from pg_stat_statements s
         join pg_database d on d.oid = s.dbid where d.datname = $1 and s.query not like '%pg_stat%'
        order by s.calls desc`,
      [db],
    );
    const calls = rows.reduce((n, r) => n + Number(r.calls), 0);
    const ms = rows.reduce((n, r) => n + r.ms, 0);
    console.log(
      `${label}: ${f(calls)} statements, ${f(ms)} ms of execution per ${unit} (calls / rows / exec ms per ${unit}):`,
    );
    for (const r of rows.slice(0, top))
      console.log(
        `  ${f(Number(r.calls))}\t${f(Number(r.rows))}\t${f(r.ms)}\t${r.query.replace(/\s+/g, ' ').slice(0, 140)}`,
      );
  }
}
