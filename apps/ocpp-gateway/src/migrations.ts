import type { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingMigrations } from '@csms/messaging';

export class GatewayRegistry1764300000000 implements MigrationInterface {
  name = 'GatewayRegistry1764300000000';
  async up(q: QueryRunner): Promise<void> {
    // registry revisions are drawn from one sequence: they grow across deletes and re-creates, so a
    // gateway's cache can always tell the newer state of a key
    await q.query('create sequence registry_revision_seq as bigint');
    await q.query(`
      create table stations (
        station_id text primary key,
        security_profile smallint not null check (security_profile between 1 and 3),
        password_hash text,
        certificate_cn text,
        site_id text,
        time_zone text not null,
        evses jsonb not null default '[]',
        enabled boolean not null default true,
        revision bigint not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await q.query(`
      create table id_tokens (
        uid text primary key,
        type text not null,
        status text not null,
        expires_at timestamptz,
        group_id text,
        billing_account_id text,
        revision bigint not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table id_tokens');
    await q.query('drop table stations');
    await q.query('drop sequence registry_revision_seq');
  }
}

/**
 * OCPP 1.6 transactionIds: one row per StartTransaction identity (unique), numbered by a sequence that
 * stays inside a signed 32-bit int. Unique across gateway instances (one database) and restarts.
 */
export class Ocpp16TransactionIds1764300000001 implements MigrationInterface {
  name = 'Ocpp16TransactionIds1764300000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query('create sequence ocpp16_transaction_id_seq as integer minvalue 1 maxvalue 2147483647 no cycle');
    await q.query(`
      create table ocpp16_transactions (
        identity uuid primary key,
        transaction_id integer not null unique default nextval('ocpp16_transaction_id_seq'),
        station_id text not null,
        created_at timestamptz not null default now()
      )`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table ocpp16_transactions');
    await q.query('drop sequence ocpp16_transaction_id_seq');
  }
}

/**
 * Remote commands: which instance holds each station's connection (shared by the instances of one
 * deployment), and every command with its result (readable through the API).
 */
export class GatewayCommands1764300000002 implements MigrationInterface {
  name = 'GatewayCommands1764300000002';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table station_presence (
        station_id text primary key,
        instance text not null,
        connection_id uuid not null,
        connected_at timestamptz not null
      )`);
    await q.query('create index station_presence_instance on station_presence (instance)');
    await q.query(`
      create table commands (
        command_id uuid primary key,
        station_id text not null,
        action text not null,
        payload jsonb not null,
        requested_at timestamptz not null,
        expires_at timestamptz not null,
        requested_by text,
        status text not null default 'pending',
        result jsonb,
        completed_at timestamptz
      )`);
    await q.query('create index commands_station on commands (station_id, requested_at)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table commands');
    await q.query('drop table station_presence');
  }
}

/**
 * Station locations (OCPI-shaped, what a CDR's cdr_location needs). Null for stations registered before:
 * they keep working and their CDRs are flagged LOCATION_INCOMPLETE until a location is registered. The OCPI
 * connector fields live in the existing `evses` jsonb.
 */
export class GatewayStationLocation1764300000100 implements MigrationInterface {
  name = 'GatewayStationLocation1764300000100';
  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table stations add column location jsonb');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table stations drop column location');
  }
}

/**
 * At-most-once delivery of commands: the dispatch of a command (when, by which instance, until when its answer
 * is due) is committed before the frame goes to the station; a command re-read after a crash finds it and is
 * completed `interrupted` instead of being sent again.
 */
export class GatewayCommandDispatch1764300000200 implements MigrationInterface {
  name = 'GatewayCommandDispatch1764300000200';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      alter table commands
        add column dispatched_at timestamptz,
        add column dispatched_by text,
        add column dispatched_protocol text,
        add column answer_due timestamptz`);
    await q.query(
      `create index commands_unanswered on commands (answer_due) where status = 'pending' and dispatched_at is not null`,
    );
    await q.query(
      `create index commands_unsent on commands (expires_at) where status = 'pending' and dispatched_at is null`,
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop index commands_unsent');
    await q.query('drop index commands_unanswered');
    await q.query(
      'alter table commands drop column answer_due, drop column dispatched_protocol, drop column dispatched_by, drop column dispatched_at',
    );
  }
}

/**
 * Who wrote: the API key (its configured name and role, never the key or its hash) of the last write of a
 * station or token, and of the request of a command. Null for rows written before, and for a station whose
 * last change was a connector it reported itself (no key did it).
 */
export class GatewayWrittenBy1764300000300 implements MigrationInterface {
  name = 'GatewayWrittenBy1764300000300';
  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table stations add column updated_by text, add column updated_by_role text');
    await q.query('alter table id_tokens add column updated_by text, add column updated_by_role text');
    await q.query('alter table commands add column requested_by_role text');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table commands drop column requested_by_role');
    await q.query('alter table id_tokens drop column updated_by_role, drop column updated_by');
    await q.query('alter table stations drop column updated_by_role, drop column updated_by');
  }
}

/**
 * The credential revision of a station: the station revision at which its password was last set (0 for rows
 * from before, which `registry.station_registered` v3 upcast from older records also says). Gateway instances
 * re-read the row when an event carries a newer one: the hash itself is never on the topic.
 */
export class GatewayCredentialRevision1764300000400 implements MigrationInterface {
  name = 'GatewayCredentialRevision1764300000400';
  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table stations add column credential_revision bigint not null default 0');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table stations drop column credential_revision');
  }
}

export const gatewayMigrations = [
  ...messagingMigrations,
  GatewayRegistry1764300000000,
  Ocpp16TransactionIds1764300000001,
  GatewayCommands1764300000002,
  GatewayStationLocation1764300000100,
  GatewayCommandDispatch1764300000200,
  GatewayWrittenBy1764300000300,
  GatewayCredentialRevision1764300000400,
];
