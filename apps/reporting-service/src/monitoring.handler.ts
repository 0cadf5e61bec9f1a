import type { EntityManager } from 'typeorm';
import type { AlarmAcknowledged, MaintenanceDeclared, OcppMessageReceived } from '@csms/contracts';
import { statusFactsOf, type StatusFact } from '@csms/finance';
import type { ChunkEndHook, ChunkStartHook, EventHandler, HandlerContext } from '@csms/messaging';
import { acknowledge, applyChargerEvent, emptyView, type Alarm, type StationView } from '@csms/monitoring';
import { normalise, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { applyMaintenanceDeclared, saveStatusFacts } from './finance.handler';

/** The stations' views, locked, read in one statement (sorted: two chunks lock in the same order). */
export async function loadViews(m: EntityManager, stationIds: readonly string[]): Promise<Map<string, StationView>> {
  const ids = [...new Set(stationIds)].sort();
  if (ids.length === 0) return new Map();
  const rows: Array<{ station_id: string; view: StationView }> = await m.query(
    'select station_id, view from station_monitor where station_id = any($1::text[]) order by station_id for update',
    [ids],
  );
  return new Map(rows.map((r) => [r.station_id, r.view]));
}

/** The views, written in one statement. */
export async function saveViews(m: EntityManager, views: readonly StationView[]): Promise<void> {
  if (views.length === 0) return;
  await m.query(
    `insert into station_monitor (station_id, online, last_message_at, view)
     select * from unnest($1::text[], $2::boolean[], $3::timestamptz[], $4::jsonb[])
     on conflict (station_id) do update set online = excluded.online, last_message_at = excluded.last_message_at, view = excluded.view`,
    [
      views.map((v) => v.stationId),
      views.map((v) => v.online),
      views.map((v) => v.lastMessageAt ?? null),
      views.map((v) => JSON.stringify(v)),
    ],
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
 * What a chunk transaction folds in memory and writes once at its end (`onMonitoringChunkEnd`): each station's view
 * (read at the chunk's start, `onMonitoringChunkStart`), the status facts, the alarms opened and closed in order.
 * A MeterValues changes only its station's `lastMessageAt`: a chunk of them costs one read and one write of each
 * station's view, not one of each per record.
 */
interface MonitoringChunk {
  views: Map<string, { view: StationView; dirty: boolean }>;
  facts: StatusFact[];
  opened: Alarm[];
  closed: Alarm[];
}
const CHUNK = 'monitoring.chunk';

function chunkOf(scratch: Map<string, unknown>): MonitoringChunk {
  let c = scratch.get(CHUNK) as MonitoringChunk | undefined;
  if (!c) {
    c = { views: new Map(), facts: [], opened: [], closed: [] };
    scratch.set(CHUNK, c);
  }
  return c;
}

/** the station's view as of this point of the chunk (read and locked now if the chunk's start did not) */
async function viewOf(ctx: Pick<HandlerContext, 'manager' | 'scratch'>, stationId: string) {
  const c = chunkOf(ctx.scratch);
  let v = c.views.get(stationId);
  if (!v) {
    const loaded = (await loadViews(ctx.manager, [stationId])).get(stationId);
    v = { view: loaded ?? emptyView(stationId), dirty: false };
    c.views.set(stationId, v);
  }
  return v;
}

const stationOf = (e: { type: string; payload: unknown }): string | undefined =>
  e.type === 'ocpp.message_received'
    ? (e.payload as OcppInboundRecord).stationId
    : e.type === 'monitoring.alarm_acknowledged'
      ? (e.payload as Acknowledgement).stationId
      : undefined;

/** Reads (and locks) the views of every station of the chunk in one statement. */
export const onMonitoringChunkStart: ChunkStartHook = async ({ manager, scratch, events }) => {
  const ids = events.map(stationOf).filter((id): id is string => id !== undefined);
  const loaded = await loadViews(manager, ids);
  const c = chunkOf(scratch);
  for (const id of new Set(ids)) c.views.set(id, { view: loaded.get(id) ?? emptyView(id), dirty: false });
};

/** Writes what the chunk folded: the status facts, the changed views, then the alarms opened and closed. */
export const onMonitoringChunkEnd: ChunkEndHook = async ({ manager, scratch }) => {
  const c = scratch.get(CHUNK) as MonitoringChunk | undefined;
  if (!c) return;
  await saveStatusFacts(manager, c.facts);
  await saveViews(
    manager,
    [...c.views.values()].filter((v) => v.dirty).map((v) => v.view),
  );
  await saveAlarms(manager, c.opened, c.closed);
  scratch.delete(CHUNK);
};

/**
 * Records an operator's acknowledgement and closes the alarm if it is open (if it is not open yet, it is
 * closed when it opens; if it has closed already, nothing changes). Idempotent.
 */
async function foldAcknowledgement(
  ctx: Pick<HandlerContext, 'manager' | 'scratch'>,
  ack: Acknowledgement,
): Promise<void> {
  await ctx.manager.query(
    `insert into alarm_acknowledgements (alarm_id, station_id, acknowledged_at, acknowledged_by, acknowledged_by_role) values ($1, $2, $3, $4, $5)
     on conflict (alarm_id) do nothing`,
    [ack.alarmId, ack.stationId, ack.acknowledgedAt, ack.acknowledgedBy, ack.acknowledgedByRole],
  );
  const v = await viewOf(ctx, ack.stationId);
  const r = acknowledge(v.view, ack.alarmId, ack.acknowledgedAt, ack.acknowledgedBy);
  if (r.closed.length === 0) return;
  v.view = r.view;
  v.dirty = true;
  chunkOf(ctx.scratch).closed.push(...r.closed);
}

/** An acknowledgement applied outside a consumer chunk (the API's, in its own transaction), written at once. */
export async function applyAcknowledgement(m: EntityManager, ack: Acknowledgement): Promise<void> {
  const scratch = new Map<string, unknown>();
  await foldAcknowledgement({ manager: m, scratch }, ack);
  await onMonitoringChunkEnd({ manager: m, scratch, emit: () => undefined });
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
    return foldAcknowledgement(ctx, (event as AlarmAcknowledged).payload);
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
  const c = chunkOf(ctx.scratch);
  const v = await viewOf(ctx, record.stationId);
  let view = v.view;
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
  for (const [i, e] of res.events.entries()) c.facts.push(...statusFactsOf(e, offset, i));
  if (opened.length > 0) {
    // an acknowledgement read before its alarm opened (a rebuild reads the two topics in no fixed order)
    for (const ack of await acknowledgedAmong(ctx.manager, opened)) {
      const r = acknowledge(view, ack.alarmId, ack.acknowledgedAt, ack.acknowledgedBy);
      view = r.view;
      closed.push(...r.closed);
    }
  }
  v.view = view;
  v.dirty = true;
  c.opened.push(...opened);
  c.closed.push(...closed);
};
