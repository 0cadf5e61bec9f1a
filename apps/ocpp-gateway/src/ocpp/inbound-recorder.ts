import { EventCatalogue, OcppMessageReceivedV1, deriveId, type OcppMessageReceived } from '@csms/contracts';
import { eventHeaders } from '@csms/messaging';
import type { OcppProtocol } from '@csms/ocpp';
import type { OutgoingRecord } from '@csms/messaging';

const catalogue = new EventCatalogue([OcppMessageReceivedV1]);

export interface InboundFact {
  kind: OcppMessageReceived['payload']['kind'];
  messageId?: string;
  action?: string;
  payload?: unknown;
  response?: unknown;
  reason?: string;
  /** rejected: the frame as received */
  frame?: string;
  /** rejected: the n-th rejection on this connection (keeps their ids apart) */
  sequence?: number;
  /** call: the registry's facts of the id tokens its handler looked up */
  tokens?: OcppMessageReceived['payload']['tokens'];
  /** call that started a transaction: the registry's facts of the station when it was answered */
  station?: OcppMessageReceived['payload']['station'];
}

export interface ConnectionIdentity {
  stationId: string;
  protocol: OcppProtocol;
  connectionId: string;
}

/**
 * Turns what a station said into `ocpp.message_received` v1 on `ocpp.inbound` (key = station id), with the
 * registry's facts of the id tokens a call was answered with (`tokens`) and of the station when a call started a
 * transaction (`station`), and
 * resolves when the broker has acknowledged it. Event ids are name-based: station id + connection id +
 * message id (+ kind), so a re-publish of the same fact carries the same id. `receivedAt` is the gateway
 * clock: the fact's own timestamp, recorded once.
 */
export class InboundRecorder {
  constructor(
    private readonly publisher: { publish(record: OutgoingRecord): Promise<void> },
    private readonly topic: string,
    private readonly instance: string,
    private readonly now: () => Date,
  ) {}

  record(conn: ConnectionIdentity, fact: InboundFact): Promise<void> {
    const receivedAt = this.now().toISOString();
    const env = catalogue.create(OcppMessageReceivedV1, {
      id: deriveId(
        'ocpp.message_received',
        conn.stationId,
        conn.connectionId,
        `${fact.messageId ?? fact.kind}${fact.sequence === undefined ? '' : `#${fact.sequence}`}`,
        fact.kind,
      ),
      key: conn.stationId,
      occurredAt: receivedAt,
      source: `ocpp-gateway/${this.instance}`,
      correlationId: fact.messageId ?? conn.connectionId,
      payload: {
        stationId: conn.stationId,
        protocol: conn.protocol,
        kind: fact.kind,
        ...(fact.messageId !== undefined ? { messageId: fact.messageId } : {}),
        ...(fact.action !== undefined ? { action: fact.action } : {}),
        ...(fact.payload !== undefined ? { payload: fact.payload } : {}),
        ...(fact.response !== undefined ? { response: fact.response } : {}),
        ...(fact.reason !== undefined ? { reason: fact.reason } : {}),
        ...(fact.frame !== undefined ? { frame: fact.frame } : {}),
        ...(fact.tokens !== undefined ? { tokens: fact.tokens } : {}),
        ...(fact.station !== undefined ? { station: fact.station } : {}),
        receivedAt,
        connectionId: conn.connectionId,
        gatewayInstance: this.instance,
      },
    });
    return this.publisher.publish({
      topic: this.topic,
      key: conn.stationId,
      value: JSON.stringify(env),
      headers: eventHeaders(env),
    });
  }
}
