import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import { ApiProblem, LIMIT_PATTERN, RequireRoles, keysetPage, validateInput } from '@csms/service-kit';

const ListQuery = Type.Object(
  {
    stationId: Type.Optional(Type.String({ minLength: 1 })),
    idToken: Type.Optional(Type.String({ minLength: 1 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('incomplete'), Type.Literal('ended')])),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

interface Row {
  session_id: string;
  station_id: string;
  transaction_id: string;
  protocol: string;
  evse_id: number | null;
  connector_id: number | null;
  id_token: string | null;
  status: string;
  started_at: Date;
  ended_at: Date | null;
  energy_wh: string | null;
  revision: number;
  needs_review: boolean;
  latest: unknown;
  ended: unknown;
}

function toDto(r: Row) {
  return {
    sessionId: r.session_id,
    stationId: r.station_id,
    transactionId: r.transaction_id,
    protocol: r.protocol,
    evseId: r.evse_id ?? undefined,
    connectorId: r.connector_id ?? undefined,
    idToken: r.id_token ?? undefined,
    status: r.status,
    startedAt: r.started_at.toISOString(),
    endedAt: r.ended_at?.toISOString(),
    energyWh: r.energy_wh ?? undefined,
    revision: r.revision,
    needsReview: r.needs_review,
    /** the session.ended payload (totals, charging periods, data quality, provenance) once ended */
    ended: r.ended ?? undefined,
    /** the latest public payload */
    latest: r.latest ?? undefined,
  };
}

@ApiTags('sessions')
@RequireRoles('operator', 'finance', 'integration')
@Controller('sessions')
export class SessionsController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'Live and ended sessions, newest first, filtered by station, token, status and start time; cursor pagination' })
  @ApiQuery({ name: 'stationId', required: false })
  @ApiQuery({ name: 'idToken', required: false })
  @ApiQuery({ name: 'status', required: false, enum: ['active', 'incomplete', 'ended'] })
  @ApiQuery({ name: 'from', required: false, description: 'sessions started at or after (RFC 3339)' })
  @ApiQuery({ name: 'to', required: false, description: 'sessions started before (RFC 3339)' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async list(@Query() query: Record<string, string>) {
    const q = validateInput(ListQuery, query, 'query');
    const { rows: page, nextCursor } = await keysetPage<Row>(this.ds, {
      select: 'select * from sessions',
      filters: [
        q.stationId && ['station_id = ?', q.stationId],
        q.idToken && ['id_token = ?', q.idToken],
        q.status && ['status = ?', q.status],
        q.from && ['started_at >= ?', q.from],
        q.to && ['started_at < ?', q.to],
      ],
      key: [
        ['started_at', 'timestamptz'],
        ['session_id', 'uuid'],
      ],
      descending: true,
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.started_at.toISOString(), r.session_id],
    });
    return { items: page.map(toDto), nextCursor };
  }

  @Get(':sessionId')
  @ApiOperation({ summary: 'One session by id' })
  async get(@Param('sessionId') sessionId: string) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sessionId)) {
      throw new ApiProblem(400, 'VALIDATION_FAILED', 'sessionId must be a UUID', { field: 'path/sessionId' });
    }
    const rows: Row[] = await this.ds.query('select * from sessions where session_id = $1', [sessionId]);
    if (rows.length === 0) throw new ApiProblem(404, 'SESSION_NOT_FOUND', `no session ${sessionId}`, { field: 'path/sessionId' });
    return toDto(rows[0]);
  }
}
