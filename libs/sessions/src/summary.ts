import Decimal from 'decimal.js';
import type { ChargingState } from '@csms/ocpp-normaliser';
import type { SessionDeciderConfig } from './config';
import type { CdrDimension, ChargingPeriod, PeriodCategory, SessionFlag, SessionTotals } from './events';
import { chainToArray, type InstantReading, type SessionState } from './state';

const MS_PER_HOUR = 3_600_000;
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
  flags: SessionFlag[];
}

/** Exact decimal string → fixed point at `scale` (scale >= the string's decimals). */
export function toFixed(v: string, scale: number): bigint {
  const neg = v.startsWith('-');
  const [i, f = ''] = (neg || v.startsWith('+') ? v.slice(1) : v).split('.');
  const digits = BigInt((i || '0') + f.padEnd(scale, '0'));
  return neg ? -digits : digits;
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
export function computeEnergy(s: SessionState, endMs: number, cfg: SessionDeciderConfig): EnergyResult {
  const flags: SessionFlag[] = [];
  const tol = cfg.readingToleranceSeconds * 1000;
  const raw: Array<{ ms: number; at: string; wh: string }> = [];
  if (s.meterStartWh !== undefined && s.startKnown) raw.push({ ms: s.startedAtMs, at: s.startedAt, wh: s.meterStartWh });
  let sorted = true;
  for (const r of chainToArray(s.readings)) {
    if (r.ms < s.startedAtMs - tol || r.ms > endMs + tol) {
      flags.push('READING_OUTSIDE_SESSION');
      continue;
    }
    const ms = Math.min(Math.max(r.ms, s.startedAtMs), endMs);
    if (raw.length > 0 && ms < raw[raw.length - 1].ms) sorted = false;
    raw.push({ ms, at: ms === r.ms ? r.at : new Date(ms).toISOString(), wh: r.wh });
  }
  const stop = s.end?.meterStopWh;
  let stopUsed = false;
  if (stop !== undefined && s.end) {
    if (/^[+-]?0*(\.0*)?$/.test(stop) && raw.some((p) => /[1-9]/.test(p.wh))) flags.push('STOP_METER_VALUE_ZERO');
    else {
      if (raw.length > 0 && endMs < raw[raw.length - 1].ms) sorted = false;
      raw.push({ ms: endMs, at: s.end.ms === endMs ? s.end.at : new Date(endMs).toISOString(), wh: stop });
      stopUsed = true;
    }
  }
  if (!stopUsed && raw.length > 0) flags.push('ENERGY_FROM_LAST_SAMPLE');
  if (raw.length === 0) flags.push('NO_ENERGY_DATA');
  if (!sorted) raw.sort((a, b) => a.ms - b.ms);

  let scale = 0;
  for (const p of raw) scale = Math.max(scale, decimalsOf(p.wh));
  const unit = 10n ** BigInt(scale);
  const maxW = BigInt(Math.trunc(cfg.maxPlausiblePowerW));
  const slack = BigInt(Math.trunc(cfg.plausibilitySlackWh)) * BigInt(MS_PER_HOUR);
  const points: EnergyPoint[] = [];
  let cum = 0n;
  let zeroSoFar = true;
  let prev: EnergyPoint | undefined;
  for (const p of raw) {
    const wh = toFixed(p.wh, scale);
    // the same reading twice (meterStart and its Transaction.Begin sample, meterStop and Transaction.End)
    if (prev && prev.ms === p.ms && prev.wh === wh) continue;
    if (prev) {
      const delta = wh - prev.wh;
      if (delta < 0n) flags.push('REGISTER_WENT_BACKWARDS');
      // delta > maxW × dt / 3.6e6 + slack, in integers: delta × 3.6e6 > (maxW × dt + slack × 3.6e6) × 10^scale
      else if (delta * BigInt(MS_PER_HOUR) > (maxW * BigInt(p.ms - prev.ms) + slack) * unit) {
        flags.push(zeroSoFar ? 'START_REGISTER_PLACEHOLDER' : 'ENERGY_JUMP_IMPLAUSIBLE');
      } else cum += delta;
    }
    if (wh !== 0n) zeroSoFar = false;
    prev = { ms: p.ms, at: p.at, wh, cum };
    points.push(prev);
  }
  return { points, scale, total: cum, flags: [...new Set(flags)] };
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

/** Highest value sampled in [from, to) ([from, to] for the last period); exact, compared as fixed point. */
function maxIn(list: InstantReading[], from: number, to: number, last: boolean): Decimal | undefined {
  const inRange = list.filter((r) => r.ms >= from && (r.ms < to || (last && r.ms === to)));
  if (inRange.length === 0) return undefined;
  let scale = 0;
  for (const r of inRange) scale = Math.max(scale, decimalsOf(r.value));
  let best = toFixed(inRange[0].value, scale);
  for (let i = 1; i < inRange.length; i++) {
    const v = toFixed(inRange[i].value, scale);
    if (v > best) best = v;
  }
  return toDecimal(best, scale);
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
  const power = chainToArray(s.power);
  const current = chainToArray(s.current);
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
      for (let k = 1; k < energy.points.length; k++) {
        const a = energy.points[k - 1];
        const b = energy.points[k];
        if (a.ms < seg.ms || b.ms > to || b.ms === a.ms) continue;
        const p = toDecimal(b.cum - a.cum, energy.scale).times(MS_PER_HOUR).div(b.ms - a.ms).toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
        if (!maxPower || p.gt(maxPower)) maxPower = p;
        derived = true;
      }
    }
    const maxCurrent = maxIn(current, seg.ms, to, isLast);
    const dur = seconds(durMs);
    const dims: CdrDimension[] = [
      { type: 'ENERGY', volume: e.div(1000).toString() },
      { type: cat === 'PARKING' ? 'PARKING_TIME' : 'TIME', volume: dur.div(3600).toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toString() },
    ];
    if (maxPower) dims.push({ type: 'MAX_POWER', volume: maxPower.div(1000).toString() });
    if (maxCurrent) dims.push({ type: 'MAX_CURRENT', volume: maxCurrent.toString() });
    const period: ChargingPeriod = {
      startDateTime: new Date(seg.ms).toISOString(),
      endDateTime: new Date(to).toISOString(),
      chargingState: seg.state,
      category: cat,
      energyWh: e.toString(),
      durationSeconds: dur.toString(),
      dimensions: dims,
    };
    if (maxPower) period.maxPowerW = maxPower.toString();
    if (maxPower && derived) period.maxPowerDerived = true;
    if (maxCurrent) period.maxCurrentA = maxCurrent.toString();
    periods.push(period);
  });
  return { periods, parkingMs };
}

export function totals(energy: Decimal, totalMs: number, parkingMs: number): SessionTotals {
  return {
    energyWh: energy.toString(),
    energyKwh: energy.div(1000).toString(),
    timeSeconds: seconds(totalMs).toString(),
    chargingTimeSeconds: seconds(totalMs - parkingMs).toString(),
    parkingTimeSeconds: seconds(parkingMs).toString(),
  };
}
