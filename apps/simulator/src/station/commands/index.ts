/**
 * The CSMS-initiated actions a station answers, one table per version, each command typed by its
 * action's generated request and response (libs/ocpp).
 */
import type { RPCClient } from 'ocpp-rpc';
import type { StationCore } from '../types';
import { changeAvailability16, changeAvailability201 } from './availability';
import type { CommandTable } from './command';
import { changeConfiguration16, getConfiguration16, getVariables201, setVariables201 } from './configuration';
import { getDiagnostics16, getLog16, getLog201, updateFirmware16, updateFirmware201 } from './firmware-and-logs';
import {
  clearCache16,
  clearCache201,
  getLocalListVersion16,
  getLocalListVersion201,
  sendLocalList16,
  sendLocalList201,
} from './local-list';
import {
  remoteStartTransaction16,
  remoteStopTransaction16,
  requestStartTransaction201,
  requestStopTransaction201,
} from './remote-transactions';
import { reset16, reset201 } from './reset';
import { triggerMessage16, triggerMessage201 } from './trigger-message';
import { unlockConnector16, unlockConnector201 } from './unlock';

export const COMMANDS_16: CommandTable<'ocpp1.6'> = {
  Reset: reset16,
  RemoteStartTransaction: remoteStartTransaction16,
  RemoteStopTransaction: remoteStopTransaction16,
  ChangeAvailability: changeAvailability16,
  UnlockConnector: unlockConnector16,
  GetConfiguration: getConfiguration16,
  ChangeConfiguration: changeConfiguration16,
  TriggerMessage: triggerMessage16,
  UpdateFirmware: updateFirmware16,
  GetDiagnostics: getDiagnostics16,
  GetLog: getLog16,
  ClearCache: clearCache16,
  SendLocalList: sendLocalList16,
  GetLocalListVersion: getLocalListVersion16,
};

export const COMMANDS_201: CommandTable<'ocpp2.0.1'> = {
  Reset: reset201,
  RequestStartTransaction: requestStartTransaction201,
  RequestStopTransaction: requestStopTransaction201,
  ChangeAvailability: changeAvailability201,
  UnlockConnector: unlockConnector201,
  GetVariables: getVariables201,
  SetVariables: setVariables201,
  TriggerMessage: triggerMessage201,
  UpdateFirmware: updateFirmware201,
  GetLog: getLog201,
  ClearCache: clearCache201,
  SendLocalList: sendLocalList201,
  GetLocalListVersion: getLocalListVersion201,
};

/**
 * A command as ocpp-rpc calls it. The params are the request as received: checked against the action's
 * official schema when the client runs in strict mode (the default), taken as sent otherwise.
 */
type ReceivedCommand = (st: StationCore, request: Record<string, unknown>) => object;

/**
 * Registers the station's commands on a client: its version's table, plus the other version's actions
 * its own table does not name (a CSMS sending, say, RequestStartTransaction to a 1.6 station with strict
 * mode off is answered as a 2.0.1 station would answer it).
 */
export function registerCommands(st: StationCore, client: RPCClient): void {
  const own: Readonly<Record<string, unknown>> = st.v16 ? COMMANDS_16 : COMMANDS_201;
  const other: Readonly<Record<string, unknown>> = st.v16 ? COMMANDS_201 : COMMANDS_16;
  const table = { ...other, ...own } as Record<string, ReceivedCommand>;
  for (const [action, command] of Object.entries(table)) {
    client.handle(action, async ({ params }) => (await command(st, params ?? {})) as Record<string, unknown>);
  }
}
