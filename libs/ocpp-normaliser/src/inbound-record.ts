import type { StationAsAnswered } from '@csms/contracts';

export type { StationAsAnswered };

/**
 * The raw inbound record the gateway publishes on `ocpp.inbound` (one per OCPP frame or connection
 * event). This shape is a contract with the gateway: it will move to libs/contracts; keep it exact.
 */
export interface OcppInboundRecord {
  stationId: string;
  protocol: 'ocpp1.6' | 'ocpp2.0.1';
  kind: 'call' | 'callresult' | 'callerror' | 'connected' | 'disconnected' | 'rejected';
  messageId?: string;
  /** for calls */
  action?: string;
  /** the request payload, verbatim */
  payload?: unknown;
  /**
   * the CALLRESULT payload the gateway answered with when it answers itself (BootNotification,
   * Authorize, StartTransaction incl. the transactionId it assigned, ...)
   */
  response?: unknown;
  /** RFC 3339 UTC, gateway receive time */
  receivedAt: string;
  connectionId: string;
  gatewayInstance: string;
  /** for disconnected: why; for rejected: the failure */
  reason?: string;
  /** for rejected: the frame as received */
  frame?: string;
  /** for calls: the registry's facts of each id token the gateway looked up to answer the call */
  tokens?: Array<{ uid: string } & TokenRegistryFacts>;
  /**
   * for a call that started a transaction (1.6 StartTransaction, 2.0.1 TransactionEvent Started): the registry's
   * facts of the station then (site, time zone, location, EVSEs; libs/contracts StationAsAnsweredSchema)
   */
  station?: StationAsAnswered;
}

/**
 * What the gateway's registry said of an id token when the gateway answered the station with it: its registry
 * revision (null: the registry did not know it), its group and the billing account that pays.
 */
export interface TokenRegistryFacts {
  revision: number | null;
  groupId: string | null;
  billingAccountId: string | null;
}

/** Where a record came from: the envelope id of the record and, when known, its log position. */
export interface SourceIdentity {
  eventId: string;
  topic?: string;
  partition?: number;
  offset?: string;
}
