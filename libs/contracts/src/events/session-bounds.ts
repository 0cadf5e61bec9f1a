/**
 * What keeps `session.ended` (v2) and `cdr.created` (v2) of bounded size whatever the session's length.
 * Pure functions over the wire form, shared by the session decider (which builds v2) and the v1 -> v2
 * upcasters (which bring old records to the same shape by the same rules). The limits and the recipes are
 * part of the contract: an auditor recomputes the source hash and the resampled timeline from them.
 *
 * - sources: one range per topic + partition of the inbound records a session used: first and last
 *   offset, how many records, and `sha256` = SHA-256 (hex) of the UTF-8 text made of each used record's
 *   envelope id followed by "\n", in ascending offset order (records without a log position: in arrival
 *   order, in one range without topic/partition/offsets).
 * - energyTimeline: exact (every point) up to `exactTimelinePoints` points; beyond, resampled: the
 *   cumulative energy at the start, the end, every charging-period boundary and every multiple of
 *   `gridSeconds` (UTC epoch aligned) in between, each the exact linear interpolation of the full
 *   timeline (as billing interpolates: right-continuous, constant outside the readings), floored to 1 µWh.
 * - chargingPeriods: at most `chargingPeriods`; beyond, consecutive periods are grouped in time order, a
 *   group closing once it lasts session duration / (chargingPeriods - 1) (a period that alone lasts that
 *   long is a group of its own; the length doubles until the count fits); a group becomes one period per
 *   state in it, back to back in the order the states first appear, each with the time and energy that
 *   state had in the group (so time and energy per category are kept exactly; only their place inside a
 *   group moves) and the maxima; neighbours in the same state are joined; flag CHARGING_PERIODS_MERGED
 *   (review).
 * - signedMeterValues: at most `signedMeterValues`, each at most `signedMeterValueBytes` of JSON: the
 *   earliest Transaction.Begin value and the latest Transaction.End value first (a signed session needs both
 *   to pair), then the other Transaction.Begin values (earliest), the other Transaction.End values (latest),
 *   then others (latest); kept in their order; `signedMeterValuesOmitted` counts the others (all are in the
 *   session service). Whenever the begin and end values fit together this is the set "begin values, then end
 *   values, then others" kept before.
 */
import { createHash } from 'node:crypto';
import { Dec as Decimal } from '@csms/kernel';

export const SESSION_ENDED_LIMITS = {
  /** a timeline of at most this many points is carried exactly */
  exactTimelinePoints: 1000,
  /** most grid intervals of a resampled timeline (the grid step is the first of the ladder that fits: 60 s up to 25 h) */
  gridIntervals: 1500,
  gridSecondsLadder: [60, 180, 300, 900] as readonly number[],
  /** schema maxItems of energyTimeline: a grid of 1,500 intervals (1,501 points with the start and the end) + 63 period boundaries fit */
  timelinePoints: 1600,
  chargingPeriods: 64,
  signedMeterValues: 4,
  /** encoded JSON bytes of one signed meter value kept in the event */
  signedMeterValueBytes: 8192,
  /** a session's records are on one partition of one topic; a few more ranges allow a repartitioned topic */
  sourceRanges: 8,
  missingSeqNos: 1000,
} as const;

export interface SourceRefIn {
  eventId: string;
  topic?: string;
  partition?: number;
  offset?: string;
}

export interface SourceRange {
  topic?: string;
  partition?: number;
  firstOffset?: string;
  lastOffset?: string;
  count: number;
  sha256: string;
}

/** The hash of a list of record ids in log order (see the recipe above). */
export function sourceHash(eventIds: readonly string[]): string {
  // one update of the whole text (an update per id cost a native call each)
  return createHash('sha256')
    .update(eventIds.length === 0 ? '' : `${eventIds.join('\n')}\n`, 'utf8')
    .digest('hex');
}

/** Compact provenance: per topic + partition, the offset range, the count and the hash of the used records. */
export function sourceRanges(refs: readonly SourceRefIn[]): SourceRange[] {
  const seen = new Set<string>();
  const groups: Array<{ topic?: string; partition?: number; list: SourceRefIn[] }> = [];
  let last: (typeof groups)[number] | undefined;
  for (const r of refs) {
    if (seen.has(r.eventId)) continue;
    seen.add(r.eventId);
    const positioned = r.topic !== undefined && r.partition !== undefined && r.offset !== undefined;
    const topic = positioned ? r.topic : undefined;
    const partition = positioned ? r.partition : undefined;
    // records of one session come in runs of one partition: the group of the previous record, usually
    if (!last || last.topic !== topic || last.partition !== partition) {
      last = groups.find((g) => g.topic === topic && g.partition === partition);
      if (!last) groups.push((last = { topic, partition, list: [] }));
    }
    last.list.push(r);
  }
  const keyOf = (g: (typeof groups)[number]) => (g.topic === undefined ? '' : `${g.topic}\u0000${g.partition}`);
  if (groups.length > 1) groups.sort((x, y) => (keyOf(x) < keyOf(y) ? -1 : keyOf(x) > keyOf(y) ? 1 : 0));
  const out: SourceRange[] = [];
  for (const { topic, partition, list: g } of groups) {
    if (topic === undefined) {
      out.push({ count: g.length, sha256: sourceHash(g.map((r) => r.eventId)) });
      continue;
    }
    // usually already in offset order (arrival order of one partition): sorted only when not
    let ordered = true;
    for (let i = 1; i < g.length && ordered; i++) ordered = cmpOffset(g[i - 1].offset!, g[i].offset!) < 0;
    const sorted = ordered ? g : g.slice().sort((x, y) => cmpOffset(x.offset!, y.offset!));
    out.push({
      topic,
      partition,
      firstOffset: sorted[0].offset,
      lastOffset: sorted[sorted.length - 1].offset,
      count: sorted.length,
      sha256: sourceHash(sorted.map((r) => r.eventId)),
    });
  }
  return out;
}

function cmpOffset(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

// ------------------------------------------------------------------ energy timeline

export interface TimelinePoint {
  at: string;
  cumulativeWh: string;
}

export interface EnergyTimelineResolution {
  mode: 'exact' | 'resampled';
  /** the grid step of a resampled timeline */
  gridSeconds?: number;
  /** points of the full timeline (every register reading used, meterStart and meterStop) */
  points: number;
}

const RESAMPLED_SCALE = 6;

function decimals(v: string): number {
  const dot = v.indexOf('.');
  return dot < 0 ? 0 : v.length - dot - 1;
}

function fixed(v: string, scale: number): bigint {
  const neg = v.startsWith('-');
  const body = neg ? v.slice(1) : v;
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? '' : body.slice(dot + 1);
  const n = BigInt((int || '0') + frac.padEnd(scale, '0').slice(0, scale));
  return neg ? -n : n;
}

function text(v: bigint, scale: number): string {
  if (scale === 0) return v.toString();
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const frac = s.slice(s.length - scale).replace(/0+$/, '');
  return `${neg ? '-' : ''}${s.slice(0, s.length - scale)}${frac ? `.${frac}` : ''}`;
}

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};

/** The grid step (seconds) of a resampled timeline over `durationMs`. */
export function gridSecondsFor(durationMs: number): number {
  const L = SESSION_ENDED_LIMITS;
  for (const s of L.gridSecondsLadder) if (Math.ceil(durationMs / (s * 1000)) <= L.gridIntervals) return s;
  return 900 * Math.ceil(durationMs / (L.gridIntervals * 900_000));
}

/**
 * A bounded energy timeline. `boundariesMs`: the charging-period boundaries (kept as points when resampled).
 * Points are expected in time order with non-decreasing energy (as the session decider writes them).
 */
export function boundTimeline(
  points: readonly TimelinePoint[],
  startMs: number,
  endMs: number,
  boundariesMs: readonly number[],
): { points: TimelinePoint[]; resolution: EnergyTimelineResolution } {
  const n = points.length;
  const fits = n <= SESSION_ENDED_LIMITS.exactTimelinePoints && points.every((p) => p.cumulativeWh.length <= 20);
  if (fits)
    return {
      points: points.map((p) => ({ at: canonical(p.at), cumulativeWh: p.cumulativeWh })),
      resolution: { mode: 'exact', points: n },
    };
  const scale = Math.max(RESAMPLED_SCALE, ...points.map((p) => decimals(p.cumulativeWh)));
  const knots = points.map((p) => ({ ms: Date.parse(p.at), wh: fixed(p.cumulativeWh, scale) }));
  // right-continuous: at an instant with several points, the last one
  const step = gridSecondsFor(Math.max(0, endMs - startMs));
  const stepMs = step * 1000;
  const at = new Set<number>([startMs, endMs]);
  for (const b of boundariesMs) if (b > startMs && b < endMs) at.add(b);
  for (let t = Math.floor(startMs / stepMs) * stepMs + stepMs; t < endMs; t += stepMs) if (t > startMs) at.add(t);
  const instants = [...at].sort((a, b) => a - b);
  const out: TimelinePoint[] = [];
  let k = 0; // knots[k - 1] is the last knot at or before t
  const down = 10n ** BigInt(scale - RESAMPLED_SCALE);
  for (const t of instants) {
    while (k < n && knots[k].ms <= t) k++;
    let v: bigint;
    if (k === 0) v = knots[0].wh;
    else if (k === n) v = knots[n - 1].wh;
    else {
      const a = knots[k - 1];
      const b = knots[k];
      v = a.wh + floorDiv((b.wh - a.wh) * BigInt(t - a.ms), BigInt(b.ms - a.ms));
    }
    out.push({ at: new Date(t).toISOString(), cumulativeWh: text(floorDiv(v, down), RESAMPLED_SCALE) });
  }
  return { points: out, resolution: { mode: 'resampled', gridSeconds: step, points: n } };
}

function canonical(at: string): string {
  // already `YYYY-MM-DDTHH:mm:ss.sssZ` (as the session decider writes it): as it is
  if (at.length === 24 && at.charCodeAt(23) === 90 && at.charCodeAt(10) === 84 && at.charCodeAt(19) === 46) return at;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? at : new Date(ms).toISOString();
}

// ------------------------------------------------------------------ charging periods

export interface PeriodIn {
  startDateTime: string;
  endDateTime: string;
  chargingState: string;
  category: string;
  energyWh: string;
  durationSeconds: string;
  maxPowerW?: string;
  maxPowerDerived?: true;
  maxCurrentA?: string;
  dimensions: Array<{ type: string; volume: string }>;
}

/** At most SESSION_ENDED_LIMITS.chargingPeriods periods (see the rule above); `merged` when any were. */
export function boundPeriods<P extends PeriodIn>(periods: readonly P[]): { periods: P[]; merged: boolean } {
  const max = SESSION_ENDED_LIMITS.chargingPeriods;
  if (periods.length <= max) return { periods: periods.slice(), merged: false };
  const durations = periods.map((p) => Date.parse(p.endDateTime) - Date.parse(p.startDateTime));
  const total = durations.reduce((a, b) => a + b, 0);
  for (let target = Math.max(1, Math.ceil(total / (max - 1))); ; target *= 2) {
    // groups of consecutive periods: a group closes once it lasts `target`; a period that alone lasts
    // `target` is a group of its own (its boundaries are kept)
    const groups: number[][] = [];
    let current: number[] = [];
    let length = 0;
    for (let i = 0; i < periods.length; i++) {
      if (durations[i] >= target && current.length > 0) {
        groups.push(current);
        current = [];
        length = 0;
      }
      current.push(i);
      length += durations[i];
      if (length >= target) {
        groups.push(current);
        current = [];
        length = 0;
      }
    }
    if (current.length > 0) groups.push(current);
    if (groups.length > max) continue;
    const merged = groups.flatMap((g) =>
      mergeGroup(
        g.map((i) => periods[i]),
        g.map((i) => durations[i]),
      ),
    );
    if (merged.length > max) continue;
    // neighbours that came out in the same state are one period
    const out: P[] = [];
    for (const p of merged) {
      const last = out[out.length - 1];
      if (last && last.category === p.category && last.chargingState === p.chargingState)
        out[out.length - 1] = join(last, p, last);
      else out.push(p);
    }
    return { periods: out, merged: true };
  }
}

/**
 * A group as one period per state in it, in the order the states first appear, back to back from the
 * group's start: each lasts what that state lasted in the group and has its energy (summed) and maxima,
 * so the time and energy per category are those of the original periods; only where in the group they lie moves.
 */
function mergeGroup<P extends PeriodIn>(group: P[], durations: number[]): P[] {
  if (group.length === 1) return group;
  const byState = new Map<string, { members: P[]; ms: number }>();
  group.forEach((p, i) => {
    const k = `${p.category}|${p.chargingState}`;
    const e = byState.get(k);
    if (e) {
      e.members.push(p);
      e.ms += durations[i];
    } else byState.set(k, { members: [p], ms: durations[i] });
  });
  let cursor = Date.parse(group[0].startDateTime);
  const out: P[] = [];
  for (const { members, ms } of byState.values()) {
    const joined = members.slice(1).reduce((acc, p) => join(acc, p, members[0]), members[0]);
    out.push({
      ...joined,
      startDateTime: new Date(cursor).toISOString(),
      endDateTime: new Date(cursor + ms).toISOString(),
    });
    cursor += ms;
  }
  return out;
}

function maxOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return new Decimal(b).gt(a) ? b : a;
}

/** `a` then `b` as one period in the state and category of `as`, dimensions recomputed as the session decider writes them. */
function join<P extends PeriodIn>(a: P, b: P, as: PeriodIn): P {
  const energy = new Decimal(a.energyWh).plus(b.energyWh);
  const dur = new Decimal(a.durationSeconds).plus(b.durationSeconds);
  const maxPower = maxOf(a.maxPowerW, b.maxPowerW);
  const derived = maxPower !== undefined && (maxPower === a.maxPowerW ? a.maxPowerDerived : b.maxPowerDerived);
  const maxCurrent = maxOf(a.maxCurrentA, b.maxCurrentA);
  const dims: Array<{ type: string; volume: string }> = [
    { type: 'ENERGY', volume: energy.div(1000).toFixed() },
    {
      type: as.category === 'PARKING' ? 'PARKING_TIME' : 'TIME',
      volume: dur.div(3600).toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toFixed(),
    },
  ];
  if (maxPower !== undefined) dims.push({ type: 'MAX_POWER', volume: new Decimal(maxPower).div(1000).toFixed() });
  if (maxCurrent !== undefined) dims.push({ type: 'MAX_CURRENT', volume: maxCurrent });
  const out = {
    startDateTime: a.startDateTime,
    endDateTime: b.endDateTime,
    chargingState: as.chargingState,
    category: as.category,
    energyWh: energy.toFixed(),
    durationSeconds: dur.toFixed(),
    dimensions: dims,
  } as PeriodIn;
  if (maxPower !== undefined) out.maxPowerW = maxPower;
  if (derived) out.maxPowerDerived = true;
  if (maxCurrent !== undefined) out.maxCurrentA = maxCurrent;
  return out as P;
}

// ------------------------------------------------------------------ signed meter values

/** At most SESSION_ENDED_LIMITS.signedMeterValues of them (see the rule above), in their order. */
export function boundSignedMeterValues<S extends { context: string }>(
  values: readonly S[],
): { kept: S[]; omitted: number } {
  const L = SESSION_ENDED_LIMITS;
  if (
    values.length <= L.signedMeterValues &&
    values.every((v) => Buffer.byteLength(JSON.stringify(v), 'utf8') <= L.signedMeterValueBytes)
  ) {
    return { kept: values.slice(), omitted: 0 };
  }
  const fits = values.map((v) => Buffer.byteLength(JSON.stringify(v), 'utf8') <= L.signedMeterValueBytes);
  const idx = values.map((_, i) => i).filter((i) => fits[i]);
  const begin = idx.filter((i) => values[i].context === 'Transaction.Begin');
  const end = idx.filter((i) => values[i].context === 'Transaction.End').reverse();
  const other = idx
    .filter((i) => values[i].context !== 'Transaction.Begin' && values[i].context !== 'Transaction.End')
    .reverse();
  const chosen = [...begin.slice(0, 1), ...end.slice(0, 1), ...begin.slice(1), ...end.slice(1), ...other]
    .slice(0, L.signedMeterValues)
    .sort((a, b) => a - b);
  return { kept: chosen.map((i) => values[i]), omitted: values.length - chosen.length };
}
