import type { EventQualityFlag } from '../events';
import { instantAt, optInt, str, optStr, type Obj } from '../read';
import type { Draft, FactMapping } from './declaration';

/** The time of an event from an OCPP date-time, flagged when it had no offset. */
export function at(value: unknown, path: string): { occurredAt: string; flags?: EventQualityFlag[] } {
  const p = instantAt(value, path);
  return p.offsetMissing ? { occurredAt: p.iso, flags: ['TIMESTAMP_WITHOUT_OFFSET'] } : { occurredAt: p.iso };
}

/** As `at`, nothing when the field is absent. */
export function optAt(value: unknown, path: string): { occurredAt?: string; flags?: EventQualityFlag[] } {
  return value === undefined ? {} : at(value, path);
}

/**
 * Marks the events of one message whose own time differs from the message's timestamp with `messageAt`
 * (samples inside a message keep their sample time; delivery delay is judged by the message's).
 */
export function stampedBy(drafts: Draft[], messageAt: string): Draft[] {
  for (const d of drafts) if (d.occurredAt !== undefined && d.occurredAt !== messageAt) d.messageAt = messageAt;
  return drafts;
}

/** MeterValues carry no timestamp of their own: the newest sample stands for the message's (canonical ISO strings sort by time). */
export function stampedByNewest(drafts: Draft[]): Draft[] {
  let newest: string | undefined;
  for (const d of drafts)
    if (d.occurredAt !== undefined && (newest === undefined || d.occurredAt > newest)) newest = d.occurredAt;
  return newest === undefined ? drafts : stampedBy(drafts, newest);
}

/** A copy without the undefined fields (built by adding, never `delete`: deleting makes V8 objects slow). */
export function defined<T extends object>(o: T): T {
  const out: Obj = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out as T;
}

/**
 * The fields the status reports of both versions share (FirmwareStatusNotification,
 * SignedFirmwareStatusNotification, PublishFirmwareStatusNotification, DiagnosticsStatusNotification,
 * LogStatusNotification). `requestId` is read when present, also where the version's message has none.
 */
interface StatusReport {
  status: string;
  requestId?: number;
}

export function firmware(origin: string): FactMapping<StatusReport> {
  return ({ payload: p, record }) => [
    defined({
      type: 'firmware.status.reported' as const,
      status: str(p, 'status', 'payload'),
      requestId: optInt(p, 'requestId', 'payload'),
      origin: origin || (record.action as string),
    }),
  ];
}

export function diagnostics(kind: 'diagnostics' | 'log'): FactMapping<StatusReport> {
  return ({ payload: p }) => [
    defined({
      type: 'diagnostics.status.reported' as const,
      kind,
      status: str(p, 'status', 'payload'),
      requestId: optInt(p, 'requestId', 'payload'),
    }),
  ];
}

/** SecurityEventNotification: the same fields in 1.6 (security whitepaper) and 2.0.1. */
interface SecurityEvent {
  type: string;
  timestamp: string;
  techInfo?: string;
}

export const security: FactMapping<SecurityEvent> = ({ payload: p }) => [
  defined({
    type: 'security.event.reported' as const,
    ...at(p.timestamp, 'payload.timestamp'),
    securityEventType: str(p, 'type', 'payload'),
    techInfo: optStr(p, 'techInfo', 'payload'),
  }),
];
