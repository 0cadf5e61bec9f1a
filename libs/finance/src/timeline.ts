import type { ChargerEvent } from '@csms/ocpp-normaliser';

/**
 * Utilisation and uptime of EVSEs, from the facts the chargers state (ocpp.inbound, normalised): connectivity,
 * connector status, charging state and transaction starts, as a log of status facts per station and EVSE.
 * Pure: the read model stores the facts; the reports cut them into periods when asked, so a rebuild that reads
 * the topics in another order gives the same reports.
 */
export type StatusFactKind = 'connectivity' | 'status' | 'charging' | 'session';

export interface StatusFact {
  stationId: string;
  /** the EVSE (2.0.1 EVSE id, 1.6 connector id); 0: the whole station (connectivity, connector 0) */
  evseId: number;
  kind: StatusFactKind;
  /** online | offline; a connector status; a charging state; a transaction id */
  value: string;
  /** the station's time of the fact (the event's occurredAt), epoch ms */
  atMs: number;
  /** order among facts of the same instant: the record's offset x 64 + the fact's index in it */
  seq: bigint;
}

/** The status facts one charger event states (none for meter values, firmware, security events...). */
export function statusFactsOf(e: ChargerEvent, offset: bigint, index: number): StatusFact[] {
  const at = Date.parse(e.occurredAt);
  const facts: StatusFact[] = [];
  const push = (evseId: number, kind: StatusFactKind, value: string) =>
    facts.push({
      stationId: e.stationId,
      evseId,
      kind,
      value,
      atMs: at,
      seq: offset * 64n + BigInt(index * 8 + facts.length),
    });
  switch (e.type) {
    case 'station.connected':
    case 'station.booted':
      push(0, 'connectivity', 'online');
      break;
    case 'station.disconnected':
      push(0, 'connectivity', 'offline');
      break;
    case 'connector.status.changed': {
      const evse = e.evseId ?? e.connectorId;
      push(e.evseId !== undefined && e.evseId > 0 ? e.evseId : e.connectorId === 0 ? 0 : evse, 'status', e.status);
      if (e.chargingState !== undefined && evse > 0) push(evse, 'charging', e.chargingState);
      break;
    }
    case 'transaction.started': {
      const evse = e.evseId ?? e.connectorId;
      if (evse !== undefined && evse > 0) {
        push(evse, 'session', e.transactionId);
        if (e.chargingState !== undefined) push(evse, 'charging', e.chargingState);
      }
      break;
    }
    case 'charging.state.changed': {
      const evse = e.evseId ?? e.connectorId;
      if (evse !== undefined && evse > 0) push(evse, 'charging', e.chargingState);
      break;
    }
    case 'transaction.ended': {
      const evse = e.evseId ?? e.connectorId;
      if (evse !== undefined && evse > 0) push(evse, 'charging', 'Idle');
      break;
    }
    default:
  }
  return facts;
}

/** Connector statuses during which a vehicle occupies the EVSE (OCPP 1.6 and 2.0.1 status enums). */
const OCCUPIED = new Set(['Occupied', 'Preparing', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing']);

export type OutageCause = 'OFFLINE' | 'STATION_FAULTED' | 'FAULTED' | 'STATION_UNAVAILABLE' | 'UNAVAILABLE';

export interface MaintenanceWindow {
  /** 0: every EVSE of the station */
  evseId: number;
  fromMs: number;
  toMs: number;
}

interface State {
  online?: boolean;
  station?: string;
  evse?: string;
  charging?: string;
}

export interface Segment {
  fromMs: number;
  toMs: number;
  /** no fact known yet: neither up nor down */
  unknown: boolean;
  outage: OutageCause | null;
  maintenance: boolean;
  occupied: boolean;
  charging: boolean;
}

function causeOf(s: State): OutageCause | null {
  if (s.online === false) return 'OFFLINE';
  if (s.station === 'Faulted') return 'STATION_FAULTED';
  if (s.evse === 'Faulted') return 'FAULTED';
  if (s.station === 'Unavailable') return 'STATION_UNAVAILABLE';
  if (s.evse === 'Unavailable') return 'UNAVAILABLE';
  return null;
}

const byTime = (a: StatusFact, b: StatusFact) => a.atMs - b.atMs || (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0);

/**
 * The segments of one EVSE over [fromMs, toMs): `facts` are the EVSE's own and its station's (evseId 0),
 * those before `fromMs` included (the state at `fromMs` is the last fact of each kind before it). Segments are
 * cut at every fact and every maintenance window edge.
 */
export function evseSegments(
  evseId: number,
  facts: readonly StatusFact[],
  maintenance: readonly MaintenanceWindow[],
  fromMs: number,
  toMs: number,
): Segment[] {
  const mine = facts.filter((f) => f.evseId === evseId || f.evseId === 0).sort(byTime);
  const windows = maintenance.filter(
    (w) => (w.evseId === 0 || w.evseId === evseId) && w.toMs > fromMs && w.fromMs < toMs,
  );
  const cuts = new Set<number>([fromMs, toMs]);
  for (const f of mine) if (f.atMs > fromMs && f.atMs < toMs) cuts.add(f.atMs);
  for (const w of windows) for (const t of [w.fromMs, w.toMs]) if (t > fromMs && t < toMs) cuts.add(t);
  const points = [...cuts].sort((a, b) => a - b);
  const state: State = {};
  let i = 0;
  const segments: Segment[] = [];
  for (let k = 0; k < points.length - 1; k++) {
    const [a, b] = [points[k], points[k + 1]];
    while (i < mine.length && mine[i].atMs <= a) {
      const f = mine[i++];
      if (f.kind === 'connectivity') state.online = f.value === 'online';
      else if (f.kind === 'status') {
        if (f.evseId === 0) state.station = f.value;
        else state.evse = f.value;
        // 1.6 Charging is a status; a status that is not occupied ends any charging state
        if (f.evseId !== 0 && !OCCUPIED.has(f.value)) state.charging = undefined;
      } else if (f.kind === 'charging') state.charging = f.value;
    }
    const unknown = state.online === undefined && state.station === undefined && state.evse === undefined;
    const occupied = state.evse !== undefined && OCCUPIED.has(state.evse);
    segments.push({
      fromMs: a,
      toMs: b,
      unknown,
      outage: unknown ? null : causeOf(state),
      maintenance: windows.some((w) => w.fromMs <= a && w.toMs >= b),
      occupied,
      charging: occupied && (state.charging === 'Charging' || state.evse === 'Charging'),
    });
  }
  return segments;
}

export interface Outage {
  fromMs: number;
  toMs: number;
  cause: OutageCause;
  /** the part inside declared planned maintenance */
  excludedMs: number;
}

export interface UptimeMeasure {
  periodMs: number;
  outageMs: number;
  excludedMs: number;
  unknownMs: number;
  outages: Outage[];
}

/** Outage and excluded time of segments; neighbouring outage segments of the same cause are one outage. */
export function measureUptime(segments: readonly Segment[]): UptimeMeasure {
  const outages: Outage[] = [];
  let outageMs = 0;
  let excludedMs = 0;
  let unknownMs = 0;
  let periodMs = 0;
  for (const s of segments) {
    const len = s.toMs - s.fromMs;
    periodMs += len;
    if (s.unknown) unknownMs += len;
    if (s.outage === null) continue;
    outageMs += len;
    const excl = s.maintenance ? len : 0;
    excludedMs += excl;
    const last = outages[outages.length - 1];
    if (last && last.toMs === s.fromMs && last.cause === s.outage) {
      last.toMs = s.toMs;
      last.excludedMs += excl;
    } else outages.push({ fromMs: s.fromMs, toMs: s.toMs, cause: s.outage, excludedMs: excl });
  }
  return { periodMs, outageMs, excludedMs, unknownMs, outages };
}

export interface UtilisationMeasure {
  occupiedMs: number;
  chargingMs: number;
  /** occupied but not charging (the vehicle is plugged in and draws nothing) */
  idleMs: number;
  unknownMs: number;
}

export function measureUtilisation(segments: readonly Segment[]): UtilisationMeasure {
  let occupiedMs = 0;
  let chargingMs = 0;
  let unknownMs = 0;
  for (const s of segments) {
    const len = s.toMs - s.fromMs;
    if (s.occupied) occupiedMs += len;
    if (s.charging) chargingMs += len;
    if (s.unknown) unknownMs += len;
  }
  return { occupiedMs, chargingMs, idleMs: occupiedMs - chargingMs, unknownMs };
}

/** Transaction starts of an EVSE in [fromMs, toMs). */
export function sessionsStarted(evseId: number, facts: readonly StatusFact[], fromMs: number, toMs: number): number {
  return facts.filter((f) => f.kind === 'session' && f.evseId === evseId && f.atMs >= fromMs && f.atMs < toMs).length;
}
