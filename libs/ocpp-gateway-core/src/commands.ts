import type { OcppProtocol } from '@csms/ocpp';

/** The CSMS-initiated actions an operator or another service may send through the gateway, per version. */
export const COMMAND_ACTIONS = {
  'ocpp1.6': [
    'Reset',
    'RemoteStartTransaction',
    'RemoteStopTransaction',
    'ChangeAvailability',
    'UnlockConnector',
    'GetConfiguration',
    'ChangeConfiguration',
    'TriggerMessage',
    'UpdateFirmware',
    'GetDiagnostics',
    'ClearCache',
    'SendLocalList',
    'GetLocalListVersion',
  ],
  'ocpp2.0.1': [
    'Reset',
    'RequestStartTransaction',
    'RequestStopTransaction',
    'ChangeAvailability',
    'UnlockConnector',
    'GetVariables',
    'SetVariables',
    'TriggerMessage',
    'UpdateFirmware',
    'GetLog',
    'ClearCache',
    'SendLocalList',
    'GetLocalListVersion',
  ],
} as const satisfies Record<OcppProtocol, readonly string[]>;

export function isCommandAction(protocol: OcppProtocol, action: string): boolean {
  return (COMMAND_ACTIONS[protocol] as readonly string[]).includes(action);
}

export type CommandStatus =
  | 'accepted'
  | 'rejected'
  | 'error'
  | 'invalid_response'
  | 'timed_out'
  | 'offline'
  | 'not_supported'
  | 'invalid_request'
  | 'expired'
  | 'interrupted';

/** The statuses that say a command never reached the station. */
export type UnsentStatus = 'offline' | 'expired' | 'not_supported' | 'invalid_request';

/**
 * The status of a command from the station's answer. Most OCPP confirmations carry a `status` whose
 * positive values are Accepted (and, for a few, Scheduled / Unlocked / RebootRequired); other values are
 * the station's refusal. Answers without a status (GetConfiguration, GetVariables, GetLocalListVersion,
 * GetDiagnostics) are accepted: the answer itself is the result.
 */
export function commandStatusOf(response: Record<string, unknown>): 'accepted' | 'rejected' {
  const s = response.status;
  if (typeof s !== 'string') return 'accepted';
  return ['Accepted', 'Scheduled', 'Unlocked', 'RebootRequired', 'AcceptedCanceled'].includes(s)
    ? 'accepted'
    : 'rejected';
}

/**
 * Which gateway instance answers a command for a station it does not hold: none when another instance
 * holds the station; otherwise the station is offline (every instance may say so: the result's id is
 * name-based, so the copies are one event), unless a result is already known.
 */
export function decideUnheldCommand(holder: string | null, self: string, resultKnown: boolean): 'ignore' | 'offline' {
  if (resultKnown) return 'ignore';
  if (holder !== null && holder !== self) return 'ignore';
  return 'offline';
}

/**
 * The status to record when an instance completes a command it did not send itself (`offline`, `expired`,
 * ...), given whether a dispatch of the command is on record: a command some instance already sent (and
 * whose answer was lost, e.g. that instance was killed) is `interrupted`, never reported as unsent and
 * never sent again.
 */
export function unsentCommandStatus(status: UnsentStatus, dispatched: boolean): UnsentStatus | 'interrupted' {
  return dispatched ? 'interrupted' : status;
}
