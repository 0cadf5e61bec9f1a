import type { SessionDeciderConfig } from './config';
import type { SessionFlag } from './events';
import type { Chunk, EnergyReading, SessionState } from './state';
import * as stateModule from './state';
import { Dec as Decimal } from '@csms/kernel';
import * as kernel from '@csms/kernel';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { decimalsOf, formatScaled, toIsoString, toScaled } = kernel;
const { firstOf, itemsOf, lastOf } = stateModule;
/** items of a full chunk (state.ts) */
const FULL = 32;

const MS_PER_HOUR_N = 3_600_000n;

/** Fixed point → decimal.js (for the period arithmetic of summary.ts). */
export const toDecimal = (v: bigint, scale: number): Decimal => new Decimal(formatScaled(v, scale));

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
export function computeEnergy(
  s: SessionState,
  endMs: number,
  cfg: SessionDeciderConfig,
  chunks: EnergyChunkCache,
  keepPoints = true,
): EnergyResult {
  const flags: SessionFlag[] = [];
  /** flags of the increments, after the point flags (the order a two-pass computation gives) */
  const stepFlags: SessionFlag[] = [];
  const tol = cfg.readingToleranceSeconds * 1000;
  const useStart = s.meterStartWh !== undefined && s.startKnown;
  const stop = s.end ? s.end.meterStopWh : undefined;
  let scale = 0;
  if (useStart) scale = decimalsOf(s.meterStartWh as string);
  if (stop !== undefined) scale = Math.max(scale, decimalsOf(stop));
  const readings = s.readings;
  const lastChunk = readings.length - 1;
  // The fold of the chunks stored so far, as one (session.updated then costs the chunks since, not the session's
  // length): found by the first reading, valid when the reading at its end is still in its place (same readings)
  let prefix: PrefixFold | undefined;
  if (!keepPoints && lastChunk > 0) {
    const p = chunks.prefixes.get(firstOf(readings[0]) as EnergyReading);
    if (
      p !== undefined &&
      p.k <= lastChunk &&
      readings[p.k - 1].length === FULL &&
      lastOf(readings[p.k - 1]) === p.last
    )
      prefix = p;
  }
  const from = prefix === undefined ? 0 : prefix.k;
  if (prefix !== undefined) scale = Math.max(scale, prefix.decimals);
  for (let c = from; c <= lastChunk; c++) scale = Math.max(scale, maxDecimalsOf(readings[c], chunks));

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
  /** points that moved the walk on (set lastAt): whether a prefix fold moved it */
  let moves = 0;
  // Points come in time order (readings are kept sorted, clamping is monotone): meterStart, the register
  // readings, meterStop. Each is folded as it comes; no intermediate list.
  /** while a chunk's fold is being recorded: the flags it raised, in the order first raised */
  let raised: SessionFlag[] | undefined;
  const raise = (f: SessionFlag): void => {
    if (!stepFlags.includes(f)) stepFlags.push(f);
    if (raised !== undefined && !raised.includes(f)) raised.push(f);
  };
  const step = (ms: number, at: string | undefined, wh: bigint): void => {
    count++;
    // the same reading twice (meterStart and its Transaction.Begin sample, meterStop and Transaction.End)
    if (hasPrev && prevMs === ms && prevWh === wh) return;
    if (hasPrev) {
      const delta = wh - prevWh;
      if (delta < 0n) raise('REGISTER_WENT_BACKWARDS');
      // delta > maxW × dt / 3.6e6 + slack, in integers: delta × 3.6e6 > (maxW × dt + slack × 3.6e6) × 10^scale
      else if (
        (delta > surelyPlausible || ms < prevMs) &&
        delta * MS_PER_HOUR_N > (maxW * BigInt(ms - prevMs) + slack) * unit
      )
        raise(zeroSoFar ? 'START_REGISTER_PLACEHOLDER' : 'ENERGY_JUMP_IMPLAUSIBLE');
      else cum += delta;
    }
    if (wh !== 0n) zeroSoFar = false;
    hasPrev = true;
    prevMs = ms;
    prevWh = wh;
    lastMs = ms;
    lastAt = at;
    moves++;
    if (keepPoints) points.push({ ms, at: at ?? toIsoString(ms), wh, cum });
  };

  let anyNonZero = false;
  if (useStart) {
    const wh = toScaled(s.meterStartWh as string, scale);
    step(s.startedAtMs, s.startedAt, wh);
    if (wh !== 0n) anyNonZero = true;
  }
  let outside = false;
  /** what the walk is entered from (a prefix fold it records is valid from this point only) */
  const entered = { hasPrev, prevMs, prevWh, zeroSoFar, anyNonZero, startedAtMs: s.startedAtMs, tol };
  const enteredCount = count;
  const enteredMoves = moves;
  let c0 = 0;
  if (
    prefix !== undefined &&
    prefix.scale === scale &&
    prefix.maxW === maxW &&
    prefix.slackWh === slackWh &&
    prefix.entry.hasPrev === hasPrev &&
    prefix.entry.prevMs === prevMs &&
    prefix.entry.prevWh === prevWh &&
    prefix.entry.zeroSoFar === zeroSoFar &&
    prefix.entry.anyNonZero === anyNonZero &&
    prefix.entry.startedAtMs === s.startedAtMs &&
    prefix.entry.tol === tol &&
    prefix.last.ms <= endMs &&
    endMs >= s.startedAtMs
  ) {
    // entered from the same point: the walk's state after it, without visiting its chunks
    cum = prefix.cum;
    count += prefix.count;
    for (const f of prefix.flags) stepFlags.push(f);
    anyNonZero = prefix.anyNonZero;
    hasPrev = prefix.exitHasPrev;
    prevMs = prefix.exitMs;
    prevWh = prefix.exitWh;
    zeroSoFar = prefix.exitZeroSoFar;
    outside = prefix.outside;
    if (prefix.moved) {
      lastAt = prefix.lastAt;
      lastMs = prefix.lastMs;
    }
    c0 = prefix.k;
  }
  // The prefix fold is extended over the chunks walked from c0 while each is full, before the last and read to its
  // end (`cleanTo`: the chunks before it are in it), with the walk's state after the last of them. Unlike a chunk's
  // own fold it may hold readings before the start (dropped or clamped to it): what happens to them depends on the
  // start and the tolerance, which it is kept with, and none lies after the end it is used to (its last reading's,
  // and never before the start).
  let cleanTo = c0;
  let cleanDecimals = c0 > 0 ? prefix!.decimals : 0;
  let cleanExit: Omit<PrefixFold, 'k' | 'last' | 'decimals' | 'scale' | 'maxW' | 'slackWh' | 'entry'> | undefined;
  const extend = (c: number, chunk: Chunk<EnergyReading>): void => {
    if (keepPoints || c !== cleanTo || c >= lastChunk || chunk.length !== FULL) return;
    // (readings before the start are clamped to the start only when the end is not before it)
    if (lastOf(chunk)!.ms > endMs || endMs < s.startedAtMs) return;
    cleanTo = c + 1;
    cleanDecimals = Math.max(cleanDecimals, maxDecimalsOf(chunk, chunks));
    cleanExit = {
      cum,
      count: count - enteredCount,
      flags: stepFlags.slice(),
      anyNonZero,
      exitHasPrev: hasPrev,
      exitMs: prevMs,
      exitWh: prevWh,
      exitZeroSoFar: zeroSoFar,
      moved: moves > enteredMoves,
      lastAt,
      lastMs,
      outside,
    };
  };
  for (let c = c0; c <= lastChunk; c++) {
    const chunk = readings[c];
    // A chunk before the last is never appended to again: its fold, when every reading lies inside the session
    // (nothing dropped or clamped), depends only on the point before it, so it is kept and reused (a running total:
    // session.updated costs the number of chunks, not of readings). Not for the points list (session.ended).
    const n = chunk.length;
    const foldable =
      !keepPoints && c < lastChunk && n > 0 && firstOf(chunk)!.ms >= s.startedAtMs && lastOf(chunk)!.ms <= endMs;
    let info: ChunkInfo | undefined;
    if (foldable) {
      info = infoOf(chunk, chunks);
      const f = info.fold;
      if (
        f !== undefined &&
        f.items === chunk &&
        f.scale === scale &&
        f.hasPrev === hasPrev &&
        f.prevMs === prevMs &&
        f.prevWh === prevWh &&
        f.zeroSoFar === zeroSoFar &&
        f.maxW === maxW &&
        f.slackWh === slackWh
      ) {
        cum += f.cum;
        count += n;
        for (const flag of f.flags) if (!stepFlags.includes(flag)) stepFlags.push(flag);
        if (f.anyNonZero) anyNonZero = true;
        hasPrev = true;
        prevMs = f.exitMs;
        prevWh = f.exitWh;
        zeroSoFar = f.exitZeroSoFar;
        if (f.moved) {
          lastMs = f.exitMs;
          lastAt = f.lastAt;
          moves++;
        }
        extend(c, chunk);
        continue;
      }
    }
    // what the fold being recorded starts from (only when it is recorded: session.ended walks allocate nothing here)
    const entry =
      info === undefined ? undefined : { hasPrev, prevMs, prevWh, zeroSoFar, cum, lastAt, lastMs, anyNonZero };
    if (info !== undefined) {
      raised = [];
      lastAt = undefined;
      anyNonZero = false;
    }
    const values = valuesOf(chunk, scale, chunks);
    const items = itemsOf(chunk);
    for (let k = 0; k < n; k++) {
      const r = items[k];
      if (r.ms < s.startedAtMs - tol || r.ms > endMs + tol) {
        outside = true;
        continue;
      }
      const ms = Math.min(Math.max(r.ms, s.startedAtMs), endMs);
      if (values[k] !== 0n) anyNonZero = true;
      step(ms, ms === r.ms ? r.at : undefined, values[k]);
    }
    if (info !== undefined && entry !== undefined) {
      info.fold = {
        items: chunk,
        scale,
        hasPrev: entry.hasPrev,
        prevMs: entry.prevMs,
        prevWh: entry.prevWh,
        zeroSoFar: entry.zeroSoFar,
        maxW,
        slackWh,
        cum: cum - entry.cum,
        flags: raised as SessionFlag[],
        anyNonZero,
        exitMs: prevMs,
        exitWh: prevWh,
        exitZeroSoFar: zeroSoFar,
        moved: lastAt !== undefined,
        lastAt,
      };
      raised = undefined;
      // a stored chunk's registers are not kept once folded (the state holds it stored to keep fewer live objects)
      if (!Array.isArray(chunk)) {
        info.values = [];
        info.scale = -1;
      }
      if (lastAt === undefined) {
        lastAt = entry.lastAt;
        lastMs = entry.lastMs;
      }
      if (entry.anyNonZero) anyNonZero = true;
    }
    extend(c, chunk);
  }
  if (cleanExit !== undefined && cleanTo > c0) {
    chunks.prefixes.set(firstOf(readings[0]) as EnergyReading, {
      k: cleanTo,
      last: lastOf(readings[cleanTo - 1]) as EnergyReading,
      decimals: cleanDecimals,
      scale,
      maxW,
      slackWh,
      entry: entered,
      ...cleanExit,
    });
    // the chunks now in the prefix are not visited again while it holds: their own folds and registers are dropped
    for (let c = c0; c < cleanTo; c++) chunks.infos.delete(firstOf(readings[c]) as EnergyReading);
  }
  if (outside) flags.push('READING_OUTSIDE_SESSION');
  let stopUsed = false;
  if (stop !== undefined && s.end) {
    const wh = toScaled(stop, scale);
    if (wh === 0n && anyNonZero) flags.push('STOP_METER_VALUE_ZERO');
    else {
      step(endMs, s.end.ms === endMs ? s.end.at : undefined, wh);
      stopUsed = true;
    }
  }
  if (!stopUsed && count > 0) flags.push('ENERGY_FROM_LAST_SAMPLE');
  if (count === 0) flags.push('NO_ENERGY_DATA');
  for (const f of stepFlags) flags.push(f);
  if (count > 0 && lastAt === undefined) lastAt = toIsoString(lastMs);
  return { points, scale, total: cum, lastAt, flags };
}

/**
 * Parsed registers of a chunk of readings, keyed by its first reading, holding its longest version (a chunk
 * only grows at its end; a hit is checked item by item). Why: README "Performance". The decider owns the cache.
 */
interface ChunkInfo {
  /** the longest version of the chunk seen (a stored chunk: itself) */
  items: Chunk<EnergyReading>;
  /** most decimals among items[0..k] */
  decimals: number[];
  scale: number;
  /** items' registers at `scale` (possibly fewer than items, never more) */
  values: bigint[];
  /** the fold of this chunk when it was last folded whole (computeEnergy's running total) */
  fold?: ChunkFold;
}

/** A chunk's fold: the point before it and the settings it was folded with → what it added. */
interface ChunkFold extends FoldExit {
  items: Chunk<EnergyReading>;
  scale: number;
  hasPrev: boolean;
  prevMs: number;
  prevWh: bigint;
  zeroSoFar: boolean;
  maxW: bigint;
  slackWh: bigint;
}

/** Where a fold (of a chunk, or of the chunks before the last) left the walk. */
interface FoldExit {
  /** energy added (a chunk's fold) or the running total after it (the prefix fold) */
  cum: bigint;
  flags: SessionFlag[];
  anyNonZero: boolean;
  exitMs: number;
  exitWh: bigint;
  exitZeroSoFar: boolean;
  /** a point of it was not a repeat of the one before: lastAt is the instant of the last such */
  moved: boolean;
  lastAt: string | undefined;
}
/**
 * The fold of a session's first k chunks of readings as one (computeEnergy's running total over what is stored):
 * kept by the session's first reading. Valid while the reading at the end of chunk k - 1 is the same object (the
 * decider's lists only grow and every chunk before the last is full, so the same object at that place means the
 * same readings before it) and the walk enters it from the same point with the same scale and limits.
 */
interface PrefixFold extends FoldExit {
  k: number;
  /** the last reading of chunk k - 1 */
  last: EnergyReading;
  /** most decimals among the prefix's readings */
  decimals: number;
  scale: number;
  maxW: bigint;
  slackWh: bigint;
  /** the point it was entered from (the session's start point, or none) */
  entry: {
    hasPrev: boolean;
    prevMs: number;
    prevWh: bigint;
    zeroSoFar: boolean;
    anyNonZero: boolean;
    /** what its readings before the start were clamped to or dropped by */
    startedAtMs: number;
    tol: number;
  };
  /** points it walked, and the instant of its last point that moved the walk on (with `moved`) */
  count: number;
  lastMs: number;
  /** a reading of it lay too far before the start (dropped) */
  outside: boolean;
  /** the walk had a point after it (every reading of it may have been dropped) */
  exitHasPrev: boolean;
}

/** What computeEnergy keeps between calls (owned by the decider; a fresh one gives the same results, slower). */
export interface EnergyChunkCache {
  /** per chunk, by its first reading */
  infos: WeakMap<object, ChunkInfo>;
  /** per session, by its first reading */
  prefixes: WeakMap<object, PrefixFold>;
}
export const energyChunkCache = (): EnergyChunkCache => ({ infos: new WeakMap(), prefixes: new WeakMap() });

function infoOf(chunk: Chunk<EnergyReading>, chunks: EnergyChunkCache): ChunkInfo {
  // A chunk is known by its first reading. An array chunk grows at its end from one state to the next (a hit is
  // checked item by item). A stored chunk (libs/sessions `StoredChunk`, held without its items) made from a
  // full array chunk takes over that chunk's info when its length and last reading are the same: the decider's lists
  // only grow, each item an object of its own, so the same first and last reading and length are the same readings.
  // (So a chunk held without its items needs no items here once the array it was made from has been seen whole.)
  const first = firstOf(chunk) as EnergyReading;
  let info = chunks.infos.get(first);
  if (info && info.items !== chunk) {
    const known = info.items;
    if (!Array.isArray(known)) info = undefined;
    else if (!Array.isArray(chunk)) {
      if (known.length === chunk.length && known[known.length - 1] === chunk.last) {
        if (info.fold !== undefined && info.fold.items === known) info.fold.items = chunk;
        info.items = chunk;
        // a stored chunk's registers are not kept (it is held stored to keep fewer live objects)
        info.values = [];
        info.scale = -1;
      } else info = undefined;
    } else {
      const n = Math.min(known.length, chunk.length);
      for (let k = 1; k < n; k++) {
        if (known[k] !== chunk[k]) {
          info = undefined;
          break;
        }
      }
      if (info && chunk.length > known.length) {
        let d = info.decimals[known.length - 1];
        for (let k = known.length; k < chunk.length; k++)
          info.decimals.push((d = Math.max(d, decimalsOf(chunk[k].wh))));
        info.items = chunk;
      }
    }
  }
  if (!info) {
    const decimals: number[] = [];
    let d = 0;
    for (const r of itemsOf(chunk)) decimals.push((d = Math.max(d, decimalsOf(r.wh))));
    info = { items: chunk, decimals, scale: -1, values: [] };
    chunks.infos.set(first, info);
  }
  return info;
}

/** Most decimals of a chunk's readings. */
const maxDecimalsOf = (chunk: Chunk<EnergyReading>, chunks: EnergyChunkCache): number =>
  chunk.length === 0 ? 0 : infoOf(chunk, chunks).decimals[chunk.length - 1];

/** A chunk's registers at `scale` (the returned list may be longer than the chunk: read chunk.length items). */
function valuesOf(chunk: Chunk<EnergyReading>, scale: number, chunks: EnergyChunkCache): bigint[] {
  if (chunk.length === 0) return [];
  const info = infoOf(chunk, chunks);
  if (info.scale !== scale) {
    info.values = [];
    info.scale = scale;
  }
  const values = info.values;
  if (values.length < chunk.length) {
    const items = itemsOf(chunk);
    for (let k = values.length; k < chunk.length; k++) values.push(toScaled(items[k].wh, scale));
  }
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
  return ca
    .plus(
      toDecimal(b.cum - a.cum, energy.scale)
        .times(ms - a.ms)
        .div(b.ms - a.ms),
    )
    .toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
}
