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

/**
 * dead_letters: the records a consumer parked (also on `dlq.<group>`), so that they can be counted, listed and
 * re-driven after the cause is fixed. One row per source position (group, topic, partition, offset); `status`
 * is `parked` until a re-drive applies it (`redriven`). `seq` is the parking order.
 */
export class DeadLetters1764200000100 implements MigrationInterface {
  name = 'DeadLetters1764200000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table dead_letters (
        id                 uuid        primary key,
        seq                bigserial   not null unique,
        consumer           text        not null,
        topic              text        not null,
        partition          integer     not null,
        "offset"           bigint      not null,
        event_id           uuid,
        event_type         text,
        key                text,
        value              bytea       not null,
        error_code         text        not null,
        error_message      text        not null,
        attempts           integer     not null,
        parked_at          timestamptz not null default now(),
        status             text        not null default 'parked' check (status in ('parked', 'redriven')),
        redrive_attempts   integer     not null default 0,
        last_redrive_at    timestamptz,
        redriven_at        timestamptz,
        redrive_outcome    text,
        unique (consumer, topic, partition, "offset")
      )`);
    await q.query(`create index dead_letters_open on dead_letters (consumer) where status = 'parked'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table dead_letters');
  }
}

/**
 * Outbox rows the broker refused for good (too large, invalid), moved aside by the relay so it carries on with the
 * rest: the row as it was (its original position too, so a re-send goes back to its place in its key's order),
 * the refusal, when, and how often it was re-sent. `state`: `parked` (its key's later rows are held in the outbox)
 * or `resent` (moved back into the outbox; kept as the record of what happened).
 */
export class ParkedOutbox1764900000000 implements MigrationInterface {
  name = 'ParkedOutbox1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table parked_outbox (
        event_id       uuid        primary key,
        position       bigint      not null,
        topic          text        not null,
        key            text        not null,
        value          text        not null,
        headers        jsonb       not null,
        created_at     timestamptz not null,
        state          text        not null default 'parked' check (state in ('parked', 'resent')),
        error_code     text        not null,
        error_message  text        not null,
        parked_at      timestamptz not null default now(),
        parks          integer     not null default 1,
        resends        integer     not null default 0,
        resent_at      timestamptz
      )`);
    await q.query(`create index parked_outbox_held on parked_outbox (topic, key) where state = 'parked'`);
    await q.query(`create unique index parked_outbox_position on parked_outbox (position)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table parked_outbox');
  }
}

/**
 * The inbox without its index by log position (consumer, topic, partition, offset): no statement of the services reads
 * the inbox by position (a redelivery is found by its event id, the primary key), yet every record a consumer applied
 * paid a second index entry — for the session and reporting services, one per inbound record. A look-up by position
 * (an operator's question, "which offset did this group apply last") is a scan; the group's committed offsets answer it
 * from Kafka.
 */
export class InboxWithoutPositionIndex1765500000000 implements MigrationInterface {
  name = 'InboxWithoutPositionIndex1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('drop index if exists inbox_position');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`create index if not exists inbox_position on inbox (consumer, topic, partition, "offset")`);
  }
}

/**
 * Bounding the inbox (ADR 0011, docs/adr/0011-inbox-retention.md).
 * - consumer_positions: per consumer and source partition, the offset after the last record the consumer handled
 *   (applied, found a duplicate of, or parked) and that record's event id. Written in the chunk's transaction; a
 *   record below it is a redelivery, dropped without asking the inbox.
 * - inbox.expires_at: set for the records of topics whose copies under the same event id can only come within a
 *   bounded time (ocpp.inbound: a station repeating a call on its connection); null = kept. The partial index
 *   finds the expired rows of a consumer in order, and costs a record of other topics nothing.
 * Existing inboxes: each consumer's position is seeded from its inbox (the highest offset per partition and its
 * event id), and the rows of `ocpp.inbound` expire seven days after they were applied.
 */
export class InboxRetention1765600000000 implements MigrationInterface {
  name = 'InboxRetention1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table consumer_positions (
        consumer       text        not null,
        topic          text        not null,
        partition      integer     not null,
        next_offset    bigint      not null,
        last_event_id  uuid,
        updated_at     timestamptz not null default now(),
        primary key (consumer, topic, partition)
      )`);
    await q.query(`
      insert into consumer_positions (consumer, topic, partition, next_offset, last_event_id)
      select distinct on (consumer, topic, partition) consumer, topic, partition, "offset" + 1, event_id
      from inbox order by consumer, topic, partition, "offset" desc`);
    await q.query('alter table inbox add column expires_at timestamptz');
    await q.query(`update inbox set expires_at = applied_at + interval '7 days' where topic = 'ocpp.inbound'`);
    await q.query('create index inbox_expiry on inbox (consumer, expires_at) where expires_at is not null');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop index if exists inbox_expiry');
    await q.query('alter table inbox drop column expires_at');
    await q.query('drop table consumer_positions');
  }
}

export const messagingMigrations = [
  MessagingTables1764200000000,
  DeadLetters1764200000100,
  ParkedOutbox1764900000000,
  InboxWithoutPositionIndex1765500000000,
  InboxRetention1765600000000,
];
