import type { EntityManager } from 'typeorm';
import type { OcppMessageReceived } from '@csms/contracts';
import type { EventHandler } from '@csms/messaging';
import { applyChargerEvent, emptyView, type Alarm, type StationView } from '@csms/monitoring';
import { normalise, type OcppInboundRecord } from '@csms/ocpp-normaliser';

export async function loadView(m: EntityManager, stationId: string): Promise<StationView | undefined> {
  const rows: Array<{ view: StationView }> = await m.query('select view from station_monitor where station_id = $1 for update', [stationId]);
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
      [a.alarmId, a.stationId, a.kind, a.evseId ?? null, a.connectorId ?? null, a.code, a.detail, a.openedAt, a.openedBy],
    );
  }
  for (const a of closed) await m.query('update alarms set closed_at = $2, closed_by = $3 where alarm_id = $1 and closed_at is null', [a.alarmId, a.closedAt, a.closedBy]);
}

/** Folds each inbound record into its station's monitoring view and alarms. */
export const monitoringHandler: EventHandler = async (event, ctx) => {
  const record = (event as OcppMessageReceived).payload as OcppInboundRecord;
  const res = normalise(record, { eventId: event.id, topic: ctx.position.topic, partition: ctx.position.partition, offset: ctx.position.offset });
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
  if (res.events.length === 0 && record.kind === 'call') {
    // a Heartbeat, an Authorize, a DataTransfer: no charger event, but a sign of life
    const at = new Date(record.receivedAt).toISOString();
    const newer = view.lastMessageAt === undefined || Date.parse(at) > Date.parse(view.lastMessageAt);
    view = { ...view, online: true, lastMessageAt: newer ? at : view.lastMessageAt };
  }
  await saveView(ctx.manager, view);
  await saveAlarms(ctx.manager, opened, closed);
};
