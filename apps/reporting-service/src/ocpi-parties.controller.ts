import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import type { Request } from 'express';
import { DataSource } from 'typeorm';
import { OcpiPartyUnregisteredV1, OcpiRegistrationOpenedV1, deriveId } from '@csms/contracts';
import { appendToOutbox } from '@csms/messaging';
import { tokenSha256 } from '@csms/ocpi';
import { Actor, ApiProblem, RequireRoles, actorLabel, validateInput, type ActorRef } from '@csms/service-kit';
import { OCPI_DEPS, type OcpiDeps } from './ocpi.controller';
import { OCPI_VERSIONS_PATH, newCredentialsToken, ocpiBaseOf } from './ocpi-credentials.controller';
import { applyRegistrationOpened, applyUnregistered } from './ocpi-parties';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OpenBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }) },
  { additionalProperties: false, examples: [{ name: 'Example eMSP' }] },
);

interface Row {
  registration_id: string;
  revision: number;
  name: string;
  status: string;
  url: string | null;
  version: string | null;
  roles: unknown;
  endpoints: unknown;
  opened_at: Date;
  opened_by: string;
  registered_at: Date | null;
  updated_at: Date;
  unregistered_at: Date | null;
  unregistered_by: string | null;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());
const view = (r: Row) => ({
  registrationId: r.registration_id,
  name: r.name,
  status: r.status,
  version: r.version,
  url: r.url,
  roles: r.roles,
  endpoints: r.endpoints,
  openedAt: iso(r.opened_at),
  openedBy: r.opened_by,
  registeredAt: iso(r.registered_at),
  updatedAt: iso(r.updated_at),
  unregisteredAt: iso(r.unregistered_at),
  unregisteredBy: r.unregistered_by,
});

/**
 * The operator's side of OCPI registrations (roles finance and admin): open one (a new credentials token A, shown
 * once in the answer and kept as its SHA-256 only), list them, revoke one. Each change is an event on ocpi.events.
 */
@ApiTags('ocpi')
@Controller()
export class OcpiPartiesController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(OCPI_DEPS) private readonly deps: OcpiDeps,
  ) {}

  @Post('ocpi/parties')
  @HttpCode(201)
  @RequireRoles('finance')
  @ApiBody({ schema: OpenBody as object })
  @ApiOperation({
    summary:
      'Opens an OCPI party registration: a new credentials token A (shown once: only its SHA-256 is kept) and our versions URL, to give the party out of band',
  })
  async open(@Body() body: unknown, @Actor() by: ActorRef, @Req() req: Request) {
    const b = validateInput(OpenBody, body);
    const tokenA = newCredentialsToken();
    const tokenASha256 = tokenSha256(tokenA);
    const at = this.deps.now().toISOString();
    const registrationId = deriveId('ocpi-registration', tokenASha256);
    const event = this.deps.catalogue.create(OcpiRegistrationOpenedV1, {
      id: deriveId('ocpi-party-event', registrationId, 1),
      key: registrationId,
      occurredAt: at,
      source: 'reporting-service',
      payload: { registrationId, revision: 1, name: b.name, tokenASha256, at, by: actorLabel(by), byRole: by.role },
    });
    const row = await this.ds.transaction(async (m) => {
      await applyRegistrationOpened(m, event.payload);
      await appendToOutbox(m, this.deps.catalogue, [event], { maxMessageBytes: this.deps.relay.maxMessageBytes });
      return this.one(m, registrationId);
    });
    this.deps.relay.nudge();
    return { ...view(row!), tokenA, versionsUrl: `${ocpiBaseOf(this.deps, req)}/${OCPI_VERSIONS_PATH}` };
  }

  @Get('ocpi/parties')
  @RequireRoles('finance')
  @ApiOperation({
    summary: 'The OCPI party registrations (open, registered, unregistered), oldest first, with their roles and URLs',
  })
  async list() {
    const rows: Row[] = await this.ds.query(`${SELECT} order by opened_at, registration_id`);
    return { items: rows.map(view) };
  }

  @Delete('ocpi/parties/:registrationId')
  @RequireRoles('finance')
  @ApiParam({ name: 'registrationId', example: '6f0c1f2e-3b4a-5c6d-8e7f-0a1b2c3d4e5f' })
  @ApiOperation({
    summary:
      "Revokes a party's registration (open or registered): none of its tokens works afterwards; 404 unknown, 409 unregistered already",
  })
  async revoke(@Param('registrationId') registrationId: string, @Actor() by: ActorRef) {
    if (!UUID.test(registrationId))
      throw new ApiProblem(400, 'VALIDATION_FAILED', 'registrationId is a UUID', { field: 'path/registrationId' });
    const row = await this.ds.transaction(async (m) => {
      const rows: Row[] = await m.query(`${SELECT} where registration_id = $1 for update`, [registrationId]);
      const r = rows[0];
      if (!r)
        throw new ApiProblem(404, 'OCPI_PARTY_NOT_FOUND', `no OCPI registration ${registrationId}`, {
          field: 'path/registrationId',
        });
      if (r.status === 'UNREGISTERED')
        throw new ApiProblem(409, 'OCPI_PARTY_UNREGISTERED', `registration ${registrationId} is unregistered already`, {
          field: 'path/registrationId',
        });
      const at = this.deps.now().toISOString();
      const event = this.deps.catalogue.create(OcpiPartyUnregisteredV1, {
        id: deriveId('ocpi-party-event', registrationId, r.revision + 1),
        key: registrationId,
        occurredAt: at,
        source: 'reporting-service',
        payload: { registrationId, revision: r.revision + 1, at, by: actorLabel(by), byRole: by.role },
      });
      await applyUnregistered(m, event.payload);
      await appendToOutbox(m, this.deps.catalogue, [event], { maxMessageBytes: this.deps.relay.maxMessageBytes });
      return this.one(m, registrationId);
    });
    this.deps.relay.nudge();
    return view(row!);
  }

  private async one(m: Pick<DataSource, 'query'>, registrationId: string): Promise<Row | undefined> {
    const rows: Row[] = await m.query(`${SELECT} where registration_id = $1`, [registrationId]);
    return rows[0];
  }
}

const SELECT = `select registration_id, revision, name, status, url, version, roles, endpoints, opened_at, opened_by,
  registered_at, updated_at, unregistered_at, unregistered_by from ocpi_parties`;
