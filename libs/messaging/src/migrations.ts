import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox and the inbox of a service's database (docs/architecture.md rule 3).
 * - outbox: events a transaction will emit, in commit order per key (position), until the relay publishes them.
 * - inbox: the ids of the events a consumer has applied, written in the same transaction as the state change.
 */
export class MessagingTables1764200000000 implements MigrationInterface {
  name = 'MessagingTables1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table outbox (
        position    bigserial primary key,
        event_id    uuid        not null unique,
        topic       text        not null,
        key         text        not null,
        value       text        not null,
        headers     jsonb       not null default '{}'::jsonb,
        created_at  timestamptz not null default now()
      )`);
    await q.query(`
      create table inbox (
        consumer    text        not null,
        event_id    uuid        not null,
        topic       text        not null,
        partition   integer     not null,
        "offset"    bigint      not null,
        applied_at  timestamptz not null default now(),
        primary key (consumer, event_id)
      )`);
    await q.query(`create index inbox_position on inbox (consumer, topic, partition, "offset")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table inbox');
    await q.query('drop table outbox');
  }
}

export const messagingMigrations = [MessagingTables1764200000000];
