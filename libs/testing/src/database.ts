import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { openDatabase, type Migrations } from '@csms/platform';
import { TEST_DATABASE_URL } from './env';

let counter = 0;

export interface TestDatabase {
  url: string;
  name: string;
  dataSource: DataSource;
  /** closes the pool and drops the database */
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: withDatabase(TEST_DATABASE_URL, 'postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * A database of its own for one test suite (created here, migrated like a service does at start-up,
 * dropped by `drop()`), so suites run in parallel without seeing each other's rows.
 */
export async function createTestDatabase(label: string, migrations: Migrations): Promise<TestDatabase> {
  const name = `csms_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${++counter}`;
  await admin((c) =>
    c.query(`drop database if exists "${name}" with (force)`).then(() => c.query(`create database "${name}"`)),
  );
  const url = withDatabase(TEST_DATABASE_URL, name);
  const dataSource = await openDatabase({ url, migrations, poolSize: 5, applicationName: `test-${label}` });
  return {
    url,
    name,
    dataSource,
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await admin((c) => c.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

/** DATABASE_URL of a database named `name` on the test server (services create it themselves at start-up). */
export function testDatabaseUrl(name: string): string {
  return withDatabase(TEST_DATABASE_URL, name);
}

/** Drops databases the tests' services created. */
export async function dropTestDatabases(names: Iterable<string>): Promise<void> {
  await admin(async (c) => {
    for (const name of names) await c.query(`drop database if exists "${name}" with (force)`);
  });
}
