import type { EntityManager } from 'typeorm';
import type { AlarmAcknowledged, MaintenanceDeclared, OcppMessageReceived } from '@csms/contracts';
import { statusFactsOf } from '@csms/finance';
import type { EventHandler } from '@csms/messaging';
import { acknowledge, applyChargerEvent, emptyView, type Alarm, type StationView } from '@csms/monitoring';
import { normalise, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { applyMaintenanceDeclared, saveStatusFacts } from './finance.handler';

export async function loadView(m: EntityManager, stationId: string): Promise<StationView | undefined> {
  const rows: Array<{ view: StationView }> = await m.query(
    'select view from station_monitor where station_id = $1 for update',
    [stationId],
  );
  return rows[0]?.view;
}

export async function saveView(m: EntityManager, view: StationView): Promise<void> {
  await m.query(
    `insert into station_monitor (station_id, online, last_message_at, view) values ($1, $2, $3, $4)
     on conflict (station_id) do update set online = excluded.online, last_message_at = excluded.last_message_at, view = excluded.view`,
    [view.stationId, view.online, view.lastMessageAt ?? null, JSON.stringify(view)],
  );
}

export async function saveAlarms(m: EntityManager, opened: Alarm[], closed: Alarm[]): Promise<void> {
  for (const a of opened) {
    await m.query(
      `insert into alarms (alarm_id, station_id, kind, evse_id, connector_id, code, detail, opened_at, opened_by) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (alarm_id) do nothing`,
      [
        a.alarmId,
        a.stationId,
        a.kind,
        a.evseId ?? null,
        a.connectorId ?? null,
        a.code,
        a.detail,
        a.openedAt,
        a.openedBy,
      ],
    );
  }
  for (const a of closed)
    await m.query('update alarms set closed_at = $2, closed_by = $3 where alarm_id = $1 and closed_at is null', [
      a.alarmId,
      a.closedAt,
      a.closedBy,
    ]);
}

type Acknowledgement = AlarmAcknowledged['payload'];

/**
 * Records an operator's acknowledgement and closes the alarm if it is open (if it is not open yet, it is
 * closed when it opens; if it has closed already, nothing changes). Idempotent.
 */
export async function applyAcknowledgement(m: EntityManager, ack: Acknowledgement): Promise<void> {
  await m.query(
    `insert into alarm_acknowledgements (alarm_id, station_id, acknowledged_at, acknowledged_by, acknowledged_by_role) values ($1, $2, $3, $4, $5)
     on conflict (alarm_id) do nothing`,
    [ack.alarmId, ack.stationId, ack.acknowledgedAt, ack.acknowledgedBy, ack.acknowledgedByRole],
  );
  const view = await loadView(m, ack.stationId);
  if (!view) return;
  const r = acknowledge(view, ack.alarmId, ack.acknowledgedAt, ack.acknowledgedBy);
  if (r.closed.length === 0) return;
  await saveView(m, r.view);
  await saveAlarms(m, [], r.closed);
}

/** Alarms just opened that an operator has already acknowledged (read from monitoring.events first, in a rebuild). */
async function acknowledgedAmong(m: EntityManager, opened: Alarm[]): Promise<Acknowledgement[]> {
  if (opened.length === 0) return [];
  const rows: Array<{
    alarm_id: string;
    station_id: string;
    acknowledged_at: Date;
    acknowledged_by: string;
    acknowledged_by_role: Acknowledgement['acknowledgedByRole'];
  }> = await m.query(
    'select alarm_id, station_id, acknowledged_at, acknowledged_by, acknowledged_by_role from alarm_acknowledgements where alarm_id = any($1::uuid[])',
    [opened.map((a) => a.alarmId)],
  );
  return rows.map((r) => ({
    alarmId: r.alarm_id,
    stationId: r.station_id,
    acknowledgedAt: r.acknowledged_at.toISOString(),
    acknowledgedBy: r.acknowledged_by,
    acknowledgedByRole: r.acknowledged_by_role,
  }));
}

/**
 * Folds each inbound record into its station's monitoring view and alarms, and each operator
 * acknowledgement (monitoring.events) into the alarms.
 */
export const monitoringHandler: EventHandler = async (event, ctx) => {
  if (event.type === 'monitoring.alarm_acknowledged')
    return applyAcknowledgement(ctx.manager, (event as AlarmAcknowledged).payload);
  if (event.type === 'monitoring.maintenance_declared')
    return applyMaintenanceDeclared(ctx.manager, (event as MaintenanceDeclared).payload);
  const record = (event as OcppMessageReceived).payload as OcppInboundRecord;
  const res = normalise(record, {
    eventId: event.id,
    topic: ctx.position.topic,
    partition: ctx.position.partition,
    offset: ctx.position.offset,
  });
  if (!res.ok) throw res.error;
  let view = (await loadView(ctx.manager, record.stationId)) ?? emptyView(record.stationId);
  const opened: Alarm[] = [];
  const closed: Alarm[] = [];
  for (const e of res.events) {
    const r = applyChargerEvent(view, e);
    view = r.view;
    opened.push(...r.opened);
    closed.push(...r.closed);
  }
  if (res.events.length === 0 && (record.kind === 'call' || record.kind === 'rejected')) {
    // a Heartbeat, an Authorize, a DataTransfer, even a frame the gateway refused: no charger event, but a sign of life
    const at = new Date(record.receivedAt).toISOString();
    const newer = view.lastMessageAt === undefined || Date.parse(at) > Date.parse(view.lastMessageAt);
    view = { ...view, online: true, lastMessageAt: newer ? at : view.lastMessageAt };
  }
  // uptime and utilisation: the connectivity, status and charging facts, kept as a log per EVSE
  const offset = BigInt(ctx.position.offset);
  await saveStatusFacts(
    ctx.manager,
    res.events.flatMap((e, i) => statusFactsOf(e, offset, i)),
  );
  for (const ack of await acknowledgedAmong(ctx.manager, opened)) {
    const r = acknowledge(view, ack.alarmId, ack.acknowledgedAt, ack.acknowledgedBy);
    view = r.view;
    closed.push(...r.closed);
  }
  await saveView(ctx.manager, view);
  await saveAlarms(ctx.manager, opened, closed);
};
