import type { EventCatalogue, Envelope, OcppMessageReceived } from '@csms/contracts';
import { SessionEndedV1, SessionStartedV1, SessionUpdatedV1 } from '@csms/contracts';
import type { ChunkEndHook, EventHandler } from '@csms/messaging';
import { normalise, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { handle, initialState, type SessionCommand, type SessionDeciderConfig, sessionDecider, type SessionsState } from '@csms/sessions';
import { loadStationState, projectSessionEvent, saveStationState, type PublicSessionEnvelope } from './session-store';

export const SERVICE_SOURCE = 'session-service';
const PUBLIC = new Set<string>([SessionStartedV1.type, SessionUpdatedV1.type, SessionEndedV1.type]);

interface CachedStation {
  state: SessionsState;
  dirty: boolean;
  lastEventAt: string;
}
const key = (stationId: string) => `station:${stationId}`;

/**
 * Folds one `ocpp.message_received` record into the sessions of its station:
 * normalise (pure) -> decide + evolve (pure) -> station state, read model and emitted events, all in the
 * consumer's transaction (with the inbox row and the outbox rows). Time-based closing rules run at the
 * record's receive time (event time, never the wall clock), after the record's own events.
 * A station's state is loaded (and locked) once per chunk transaction and written once at its end.
 */
export function makeInboundHandler(catalogue: EventCatalogue, config: Partial<SessionDeciderConfig>): { handler: EventHandler; onChunkEnd: ChunkEndHook } {
  const decider = sessionDecider(config);
  const handler: EventHandler = async (event, ctx) => {
    const record = (event as OcppMessageReceived).payload as OcppInboundRecord;
    const res = normalise(record, { eventId: event.id, topic: ctx.position.topic, partition: ctx.position.partition, offset: ctx.position.offset });
    if (!res.ok) throw res.error; // not retriable: parked with its code and field path
    const { manager, scratch } = ctx;
    let cached = scratch.get(key(record.stationId)) as CachedStation | undefined;
    if (!cached) {
      cached = { state: (await loadStationState(manager, record.stationId)) ?? initialState(), dirty: false, lastEventAt: record.receivedAt };
      scratch.set(key(record.stationId), cached);
    }
    const commands: SessionCommand[] = [];
    if (res.events.length > 0) commands.push({ type: 'RecordChargerEvents', events: res.events });
    commands.push({ type: 'CloseStaleSessions', now: record.receivedAt });
    for (const command of commands) {
      const r = handle(command, cached.state, decider);
      if (r.state !== cached.state) {
        cached.state = r.state;
        cached.dirty = true;
        cached.lastEventAt = record.receivedAt;
      }
      for (const d of r.events as Array<{ type: string }>) {
        if (!PUBLIC.has(d.type)) continue;
        const env = catalogue.check({ ...(d as object), source: SERVICE_SOURCE }) as Envelope;
        await projectSessionEvent(manager, env as PublicSessionEnvelope);
        ctx.emit(env);
      }
    }
  };
  const onChunkEnd: ChunkEndHook = async ({ manager, scratch }) => {
    for (const [k, v] of scratch) {
      if (!k.startsWith('station:')) continue;
      const c = v as CachedStation;
      if (c.dirty) await saveStationState(manager, k.slice('station:'.length), c.state, c.lastEventAt);
    }
  };
  return { handler, onChunkEnd };
}
