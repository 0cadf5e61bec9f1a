import { Dec, isDecimalString, parseInstant, parseRfc3339, pow10, TimeZones } from '@csms/kernel';
import { dec, decFromWireNumber, findCurrency } from '@csms/money';
import type {
  CompiledComponent,
  CompiledElement,
  CompiledPrice,
  CompiledRestrictions,
  CompiledTariff,
} from './compiled';
import { TariffErrorCode, TariffIssue, TariffValidationError } from './errors';
import { TARIFF_LIMITS as L } from './limits';
import {
  DAYS_OF_WEEK,
  OcpiTariff,
  RESERVATION_RESTRICTION_TYPES,
  ReservationRestrictionType,
  TARIFF_DIMENSION_TYPES,
  TARIFF_TYPES,
  TariffDimensionType,
  TariffType,
} from './types';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TIME_RE = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
const DATE_RE = /^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;

class Collector {
  readonly issues: TariffIssue[] = [];
  /** Most decimals of a price or min/max amount: the currency's minor units + L.amountExtraDecimals (4 + extra until the currency is known). */
  amountDecimals = 4 + L.amountExtraDecimals;
  add(code: TariffErrorCode, field: string, reason: string): void {
    this.issues.push({ code, field, reason });
  }

  /** An OCPI number (JSON number or decimal string) >= 0, or undefined after recording an issue. */
  nonNegative(value: unknown, field: string, negativeCode: TariffErrorCode = 'TARIFF_INVALID_NUMBER'): Dec | undefined {
    let d: Dec;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) {
        this.add('TARIFF_INVALID_NUMBER', field, 'must be a finite number');
        return undefined;
      }
      d = decFromWireNumber(value);
    } else if (isDecimalString(value)) {
      d = dec(value);
    } else {
      this.add('TARIFF_INVALID_TYPE', field, `must be a number, got ${describe(value)}`);
      return undefined;
    }
    if (d.isNegative() && !d.isZero()) {
      this.add(negativeCode, field, `must not be negative, got ${d.toFixed()}`);
      return undefined;
    }
    return d;
  }

  /**
   * `d` within its bound (below `below`, or at most `atMost`) with at most `decimals` decimals; else
   * undefined after recording TARIFF_NUMBER_TOO_LARGE / TARIFF_TOO_MANY_DECIMALS.
   */
  bounded(
    d: Dec | undefined,
    field: string,
    bound: { below?: string; atMost?: string; decimals: number },
  ): Dec | undefined {
    if (d === undefined) return undefined;
    if ((bound.below !== undefined && d.gte(bound.below)) || (bound.atMost !== undefined && d.gt(bound.atMost))) {
      const limit = bound.below !== undefined ? `below ${bound.below}` : `at most ${bound.atMost}`;
      this.add('TARIFF_NUMBER_TOO_LARGE', field, `must be ${limit}, got ${d.toSignificantDigits(6).toString()}`);
      return undefined;
    }
    if (d.decimalPlaces() > bound.decimals) {
      this.add(
        'TARIFF_TOO_MANY_DECIMALS',
        field,
        `at most ${bound.decimals} decimals, got ${d.decimalPlaces()} (${d.toFixed()})`,
      );
      return undefined;
    }
    return d;
  }

  /** A price or min/max price amount: >= 0, below 10^9, at most the currency's minor units + 4 decimals. */
  amount(value: unknown, field: string): Dec | undefined {
    return this.bounded(this.nonNegative(value, field, 'TARIFF_NEGATIVE_PRICE'), field, {
      below: L.amountBelow,
      decimals: this.amountDecimals,
    });
  }

  integer(value: unknown, field: string, min: number, atMost: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.add('TARIFF_INVALID_TYPE', field, `must be an integer, got ${describe(value)}`);
      return undefined;
    }
    if (value < min) {
      this.add('TARIFF_INVALID_NUMBER', field, `must be >= ${min}, got ${value}`);
      return undefined;
    }
    if (value > atMost) {
      this.add('TARIFF_NUMBER_TOO_LARGE', field, `must be at most ${atMost}, got ${value}`);
      return undefined;
    }
    return value;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  return typeof v;
}

function timeToSeconds(text: string): number {
  const [h, m] = text.split(':');
  return (+h * 60 + +m) * 60;
}

function dateKey(text: string): number | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  const dim = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > dim) return undefined;
  return y * 10000 + mo * 100 + d;
}

function numText(v: unknown): string {
  return typeof v === 'number' ? decFromWireNumber(v).toFixed() : String(v);
}

function checkPrice(c: Collector, value: unknown, field: string): CompiledPrice | undefined {
  if (!isObject(value)) {
    c.add('TARIFF_INVALID_TYPE', field, 'must be a Price object {excl_vat, incl_vat?}');
    return undefined;
  }
  if (value.excl_vat === undefined) {
    c.add('TARIFF_MISSING_FIELD', `${field}.excl_vat`, 'is required');
    return undefined;
  }
  const excl = c.amount(value.excl_vat, `${field}.excl_vat`);
  const incl = value.incl_vat === undefined ? null : c.amount(value.incl_vat, `${field}.incl_vat`);
  if (excl === undefined || incl === undefined) return undefined;
  // exclUnits / inclUnits are set once the tariff's amount scale is known
  return { excl, incl, exclUnits: 0n, inclUnits: null };
}

function checkRange(
  c: Collector,
  r: Obj,
  field: string,
  minKey: string,
  maxKey: string,
  bound: { below: string; decimals: number },
): { min?: Dec; max?: Dec } {
  const min =
    r[minKey] === undefined
      ? undefined
      : c.bounded(c.nonNegative(r[minKey], `${field}.${minKey}`), `${field}.${minKey}`, bound);
  const max =
    r[maxKey] === undefined
      ? undefined
      : c.bounded(c.nonNegative(r[maxKey], `${field}.${maxKey}`), `${field}.${maxKey}`, bound);
  if (min !== undefined && max !== undefined && min.gte(max)) {
    c.add(
      'TARIFF_INVERTED_RANGE',
      `${field}.${minKey}`,
      `${minKey} (${min.toFixed()}) must be below ${maxKey} (${max.toFixed()}): min is inclusive, max exclusive, so the range is empty`,
    );
  }
  return { min, max };
}

const RESTRICTION_KEYS = [
  'start_time',
  'end_time',
  'start_date',
  'end_date',
  'min_kwh',
  'max_kwh',
  'min_current',
  'max_current',
  'min_power',
  'max_power',
  'min_duration',
  'max_duration',
  'day_of_week',
  'reservation',
] as const;

function checkRestrictions(
  c: Collector,
  value: unknown,
  field: string,
): { compiled: CompiledRestrictions | null; text: Record<string, string> } {
  if (value === undefined || value === null) return { compiled: null, text: {} };
  if (!isObject(value)) {
    c.add('TARIFF_INVALID_TYPE', field, 'must be a TariffRestrictions object');
    return { compiled: null, text: {} };
  }
  const r = value;
  const out: {
    -readonly [K in keyof CompiledRestrictions]: CompiledRestrictions[K];
  } = {};
  const text: Record<string, string> = {};
  for (const key of RESTRICTION_KEYS) {
    const v = r[key];
    if (v === undefined) continue;
    text[key] = Array.isArray(v)
      ? v.map(String).join(',')
      : key.endsWith('_time') || key.endsWith('_date') || key === 'reservation'
        ? String(v)
        : numText(v);
  }

  for (const key of ['start_time', 'end_time'] as const) {
    const v = r[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !TIME_RE.test(v)) {
      c.add('TARIFF_INVALID_TIME', `${field}.${key}`, `must be local time "HH:MM" (00:00-23:59), got ${describe(v)}`);
    } else if (key === 'start_time') {
      out.startSecond = timeToSeconds(v);
    } else {
      // "00:00" as end_time means end of day (OCPI: "To stop at end of the day use: 00:00").
      out.endSecond = v === '00:00' ? 86400 : timeToSeconds(v);
    }
  }
  if (out.startSecond !== undefined && out.endSecond !== undefined && out.startSecond === out.endSecond) {
    c.add(
      'TARIFF_INVERTED_RANGE',
      `${field}.end_time`,
      `start_time and end_time are equal (${String(r.start_time)}): the window is empty`,
    );
  }

  for (const key of ['start_date', 'end_date'] as const) {
    const v = r[key];
    if (v === undefined) continue;
    const k = typeof v === 'string' ? dateKey(v) : undefined;
    if (k === undefined)
      c.add('TARIFF_INVALID_DATE', `${field}.${key}`, `must be a local date "YYYY-MM-DD", got ${describe(v)}`);
    else if (key === 'start_date') out.startDate = k;
    else out.endDate = k;
  }
  if (out.startDate !== undefined && out.endDate !== undefined && out.startDate >= out.endDate) {
    c.add(
      'TARIFF_INVERTED_RANGE',
      `${field}.start_date`,
      `start_date (${String(r.start_date)}) must be before end_date (${String(r.end_date)}, exclusive)`,
    );
  }

  const kwh = checkRange(c, r, field, 'min_kwh', 'max_kwh', { below: L.kwhBelow, decimals: L.kwhDecimals });
  // Energy so far is an integer in mWh, so energy >= min <=> energy >= ceil(min * 1e6), same for max.
  const toMilli = (v: Dec | undefined): bigint | undefined =>
    v === undefined ? undefined : BigInt(v.times(1e6).ceil().toFixed(0));
  out.minMilliWh = toMilli(kwh.min);
  out.maxMilliWh = toMilli(kwh.max);
  const current = checkRange(c, r, field, 'min_current', 'max_current', {
    below: L.currentPowerBelow,
    decimals: L.currentPowerDecimals,
  });
  out.minCurrent = current.min;
  out.maxCurrent = current.max;
  const power = checkRange(c, r, field, 'min_power', 'max_power', {
    below: L.currentPowerBelow,
    decimals: L.currentPowerDecimals,
  });
  out.minPower = power.min;
  out.maxPower = power.max;

  const minD =
    r.min_duration === undefined ? undefined : c.integer(r.min_duration, `${field}.min_duration`, 0, L.durationAtMost);
  const maxD =
    r.max_duration === undefined ? undefined : c.integer(r.max_duration, `${field}.max_duration`, 0, L.durationAtMost);
  if (minD !== undefined && maxD !== undefined && minD >= maxD) {
    c.add(
      'TARIFF_INVERTED_RANGE',
      `${field}.min_duration`,
      `min_duration (${minD}) must be below max_duration (${maxD}, exclusive)`,
    );
  }
  if (minD !== undefined) out.minDurationMs = minD * 1000;
  if (maxD !== undefined) out.maxDurationMs = maxD * 1000;

  if (r.day_of_week !== undefined) {
    if (!Array.isArray(r.day_of_week) || r.day_of_week.length === 0) {
      c.add('TARIFF_INVALID_DAY_OF_WEEK', `${field}.day_of_week`, 'must be a non-empty list of MONDAY..SUNDAY');
    } else {
      let mask = 0;
      r.day_of_week.forEach((d, i) => {
        const idx = DAYS_OF_WEEK.indexOf(d as (typeof DAYS_OF_WEEK)[number]);
        if (idx < 0)
          c.add(
            'TARIFF_INVALID_DAY_OF_WEEK',
            `${field}.day_of_week[${i}]`,
            `unknown day ${describe(d)}; expected MONDAY..SUNDAY`,
          );
        else mask |= 1 << idx;
      });
      out.dayMask = mask;
    }
  }

  if (r.reservation !== undefined) {
    if (!RESERVATION_RESTRICTION_TYPES.includes(r.reservation as ReservationRestrictionType)) {
      c.add(
        'TARIFF_INVALID_RESERVATION',
        `${field}.reservation`,
        `must be RESERVATION or RESERVATION_EXPIRES, got ${describe(r.reservation)}`,
      );
    } else {
      out.reservation = r.reservation as ReservationRestrictionType;
    }
  }

  for (const k of Object.keys(out) as (keyof typeof out)[]) if (out[k] === undefined) delete out[k];
  return { compiled: Object.keys(out).length === 0 ? null : out, text };
}

function checkComponent(
  c: Collector,
  value: unknown,
  field: string,
  elementIndex: number,
  componentIndex: number,
  reservation: boolean,
): CompiledComponent | undefined {
  if (!isObject(value)) {
    c.add('TARIFF_INVALID_TYPE', field, 'must be a PriceComponent object');
    return undefined;
  }
  const type = value.type;
  let okType = true;
  if (type === undefined) {
    c.add('TARIFF_MISSING_FIELD', `${field}.type`, 'is required');
    okType = false;
  } else if (!TARIFF_DIMENSION_TYPES.includes(type as TariffDimensionType)) {
    c.add(
      'TARIFF_UNKNOWN_COMPONENT_TYPE',
      `${field}.type`,
      `unknown TariffDimensionType ${describe(type)}; expected ENERGY, FLAT, PARKING_TIME or TIME`,
    );
    okType = false;
  }
  if (value.price === undefined) c.add('TARIFF_MISSING_FIELD', `${field}.price`, 'is required');
  const price = value.price === undefined ? undefined : c.amount(value.price, `${field}.price`);
  let vat: Dec | null | undefined = null;
  if (value.vat !== undefined)
    vat = c.bounded(c.nonNegative(value.vat, `${field}.vat`, 'TARIFF_INVALID_VAT'), `${field}.vat`, {
      atMost: L.vatAtMost,
      decimals: L.vatDecimals,
    });
  let step: number | undefined;
  if (value.step_size === undefined) {
    c.add('TARIFF_MISSING_FIELD', `${field}.step_size`, 'is required');
  } else if (typeof value.step_size !== 'number' || !Number.isInteger(value.step_size)) {
    c.add('TARIFF_INVALID_STEP_SIZE', `${field}.step_size`, `must be an integer, got ${describe(value.step_size)}`);
  } else if (type === 'FLAT' ? value.step_size < 0 : value.step_size <= 0) {
    c.add(
      'TARIFF_INVALID_STEP_SIZE',
      `${field}.step_size`,
      type === 'FLAT'
        ? `must not be negative, got ${value.step_size}`
        : `must be a positive integer (${type === 'ENERGY' ? 'Wh' : 'seconds'}), got ${value.step_size}`,
    );
  } else if (value.step_size > L.stepSizeAtMost) {
    c.add(
      'TARIFF_NUMBER_TOO_LARGE',
      `${field}.step_size`,
      `must be at most ${L.stepSizeAtMost}, got ${value.step_size}`,
    );
  } else {
    step = value.step_size;
  }
  if (okType && reservation && type !== 'FLAT' && type !== 'TIME') {
    c.add(
      'TARIFF_RESERVATION_COMPONENT_NOT_ALLOWED',
      `${field}.type`,
      `an element with a reservation restriction may only hold FLAT and TIME components, got ${String(type)}`,
    );
    okType = false;
  }
  if (!okType || price === undefined || vat === undefined || step === undefined) return undefined;
  return {
    type: type as TariffDimensionType,
    elementIndex,
    componentIndex,
    price,
    priceText: price.toFixed(),
    vatText: vat === null ? null : vat.toFixed(),
    vat,
    vatFactor: vat === null ? new Dec(1) : new Dec(1).plus(vat.dividedBy(100)),
    stepSize: step,
    stepUnits: BigInt(step) * 1000n,
    // set by withAmountUnits once the tariff's amount scale is known
    exclPerUnit: 0n,
    inclPerUnit: 0n,
    reservation,
  };
}

/** Integer count of 10^-scale units of an exact decimal with at most `scale` decimals. */
function toUnits(d: Dec, scale: number): bigint {
  return BigInt(d.times(`1e${scale}`).toFixed(0));
}

/**
 * The amount scale of a tariff (see CompiledTariff.amountScale): every price's decimals plus its
 * VAT factor's, plus 7 (ms -> h is / 3,600,000 = / (9 x 4 x 10^5)), and every min/max price's.
 */
function amountScaleOf(
  elements: readonly CompiledElement[],
  bounds: readonly (CompiledPrice | null | undefined)[],
): number {
  let k = 7;
  for (const el of elements) {
    for (const comp of Object.values(el.components)) {
      if (comp) k = Math.max(k, comp.price.decimalPlaces() + comp.vatFactor.decimalPlaces() + 7);
    }
  }
  for (const b of bounds) {
    if (!b) continue;
    k = Math.max(k, b.excl.decimalPlaces(), b.incl ? b.incl.decimalPlaces() : 0);
  }
  return k;
}

/** A component with its exact per-unit amounts over 9 x 10^k (one mWh, one ms or one fee). */
function withAmountUnits(comp: CompiledComponent, k: number): CompiledComponent {
  const ps = comp.price.decimalPlaces();
  const pn = toUnits(comp.price, ps);
  let excl: bigint;
  if (comp.type === 'FLAT') excl = pn * 9n * pow10(k - ps);
  else if (comp.type === 'ENERGY')
    excl = pn * 9n * pow10(k - ps - 6); // price / 10^6 per mWh
  else excl = pn * 25n * pow10(k - ps - 7); // price / 3,600,000 per ms = price x 25 / (9 x 10^7)
  const fs = comp.vatFactor.decimalPlaces();
  const incl = comp.vat === null ? excl : (excl * toUnits(comp.vatFactor, fs)) / pow10(fs); // exact: k >= ps + fs + 7
  return { ...comp, exclPerUnit: excl, inclPerUnit: incl };
}

function checkTariff(input: unknown): { issues: TariffIssue[]; compiled?: CompiledTariff } {
  const c = new Collector();
  if (!isObject(input)) {
    c.add('TARIFF_NOT_AN_OBJECT', '$', `a tariff must be a JSON object, got ${describe(input)}`);
    return { issues: c.issues };
  }
  const t = input;

  if (typeof t.id !== 'string' || t.id.length === 0 || t.id.length > 36) {
    c.add(
      t.id === undefined ? 'TARIFF_MISSING_FIELD' : 'TARIFF_INVALID_FIELD_FORMAT',
      'id',
      'must be a string of 1 to 36 characters',
    );
  }
  if (t.country_code !== undefined && (typeof t.country_code !== 'string' || !/^[A-Z]{2}$/.test(t.country_code))) {
    c.add(
      'TARIFF_INVALID_FIELD_FORMAT',
      'country_code',
      `must be an ISO 3166-1 alpha-2 code, got ${describe(t.country_code)}`,
    );
  }
  if (t.party_id !== undefined && (typeof t.party_id !== 'string' || !/^[A-Z0-9]{3}$/.test(t.party_id))) {
    c.add(
      'TARIFF_INVALID_FIELD_FORMAT',
      'party_id',
      `must be 3 upper-case characters (ISO 15118), got ${describe(t.party_id)}`,
    );
  }
  let currency: string | undefined;
  if (t.currency === undefined) c.add('TARIFF_MISSING_FIELD', 'currency', 'is required');
  else if (typeof t.currency !== 'string' || !findCurrency(t.currency)) {
    c.add('TARIFF_UNKNOWN_CURRENCY', 'currency', `must be an ISO 4217 currency code, got ${describe(t.currency)}`);
  } else {
    currency = t.currency;
    c.amountDecimals = (findCurrency(currency)?.minorUnits ?? 4) + L.amountExtraDecimals;
  }

  let type: TariffType | null = null;
  if (t.type !== undefined) {
    if (!TARIFF_TYPES.includes(t.type as TariffType)) {
      c.add('TARIFF_INVALID_TARIFF_TYPE', 'type', `unknown TariffType ${describe(t.type)}`);
    } else type = t.type as TariffType;
  }
  if (t.tariff_alt_text !== undefined && !Array.isArray(t.tariff_alt_text)) {
    c.add('TARIFF_INVALID_TYPE', 'tariff_alt_text', 'must be a list of DisplayText');
  }

  let validFromMs: number | null = null;
  let validToMs: number | null = null;
  for (const key of ['start_date_time', 'end_date_time', 'last_updated'] as const) {
    const v = t[key];
    if (v === undefined) continue;
    const ms = typeof v === 'string' ? parseRfc3339(v) : null;
    const instant = parseInstant(v);
    if (ms === null || !instant.ok)
      c.add(
        'TARIFF_INVALID_DATE_TIME',
        key,
        `must be an RFC 3339 date-time (${instant.ok ? 'as OCPI writes it' : instant.reason}), got ${describe(v)}`,
      );
    else if (key === 'start_date_time') validFromMs = ms;
    else if (key === 'end_date_time') validToMs = ms;
  }
  if (validFromMs !== null && validToMs !== null && validFromMs >= validToMs) {
    c.add('TARIFF_INVERTED_RANGE', 'start_date_time', 'start_date_time must be before end_date_time');
  }

  const minPrice = t.min_price === undefined ? null : checkPrice(c, t.min_price, 'min_price');
  const maxPrice = t.max_price === undefined ? null : checkPrice(c, t.max_price, 'max_price');
  if (minPrice && maxPrice) {
    if (minPrice.excl.gt(maxPrice.excl)) {
      c.add(
        'TARIFF_INVERTED_RANGE',
        'min_price.excl_vat',
        `min_price.excl_vat (${minPrice.excl.toFixed()}) exceeds max_price.excl_vat (${maxPrice.excl.toFixed()})`,
      );
    }
    if (minPrice.incl && maxPrice.incl && minPrice.incl.gt(maxPrice.incl)) {
      c.add(
        'TARIFF_INVERTED_RANGE',
        'min_price.incl_vat',
        `min_price.incl_vat (${minPrice.incl.toFixed()}) exceeds max_price.incl_vat (${maxPrice.incl.toFixed()})`,
      );
    }
  }

  const elements: CompiledElement[] = [];
  if (t.elements === undefined) c.add('TARIFF_MISSING_FIELD', 'elements', 'is required');
  else if (!Array.isArray(t.elements)) c.add('TARIFF_INVALID_TYPE', 'elements', 'must be a list of TariffElement');
  else if (t.elements.length === 0) c.add('TARIFF_EMPTY_ELEMENTS', 'elements', 'a tariff needs at least one element');
  else {
    t.elements.forEach((el, ei) => {
      const ef = `elements[${ei}]`;
      if (!isObject(el)) {
        c.add('TARIFF_INVALID_TYPE', ef, 'must be a TariffElement object');
        return;
      }
      const { compiled: restrictions, text } = checkRestrictions(c, el.restrictions, `${ef}.restrictions`);
      const reservation = restrictions?.reservation !== undefined;
      const components: Partial<Record<TariffDimensionType, CompiledComponent>> = {};
      if (el.price_components === undefined) c.add('TARIFF_MISSING_FIELD', `${ef}.price_components`, 'is required');
      else if (!Array.isArray(el.price_components))
        c.add('TARIFF_INVALID_TYPE', `${ef}.price_components`, 'must be a list of PriceComponent');
      else if (el.price_components.length === 0) {
        c.add(
          'TARIFF_EMPTY_PRICE_COMPONENTS',
          `${ef}.price_components`,
          'an element needs at least one price component',
        );
      } else {
        el.price_components.forEach((pc, ci) => {
          const cf = `${ef}.price_components[${ci}]`;
          const comp = checkComponent(c, pc, cf, ei, ci, reservation);
          if (!comp) return;
          if (components[comp.type]) {
            c.add(
              'TARIFF_DUPLICATE_COMPONENT_TYPE',
              `${cf}.type`,
              `a second ${comp.type} component in one element could never apply (the first one wins); split it into its own element`,
            );
            return;
          }
          components[comp.type] = comp;
        });
      }
      elements.push({ index: ei, restrictions, restrictionsText: Object.freeze(text), components });
    });
  }

  if (c.issues.length > 0 || currency === undefined) return { issues: c.issues };
  const amountScale = amountScaleOf(elements, [minPrice, maxPrice]);
  const amountDenominator = 9n * pow10(amountScale);
  const boundUnits = (b: CompiledPrice | null | undefined): CompiledPrice | null =>
    b
      ? {
          ...b,
          exclUnits: toUnits(b.excl, amountScale) * 9n,
          inclUnits: b.incl ? toUnits(b.incl, amountScale) * 9n : null,
        }
      : null;
  for (let i = 0; i < elements.length; i++) {
    const el = elements[i];
    const components: Partial<Record<TariffDimensionType, CompiledComponent>> = {};
    for (const type of Object.keys(el.components) as TariffDimensionType[])
      components[type] = withAmountUnits(el.components[type] as CompiledComponent, amountScale);
    elements[i] = { ...el, components };
  }
  const byDim = (d: TariffDimensionType): CompiledElement[] => elements.filter((e) => e.components[d] !== undefined);
  const componentsOf = (d: TariffDimensionType): CompiledComponent[] =>
    byDim(d).map((e) => e.components[d] as CompiledComponent);
  const compiled: CompiledTariff = {
    kind: 'CompiledTariff',
    source: input as unknown as OcpiTariff,
    id: t.id as string,
    currency,
    type,
    minPrice: boundUnits(minPrice),
    maxPrice: boundUnits(maxPrice),
    validFromMs,
    validToMs,
    elements,
    amountScale,
    amountDenominator,
    elementsByDimension: {
      ENERGY: byDim('ENERGY'),
      FLAT: byDim('FLAT'),
      TIME: byDim('TIME'),
      PARKING_TIME: byDim('PARKING_TIME'),
    },
    componentsByDimension: {
      ENERGY: componentsOf('ENERGY'),
      FLAT: componentsOf('FLAT'),
      TIME: componentsOf('TIME'),
      PARKING_TIME: componentsOf('PARKING_TIME'),
    },
    timeZones: new TimeZones(),
  };
  return { issues: [], compiled };
}

/**
 * The fields of each OCPI 2.2.1 object a Tariff holds (module Tariffs, §11.3-11.4; EnergyMix §8.4.7-8.4.9;
 * DisplayText, Price). A tariff received through our own catalogue API is closed: a field outside these is
 * refused (TARIFF_UNKNOWN_FIELD), never kept. (OCPI asks a receiver to ignore unknown fields from a partner;
 * the catalogue API is not OCPI transport, and a field kept for ever that nothing reads is a trap.)
 */
const CLOSED_SHAPE = {
  tariff: [
    'country_code',
    'party_id',
    'id',
    'currency',
    'type',
    'tariff_alt_text',
    'tariff_alt_url',
    'min_price',
    'max_price',
    'elements',
    'start_date_time',
    'end_date_time',
    'energy_mix',
    'last_updated',
  ],
  displayText: ['language', 'text'],
  price: ['excl_vat', 'incl_vat'],
  element: ['price_components', 'restrictions'],
  component: ['type', 'price', 'vat', 'step_size'],
  restrictions: RESTRICTION_KEYS as readonly string[],
  energyMix: ['is_green_energy', 'energy_sources', 'environ_impact', 'supplier_name', 'energy_product_name'],
  energySource: ['source', 'percentage'],
  environImpact: ['category', 'amount'],
} as const;

function unknownFields(c: Collector, value: unknown, field: string, known: readonly string[]): void {
  if (!isObject(value)) return;
  for (const k of Object.keys(value)) {
    if (!known.includes(k))
      c.add(
        'TARIFF_UNKNOWN_FIELD',
        field ? `${field}.${k}` : k,
        `is not a field of the OCPI 2.2.1 object here; the catalogue keeps only known fields`,
      );
  }
}

/** Issues for every field outside the OCPI 2.2.1 Tariff objects (the closed schema of the catalogue API). */
export function unknownTariffFields(obj: unknown): readonly TariffIssue[] {
  const c = new Collector();
  if (!isObject(obj)) return [];
  const s = CLOSED_SHAPE;
  unknownFields(c, obj, '', s.tariff);
  const list = (v: unknown, field: string, known: readonly string[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => unknownFields(c, x, `${field}[${i}]`, known));
  };
  list(obj.tariff_alt_text, 'tariff_alt_text', s.displayText);
  unknownFields(c, obj.min_price, 'min_price', s.price);
  unknownFields(c, obj.max_price, 'max_price', s.price);
  if (isObject(obj.energy_mix)) {
    unknownFields(c, obj.energy_mix, 'energy_mix', s.energyMix);
    list(obj.energy_mix.energy_sources, 'energy_mix.energy_sources', s.energySource);
    list(obj.energy_mix.environ_impact, 'energy_mix.environ_impact', s.environImpact);
  }
  if (Array.isArray(obj.elements)) {
    obj.elements.forEach((el, ei) => {
      if (!isObject(el)) return;
      unknownFields(c, el, `elements[${ei}]`, s.element);
      unknownFields(c, el.restrictions, `elements[${ei}].restrictions`, s.restrictions);
      list(el.price_components, `elements[${ei}].price_components`, s.component);
    });
  }
  return c.issues;
}

/**
 * Check an OCPI 2.2.1 Tariff (parsed JSON) and return it typed. Throws TariffValidationError with
 * the first issue's `code`, `field` (path such as "elements[1].price_components[0].step_size") and
 * `reason`, and every issue in `issues`. Never "accepts and prices as zero".
 * `closed: true` (what the catalogue API and what-if use) also refuses fields outside the OCPI objects;
 * stored versions are compiled without it, so a version accepted before the schema was closed still prices.
 */
export function validateTariff(obj: unknown, opts: { closed?: boolean } = {}): OcpiTariff {
  if (opts.closed) {
    const unknown = unknownTariffFields(obj);
    if (unknown.length > 0) throw new TariffValidationError(unknown);
  }
  return compileTariff(obj).source;
}

/** All issues of a tariff, empty when it is valid. Does not throw. */
export function tariffIssues(obj: unknown): readonly TariffIssue[] {
  return checkTariff(obj).issues;
}

/** Validate and pre-parse a tariff for pricing. Throws TariffValidationError. */
export function compileTariff(obj: unknown): CompiledTariff {
  if (isCompiledTariff(obj)) return obj;
  const { issues, compiled } = checkTariff(obj);
  if (!compiled) throw new TariffValidationError(issues);
  return compiled;
}

export function isCompiledTariff(obj: unknown): obj is CompiledTariff {
  return isObject(obj) && obj.kind === 'CompiledTariff';
}
