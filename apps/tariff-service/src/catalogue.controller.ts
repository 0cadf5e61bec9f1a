import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import {
  CatalogueError,
  CompiledTariffs,
  catalogueDecider,
  type selectTariff,
  type CatalogueCommand,
  type CatalogueEvent,
  type CatalogueState,
} from '@csms/billing';
import { OcpiTariffSchema, type EventCatalogue } from '@csms/contracts';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import { TariffValidationError, validateTariff } from '@csms/pricing';
import {
  Actor,
  ApiProblem,
  LIMIT_PATTERN,
  RequireRoles,
  keysetPage,
  validateInput,
  type ActorRef,
} from '@csms/service-kit';
import {
  applyCatalogueEvent,
  stationsOf,
  toVersion,
  versionOf,
  versionsOf,
  writerOf,
  type VersionRow,
  type Writer,
} from './catalogue';
import { PricingStore } from './pricing.store';

export const CATALOGUE_DEPS = Symbol('catalogue-deps');
export interface CatalogueDeps {
  catalogue: EventCatalogue;
  relay: OutboxRelay;
  /** the wall clock of API requests: the publication time of a version is the request's own fact */
  now: () => Date;
}

const TariffIdParam = Type.String({ minLength: 1, maxLength: 36, pattern: '^[A-Za-z0-9._-]+$' });
const VersionParam = Type.String({ pattern: '^[1-9][0-9]{0,8}$' });
const PutQuery = Type.Object(
  { effective_from: Type.Optional(Type.String({ format: 'date-time' })) },
  { additionalProperties: false },
);
const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 2048 })),
  },
  { additionalProperties: false },
);
/**
 * The scope of an assignment as the API takes it: the ids have the limits the registry gives them
 * (station id 1-48 of `A-Z a-z 0-9 . _ : * + -`, site and account 1-100, token group 1-36), EVSE and connector
 * numbers a PostgreSQL integer. The event's schema (libs/contracts) stays as it was, for the records already written.
 */
const StationId = Type.String({ minLength: 1, maxLength: 48, pattern: '^[A-Za-z0-9._:*+-]+$' });
const Int = (minimum: number) => Type.Integer({ minimum, maximum: 2147483647 });
const ScopeInput = Type.Union([
  Type.Object(
    { kind: Type.Literal('account'), accountId: Type.String({ minLength: 1, maxLength: 100 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('token_group'), groupId: Type.String({ minLength: 1, maxLength: 36 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('connector'), stationId: StationId, evseId: Type.Optional(Int(0)), connectorId: Int(1) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('evse'), stationId: StationId, evseId: Int(1) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('station'), stationId: StationId }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal('site'), siteId: Type.String({ minLength: 1, maxLength: 100 }) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('default') }, { additionalProperties: false }),
]);
const AssignmentBody = Type.Object(
  {
    tariffId: TariffIdParam,
    scope: ScopeInput,
    effectiveFrom: Type.Optional(Type.String({ format: 'date-time' })),
    removed: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    examples: [
      {
        tariffId: 'AC-STANDARD',
        scope: { kind: 'station', stationId: 'CP-001' },
        effectiveFrom: '2030-01-01T00:00:00Z',
        removed: false,
      },
    ],
  },
);

/** Which tariff applies to an EVSE (the ad-hoc payment page shows it before a session exists). */
const ResolveQuery = Type.Object(
  {
    stationId: StationId,
    evseId: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }),
    at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

/** The OCPI 2.2.1 Tariff as JSON Schema, for the API description (validation is validateTariff's, closed). */
const OCPI_TARIFF_DOC = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'currency', 'elements'],
  example: {
    country_code: 'NL',
    party_id: 'CSM',
    id: 'AC-STANDARD',
    currency: 'EUR',
    type: 'REGULAR',
    tariff_alt_text: [{ language: 'en', text: '0.35/kWh' }],
    min_price: { excl_vat: 0.5, incl_vat: 0.6 },
    elements: [
      {
        price_components: [{ type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 }],
        restrictions: { start_time: '07:00', end_time: '23:00', day_of_week: ['MONDAY'] },
      },
    ],
    start_date_time: '2030-01-01T00:00:00Z',
    last_updated: '2026-01-01T00:00:00Z',
  },
  properties: {
    country_code: { type: 'string', pattern: '^[A-Z]{2}$' },
    party_id: { type: 'string', pattern: '^[A-Z0-9]{3}$' },
    id: { type: 'string', minLength: 1, maxLength: 36 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    type: { type: 'string', enum: ['AD_HOC_PAYMENT', 'PROFILE_CHEAP', 'PROFILE_FAST', 'PROFILE_GREEN', 'REGULAR'] },
    tariff_alt_text: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { language: { type: 'string' }, text: { type: 'string' } },
      },
    },
    tariff_alt_url: { type: 'string' },
    min_price: {
      type: 'object',
      additionalProperties: false,
      required: ['excl_vat'],
      properties: { excl_vat: { type: 'number' }, incl_vat: { type: 'number' } },
    },
    max_price: {
      type: 'object',
      additionalProperties: false,
      required: ['excl_vat'],
      properties: { excl_vat: { type: 'number' }, incl_vat: { type: 'number' } },
    },
    elements: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['price_components'],
        properties: {
          price_components: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['type', 'price', 'step_size'],
              properties: {
                type: { type: 'string', enum: ['ENERGY', 'FLAT', 'PARKING_TIME', 'TIME'] },
                price: { type: 'number' },
                vat: { type: 'number' },
                step_size: { type: 'integer' },
              },
            },
          },
          restrictions: {
            type: 'object',
            additionalProperties: false,
            properties: {
              start_time: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
              end_time: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
              start_date: { type: 'string', format: 'date' },
              end_date: { type: 'string', format: 'date' },
              min_kwh: { type: 'number' },
              max_kwh: { type: 'number' },
              min_duration: { type: 'integer' },
              max_duration: { type: 'integer' },
              day_of_week: {
                type: 'array',
                items: {
                  type: 'string',
                  enum: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'],
                },
              },
            },
          },
        },
      },
    },
    start_date_time: { type: 'string', format: 'date-time' },
    end_date_time: { type: 'string', format: 'date-time' },
    last_updated: { type: 'string', format: 'date-time' },
  },
};

@ApiTags('tariffs')
@Controller()
export class CatalogueController {
  private readonly decider: ReturnType<typeof catalogueDecider>;
  /** the catalogue kept while its revision stands (resolve) */
  private readonly catalogueTariffs: PricingStore;
  private readonly compiled = new CompiledTariffs();

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(CATALOGUE_DEPS) private readonly deps: CatalogueDeps,
  ) {
    this.decider = catalogueDecider({ catalogue: deps.catalogue, source: 'tariff-service' });
    this.catalogueTariffs = new PricingStore(deps.catalogue);
  }

  /**
   * load -> decide -> save: the state the rules need (the tariff's latest version, the last assignment's
   * sequence) read under the catalogue write's lock, the decided event applied to the tables and put in the
   * outbox in the same transaction. A refused write is a 422 naming the field at fault.
   */
  private async write(m: EntityManager, cmd: CatalogueCommand, fields: { effectiveFrom: string; tariffId: string }) {
    const [{ latest, last }] = await m.query(
      'select (select max(version) from tariff_versions where tariff_id = $1) as latest, (select coalesce(max(sequence), 0) from tariff_assignments) as last',
      [cmd.tariffId],
    );
    const state: CatalogueState = {
      latestVersion: latest === null ? {} : { [cmd.tariffId]: Number(latest) },
      lastSequence: Number(last),
    };
    let events: CatalogueEvent[];
    try {
      events = this.decider.decide(cmd, state);
    } catch (e) {
      if (e instanceof CatalogueError)
        throw new ApiProblem(
          422,
          e.code,
          `${e.field === 'effectiveFrom' ? `${fields.effectiveFrom} ` : ''}${e.message}`,
          { field: fields[e.field] },
        );
      throw e;
    }
    for (const env of events) await applyCatalogueEvent(m, env);
    await appendToOutbox(m, this.deps.catalogue, events, { maxMessageBytes: this.deps.relay.maxMessageBytes });
    return events[0].payload;
  }

  @Put('tariffs/:tariffId')
  @RequireRoles('finance')
  @ApiOperation({
    summary: 'Publish a new version of an OCPI 2.2.1 tariff (body: the Tariff object); every version is kept forever',
  })
  @ApiParam({ name: 'tariffId', example: 'AC-STANDARD' })
  @ApiQuery({
    name: 'effective_from',
    required: false,
    description: 'RFC 3339; sessions starting at or after it use this version (default: now; never in the past)',
  })
  @ApiBody({
    description:
      'OCPI 2.2.1 Tariff object; closed: a field outside the OCPI objects is refused (422 TARIFF_UNKNOWN_FIELD)',
    schema: OCPI_TARIFF_DOC,
  })
  async put(
    @Param('tariffId') tariffId: string,
    @Body() body: unknown,
    @Query() query: Record<string, string>,
    @Actor() by: ActorRef,
  ) {
    validateInput(TariffIdParam, tariffId, 'path/tariffId');
    const q = validateInput(PutQuery, query, 'query');
    try {
      validateTariff(body, { closed: true });
    } catch (e) {
      if (e instanceof TariffValidationError)
        throw new ApiProblem(422, e.code, e.message, { field: `body/${e.field}` });
      throw e;
    }
    // a tariff validateTariff accepts (closed) is an OCPI Tariff object of the contract
    const tariff = validateInput(OcpiTariffSchema, body, 'body');
    if (tariff.id !== tariffId)
      throw new ApiProblem(422, 'TARIFF_ID_MISMATCH', `body id ${tariff.id} differs from the path's ${tariffId}`, {
        field: 'body/id',
      });
    const now = this.deps.now().toISOString();
    const published = await this.ds.transaction(async (m) => {
      await m.query('select pg_advisory_xact_lock(hashtextextended($1, 7101))', [tariffId]);
      return this.write(
        m,
        {
          type: 'PublishTariffVersion',
          tariffId,
          tariff,
          effectiveFrom: q.effective_from,
          now,
          by: { keyName: by.keyName, role: by.role },
        },
        {
          effectiveFrom: 'query/effective_from',
          tariffId: 'path/tariffId',
        },
      );
    });
    this.deps.relay.nudge();
    return published;
  }

  @Get('tariffs')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'Every tariff with its latest version, by tariff id; cursor pagination' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async list(@Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<VersionRow>(this.ds, {
      select:
        'select * from (select distinct on (tariff_id) * from tariff_versions order by tariff_id, version desc) latest',
      filters: [],
      key: [['tariff_id', 'text']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.tariff_id],
    });
    return { items: rows.map(toVersion), nextCursor };
  }

  @Get('tariffs/:tariffId')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'The latest version of a tariff' })
  async latest(@Param('tariffId') tariffId: string) {
    validateInput(TariffIdParam, tariffId, 'path/tariffId');
    const all = await versionsOf(this.ds.manager, tariffId);
    if (all.length === 0)
      throw new ApiProblem(404, 'TARIFF_NOT_FOUND', `no tariff ${tariffId}`, { field: 'path/tariffId' });
    return all[all.length - 1];
  }

  @Get('tariffs/:tariffId/versions')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'Every version of a tariff, oldest first' })
  async versions(@Param('tariffId') tariffId: string) {
    validateInput(TariffIdParam, tariffId, 'path/tariffId');
    return { items: await versionsOf(this.ds.manager, tariffId) };
  }

  @Get('tariffs/:tariffId/versions/:version')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'One version of a tariff' })
  async version(@Param('tariffId') tariffId: string, @Param('version') version: string) {
    validateInput(TariffIdParam, tariffId, 'path/tariffId');
    validateInput(VersionParam, version, 'path/version');
    const v = await versionOf(this.ds.manager, tariffId, Number(version));
    if (!v)
      throw new ApiProblem(404, 'TARIFF_VERSION_NOT_FOUND', `no version ${version} of tariff ${tariffId}`, {
        field: 'path/version',
      });
    return v;
  }

  @Post('tariff-assignments')
  @HttpCode(201)
  @RequireRoles('finance')
  @ApiOperation({
    summary:
      'Assign a tariff to a connector, EVSE, station, site, token group, account or as the default, from a date (removed: withdraw)',
  })
  @ApiBody({ schema: AssignmentBody as object })
  async assign(@Body() body: unknown, @Actor() by: ActorRef) {
    const b = validateInput(AssignmentBody, body, 'body');
    const now = this.deps.now().toISOString();
    const set = await this.ds.transaction(async (m) => {
      await m.query('select pg_advisory_xact_lock(7102)');
      return this.write(
        m,
        {
          type: 'SetTariffAssignment',
          tariffId: b.tariffId,
          scope: b.scope,
          effectiveFrom: b.effectiveFrom,
          removed: b.removed ?? false,
          now,
          by: { keyName: by.keyName, role: by.role },
        },
        {
          effectiveFrom: 'body/effectiveFrom',
          tariffId: 'body/tariffId',
        },
      );
    });
    this.deps.relay.nudge();
    return set;
  }

  @Get('tariff-assignments/resolve')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({
    summary:
      'The tariff (and its version) that would price a session starting now (or at `at`) on this EVSE with no contract: the selection rule of the CDRs without the account and token-group levels',
  })
  @ApiQuery({ name: 'stationId', required: true, example: 'CP-001' })
  @ApiQuery({ name: 'evseId', required: true, example: '1' })
  @ApiQuery({ name: 'at', required: false, description: 'RFC 3339; default now' })
  async resolve(@Query() query: Record<string, string>) {
    const q = validateInput(ResolveQuery, query, 'query');
    const at = q.at ?? this.deps.now().toISOString();
    const m = this.ds.manager;
    // the catalogue as last read while its revision stands, and its selection index: a request reads the revision
    // and the station, not every tariff version (an ad-hoc payment page asks this at each view)
    const [{ assignments, versions }, stations] = await Promise.all([
      this.catalogueTariffs.catalogueTariffs(m),
      stationsOf(m, [q.stationId]),
    ]);
    const station = stations.get(q.stationId);
    let chosen: ReturnType<typeof selectTariff>;
    try {
      chosen = this.compiled.index(assignments, versions).select({
        at,
        stationId: q.stationId,
        evseId: Number(q.evseId),
        ...(station?.siteId ? { siteId: station.siteId } : {}),
      });
    } catch (e) {
      // only the instant can be at fault here (the log itself was validated when it was written)
      throw new ApiProblem(400, 'VALIDATION_FAILED', `at: ${(e as Error).message}`, { field: 'query/at' });
    }
    if (!chosen.ok)
      throw new ApiProblem(
        404,
        'TARIFF_NOT_RESOLVED',
        `no tariff applies to ${q.stationId} EVSE ${q.evseId}: ${chosen.detail}`,
        {
          field: 'query/stationId',
        },
      );
    return {
      stationId: q.stationId,
      evseId: Number(q.evseId),
      at,
      stationKnown: station !== undefined,
      // null: the registry lists no EVSEs for the station (it is not known whether this one exists)
      evseKnown:
        station === undefined
          ? false
          : station.evses.length === 0
            ? null
            : station.evses.some((e) => e.evseId === Number(q.evseId)),
      level: chosen.level,
      assignmentId: chosen.assignment.assignmentId,
      tariffId: chosen.version.tariffId,
      version: chosen.version.version,
      tariff: chosen.version.tariff,
    };
  }

  @Get('tariff-assignments')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({ summary: 'Every assignment, in the order they were set; cursor pagination' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async assignments(@Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<Record<string, unknown>>(this.ds, {
      select: 'select * from tariff_assignments',
      filters: [],
      key: [['sequence', 'integer']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [String(r.sequence)],
    });
    return {
      nextCursor,
      items: rows.map((r) => ({
        assignmentId: r.assignment_id,
        tariffId: r.tariff_id,
        scope: r.scope,
        effectiveFrom: (r.effective_from as Date).toISOString(),
        setAt: (r.set_at as Date).toISOString(),
        sequence: r.sequence,
        removed: r.removed,
        setBy: writerOf(r.set_by as string | null, r.set_by_role as Writer['role'] | null),
      })),
    };
  }
}
