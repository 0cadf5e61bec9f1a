import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Type } from '@sinclair/typebox';
import { OCPP_PROTOCOLS } from '@csms/ocpp';
import { COMMAND_ACTIONS, OcppSchemaValidator, isCommandAction } from '@csms/ocpp-gateway-core';
import { Actor, ApiProblem, RequireRoles, validateInput, type ActorRef } from '@csms/service-kit';
import { CommandService, type CommandView } from '../commands/command.service';
import { GatewayRuntime } from '../runtime';

const ALL_ACTIONS = [...new Set(OCPP_PROTOCOLS.flatMap((p) => COMMAND_ACTIONS[p]))].sort();
export const CommandBody = Type.Object(
  {
    action: Type.Union(ALL_ACTIONS.map((a) => Type.Literal(a))),
    payload: Type.Record(Type.String(), Type.Unknown()),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
  },
  { additionalProperties: false, examples: [{ action: 'Reset', payload: { type: 'Soft' }, ttlSeconds: 300 }] },
);
const StationId = Type.String({ minLength: 1, maxLength: 48 });
const CommandId = Type.String({ format: 'uuid' });
const validator = new OcppSchemaValidator();

@ApiTags('commands')
@Controller()
export class CommandsController {
  constructor(
    @Inject(CommandService) private readonly commands: CommandService,
    @Inject(GatewayRuntime) private readonly runtime: GatewayRuntime,
  ) {}

  @Post('stations/:stationId/commands')
  @HttpCode(202)
  @RequireRoles('operator')
  @ApiOperation({
    summary:
      'Send a remote operation to a station; its result is published on ocpp.command_results and readable at /commands/{commandId}',
  })
  @ApiBody({ schema: CommandBody as object })
  async send(@Param('stationId') id: string, @Body() body: unknown, @Actor() by: ActorRef): Promise<CommandView> {
    const stationId = validateInput(StationId, id, 'path/stationId');
    const input = validateInput(CommandBody, body);
    // the payload must be valid for at least one version that defines the action (the station's version is
    // known only to the instance holding its connection, which checks again)
    const versions = OCPP_PROTOCOLS.filter((p) => isCommandAction(p, input.action));
    const outcomes = versions.map((p) => validator.validate(p, input.action, 'request', input.payload));
    const failed = outcomes.find((o) => !o.ok);
    if (!outcomes.some((o) => o.ok) && failed && !failed.ok) {
      throw new ApiProblem(400, 'INVALID_COMMAND_PAYLOAD', `payload of ${input.action}: ${failed.description}`, {
        field: `body/payload${failed.field === '/' ? '' : failed.field}`,
      });
    }
    if (!this.runtime.registryCache.station(stationId))
      throw new ApiProblem(404, 'STATION_NOT_FOUND', `no station ${stationId}`, { field: 'path/stationId' });
    return this.commands.request(
      stationId,
      input.action,
      input.payload,
      by,
      input.ttlSeconds ?? this.runtime.config.COMMAND_TTL_S,
    );
  }

  @Get('commands/:commandId')
  @RequireRoles('operator', 'integration')
  async get(@Param('commandId') id: string): Promise<CommandView> {
    const c = await this.commands.get(validateInput(CommandId, id, 'path/commandId'));
    if (!c) throw new ApiProblem(404, 'COMMAND_NOT_FOUND', `no command ${id}`, { field: 'path/commandId' });
    return c;
  }
}
