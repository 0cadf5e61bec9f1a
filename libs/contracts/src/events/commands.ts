import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import { Topics } from '../topics';

/* Remote operations: commands to stations and their outcomes (the gateway delivers and records them). */

/** A CSMS-initiated call to send to a station (topic ocpp.commands, key = station id). */
export const OcppCommandRequestedV1 = defineEvent({
  type: 'ocpp.command_requested',
  version: 1,
  topic: Topics.ocppCommands,
  description: 'a CSMS-initiated OCPP call to deliver to a station, by whichever gateway instance holds its connection',
  schema: closed({
    commandId: Type.String({ format: 'uuid' }),
    stationId: Type.String({ minLength: 1, maxLength: 255 }),
    action: Type.String({ minLength: 1, maxLength: 100 }),
    payload: Type.Record(Type.String(), Type.Unknown()),
    requestedAt: Type.String({ format: 'date-time' }),
    /** after this the command is not sent any more (result `expired`) */
    expiresAt: Type.String({ format: 'date-time' }),
    requestedBy: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]),
  }),
  example: {
    commandId: '3f1c9a52-7d2e-4c1b-9d8e-0a1b2c3d4e5f',
    stationId: 'CP-001',
    action: 'Reset',
    payload: { type: 'Soft' },
    requestedAt: '2026-03-01T10:00:00.000Z',
    expiresAt: '2026-03-01T10:05:00.000Z',
    requestedBy: 'api-key:ops-console',
  },
});
export type OcppCommandRequested = EventOf<typeof OcppCommandRequestedV1>;

/**
 * `interrupted`: the command was sent to the station (its dispatch was recorded first) but the gateway lost
 * the answer (the instance died or the connection closed before the station answered): the station may or
 * may not have carried it out; it is never sent a second time.
 */
export const COMMAND_RESULT_STATUSES = [
  'accepted',
  'rejected',
  'error',
  'invalid_response',
  'timed_out',
  'offline',
  'not_supported',
  'invalid_request',
  'expired',
  'interrupted',
] as const;

/** The outcome of a command (topic ocpp.command_results, key = station id). */
export const OcppCommandCompletedV1 = defineEvent({
  type: 'ocpp.command_completed',
  version: 1,
  topic: Topics.ocppCommandResults,
  description:
    'the outcome of a CSMS-initiated call: the station accepted or rejected it, answered an error, timed out, or was offline; the command expired before it could be sent; or it was sent and its answer was lost (interrupted)',
  schema: closed({
    commandId: Type.String({ format: 'uuid' }),
    stationId: Type.String({ minLength: 1, maxLength: 255 }),
    action: Type.String({ minLength: 1, maxLength: 100 }),
    status: Type.Union(COMMAND_RESULT_STATUSES.map((s) => Type.Literal(s))),
    protocol: Type.Union([Type.Literal('ocpp1.6'), Type.Literal('ocpp2.0.1'), Type.Null()]),
    response: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    errorCode: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
    detail: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
    completedAt: Type.String({ format: 'date-time' }),
    gatewayInstance: Type.String({ minLength: 1 }),
  }),
  example: {
    commandId: '3f1c9a52-7d2e-4c1b-9d8e-0a1b2c3d4e5f',
    stationId: 'CP-001',
    action: 'Reset',
    status: 'accepted',
    protocol: 'ocpp1.6',
    response: { status: 'Accepted' },
    errorCode: null,
    detail: null,
    completedAt: '2026-03-01T10:00:01.200Z',
    gatewayInstance: 'gw-1',
  },
});
export type OcppCommandCompleted = EventOf<typeof OcppCommandCompletedV1>;
