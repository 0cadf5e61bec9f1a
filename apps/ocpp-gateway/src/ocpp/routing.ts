import {
  requireOcppSchema,
  type OcppActionOf,
  type OcppProtocol,
  type OcppRequest,
  type OcppResponse,
} from '@csms/ocpp';
import {
  answeredActions,
  type AnsweredActions,
  type OCPP16_STATION_ACTIONS,
  type OCPP201_STATION_ACTIONS,
} from '@csms/ocpp-normaliser';
import type { OcppHandler, Route, RoutingTable } from './handler';
import * as v16 from './handlers/v16';
import * as v201 from './handlers/v201';

/**
 * The handlers of the actions a protocol's station action table (libs/ocpp-normaliser/src/actions/)
 * declares `gateway: 'answers'`: exactly those keys, each typed by the action's generated request and
 * response. An answered action without its handler, or a handler for an action the table does not
 * declare answered, does not compile (and fails at load time, below).
 */
export type HandlerTable<P extends OcppProtocol, Table> = {
  readonly [A in AnsweredActions<Table> & OcppActionOf<P>]: OcppHandler<OcppRequest<P, A>, OcppResponse<P, A>>;
};

/** OCPP 1.6: the handler of each answered action. */
export const OCPP16_HANDLERS: HandlerTable<'ocpp1.6', typeof OCPP16_STATION_ACTIONS> = {
  BootNotification: v16.bootNotification,
  Heartbeat: v16.heartbeat,
  StatusNotification: v16.statusNotification,
  Authorize: v16.authorize,
  StartTransaction: v16.startTransaction,
  StopTransaction: v16.stopTransaction,
  MeterValues: v16.meterValues,
  DataTransfer: v16.dataTransfer,
  DiagnosticsStatusNotification: v16.diagnosticsStatusNotification,
  FirmwareStatusNotification: v16.firmwareStatusNotification,
};

/** OCPP 2.0.1: the handler of each answered action. */
export const OCPP201_HANDLERS: HandlerTable<'ocpp2.0.1', typeof OCPP201_STATION_ACTIONS> = {
  BootNotification: v201.bootNotification,
  Heartbeat: v201.heartbeat,
  StatusNotification: v201.statusNotification,
  Authorize: v201.authorize,
  TransactionEvent: v201.transactionEvent,
  MeterValues: v201.meterValues,
  NotifyEvent: v201.notifyEvent,
  SecurityEventNotification: v201.securityEventNotification,
  FirmwareStatusNotification: v201.firmwareStatusNotification,
  LogStatusNotification: v201.logStatusNotification,
  NotifyReport: v201.notifyReport,
  DataTransfer: v201.dataTransfer,
};

export const HANDLERS: Record<OcppProtocol, Readonly<Record<string, OcppHandler<never, object>>>> = {
  'ocpp1.6': OCPP16_HANDLERS,
  'ocpp2.0.1': OCPP201_HANDLERS,
};

/**
 * A protocol's routing table, built from its station action table: every action declared answered, with
 * its official request/response schemas (libs/ocpp) and its handler. Throws when the handlers do not
 * cover exactly the answered actions.
 */
export function routingTable(
  protocol: OcppProtocol,
  handlers: Readonly<Record<string, OcppHandler<never, object>>>,
): RoutingTable {
  const answered = answeredActions(protocol);
  const extra = Object.keys(handlers).filter((a) => !answered.includes(a));
  const missing = answered.filter((a) => !Object.hasOwn(handlers, a));
  if (extra.length > 0 || missing.length > 0) {
    throw new Error(
      `handlers of ${protocol} do not match its station action table: missing [${missing.join()}], not declared answered [${extra.join()}]`,
    );
  }
  const table: Record<string, Route> = {};
  for (const action of answered) {
    table[action] = {
      request: requireOcppSchema(protocol, action, 'request'),
      response: requireOcppSchema(protocol, action, 'response'),
      handler: handlers[action],
    };
  }
  return table;
}

export const OCPP16_ROUTES: RoutingTable = routingTable('ocpp1.6', OCPP16_HANDLERS);
export const OCPP201_ROUTES: RoutingTable = routingTable('ocpp2.0.1', OCPP201_HANDLERS);
export const ROUTES: Record<OcppProtocol, RoutingTable> = { 'ocpp1.6': OCPP16_ROUTES, 'ocpp2.0.1': OCPP201_ROUTES };
