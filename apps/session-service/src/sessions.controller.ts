import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import {
  ApiProblem,
  LIMIT_PATTERN,
  RequireRoles,
  decodeCursor,
  encodeCursor,
  keysetPage,
  validateInput,
} from '@csms/service-kit';
import { ocppJ, type InboundFrameReader } from './frames';
import { SESSION_SOURCES } from './session-store';

/** the raw frames reader (./frames.ts) */
export const FRAME_READER = Symbol('FRAME_READER');
/** most frames in one page of GET /sessions/{id}/frames, and most bytes of records in one page */
export const FRAMES_MAX_LIMIT = 100;
export const FRAMES_MAX_PAGE_BYTES = 4 * 1024 * 1024;

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

const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

const FramesQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^([1-9]|[1-9][0-9]|100)$' })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ReadingRow {
  event_id: string;
  occurred_at: Date;
  received_at: Date;
  source_event_id: string;
  source_topic: string | null;
  source_partition: number | null;
  source_offset: string | null;
  samples: unknown;
}

interface SourceRow {
  event_id: string;
  topic: string;
  partition: number;
  log_offset: string;
}

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

/** Sort keys of a session's readings (station time) and source records (log order). */
const READINGS_KEY = [
  ['occurred_at', 'timestamptz'],
  ['event_id', 'text'],
] as const;
const SOURCES_KEY = [
  ['topic', 'text'],
  ['partition', 'integer'],
  ['log_offset', 'bigint'],
  ['event_id', 'text'],
] as const;

/** The session id path parameter as the OpenAPI document describes it (a UUID, with an example). */
const SessionIdParam = () =>
  ApiParam({
    name: 'sessionId',
    format: 'uuid',
    example: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
    description: 'the session id (UUID v5)',
  });

@ApiTags('sessions')
@RequireRoles('operator', 'finance', 'integration')
@Controller('sessions')
export class SessionsController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(FRAME_READER) private readonly frames: InboundFrameReader,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Live and ended sessions, newest first, filtered by station, token, status and start time; cursor pagination',
  })
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
  @SessionIdParam()
  @ApiOperation({ summary: 'One session by id' })
  async get(@Param('sessionId') sessionId: string) {
    const rows: Row[] = await this.ds.query('select * from sessions where session_id = $1', [checkedId(sessionId)]);
    if (rows.length === 0) throw notFound(sessionId);
    return toDto(rows[0]);
  }

  @Get(':sessionId/readings')
  @SessionIdParam()
  @ApiOperation({
    summary:
      'Every meter sample applied to the session (normalised samples: energy register, power, current, signed values; with the inbound record that carried it), in station time; cursor pagination. session.ended carries a bounded timeline of them',
  })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async readings(@Param('sessionId') sessionId: string, @Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    // the whole request is checked before anything is looked up: a bad cursor is a 400 for any session
    if (q.cursor)
      decodeCursor(
        q.cursor,
        READINGS_KEY.map(([, type]) => type),
      );
    await this.mustExist(checkedId(sessionId));
    const { rows, nextCursor } = await keysetPage<ReadingRow>(this.ds, {
      select:
        'select event_id, occurred_at, received_at, source_event_id, source_topic, source_partition, source_offset, samples from session_readings',
      filters: [['session_id = ?', sessionId]],
      key: READINGS_KEY,
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.occurred_at.toISOString(), r.event_id],
    });
    return {
      items: rows.map((r) => ({
        eventId: r.event_id,
        at: r.occurred_at.toISOString(),
        receivedAt: r.received_at.toISOString(),
        source: {
          eventId: r.source_event_id,
          topic: r.source_topic ?? undefined,
          partition: r.source_partition ?? undefined,
          offset: r.source_offset ?? undefined,
        },
        samples: r.samples,
      })),
      nextCursor,
    };
  }

  @Get(':sessionId/sources')
  @SessionIdParam()
  @ApiOperation({
    summary:
      'Every inbound record the session used, in log order (topic, partition, offset); cursor pagination. Per topic and partition their count and the SHA-256 of their ids (each followed by a newline, in this order) are the source ranges of session.ended v2',
  })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async sources(@Param('sessionId') sessionId: string, @Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    if (q.cursor)
      decodeCursor(
        q.cursor,
        SOURCES_KEY.map(([, type]) => type),
      );
    await this.mustExist(checkedId(sessionId));
    const { rows, nextCursor } = await keysetPage<SourceRow>(this.ds, {
      select: `select event_id, topic, partition, log_offset from ${SESSION_SOURCES}`,
      filters: [['session_id = ?', sessionId]],
      key: SOURCES_KEY,
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.topic, String(r.partition), String(r.log_offset), r.event_id],
    });
    return {
      items: rows.map((r) => ({
        eventId: r.event_id,
        topic: r.topic,
        partition: r.partition,
        offset: String(r.log_offset),
      })),
      nextCursor,
    };
  }

  @Get(':sessionId/frames')
  @SessionIdParam()
  @ApiOperation({
    summary:
      'The raw OCPP frames the session was built from, read back from ocpp.inbound at the positions /sources lists (log order); cursor pagination',
    description:
      "Each item: the source position and event id, `status` (`found`: the record at that offset carries that event id; `mismatch`: it carries another; `unavailable`: the log no longer holds that offset, or it is on another topic; `unread`: not read within the service's time limit, ask again), the record's timestamp and size, the message as recorded by the gateway (`message`: kind, action, payload, the answer sent, receive time, connection) and the same as an OCPP-J array (`frame`, `answer`). At most 100 items (default 20) and 4 MiB of records a page.",
  })
  @ApiQuery({ name: 'limit', required: false, description: '1..100, default 20' })
  @ApiQuery({ name: 'cursor', required: false })
  async rawFrames(@Param('sessionId') sessionId: string, @Query() query: Record<string, string>) {
    const q = validateInput(FramesQuery, query, 'query');
    if (q.cursor)
      decodeCursor(
        q.cursor,
        SOURCES_KEY.map(([, type]) => type),
      );
    await this.mustExist(checkedId(sessionId));
    const { rows, nextCursor } = await keysetPage<SourceRow>(this.ds, {
      select: `select event_id, topic, partition, log_offset from ${SESSION_SOURCES}`,
      filters: [['session_id = ?', sessionId]],
      key: SOURCES_KEY,
      limit: Number(q.limit ?? 20),
      cursor: q.cursor,
      keyOf: (r) => [r.topic, String(r.partition), String(r.log_offset), r.event_id],
    });
    const refs = rows.map((r) => ({
      eventId: r.event_id,
      topic: r.topic,
      partition: r.partition,
      offset: String(r.log_offset),
    }));
    let read: Awaited<ReturnType<InboundFrameReader['read']>>;
    try {
      read = await this.frames.read(refs);
    } catch (e) {
      if (e instanceof ApiProblem) throw e;
      // the broker did not answer: the frames are there, this service cannot reach them now
      throw new ApiProblem(503, 'LOG_UNAVAILABLE', `ocpp.inbound could not be read: ${(e as Error).message}`);
    }
    const items = [];
    let bytes = 0;
    let cut: string | undefined;
    for (const [i, r] of refs.entries()) {
      const got = read.get(`${r.topic}/${r.partition}/${r.offset}`) ?? { status: 'unread' as const };
      // a page never carries more than FRAMES_MAX_PAGE_BYTES of records (at least one item): the rest is the next page
      if (i > 0 && bytes + (got.record?.bytes ?? 0) > FRAMES_MAX_PAGE_BYTES) {
        const last = refs[i - 1];
        cut = encodeCursor([last.topic, String(last.partition), last.offset, last.eventId]);
        break;
      }
      bytes += got.record?.bytes ?? 0;
      items.push({
        ...r,
        status: got.status,
        recordId: got.record?.recordId ?? null,
        timestamp: got.record?.timestamp ?? null,
        bytes: got.record?.bytes ?? null,
        message: got.record?.message ?? null,
        ...ocppJ(got.record?.message ?? null),
      });
    }
    return { items, nextCursor: cut ?? nextCursor };
  }

  private async mustExist(sessionId: string): Promise<void> {
    const rows: unknown[] = await this.ds.query('select 1 from sessions where session_id = $1', [sessionId]);
    if (rows.length === 0) throw notFound(sessionId);
  }
}

function checkedId(sessionId: string): string {
  if (!UUID.test(sessionId))
    throw new ApiProblem(400, 'VALIDATION_FAILED', 'sessionId must be a UUID', { field: 'path/sessionId' });
  return sessionId;
}

function notFound(sessionId: string): ApiProblem {
  return new ApiProblem(404, 'SESSION_NOT_FOUND', `no session ${sessionId}`, { field: 'path/sessionId' });
}
