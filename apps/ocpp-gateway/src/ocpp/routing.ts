import { requireOcppSchema, type OcppProtocol } from '@csms/ocpp';
import { CHARGER_ACTIONS } from '@csms/ocpp-gateway-core';
import type { OcppHandler, Route, RoutingTable } from './handler';
import * as v16 from './handlers/v16';
import * as v201 from './handlers/v201';

function route<Req, Res extends object>(protocol: OcppProtocol, action: string, handler: OcppHandler<Req, Res>): Route {
  return {
    request: requireOcppSchema(protocol, action, 'request'),
    response: requireOcppSchema(protocol, action, 'response'),
    handler: handler as unknown as Route['handler'],
  };
}

/** OCPP 1.6: action -> request schema / response schema / handler. */
export const OCPP16_ROUTES: RoutingTable = {
  BootNotification: route('ocpp1.6', 'BootNotification', v16.bootNotification),
  Heartbeat: route('ocpp1.6', 'Heartbeat', v16.heartbeat),
  StatusNotification: route('ocpp1.6', 'StatusNotification', v16.statusNotification),
  Authorize: route('ocpp1.6', 'Authorize', v16.authorize),
  StartTransaction: route('ocpp1.6', 'StartTransaction', v16.startTransaction),
  StopTransaction: route('ocpp1.6', 'StopTransaction', v16.stopTransaction),
  MeterValues: route('ocpp1.6', 'MeterValues', v16.meterValues),
  DataTransfer: route('ocpp1.6', 'DataTransfer', v16.dataTransfer),
  DiagnosticsStatusNotification: route('ocpp1.6', 'DiagnosticsStatusNotification', v16.diagnosticsStatusNotification),
  FirmwareStatusNotification: route('ocpp1.6', 'FirmwareStatusNotification', v16.firmwareStatusNotification),
};

/** OCPP 2.0.1: action -> request schema / response schema / handler. */
export const OCPP201_ROUTES: RoutingTable = {
  BootNotification: route('ocpp2.0.1', 'BootNotification', v201.bootNotification),
  Heartbeat: route('ocpp2.0.1', 'Heartbeat', v201.heartbeat),
  StatusNotification: route('ocpp2.0.1', 'StatusNotification', v201.statusNotification),
  Authorize: route('ocpp2.0.1', 'Authorize', v201.authorize),
  TransactionEvent: route('ocpp2.0.1', 'TransactionEvent', v201.transactionEvent),
  MeterValues: route('ocpp2.0.1', 'MeterValues', v201.meterValues),
  NotifyEvent: route('ocpp2.0.1', 'NotifyEvent', v201.notifyEvent),
  SecurityEventNotification: route('ocpp2.0.1', 'SecurityEventNotification', v201.securityEventNotification),
  FirmwareStatusNotification: route('ocpp2.0.1', 'FirmwareStatusNotification', v201.firmwareStatusNotification),
  LogStatusNotification: route('ocpp2.0.1', 'LogStatusNotification', v201.logStatusNotification),
  NotifyReport: route('ocpp2.0.1', 'NotifyReport', v201.notifyReport),
  DataTransfer: route('ocpp2.0.1', 'DataTransfer', v201.dataTransfer),
};

export const ROUTES: Record<OcppProtocol, RoutingTable> = { 'ocpp1.6': OCPP16_ROUTES, 'ocpp2.0.1': OCPP201_ROUTES };

// the tables serve exactly the actions the issue lists (checked at load time)
for (const p of Object.keys(CHARGER_ACTIONS) as OcppProtocol[]) {
  const want = [...CHARGER_ACTIONS[p]].sort().join();
  const have = Object.keys(ROUTES[p]).sort().join();
  if (want !== have) throw new Error(`routing table of ${p} does not match CHARGER_ACTIONS`);
}
