import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import { CompiledTariffs, buildCdr, sessionStationFacts, sessionTokenFacts, transparencyXml } from '@csms/billing';
import { OcpiTariffSchema, answeredToken, type CdrAudit, type OcpiCdr } from '@csms/contracts';
import { Money } from '@csms/money';
import { TariffValidationError, validateTariff } from '@csms/pricing';
import { ApiProblem, LIMIT_PATTERN, RequireRoles, keysetPage, validateInput } from '@csms/service-kit';
import { CATALOGUE_DEPS, type CatalogueDeps } from './catalogue.controller';
import { factsOf } from './pricing.handler';
import { PricingStore } from './pricing.store';
import { TARIFF_CONFIG } from './tokens';
import type { TariffServiceConfig } from './config';

const ListQuery = Type.Object(
  {
    stationId: Type.Optional(Type.String({ minLength: 1, maxLength: 48 })),
    idToken: Type.Optional(Type.String({ minLength: 1, maxLength: 36 })),
    sessionId: Type.Optional(Type.String({ format: 'uuid' })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
    include: Type.Optional(Type.Literal('audit')),
    /** only CDRs whose audit carries this data-quality flag (e.g. priced without a registered location) */
    dataQuality: Type.Optional(Type.Literal('LOCATION_INCOMPLETE')),
    /** only CDRs whose signed meter values had this result (audit.signedMeterValues.result) */
    signedMeterValues: Type.Optional(
      Type.Union([Type.Literal('VERIFIED'), Type.Literal('FAILED'), Type.Literal('UNVERIFIED')]),
    ),
  },
  { additionalProperties: false },
);

const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 2048 })),
  },
  { additionalProperties: false },
);

const WhatIfBody = Type.Object(
  {
    tariff: Type.Object({}, { additionalProperties: true }),
    /** the registry's limits: station id 1-48 of `A-Z a-z 0-9 . _ : * + -`, site id 1-100 */
    stationId: Type.Optional(Type.String({ minLength: 1, maxLength: 48, pattern: '^[A-Za-z0-9._:*+-]+$' })),
    siteId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        tariff: {
          id: 'DRAFT',
          currency: 'EUR',
          elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
        },
        stationId: 'CP-001',
        from: '2026-01-01T00:00:00Z',
        to: '2026-02-01T00:00:00Z',
        limit: 100,
      },
    ],
  },
);

/** A CDR id (OCPI: at most 36; a credit CDR adds "-C"). */
const CdrIdParam = Type.String({ minLength: 1, maxLength: 39, pattern: '^[A-Za-z0-9-]+$' });

interface CdrRow {
  cdr_id: string;
  start_at: Date;
  cdr: OcpiCdr;
  audit: CdrAudit;
}

@ApiTags('cdrs')
@Controller()
export class CdrsController {
  private readonly store: PricingStore;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(TARIFF_CONFIG) private readonly cfg: TariffServiceConfig,
    @Inject(CATALOGUE_DEPS) deps: CatalogueDeps,
  ) {
    this.store = new PricingStore(deps.catalogue);
  }

  @Get('cdrs')
  @RequireRoles('finance', 'integration', 'operator')
  @ApiOperation({
    summary:
      'CDRs as OCPI 2.2.1 JSON, by station, token, session or start time, oldest first, cursor pagination; include=audit adds how each was computed',
  })
  @ApiQuery({ name: 'stationId', required: false })
  @ApiQuery({ name: 'idToken', required: false })
  @ApiQuery({ name: 'sessionId', required: false })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiQuery({ name: 'include', required: false, enum: ['audit'] })
  @ApiQuery({ name: 'dataQuality', required: false, enum: ['LOCATION_INCOMPLETE'] })
  @ApiQuery({ name: 'signedMeterValues', required: false, enum: ['VERIFIED', 'FAILED', 'UNVERIFIED'] })
  async list(@Query() query: Record<string, string>) {
    const q = validateInput(ListQuery, query, 'query');
    const { rows: page, nextCursor } = await keysetPage<CdrRow>(this.ds, {
      select: 'select cdr_id, start_at, cdr, audit from cdrs',
      filters: [
        q.stationId && ['station_id = ?', q.stationId],
        q.idToken && ['token_uid = ?', q.idToken],
        q.sessionId && ['session_id = ?', q.sessionId],
        q.from && ['start_at >= ?', q.from],
        q.to && ['start_at < ?', q.to],
        q.dataQuality && [`audit->'dataQuality'->'flags' @> ?::jsonb`, JSON.stringify([q.dataQuality])],
        q.signedMeterValues && [`audit->'signedMeterValues'->>'result' = ?`, q.signedMeterValues],
      ],
      key: [
        ['start_at', 'timestamptz'],
        ['cdr_id', 'text'],
      ],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [r.start_at.toISOString(), r.cdr_id],
    });
    return {
      items: page.map((r) => (q.include === 'audit' ? { ...r.cdr, audit: r.audit } : r.cdr)),
      nextCursor,
    };
  }

  @Get('cdrs/:cdrId')
  @RequireRoles('finance', 'integration', 'operator')
  @ApiOperation({ summary: 'One CDR as OCPI 2.2.1 JSON' })
  async get(@Param('cdrId') cdrId: string, @Query('include') include?: string) {
    const rows: CdrRow[] = await this.ds.query('select cdr_id, start_at, cdr, audit from cdrs where cdr_id = $1', [
      cdrId,
    ]);
    if (rows.length === 0) throw new ApiProblem(404, 'CDR_NOT_FOUND', `no CDR ${cdrId}`, { field: 'path/cdrId' });
    return include === 'audit' ? { ...rows[0].cdr, audit: rows[0].audit } : rows[0].cdr;
  }

  @Get('cdrs/:cdrId/transparency')
  @RequireRoles('finance', 'integration', 'operator')
  @Header('content-type', 'application/xml; charset=utf-8')
  @ApiProduces('application/xml')
  @ApiOperation({
    summary:
      'A CDR\'s signed meter values and the meter key it was verified with, as the S.A.F.E. Transparenzsoftware reads them (XML <values><value><signedData format="OCMF" encoding="plain">…</signedData><publicKey encoding="hex">…</publicKey></value></values>): the exact bytes the meter signed, for anyone to check the bill',
  })
  async transparency(@Param('cdrId') cdrId: string): Promise<string> {
    validateInput(CdrIdParam, cdrId, 'path/cdrId');
    const rows: Array<{ cdr: OcpiCdr }> = await this.ds.query('select cdr from cdrs where cdr_id = $1', [cdrId]);
    if (rows.length === 0) throw new ApiProblem(404, 'CDR_NOT_FOUND', `no CDR ${cdrId}`, { field: 'path/cdrId' });
    if (!rows[0].cdr.signed_data)
      throw new ApiProblem(404, 'CDR_NOT_SIGNED', `CDR ${cdrId} has no signed meter values`, { field: 'path/cdrId' });
    return transparencyXml(rows[0].cdr).xml;
  }

  @Get('pricing-failures')
  @RequireRoles('finance', 'operator', 'integration')
  @ApiOperation({
    summary: 'Sessions that could not be priced (never billed as free), oldest first; cursor pagination',
  })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async failures(@Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<Record<string, unknown>>(this.ds, {
      select: 'select * from pricing_failures',
      filters: [],
      key: [
        ['ended_at', 'timestamptz'],
        ['session_id', 'uuid'],
        ['revision', 'integer'],
      ],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [(r.ended_at as Date).toISOString(), r.session_id as string, String(r.revision)],
    });
    return {
      nextCursor,
      items: rows.map((r) => ({
        sessionId: r.session_id,
        revision: r.revision,
        stationId: r.station_id,
        code: r.code,
        detail: r.detail,
        field: r.field ?? undefined,
        endedAt: (r.ended_at as Date).toISOString(),
      })),
    };
  }

  @Post('what-if')
  @HttpCode(200)
  @RequireRoles('finance')
  @ApiOperation({
    summary:
      'Prices past sessions (station or site, start time range) under a draft tariff; emits nothing; returns per-session and total differences against what was billed',
  })
  @ApiBody({ schema: WhatIfBody as object })
  async whatIf(@Body() body: unknown) {
    const b = validateInput(WhatIfBody, body, 'body');
    try {
      validateTariff(b.tariff, { closed: true });
    } catch (e) {
      if (e instanceof TariffValidationError)
        throw new ApiProblem(422, e.code, e.message, { field: `body/tariff/${e.field}` });
      throw e;
    }
    // a tariff validateTariff accepts (closed) is an OCPI Tariff object of the contract
    const draft = validateInput(OcpiTariffSchema, b.tariff, 'body/tariff');
    const m = this.ds.manager;
    const rows = await this.store.endedSessionsInRange(m, {
      from: b.from,
      to: b.to,
      stationId: b.stationId,
      siteId: b.siteId,
      limit: b.limit ?? 1000,
    });
    // the billing rules' pricing (libs/billing buildCdr, as the decider runs it) with the draft in place of the catalogue's tariff
    const tariffs = new CompiledTariffs();
    const noCatalogue = { assignments: [], versions: [], meterKeys: [], signaturePolicies: [] };
    const items = [];
    const cur = draft.currency;
    const pair = (p?: { excl_vat: string; incl_vat: string }) =>
      p ? { excl: Money.of(p.excl_vat, cur), incl: Money.of(p.incl_vat, cur) } : undefined;
    const text = (m: { excl: Money; incl: Money }) => ({
      excl_vat: m.excl.toDecimalString(),
      incl_vat: m.incl.toDecimalString(),
    });
    let billed = { excl: Money.zero(cur), incl: Money.zero(cur) };
    let draftTotal = { excl: Money.zero(cur), incl: Money.zero(cur) };
    for (const r of rows) {
      // the facts as answered at the start where the session carries them, else the registry copy
      const station = sessionStationFacts(
        r.session.station,
        r.session.station
          ? undefined
          : (await this.store.stationsOf(m, [r.session.stationId])).get(r.session.stationId),
      );
      const uid = r.session.idToken?.idToken;
      const copy =
        uid === undefined || answeredToken(r.session.idToken)
          ? undefined
          : (await this.store.tokensOf(m, [uid])).get(uid);
      const token = sessionTokenFacts(r.session.idToken, copy);
      const outcome = buildCdr(
        {
          ...factsOf(this.cfg, noCatalogue, station, token),
          session: r.session,
          source: r.source,
        },
        { draft, tariffs },
      );
      const was = r.cdr && r.cdr.currency === cur ? pair(r.cdr.total_cost) : undefined;
      const would = outcome.kind === 'priced' ? pair(outcome.cdr.total_cost) : undefined;
      if (was) billed = { excl: billed.excl.add(was.excl), incl: billed.incl.add(was.incl) };
      if (would) draftTotal = { excl: draftTotal.excl.add(would.excl), incl: draftTotal.incl.add(would.incl) };
      items.push({
        sessionId: r.session.sessionId,
        billed: r.cdr?.total_cost ?? null,
        draft: outcome.kind === 'priced' ? outcome.cdr.total_cost : null,
        ...(outcome.kind === 'failed' ? { draftError: { code: outcome.code, detail: outcome.detail } } : {}),
        difference:
          was && would ? text({ excl: would.excl.subtract(was.excl), incl: would.incl.subtract(was.incl) }) : null,
      });
    }
    return {
      currency: cur,
      sessions: items.length,
      items,
      totals: {
        billed: text(billed),
        draft: text(draftTotal),
        difference: text({ excl: draftTotal.excl.subtract(billed.excl), incl: draftTotal.incl.subtract(billed.incl) }),
      },
    };
  }
}
