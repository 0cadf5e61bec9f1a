import * as kernel from '@csms/kernel';
import type { Dec, RoundingMode } from '@csms/kernel';
import * as money from '@csms/money';
import type { Currency } from '@csms/money';
import type { CompiledComponent, CompiledElement, CompiledPrice, CompiledTariff } from './compiled';
import { PricingError } from './errors';
import * as sessionModule from './session';
import type { ParsedPeriod, ParsedSession } from './session';
import type { LocalParts } from '@csms/kernel';
import {
  CdrChargingPeriodOut,
  CostCategory,
  DAYS_OF_WEEK,
  LineItemOut,
  OcpiTariff,
  PeriodContextOut,
  PriceAdjustmentOut,
  PriceLimitBoundOut,
  PriceOut,
  PricedCdr,
  PricingInput,
  PricingOptions,
  PricingSession,
  PricingWarningOut,
  StepRoundingOut,
  TariffDimensionType,
} from './types';
import * as validate from './validate-tariff';
import { PRICING_ENGINE_VERSION } from './version';

// Hot-path functions bound once at load: a call through a CommonJS module namespace (as emitted by
// esbuild / tsx, which the benchmark runs on) goes through an accessor each time.
const { findCurrency } = money;
const {
  DEFAULT_ROUNDING,
  Dec: D,
  ceilToStep,
  divRound,
  formatMillis,
  formatMinor,
  formatRatio,
  formatScaled,
  hoursFromMs,
  isRoundingMode,
  pow10,
} = kernel;
const { isPricingInput, parseInput, parseSession } = sessionModule;
const { compileTariff } = validate;
const WEEKDAYS = DAYS_OF_WEEK;
/** Index of each cost category in the per-category sums. */
const CATEGORY_INDEX: Record<CostCategory, number> = { FIXED: 0, ENERGY: 1, TIME: 2, PARKING: 3, RESERVATION: 4 };

interface ResolvedOptions {
  rounding: RoundingMode;
  parkingStepBasis: 'BILLABLE' | 'TOTAL';
  missingMeasurement: 'SATISFIED' | 'NOT_SATISFIED';
  unpricedConsumption: 'FREE' | 'REJECT';
}

function resolveOptions(o: PricingOptions): ResolvedOptions {
  const rounding = o.rounding ?? DEFAULT_ROUNDING;
  if (!isRoundingMode(rounding))
    throw new PricingError('PRICING_INVALID_OPTIONS', 'rounding', `unknown rounding mode ${JSON.stringify(rounding)}`);
  const parkingStepBasis = o.parkingStepBasis ?? 'BILLABLE';
  if (parkingStepBasis !== 'BILLABLE' && parkingStepBasis !== 'TOTAL') {
    throw new PricingError('PRICING_INVALID_OPTIONS', 'parkingStepBasis', 'must be BILLABLE or TOTAL');
  }
  const missingMeasurement = o.missingMeasurement ?? 'SATISFIED';
  if (missingMeasurement !== 'SATISFIED' && missingMeasurement !== 'NOT_SATISFIED') {
    throw new PricingError('PRICING_INVALID_OPTIONS', 'missingMeasurement', 'must be SATISFIED or NOT_SATISFIED');
  }
  const unpricedConsumption = o.unpricedConsumption ?? 'FREE';
  if (unpricedConsumption !== 'FREE' && unpricedConsumption !== 'REJECT') {
    throw new PricingError('PRICING_INVALID_OPTIONS', 'unpricedConsumption', 'must be FREE or REJECT');
  }
  return { rounding, parkingStepBasis, missingMeasurement, unpricedConsumption };
}

/** What the engine knows at the start of a period. */
interface PeriodCtx {
  period: ParsedPeriod;
  local: LocalParts;
  /** Session age at the period start, ms. */
  sessionMs: number;
  /** Energy consumed before this period, mWh. */
  energyBefore: bigint;
  expired: boolean;
  missing: boolean;
}

/**
 * The value compared with a min_/max_ current or power restriction: the period's MIN_ value for
 * a min_ restriction and its MAX_ value for a max_ restriction (so the element applies to the whole
 * period), falling back to the other one when only one is given.
 */
function measured(p: ParsedPeriod, kind: 'current' | 'power', bound: 'min' | 'max'): string | null {
  if (kind === 'current') return bound === 'min' ? (p.minCurrent ?? p.maxCurrent) : (p.maxCurrent ?? p.minCurrent);
  return bound === 'min' ? (p.minPower ?? p.maxPower) : (p.maxPower ?? p.minPower);
}

/**
 * OCPI 2.2.1 TariffRestrictions, all ANDed, evaluated at the period start in local time:
 * start_time inclusive / end_time exclusive (wrapping past midnight when end < start; "00:00" as
 * end_time = end of day), start_date inclusive / end_date exclusive, min_* inclusive / max_*
 * exclusive, durations as session age; elements with a reservation restriction apply only to
 * reservation periods (RESERVATION_EXPIRES only when the reservation expired), other elements
 * only outside them.
 */
function elementMatches(el: CompiledElement, ctx: PeriodCtx, opts: ResolvedOptions): boolean {
  const r = el.restrictions;
  const p = ctx.period;
  if (r === null) return !p.isReservation;
  if (r.reservation === undefined) {
    if (p.isReservation) return false;
  } else {
    if (!p.isReservation) return false;
    if (r.reservation === 'RESERVATION_EXPIRES' && !ctx.expired) return false;
  }
  const t = ctx.local.secondOfDay;
  if (r.startSecond !== undefined && r.endSecond !== undefined) {
    if (r.startSecond < r.endSecond) {
      if (t < r.startSecond || t >= r.endSecond) return false;
    } else if (t < r.startSecond && t >= r.endSecond) return false;
  } else if (r.startSecond !== undefined) {
    if (t < r.startSecond) return false;
  } else if (r.endSecond !== undefined) {
    if (t >= r.endSecond) return false;
  }
  if (r.startDate !== undefined && ctx.local.dateKey < r.startDate) return false;
  if (r.endDate !== undefined && ctx.local.dateKey >= r.endDate) return false;
  if (r.dayMask !== undefined && (r.dayMask & (1 << ctx.local.weekday)) === 0) return false;
  if (r.minMilliWh !== undefined && ctx.energyBefore < r.minMilliWh) return false;
  if (r.maxMilliWh !== undefined && ctx.energyBefore >= r.maxMilliWh) return false;
  if (r.minDurationMs !== undefined && ctx.sessionMs < r.minDurationMs) return false;
  if (r.maxDurationMs !== undefined && ctx.sessionMs >= r.maxDurationMs) return false;
  if (
    r.minCurrent !== undefined ||
    r.maxCurrent !== undefined ||
    r.minPower !== undefined ||
    r.maxPower !== undefined
  ) {
    const checks: [Dec | undefined, 'current' | 'power', 'min' | 'max'][] = [
      [r.minCurrent, 'current', 'min'],
      [r.maxCurrent, 'current', 'max'],
      [r.minPower, 'power', 'min'],
      [r.maxPower, 'power', 'max'],
    ];
    for (const [limit, kind, bound] of checks) {
      if (limit === undefined) continue;
      const v = measured(p, kind, bound);
      if (v === null) {
        ctx.missing = true;
        if (opts.missingMeasurement === 'NOT_SATISFIED') return false;
        continue;
      }
      const value = new D(v);
      if (bound === 'min' ? value.lt(limit) : value.gte(limit)) return false;
    }
  }
  return true;
}

/** The elements (in list order) holding a component of one dimension, with that component. */
interface DimensionTable {
  readonly elements: readonly CompiledElement[];
  readonly components: readonly CompiledComponent[];
}

/** The tariff's dimension tables for FLAT, ENERGY, TIME, PARKING_TIME (their lists are built once, at compile time). */
function dimensionTablesOf(tariff: CompiledTariff): readonly DimensionTable[] {
  const { elementsByDimension: e, componentsByDimension: c } = tariff;
  return [
    { elements: e.FLAT, components: c.FLAT },
    { elements: e.ENERGY, components: c.ENERGY },
    { elements: e.TIME, components: c.TIME },
    { elements: e.PARKING_TIME, components: c.PARKING_TIME },
  ];
}

/** First element, in list order, holding a component of the table's dimension whose restrictions all match. */
function chooseComponent(
  table: DimensionTable,
  ctx: PeriodCtx,
  opts: ResolvedOptions,
  memo: Int8Array,
): CompiledComponent | null {
  const candidates = table.elements;
  for (let i = 0; i < candidates.length; i++) {
    const el = candidates[i];
    // memo per element for this period: 0 not evaluated yet, 1 matches, 2 does not
    let m = memo[el.index];
    if (m === 0) {
      m = elementMatches(el, ctx, opts) ? 1 : 2;
      memo[el.index] = m;
    }
    if (m === 1) return table.components[i];
  }
  return null;
}

type Group = 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'RESERVATION_TIME';

/** Everything one component priced (or one dimension left unpriced), in integer units. */
interface Acc {
  component: CompiledComponent | null;
  category: CostCategory;
  dimension: TariffDimensionType | 'RESERVATION_TIME';
  group: Group | null;
  /** mWh for ENERGY, ms for time, 1 for FLAT; exact. */
  quantity: bigint;
  billed: bigint;
  periods: number[];
  note: LineItemOut['note'];
}

/** An exact amount: n / d (d > 0). On the tariff's amount denominator for all but a capped incl total. */
interface Amount {
  n: bigint;
  d: bigint;
}

/** Unrounded amount text (exact, or 40 significant digits when it does not terminate). */
function amountText(a: Amount, t: CompiledTariff): string {
  return formatRatio(a.n, a.d, a.d === t.amountDenominator ? t.amountScale : -1);
}

function price(excl: Amount, incl: Amount, t: CompiledTariff): PriceOut {
  return { excl_vat: amountText(excl, t), incl_vat: amountText(incl, t) };
}

function cmpAmount(a: Amount, b: Amount): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

function subAmount(a: Amount, b: Amount): Amount {
  return a.d === b.d ? { n: a.n - b.n, d: a.d } : { n: a.n * b.d - b.n * a.d, d: a.d * b.d };
}

/** Mutable state of one pricing run. */
interface RunState {
  readonly opts: ResolvedOptions;
  readonly accs: Acc[];
  readonly byComponent: Map<CompiledComponent, Acc>;
  readonly unpricedByDimension: Map<string, Acc>;
  readonly lastInGroup: Partial<Record<Group, Acc>>;
  readonly warnings: PricingWarningOut[];
  readonly stepRounding: StepRoundingOut[];
}

function addPriced(
  st: RunState,
  component: CompiledComponent,
  category: CostCategory,
  dimension: Acc['dimension'],
  group: Group | null,
  quantity: bigint,
  periodIndex: number,
): void {
  let acc = st.byComponent.get(component);
  if (!acc) {
    acc = {
      component,
      category,
      dimension,
      group,
      quantity: 0n,
      billed: 0n,
      periods: [],
      note: group === null ? 'FLAT_ONCE' : 'PRICED',
    };
    st.byComponent.set(component, acc);
    st.accs.push(acc);
  }
  acc.quantity += quantity;
  acc.billed += quantity;
  acc.periods.push(periodIndex);
  if (group !== null) st.lastInGroup[group] = acc;
}

function addUnpriced(
  st: RunState,
  p: ParsedPeriod,
  dimension: Acc['dimension'],
  category: CostCategory,
  quantity: bigint,
): void {
  const shown = dimension === 'ENERGY' ? `${formatScaled(quantity, 6)} kWh` : `${formatScaled(quantity, 3)} s`;
  if (st.opts.unpricedConsumption === 'REJECT') {
    throw new PricingError(
      'PRICING_NO_APPLICABLE_ELEMENT',
      `charging_periods[${p.index}]`,
      `no tariff element prices ${dimension} at ${p.startText} (${shown})`,
    );
  }
  let acc = st.unpricedByDimension.get(dimension);
  if (!acc) {
    acc = {
      component: null,
      category,
      dimension,
      group: null,
      quantity: 0n,
      billed: 0n,
      periods: [],
      note: 'UNPRICED_NO_APPLICABLE_ELEMENT',
    };
    st.unpricedByDimension.set(dimension, acc);
    st.accs.push(acc);
  }
  acc.quantity += quantity;
  acc.billed += quantity;
  acc.periods.push(p.index);
  st.warnings.push({
    code: 'UNPRICED_CONSUMPTION',
    period_index: p.index,
    detail: `${shown} of ${dimension} with no applicable tariff element: not billed (OCPI 2.2.1: no matching element, the dimension is free)`,
  });
}

/**
 * step_size, once per session per group, on the group's total, with the step of the component
 * that priced the group's last period; the extra is billed by that component at its price.
 */
function roundGroup(st: RunState, group: Group, totalOverride: bigint | null): void {
  const last = st.lastInGroup[group];
  if (!last) return;
  const comp = last.component as CompiledComponent;
  let quantity = 0n;
  for (const a of st.accs) if (a.group === group) quantity += a.quantity;
  if (totalOverride !== null) quantity = totalOverride;
  // step_size is in Wh (ENERGY, quantities in mWh) or s (time, quantities in ms): x1000 both.
  const billedTotal = ceilToStep(quantity, comp.stepUnits);
  const extra = billedTotal - quantity;
  last.billed += extra;
  const decimals = group === 'ENERGY' ? 6 : 3;
  st.stepRounding.push({
    group,
    unit: group === 'ENERGY' ? 'kWh' : 's',
    quantity: formatScaled(quantity, decimals),
    step_size: comp.stepSize,
    billed_quantity: formatScaled(billedTotal, decimals),
    extra: formatScaled(extra, decimals),
    period_index: last.periods[last.periods.length - 1],
    element_index: comp.elementIndex,
  });
}

type PriceLimit = 'MIN_PRICE' | 'MAX_PRICE';

/** One side (excl or incl VAT) of the session total after the price limits, and the limit that set it. */
interface LimitedSide {
  value: Amount;
  /** null: no limit moved this side (value is the total as computed, the same object). */
  bound: { limit: PriceLimit; derived: boolean } | null;
}

/** `value` raised to `lo` and then lowered to `hi` (each when given): when the two contradict, the cap wins. */
function limitSide(
  value: Amount,
  lo: Amount | null,
  hi: Amount | null,
  loDerived: boolean,
  hiDerived: boolean,
): LimitedSide {
  let out: LimitedSide = { value, bound: null };
  if (lo !== null && cmpAmount(value, lo) < 0) out = { value: lo, bound: { limit: 'MIN_PRICE', derived: loDerived } };
  if (hi !== null && cmpAmount(out.value, hi) > 0)
    out = { value: hi, bound: { limit: 'MAX_PRICE', derived: hiDerived } };
  return out;
}

/**
 * min_price and max_price as four independent limits on the session total (OCPI 2.2.1: "they both
 * apply", excl and incl VAT each): the excl total is raised to min_price.excl_vat and capped at
 * max_price.excl_vat, the incl total raised to min_price.incl_vat and capped at max_price.incl_vat,
 * each on its own. A Price without incl_vat still limits the incl total: at its excl_vat times the
 * session's own incl/excl ratio (the VAT mix is kept), a limit that binds exactly when its excl limit
 * binds (incl >= excl > 0 or both 0; with nothing consumed there is no VAT to keep: incl = excl).
 * When limits contradict each other for a session (possible only through such a derived limit, or a
 * min_price.incl_vat above max_price.excl_vat's derived cap), the cap wins: max_price is a promise to
 * the driver.
 */
function applyPriceLimits(
  totalExcl: Amount,
  totalIncl: Amount,
  min: CompiledPrice | null,
  max: CompiledPrice | null,
  den: bigint,
): { excl: LimitedSide; incl: LimitedSide } {
  const excl = limitSide(
    totalExcl,
    min ? { n: min.exclUnits, d: den } : null,
    max ? { n: max.exclUnits, d: den } : null,
    false,
    false,
  );
  // The incl limit a Price without incl_vat implies: excl_vat x incl / excl (only needed when that excl limit bound).
  const derived = (b: CompiledPrice): Amount =>
    totalExcl.n === 0n ? { n: b.exclUnits, d: den } : { n: b.exclUnits * totalIncl.n, d: den * totalExcl.n };
  const exclBy = excl.bound?.limit;
  const lo = !min
    ? null
    : min.inclUnits !== null
      ? { n: min.inclUnits, d: den }
      : exclBy === 'MIN_PRICE'
        ? derived(min)
        : null;
  const hi = !max
    ? null
    : max.inclUnits !== null
      ? { n: max.inclUnits, d: den }
      : exclBy === 'MAX_PRICE'
        ? derived(max)
        : null;
  const incl = limitSide(
    totalIncl,
    lo,
    hi,
    min !== null && min.inclUnits === null,
    max !== null && max.inclUnits === null,
  );
  return { excl, incl };
}

/** The adjustment when the tariff has neither min_price nor max_price (shared: outputs are read-only). */
const NO_ADJUSTMENT: PriceAdjustmentOut = Object.freeze({
  rule: 'NONE',
  excl_vat: '0',
  incl_vat: '0',
  bound: Object.freeze({ excl_vat: null, incl_vat: null }),
}) as PriceAdjustmentOut;

function boundOut(side: LimitedSide, t: CompiledTariff): PriceLimitBoundOut | null {
  return side.bound === null
    ? null
    : { limit: side.bound.limit, value: amountText(side.value, t), derived: side.bound.derived };
}

/** What min/max price did: the difference per side, and which limit bound each side (`rule` sums them up). */
function adjustmentOf(
  excl: LimitedSide,
  incl: LimitedSide,
  dExcl: Amount,
  dIncl: Amount,
  t: CompiledTariff,
): PriceAdjustmentOut {
  const e = excl.bound?.limit;
  const i = incl.bound?.limit;
  const rule: PriceAdjustmentOut['rule'] =
    e === undefined ? (i ?? 'NONE') : i === undefined || i === e ? e : 'MIN_AND_MAX_PRICE';
  return { rule, ...price(dExcl, dIncl, t), bound: { excl_vat: boundOut(excl, t), incl_vat: boundOut(incl, t) } };
}

/** An exact amount rounded once, by `mode`, to the currency's minor unit. */
function roundAmount(a: Amount, currency: Currency, mode: RoundingMode): string {
  return formatMinor(divRound(a.n * pow10(currency.minorUnits), a.d, mode), currency.minorUnits);
}

function roundPrice(excl: Amount, incl: Amount, currency: Currency, mode: RoundingMode): PriceOut {
  return { excl_vat: roundAmount(excl, currency, mode), incl_vat: roundAmount(incl, currency, mode) };
}

/**
 * Price one session with one OCPI 2.2.1 tariff. Pure and deterministic: the same tariff, session
 * and options always give the same output (serialise with toCanonicalJson for byte equality).
 * The session is either the text form (PricingSession, parsed here) or a PricingInput whose values
 * a caller already holds parsed (checked here, nothing read from text); both price the same.
 *
 * Throws TariffValidationError for an invalid tariff and PricingError for an invalid session, a
 * currency mismatch, a tariff not in force at the session start, or (policy REJECT) consumption
 * that no element prices.
 */
export function priceSession(
  tariffInput: OcpiTariff | CompiledTariff,
  sessionInput: PricingSession | PricingInput,
  options: PricingOptions = {},
): PricedCdr {
  const tariff = compileTariff(tariffInput);
  const opts = resolveOptions(options);
  const zones = tariff.timeZones;
  const session: ParsedSession = isPricingInput(sessionInput)
    ? parseInput(sessionInput, zones)
    : parseSession(sessionInput, zones);
  if (session.currency !== tariff.currency) {
    throw new PricingError(
      'PRICING_CURRENCY_MISMATCH',
      'currency',
      `session currency ${session.currency} differs from tariff currency ${tariff.currency}`,
    );
  }
  // OCPI: the tariff valid at the session start applies: start_date_time <= start < end_date_time.
  if (
    (tariff.validFromMs !== null && session.startMs < tariff.validFromMs) ||
    (tariff.validToMs !== null && session.startMs >= tariff.validToMs)
  ) {
    throw new PricingError(
      'PRICING_TARIFF_NOT_IN_FORCE',
      'start_date_time',
      `tariff ${tariff.id} is not in force at ${session.startText}`,
    );
  }
  const currency = findCurrency(tariff.currency)!;

  let pricesChargingTime = false;
  let pricesReservationTime = false;
  for (const e of tariff.elementsByDimension.TIME) {
    if (e.restrictions?.reservation === undefined) pricesChargingTime = true;
    else pricesReservationTime = true;
  }
  const pricesEnergy = tariff.elementsByDimension.ENERGY.length > 0;
  const pricesParking = tariff.elementsByDimension.PARKING_TIME.length > 0;

  const st: RunState = {
    opts,
    accs: [],
    byComponent: new Map(),
    unpricedByDimension: new Map(),
    lastInGroup: {},
    warnings: [],
    stepRounding: [],
  };
  const { accs, warnings } = st;
  const contexts: PeriodContextOut[] = [];
  const cdrPeriods: CdrChargingPeriodOut[] = [];
  let energyBefore = 0n;
  let energyBeforeText: string | null = '0';
  let parkingMs = 0n;
  let chargingMs = 0n;
  let reservationMs = 0n;

  const memo = new Int8Array(tariff.elements.length);
  const [flatTable, energyTable, timeTable, parkingTable] = dimensionTablesOf(tariff);
  // One context object, updated per period (fewer allocations on the hot path).
  const ctx: PeriodCtx = {
    period: session.periods[0],
    local: zones.localParts(session.timeZone, session.periods[0].startMs),
    sessionMs: 0,
    energyBefore: 0n,
    expired: session.expired,
    missing: false,
  };
  for (const p of session.periods) {
    ctx.period = p;
    if (p.index > 0) ctx.local = zones.localParts(session.timeZone, p.startMs);
    ctx.sessionMs = p.startMs - session.startMs;
    ctx.energyBefore = energyBefore;
    ctx.missing = false;
    if (p.startMs < session.startMs) {
      warnings.push({
        code: 'PERIOD_BEFORE_SESSION_START',
        period_index: p.index,
        detail: `period starts at ${p.startText}, before the session start ${session.startText}`,
      });
    }
    memo.fill(0);
    const flat = chooseComponent(flatTable, ctx, opts, memo);
    const energyC = chooseComponent(energyTable, ctx, opts, memo);
    const timeC = chooseComponent(timeTable, ctx, opts, memo);
    const parkingC = chooseComponent(parkingTable, ctx, opts, memo);
    if (ctx.missing) {
      warnings.push({
        code: 'MEASUREMENT_MISSING_FOR_RESTRICTION',
        period_index: p.index,
        detail: `a current/power restriction was evaluated without a MIN_/MAX_ value: treated as ${opts.missingMeasurement}`,
      });
    }

    // FLAT: each distinct FLAT component is billed once, in the first period it is active.
    if (flat && !st.byComponent.has(flat))
      addPriced(st, flat, flat.reservation ? 'RESERVATION' : 'FIXED', 'FLAT', null, 1n, p.index);
    if (p.energy !== null && p.energy > 0n) {
      if (energyC) addPriced(st, energyC, 'ENERGY', 'ENERGY', 'ENERGY', p.energy, p.index);
      else if (pricesEnergy) addUnpriced(st, p, 'ENERGY', 'ENERGY', p.energy);
    }
    if (p.time !== null && p.time > 0n) {
      chargingMs += p.time;
      if (timeC) addPriced(st, timeC, 'TIME', 'TIME', 'TIME', p.time, p.index);
      else if (pricesChargingTime) addUnpriced(st, p, 'TIME', 'TIME', p.time);
    }
    if (p.parking !== null && p.parking > 0n) {
      parkingMs += p.parking;
      if (parkingC) addPriced(st, parkingC, 'PARKING', 'PARKING_TIME', 'PARKING_TIME', p.parking, p.index);
      else if (pricesParking) addUnpriced(st, p, 'PARKING_TIME', 'PARKING', p.parking);
    }
    if (p.reservationTime !== null && p.reservationTime > 0n) {
      reservationMs += p.reservationTime;
      if (timeC)
        addPriced(st, timeC, 'RESERVATION', 'RESERVATION_TIME', 'RESERVATION_TIME', p.reservationTime, p.index);
      else if (pricesReservationTime) addUnpriced(st, p, 'RESERVATION_TIME', 'RESERVATION', p.reservationTime);
    }

    if (energyBeforeText === null) energyBeforeText = formatScaled(energyBefore, 6);
    contexts.push({
      period_index: p.index,
      start_date_time: p.startText,
      local_time: zones.formatLocal(ctx.local),
      day_of_week: WEEKDAYS[ctx.local.weekday],
      session_seconds: formatMillis(ctx.sessionMs),
      energy_before_kwh: energyBeforeText,
      duration_seconds: formatMillis(p.endMs - p.startMs),
      reservation: p.isReservation,
      elements: {
        ENERGY: energyC ? energyC.elementIndex : null,
        FLAT: flat ? flat.elementIndex : null,
        TIME: timeC ? timeC.elementIndex : null,
        PARKING_TIME: parkingC ? parkingC.elementIndex : null,
      },
    });
    cdrPeriods.push({ start_date_time: p.startText, dimensions: p.dimensions, tariff_id: tariff.id });
    if (p.energy !== null && p.energy !== 0n) {
      energyBefore += p.energy;
      energyBeforeText = null;
    }
  }

  if (energyBefore !== session.totalEnergy) {
    warnings.push({
      code: 'ENERGY_TOTAL_MISMATCH',
      period_index: null,
      detail: `sum of period ENERGY (${formatScaled(energyBefore, 6)} kWh) differs from total_energy (${formatScaled(session.totalEnergy, 6)} kWh); periods are priced, total_energy is reported`,
    });
  }

  roundGroup(st, 'ENERGY', null);
  if (st.lastInGroup.PARKING_TIME) {
    // Charging time followed by priced parking: only the parking time is rounded.
    roundGroup(st, 'PARKING_TIME', opts.parkingStepBasis === 'TOTAL' ? parkingMs : null);
  } else {
    roundGroup(st, 'TIME', null);
  }
  roundGroup(st, 'RESERVATION_TIME', null);

  // Amounts, exact: integers over the tariff's amount denominator (billed units x amount per unit).
  const den = tariff.amountDenominator;
  const sumExcl = [0n, 0n, 0n, 0n, 0n];
  const sumIncl = [0n, 0n, 0n, 0n, 0n];
  const lines: LineItemOut[] = [];
  for (const a of accs) {
    const c = a.component;
    const decimals = a.dimension === 'ENERGY' ? 6 : a.dimension === 'FLAT' ? 0 : 3;
    let excl = 0n;
    let incl = 0n;
    if (c) {
      excl = a.billed * c.exclPerUnit;
      incl = a.billed * c.inclPerUnit;
      const k = CATEGORY_INDEX[a.category];
      sumExcl[k] += excl;
      sumIncl[k] += incl;
    }
    lines.push({
      category: a.category,
      dimension: a.dimension,
      element_index: c ? c.elementIndex : null,
      component_index: c ? c.componentIndex : null,
      restrictions: c ? (tariff.elements[c.elementIndex].restrictionsText as Record<string, string>) : {},
      periods: a.periods,
      unit: a.dimension === 'FLAT' ? 'fee' : a.dimension === 'ENERGY' ? 'kWh' : 's',
      quantity: formatScaled(a.quantity, decimals),
      billed_quantity: formatScaled(a.billed, decimals),
      step_size: c && c.type !== 'FLAT' ? c.stepSize : null,
      unit_price: c ? c.priceText : '0',
      vat: c ? c.vatText : null,
      amount_excl_vat: formatRatio(excl, den, tariff.amountScale),
      amount_incl_vat: formatRatio(incl, den, tariff.amountScale),
      note: a.note,
    });
  }
  const amount = (n: bigint): Amount => ({ n, d: den });
  const sums: Record<CostCategory, { excl: Amount; incl: Amount }> = {
    FIXED: { excl: amount(sumExcl[0]), incl: amount(sumIncl[0]) },
    ENERGY: { excl: amount(sumExcl[1]), incl: amount(sumIncl[1]) },
    TIME: { excl: amount(sumExcl[2]), incl: amount(sumIncl[2]) },
    PARKING: { excl: amount(sumExcl[3]), incl: amount(sumIncl[3]) },
    RESERVATION: { excl: amount(sumExcl[4]), incl: amount(sumIncl[4]) },
  };
  const totalExcl = amount(sumExcl[0] + sumExcl[1] + sumExcl[2] + sumExcl[3] + sumExcl[4]);
  const totalIncl = amount(sumIncl[0] + sumIncl[1] + sumIncl[2] + sumIncl[3] + sumIncl[4]);

  // Subtotals are kept as computed; a min/max price difference is reported as the adjustment.
  let clampedExcl = totalExcl;
  let clampedIncl = totalIncl;
  let adjustment: PriceAdjustmentOut = NO_ADJUSTMENT;
  if (tariff.minPrice !== null || tariff.maxPrice !== null) {
    const limited = applyPriceLimits(totalExcl, totalIncl, tariff.minPrice, tariff.maxPrice, den);
    clampedExcl = limited.excl.value;
    clampedIncl = limited.incl.value;
    adjustment = adjustmentOf(
      limited.excl,
      limited.incl,
      subAmount(clampedExcl, totalExcl),
      subAmount(clampedIncl, totalIncl),
      tariff,
    );
  }
  // Unrounded totals: the same text when min/max price left the total as it was (formatted once).
  const beforeMinMax = price(totalExcl, totalIncl, tariff);
  const unroundedTotal =
    clampedExcl === totalExcl && clampedIncl === totalIncl
      ? { excl_vat: beforeMinMax.excl_vat, incl_vat: beforeMinMax.incl_vat }
      : price(clampedExcl, clampedIncl, tariff);

  // Each reported total is rounded once, from its unrounded value, to the minor unit.
  const mode = opts.rounding;
  const totalMs = session.endMs - session.startMs;

  return {
    session_id: session.sessionId,
    tariff_id: tariff.id,
    currency: tariff.currency,
    start_date_time: session.startText,
    end_date_time: session.endText,
    charging_periods: cdrPeriods,
    total_cost: roundPrice(clampedExcl, clampedIncl, currency, mode),
    total_fixed_cost: roundPrice(sums.FIXED.excl, sums.FIXED.incl, currency, mode),
    total_energy: formatScaled(session.totalEnergy, 6),
    total_energy_cost: roundPrice(sums.ENERGY.excl, sums.ENERGY.incl, currency, mode),
    total_time: hoursFromMs(BigInt(totalMs)),
    total_time_cost: roundPrice(sums.TIME.excl, sums.TIME.incl, currency, mode),
    total_parking_time: hoursFromMs(parkingMs),
    total_parking_cost: roundPrice(sums.PARKING.excl, sums.PARKING.incl, currency, mode),
    total_reservation_cost: roundPrice(sums.RESERVATION.excl, sums.RESERVATION.incl, currency, mode),
    breakdown: { periods: contexts, lines, step_rounding: st.stepRounding, price_adjustment: adjustment },
    audit: {
      engine_version: PRICING_ENGINE_VERSION,
      rounding: mode,
      minor_units: currency.minorUnits,
      policies: {
        parking_step_basis: opts.parkingStepBasis,
        missing_measurement: opts.missingMeasurement,
        unpriced_consumption: opts.unpricedConsumption,
      },
      time_zone: session.timeZone,
      unrounded: {
        total_cost: unroundedTotal,
        total_cost_before_min_max: beforeMinMax,
        total_fixed_cost: price(sums.FIXED.excl, sums.FIXED.incl, tariff),
        total_energy_cost: price(sums.ENERGY.excl, sums.ENERGY.incl, tariff),
        total_time_cost: price(sums.TIME.excl, sums.TIME.incl, tariff),
        total_parking_cost: price(sums.PARKING.excl, sums.PARKING.incl, tariff),
        total_reservation_cost: price(sums.RESERVATION.excl, sums.RESERVATION.incl, tariff),
        price_adjustment: adjustment,
        total_energy_kwh: formatScaled(energyBefore, 6),
        total_time_seconds: formatMillis(totalMs),
        total_parking_time_seconds: formatScaled(parkingMs, 3),
        total_charging_time_seconds: formatScaled(chargingMs, 3),
        total_reservation_time_seconds: formatScaled(reservationMs, 3),
      },
      warnings,
    },
  };
}
