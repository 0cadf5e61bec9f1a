import type { OcppJsonSchema, OcppProtocol } from '@csms/ocpp';
import type { StartTransactionIdentity, StationRecord, TokenRecord } from '@csms/ocpp-gateway-core';

/** What a handler may use: the station's identity, the registry in memory, the clock, the transactionId store. */
export interface HandlerContext {
  stationId: string;
  protocol: OcppProtocol;
  /** connected without being registered (OCPP_ALLOW_PROVISIONAL) */
  provisional: boolean;
  now(): Date;
  heartbeatIntervalS: number;
  station(): StationRecord | undefined;
  token(uid: string): TokenRecord | undefined;
  assignTransactionId(start: StartTransactionIdentity): Promise<number>;
}

/** One OCPP action's handler: the validated request in, the response to send out. */
export type OcppHandler<Req, Res> = (request: Req, ctx: HandlerContext) => Res | Promise<Res>;

/** One row of a routing table: the action's official schemas and its handler. */
export interface Route {
  request: OcppJsonSchema;
  response: OcppJsonSchema;
  handler: OcppHandler<never, object>;
}
export type RoutingTable = Readonly<Record<string, Route>>;
