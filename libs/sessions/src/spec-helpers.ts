/** Test builders: OCPP messages → normalised charger events → decider commands. Used by the specs and the bench. */
import { normaliseOrThrow, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import type { SessionCommand } from './decider';
import { handle, sessionDecider, type Decider } from './decider';
import type { PublicSessionEvent, SessionDeciderEvent, SessionEnded, SessionUpdated } from './events';
import { isPublicSessionEvent } from './events';
import { initialState, type SessionsState } from './state';

export interface Sv16 {
  value: string;
  unit?: string;
  measurand?: string;
  context?: string;
  phase?: string;
  format?: string;
}

/** Builds the inbound records of one station; ids and receive times are deterministic. */
export function station(stationId = 'CS-1', protocol: 'ocpp1.6' | 'ocpp2.0.1' = 'ocpp1.6') {
  let n = 0;
  const rec = (action: string, payload: unknown, receivedAt: string, response?: unknown): SessionCommand[] => {
    n += 1;
    const record: OcppInboundRecord = {
      stationId,
      protocol,
      kind: 'call',
      messageId: `m${n}`,
      action,
      payload,
      receivedAt,
      connectionId: 'c1',
      gatewayInstance: 'gw',
      ...(response === undefined ? {} : { response }),
    };
    const { events } = normaliseOrThrow(record, { eventId: `${stationId}-rec-${n}`, topic: 'ocpp.inbound', partition: 0, offset: String(n) });
    return [{ type: 'RecordChargerEvents' as const, events }];
  };
  const recvAt = (ts: string, received?: string) => received ?? ts;
  return {
    start16: (o: { tx: number; connectorId?: number; meterStart: number; at: string; idTag?: string; receivedAt?: string }) =>
      rec('StartTransaction', { connectorId: o.connectorId ?? 1, idTag: o.idTag ?? 'TAG1', meterStart: o.meterStart, timestamp: o.at }, recvAt(o.at, o.receivedAt), {
        transactionId: o.tx,
        idTagInfo: { status: 'Accepted' },
      }),
    meter16: (o: { tx?: number; connectorId?: number; at: string; values: Sv16[]; receivedAt?: string }) =>
      rec(
        'MeterValues',
        { connectorId: o.connectorId ?? 1, ...(o.tx === undefined ? {} : { transactionId: o.tx }), meterValue: [{ timestamp: o.at, sampledValue: o.values }] },
        recvAt(o.at, o.receivedAt),
      ),
    wh16: (o: { tx: number; connectorId?: number; at: string; wh: string; receivedAt?: string }) =>
      rec('MeterValues', { connectorId: o.connectorId ?? 1, transactionId: o.tx, meterValue: [{ timestamp: o.at, sampledValue: [{ value: o.wh }] }] }, recvAt(o.at, o.receivedAt)),
    stop16: (o: { tx: number; meterStop: number; at: string; idTag?: string; reason?: string; transactionData?: unknown[]; receivedAt?: string }) =>
      rec(
        'StopTransaction',
        {
          transactionId: o.tx,
          meterStop: o.meterStop,
          timestamp: o.at,
          ...(o.idTag ? { idTag: o.idTag } : {}),
          ...(o.reason ? { reason: o.reason } : {}),
          ...(o.transactionData ? { transactionData: o.transactionData } : {}),
        },
        recvAt(o.at, o.receivedAt),
      ),
    status16: (o: { connectorId?: number; status: string; at: string; receivedAt?: string }) =>
      rec('StatusNotification', { connectorId: o.connectorId ?? 1, status: o.status, errorCode: 'NoError', timestamp: o.at }, recvAt(o.at, o.receivedAt)),
    tx201: (o: {
      eventType: 'Started' | 'Updated' | 'Ended';
      tx?: string;
      seqNo: number;
      at: string;
      chargingState?: string;
      wh?: number | string;
      context?: string;
      unit?: string;
      multiplier?: number;
      offline?: boolean;
      triggerReason?: string;
      stoppedReason?: string;
      evseId?: number;
      power?: number;
      receivedAt?: string;
    }) =>
      rec(
        'TransactionEvent',
        {
          eventType: o.eventType,
          timestamp: o.at,
          triggerReason: o.triggerReason ?? (o.eventType === 'Updated' ? 'MeterValuePeriodic' : o.eventType === 'Started' ? 'Authorized' : 'StopAuthorized'),
          seqNo: o.seqNo,
          ...(o.offline ? { offline: true } : {}),
          transactionInfo: {
            transactionId: o.tx ?? 'TX-1',
            ...(o.chargingState ? { chargingState: o.chargingState } : {}),
            ...(o.stoppedReason ? { stoppedReason: o.stoppedReason } : {}),
          },
          ...(o.eventType === 'Started' ? { evse: { id: o.evseId ?? 1, connectorId: 1 }, idToken: { idToken: 'TOKEN', type: 'ISO14443' } } : {}),
          ...(o.wh !== undefined || o.power !== undefined
            ? {
                meterValue: [
                  {
                    timestamp: o.at,
                    sampledValue: [
                      ...(o.wh !== undefined
                        ? [
                            {
                              value: Number(o.wh),
                              context: o.context ?? (o.eventType === 'Started' ? 'Transaction.Begin' : o.eventType === 'Ended' ? 'Transaction.End' : 'Sample.Periodic'),
                              ...(o.unit || o.multiplier !== undefined ? { unitOfMeasure: { ...(o.unit ? { unit: o.unit } : {}), ...(o.multiplier !== undefined ? { multiplier: o.multiplier } : {}) } } : {}),
                            },
                          ]
                        : []),
                      ...(o.power !== undefined ? [{ value: o.power, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } }] : []),
                    ],
                  },
                ],
              }
            : {}),
        },
        recvAt(o.at, o.receivedAt),
      ),
  };
}

export const closeStale = (now: string): SessionCommand[] => [{ type: 'CloseStaleSessions', now }];

/** Folds commands through the decider; returns every decided event and the final state. */
export function run(
  commands: SessionCommand[],
  state: SessionsState = initialState(),
  decider: Decider<SessionCommand, SessionsState, SessionDeciderEvent> = sessionDecider(),
): { events: SessionDeciderEvent[]; published: PublicSessionEvent[]; state: SessionsState } {
  const events: SessionDeciderEvent[] = [];
  for (const c of commands) {
    const r = handle(c, state, decider);
    events.push(...r.events);
    state = r.state;
  }
  return { events, published: events.filter(isPublicSessionEvent), state };
}

export const endedOf = (events: SessionDeciderEvent[]): SessionEnded[] => events.filter((e): e is SessionEnded => e.type === 'session.ended');
export const updatesOf = (events: SessionDeciderEvent[]): SessionUpdated[] => events.filter((e): e is SessionUpdated => e.type === 'session.updated');
export const typesOf = (events: SessionDeciderEvent[]): string[] => events.filter(isPublicSessionEvent).map((e) => e.type);
