import type { OcppProtocol } from '@csms/ocpp';
import type { CallableDeclaration } from './declaration';
import { OCPP16_STATION_ACTIONS } from './v16';
import { OCPP201_STATION_ACTIONS } from './v201';

export * from './declaration';
export { OCPP16_STATION_ACTIONS, chargingStateFrom16Status } from './v16';
export { OCPP201_STATION_ACTIONS } from './v201';

/** The station action tables by protocol: the one declaration the gateway routes from and the normaliser maps from. */
export const STATION_ACTION_TABLES: Readonly<Record<OcppProtocol, Readonly<Record<string, CallableDeclaration>>>> = {
  'ocpp1.6': OCPP16_STATION_ACTIONS as Record<string, CallableDeclaration>,
  'ocpp2.0.1': OCPP201_STATION_ACTIONS as Record<string, CallableDeclaration>,
};

/** The declaration of an action a station of the protocol may send, or undefined when it is none. */
export function stationAction(protocol: OcppProtocol, action: string): CallableDeclaration | undefined {
  const table = STATION_ACTION_TABLES[protocol];
  return table !== undefined && Object.hasOwn(table, action) ? table[action] : undefined;
}

/** Every action a station of the protocol may send. */
export function stationActions(protocol: OcppProtocol): readonly string[] {
  return Object.keys(STATION_ACTION_TABLES[protocol]);
}

/** The actions the gateway answers (routes to a handler) for the protocol. */
export function answeredActions(protocol: OcppProtocol): readonly string[] {
  const table = STATION_ACTION_TABLES[protocol];
  return Object.keys(table).filter((a) => table[a].gateway === 'answers');
}
