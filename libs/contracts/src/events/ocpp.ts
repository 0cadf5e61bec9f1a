import { Type, type Static } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
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
 * One record per thing a station said or did at the gateway, verbatim: a CALL with its payload
 * (and the answer when the gateway answers itself, e.g. the transactionId it assigned), a
 * CALLRESULT/CALLERROR to one of our calls, a connect, a disconnect, and a frame the gateway
 * rejected (`rejected`: the frame as received in `frame`, or the parsed call's `action`/`payload`,
 * the CALLERROR sent back in `response` as [errorCode, errorDescription], the failure in `reason`), so
 * that "the station says it sent it" can be answered from the log. Key = station id.
 * `rejected` and `frame` were added to v1 (additive: every earlier record still reads), and so was `tokens`.
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
