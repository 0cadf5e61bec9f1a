/** What session.ended states besides the energy: charging periods, totals, and the bounded detail. */
import { Dec as Decimal } from '@csms/kernel';
import type { ChargingState } from '@csms/ocpp-normaliser';
import * as contracts from '@csms/contracts';
import * as kernel from '@csms/kernel';
import * as energyModule from './energy';
import type { EnergyResult } from './energy';
import type {
  CdrDimension,
  ChargingPeriod,
  EnergyTimelineResolution,
  PeriodCategory,
  SessionTotals,
  SignedReading,
  SourceRange,
  SourceRef,
} from './events';
import * as stateModule from './state';
import type { InstantReading, SessionState } from './state';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { boundPeriods, boundSignedMeterValues, boundTimeline, sourceRanges } = contracts;
const { compareDecimal, epochMsOf, formatScaled, toIsoString } = kernel;
const { cumulativeAt, toDecimal } = energyModule;
const { chunkedToArray } = stateModule;

const MS_PER_HOUR = 3_600_000;
const ZERO = new Decimal(0);

function category(state: ChargingState, chargedBefore: boolean): PeriodCategory {
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

/** Highest value sampled in [from, to) ([from, to] for the last period); exact. */
function maxIn(list: InstantReading[], from: number, to: number, last: boolean): Decimal | undefined {
  let best: string | undefined;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].ms < from) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo; k < list.length; k++) {
    const r = list[k];
    if (r.ms > to || (r.ms === to && !last)) break;
    if (best === undefined || (r.value !== best && compareDecimal(r.value, best) > 0)) best = r.value;
  }
  return best === undefined ? undefined : new Decimal(best);
}

const seconds = (ms: number): Decimal => new Decimal(ms).div(1000);

/**
 * Splits [start, end] at every charging-state change into OCPI charging periods. The initial state is
 * the last state known at the start (2.0.1 chargingState, 1.6 connector status), else Charging.
 */
export function chargingPeriods(
  s: SessionState,
  startMs: number,
  endMs: number,
  energy: EnergyResult,
): { periods: ChargingPeriod[]; parkingMs: number } {
  const segments = stateSegments(s, startMs, endMs);
  const bounds = boundaryEnergies(energy, segments);
  const power = chunkedToArray(s.power);
  const current = chunkedToArray(s.current);
  const periods: ChargingPeriod[] = [];
  let chargedBefore = false;
  let parkingMs = 0;
  segments.forEach((seg, i) => {
    const to = i + 1 < segments.length ? segments[i + 1].ms : endMs;
    const isLast = i + 1 === segments.length;
    const cat = category(seg.state, chargedBefore);
    const e = bounds[i + 1].minus(bounds[i]);
    if (seg.state === 'Charging' || e.gt(0)) chargedBefore = true;
    if (cat === 'PARKING') parkingMs += to - seg.ms;
    const sampledPower = maxIn(power, seg.ms, to, isLast);
    const maxPower = sampledPower ?? derivedMaxPower(energy, seg.ms, to);
    periods.push(
      periodOf(
        seg,
        to,
        cat,
        e,
        maxPower,
        sampledPower === undefined && maxPower !== undefined,
        maxIn(current, seg.ms, to, isLast),
      ),
    );
  });
  return { periods, parkingMs };
}

/** The charging state at the start (the last known at or before it), then each change inside the session. */
function stateSegments(s: SessionState, startMs: number, endMs: number): Array<{ ms: number; state: ChargingState }> {
  let state: ChargingState = s.initialState ?? 'Charging';
  const cuts: Array<{ ms: number; state: ChargingState }> = [];
  for (const c of s.states) {
    if (c.ms <= startMs) state = c.state;
    else if (c.ms < endMs) {
      const prev = cuts.length > 0 ? cuts[cuts.length - 1].state : state;
      if (c.state !== prev) cuts.push({ ms: c.ms, state: c.state });
    }
  }
  return [{ ms: startMs, state }, ...cuts];
}

/**
 * Cumulative energy at each boundary (0 at the start, the total at the end), forced monotone and within
 * [0, total] so that every period's energy is >= 0 and the periods sum exactly to the session total
 * (interpolation rounds to the mWh).
 */
function boundaryEnergies(energy: EnergyResult, segments: Array<{ ms: number }>): Decimal[] {
  const total = toDecimal(energy.total, energy.scale);
  const bounds: Decimal[] = [ZERO];
  for (let i = 1; i < segments.length; i++) {
    const v = cumulativeAt(energy, segments[i].ms);
    bounds.push(Decimal.min(Decimal.max(v, bounds[i - 1]), total));
  }
  bounds.push(total);
  return bounds;
}

/** No power sampled in [from, to]: the highest average power between two register readings in it (W, 3 dp). */
function derivedMaxPower(energy: EnergyResult, from: number, to: number): Decimal | undefined {
  // points are in time order: start at the first at or after `from` (a scan from 0 per period was quadratic)
  const pts = energy.points;
  let lo = 0;
  let hi = pts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pts[mid].ms < from) lo = mid + 1;
    else hi = mid;
  }
  let max: Decimal | undefined;
  for (let k = Math.max(1, lo + 1); k < pts.length; k++) {
    const a = pts[k - 1];
    const b = pts[k];
    if (b.ms > to) break;
    if (a.ms < from || b.ms === a.ms) continue;
    const p = toDecimal(b.cum - a.cum, energy.scale)
      .times(MS_PER_HOUR)
      .div(b.ms - a.ms)
      .toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
    if (!max || p.gt(max)) max = p;
  }
  return max;
}

/** One OCPI charging period with its dimensions: ENERGY kWh, TIME or PARKING_TIME hours (6 dp), MAX_POWER kW, MAX_CURRENT A. */
function periodOf(
  seg: { ms: number; state: ChargingState },
  to: number,
  cat: PeriodCategory,
  e: Decimal,
  maxPower: Decimal | undefined,
  derived: boolean,
  maxCurrent: Decimal | undefined,
): ChargingPeriod {
  const dur = seconds(to - seg.ms);
  const dims: CdrDimension[] = [
    { type: 'ENERGY', volume: e.div(1000).toFixed() },
    {
      type: cat === 'PARKING' ? 'PARKING_TIME' : 'TIME',
      volume: dur.div(3600).toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toFixed(),
    },
  ];
  if (maxPower) dims.push({ type: 'MAX_POWER', volume: maxPower.div(1000).toFixed() });
  if (maxCurrent) dims.push({ type: 'MAX_CURRENT', volume: maxCurrent.toFixed() });
  const period: ChargingPeriod = {
    startDateTime: toIsoString(seg.ms),
    endDateTime: toIsoString(to),
    chargingState: seg.state,
    category: cat,
    energyWh: e.toFixed(),
    durationSeconds: dur.toFixed(),
    dimensions: dims,
  };
  if (maxPower) period.maxPowerW = maxPower.toFixed();
  if (maxPower && derived) period.maxPowerDerived = true;
  if (maxCurrent) period.maxCurrentA = maxCurrent.toFixed();
  return period;
}

export function totals(energy: Decimal, totalMs: number, parkingMs: number): SessionTotals {
  return {
    energyWh: energy.toFixed(),
    energyKwh: energy.div(1000).toFixed(),
    timeSeconds: seconds(totalMs).toFixed(),
    chargingTimeSeconds: seconds(totalMs - parkingMs).toFixed(),
    parkingTimeSeconds: seconds(parkingMs).toFixed(),
  };
}

/** The parts of session.ended v2 whose size is bounded whatever the session's length (rules: @csms/contracts session-bounds). */
export interface BoundedDetail {
  chargingPeriods: ChargingPeriod[];
  /** periods were merged to fit (flag CHARGING_PERIODS_MERGED) */
  merged: boolean;
  energyTimeline: Array<{ at: string; cumulativeWh: string }>;
  energyTimelineResolution: EnergyTimelineResolution;
  signedMeterValues: SignedReading[];
  signedMeterValuesOmitted: number;
  sources: SourceRange[];
}

export function boundedDetail(
  periods: ChargingPeriod[],
  energy: EnergyResult,
  startMs: number,
  endMs: number,
  signed: SignedReading[],
  sources: SourceRef[],
): BoundedDetail {
  const p = boundPeriods(periods);
  const full = energy.points.map((x) => ({
    at: isCanonical(x.at) ? x.at : toIsoString(x.ms),
    cumulativeWh: formatScaled(x.cum, energy.scale),
  }));
  const boundaries: number[] = [];
  for (let i = 1; i < p.periods.length; i++) boundaries.push(epochMsOf(p.periods[i].startDateTime));
  const t = boundTimeline(full, startMs, endMs, boundaries);
  const sv = boundSignedMeterValues(signed);
  return {
    chargingPeriods: p.periods,
    merged: p.merged,
    energyTimeline: t.points,
    energyTimelineResolution: t.resolution,
    signedMeterValues: sv.kept,
    signedMeterValuesOmitted: sv.omitted,
    sources: sourceRanges(sources),
  };
}

/** `YYYY-MM-DDTHH:mm:ss.sssZ`, as toIsoString writes it. */
function isCanonical(at: string): boolean {
  return at.length === 24 && at.charCodeAt(23) === 90 && at.charCodeAt(10) === 84 && at.charCodeAt(19) === 46;
}
