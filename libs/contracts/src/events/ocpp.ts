import { Type, type Static } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import {
  RegistryConnectorSchema,
  RegistryEvseSchema,
  StationLocationSchema,
  type RegistryConnector,
  type RegistryEvse,
} from '../ocpi-location';
import { Topics } from '../topics';

/**
 * What the gateway's registry said of an id token when the gateway answered a station with it (Authorize,
 * StartTransaction, StopTransaction, TransactionEvent): the token's registry revision, its group and the billing
 * account that pays. Billing and payments take these, as recorded, rather than their own later copy of the
 * compacted registry topic: a token moved to another account, or registered a moment before its first use, then
 * prices and bills the same in the live run and in any rebuild. Revision null: the registry did not know the token
 * then (e.g. a remote start's one-time token, accepted by its grant before its registry record reached the gateway):
 * billing and payments then use their copy, as for records of before these facts were recorded.
 */
export const TokenAsAnsweredSchema = closed({
  revision: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  groupId: Type.Union([Type.String({ minLength: 1, maxLength: 36 }), Type.Null()]),
  billingAccountId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
});
export type TokenAsAnswered = Static<typeof TokenAsAnsweredSchema>;

/**
 * The facts of an id token that decide its billing: those recorded when the station was answered, if the registry
 * knew the token then; undefined otherwise (not recorded, or revision null), and the reader's copy of the registry
 * decides. The one place this rule is written (billing, the tariff service and the payment service ask it).
 */
export function answeredToken(idToken: { registry?: TokenAsAnswered } | undefined): TokenAsAnswered | undefined {
  const r = idToken?.registry;
  return r === undefined || r.revision === null ? undefined : r;
}

/**
 * What the gateway's registry said of the station when the gateway answered the call that started a transaction
 * (1.6 StartTransaction, 2.0.1 TransactionEvent with eventType Started): its registry revision, site, time zone,
 * location and EVSEs with their connector types. Tariff selection (site scope), the time zone of time-of-day rules
 * and the CDR's `cdr_location` take these, as recorded, rather than the tariff service's later copy of the
 * compacted registry topic: a station moved to another site, or re-registered with another address, after a
 * session prices and describes that session the same in the live run and in any rebuild. Not recorded (records of
 * before, a station the registry did not know): the copy decides, as before.
 */
export const StationAsAnsweredSchema = closed({
  revision: Type.Integer({ minimum: 1 }),
  siteId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
  timeZone: Type.String({ minLength: 1, maxLength: 64 }),
  location: Type.Union([StationLocationSchema, Type.Null()]),
  evses: Type.Array(RegistryEvseSchema),
});
export type StationAsAnswered = Static<typeof StationAsAnsweredSchema>;

/**
 * The station facts as a session event carries them: those of the start, with only the session's EVSE and connector
 * (`sessionConnectorOf`), so that the event's size does not depend on how many the station has.
 */
export const SessionStationSchema = closed({
  ...StationAsAnsweredSchema.properties,
  evses: Type.Array(
    closed({ ...RegistryEvseSchema.properties, connectors: Type.Array(RegistryConnectorSchema, { maxItems: 1 }) }),
    { maxItems: 1 },
  ),
});
export type SessionStation = Static<typeof SessionStationSchema>;

/** Where a session took place, as a session event says it: the protocol and the EVSE / connector numbers. */
export interface SessionPlace {
  protocol: 'ocpp1.6' | 'ocpp2.0.1';
  evseId?: number;
  connectorId?: number;
}

/**
 * The EVSE and connector a session used, in the registry's numbering: 2.0.1 as reported; OCPP 1.6 connector N is
 * EVSE N with connector 1 (as the gateway registers reported connectors). The connector is the session's, or the
 * EVSE's only connector when a 2.0.1 session did not name one. `connectorNo` is what a CDR states (1 when unknown).
 */
export function sessionConnectorOf(
  evses: readonly RegistryEvse[] | undefined,
  s: SessionPlace,
): { evseNo: number; evse?: RegistryEvse; connectorNo: number; connector?: RegistryConnector } {
  const evseNo = s.evseId ?? s.connectorId ?? 1;
  const evse = evses?.find((e) => e.evseId === evseNo);
  let connectorNo = s.protocol === 'ocpp1.6' ? 1 : s.connectorId;
  if (connectorNo === undefined && evse?.connectors.length === 1) connectorNo = evse.connectors[0].connectorId;
  const connector = connectorNo === undefined ? undefined : evse?.connectors.find((c) => c.connectorId === connectorNo);
  return { evseNo, evse, connectorNo: connectorNo ?? 1, connector };
}

/**
 * The station facts of the start narrowed to the session's EVSE and connector (none when the registry had not that
 * EVSE then): `sessionConnectorOf` over the result finds what it finds over the whole list.
 */
export function sessionStationOf(facts: StationAsAnswered, s: SessionPlace): SessionStation {
  const { evse, connector } = sessionConnectorOf(facts.evses, s);
  return {
    revision: facts.revision,
    siteId: facts.siteId,
    timeZone: facts.timeZone,
    location: facts.location,
    evses: evse ? [{ ...evse, connectors: connector ? [connector] : [] }] : [],
  };
}

/**
 * One record per thing a station said or did at the gateway, verbatim: a CALL with its payload
 * (and the answer when the gateway answers itself, e.g. the transactionId it assigned), a
 * CALLRESULT/CALLERROR to one of our calls, a connect, a disconnect, and a frame the gateway
 * rejected (`rejected`: the frame as received in `frame`, or the parsed call's `action`/`payload`,
 * the CALLERROR sent back in `response` as [errorCode, errorDescription], the failure in `reason`), so
 * that "the station says it sent it" can be answered from the log. Key = station id.
 * `rejected` and `frame` were added to v1 (additive: every earlier record still reads), and so were `tokens` and
 * `station`.
 */
export const OcppMessageReceivedV1 = defineEvent({
  type: 'ocpp.message_received',
  version: 1,
  topic: Topics.ocppInbound,
  description: 'an inbound OCPP frame or connection event, verbatim, with its metadata',
  schema: closed({
    stationId: Type.String({ minLength: 1, maxLength: 255 }),
    protocol: Type.Union([Type.Literal('ocpp1.6'), Type.Literal('ocpp2.0.1')]),
    kind: Type.Union([
      Type.Literal('call'),
      Type.Literal('callresult'),
      Type.Literal('callerror'),
      Type.Literal('connected'),
      Type.Literal('disconnected'),
      Type.Literal('rejected'),
    ]),
    messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 36 })),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    payload: Type.Optional(Type.Unknown()),
    response: Type.Optional(Type.Unknown()),
    receivedAt: Type.String({ format: 'date-time' }),
    connectionId: Type.String({ minLength: 1 }),
    gatewayInstance: Type.String({ minLength: 1 }),
    reason: Type.Optional(Type.String()),
    /** a rejected frame as received (text; `base64:` + the bytes for a binary frame) */
    frame: Type.Optional(Type.String()),
    /** a call: the registry's facts of each id token the gateway looked up to answer it (see TokenAsAnsweredSchema) */
    tokens: Type.Optional(
      Type.Array(closed({ uid: Type.String({ minLength: 1, maxLength: 255 }), ...TokenAsAnsweredSchema.properties }), {
        maxItems: 4,
      }),
    ),
    /** a call that started a transaction: the registry's facts of the station then (see StationAsAnsweredSchema) */
    station: Type.Optional(StationAsAnsweredSchema),
  }),
  example: {
    stationId: 'CP-001',
    protocol: 'ocpp1.6',
    kind: 'call',
    messageId: '19223201',
    action: 'StartTransaction',
    payload: { connectorId: 1, idTag: 'ABC123', meterStart: 1200, timestamp: '2026-03-01T10:00:00Z' },
    response: { transactionId: 42, idTagInfo: { status: 'Accepted' } },
    receivedAt: '2026-03-01T10:00:00.120Z',
    connectionId: 'c0a8e2b4-0b5f-4e02-9a43-1f5a7c7f2d11',
    gatewayInstance: 'gw-1',
  },
});
export type OcppMessageReceived = EventOf<typeof OcppMessageReceivedV1>;
