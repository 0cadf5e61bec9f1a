import { randomBytes } from 'node:crypto';
import { Controller, Delete, Get, Inject, Post, Put, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DataSource, type EntityManager } from 'typeorm';
import {
  OcpiCredentialsUpdatedV1,
  OcpiPartyRegisteredV1,
  OcpiPartyUnregisteredV1,
  deriveId,
  type OcpiPartyRegistered,
} from '@csms/contracts';
import { appendToOutbox } from '@csms/messaging';
import {
  OcpiInputError,
  ocpiHttpStatus,
  access,
  parseCredentials,
  tokenSha256,
  versionDetailsOf,
  versionsOf,
  type OcpiAction,
} from '@csms/ocpi';
import { Public } from '@csms/service-kit';
import { OCPI_DEPS, type OcpiDeps } from './ocpi.controller';
import { OcpiError, sendOcpi } from './ocpi';
import { applyCredentials, applyUnregistered, ocpiCallerOf, type OcpiCaller } from './ocpi-parties';

/** The OCPI paths of the versions and credentials modules (outside /api/v1). */
export const OCPI_VERSIONS_PATH = 'ocpi/versions';
export const OCPI_VERSION_DETAILS_PATH = 'ocpi/2.2.1';
export const OCPI_CREDENTIALS_PATH = 'ocpi/2.2.1/credentials';

/** A new credentials token C: 32 random bytes, base64url (43 printable characters, within OCPI's string(64)). */
export const newCredentialsToken = () => randomBytes(32).toString('base64url');

/** The base URL of this CPO's OCPI interface: configured, else the request's own (as the CDRs' Link header). */
export function ocpiBaseOf(deps: Pick<OcpiDeps, 'baseUrl'>, req: Request): string {
  return deps.baseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

const authHeader = ApiHeader({
  name: 'Authorization',
  required: true,
  description: 'Token <base64 of the OCPI credentials token>',
});

/**
 * OCPI 2.2.1 versions module and credentials module (§7), the CPO's side. The operator opens a registration
 * (`POST /api/v1/ocpi/parties`: token A); the party reads our versions with it and POSTs its credentials (its token
 * B, versions URL, roles); we fetch its versions and 2.2.1 details with token B (the party client port), and answer
 * with our credentials: a new token C, our versions URL, our CPO role. Token A is then spent. PUT rotates token C
 * (and reads the party's endpoints again), DELETE unregisters, GET returns our credentials. Every change is an event
 * on ocpi.events written through the outbox in the transaction that changes the parties table; only SHA-256s of
 * tokens are kept. Who may do what: libs/ocpi `access`.
 */
@ApiTags('ocpi')
@Controller()
export class OcpiCredentialsController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(OCPI_DEPS) private readonly deps: OcpiDeps,
  ) {}

  @Get(OCPI_VERSIONS_PATH)
  @Public()
  @ApiSecurity('ocpi-token')
  @authHeader
  @ApiOperation({ summary: 'OCPI versions: the versions this CPO offers (2.2.1)' })
  versions(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.handle(req, res, 'versions', async () => ({ data: versionsOf(ocpiBaseOf(this.deps, req)) }));
  }

  @Get(OCPI_VERSION_DETAILS_PATH)
  @Public()
  @ApiSecurity('ocpi-token')
  @authHeader
  @ApiOperation({
    summary: 'OCPI 2.2.1 version details: credentials (SENDER and RECEIVER) and cdrs (SENDER)',
  })
  versionDetails(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.handle(req, res, 'versions', async () => ({ data: versionDetailsOf(ocpiBaseOf(this.deps, req)) }));
  }

  @Get(OCPI_CREDENTIALS_PATH)
  @Public()
  @ApiSecurity('ocpi-token')
  @authHeader
  @ApiOperation({
    summary: "OCPI 2.2.1 credentials: our credentials object (the caller's token, our versions URL, our role)",
  })
  getCredentials(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.handle(req, res, 'credentials.get', async (caller) => ({
      data: this.ourCredentials(req, caller.token),
    }));
  }

  @Post(OCPI_CREDENTIALS_PATH)
  @Public()
  @ApiSecurity('ocpi-token')
  @authHeader
  @ApiOperation({
    summary:
      'OCPI 2.2.1 credentials: register with token A (its credentials in, ours with a new token C out; 405 when registered already)',
  })
  postCredentials(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.handle(req, res, 'credentials.post', (caller) => this.register(req, caller, OcpiPartyRegisteredV1));
  }

  @Put(OCPI_CREDENTIALS_PATH)
  @Public()
  @ApiSecurity('ocpi-token')
  @authHeader
  @ApiOperation({
    summary: 'OCPI 2.2.1 credentials: update (a new token C; the party read again; 405 when not registered)',
  })
  putCredentials(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.handle(req, res, 'credentials.put', (caller) => this.register(req, caller, OcpiCredentialsUpdatedV1));
  }

  @Delete(OCPI_CREDENTIALS_PATH)
  @Public()
  @ApiSecurity('ocpi-token')
  @authHeader
  @ApiOperation({ summary: 'OCPI 2.2.1 credentials: unregister (no token of the party works afterwards)' })
  deleteCredentials(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.handle(req, res, 'credentials.delete', async () => {
      const at = this.deps.now().toISOString();
      await this.ds.transaction(async (m) => {
        const party = await this.lockedCaller(m, req, 'credentials.delete');
        const event = this.deps.catalogue.create(OcpiPartyUnregisteredV1, {
          id: deriveId('ocpi-party-event', party.registration_id, party.revision + 1),
          key: party.registration_id,
          occurredAt: at,
          source: 'reporting-service',
          payload: {
            registrationId: party.registration_id,
            revision: party.revision + 1,
            at,
            by: 'party',
            byRole: null,
          },
        });
        await applyUnregistered(m, event.payload);
        await appendToOutbox(m, this.deps.catalogue, [event], { maxMessageBytes: this.deps.relay.maxMessageBytes });
      });
      this.deps.relay.nudge();
      return {};
    });
  }

  /** POST (register) and PUT (update): the party's credentials read, the party called back, a new token C. */
  private async register(
    req: Request,
    caller: OcpiCaller,
    def: typeof OcpiPartyRegisteredV1 | typeof OcpiCredentialsUpdatedV1,
  ): Promise<{ data: unknown }> {
    const action: OcpiAction = def === OcpiPartyRegisteredV1 ? 'credentials.post' : 'credentials.put';
    const creds = parseCredentials(req.body);
    if (creds.token === caller.token)
      throw new OcpiInputError(
        2001,
        'body/token: token B must not be the token this request is made with',
        'body/token',
      );
    // outside the transaction: a slow party must not hold the row's lock
    const endpoints = await this.deps.partyClient.endpointsOf(creds.url, creds.token);
    const tokenC = newCredentialsToken();
    const at = this.deps.now().toISOString();
    await this.ds.transaction(async (m) => {
      // the token is checked again under the row's lock: two POSTs with one token A register once
      const party = await this.lockedCaller(m, req, action);
      const payload: OcpiPartyRegistered['payload'] = {
        registrationId: party.registration_id,
        revision: party.revision + 1,
        version: '2.2.1',
        tokenBSha256: tokenSha256(creds.token),
        tokenCSha256: tokenSha256(tokenC),
        url: creds.url,
        roles: creds.roles,
        endpoints,
        at,
      };
      const event = this.deps.catalogue.create(def, {
        id: deriveId('ocpi-party-event', party.registration_id, payload.revision),
        key: party.registration_id,
        occurredAt: at,
        source: 'reporting-service',
        payload,
      });
      await applyCredentials(m, payload);
      await appendToOutbox(m, this.deps.catalogue, [event], { maxMessageBytes: this.deps.relay.maxMessageBytes });
    });
    this.deps.relay.nudge();
    return { data: this.ourCredentials(req, tokenC) };
  }

  /** The caller's party row, locked, when the token (still) allows `action`; an OcpiError otherwise. */
  private async lockedCaller(m: EntityManager, req: Request, action: OcpiAction) {
    const caller = await ocpiCallerOf(m, req.headers.authorization, this.deps.parties, true);
    const allowed = access(caller?.kind, action);
    if (!allowed.allowed) throw new OcpiError(allowed.http, allowed.statusCode, allowed.message);
    if (!caller?.party) throw new OcpiError(405, 2000, 'not a registered party');
    return caller.party;
  }

  private ourCredentials(req: Request, token: string) {
    const base = ocpiBaseOf(this.deps, req);
    return {
      token,
      url: `${base}/${OCPI_VERSIONS_PATH}`,
      roles: [
        {
          role: 'CPO',
          business_details: { name: this.deps.cpo.businessName },
          party_id: this.deps.cpo.partyId,
          country_code: this.deps.cpo.countryCode,
        },
      ],
    };
  }

  /**
   * Authenticates (libs/ocpi `access`), runs `body` and answers in the OCPI envelope: 1000 with its data; a token
   * refused with its HTTP status (401, 405) and 2000; a request that reached the OCPI layer and failed there (2001
   * a bad credentials object, 3001, 3002, 3003 a party that could not be used) with HTTP 200 and its status code,
   * as OCPI 2.2.1 prescribes (libs/ocpi `ocpiHttpStatus`).
   */
  private async handle(
    req: Request,
    res: Response,
    action: OcpiAction,
    body: (caller: OcpiCaller) => Promise<{ data?: unknown }>,
  ): Promise<void> {
    const timestamp = this.deps.now().toISOString();
    try {
      const caller = await ocpiCallerOf(this.ds, req.headers.authorization, this.deps.parties);
      const allowed = access(caller?.kind, action);
      if (!allowed.allowed) throw new OcpiError(allowed.http, allowed.statusCode, allowed.message);
      const out = await body(caller!);
      sendOcpi(res, timestamp, 200, 1000, 'Success', out.data);
    } catch (e) {
      if (e instanceof OcpiError) sendOcpi(res, timestamp, e.http, e.statusCode, e.message);
      else if (e instanceof OcpiInputError)
        sendOcpi(
          res,
          timestamp,
          ocpiHttpStatus(e.statusCode),
          e.statusCode,
          e.message,
          e.field ? { field: e.field } : undefined,
        );
      else throw e;
    }
  }
}
