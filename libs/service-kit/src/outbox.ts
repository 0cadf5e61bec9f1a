import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ParkedOutbox, type OutboxRelay, type ParkedRecord } from '@csms/messaging';
import { RequireRoles } from './auth.guard';
import type { HealthRegistry } from './health';
import { LIMIT_PATTERN, decodeCursor, encodeCursor } from './pagination';
import { ApiProblem } from './problem';
import { validateInput } from './validation';
import { SERVICE_METRICS as M } from './metric-catalogue';

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const ListQuery = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('parked'), Type.Literal('resent')])),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);
const EventIdParam = Type.String({ pattern: UUID });

/** A list item: the record without its value (which may be close to a megabyte); `show` has it. */
function summary(r: ParkedRecord): Omit<ParkedRecord, 'value'> {
  const { value: _value, ...rest } = r;
  return rest;
}

/**
 * The parked outbox of the service (records the broker refused for good, moved aside so the outbox relay
 * carries on; see libs/messaging): list, show, re-send after the cause is fixed. Admin only: a re-send publishes.
 * Every service has it (`startService`; the gateway adds it to its module). Its consumer-side sibling is
 * `/api/v1/dead-letters`.
 */
@ApiTags('outbox')
@RequireRoles('admin')
@Controller('outbox/parked')
export class ParkedOutboxController {
  constructor(@Inject(ParkedOutbox) private readonly parked: ParkedOutbox) {}

  @Get()
  @ApiOperation({
    summary:
      'Outbox records the broker refused for good, in outbox order (without their value); later records of their keys are held until they are re-sent',
  })
  @ApiQuery({ name: 'state', required: false, enum: ['parked', 'resent'], description: 'default: both' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  async list(@Query() query: Record<string, string>) {
    const q = validateInput(ListQuery, query, 'query');
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, 1)[0];
    if (after !== undefined && !/^[0-9]{1,19}$/.test(after))
      throw new ApiProblem(400, 'INVALID_CURSOR', 'cursor is not one this API issued', { field: 'query/cursor' });
    const page = await this.parked.list({ state: q.state, after, limit: Number(q.limit ?? 100) });
    return {
      items: page.items.map(summary),
      nextCursor: page.next === undefined ? undefined : encodeCursor([page.next]),
    };
  }

  @Get(':eventId')
  @ApiOperation({ summary: 'One parked record with its value (the encoded event), headers and the refusal' })
  async show(@Param('eventId') eventId: string) {
    validateInput(EventIdParam, eventId, 'path/eventId');
    const r = await this.parked.get(eventId);
    if (!r)
      throw new ApiProblem(404, 'PARKED_RECORD_NOT_FOUND', `no parked outbox record for event ${eventId}`, {
        field: 'path/eventId',
      });
    return r;
  }

  @Post(':eventId/resend')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Moves a parked record back into the outbox, at its old position (ahead of its key’s held records), after the cause is fixed. Idempotent: `resent: false` if it was re-sent already and not parked again; consumers drop duplicates by event id anyway',
  })
  async resend(@Param('eventId') eventId: string) {
    validateInput(EventIdParam, eventId, 'path/eventId');
    const r = await this.parked.resend(eventId);
    if (!r)
      throw new ApiProblem(404, 'PARKED_RECORD_NOT_FOUND', `no parked outbox record for event ${eventId}`, {
        field: 'path/eventId',
      });
    return { resent: r.resent, record: summary(r.record) };
  }
}

/**
 * The outbox in `/metrics` and `/health/ready` (names in metric-catalogue.ts):
 * - `csms_outbox_depth` (gauge): rows waiting to be published; `csms_outbox_oldest_age_seconds` (gauge): age of the
 *   first of them (the relay's delay), both read from the database at each scrape;
 * - `csms_outbox_parked` (gauge): records parked now; `csms_outbox_held` (gauge): outbox records held behind them;
 *   `csms_outbox_parks_total{topic,code}` (counter): records this process parked since it started;
 * - health check `outbox`: not ok when the relay keeps failing (the broker away), `degraded` with
 *   `detail.parked: N` while records are parked (readiness stays 200: the service works).
 */
export function observeOutbox(
  registry: Registry,
  health: HealthRegistry,
  parked: ParkedOutbox,
  relay: OutboxRelay,
): void {
  const registers = [registry];
  let scrape: { at: number; backlog: Promise<{ depth: number; oldestAgeSeconds: number } | undefined> } | undefined;
  // one query per scrape, shared by its two gauges; the database away: keep the last values (readiness says so)
  const backlog = () => {
    if (!scrape || Date.now() - scrape.at > 1000)
      scrape = { at: Date.now(), backlog: relay.backlog().catch(() => undefined) };
    return scrape.backlog;
  };
  new Gauge({
    ...M.outboxDepth,
    labelNames: [],
    registers,
    async collect() {
      const b = await backlog();
      if (b) this.set(b.depth);
    },
  });
  new Gauge({
    ...M.outboxOldestAge,
    labelNames: [],
    registers,
    async collect() {
      const b = await backlog();
      if (b) this.set(b.oldestAgeSeconds);
    },
  });
  new Gauge({
    ...M.outboxParked,
    labelNames: [],
    registers,
    async collect() {
      this.set((await parked.counts()).parked);
    },
  });
  new Gauge({
    ...M.outboxHeld,
    labelNames: [],
    registers,
    async collect() {
      this.set((await parked.counts()).held);
    },
  });
  new Counter({
    ...M.outboxParks,
    labelNames: [...M.outboxParks.labelNames],
    registers,
    collect() {
      this.reset();
      for (const p of relay.parkCounts()) this.inc({ topic: p.topic, code: p.code }, p.count);
    },
  });
  health.register('outbox', async () => {
    const r = relay.health();
    const c = await parked.counts();
    return { ok: r.ok, degraded: c.parked > 0, detail: { ...r, parked: c.parked, held: c.held } };
  });
}
