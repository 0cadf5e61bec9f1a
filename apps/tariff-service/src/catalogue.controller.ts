import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import { TariffAssignmentScope, TariffAssignmentSetV1, TariffVersionPublishedV1, deriveId, type EventCatalogue } from '@csms/contracts';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import { TariffValidationError, toCanonicalJson, validateTariff, type OcpiTariff } from '@csms/pricing';
import { ApiProblem, RequireRoles, validateInput } from '@csms/service-kit';
import { applyCatalogueEvent, versionOf, versionsOf } from './catalogue';
import { sha256 } from './cdr-builder';

export const CATALOGUE_DEPS = Symbol('catalogue-deps');
export interface CatalogueDeps {
  catalogue: EventCatalogue;
  relay: OutboxRelay;
  /** the wall clock of API requests: the publication time of a version is the request's own fact */
  now: () => Date;
}

/** How far in the past an effectiveFrom may be (clock skew between client and server), in ms. */
const BACKDATE_TOLERANCE_MS = 60_000;

const TariffIdParam = Type.String({ minLength: 1, maxLength: 36, pattern: '^[A-Za-z0-9._-]+$' });
const PutQuery = Type.Object({ effective_from: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false });
const AssignmentBody = Type.Object(
  {
    tariffId: TariffIdParam,
    scope: TariffAssignmentScope,
    effectiveFrom: Type.Optional(Type.String({ format: 'date-time' })),
    removed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

function notRetroactive(effectiveFrom: string | undefined, now: Date, field: string): string {
  if (effectiveFrom === undefined) return now.toISOString();
  const t = Date.parse(effectiveFrom);
  if (t < now.getTime() - BACKDATE_TOLERANCE_MS) {
    throw new ApiProblem(422, 'RETROACTIVE_CHANGE', `${field} ${effectiveFrom} is in the past: a price change never rewrites sessions that already started; use what-if re-pricing to study the past`, { field });
  }
  return new Date(t).toISOString();
}

@ApiTags('tariffs')
@Controller()
export class CatalogueController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(CATALOGUE_DEPS) private readonly deps: CatalogueDeps,
  ) {}

  @Put('tariffs/:tariffId')
  @RequireRoles('finance')
  @ApiOperation({ summary: 'Publish a new version of an OCPI 2.2.1 tariff (body: the Tariff object); every version is kept forever' })
  @ApiQuery({ name: 'effective_from', required: false, description: 'RFC 3339; sessions starting at or after it use this version (default: now; never in the past)' })
  @ApiBody({ description: 'OCPI 2.2.1 Tariff object' })
  async put(@Param('tariffId') tariffId: string, @Body() body: unknown, @Query() query: Record<string, string>) {
    validateInput(TariffIdParam, tariffId, 'path/tariffId');
    const q = validateInput(PutQuery, query, 'query');
    let tariff: OcpiTariff;
    try {
      tariff = validateTariff(body) as unknown as OcpiTariff;
    } catch (e) {
      if (e instanceof TariffValidationError) throw new ApiProblem(422, e.code, e.message, { field: `body/${e.field}` });
      throw e;
    }
    if (tariff.id !== tariffId) throw new ApiProblem(422, 'TARIFF_ID_MISMATCH', `body id ${tariff.id} differs from the path's ${tariffId}`, { field: 'body/id' });
    const now = this.deps.now();
    const effectiveFrom = notRetroactive(q.effective_from, now, 'query/effective_from');
    const published = await this.ds.transaction(async (m) => {
      await m.query('select pg_advisory_xact_lock(hashtextextended($1, 7101))', [tariffId]);
      const [{ next }] = await m.query('select coalesce(max(version), 0) + 1 as next from tariff_versions where tariff_id = $1', [tariffId]);
      const env = this.deps.catalogue.create(TariffVersionPublishedV1, {
        id: deriveId('tariff-version', tariffId, next),
        key: tariffId,
        occurredAt: now.toISOString(),
        source: 'tariff-service',
        payload: { tariffId, version: next, effectiveFrom, publishedAt: now.toISOString(), contentHash: sha256(toCanonicalJson(body)), tariff: body as never },
      });
      await applyCatalogueEvent(m, env);
      await appendToOutbox(m, this.deps.catalogue, [env], { maxMessageBytes: this.deps.relay.maxMessageBytes });
      return env.payload;
    });
    this.deps.relay.nudge();
    return published;
  }

  @Get('tariffs')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'Every tariff with its latest version' })
  async list() {
    const all = await versionsOf(this.ds.manager);
    const latest = new Map<string, (typeof all)[number]>();
    for (const v of all) latest.set(v.tariffId, v);
    return { items: [...latest.values()] };
  }

  @Get('tariffs/:tariffId')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'The latest version of a tariff' })
  async latest(@Param('tariffId') tariffId: string) {
    const all = await versionsOf(this.ds.manager, tariffId);
    if (all.length === 0) throw new ApiProblem(404, 'TARIFF_NOT_FOUND', `no tariff ${tariffId}`, { field: 'path/tariffId' });
    return all[all.length - 1];
  }

  @Get('tariffs/:tariffId/versions')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'Every version of a tariff, oldest first' })
  async versions(@Param('tariffId') tariffId: string) {
    return { items: await versionsOf(this.ds.manager, tariffId) };
  }

  @Get('tariffs/:tariffId/versions/:version')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'One version of a tariff' })
  async version(@Param('tariffId') tariffId: string, @Param('version') version: string) {
    if (!/^[1-9][0-9]{0,8}$/.test(version)) throw new ApiProblem(400, 'VALIDATION_FAILED', 'version must be a positive integer', { field: 'path/version' });
    const v = await versionOf(this.ds.manager, tariffId, Number(version));
    if (!v) throw new ApiProblem(404, 'TARIFF_VERSION_NOT_FOUND', `no version ${version} of tariff ${tariffId}`, { field: 'path/version' });
    return v;
  }

  @Post('tariff-assignments')
  @HttpCode(201)
  @RequireRoles('finance')
  @ApiOperation({ summary: 'Assign a tariff to a connector, EVSE, station, site, token group, account or as the default, from a date (removed: withdraw)' })
  async assign(@Body() body: unknown) {
    const b = validateInput(AssignmentBody, body, 'body');
    const now = this.deps.now();
    const effectiveFrom = notRetroactive(b.effectiveFrom, now, 'body/effectiveFrom');
    const set = await this.ds.transaction(async (m) => {
      await m.query('select pg_advisory_xact_lock(7102)');
      const known = await m.query('select 1 from tariff_versions where tariff_id = $1 limit 1', [b.tariffId]);
      if (known.length === 0) throw new ApiProblem(422, 'TARIFF_NOT_FOUND', `no tariff ${b.tariffId}`, { field: 'body/tariffId' });
      const [{ next }] = await m.query('select coalesce(max(sequence), 0) + 1 as next from tariff_assignments');
      const assignmentId = deriveId('tariff-assignment', next).slice(0, 36);
      const env = this.deps.catalogue.create(TariffAssignmentSetV1, {
        id: deriveId('tariff-assignment-set', next),
        key: b.tariffId,
        occurredAt: now.toISOString(),
        source: 'tariff-service',
        payload: { assignmentId, tariffId: b.tariffId, scope: b.scope, effectiveFrom, setAt: now.toISOString(), sequence: next, removed: b.removed ?? false },
      });
      await applyCatalogueEvent(m, env);
      await appendToOutbox(m, this.deps.catalogue, [env], { maxMessageBytes: this.deps.relay.maxMessageBytes });
      return env.payload;
    });
    this.deps.relay.nudge();
    return set;
  }

  @Get('tariff-assignments')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'Every assignment, in the order they were set' })
  async assignments() {
    const rows: Array<Record<string, unknown>> = await this.ds.query('select * from tariff_assignments order by sequence');
    return {
      items: rows.map((r) => ({
        assignmentId: r.assignment_id,
        tariffId: r.tariff_id,
        scope: r.scope,
        effectiveFrom: (r.effective_from as Date).toISOString(),
        setAt: (r.set_at as Date).toISOString(),
        sequence: r.sequence,
        removed: r.removed,
      })),
    };
  }
}
