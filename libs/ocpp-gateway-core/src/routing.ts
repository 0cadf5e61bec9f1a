import type { OcppProtocol } from '@csms/ocpp';

/** The charger-initiated actions the gateway answers, per version (issue 3). */
export const CHARGER_ACTIONS = {
  'ocpp1.6': [
    'BootNotification',
    'Heartbeat',
    'StatusNotification',
    'Authorize',
    'StartTransaction',
    'StopTransaction',
    'MeterValues',
    'DataTransfer',
    'DiagnosticsStatusNotification',
    'FirmwareStatusNotification',
  ],
  'ocpp2.0.1': [
    'BootNotification',
    'Heartbeat',
    'StatusNotification',
    'Authorize',
    'TransactionEvent',
    'MeterValues',
    'NotifyEvent',
    'SecurityEventNotification',
    'FirmwareStatusNotification',
    'LogStatusNotification',
    'NotifyReport',
    'DataTransfer',
  ],
} as const satisfies Record<OcppProtocol, readonly string[]>;

export type RouteDecision =
  | { route: 'handle' }
  /** the version defines the action but the CSMS does not serve it (e.g. a CSMS-to-station action) */
  | { route: 'notSupported' }
  /** the version does not know the action */
  | { route: 'notImplemented' };

/**
 * Where an inbound CALL goes. `handled` is the routing table's key set; `known` tells whether the version
 * defines the action at all (NotImplemented: "Requested Action is not known by receiver"; NotSupported:
 * "Requested Action is recognized but not supported by the receiver").
 */
export function decideRoute(action: string, handled: ReadonlySet<string>, known: boolean): RouteDecision {
  if (handled.has(action)) return { route: 'handle' };
  return known ? { route: 'notSupported' } : { route: 'notImplemented' };
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
