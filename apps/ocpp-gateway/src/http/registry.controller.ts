import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Type, type Static } from '@sinclair/typebox';
import { IdTokenStatusSchema, IdTokenTypeSchema, RegistryEvseSchema, StationLocationSchema } from '@csms/contracts';
import { TimeZones } from '@csms/kernel';
import { stationLocationProblems } from '@csms/ocpp-gateway-core';
import { Actor, ApiProblem, RequireRoles, validateInput, type ActorRef } from '@csms/service-kit';
import {
  RegistryError,
  RegistryService,
  type StationChanged,
  type StationInput,
  type StationView,
  type TokenView,
} from '../registry/registry.service';

const Id = Type.String({ minLength: 1, maxLength: 48, pattern: '^[A-Za-z0-9._:*+-]+$' });
const TokenUid = Type.String({ minLength: 1, maxLength: 36 });
/** The OCPI location fields; `id` defaults to the site id, else the station id. */
const LocationBody = Type.Object(
  { ...StationLocationSchema.properties, id: Type.Optional(StationLocationSchema.properties.id) },
  { additionalProperties: false },
);
export const StationBody = Type.Object(
  {
    securityProfile: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]),
    /**
     * 16 to 40 characters. OCPP 2.0.1 Part 2, A00.FR.205 (BasicAuthPassword): "It SHALL be a randomly chosen
     * passwordString with a sufficiently high entropy, consisting of minimum 16 and maximum 40 characters
     * (alpha-numeric characters and the special characters allowed by passwordString)." (Errata 2025-09 lets a
     * station raise the maximum to 64; 40 is what every station takes.) The OCPP 1.6 security whitepaper
     * (edition 3) says of AuthorizationKey: "minimal length: 16 bytes ... Hexadecimal represented (20 bytes
     * maximum, represented as a string of up to 40 hexadecimal digits)": the same 40 at most, so one rule
     * serves both protocols.
     */
    password: Type.Optional(Type.String({ minLength: 16, maxLength: 40 })),
    /** `true`: the gateway generates a random password (40 hex digits), stores its hash and returns it once, in this answer */
    generatePassword: Type.Optional(Type.Literal(true)),
    certificateCn: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()])),
    siteId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** where the station is, OCPI-shaped; what a CDR's cdr_location needs (null: none) */
    location: Type.Optional(Type.Union([LocationBody, Type.Null()])),
    /** EVSEs and connectors; per connector optionally the OCPI standard, format, power_type and ratings */
    evses: Type.Optional(Type.Array(RegistryEvseSchema)),
    enabled: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    examples: [
      {
        securityProfile: 1,
        password: 'example-password-16',
        siteId: 'site-1',
        timeZone: 'Europe/Amsterdam',
        location: {
          name: 'Example Hub',
          address: 'Stationsplein 1',
          city: 'Utrecht',
          postal_code: '3511 ED',
          country: 'NLD',
          coordinates: { latitude: '52.089444', longitude: '5.110278' },
        },
        evses: [
          {
            evseId: 1,
            connectors: [
              {
                connectorId: 1,
                standard: 'IEC_62196_T2',
                format: 'SOCKET',
                power_type: 'AC_3_PHASE',
                max_voltage: 400,
                max_amperage: 32,
                max_electric_power: 22000,
              },
            ],
          },
        ],
        enabled: true,
      },
    ],
  },
);
export const TokenBody = Type.Object(
  {
    type: IdTokenTypeSchema,
    status: IdTokenStatusSchema,
    expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    groupId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 36 }), Type.Null()])),
    billingAccountId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
  },
  {
    additionalProperties: false,
    examples: [
      {
        type: 'ISO14443',
        status: 'Accepted',
        expiresAt: '2030-01-01T00:00:00Z',
        groupId: 'FLEET-1',
        billingAccountId: 'acct-1',
      },
    ],
  },
);
const Page = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);

/** IANA time zones the platform knows (the kernel's time module; its formatters cached for the process). */
const timeZones = new TimeZones();

/**
 * A station body, checked: its shape (OCPI lengths, enums and coordinate formats included), the time zone, and
 * what a schema cannot say (country code assigned, coordinates in range, unique ids, power type the standard
 * carries). 400 VALIDATION_FAILED naming the field at fault, e.g. `body/location/country`.
 */
export function parseStationBody(stationId: string, body: unknown): StationInput {
  const input = validateInput(StationBody, body) as Static<typeof StationBody>;
  if (input.generatePassword && input.password !== undefined) {
    throw new ApiProblem(400, 'VALIDATION_FAILED', 'either a password or generatePassword, not both', {
      field: 'body/generatePassword',
    });
  }
  if (input.timeZone && !timeZones.isValid(input.timeZone))
    throw new ApiProblem(400, 'VALIDATION_FAILED', `unknown time zone ${input.timeZone}`, { field: 'body/timeZone' });
  const problems = stationLocationProblems({
    stationId,
    siteId: input.siteId,
    location: input.location,
    evses: input.evses,
  });
  if (problems.length > 0) {
    const errors = problems.map((p) => ({ field: `body${p.field}`, detail: p.message }));
    throw new ApiProblem(400, 'VALIDATION_FAILED', `${errors[0].field}: ${errors[0].detail}`, {
      field: errors[0].field,
      errors,
    });
  }
  return input;
}

async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RegistryError) {
      throw new ApiProblem(e.code.endsWith('NOT_FOUND') ? 404 : 422, e.code, e.message, { field: e.field });
    }
    throw e;
  }
}

function page(q: unknown): { limit: number; cursor?: string } {
  const p = validateInput(Page, q, 'query');
  const limit = p.limit ? Number(p.limit) : 50;
  if (limit < 1 || limit > 500)
    throw new ApiProblem(400, 'VALIDATION_FAILED', 'limit must be 1 to 500', { field: 'query/limit' });
  return { limit, cursor: p.cursor };
}

@ApiTags('stations')
@Controller('stations')
export class StationsController {
  // explicit tokens: tsx/esbuild does not emit decorator metadata
  constructor(@Inject(RegistryService) private readonly registry: RegistryService) {}

  @Get()
  @RequireRoles('operator', 'integration')
  @ApiOperation({ summary: 'List stations (cursor pagination by station id)' })
  list(@Query() q: unknown): Promise<{ items: StationView[]; nextCursor: string | null }> {
    const p = page(q);
    return this.registry.listStations(p.limit, p.cursor);
  }

  @Get(':stationId')
  @RequireRoles('operator', 'integration')
  get(@Param('stationId') id: string): Promise<StationView> {
    return mapErrors(() => this.registry.getStation(validateInput(Id, id, 'path/stationId')));
  }

  @Put(':stationId')
  @RequireRoles('operator')
  @ApiOperation({
    summary: 'Register or change a station; the view says which API key wrote it last (updatedBy)',
    description:
      'A password (16 to 40 characters) is stored as a scrypt hash and never returned. With `generatePassword: true` the gateway draws a random one (40 hexadecimal digits) and returns it in `password` of this answer only: it cannot be read again (generate another to replace it).',
  })
  @ApiBody({ schema: StationBody as object })
  put(@Param('stationId') id: string, @Body() body: unknown, @Actor() by: ActorRef): Promise<StationChanged> {
    const stationId = validateInput(Id, id, 'path/stationId');
    return mapErrors(() => this.registry.putStation(stationId, parseStationBody(stationId, body), by));
  }

  @Delete(':stationId')
  @HttpCode(204)
  @RequireRoles('operator')
  async remove(@Param('stationId') id: string): Promise<void> {
    await mapErrors(() => this.registry.deleteStation(validateInput(Id, id, 'path/stationId')));
  }
}

@ApiTags('tokens')
@Controller('tokens')
export class TokensController {
  // explicit tokens: tsx/esbuild does not emit decorator metadata
  constructor(@Inject(RegistryService) private readonly registry: RegistryService) {}

  @Get()
  @RequireRoles('operator', 'integration', 'finance')
  list(@Query() q: unknown): Promise<{ items: TokenView[]; nextCursor: string | null }> {
    const p = page(q);
    return this.registry.listTokens(p.limit, p.cursor);
  }

  @Get(':uid')
  @RequireRoles('operator', 'integration', 'finance')
  get(@Param('uid') uid: string): Promise<TokenView> {
    return mapErrors(() => this.registry.getToken(validateInput(TokenUid, uid, 'path/uid')));
  }

  @Put(':uid')
  @RequireRoles('operator', 'integration')
  @ApiOperation({ summary: 'Register or change an id token; the view says which API key wrote it last (updatedBy)' })
  @ApiBody({ schema: TokenBody as object })
  put(@Param('uid') uid: string, @Body() body: unknown, @Actor() by: ActorRef): Promise<TokenView> {
    const input = validateInput(TokenBody, body);
    return mapErrors(() => this.registry.putToken(validateInput(TokenUid, uid, 'path/uid'), input, by));
  }

  @Delete(':uid')
  @HttpCode(204)
  @RequireRoles('operator', 'integration')
  async remove(@Param('uid') uid: string): Promise<void> {
    await mapErrors(() => this.registry.deleteToken(validateInput(TokenUid, uid, 'path/uid')));
  }
}
