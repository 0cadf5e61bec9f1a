/**
 * The cost of a running session, with the CDR's own path: the session as the `session.updated` events describe it
 * is written as the `session.ended` it would be if it ended now (same periods rule: split at every charging-state
 * change, categories as libs/sessions gives them), and priced by `buildCdr` — the same tariff selection, period
 * split, engine and rounding as the CDR. So the estimate at the last update equals the CDR's total when the session
 * ends there with the same readings (tested). Pure and deterministic: times are the events' times.
 *
 * What the estimate cannot know (the CDR knows it from session.ended): readings between two updates (the energy
 * timeline is linear between the updates' points), the power sampled (no MAX_POWER dimension: a tariff whose
 * elements are restricted by power is priced as if no power had been sampled), and late corrections.
 */
import type { SessionStartedEvent, SessionUpdatedEvent } from '@csms/contracts';
import { Dec, epochMsOf, toIsoString } from '@csms/kernel';
import { buildCdr, catalogueIndex, type CompiledTariffs, type SourcePosition } from './cdr';
import type { PricingFacts } from './facts';
import type { SessionEndedPayload } from './to-pricing-session';

type Started = SessionStartedEvent['payload'];
type Updated = SessionUpdatedEvent['payload'];
type ChargingState = Updated['chargingState'];
type Category = SessionEndedPayload['chargingPeriods'][number]['category'];

/** One stretch of a charging state: its start (event time), the state, the session's energy at its start (Wh). */
export interface RunningSegment {
  at: string;
  state: ChargingState;
  energyWh: string;
}

/** A running session as the tariff service keeps it between updates (JSON-safe: stored as jsonb). */
export interface RunningSession {
  sessionId: string;
  stationId: string;
  protocol: Started['protocol'];
  transactionId: string;
  evseId?: number;
  connectorId?: number;
  startedAt: string;
  idToken?: Started['idToken'];
  /** the station facts as answered at the start (absent: not recorded; the registry copy decides) */
  station?: Started['station'];
  meterStartWh?: string;
  /** state changes, oldest first (the first starts at startedAt); at most MAX_SEGMENTS (then merged into the last) */
  segments: RunningSegment[];
  /**
   * the updates' readings (time, energy so far), oldest first, from the start (0 Wh): the energy timeline. At most
   * MAX_POINTS: beyond, every other point between two segment starts is dropped (deterministic)
   */
  points: Array<{ at: string; energyWh: string }>;
  /** the latest update folded: its time and energy so far */
  last: { at: string; energyWh: string } | null;
  /** the last estimate published (throttling) */
  estimate: { asOf: string; costInclVat: string } | null;
}

/** As session.ended bounds its periods (libs/contracts SESSION_ENDED_LIMITS.chargingPeriods). */
const MAX_SEGMENTS = 64;
/** As session.ended bounds its timeline (SESSION_ENDED_LIMITS.timelinePoints). */
const MAX_POINTS = 1000;

export function startRunning(s: Started): RunningSession {
  return {
    sessionId: s.sessionId,
    stationId: s.stationId,
    protocol: s.protocol,
    transactionId: s.transactionId,
    ...(s.evseId !== undefined ? { evseId: s.evseId } : {}),
    ...(s.connectorId !== undefined ? { connectorId: s.connectorId } : {}),
    startedAt: s.startedAt,
    ...(s.idToken ? { idToken: s.idToken } : {}),
    ...(s.station ? { station: s.station } : {}),
    ...(s.meterStartWh !== undefined ? { meterStartWh: s.meterStartWh } : {}),
    // the state at the start is not in session.started: Charging, as libs/sessions assumes when it knows none (a
    // session that began plugged in but not charging, PREPARING, prices alike: both are charging TIME)
    segments: [{ at: s.startedAt, state: 'Charging', energyWh: '0' }],
    points: [{ at: s.startedAt, energyWh: '0' }],
    last: null,
    estimate: null,
  };
}

/**
 * Folds a session.updated (at = its event time): a new segment when the charging state changed, the latest reading.
 * An update older than the last one folded (or before the start) changes nothing.
 */
export function foldUpdate(r: RunningSession, u: Updated, at: string): RunningSession {
  const ms = epochMsOf(at);
  if (ms < epochMsOf(r.startedAt)) return r;
  if (r.last && ms < epochMsOf(r.last.at)) return r;
  const energy = Dec.max(new Dec(u.energyWh), r.last ? new Dec(r.last.energyWh) : new Dec(0)).toFixed();
  const segments = [...r.segments];
  if (segments.length === 0) segments.push({ at: r.startedAt, state: u.chargingState, energyWh: '0' });
  else if (segments[segments.length - 1].state !== u.chargingState) {
    if (segments.length < MAX_SEGMENTS) segments.push({ at, state: u.chargingState, energyWh: energy });
    else segments[segments.length - 1] = { ...segments[segments.length - 1], state: u.chargingState };
  }
  let points = [...(r.points ?? [])];
  if (points.length > 0 && epochMsOf(points[points.length - 1].at) === ms)
    points[points.length - 1] = { at, energyWh: energy };
  else points.push({ at, energyWh: energy });
  if (points.length > MAX_POINTS) {
    const keep = new Set(segments.map((x) => epochMsOf(x.at)));
    points = points.filter((p, i) => i === 0 || i === points.length - 1 || i % 2 === 0 || keep.has(epochMsOf(p.at)));
  }
  return { ...r, segments, points, last: { at, energyWh: energy } };
}

/** The highest average power between two readings inside [from, to] (W, 3 dp), as libs/sessions derives it. */
function derivedMaxPower(points: Array<{ ms: number; wh: Dec }>, from: number, to: number): Dec | undefined {
  let max: Dec | undefined;
  for (let k = 1; k < points.length; k++) {
    const a = points[k - 1];
    const b = points[k];
    if (b.ms > to) break;
    if (a.ms < from || b.ms === a.ms) continue;
    const p = b.wh
      .minus(a.wh)
      .times(3_600_000)
      .div(b.ms - a.ms)
      .toDecimalPlaces(3, Dec.ROUND_HALF_UP);
    if (!max || p.gt(max)) max = p;
  }
  return max;
}

function category(state: ChargingState, chargedBefore: boolean): Category {
  switch (state) {
    case 'Charging':
      return 'CHARGING';
    case 'SuspendedEVSE':
      return 'SUSPENDED_EVSE';
    case 'SuspendedEV':
      return 'PARKING';
    case 'EVConnected':
      return chargedBefore ? 'PARKING' : 'PREPARING';
    case 'Idle':
      return 'IDLE';
  }
}

const ms3 = (iso: string) => toIsoString(epochMsOf(iso));

/** The session.ended the running session would be if it ended at its last update (null: no update yet). */
export function runningAsEnded(r: RunningSession): SessionEndedPayload | null {
  if (!r.last || r.segments.length === 0) return null;
  const endMs = epochMsOf(r.last.at);
  const total = new Dec(r.last.energyWh);
  const periods: SessionEndedPayload['chargingPeriods'] = [];
  const pts = (r.points ?? [])
    .map((p) => ({ ms: epochMsOf(p.at), wh: Dec.min(new Dec(p.energyWh), total) }))
    .filter((p) => p.ms <= endMs);
  let chargedBefore = false;
  let parkingMs = 0;
  let before = new Dec(0);
  r.segments.forEach((seg, i) => {
    const fromMs = epochMsOf(seg.at);
    const toMs = i + 1 < r.segments.length ? epochMsOf(r.segments[i + 1].at) : endMs;
    const upTo = i + 1 < r.segments.length ? Dec.min(new Dec(r.segments[i + 1].energyWh), total) : total;
    const after = Dec.max(upTo, before);
    const e = after.minus(before);
    before = after;
    const cat = category(seg.state, chargedBefore);
    if (seg.state === 'Charging' || e.gt(0)) chargedBefore = true;
    const durMs = toMs - fromMs;
    if (cat === 'PARKING') parkingMs += durMs;
    const dur = new Dec(durMs).div(1000);
    const maxPower = derivedMaxPower(pts, fromMs, toMs);
    periods.push({
      startDateTime: ms3(seg.at),
      endDateTime: toIsoString(toMs),
      chargingState: seg.state,
      category: cat,
      energyWh: e.toFixed(),
      durationSeconds: dur.toFixed(),
      dimensions: [
        { type: 'ENERGY', volume: e.div(1000).toFixed() },
        {
          type: cat === 'PARKING' ? 'PARKING_TIME' : 'TIME',
          volume: dur.div(3600).toDecimalPlaces(6, Dec.ROUND_HALF_UP).toFixed(),
        },
        ...(maxPower ? [{ type: 'MAX_POWER' as const, volume: maxPower.div(1000).toFixed() }] : []),
      ],
      ...(maxPower ? { maxPowerW: maxPower.toFixed(), maxPowerDerived: true as const } : {}),
    });
  });
  const timeline: SessionEndedPayload['energyTimeline'] = pts.map((p) => ({
    at: toIsoString(p.ms),
    cumulativeWh: p.wh.toFixed(),
  }));
  if (timeline.length === 0 || timeline[timeline.length - 1].at !== toIsoString(endMs))
    timeline.push({ at: toIsoString(endMs), cumulativeWh: total.toFixed() });
  const totalMs = endMs - epochMsOf(r.startedAt);
  return {
    sessionId: r.sessionId,
    stationId: r.stationId,
    protocol: r.protocol,
    transactionId: r.transactionId,
    ...(r.evseId !== undefined ? { evseId: r.evseId } : {}),
    ...(r.connectorId !== undefined ? { connectorId: r.connectorId } : {}),
    revision: 1,
    closure: 'stop',
    startedAt: ms3(r.startedAt),
    endedAt: toIsoString(endMs),
    ...(r.idToken ? { idToken: r.idToken } : {}),
    ...(r.meterStartWh !== undefined ? { meterStartWh: r.meterStartWh } : {}),
    totals: {
      energyWh: total.toFixed(),
      energyKwh: total.div(1000).toFixed(),
      timeSeconds: new Dec(totalMs).div(1000).toFixed(),
      chargingTimeSeconds: new Dec(totalMs - parkingMs).div(1000).toFixed(),
      parkingTimeSeconds: new Dec(parkingMs).div(1000).toFixed(),
    },
    chargingPeriods: periods,
    energyTimeline: timeline,
    energyTimelineResolution: { mode: 'exact', points: timeline.length },
    signedMeterValues: [],
    signedMeterValuesOmitted: 0,
    dataQuality: { flags: [], needsReview: false, estimated: false, missingSeqNos: [], duplicatesIgnored: 0 },
    sources: [],
  };
}

/** The tariff that will price a session (the rule buildCdr applies), with its max_price incl. VAT. */
export type SelectedTariff =
  | { ok: true; tariffId: string; tariffVersion: number; currency: string; maxPriceInclVat: string | null }
  | { ok: false; code: string; detail: string };

export function selectSessionTariff(
  s: Pick<Started, 'startedAt' | 'stationId' | 'evseId' | 'connectorId'>,
  facts: Pick<PricingFacts, 'assignments' | 'versions' | 'station' | 'token'>,
  opts: { tariffs?: CompiledTariffs } = {},
): SelectedTariff {
  const index = catalogueIndex(facts.assignments, facts.versions, opts.tariffs);
  const sel = index.select({
    at: s.startedAt,
    stationId: s.stationId,
    siteId: facts.station?.siteId ?? undefined,
    evseId: s.evseId,
    connectorId: s.connectorId,
    tokenGroupId: facts.token?.groupId ?? undefined,
    accountId: facts.token?.accountId ?? undefined,
  });
  if (!sel.ok) return { ok: false, code: sel.code, detail: sel.detail };
  const version = sel.version;
  const max = version.tariff.max_price;
  const incl = max ? (max.incl_vat ?? null) : null;
  return {
    ok: true,
    tariffId: version.tariffId,
    tariffVersion: version.version,
    currency: version.tariff.currency,
    maxPriceInclVat: incl === null ? null : String(incl),
  };
}

export type RunningEstimate =
  | {
      ok: true;
      tariffId: string;
      tariffVersion: number;
      currency: string;
      asOf: string;
      energyWh: string;
      costExclVat: string;
      costInclVat: string;
      /** the tariff's max_price incl. VAT (the CDR never costs more), null: none */
      maxPriceInclVat: string | null;
    }
  | { ok: false; code: string; detail: string };

/** The running session priced as the CDR would price it if it ended at its last update (buildCdr). */
export function estimateRunningCost(
  r: RunningSession,
  facts: PricingFacts,
  source: SourcePosition,
  opts: { tariffs?: CompiledTariffs } = {},
): RunningEstimate | null {
  const session = runningAsEnded(r);
  if (!session) return null;
  const out = buildCdr({ ...facts, session, source }, { tariffs: opts.tariffs });
  if (out.kind === 'failed') return { ok: false, code: out.code, detail: out.detail };
  const maxIncl = out.cdr.tariffs?.[0]?.max_price?.incl_vat;
  return {
    ok: true,
    tariffId: out.audit.tariffId,
    tariffVersion: out.audit.tariffVersion,
    currency: out.cdr.currency,
    asOf: r.last!.at,
    energyWh: r.last!.energyWh,
    costExclVat: String(out.cdr.total_cost.excl_vat),
    costInclVat: String(out.cdr.total_cost.incl_vat ?? out.cdr.total_cost.excl_vat),
    maxPriceInclVat: maxIncl === undefined || maxIncl === null ? null : String(maxIncl),
  };
}

/**
 * Whether an update is worth pricing (deterministic, by event time): the first one, a charging-state change, or
 * `intervalS` seconds of session time since the last estimate published.
 */
export function estimateDue(r: RunningSession, stateChanged: boolean, intervalS: number): boolean {
  if (!r.last) return false;
  if (!r.estimate) return true;
  if (stateChanged) return true;
  return epochMsOf(r.last.at) - epochMsOf(r.estimate.asOf) >= intervalS * 1000;
}
