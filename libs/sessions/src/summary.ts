import Decimal from 'decimal.js';
import type { ChargingState } from '@csms/ocpp-normaliser';
import type { SessionDeciderConfig } from './config';
import { boundPeriods, boundSignedMeterValues, boundTimeline, sourceRanges } from '@csms/contracts';
import type { CdrDimension, ChargingPeriod, EnergyTimelineResolution, PeriodCategory, SessionFlag, SessionTotals, SignedReading, SourceRange, SourceRef } from './events';
import { chunkedToArray, type EnergyReading, type InstantReading, type SessionState } from './state';

const MS_PER_HOUR = 3_600_000;
const MS_PER_HOUR_N = 3_600_000n;
const ZERO = new Decimal(0);

export interface EnergyPoint {
  ms: number;
  at: string;
  /** register and cumulative billed energy, fixed point: value × 10^scale */
  wh: bigint;
  cum: bigint;
}

export interface EnergyResult {
  points: EnergyPoint[];
  /** decimal places of the fixed-point values (the most any reading had): exact, no floats */
  scale: number;
  total: bigint;
  /** station time of the last point used */
  lastAt?: string;
  flags: SessionFlag[];
}

/** Exact decimal string → fixed point at `scale` (scale >= the string's decimals). */
export function toFixed(v: string, scale: number): bigint {
  const c = v.charCodeAt(0);
  // the usual case, an unsigned integer at scale 0: BigInt reads it as is
  if (scale === 0 && c >= 48 && c <= 57 && v.indexOf('.') < 0) return BigInt(v);
  const signed = c === 45 || c === 43; // '-' '+'
  const body = signed ? v.slice(1) : v;
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? '' : body.slice(dot + 1);
  const digits = BigInt((int || '0') + frac + (scale > frac.length ? '0'.repeat(scale - frac.length) : ''));
  return c === 45 ? -digits : digits;
}

export function decimalsOf(v: string): number {
  const dot = v.indexOf('.');
  return dot < 0 ? 0 : v.length - dot - 1;
}

/** Fixed point → canonical decimal string (no trailing zeros). */
export function fromFixed(v: bigint, scale: number): string {
  if (scale === 0) return v.toString();
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale);
  const frac = s.slice(s.length - scale).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

export const toDecimal = (v: bigint, scale: number): Decimal => new Decimal(fromFixed(v, scale));

/**
 * Billed energy from the register readings of a session (see README "Energy"):
 * - points: meterStart at the start, the total Energy.Active.Import.Register readings, meterStop at the end;
 *   readings more than `readingToleranceSeconds` outside [start, end] are dropped, the others clamped;
 * - a meterStop of 0 after non-zero readings is a failed meter read: ignored (STOP_METER_VALUE_ZERO);
 * - energy is the sum of the increases between consecutive points; a decrease counts 0 (REGISTER_WENT_BACKWARDS);
 * - an increase above maxPlausiblePowerW × interval + slack counts 0: while the register has only read 0 it
 *   is a placeholder start (START_REGISTER_PLACEHOLDER), otherwise a base change or a kWh/Wh mislabel
 *   (ENERGY_JUMP_IMPLAUSIBLE).
 * Energy is therefore never negative. Arithmetic is exact fixed point (BigInt) at the finest scale read.
 */
export function computeEnergy(s: SessionState, endMs: number, cfg: SessionDeciderConfig, keepPoints = true): EnergyResult {
  const flags: SessionFlag[] = [];
  /** flags of the increments, after the point flags (the order a two-pass computation gives) */
  const stepFlags: SessionFlag[] = [];
  const tol = cfg.readingToleranceSeconds * 1000;
  const useStart = s.meterStartWh !== undefined && s.startKnown;
  const stop = s.end ? s.end.meterStopWh : undefined;
  let scale = 0;
  if (useStart) scale = decimalsOf(s.meterStartWh as string);
  if (stop !== undefined) scale = Math.max(scale, decimalsOf(stop));
  for (const chunk of s.readings) scale = Math.max(scale, maxDecimalsOf(chunk));

  const unit = 10n ** BigInt(scale);
  const maxW = BigInt(Math.trunc(cfg.maxPlausiblePowerW));
  const slackWh = BigInt(Math.trunc(cfg.plausibilitySlackWh));
  const slack = slackWh * MS_PER_HOUR_N;
  // an increase within the slack alone is plausible whatever the interval (when dt >= 0, as it is for points
  // in time order): the usual case, decided without the products below
  const surelyPlausible = maxW >= 0n ? slackWh * unit : -1n;
  const points: EnergyPoint[] = [];
  let cum = 0n;
  let zeroSoFar = true;
  let count = 0;
  let hasPrev = false;
  let prevMs = 0;
  let prevWh = 0n;
  // the instant of the last point used; its text is only written when asked for (a clamped reading has none)
  let lastAt: string | undefined;
  let lastMs = 0;
  // Points come in time order (readings are kept sorted, clamping is monotone): meterStart, the register
  // readings, meterStop. Each is folded as it comes; no intermediate list.
  const step = (ms: number, at: string | undefined, wh: bigint): void => {
    count++;
    // the same reading twice (meterStart and its Transaction.Begin sample, meterStop and Transaction.End)
    if (hasPrev && prevMs === ms && prevWh === wh) return;
    if (hasPrev) {
      const delta = wh - prevWh;
      if (delta < 0n) {
        if (!stepFlags.includes('REGISTER_WENT_BACKWARDS')) stepFlags.push('REGISTER_WENT_BACKWARDS');
      }
      // delta > maxW × dt / 3.6e6 + slack, in integers: delta × 3.6e6 > (maxW × dt + slack × 3.6e6) × 10^scale
      else if ((delta > surelyPlausible || ms < prevMs) && delta * MS_PER_HOUR_N > (maxW * BigInt(ms - prevMs) + slack) * unit) {
        const f: SessionFlag = zeroSoFar ? 'START_REGISTER_PLACEHOLDER' : 'ENERGY_JUMP_IMPLAUSIBLE';
        if (!stepFlags.includes(f)) stepFlags.push(f);
      } else cum += delta;
    }
    if (wh !== 0n) zeroSoFar = false;
    hasPrev = true;
    prevMs = ms;
    prevWh = wh;
    lastMs = ms;
    lastAt = at;
    if (keepPoints) points.push({ ms, at: at ?? new Date(ms).toISOString(), wh, cum });
  };

  let anyNonZero = false;
  if (useStart) {
    const wh = toFixed(s.meterStartWh as string, scale);
    step(s.startedAtMs, s.startedAt, wh);
    if (wh !== 0n) anyNonZero = true;
  }
  let outside = false;
  for (const chunk of s.readings) {
    const values = valuesOf(chunk, scale);
    for (let k = 0; k < chunk.length; k++) {
      const r = chunk[k];
      if (r.ms < s.startedAtMs - tol || r.ms > endMs + tol) {
        outside = true;
        continue;
      }
      const ms = Math.min(Math.max(r.ms, s.startedAtMs), endMs);
      if (values[k] !== 0n) anyNonZero = true;
      step(ms, ms === r.ms ? r.at : undefined, values[k]);
    }
  }
  if (outside) flags.push('READING_OUTSIDE_SESSION');
  let stopUsed = false;
  if (stop !== undefined && s.end) {
    const wh = toFixed(stop, scale);
    if (wh === 0n && anyNonZero) flags.push('STOP_METER_VALUE_ZERO');
    else {
      step(endMs, s.end.ms === endMs ? s.end.at : undefined, wh);
      stopUsed = true;
    }
  }
  if (!stopUsed && count > 0) flags.push('ENERGY_FROM_LAST_SAMPLE');
  if (count === 0) flags.push('NO_ENERGY_DATA');
  for (const f of stepFlags) flags.push(f);
  if (count > 0 && lastAt === undefined) lastAt = new Date(lastMs).toISOString();
  return { points, scale, total: cum, lastAt, flags };
}

/**
 * Parsed register values of a chunk of readings. A chunk only ever grows at its end (a later state's copy
 * has the same first items, then more), so the cache is keyed by the chunk's first reading and holds the
 * longest version seen: a session's summaries, recomputed as it grows, parse each reading about once, also
 * in the chunk still being filled. A hit is checked item by item (identity), so a chunk rebuilt by an
 * out-of-order insert is never misread. A cache, not state.
 */
interface ChunkInfo {
  /** the longest version of the chunk seen */
  items: EnergyReading[];
  /** most decimals among items[0..k] */
  decimals: number[];
  scale: number;
  /** items' registers at `scale` (possibly fewer than items, never more) */
  values: bigint[];
}
const chunkInfos = new WeakMap<EnergyReading, ChunkInfo>();

function infoOf(chunk: EnergyReading[]): ChunkInfo {
  let info = chunkInfos.get(chunk[0]);
  if (info && info.items !== chunk) {
    const known = info.items;
    const n = Math.min(known.length, chunk.length);
    for (let k = 1; k < n; k++) {
      if (known[k] !== chunk[k]) {
        info = undefined;
        break;
      }
    }
    if (info && chunk.length > known.length) {
      let d = info.decimals[known.length - 1];
      for (let k = known.length; k < chunk.length; k++) info.decimals.push((d = Math.max(d, decimalsOf(chunk[k].wh))));
      info.items = chunk;
    }
  }
  if (!info) {
    const decimals: number[] = [];
    let d = 0;
    for (const r of chunk) decimals.push((d = Math.max(d, decimalsOf(r.wh))));
    info = { items: chunk, decimals, scale: -1, values: [] };
    chunkInfos.set(chunk[0], info);
  }
  return info;
}

/** Most decimals of a chunk's readings. */
const maxDecimalsOf = (chunk: EnergyReading[]): number => (chunk.length === 0 ? 0 : infoOf(chunk).decimals[chunk.length - 1]);

/** A chunk's registers at `scale` (the returned list may be longer than the chunk: read chunk.length items). */
function valuesOf(chunk: EnergyReading[], scale: number): bigint[] {
  if (chunk.length === 0) return [];
  const info = infoOf(chunk);
  if (info.scale !== scale) {
    info.values = [];
    info.scale = scale;
  }
  const values = info.values;
  for (let k = values.length; k < chunk.length; k++) values.push(toFixed(chunk[k].wh, scale));
  return values;
}

/** Cumulative billed energy at an instant, linearly interpolated between readings, to the mWh. */
export function cumulativeAt(energy: EnergyResult, ms: number): Decimal {
  const points = energy.points;
  if (points.length === 0 || ms <= points[0].ms) return toDecimal(points[0]?.cum ?? 0n, energy.scale);
  const last = points[points.length - 1];
  if (ms >= last.ms) return toDecimal(last.cum, energy.scale);
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid].ms <= ms) lo = mid;
    else hi = mid;
  }
  const a = points[lo];
  const b = points[hi];
  if (a.ms === ms) return toDecimal(a.cum, energy.scale);
  const ca = toDecimal(a.cum, energy.scale);
  return ca.plus(toDecimal(b.cum - a.cum, energy.scale).times(ms - a.ms).div(b.ms - a.ms)).toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
}

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

/** Compares two plain decimal strings (no exponent, as the normaliser writes them) exactly, without parsing. */
export function compareDecimal(a: string, b: string): number {
  const na = a.charCodeAt(0) === 45; // '-'
  const nb = b.charCodeAt(0) === 45;
  if (na !== nb) return na ? -1 : 1;
  const sign = na ? -1 : 1;
  let ia = na ? 1 : 0;
  let ib = nb ? 1 : 0;
  while (a.charCodeAt(ia) === 48 && ia + 1 < a.length && a.charCodeAt(ia + 1) !== 46) ia++; // leading zeros
  while (b.charCodeAt(ib) === 48 && ib + 1 < b.length && b.charCodeAt(ib + 1) !== 46) ib++;
  const da = a.indexOf('.', ia);
  const db = b.indexOf('.', ib);
  const la = (da < 0 ? a.length : da) - ia;
  const lb = (db < 0 ? b.length : db) - ib;
  if (la !== lb) return sign * (la < lb ? -1 : 1);
  const n = Math.max(a.length - ia, b.length - ib);
  for (let k = 0; k < n; k++) {
    // past the end, and the '.' itself, compare as '0' (the integer parts have the same length)
    let ca = ia + k < a.length ? a.charCodeAt(ia + k) : 48;
    let cb = ib + k < b.length ? b.charCodeAt(ib + k) : 48;
    if (ca === 46) ca = 48;
    if (cb === 46) cb = 48;
    if (ca !== cb) return sign * (ca < cb ? -1 : 1);
  }
  return 0;
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
  let state: ChargingState = s.initialState ?? 'Charging';
  const cuts: Array<{ ms: number; state: ChargingState }> = [];
  for (const c of s.states) {
    if (c.ms <= startMs) state = c.state;
    else if (c.ms < endMs) {
      const prev = cuts.length > 0 ? cuts[cuts.length - 1].state : state;
      if (c.state !== prev) cuts.push({ ms: c.ms, state: c.state });
    }
  }
  const segments = [{ ms: startMs, state }, ...cuts];
  const power = chunkedToArray(s.power);
  const current = chunkedToArray(s.current);
  // cumulative energy at each boundary, forced monotone and within [0, total] so that every period's
  // energy is >= 0 and the periods sum exactly to the session total (interpolation rounds to the mWh)
  const total = toDecimal(energy.total, energy.scale);
  const bounds: Decimal[] = [ZERO];
  for (let i = 1; i < segments.length; i++) {
    const v = cumulativeAt(energy, segments[i].ms);
    bounds.push(Decimal.min(Decimal.max(v, bounds[i - 1]), total));
  }
  bounds.push(total);
  const periods: ChargingPeriod[] = [];
  let chargedBefore = false;
  let parkingMs = 0;
  segments.forEach((seg, i) => {
    const to = i + 1 < segments.length ? segments[i + 1].ms : endMs;
    const isLast = i + 1 === segments.length;
    const cat = category(seg.state, chargedBefore);
    const e = bounds[i + 1].minus(bounds[i]);
    if (seg.state === 'Charging' || e.gt(0)) chargedBefore = true;
    const durMs = to - seg.ms;
    if (cat === 'PARKING') parkingMs += durMs;
    let maxPower = maxIn(power, seg.ms, to, isLast);
    let derived = false;
    if (!maxPower) {
      // points are in time order: start at the first at or after the period's start, stop past its end
      // (a scan from 0 for every period was quadratic in a long session with many state changes)
      const pts = energy.points;
      let lo = 0;
      let hi = pts.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (pts[mid].ms < seg.ms) lo = mid + 1;
        else hi = mid;
      }
      for (let k = Math.max(1, lo + 1); k < pts.length; k++) {
        const a = pts[k - 1];
        const b = pts[k];
        if (b.ms > to) break;
        if (a.ms < seg.ms || b.ms === a.ms) continue;
        const p = toDecimal(b.cum - a.cum, energy.scale).times(MS_PER_HOUR).div(b.ms - a.ms).toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
        if (!maxPower || p.gt(maxPower)) maxPower = p;
        derived = true;
      }
    }
    const maxCurrent = maxIn(current, seg.ms, to, isLast);
    const dur = seconds(durMs);
    const dims: CdrDimension[] = [
      { type: 'ENERGY', volume: e.div(1000).toFixed() },
      { type: cat === 'PARKING' ? 'PARKING_TIME' : 'TIME', volume: dur.div(3600).toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toFixed() },
    ];
    if (maxPower) dims.push({ type: 'MAX_POWER', volume: maxPower.div(1000).toFixed() });
    if (maxCurrent) dims.push({ type: 'MAX_CURRENT', volume: maxCurrent.toFixed() });
    const period: ChargingPeriod = {
      startDateTime: new Date(seg.ms).toISOString(),
      endDateTime: new Date(to).toISOString(),
      chargingState: seg.state,
      category: cat,
      energyWh: e.toFixed(),
      durationSeconds: dur.toFixed(),
      dimensions: dims,
    };
    if (maxPower) period.maxPowerW = maxPower.toFixed();
    if (maxPower && derived) period.maxPowerDerived = true;
    if (maxCurrent) period.maxCurrentA = maxCurrent.toFixed();
    periods.push(period);
  });
  return { periods, parkingMs };
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
  const full = energy.points.map((x) => ({ at: isCanonical(x.at) ? x.at : new Date(x.ms).toISOString(), cumulativeWh: fromFixed(x.cum, energy.scale) }));
  const boundaries: number[] = [];
  for (let i = 1; i < p.periods.length; i++) boundaries.push(Date.parse(p.periods[i].startDateTime));
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

/** `YYYY-MM-DDTHH:mm:ss.sssZ`, as toISOString writes it. */
function isCanonical(at: string): boolean {
  return at.length === 24 && at.charCodeAt(23) === 90 && at.charCodeAt(10) === 84 && at.charCodeAt(19) === 46;
}
