import { DataSource, type DataSourceOptions } from 'typeorm';
import { Client } from 'pg';

/** TypeORM migration classes (schema changes are migrations, never `synchronize`). */
export type Migrations = NonNullable<DataSourceOptions['migrations']>;

export interface DatabaseOptions {
  url: string;
  /** TypeORM migration classes, run at start-up; schema changes are migrations, never `synchronize`. */
  migrations: Migrations;
  poolSize?: number;
  applicationName?: string;
}

export function createDataSource(opts: DatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    migrations: opts.migrations,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
    extra: { max: opts.poolSize ?? 10, application_name: opts.applicationName ?? 'csms' },
  });
}

/** Session-level advisory lock key held while migrations run (instances of one service share a database). */
const MIGRATION_LOCK = 7_000_001;

/**
 * Connects and runs pending migrations, each in its own transaction. Instances of a service started together
 * (two replicas on one database) take turns: the first runs the migrations under an advisory lock, the others
 * wait for it and then find nothing pending.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<DataSource> {
  const ds = createDataSource(opts);
  await ds.initialize();
  const lock = ds.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
  return ds;
}

/** Creates the database named in `url` when it does not exist (connects to the `postgres` database to do so). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} must be [A-Za-z0-9_]+`);
  u.pathname = '/postgres';
  const c = new Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const r = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (r.rowCount === 0) {
      await c.query(`create database "${name}"`).catch((e: { code?: string }) => {
        // created concurrently by another process (a replica starting at the same moment): PostgreSQL says so as
        // duplicate_database (42P04) or, when both inserts race into pg_database, as unique_violation (23505)
        if (e.code !== '42P04' && e.code !== '23505') throw e;
      });
    }
  } finally {
    await c.end();
  }
}

/**
 * Sets lz4 compression (instead of the default pglz) on large text / jsonb columns, for the values written from
 * now on: PostgreSQL compresses a row's values above ~2 KB, and pglz costs several times lz4's CPU to compress
 * and to read back (a CDR's jsonb, an outbox event written and read once, then deleted). Same values, same
 * results; only how they are stored changes. Nothing is done by a server built without lz4 (`pglz` stays).
 */
export async function useLz4Compression(
  q: { query(sql: string): Promise<unknown> },
  columns: ReadonlyArray<readonly [table: string, column: string]>,
): Promise<void> {
  const [row] = (await q.query(
    `select 'lz4' = any(enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`,
  )) as Array<{ lz4: boolean }>;
  if (!row?.lz4) return;
  for (const [table, column] of columns)
    await q.query(`alter table ${table} alter column ${column} set compression lz4`);
}
