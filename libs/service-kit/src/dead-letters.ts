import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import {
  DEAD_LETTER_COLUMNS,
  findDeadLetter,
  openDeadLetterCounts,
  toDeadLetterView,
  type DeadLetterRow,
  type EventConsumer,
} from '@csms/messaging';
import type { HealthRegistry } from './health';
import { RequireRoles } from './auth.guard';
import { LIMIT_PATTERN, keysetPage } from './pagination';
import { ApiProblem } from './problem';
import { validateInput } from './validation';
import { SERVICE_METRICS as M } from './metric-catalogue';

/** The consumers of this process whose dead letters the API lists and re-drives. */
export const DEAD_LETTER_CONSUMERS = Symbol('csms:dead-letter-consumers');

const ListQuery = Type.Object(
  {
    consumer: Type.Optional(Type.String({ minLength: 1 })),
    code: Type.Optional(Type.String({ minLength: 1 })),
    status: Type.Optional(Type.Union([Type.Literal('parked'), Type.Literal('redriven'), Type.Literal('all')])),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

/**
 * The records this service's consumers parked (`dead_letters`), and their re-drive. A re-drive runs here,
 * in the service, through the consumer's own apply path (inbox, handler, outbox in one transaction): an
 * event already applied changes nothing, a second re-drive is reported as `already_redriven`.
 */
@ApiTags('dead letters')
@Controller('dead-letters')
export class DeadLettersController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(DEAD_LETTER_CONSUMERS) private readonly consumers: readonly EventConsumer[],
  ) {}

  @Get()
  @RequireRoles('operator')
  @ApiOperation({
    summary: 'Dead letters of this service, in the order they were parked (oldest first); parked ones by default',
  })
  @ApiQuery({ name: 'status', required: false, enum: ['parked', 'redriven', 'all'] })
  @ApiQuery({ name: 'consumer', required: false, description: 'consumer group' })
  @ApiQuery({ name: 'code', required: false, description: 'error code, e.g. UNKNOWN_EVENT_VERSION' })
  @ApiQuery({ name: 'since', required: false, description: 'parked at or after (RFC 3339)' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  async list(@Query() query: Record<string, string>) {
    const q = validateInput(ListQuery, query, 'query');
    const status = q.status ?? 'parked';
    const { rows, nextCursor } = await keysetPage<DeadLetterRow>(this.ds, {
      select: `select ${DEAD_LETTER_COLUMNS} from dead_letters`,
      filters: [
        status !== 'all' && ['status = ?', status],
        q.consumer && ['consumer = ?', q.consumer],
        q.code && ['error_code = ?', q.code],
        q.since && ['parked_at >= ?::timestamptz', q.since],
      ],
      key: [['seq', 'bigint']],
      limit: Number(q.limit ?? 100),
      cursor: q.cursor,
      keyOf: (r) => [r.seq],
    });
    return { items: rows.map(toDeadLetterView), nextCursor };
  }

  @Get(':id')
  @RequireRoles('operator')
  @ApiOperation({ summary: 'One dead letter, with the record as it was consumed (`value`)' })
  @ApiParam({ name: 'id', description: 'dead letter id (UUID v5 of consumer group, topic, partition, offset)' })
  async one(@Param('id') id: string) {
    return toDeadLetterView(await this.find(id));
  }

  @Post(':id/redrive')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({
    summary: 'Re-drives a parked record through its consumer once the cause is fixed (admin)',
    description:
      'Applies the record as its consumer would (inbox, handler, outbox in one transaction) and marks it redriven. ' +
      '`outcome`: `applied`, `already_applied` (the event had been applied meanwhile: nothing changed), `already_redriven` ' +
      '(nothing changed). If it fails again it stays parked with the new error: 409 `REDRIVE_FAILED`.',
  })
  async redrive(@Param('id') id: string) {
    const row = await this.find(id);
    const consumer = this.consumers.find((c) => c.name === row.consumer);
    if (!consumer)
      throw new ApiProblem(
        409,
        'CONSUMER_NOT_HERE',
        `consumer ${row.consumer} does not run in this service (renamed or removed); its dead letter cannot be re-driven here`,
        { field: 'path/id' },
      );
    const result = (await consumer.redrive(id))!;
    if (result.outcome === 'failed') {
      throw new ApiProblem(
        409,
        'REDRIVE_FAILED',
        `re-driving failed again (${result.error!.code}: ${result.error!.message}); the record stays parked`,
        { field: 'path/id' },
      );
    }
    return result;
  }

  private async find(id: string): Promise<DeadLetterRow> {
    const row = await findDeadLetter(this.ds, id);
    if (!row) throw new ApiProblem(404, 'DEAD_LETTER_NOT_FOUND', `no dead letter ${id}`, { field: 'path/id' });
    return row;
  }
}

/**
 * Dead letters in metrics and readiness:
 * - `csms_dead_letters_open{consumer}` (gauge, from the database at each scrape: survives restarts),
 * - `csms_dead_letters_parked_total{consumer}` (counter of parks by this process),
 * - readiness check `deadLetters`: per consumer `deadLetters: N`; `status: 'degraded'` when any is parked.
 *   Parked records do not make the service unready (it goes on consuming): readiness stays 200.
 */
export function watchDeadLetters(
  ds: DataSource,
  consumers: readonly EventConsumer[],
  registry: Registry,
  health: HealthRegistry,
): void {
  const names = consumers.map((c) => c.name);
  if (names.length === 0) return;
  new Gauge({
    ...M.deadLettersOpen,
    labelNames: [...M.deadLettersOpen.labelNames],
    registers: [registry],
    async collect() {
      // the database away: keep the last values (the readiness check says the database is down), /metrics still answers
      const counts = await openDeadLetterCounts(ds, names).catch(() => undefined);
      for (const [consumer, n] of Object.entries(counts ?? {})) this.set({ consumer }, n);
    },
  });
  new Counter({
    ...M.deadLettersParked,
    labelNames: [...M.deadLettersParked.labelNames],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of consumers) this.inc({ consumer: c.name }, c.stats().parked);
    },
  });
  health.register('deadLetters', async () => {
    const counts = await openDeadLetterCounts(ds, names);
    const degraded = Object.values(counts).some((n) => n > 0);
    return {
      ok: true,
      detail: {
        status: degraded ? 'degraded' : 'ok',
        consumers: Object.fromEntries(Object.entries(counts).map(([c, n]) => [c, { deadLetters: n }])),
      },
    };
  });
}
