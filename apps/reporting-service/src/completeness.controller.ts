import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import { ApiProblem, LIMIT_PATTERN, RequireRoles, validateInput } from '@csms/service-kit';
import { completenessByDay, completenessTotals, missingSessions, watermark, type DayRange } from './completeness';

export const COMPLETENESS_DEPS = Symbol('COMPLETENESS_DEPS');
export interface CompletenessDeps {
  graceSeconds: number;
}

const Day = Type.String({ format: 'date' });
const SummaryQuery = Type.Object(
  { from: Type.Optional(Day), to: Type.Optional(Day), limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })) },
  { additionalProperties: false },
);
const MissingQuery = Type.Object(
  {
    from: Type.Optional(Day),
    to: Type.Optional(Day),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

function rangeOf(q: { from?: string; to?: string }): DayRange {
  if (q.from && q.to && q.from >= q.to)
    throw new ApiProblem(400, 'VALIDATION_FAILED', 'to must be after from (days: from inclusive, to exclusive)', {
      field: 'query/to',
    });
  return { from: q.from, to: q.to };
}

const missingLink = (range: DayRange, limit: number, cursor: string) =>
  `/api/v1/billing-completeness/missing-sessions?${new URLSearchParams({ ...(range.from ? { from: range.from } : {}), ...(range.to ? { to: range.to } : {}), limit: String(limit), cursor })}`;

@ApiTags('billing completeness')
@Controller('billing-completeness')
export class CompletenessController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(COMPLETENESS_DEPS) private readonly deps: CompletenessDeps,
  ) {}

  @Get()
  @RequireRoles('finance')
  @ApiOperation({
    summary:
      'Reconciles, per day (UTC, of the session end) and currency, sessions ended vs CDRs vs pricing failures vs dead letters, and names the sessions with none',
    description:
      'Every session revision ended should have exactly one outcome: a CDR, a pricing failure or a dead letter. One with none is pending while it ended less than ' +
      "COMPLETENESS_GRACE_SECONDS before the newest event seen (event time), missing after that. currency is the CDR's; null for revisions without a CDR. " +
      '`complete` is true when nothing is missing, pending, doubled or unmatched.',
  })
  @ApiQuery({ name: 'from', required: false, description: 'first day, YYYY-MM-DD (UTC), inclusive' })
  @ApiQuery({ name: 'to', required: false, description: 'day after the last, YYYY-MM-DD (UTC), exclusive' })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'most missing sessions listed (default 100); missingSessionsNext pages on',
  })
  async summary(@Query() query: Record<string, string>) {
    const q = validateInput(SummaryQuery, query, 'query');
    const range = rangeOf(q);
    const limit = Number(q.limit ?? 100);
    // one snapshot: the fold goes on while the report is read, and its days, totals and missing sessions must agree
    const { w, days, totals, missing } = await this.ds.transaction('REPEATABLE READ', async (m) => {
      const w = await watermark(m, this.deps.graceSeconds);
      return {
        w,
        days: await completenessByDay(m, w.missingBefore, range),
        totals: await completenessTotals(m, w.missingBefore, range),
        missing: await missingSessions(m, w, range, limit),
      };
    });
    return {
      from: range.from ?? null,
      to: range.to ?? null,
      graceSeconds: this.deps.graceSeconds,
      newestEventAt: w.newestEventAt,
      complete:
        totals.missing === 0 &&
        totals.pending === 0 &&
        totals.multipleOutcomes === 0 &&
        totals.outcomesWithoutSession === 0,
      totals,
      days,
      missingSessions: missing.items,
      missingSessionsNext: missing.nextCursor ? missingLink(range, limit, missing.nextCursor) : null,
    };
  }

  @Get('missing-sessions')
  @RequireRoles('finance')
  @ApiOperation({
    summary:
      'Session revisions ended past the grace period with no CDR, pricing failure or dead letter, oldest first, cursor pagination',
  })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  async missing(@Query() query: Record<string, string>) {
    const q = validateInput(MissingQuery, query, 'query');
    return this.ds.transaction('REPEATABLE READ', async (m) =>
      missingSessions(m, await watermark(m, this.deps.graceSeconds), rangeOf(q), Number(q.limit ?? 100), q.cursor),
    );
  }
}
