import type { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingMigrations } from '@csms/messaging';

/** Station monitoring read model: one view per station, and every alarm (open and closed). */
export class MonitoringTables1764500000000 implements MigrationInterface {
  name = 'MonitoringTables1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table station_monitor (
        station_id      text primary key,
        online          boolean     not null,
        last_message_at timestamptz,
        view            jsonb       not null
      )`);
    await q.query('create index station_monitor_online on station_monitor (online, station_id)');
    await q.query(`
      create table alarms (
        alarm_id     uuid primary key,
        station_id   text        not null,
        kind         text        not null,
        evse_id      integer,
        connector_id integer,
        code         text        not null,
        detail       text        not null,
        opened_at    timestamptz not null,
        opened_by    text        not null,
        closed_at    timestamptz,
        closed_by    text
      )`);
    await q.query('create index alarms_open on alarms (station_id, opened_at) where closed_at is null');
    await q.query('create index alarms_opened on alarms (opened_at, alarm_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table alarms');
    await q.query('drop table station_monitor');
  }
}

/**
 * Operator acknowledgements, as read from monitoring.events. Kept apart from the alarms so that an
 * acknowledgement read before its alarm was opened (a rebuild reads ocpp.inbound and monitoring.events in no
 * fixed order between them) closes the alarm the moment it opens.
 */
export class AlarmAcknowledgements1764500000001 implements MigrationInterface {
  name = 'AlarmAcknowledgements1764500000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table alarm_acknowledgements (
        alarm_id        uuid primary key,
        station_id      text        not null,
        acknowledged_at timestamptz not null,
        acknowledged_by text        not null
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table alarm_acknowledgements');
  }
}

export const reportingServiceMigrations = [...messagingMigrations, MonitoringTables1764500000000, AlarmAcknowledgements1764500000001];
