/**
 * Two instances of one service started together on one (new) database: both run their migrations at start-up.
 * The advisory lock in `openDatabase` makes them take turns, so neither fails on a table the other created.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureDatabaseExists, openDatabase } from '@csms/platform';
import { dropTestDatabases, testDatabaseUrl } from '@csms/testing';
import { Client } from 'pg';

class CreateThings1700000000001 implements MigrationInterface {
  name = 'CreateThings1700000000001';
  async up(q: QueryRunner): Promise<void> {
    // no IF NOT EXISTS: a second run of this migration would fail
    await q.query('create table things (id int primary key)');
    await q.query('select pg_sleep(0.3)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table things');
  }
}

class AddColour1700000000002 implements MigrationInterface {
  name = 'AddColour1700000000002';
  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table things add column colour text');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table things drop column colour');
  }
}

describe('migrations of instances started together', () => {
  const name = `csms_test_migrations_${process.pid}`;
  const url = testDatabaseUrl(name);

  beforeAll(async () => {
    const c = new Client({ connectionString: testDatabaseUrl('postgres') });
    await c.connect();
    await c.query(`drop database if exists "${name}" with (force)`);
    await c.query(`create database "${name}"`);
    await c.end();
  });
  afterAll(() => dropTestDatabases([name]));

  it('runs each migration once when four instances start at the same moment', async () => {
    const migrations = [CreateThings1700000000001, AddColour1700000000002];
    const sources = await Promise.all(
      [1, 2, 3, 4].map((i) => openDatabase({ url, migrations, poolSize: 2, applicationName: `migrate-${i}` })),
    );
    try {
      const ran = (await sources[0].query('select name from schema_migrations order by id')) as Array<{ name: string }>;
      expect(ran.map((r) => r.name)).toEqual(['CreateThings1700000000001', 'AddColour1700000000002']);
      const cols = (await sources[1].query(
        "select column_name from information_schema.columns where table_name = 'things' order by ordinal_position",
      )) as Array<{ column_name: string }>;
      expect(cols.map((c) => c.column_name)).toEqual(['id', 'colour']);
      // the lock is released: a later instance starts without waiting and finds nothing pending
      const later = await openDatabase({ url, migrations, poolSize: 2 });
      expect(await later.showMigrations()).toBe(false);
      await later.destroy();
    } finally {
      await Promise.all(sources.map((s) => s.destroy()));
    }
  }, 60_000);
});

describe('a new database created by instances started together', () => {
  const name = `csms_test_create_race_${process.pid}`;
  afterAll(() => dropTestDatabases([name]));

  it('is created once and every instance goes on (no duplicate-database error)', async () => {
    for (let round = 0; round < 5; round++) {
      await dropTestDatabases([name]);
      await expect(
        Promise.all([1, 2, 3, 4, 5, 6].map(() => ensureDatabaseExists(testDatabaseUrl(name)))),
      ).resolves.toHaveLength(6);
    }
  }, 60_000);
});
