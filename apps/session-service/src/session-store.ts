import type { EntityManager } from 'typeorm';
import type { SessionsState } from '@csms/sessions';
import type { SessionEndedEvent, SessionStartedEvent, SessionUpdatedEvent } from '@csms/contracts';

export type PublicSessionEnvelope = SessionStartedEvent | SessionUpdatedEvent | SessionEndedEvent;

/** The decider state of one station, locked for the rest of the transaction. */
export async function loadStationState(m: EntityManager, stationId: string): Promise<SessionsState | undefined> {
  const rows: Array<{ state: SessionsState }> = await m.query('select state from station_state where station_id = $1 for update', [stationId]);
  return rows[0]?.state;
}

export async function saveStationState(m: EntityManager, stationId: string, state: SessionsState, lastEventAt: string): Promise<void> {
  await m.query(
    `insert into station_state (station_id, state, last_event, records) values ($1, $2, $3, 1)
     on conflict (station_id) do update set state = excluded.state, last_event = greatest(station_state.last_event, excluded.last_event), records = station_state.records + 1`,
    [stationId, JSON.stringify(state), lastEventAt],
  );
}

/** Projects a public session event into the `sessions` read model. */
export async function projectSessionEvent(m: EntityManager, e: PublicSessionEnvelope): Promise<void> {
  const p = e.payload;
  const common = [p.sessionId, p.stationId, p.transactionId, p.protocol, p.evseId ?? null, p.connectorId ?? null];
  if (e.type === 'session.started') {
    await m.query(
      `insert into sessions (session_id, station_id, transaction_id, protocol, evse_id, connector_id, id_token, status, started_at, started, latest)
       values ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $9)
       on conflict (session_id) do update set started = excluded.started, started_at = excluded.started_at,
         id_token = coalesce(excluded.id_token, sessions.id_token)`,
      [...common, e.payload.idToken?.idToken ?? null, e.payload.startedAt, JSON.stringify(e.payload)],
    );
  } else if (e.type === 'session.updated') {
    await m.query(
      `insert into sessions (session_id, station_id, transaction_id, protocol, evse_id, connector_id, status, started_at, energy_wh, needs_review, latest)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, $10)
       on conflict (session_id) do update set status = case when sessions.status = 'ended' then 'ended' else excluded.status end,
         energy_wh = case when sessions.status = 'ended' then sessions.energy_wh else excluded.energy_wh end, latest = excluded.latest`,
      [...common, e.payload.status, e.payload.startedAt, e.payload.energyWh, JSON.stringify(e.payload)],
    );
  } else {
    const q = e.payload.dataQuality;
    await m.query(
      `insert into sessions (session_id, station_id, transaction_id, protocol, evse_id, connector_id, id_token, status, started_at, ended_at, energy_wh, revision, needs_review, latest, ended)
       values ($1, $2, $3, $4, $5, $6, $7, 'ended', $8, $9, $10, $11, $12, $13, $13)
       on conflict (session_id) do update set status = 'ended', started_at = excluded.started_at, ended_at = excluded.ended_at,
         energy_wh = excluded.energy_wh, revision = excluded.revision, needs_review = excluded.needs_review,
         id_token = coalesce(sessions.id_token, excluded.id_token), latest = excluded.latest, ended = excluded.ended
       where sessions.revision < excluded.revision`,
      [
        ...common,
        e.payload.idToken?.idToken ?? null,
        e.payload.startedAt,
        e.payload.endedAt,
        e.payload.totals.energyWh,
        e.payload.revision,
        q.needsReview,
        JSON.stringify(e.payload),
      ],
    );
  }
}
