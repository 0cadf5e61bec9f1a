/**
 * The remote operations the console sends, as the gateway takes them (`POST /api/v1/stations/{id}/commands`),
 * with the OCPP payload of the station's protocol. Pure: checked against the official OCPP schemas by
 * apps/console/commands.spec.ts.
 */
import type { RequestBody } from '../api/client';

/** a command's result is final once it is no longer pending (the gateway's outcomes) */
export const FINAL_COMMAND_STATUSES = [
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
];

export type CommandKind = 'reset' | 'unlock' | 'firmware' | 'diagnostics';
export type CommandBody = RequestBody<'gateway', 'post', '/api/v1/stations/{stationId}/commands'>;

/** The OCPP payload of each remote operation, in the station's protocol. */
export function commandFor(
  kind: CommandKind,
  protocol: string | null | undefined,
  f: {
    resetType: string;
    evseId: number;
    connectorId: number;
    location: string;
    retrieveAt: string;
    requestId: number;
  },
): CommandBody {
  const v201 = protocol === 'ocpp2.0.1';
  switch (kind) {
    case 'reset':
      return {
        action: 'Reset',
        payload: { type: v201 ? (f.resetType === 'Hard' ? 'Immediate' : 'OnIdle') : f.resetType },
      };
    case 'unlock':
      return {
        action: 'UnlockConnector',
        payload: v201 ? { evseId: f.evseId, connectorId: f.connectorId } : { connectorId: f.connectorId },
      };
    case 'firmware':
      return v201
        ? {
            action: 'UpdateFirmware',
            payload: { requestId: f.requestId, firmware: { location: f.location, retrieveDateTime: f.retrieveAt } },
          }
        : { action: 'UpdateFirmware', payload: { location: f.location, retrieveDate: f.retrieveAt } };
    case 'diagnostics':
      return v201
        ? {
            action: 'GetLog',
            payload: { logType: 'DiagnosticsLog', requestId: f.requestId, log: { remoteLocation: f.location } },
          }
        : { action: 'GetDiagnostics', payload: { location: f.location } };
  }
}
