import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { MeterKeyError, meterKeyDecider, type MeterKeyCommand, type MeterKeyState } from '@csms/billing';
import { appendToOutbox } from '@csms/messaging';
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
  toMeterKey,
  toSignaturePolicy,
  type MeterKeyRow,
  type SignaturePolicyRow,
} from './catalogue';
import { CATALOGUE_DEPS, type CatalogueDeps } from './catalogue.controller';

/** The registry's limits on a station id (1-48 of `A-Z a-z 0-9 . _ : * + -`), an EVSE number a PostgreSQL integer. */
const StationId = Type.String({ minLength: 1, maxLength: 48, pattern: '^[A-Za-z0-9._:*+-]+$' });
const MeterKeyBody = Type.Object(
  {
    stationId: StationId,
    /** 0: every EVSE of the station */
    evseId: Type.Integer({ minimum: 0, maximum: 2147483647 }),
    publicKey: Type.String({ minLength: 1, maxLength: 1024 }),
    meterSerial: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    validFrom: Type.Optional(Type.String({ format: 'date-time' })),
    revoked: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    examples: [
      {
        stationId: 'CP-001',
        evseId: 1,
        publicKey:
          '3059301306072A8648CE3D020106082A8648CE3D030107034200043AEEB45C392357820A58FDFB0857BD77ADA31585C61C430531DFA53B440AFBFDD95AC887C658EA55260F808F55CA948DF235C2108A0D6DC7D4AB1A5E1A7955BE',
        meterSerial: '0901454D4800007F9F3E',
      },
    ],
  },
);
const PolicyBody = Type.Object(
  {
    scope: Type.Union([
      Type.Object({ kind: Type.Literal('default') }, { additionalProperties: false }),
      Type.Object(
        { kind: Type.Literal('site'), siteId: Type.String({ minLength: 1, maxLength: 100 }) },
        { additionalProperties: false },
      ),
      Type.Object({ kind: Type.Literal('station'), stationId: StationId }, { additionalProperties: false }),
    ]),
    invalidSignature: Type.Union([Type.Literal('flag'), Type.Literal('block')]),
    trustStationKeys: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    examples: [{ scope: { kind: 'site', siteId: 'site-amsterdam-1' }, invalidSignature: 'block' }],
  },
);
const Page = {
  limit: Type.Optional(Type.String({ pattern: LIMIT_PATTERN })),
  cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 2048 })),
};
const KeysQuery = Type.Object({ stationId: Type.Optional(StationId), ...Page }, { additionalProperties: false });
const PageQuery = Type.Object(Page, { additionalProperties: false });

/**
 * The meter key registry and the signed-meter-value policies (libs/billing meter-keys.ts rules): each write is
 * an event on tariff.events (meter.key_set, meter.signature_policy_set) with who made it, projected into the
 * tables in the same transaction (and by the catalogue consumer). The pricing reads them for every CDR whose
 * session had signed meter values.
 */
@ApiTags('meter keys')
@Controller()
export class MeterKeysController {
  private readonly decider: ReturnType<typeof meterKeyDecider>;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(CATALOGUE_DEPS) private readonly deps: CatalogueDeps,
  ) {
    this.decider = meterKeyDecider({ catalogue: deps.catalogue, source: 'tariff-service' });
  }

  private async write(m: EntityManager, cmd: MeterKeyCommand) {
    await m.query('select pg_advisory_xact_lock(7103)');
    const [{ keys, policies }] = await m.query(
      'select (select coalesce(max(sequence), 0) from meter_keys) as keys, (select coalesce(max(sequence), 0) from signature_policies) as policies',
    );
    const state: MeterKeyState = { lastKeySequence: Number(keys), lastPolicySequence: Number(policies) };
    let events;
    try {
      events = this.decider.decide(cmd, state);
    } catch (e) {
      if (e instanceof MeterKeyError) throw new ApiProblem(422, e.code, e.message, { field: `body/${e.field}` });
      throw e;
    }
    for (const env of events) await applyCatalogueEvent(m, env);
    await appendToOutbox(m, this.deps.catalogue, events, { maxMessageBytes: this.deps.relay.maxMessageBytes });
    return events[0].payload;
  }

  @Post('meter-keys')
  @HttpCode(201)
  @RequireRoles('operator')
  @ApiOperation({
    summary:
      "Confirm (or, with revoked, withdraw) the public key of a station's meter, per EVSE (0: the whole station), from validFrom (default now; never in the past). Audited: who and when",
  })
  @ApiBody({ schema: MeterKeyBody as object })
  async setKey(@Body() body: unknown, @Actor() by: ActorRef) {
    const b = validateInput(MeterKeyBody, body, 'body');
    const now = this.deps.now().toISOString();
    const set = await this.ds.transaction((m) =>
      this.write(m, {
        type: 'SetMeterKey',
        stationId: b.stationId,
        evseId: b.evseId,
        publicKey: b.publicKey,
        meterSerial: b.meterSerial ?? null,
        validFrom: b.validFrom,
        revoked: b.revoked ?? false,
        now,
        by: { keyName: by.keyName, role: by.role },
      }),
    );
    this.deps.relay.nudge();
    return set;
  }

  @Get('meter-keys')
  @RequireRoles('operator', 'finance', 'integration')
  @ApiOperation({ summary: 'Every meter key write (of a station), oldest first, with who made it; cursor pagination' })
  @ApiQuery({ name: 'stationId', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async keys(@Query() query: Record<string, string>) {
    const q = validateInput(KeysQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<MeterKeyRow>(this.ds, {
      select: 'select * from meter_keys',
      filters: [q.stationId && ['station_id = ?', q.stationId]],
      key: [['sequence', 'integer']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [String(r.sequence)],
    });
    return { items: rows.map(toMeterKey), nextCursor };
  }

  @Post('signature-policies')
  @HttpCode(201)
  @RequireRoles('operator', 'finance')
  @ApiOperation({
    summary:
      'Set what a failed check of signed meter values means for a site, a station or as the default: flag (price, say so in the audit) or block (session.pricing_failed SIGNED_METER_VALUES_FAILED); and whether keys stations send are trusted (default: no)',
  })
  @ApiBody({ schema: PolicyBody as object })
  async setPolicy(@Body() body: unknown, @Actor() by: ActorRef) {
    const b = validateInput(PolicyBody, body, 'body');
    const now = this.deps.now().toISOString();
    const set = await this.ds.transaction((m) =>
      this.write(m, {
        type: 'SetSignaturePolicy',
        scope: b.scope,
        invalidSignature: b.invalidSignature,
        trustStationKeys: b.trustStationKeys ?? false,
        now,
        by: { keyName: by.keyName, role: by.role },
      }),
    );
    this.deps.relay.nudge();
    return set;
  }

  @Get('signature-policies')
  @RequireRoles('operator', 'finance', 'integration')
  @ApiOperation({ summary: 'Every signed-meter-value policy write, oldest first, with who made it; cursor pagination' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 50' })
  @ApiQuery({ name: 'cursor', required: false })
  async policies(@Query() query: Record<string, string>) {
    const q = validateInput(PageQuery, query, 'query');
    const { rows, nextCursor } = await keysetPage<SignaturePolicyRow>(this.ds, {
      select: 'select * from signature_policies',
      filters: [],
      key: [['sequence', 'integer']],
      limit: Number(q.limit ?? 50),
      cursor: q.cursor,
      keyOf: (r) => [String(r.sequence)],
    });
    return { items: rows.map(toSignaturePolicy), nextCursor };
  }
}
