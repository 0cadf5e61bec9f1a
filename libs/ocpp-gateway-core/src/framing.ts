import type { OcppProtocol } from '@csms/ocpp';
import { callErrorCode, type CallErrorCode, type FailureClass } from './callerror';

/** OCPP-J message type numbers (both versions). */
export const MessageType = { CALL: 2, CALLRESULT: 3, CALLERROR: 4 } as const;

/** OCPP-J: "messageId string[36]". */
export const MAX_MESSAGE_ID_LENGTH = 36;

export type JsonObject = Record<string, unknown>;

export interface CallFrame {
  kind: 'call';
  messageId: string;
  action: string;
  payload: JsonObject;
}
export interface CallResultFrame {
  kind: 'callresult';
  messageId: string;
  payload: JsonObject;
}
export interface CallErrorFrame {
  kind: 'callerror';
  messageId: string;
  errorCode: string;
  errorDescription: string;
  errorDetails: JsonObject;
}

/**
 * A frame that is not a valid OCPP-J message. `reply` is the CALLERROR to send, or null when the
 * spec says not to answer (a broken CALLRESULT / CALLERROR is never answered: answering a response
 * would start a ping-pong; 1.6 says to ignore an unknown message type).
 */
export interface InvalidFrame {
  kind: 'invalid';
  failure: FailureClass;
  reason: string;
  reply: { messageId: string; errorCode: CallErrorCode; errorDescription: string } | null;
}

export type ParsedFrame = CallFrame | CallResultFrame | CallErrorFrame | InvalidFrame;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validMessageId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_MESSAGE_ID_LENGTH;
}

function invalid(
  protocol: OcppProtocol,
  failure: FailureClass,
  reason: string,
  messageId: string | null,
): InvalidFrame {
  return {
    kind: 'invalid',
    failure,
    reason,
    reply:
      messageId === null ? null : { messageId, errorCode: callErrorCode(protocol, failure), errorDescription: reason },
  };
}

/**
 * Parses one WebSocket text frame into an OCPP-J message. Never throws.
 *
 * OCPP 2.0.1 part 4 §4.2.3: "When also the MessageId cannot be read, the CALLERROR SHALL contain "-1" as
 * MessageId"; a message type other than 2/3/4 gets MessageTypeNotSupported (§4.2.3); content that is not
 * a valid RPC request gets RpcFrameworkError. OCPP-J 1.6 has neither code: it gets FormationViolation
 * ("Payload for Action is syntactically incorrect or not conform the PDU structure"), and an unknown
 * message type is ignored (§4.1.3 "it SHALL ignore the message payload").
 */
export function parseFrame(protocol: OcppProtocol, text: string): ParsedFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return invalid(protocol, 'unreadable', 'message is not valid JSON', '-1');
  }
  if (!Array.isArray(raw) || raw.length === 0)
    return invalid(protocol, 'unreadable', 'message is not a JSON array', '-1');
  const [type, messageId] = raw;
  const replyId = validMessageId(messageId) ? messageId : '-1';
  if (typeof type !== 'number' || !Number.isInteger(type)) {
    return invalid(protocol, 'unreadable', 'message type is not an integer', replyId);
  }
  if (type !== MessageType.CALL && type !== MessageType.CALLRESULT && type !== MessageType.CALLERROR) {
    return protocol === 'ocpp1.6'
      ? invalid(protocol, 'messageType', `message type ${type} is not supported`, null)
      : invalid(protocol, 'messageType', `message type ${type} is not supported`, replyId);
  }
  if (!validMessageId(messageId)) {
    // a response we cannot match is dropped; a call gets RpcFrameworkError / FormationViolation with id "-1"
    return invalid(
      protocol,
      'unreadable',
      `message id must be a string of 1 to ${MAX_MESSAGE_ID_LENGTH} characters`,
      type === MessageType.CALL ? '-1' : null,
    );
  }
  if (type === MessageType.CALL) {
    if (raw.length !== 4) return invalid(protocol, 'unreadable', `a CALL has 4 elements, got ${raw.length}`, messageId);
    const [, , action, payload] = raw;
    if (typeof action !== 'string' || action.length === 0)
      return invalid(protocol, 'unreadable', 'action must be a non-empty string', messageId);
    if (!isObject(payload)) return invalid(protocol, 'format', 'payload must be a JSON object', messageId);
    return { kind: 'call', messageId, action, payload };
  }
  if (type === MessageType.CALLRESULT) {
    if (raw.length !== 3 || !isObject(raw[2]))
      return invalid(protocol, 'format', 'a CALLRESULT is [3, messageId, {payload}]', null);
    return { kind: 'callresult', messageId, payload: raw[2] };
  }
  if (raw.length !== 5 || typeof raw[2] !== 'string' || typeof raw[3] !== 'string' || !isObject(raw[4])) {
    return invalid(
      protocol,
      'format',
      'a CALLERROR is [4, messageId, errorCode, errorDescription, {errorDetails}]',
      null,
    );
  }
  return { kind: 'callerror', messageId, errorCode: raw[2], errorDescription: raw[3], errorDetails: raw[4] };
}

/** OCPP-J: errorDescription "Should be filled in if possible, otherwise a clear empty string". */
const MAX_DESCRIPTION = 255;

export function encodeCall(messageId: string, action: string, payload: JsonObject): string {
  return JSON.stringify([MessageType.CALL, messageId, action, payload]);
}

export function encodeCallResult(messageId: string, payload: JsonObject): string {
  return JSON.stringify([MessageType.CALLRESULT, messageId, payload]);
}

export function encodeCallError(
  messageId: string,
  errorCode: CallErrorCode,
  errorDescription: string,
  errorDetails: JsonObject = {},
): string {
  return JSON.stringify([
    MessageType.CALLERROR,
    messageId,
    errorCode,
    errorDescription.slice(0, MAX_DESCRIPTION),
    errorDetails,
  ]);
}
