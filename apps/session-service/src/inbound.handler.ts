import type { EntityManager } from 'typeorm';
import type { EventCatalogue, OcppMessageReceived } from '@csms/contracts';
import type { ChunkEndHook, ChunkStartHook, EventHandler } from '@csms/messaging';
import { normalise, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import {
  ChunkNotLoaded,
  handle,
  initialState,
  isPublicSessionEvent,
  type SessionCommand,
  type SessionDeciderConfig,
  sessionDecider,
  type SessionsState,
} from '@csms/sessions';
import {
  foldIntoDetail,
  foldIntoRow,
  saveDetailRows,
  saveSessionRows,
  StationStateStore,
  type StateCacheLimits,
  type DetailRows,
  type PublicSessionEnvelope,
  type SessionRow,
} from './session-store';
import { emptyPersisted, type Persisted } from './station-state';

export const SERVICE_SOURCE = 'session-service';

interface CachedStation {
  state: SessionsState;
  /** what is stored of it already (so that a save writes only what changed) */
  persisted: Persisted;
  dirty: boolean;
  lastEventAt: string;
  records: number;
}
interface ChunkState {
  stations: Map<string, CachedStation>;
  rows: Map<string, SessionRow>;
  /** every reading and source record of the sessions the chunk touched (the detail session.ended only summarises) */
  detail: DetailRows;
}
const CHUNK = 'sessions';

/**
 * Folds `ocpp.message_received` records into the sessions of their stations:
 * normalise (pure) -> decide + evolve (pure) -> station state, read model and emitted events, all in the
 * consumer's chunk transaction (with the inbox rows and the outbox rows). Time-based closing rules run
 * at each record's receive time (event time, never the wall clock), after the record's own events.
 * Per chunk: the stations' states are loaded (and locked) in one query and written in one statement,
 * and the read-model rows of the sessions it touched are written in one statement, their readings and
 * source records in one statement each.
 */
export function makeInboundHandler(
  catalogue: EventCatalogue,
  config: Partial<SessionDeciderConfig>,
  cache: StateCacheLimits = { stations: 2000, items: Number.POSITIVE_INFINITY },
): {
  handler: EventHandler;
  onChunkStart: ChunkStartHook;
  onChunkEnd: ChunkEndHook;
  /** how many times a state's chunks held without their items were read back (the decider asked for them) */
  stateLoads: () => number;
} {
  const decider = sessionDecider(config);
  const store = new StationStateStore(cache);
  const chunkOf = (scratch: Map<string, unknown>): ChunkState => {
    let c = scratch.get(CHUNK) as ChunkState | undefined;
    if (!c) {
      c = { stations: new Map(), rows: new Map(), detail: { readings: new Map(), sources: new Map() } };
      scratch.set(CHUNK, c);
    }
    return c;
  };

  const onChunkStart: ChunkStartHook = async ({ manager, scratch, events }) => {
    const ids = events
      .filter((e) => e.type === 'ocpp.message_received')
      .map((e) => (e.payload as OcppInboundRecord).stationId);
    const loaded = await store.load(manager, ids);
    const c = chunkOf(scratch);
    for (const id of new Set(ids)) c.stations.set(id, fresh(loaded.get(id)));
  };

  const fresh = (loaded: { state: SessionsState; persisted: Persisted } | undefined): CachedStation => ({
    state: loaded?.state ?? initialState(),
    persisted: loaded?.persisted ?? emptyPersisted(),
    dirty: false,
    lastEventAt: '',
    records: 0,
  });

  const handler: EventHandler = async (event, ctx) => {
    const record = (event as OcppMessageReceived).payload as OcppInboundRecord;
    const res = normalise(record, {
      eventId: event.id,
      topic: ctx.position.topic,
      partition: ctx.position.partition,
      offset: ctx.position.offset,
    });
    if (!res.ok) throw res.error; // not retriable: parked with its code and field path
    const c = chunkOf(ctx.scratch);
    let st = c.stations.get(record.stationId);
    if (!st) {
      const loaded = await store.load(ctx.manager, [record.stationId]);
      st = fresh(loaded.get(record.stationId));
      c.stations.set(record.stationId, st);
    }
    const commands: SessionCommand[] = [];
    if (res.events.length > 0) commands.push({ type: 'RecordChargerEvents', events: res.events });
    commands.push({ type: 'CloseStaleSessions', now: record.receivedAt });
    for (const command of commands) {
      const r = await decideLoaded(command, record.stationId, st, ctx.manager);
      if (r.state !== st.state) {
        st.state = r.state;
        st.dirty = true;
      }
      for (const d of r.events) {
        if (!isPublicSessionEvent(d)) {
          foldIntoDetail(c.detail, d);
          continue;
        }
        const env: PublicSessionEnvelope = { ...d, source: SERVICE_SOURCE };
        catalogue.check(env);
        foldIntoRow(c.rows, env);
        ctx.emit(env);
      }
    }
    st.records++;
    if (record.receivedAt > st.lastEventAt) st.lastEventAt = record.receivedAt;
  };

  /**
   * Decides with the station's state; when the decider needs the items of chunks the state holds without them
   * (`ChunkNotLoaded`), they are read back from the station's stored parts and the command is decided again (the
   * decider is pure: the state it was given is unchanged).
   */
  const decideLoaded = async (command: SessionCommand, stationId: string, st: CachedStation, m: EntityManager) => {
    try {
      return handle(command, st.state, decider);
    } catch (e) {
      if (!(e instanceof ChunkNotLoaded)) throw e;
      await store.loadUnloaded(m, stationId, st);
      return handle(command, st.state, decider);
    }
  };

  const onChunkEnd: ChunkEndHook = async ({ manager, scratch }) => {
    const c = scratch.get(CHUNK) as ChunkState | undefined;
    if (!c) return;
    await store.save(
      manager,
      [...c.stations]
        .filter(([, s]) => s.dirty)
        .map(([stationId, s]) => ({
          stationId,
          station: { state: s.state, persisted: s.persisted },
          lastEventAt: s.lastEventAt,
          records: s.records,
        })),
      decider.prepareToUnload,
    );
    await saveSessionRows(manager, c.rows.values());
    await saveDetailRows(manager, c.detail);
  };

  return { handler, onChunkStart, onChunkEnd, stateLoads: () => store.loads };
}
