import type { EventCatalogue, Envelope, OcppMessageReceived } from '@csms/contracts';
import { SessionEndedV1, SessionStartedV1, SessionUpdatedV1 } from '@csms/contracts';
import type { EventHandler } from '@csms/messaging';
import { normalise, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { handle, initialState, type SessionCommand, type SessionDeciderConfig, sessionDecider, type SessionsState } from '@csms/sessions';
import { loadStationState, projectSessionEvent, saveStationState, type PublicSessionEnvelope } from './session-store';

export const SERVICE_SOURCE = 'session-service';
const PUBLIC = new Set<string>([SessionStartedV1.type, SessionUpdatedV1.type, SessionEndedV1.type]);

/**
 * Folds one `ocpp.message_received` record into the sessions of its station:
 * normalise (pure) -> decide + evolve (pure) -> station state, read model and emitted events, all in the
 * consumer's transaction (with the inbox row and the outbox rows). Time-based closing rules run at the
 * record's receive time (event time, never the wall clock), after the record's own events.
 */
export function makeInboundHandler(catalogue: EventCatalogue, config: Partial<SessionDeciderConfig>): EventHandler {
  const decider = sessionDecider(config);
  return async (event, ctx) => {
    const record = (event as OcppMessageReceived).payload as OcppInboundRecord;
    const res = normalise(record, { eventId: event.id, topic: ctx.position.topic, partition: ctx.position.partition, offset: ctx.position.offset });
    if (!res.ok) throw res.error; // not retriable: parked with its code and field path
    const { manager } = ctx;
    const before = (await loadStationState(manager, record.stationId)) ?? initialState();
    let state: SessionsState = before;
    const decided: Array<{ type: string }> = [];
    const commands: SessionCommand[] = [];
    if (res.events.length > 0) commands.push({ type: 'RecordChargerEvents', events: res.events });
    commands.push({ type: 'CloseStaleSessions', now: record.receivedAt });
    for (const command of commands) {
      const r = handle(command, state, decider);
      state = r.state;
      decided.push(...(r.events as Array<{ type: string }>));
    }
    if (state === before) return;
    await saveStationState(manager, record.stationId, state, record.receivedAt);
    for (const d of decided) {
      if (!PUBLIC.has(d.type)) continue;
      const env = catalogue.check({ ...(d as object), source: SERVICE_SOURCE }) as Envelope;
      await projectSessionEvent(manager, env as PublicSessionEnvelope);
      ctx.emit(env);
    }
  };
}
