import type { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingMigrations } from '@csms/messaging';

/**
 * - station_state: the session decider's state, one row per station (the key of ocpp.inbound), so a
 *   station's records fold in order under a row lock while stations run in parallel.
 * - sessions: the read model behind the REST API (latest public payload of each session).
 */
export class SessionTables1764300000000 implements MigrationInterface {
  name = 'SessionTables1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table station_state (
        station_id   text primary key,
        state        jsonb       not null,
        last_event   timestamptz,
        records      bigint      not null default 0
      )`);
    await q.query(`
      create table sessions (
        session_id     uuid primary key,
        station_id     text        not null,
        transaction_id text        not null,
        protocol       text        not null,
        evse_id        integer,
        connector_id   integer,
        id_token       text,
        status         text        not null,
        started_at     timestamptz not null,
        ended_at       timestamptz,
        energy_wh      numeric,
        revision       integer     not null default 0,
        needs_review   boolean     not null default false,
        started        jsonb,
        latest         jsonb,
        ended          jsonb
      )`);
    await q.query('create index sessions_station on sessions (station_id, started_at, session_id)');
    await q.query('create index sessions_token on sessions (id_token, started_at, session_id)');
    await q.query('create index sessions_started on sessions (started_at, session_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table sessions');
    await q.query('drop table station_state');
  }
}

/**
 * The full detail of every session, written as it is folded, behind GET /api/v1/sessions/{id}/readings and
 * /sources (session.ended v2 carries a bounded summary of them):
 * - session_readings: every meter sample the decider applied to a session (the normalised samples, with the
 *   inbound record that carried them), listed in station time;
 * - session_sources: every inbound record the session used, listed in log order (topic, partition, offset):
 *   the records session.ended's source ranges count and hash.
 */
export class SessionDetailTables1764900000000 implements MigrationInterface {
  name = 'SessionDetailTables1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table session_readings (
        session_id       uuid        not null,
        event_id         text        not null,
        occurred_at      timestamptz not null,
        received_at      timestamptz not null,
        source_event_id  text        not null,
        source_topic     text,
        source_partition integer,
        source_offset    bigint,
        samples          jsonb       not null,
        primary key (session_id, event_id)
      )`);
    await q.query('create index session_readings_time on session_readings (session_id, occurred_at, event_id)');
    await q.query(`
      create table session_sources (
        session_id uuid    not null,
        event_id   text    not null,
        topic      text    not null,
        partition  integer not null,
        log_offset bigint  not null,
        primary key (session_id, event_id)
      )`);
    await q.query(
      'create index session_sources_log on session_sources (session_id, topic, partition, log_offset, event_id)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table session_sources');
    await q.query('drop table session_readings');
  }
}

/**
 * The decider state of a station stored so that a write costs the same whatever the length of its sessions
 * (`src/station-state.ts`): `station_state.state` becomes the small head, `station_state_parts` holds the full
 * chunks of the open sessions' lists (written once) and the closed sessions (written when they change);
 * `token` marks which write (of which process) the row holds, so an instance can trust its in-memory copy.
 * A row in the older form (the whole state) is still read; the next write stores it in the new form.
 */
export class StationStateParts1765000000000 implements MigrationInterface {
  name = 'StationStateParts1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table station_state add column token text');
    await q.query(`
      create table station_state_parts (
        station_id text    not null,
        session_id text    not null,
        list       text    not null,
        idx        integer not null,
        items      jsonb   not null,
        primary key (station_id, session_id, list, idx)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table station_state_parts');
    await q.query('alter table station_state drop column token');
  }
}

/**
 * The station heads are rewritten after every chunk that touched the station: from a few thousand stations on, about
 * once per inbound record (README, cost curve). A head of 2–3 KB is past the size from which PostgreSQL compresses a
 * row's jsonb (pglz at every write, decompression at every read); `toast_tuple_target` keeps heads up to 8 KB inline
 * and uncompressed. `fillfactor` leaves room on each page for the row's next version, so that an update can be HOT
 * (no new primary-key entry, the old version pruned in place). Rows written before keep their form until their next
 * write.
 */
export class StationHeadStorage1765200000000 implements MigrationInterface {
  name = 'StationHeadStorage1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table station_state set (fillfactor = 50, toast_tuple_target = 8160)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table station_state reset (fillfactor, toast_tuple_target)');
  }
}

/**
 * The detail tables keyed in the order rows arrive in. Their primary keys were (session_id, event_id), a UUID v5 that
 * puts each new row of a session at a random place among the session's rows: every insert touched another leaf page,
 * and the pages touched by the open sessions outgrew the buffer cache as the sessions grew (the session service's
 * PostgreSQL CPU per record rose from 0.15 to 0.22 ms over the sessions of the long-session bench). The keys are now
 * the columns of each table's second index, which the API reads by and which grow at their end per session (station
 * time; log position), with the event id last: still unique (a reading's event id, a record's log position, are
 * its own), so a replay's rows still conflict and are kept as they were. One index per table instead of two.
 */
export class SessionDetailKeysInOrder1765300000000 implements MigrationInterface {
  name = 'SessionDetailKeysInOrder1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table session_readings drop constraint session_readings_pkey');
    await q.query('alter table session_readings add primary key (session_id, occurred_at, event_id)');
    await q.query('drop index session_readings_time');
    await q.query('alter table session_sources drop constraint session_sources_pkey');
    await q.query('alter table session_sources add primary key (session_id, topic, partition, log_offset, event_id)');
    await q.query('drop index session_sources_log');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'create index session_sources_log on session_sources (session_id, topic, partition, log_offset, event_id)',
    );
    await q.query('alter table session_sources drop constraint session_sources_pkey');
    await q.query('alter table session_sources add primary key (session_id, event_id)');
    await q.query('create index session_readings_time on session_readings (session_id, occurred_at, event_id)');
    await q.query('alter table session_readings drop constraint session_readings_pkey');
    await q.query('alter table session_readings add primary key (session_id, event_id)');
  }
}

export const sessionServiceMigrations = [
  ...messagingMigrations,
  SessionTables1764300000000,
  SessionDetailTables1764900000000,
  StationStateParts1765000000000,
  StationHeadStorage1765200000000,
  SessionDetailKeysInOrder1765300000000,
];
