import type { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingMigrations } from '@csms/messaging';
import { useLz4Compression } from '@csms/platform';

/**
 * The tariff service's tables. The catalogue (tariff_versions, tariff_assignments) and the registry
 * copies (stations, tokens) are projections of tariff.events and the registry topics, so a rebuild
 * from the topics gives them back; cdrs and pricing_failures are what it derived from session.events.
 */
export class TariffTables1764400000000 implements MigrationInterface {
  name = 'TariffTables1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table tariff_versions (
        tariff_id      text        not null,
        version        integer     not null,
        effective_from timestamptz not null,
        published_at   timestamptz not null,
        content_hash   text        not null,
        tariff         jsonb       not null,
        primary key (tariff_id, version)
      )`);
    await q.query(`
      create table tariff_assignments (
        assignment_id  text primary key,
        tariff_id      text        not null,
        scope          jsonb       not null,
        effective_from timestamptz not null,
        set_at         timestamptz not null,
        sequence       integer     not null unique,
        removed        boolean     not null
      )`);
    await q.query(
      `create table stations (station_id text primary key, site_id text, time_zone text not null, revision integer not null)`,
    );
    await q.query(
      `create table tokens (uid text primary key, group_id text, billing_account_id text, revision integer not null)`,
    );
    await q.query(`
      create table priced_sessions (
        session_id  uuid        not null,
        revision    integer     not null,
        station_id  text        not null,
        site_id     text,
        started_at  timestamptz not null,
        ended_at    timestamptz not null,
        session     jsonb       not null,
        source      jsonb       not null,
        outcome     text        not null,
        primary key (session_id, revision)
      )`);
    await q.query('create index priced_sessions_station on priced_sessions (station_id, started_at)');
    await q.query('create index priced_sessions_site on priced_sessions (site_id, started_at)');
    await q.query(`
      create table cdrs (
        cdr_id         text primary key,
        session_id     uuid        not null,
        revision       integer     not null,
        station_id     text        not null,
        token_uid      text,
        start_at       timestamptz not null,
        end_at         timestamptz not null,
        currency       text        not null,
        total_excl_vat numeric     not null,
        total_incl_vat numeric     not null,
        credit         boolean     not null,
        credit_reference_id text,
        tariff_id      text        not null,
        tariff_version integer     not null,
        content_hash   text        not null,
        cdr            jsonb       not null,
        audit          jsonb       not null
      )`);
    await q.query('create index cdrs_session on cdrs (session_id, revision)');
    await q.query('create index cdrs_start on cdrs (start_at, cdr_id)');
    await q.query('create index cdrs_station on cdrs (station_id, start_at, cdr_id)');
    await q.query('create index cdrs_token on cdrs (token_uid, start_at, cdr_id)');
    await q.query(`
      create table pricing_failures (
        session_id uuid    not null,
        revision   integer not null,
        station_id text    not null,
        code       text    not null,
        detail     text    not null,
        field      text,
        ended_at   timestamptz not null,
        primary key (session_id, revision)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'pricing_failures',
      'cdrs',
      'priced_sessions',
      'tokens',
      'stations',
      'tariff_assignments',
      'tariff_versions',
    ])
      await q.query(`drop table ${t}`);
  }
}

/**
 * The registry copy keeps what a CDR's cdr_location needs: the station's location (OCPI-shaped, null when none
 * is registered) and its EVSEs with their connectors' OCPI standard, format and power type.
 */
export class TariffStationLocation1764400000100 implements MigrationInterface {
  name = 'TariffStationLocation1764400000100';
  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table stations add column location jsonb');
    await q.query(`alter table stations add column evses jsonb not null default '[]'`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table stations drop column evses');
    await q.query('alter table stations drop column location');
  }
}

/**
 * Who published a tariff version and who set an assignment: the API key's name and role (from the v2 events).
 * Null for records written before (v1, upcast with no writer).
 */
export class TariffWrittenBy1764400000200 implements MigrationInterface {
  name = 'TariffWrittenBy1764400000200';
  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table tariff_versions add column published_by text, add column published_by_role text');
    await q.query('alter table tariff_assignments add column set_by text, add column set_by_role text');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table tariff_assignments drop column set_by_role, drop column set_by');
    await q.query('alter table tariff_versions drop column published_by_role, drop column published_by');
  }
}

/**
 * The billing account that pays each CDR (cdr.created v3 `billingAccountId`; a credit CDR: the account its CDR was
 * billed to). CDRs written before: read back from the CDR as the v2 -> v3 upcaster does (its cdr_token.contract_id
 * when that is not the token uid; else null).
 */
export class TariffCdrBillingAccount1764400000300 implements MigrationInterface {
  name = 'TariffCdrBillingAccount1764400000300';
  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table cdrs add column billing_account_id text');
    await q.query(
      `update cdrs set billing_account_id = cdr->'cdr_token'->>'contract_id' where cdr->'cdr_token'->>'contract_id' <> cdr->'cdr_token'->>'uid'`,
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table cdrs drop column billing_account_id');
  }
}

/**
 * The meter keys operators confirmed and the signed-meter-value policies (projections of meter.key_set and
 * meter.signature_policy_set on tariff.events): every write kept, with who made it, like the catalogue.
 */
export class TariffMeterKeys1764400000400 implements MigrationInterface {
  name = 'TariffMeterKeys1764400000400';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table meter_keys (
        sequence     integer     primary key,
        key_id       text        not null,
        station_id   text        not null,
        evse_id      integer     not null,
        public_key   text        not null,
        meter_serial text,
        valid_from   timestamptz not null,
        status       text        not null,
        set_at       timestamptz not null,
        set_by       text,
        set_by_role  text
      )`);
    await q.query('create index meter_keys_station on meter_keys (station_id, evse_id)');
    await q.query(`
      create table signature_policies (
        sequence          integer     primary key,
        scope             jsonb       not null,
        invalid_signature text        not null,
        trust_station_keys boolean    not null,
        set_at            timestamptz not null,
        set_by            text,
        set_by_role       text
      )`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table signature_policies');
    await q.query('drop table meter_keys');
  }
}

/** The running sessions (libs/billing RunningSession as jsonb): the running-cost consumer's state, one row per session. */
export class TariffRunningSessions1764400000500 implements MigrationInterface {
  name = 'TariffRunningSessions1764400000500';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table running_sessions (
        session_id text        primary key,
        state      jsonb       not null,
        ended      boolean     not null default false
      )`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table running_sessions');
  }
}

/**
 * The large columns compressed with lz4 (`useLz4Compression`, libs/platform): each CDR writes them (the outbox value
 * is compressed once and read back once, by the relay, when it is not published from memory).
 */
export class TariffLz41765200000100 implements MigrationInterface {
  name = 'TariffLz41765200000100';
  private readonly columns = [
    ['outbox', 'value'],
    ['priced_sessions', 'session'],
    ['cdrs', 'cdr'],
    ['cdrs', 'audit'],
    ['running_sessions', 'state'],
  ] as const;
  async up(q: QueryRunner): Promise<void> {
    await useLz4Compression(q, this.columns);
  }
  async down(q: QueryRunner): Promise<void> {
    for (const [t, c] of this.columns) await q.query(`alter table ${t} alter column ${c} set compression default`);
  }
}

/**
 * The catalogue's revision: one row, one more for every transaction that adds a tariff version or an assignment
 * (both tables are append-only). A pricing chunk reads it and reuses the catalogue it read last while it is the same,
 * instead of reading and parsing every version of every tariff again.
 */
export class TariffCatalogueRevision1765600000100 implements MigrationInterface {
  name = 'TariffCatalogueRevision1765600000100';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table catalogue_revision (
        id        smallint primary key default 1 check (id = 1),
        revision  bigint   not null
      )`);
    await q.query('insert into catalogue_revision (id, revision) values (1, 0)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table catalogue_revision');
  }
}

export const tariffServiceMigrations = [
  ...messagingMigrations,
  TariffTables1764400000000,
  TariffStationLocation1764400000100,
  TariffWrittenBy1764400000200,
  TariffCdrBillingAccount1764400000300,
  TariffMeterKeys1764400000400,
  TariffRunningSessions1764400000500,
  TariffLz41765200000100,
  TariffCatalogueRevision1765600000100,
];
