import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import { AlarmAcknowledgedV2, deriveId, type EventCatalogue } from '@csms/contracts';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import type { StationView } from '@csms/monitoring';
import {
  Actor,
  ApiProblem,
  LIMIT_PATTERN,
  RequireRoles,
  UUID_PATTERN,
  actorLabel,
  keysetPage,
  validateInput,
  type ActorRef,
} from '@csms/service-kit';
import { applyAcknowledgement } from './monitoring.handler';

export const MONITORING_DEPS = Symbol('MONITORING_DEPS');
export interface MonitoringDeps {
  catalogue: EventCatalogue;
  relay: OutboxRelay;
  now: () => Date;
}

const StationsQuery = Type.Object(
  {
    online: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);
const AlarmsQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('all')])),
    stationId: Type.Optional(Type.String({ minLength: 1 })),
    kind: Type.Optional(
      Type.Union([Type.Literal('CONNECTOR_FAULTED'), Type.Literal('MONITORING_EVENT'), Type.Literal('SECURITY_EVENT')]),
    ),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

function summary(v: StationView) {
  return {
    stationId: v.stationId,
    online: v.online,
    lastMessageAt: v.lastMessageAt,
    protocol: v.protocol,
    vendor: v.vendor,
    model: v.model,
    firmwareVersion: v.firmwareVersion,
    connectedAt: v.connectedAt,
    disconnectedAt: v.disconnectedAt,
    disconnectReason: v.disconnectReason,
    connectors: Object.values(v.connectors).sort(
      (a, b) => (a.evseId ?? 0) - (b.evseId ?? 0) || a.connectorId - b.connectorId,
    ),
    firmware: v.firmware,
    diagnostics: v.diagnostics,
    openAlarms: v.openAlarms.length,
  };
}

interface AlarmRow {
  alarm_id: string;
  station_id: string;
  kind: string;
  evse_id: number | null;
  connector_id: number | null;
  code: string;
  detail: string;
  opened_at: Date;
  opened_by: string;
  closed_at: Date | null;
  closed_by: string | null;
  /** from alarm_acknowledgements (null: not acknowledged) */
  acknowledged_by: string | null;
  acknowledged_by_role: ActorRef['role'] | null;
}

/** the alarms with who acknowledged them (a table of the same columns as `alarms`, and the acknowledger) */
const ALARMS = `select * from (select a.*, k.acknowledged_by, k.acknowledged_by_role from alarms a left join alarm_acknowledgements k on k.alarm_id = a.alarm_id) alarms`;
const KEY_LABEL = 'api-key:';
const alarmDto = (r: AlarmRow) => ({
  alarmId: r.alarm_id,
  stationId: r.station_id,
  kind: r.kind,
  evseId: r.evse_id ?? undefined,
  connectorId: r.connector_id ?? undefined,
  code: r.code,
  detail: r.detail,
  status: r.closed_at ? 'closed' : 'open',
  openedAt: r.opened_at.toISOString(),
  closedAt: r.closed_at?.toISOString(),
  closedBy: r.closed_by ?? undefined,
  /** the API key that acknowledged it: name and role (role null: acknowledged before it was recorded); null: not acknowledged */
  acknowledgedBy:
    r.acknowledged_by === null
      ? null
      : {
          keyName: r.acknowledged_by.startsWith(KEY_LABEL)
            ? r.acknowledged_by.slice(KEY_LABEL.length)
            : r.acknowledged_by,
          role: r.acknowledged_by_role,
        },
});

@ApiTags('monitoring')
@Controller()
export class MonitoringController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(MONITORING_DEPS) private readonly deps: MonitoringDeps,
  ) {}

  @Get('stations')
  @RequireRoles('operator', 'integration')
  @ApiOperation({
    summary:
      'Every station: online/offline, last message, connectors, firmware and diagnostics status, open alarms; ordered by station id',
  })
  @ApiQuery({ name: 'online', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false, description: 'the last station id of the previous page' })
  async stations(@Query() query: Record<string, string>) {
    const q = validateInput(StationsQuery, query, 'query');
    const { rows: page, nextCursor } = await keysetPage<{ station_id: string; view: StationView }>(this.ds, {
      select: 'select station_id, view from station_monitor',
      filters: [q.online && ['online = ?', q.online === 'true']],
      key: [['station_id', 'text']],
      limit: Number(q.limit ?? 100),
      cursor: q.cursor,
      keyOf: (r) => [r.station_id],
    });
    return { items: page.map((r) => summary(r.view)), nextCursor };
  }

  @Get('stations/:stationId')
  @RequireRoles('operator', 'integration')
  @ApiOperation({ summary: 'One station with its open alarms' })
  async station(@Param('stationId') stationId: string) {
    const rows: Array<{ view: StationView }> = await this.ds.query(
      'select view from station_monitor where station_id = $1',
      [stationId],
    );
    if (rows.length === 0)
      throw new ApiProblem(404, 'STATION_NOT_FOUND', `no station ${stationId} has said anything yet`, {
        field: 'path/stationId',
      });
    return { ...summary(rows[0].view), alarms: rows[0].view.openAlarms.map((a) => ({ ...a, status: 'open' })) };
  }

  @Get('alarms')
  @RequireRoles('operator', 'integration')
  @ApiOperation({ summary: 'Alarms (Faulted connectors, NotifyEvent alerts, security events), newest first' })
  @ApiQuery({ name: 'status', required: false, enum: ['open', 'closed', 'all'] })
  @ApiQuery({ name: 'stationId', required: false })
  @ApiQuery({ name: 'kind', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  async alarms(@Query() query: Record<string, string>) {
    const q = validateInput(AlarmsQuery, query, 'query');
    const status = q.status ?? 'open';
    const { rows: page, nextCursor } = await keysetPage<AlarmRow>(this.ds, {
      select: ALARMS,
      filters: [
        status === 'open' && ['closed_at is null'],
        status === 'closed' && ['closed_at is not null'],
        q.stationId && ['station_id = ?', q.stationId],
        q.kind && ['kind = ?', q.kind],
      ],
      key: [
        ['opened_at', 'timestamptz'],
        ['alarm_id', 'uuid'],
      ],
      descending: true,
      limit: Number(q.limit ?? 100),
      cursor: q.cursor,
      keyOf: (r) => [r.opened_at.toISOString(), r.alarm_id],
    });
    return { items: page.map(alarmDto), nextCursor };
  }

  @Post('alarms/:alarmId/acknowledge')
  @HttpCode(200)
  @RequireRoles('operator')
  @ApiOperation({
    summary: 'An operator acknowledges an open alarm: it closes (security events close only this way)',
    description:
      'The acknowledgement is an event (monitoring.alarm_acknowledged on monitoring.events), so a rebuild of the read model keeps it.',
  })
  async acknowledge(@Param('alarmId') alarmId: string, @Actor() by: ActorRef) {
    if (!new RegExp(UUID_PATTERN).test(alarmId))
      throw new ApiProblem(400, 'VALIDATION_FAILED', 'alarmId must be a UUID', { field: 'path/alarmId' });
    const result = await this.ds.transaction(async (m) => {
      const rows: AlarmRow[] = await m.query('select * from alarms where alarm_id = $1 for update', [alarmId]);
      if (rows.length === 0)
        throw new ApiProblem(404, 'ALARM_NOT_FOUND', `no alarm ${alarmId}`, { field: 'path/alarmId' });
      if (rows[0].closed_at)
        throw new ApiProblem(409, 'ALARM_CLOSED', `alarm ${alarmId} is already closed`, { field: 'path/alarmId' });
      const now = this.deps.now().toISOString();
      const event = this.deps.catalogue.create(AlarmAcknowledgedV2, {
        id: deriveId('alarm-acknowledged', alarmId),
        key: rows[0].station_id,
        occurredAt: now,
        source: 'reporting-service',
        payload: {
          alarmId,
          stationId: rows[0].station_id,
          acknowledgedAt: now,
          acknowledgedBy: actorLabel(by),
          acknowledgedByRole: by.role,
        },
      });
      // applied here so the answer shows it; the consumer finds it applied when the event comes back
      await applyAcknowledgement(m, event.payload);
      await appendToOutbox(m, this.deps.catalogue, [event], { maxMessageBytes: this.deps.relay.maxMessageBytes });
      const [after] = await m.query(`${ALARMS} where alarm_id = $1`, [alarmId]);
      return alarmDto(after);
    });
    this.deps.relay.nudge();
    return result;
  }
}
