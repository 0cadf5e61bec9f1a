import type { SessionEndedEvent } from '@csms/contracts';
import {
  TimeZones,
  ZERO_RATIO,
  addRatio,
  ceilToScale,
  cmpRatio,
  divRatio,
  floorToScale,
  formatScaled,
  mulRatio,
  parseRatio,
  parseRfc3339,
  ratio,
  ratioOfDec,
  ratioOfScaled,
  roundToScale,
  subRatio,
  type Ratio,
} from '@csms/kernel';
import { decFromWireNumber } from '@csms/money';
import { compileTariff, isCompiledTariff } from '@csms/pricing';
import type {
  CompiledTariff,
  OcpiNumber,
  OcpiTariff,
  PricingInput,
  PricingInputDimension,
  PricingInputPeriod,
} from '@csms/pricing';
import { BillingError } from './errors';

/** The payload of a `session.ended` v2 event (libs/contracts; v1 records in a log reach it upcast). */
export type SessionEndedPayload = SessionEndedEvent['payload'];
type ChargingPeriodIn = SessionEndedPayload['chargingPeriods'][number];

export interface ToPricingSessionOptions {
  /** IANA time zone of the location (OCPI Location.time_zone): tariff restrictions are local. */
  timeZone: string;
  /** ISO 4217 currency of the tariff (the engine refuses a mismatch). */
  currency: string;
  /**
   * The tariff version that will price the session: the periods are split for ITS boundaries. Already
   * compiled (compileTariff) when the caller prices many sessions with it: it is then not checked again,
   * and its time-zone cache serves the local-time boundaries (else a fresh cache serves this one call).
   */
  tariff: OcpiTariff | CompiledTariff;
}

/** Period categories of the session service and the OCPI dimension that carries their time. */
const TIME_DIMENSION: Record<ChargingPeriodIn['category'], 'TIME' | 'PARKING_TIME' | null> = {
  // The EV is (or may be) requesting power: OCPI charging TIME.
  CHARGING: 'TIME',
  // The EV requests power but the EVSE does not deliver (smart charging, EVSE limit): not parking
  // per the OCPI 2.2.1 erratum ("PARKING_TIME: the vehicle is not requesting power").
  SUSPENDED_EVSE: 'TIME',
  // Plugged in, before the first charge: counted as charging time by the session service's
  // totals (chargingTimeSeconds = total - parking), and not parking (no parking fee before charging).
  PREPARING: 'TIME',
  // SuspendedEV, or EVConnected after charging: the vehicle occupies the bay and requests no power.
  PARKING: 'PARKING_TIME',
  // OCPP 2.0.1 Idle: no EV connected while the transaction is open (before plug-in, after unplug):
  // neither charging nor parking at the charger. Carries no time dimension (priced by neither).
  IDLE: null,
};

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Wh -> kWh. */
const KWH_PER_WH = ratio(1000n);

function fail(code: BillingError['code'], field: string, reason: string): never {
  throw new BillingError(code, field, reason);
}

function instant(text: unknown, field: string): number {
  const ms = typeof text === 'string' ? parseRfc3339(text) : null;
  if (ms === null) fail('BILLING_INVALID_SESSION', field, `must be an RFC 3339 date-time, got ${JSON.stringify(text)}`);
  return ms;
}

const DECIMAL_RE = /^\d+(\.\d+)?$/;

/** A non-negative decimal string of the payload, parsed once: its exact value (denominator 10^decimals). */
function decimal(text: unknown, field: string): Ratio {
  if (typeof text !== 'string' || !DECIMAL_RE.test(text))
    fail('BILLING_INVALID_SESSION', field, `must be a non-negative decimal string, got ${JSON.stringify(text)}`);
  return parseRatio(text) as Ratio;
}

/** The exact value of a decimal ratio (denominator 10^k) / 10^shift, as canonical decimal text. */
function decimalText(r: Ratio, shift = 0): string {
  return formatScaled(r.n, r.d.toString().length - 1 + shift);
}

function ocpiNumber(v: OcpiNumber): Ratio {
  return typeof v === 'number' ? ratioOfDec(decFromWireNumber(v)) : (parseRatio(v) as Ratio);
}

// ------------------------------------------------------------------ tariff boundaries

/** What in the tariff makes a moment cost-relevant. Reservation elements never apply here. */
interface TariffBoundaries {
  /** Local seconds of the day at which a time-of-day restriction flips (0 = local midnight). */
  secondsOfDay: number[];
  /** Session ages (ms) of min_duration / max_duration. */
  durationsMs: number[];
  /** min_kwh / max_kwh as the engine compares them: kWh ceiled to 1 mWh, in mWh. */
  mwh: bigint[];
}

function timeToSeconds(hhmm: string): number {
  return (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))) * 60;
}

function boundariesOf(tariff: OcpiTariff): TariffBoundaries {
  const seconds = new Set<number>();
  const durations = new Set<number>();
  const mwh: bigint[] = [];
  for (const el of tariff.elements) {
    const r = el.restrictions;
    if (!r || r.reservation !== undefined) continue;
    if (r.start_time !== undefined) seconds.add(timeToSeconds(r.start_time));
    // "00:00" as end_time is the end of the day, i.e. the next local midnight.
    if (r.end_time !== undefined) seconds.add(timeToSeconds(r.end_time) % 86_400);
    // A window with only one end is open until / from midnight; dates and weekdays change at midnight.
    if ((r.start_time === undefined) !== (r.end_time === undefined)) seconds.add(0);
    if (r.day_of_week !== undefined || r.start_date !== undefined || r.end_date !== undefined) seconds.add(0);
    if (r.min_duration !== undefined) durations.add(r.min_duration * 1000);
    if (r.max_duration !== undefined) durations.add(r.max_duration * 1000);
    for (const v of [r.min_kwh, r.max_kwh]) {
      // The engine holds energy in whole mWh: energy >= x  <=>  energy >= ceil(x, 1 mWh).
      if (v !== undefined) mwh.push(ceilToScale(ocpiNumber(v), 6));
    }
  }
  return { secondsOfDay: [...seconds].sort((a, b) => a - b), durationsMs: [...durations], mwh };
}

/** UTC offset (ms) of `zone` at `ms`, as the engine sees it (local time floored to the second). */
function offsetAt(zones: TimeZones, zone: string, ms: number): number {
  const lp = zones.localParts(zone, ms);
  return (lp.epochDay * 86_400 + lp.secondOfDay - Math.floor(ms / 1000)) * 1000;
}

/**
 * Instants in (fromMs, toMs) at which a local time-of-day boundary (`seconds`, local seconds of the
 * day; 0 = midnight, which also changes the date and weekday) is reached, in the IANA zone, exact
 * across DST: the session is cut into intervals of constant UTC offset (offsets sampled every UTC
 * hour, transitions found to the second), each local boundary inside an interval gives a cut, and
 * an offset change is itself a cut when the jump of the wall clock crosses a boundary (spring
 * forward over 02:30, fall back over 02:30 or midnight).
 */
export function localBoundaryCuts(
  zone: string,
  fromMs: number,
  toMs: number,
  seconds: readonly number[],
  zones: TimeZones = new TimeZones(),
): number[] {
  const cuts: number[] = [];
  if (seconds.length === 0 || toMs <= fromMs) return cuts;
  // Offset transitions in [fromMs, toMs].
  const transitions: number[] = [];
  let prevMs = fromMs;
  let prevOff = offsetAt(zones, zone, fromMs);
  for (let t = Math.floor(fromMs / HOUR_MS) * HOUR_MS + HOUR_MS; ; t += HOUR_MS) {
    const at = Math.min(t, toMs);
    const off = offsetAt(zones, zone, at);
    if (off !== prevOff) {
      let lo = Math.floor(prevMs / 1000);
      let hi = Math.floor(at / 1000);
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetAt(zones, zone, mid * 1000) === prevOff) lo = mid;
        else hi = mid;
      }
      transitions.push(hi * 1000);
      prevOff = off;
    }
    prevMs = at;
    if (at >= toMs) break;
  }
  const edges = [fromMs, ...transitions, toMs];
  for (let i = 0; i + 1 < edges.length; i++) {
    const u0 = edges[i];
    const u1 = edges[i + 1];
    const off = offsetAt(zones, zone, u0);
    const localFrom = u0 + off;
    const localTo = u1 + off;
    for (let day = Math.floor(localFrom / DAY_MS); day * DAY_MS < localTo; day++) {
      for (const s of seconds) {
        const local = day * DAY_MS + s * 1000;
        if (local >= localFrom && local < localTo) cuts.push(local - off);
      }
    }
  }
  for (const tr of transitions) {
    const before = zones.localParts(zone, tr - 1);
    const after = zones.localParts(zone, tr);
    const flips = seconds.some((s) =>
      s === 0 ? before.dateKey !== after.dateKey : before.secondOfDay >= s !== after.secondOfDay >= s,
    );
    if (flips) cuts.push(tr);
  }
  return cuts.filter((c) => c > fromMs && c < toMs);
}

// ------------------------------------------------------------------ energy

interface Knot {
  ms: number;
  /** Cumulative Wh, exact. */
  wh: Ratio;
}

/**
 * The energy timeline, sorted by time (stable), non-decreasing (the session service never counts a
 * decrease). Several readings at one instant are a jump at that instant: the cumulative energy is
 * right-continuous, as in the session service (at an instant, the last reading of that instant).
 */
function timelineOf(p: SessionEndedPayload): Knot[] {
  const raw = p.energyTimeline.map((e, i) => ({
    ms: instant(e.at, `energyTimeline[${i}].at`),
    wh: decimal(e.cumulativeWh, `energyTimeline[${i}].cumulativeWh`),
    i,
  }));
  raw.sort((a, b) => a.ms - b.ms || a.i - b.i);
  const knots: Knot[] = [];
  for (const r of raw) {
    const prev = knots[knots.length - 1];
    knots.push({ ms: r.ms, wh: prev && cmpRatio(prev.wh, r.wh) > 0 ? prev.wh : r.wh });
  }
  return knots;
}

/**
 * Cumulative Wh at `ms`, exact rational: linear between the last reading at or before `ms` and the
 * first reading after it, constant before the first and after the last reading. `left`: the limit
 * from the left (the value before a jump at `ms`).
 */
function interpolate(knots: readonly Knot[], ms: number, left = false): Ratio {
  const n = knots.length;
  if (n === 0) return ZERO_RATIO;
  if (ms < knots[0].ms || (left && ms === knots[0].ms)) return knots[0].wh;
  if (ms > knots[n - 1].ms || (!left && ms === knots[n - 1].ms)) return knots[n - 1].wh;
  // lo: the last knot before ms (left) or at or before ms; hi = lo + 1.
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (left ? knots[mid].ms < ms : knots[mid].ms <= ms) lo = mid;
    else hi = mid;
  }
  const a = knots[lo];
  const b = knots[hi];
  if (!left && a.ms === ms) return a.wh;
  if (left && b.ms === ms) return b.wh;
  // a.wh + (b.wh - a.wh) x (ms - a.ms) / (b.ms - a.ms)
  return addRatio(a.wh, mulRatio(subRatio(b.wh, a.wh), ratio(BigInt(ms - a.ms), BigInt(b.ms - a.ms))));
}

/** A period of the session service after validation, with its exact energy anchors. */
interface Parent {
  src: ChargingPeriodIn;
  index: number;
  startMs: number;
  endMs: number;
  /** kWh, exact. */
  energy: Ratio;
  /** Cumulative kWh before / after the period, exact. */
  before: Ratio;
  after: Ratio;
  /** The same on the 1 mWh grid, in mWh (equal to the exact ones when the input has at most 1 mWh resolution). */
  gridBefore: bigint;
  gridAfter: bigint;
  /** Timeline Wh at the period's ends. */
  iStart: Ratio;
  iEnd: Ratio;
  /** true: energy follows the timeline inside the period; false: linear in time (no usable readings). */
  byTimeline: boolean;
}

/**
 * Cumulative session energy (kWh, exact) at `ms` inside parent `p`: the parent's exact energy,
 * distributed over the period as the energy timeline rises (linear interpolation between readings),
 * or linearly in time when the timeline does not rise inside the period.
 */
function cumulativeAt(p: Parent, knots: readonly Knot[], ms: number): Ratio {
  let progress: Ratio;
  if (p.byTimeline) progress = divRatio(subRatio(interpolate(knots, ms), p.iStart), subRatio(p.iEnd, p.iStart));
  else progress = ratio(BigInt(ms - p.startMs), BigInt(p.endMs - p.startMs));
  return addRatio(p.before, mulRatio(p.energy, progress));
}

/** First whole millisecond in [p.startMs, p.endMs] at which the cumulative energy reaches `kwh`. */
function crossingIn(p: Parent, knots: readonly Knot[], kwh: Ratio): number {
  const fraction = divRatio(subRatio(kwh, p.before), p.energy); // in (0, 1]
  if (!p.byTimeline) {
    const t = addRatio(ratio(BigInt(p.startMs)), mulRatio(fraction, ratio(BigInt(p.endMs - p.startMs))));
    return Number(ceilToScale(t, 0));
  }
  const target = addRatio(p.iStart, mulRatio(fraction, subRatio(p.iEnd, p.iStart))); // Wh on the timeline
  // The timeline inside the period as points; two points at one instant are a jump.
  const points: { ms: number; wh: Ratio }[] = [{ ms: p.startMs, wh: p.iStart }];
  for (const k of knots) if (k.ms > p.startMs && k.ms < p.endMs) points.push({ ms: k.ms, wh: k.wh });
  points.push({ ms: p.endMs, wh: interpolate(knots, p.endMs, true) }, { ms: p.endMs, wh: p.iEnd });
  if (cmpRatio(points[0].wh, target) >= 0) return p.startMs;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (cmpRatio(b.wh, target) < 0) continue;
    if (b.ms === a.ms) return b.ms;
    // a.ms + (target - a.wh) * (b.ms - a.ms) / (b.wh - a.wh), rounded up to the millisecond
    const t = addRatio(
      ratio(BigInt(a.ms)),
      divRatio(mulRatio(subRatio(target, a.wh), ratio(BigInt(b.ms - a.ms))), subRatio(b.wh, a.wh)),
    );
    return Math.min(Number(ceilToScale(t, 0)), b.ms);
  }
  return p.endMs;
}

/**
 * Builds the engine input from a `session.ended` v2 payload, cut at every moment that is
 * cost-relevant for `opts.tariff` (see README "Splitting rule"). Pure and deterministic.
 *
 * The payload's decimal strings are parsed here, once; the result carries exact values (energy in
 * mWh, time in ms: a PricingInput), which priceSession takes as they are. formatPricingInput (from
 * @csms/pricing) writes its text form.
 *
 * Throws TariffValidationError (from @csms/pricing) for an invalid tariff and BillingError for a
 * payload that contradicts itself (unknown time zone, periods that do not tile the session,
 * period energies that do not sum to totals.energyKwh).
 */
export function toPricingSession(ended: SessionEndedPayload, opts: ToPricingSessionOptions): PricingInput {
  const zones = isCompiledTariff(opts.tariff) ? opts.tariff.timeZones : new TimeZones();
  if (!zones.isValid(opts.timeZone))
    fail('BILLING_INVALID_TIME_ZONE', 'timeZone', `must be an IANA time zone, got ${JSON.stringify(opts.timeZone)}`);
  const tariff = compileTariff(opts.tariff).source; // throws TariffValidationError: an invalid tariff is never priced
  const zone = opts.timeZone;
  const startMs = instant(ended.startedAt, 'startedAt');
  const endMs = instant(ended.endedAt, 'endedAt');
  if (endMs < startMs) fail('BILLING_INVALID_SESSION', 'endedAt', 'must not be before startedAt');
  if (ended.chargingPeriods.length === 0) fail('BILLING_INVALID_SESSION', 'chargingPeriods', 'must not be empty');

  // Parents: validated, contiguous, zero-length periods folded into their neighbour.
  const raw = ended.chargingPeriods.map((src, i) => {
    const s = instant(src.startDateTime, `chargingPeriods[${i}].startDateTime`);
    const e = instant(src.endDateTime, `chargingPeriods[${i}].endDateTime`);
    const expectedStart =
      i === 0 ? startMs : instant(ended.chargingPeriods[i - 1].endDateTime, `chargingPeriods[${i - 1}].endDateTime`);
    if (s !== expectedStart) {
      fail(
        'BILLING_PERIODS_NOT_CONTIGUOUS',
        `chargingPeriods[${i}].startDateTime`,
        i === 0 ? 'the first period must start at startedAt' : "must equal the previous period's endDateTime",
      );
    }
    if (e < s) fail('BILLING_INVALID_SESSION', `chargingPeriods[${i}].endDateTime`, 'must not be before startDateTime');
    return {
      src,
      index: i,
      startMs: s,
      endMs: e,
      energy: divRatio(decimal(src.energyWh, `chargingPeriods[${i}].energyWh`), KWH_PER_WH),
    };
  });
  const last = raw[raw.length - 1];
  if (last.endMs !== endMs)
    fail(
      'BILLING_PERIODS_NOT_CONTIGUOUS',
      `chargingPeriods[${raw.length - 1}].endDateTime`,
      'the last period must end at endedAt',
    );
  const total = decimal(ended.totals.energyKwh, 'totals.energyKwh');
  const sum = raw.reduce((acc, r) => addRatio(acc, r.energy), ZERO_RATIO);
  if (cmpRatio(sum, total) !== 0) {
    fail(
      'BILLING_ENERGY_MISMATCH',
      'chargingPeriods',
      `period energies sum to ${decimalText(sum)} kWh, totals.energyKwh is ${decimalText(total)} kWh`,
    );
  }
  const kept = raw.filter((r) => r.endMs > r.startMs);
  if (kept.length === 0) kept.push({ ...raw[0], energy: ZERO_RATIO }); // a zero-length session: one empty period
  for (const r of raw) {
    if (r.endMs > r.startMs || r.energy.n === 0n) continue;
    // Energy of a zero-length period goes to the period that follows it (or the last one).
    const target = kept.find((k) => k.startMs >= r.endMs) ?? kept[kept.length - 1];
    target.energy = addRatio(target.energy, r.energy);
  }

  const knots = timelineOf(ended);
  const totalGrid = roundToScale(total, 6, 'HALF_UP');
  const parents: Parent[] = [];
  let before = ZERO_RATIO;
  for (let k = 0; k < kept.length; k++) {
    const r = kept[k];
    const after = addRatio(before, r.energy);
    const iStart = interpolate(knots, r.startMs);
    const iEnd = interpolate(knots, r.endMs);
    parents.push({
      src: r.src,
      index: r.index,
      startMs: r.startMs,
      endMs: r.endMs,
      energy: r.energy,
      before,
      after,
      gridBefore: floorToScale(before, 6),
      gridAfter: k === kept.length - 1 ? totalGrid : floorToScale(after, 6),
      iStart,
      iEnd,
      byTimeline: cmpRatio(iEnd, iStart) > 0,
    });
    before = after;
  }

  // Cost-relevant moments of this tariff.
  const b = boundariesOf(tariff);
  const cuts = new Set<number>(localBoundaryCuts(zone, startMs, endMs, b.secondsOfDay, zones));
  for (const d of b.durationsMs) if (startMs + d > startMs && startMs + d < endMs) cuts.add(startMs + d);
  for (const mwh of b.mwh) {
    if (mwh <= 0n) continue; // holds from the start
    const kwh = ratioOfScaled(mwh, 6);
    const p = parents.find((q) => cmpRatio(q.after, kwh) >= 0);
    if (!p || cmpRatio(p.before, kwh) >= 0) continue; // never reached, or reached at a period start
    cuts.add(crossingIn(p, knots, kwh));
  }
  const sortedCuts = [...cuts].sort((x, y) => x - y);

  const periods: PricingInputPeriod[] = [];
  for (const p of parents) {
    const dimension = TIME_DIMENSION[p.src.category];
    // W -> kW, and A, as canonical decimal text (a measurement: the engine echoes it and compares it only for a restriction)
    const maxPower =
      p.src.maxPowerW !== undefined
        ? decimalText(decimal(p.src.maxPowerW, `chargingPeriods[${p.index}].maxPowerW`), 3)
        : undefined;
    const maxCurrent =
      p.src.maxCurrentA !== undefined
        ? decimalText(decimal(p.src.maxCurrentA, `chargingPeriods[${p.index}].maxCurrentA`))
        : undefined;
    const bounds = [p.startMs, ...sortedCuts.filter((c) => c > p.startMs && c < p.endMs), p.endMs];
    let cumBefore = p.gridBefore;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const from = bounds[i];
      const to = bounds[i + 1];
      let cumAfter: bigint;
      if (i + 2 === bounds.length) cumAfter = p.gridAfter;
      else {
        // Floored to 1 mWh: the remainder of each piece moves to the next; the last piece ends on the
        // parent's exact cumulative energy, so the pieces sum exactly to the parent period.
        cumAfter = floorToScale(cumulativeAt(p, knots, to), 6);
        if (cumAfter < cumBefore) cumAfter = cumBefore;
        if (cumAfter > p.gridAfter) cumAfter = p.gridAfter;
      }
      const dims: PricingInputDimension[] = [{ type: 'ENERGY', mwh: cumAfter - cumBefore }];
      if (dimension !== null) dims.push({ type: dimension, ms: BigInt(to - from) });
      if (maxPower !== undefined) dims.push({ type: 'MAX_POWER', volume: maxPower });
      if (maxCurrent !== undefined) dims.push({ type: 'MAX_CURRENT', volume: maxCurrent });
      periods.push({ startMs: from, dimensions: dims });
      cumBefore = cumAfter;
    }
  }

  return {
    sessionId: ended.sessionId,
    startMs,
    endMs,
    startText: ended.startedAt,
    endText: ended.endedAt,
    timeZone: zone,
    currency: opts.currency,
    totalEnergy: totalGrid,
    periods,
  };
}
