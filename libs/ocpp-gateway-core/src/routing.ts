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

/**
 * Every action a station may send, per version (the CSMS-to-station ones are the rest of the version's
 * actions; DataTransfer goes both ways). 1.6 includes the security whitepaper's station messages.
 */
export const STATION_ACTIONS = {
  'ocpp1.6': [
    ...CHARGER_ACTIONS['ocpp1.6'],
    'LogStatusNotification',
    'SecurityEventNotification',
    'SignCertificate',
    'SignedFirmwareStatusNotification',
  ],
  'ocpp2.0.1': [
    ...CHARGER_ACTIONS['ocpp2.0.1'],
    'ClearedChargingLimit',
    'Get15118EVCertificate',
    'GetCertificateStatus',
    'NotifyChargingLimit',
    'NotifyCustomerInformation',
    'NotifyDisplayMessages',
    'NotifyEVChargingNeeds',
    'NotifyEVChargingSchedule',
    'NotifyMonitoringReport',
    'PublishFirmwareStatusNotification',
    'ReportChargingProfiles',
    'ReservationStatusUpdate',
    'SignCertificate',
  ],
} as const satisfies Record<OcppProtocol, readonly string[]>;

export function isStationAction(protocol: OcppProtocol, action: string): boolean {
  return (STATION_ACTIONS[protocol] as readonly string[]).includes(action);
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
export function decideRoute(action: string, handled: ReadonlySet<string>, known: boolean, sentByStations = true): RouteDecision {
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
