import type { OcppProtocol } from '@csms/ocpp';
import { answeredActions, stationActions } from '@csms/ocpp-normaliser';

/**
 * The charger-initiated actions the gateway answers, per version: those declared `gateway: 'answers'` in
 * the station action tables of libs/ocpp-normaliser (src/actions/v16.ts, v201.ts), where each action's
 * normaliser mapping is declared too. The gateway's handler table has exactly these keys.
 */
export const CHARGER_ACTIONS: Readonly<Record<OcppProtocol, readonly string[]>> = {
  'ocpp1.6': answeredActions('ocpp1.6'),
  'ocpp2.0.1': answeredActions('ocpp2.0.1'),
};

/**
 * Every action a station may send, per version (the CSMS-to-station ones are the rest of the version's
 * actions; DataTransfer goes both ways): the keys of the station action tables. 1.6 includes the security
 * whitepaper's station messages.
 */
export const STATION_ACTIONS: Readonly<Record<OcppProtocol, readonly string[]>> = {
  'ocpp1.6': stationActions('ocpp1.6'),
  'ocpp2.0.1': stationActions('ocpp2.0.1'),
};

export function isStationAction(protocol: OcppProtocol, action: string): boolean {
  return STATION_ACTIONS[protocol].includes(action);
}

export type RouteDecision =
  | { route: 'handle' }
  /** a station action of the version that the CSMS does not serve (e.g. 2.0.1 NotifyChargingLimit) */
  | { route: 'notSupported' }
  /** an action only the CSMS sends (e.g. `Reset`): a station sending it is misbehaving (a bad message) */
  | { route: 'csmsOnly' }
  /** the version does not know the action */
  | { route: 'notImplemented' };

/**
 * Where an inbound CALL goes. `handled` is the routing table's key set; `known` tells whether the version
 * defines the action at all, `sentByStations` whether a station may send it (`isStationAction`) (NotImplemented: "Requested Action is not known by receiver"; NotSupported:
 * "Requested Action is recognized but not supported by the receiver").
 */
export function decideRoute(
  action: string,
  handled: ReadonlySet<string>,
  known: boolean,
  sentByStations = true,
): RouteDecision {
  if (handled.has(action)) return { route: 'handle' };
  if (!known) return { route: 'notImplemented' };
  return sentByStations ? { route: 'notSupported' } : { route: 'csmsOnly' };
}

/** Counts bad messages of a connection; past the limit the station is disconnected. */
export class BadMessageBudget {
  private count = 0;
  constructor(private readonly limit: number) {}

  /** Records one bad message; true when the limit has been reached (disconnect). */
  spend(): boolean {
    this.count += 1;
    return this.count >= this.limit;
  }

  get spent(): number {
    return this.count;
  }
}
