import { Dec as Decimal } from '@csms/kernel';
import { OcppNormaliseError } from './errors';
import {
  LOCATIONS,
  MEASURANDS,
  PHASES,
  READING_CONTEXTS,
  type Measurand,
  type NormalisedSample,
  type SignedMeterValue,
} from './events';
import type { V16, V16SampledValue, V201 } from '@csms/ocpp';
import { arr, int, obj, optOneOf, optStr, str } from './read';

/** A decimal literal as OCPP 1.6 sends it in `value` (a string): no exponent games, no hex, no NaN. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

interface UnitRule {
  canonical: string;
  /** power of ten from the given unit to the canonical unit */
  exp: number;
}

/** Given unit → canonical unit and scale. Units not listed pass through unchanged. */
const UNITS: Record<string, UnitRule> = {
  Wh: { canonical: 'Wh', exp: 0 },
  kWh: { canonical: 'Wh', exp: 3 },
  varh: { canonical: 'varh', exp: 0 },
  kvarh: { canonical: 'varh', exp: 3 },
  VAh: { canonical: 'VAh', exp: 0 },
  kVAh: { canonical: 'VAh', exp: 3 },
  W: { canonical: 'W', exp: 0 },
  kW: { canonical: 'W', exp: 3 },
  var: { canonical: 'var', exp: 0 },
  kvar: { canonical: 'var', exp: 3 },
  VA: { canonical: 'VA', exp: 0 },
  kVA: { canonical: 'VA', exp: 3 },
  A: { canonical: 'A', exp: 0 },
  V: { canonical: 'V', exp: 0 },
  Hz: { canonical: 'Hz', exp: 0 },
  K: { canonical: 'K', exp: 0 },
  Celsius: { canonical: 'Celsius', exp: 0 },
  // OCPP 1.6 schema spells it both ways; the misspelling is the 1.6 spec's own
  Celcius: { canonical: 'Celsius', exp: 0 },
  Fahrenheit: { canonical: 'Fahrenheit', exp: 0 },
  Percent: { canonical: 'Percent', exp: 0 },
  RPM: { canonical: 'RPM', exp: 0 },
};

/**
 * The unit a measurand is expressed in when the message gives none. The specs say "default Wh" for every
 * measurand, which is only meaningful for active energy; a Current.Import without unit is in A.
 */
export function defaultUnit(m: Measurand): string {
  if (m.startsWith('Energy.Active')) return 'Wh';
  if (m.startsWith('Energy.Reactive')) return 'varh';
  if (m.startsWith('Energy.Apparent')) return 'VAh';
  if (m === 'Power.Active.Import' || m === 'Power.Active.Export' || m === 'Power.Offered') return 'W';
  if (m.startsWith('Power.Reactive')) return 'var';
  if (m === 'Power.Factor') return '';
  if (m.startsWith('Current')) return 'A';
  if (m === 'Voltage') return 'V';
  if (m === 'Frequency') return 'Hz';
  if (m === 'SoC') return 'Percent';
  if (m === 'Temperature') return 'Celsius';
  return 'RPM';
}

/** Canonical units a measurand may carry; anything else is flagged unitMismatch. */
function fits(m: Measurand, canonical: string): boolean {
  if (m === 'Power.Offered') return canonical === 'W' || canonical === 'A';
  if (m === 'Power.Factor') return canonical === '' || canonical === 'Percent';
  if (m === 'Temperature') return ['Celsius', 'Fahrenheit', 'K'].includes(canonical);
  if (m === 'Frequency') return canonical === 'Hz' || canonical === '';
  return canonical === defaultUnit(m);
}

function scale(value: Decimal, exp: number): string {
  // toFixed(): plain notation always (toString() would write 1e-7 or 1e+21)
  return (exp === 0 ? value : value.times(new Decimal(10).pow(exp))).toFixed();
}

function decimalFrom16(raw: string, path: string): Decimal {
  const t = raw.trim();
  if (!DECIMAL.test(t))
    throw new OcppNormaliseError('INVALID_METER_VALUE', `${path} is not a decimal number: ${raw}`, path);
  return new Decimal(t);
}

function decimalFrom201(raw: unknown, path: string): Decimal {
  // JSON numbers reach us as JS numbers; String() gives the shortest text that round-trips, which is
  // what the station wrote for any value with up to 15-17 significant digits.
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    throw new OcppNormaliseError('INVALID_METER_VALUE', `${path} must be a finite number`, path);
  }
  return new Decimal(String(raw));
}

function finish(
  measurand: Measurand,
  givenUnit: string | undefined,
  base: Decimal | undefined,
  extraExp: number,
  rest: Omit<NormalisedSample, 'measurand' | 'unit' | 'value'>,
): NormalisedSample {
  const unitName = givenUnit ?? defaultUnit(measurand);
  const rule = UNITS[unitName] ?? { canonical: unitName, exp: 0 };
  const sample: NormalisedSample = { measurand, unit: rule.canonical, ...rest };
  if (base !== undefined) sample.value = scale(base, rule.exp + extraExp);
  if (!fits(measurand, rule.canonical)) sample.unitMismatch = true;
  return sample;
}

/** OCPP 1.6 SampledValue → NormalisedSample. */
export function normaliseSample16(v: unknown, path: string): NormalisedSample {
  const o = obj<V16SampledValue>(v, path);
  const value = str(o, 'value', path);
  const format = optOneOf(o, 'format', path, ['Raw', 'SignedData'] as const) ?? 'Raw';
  const measurand = optOneOf(o, 'measurand', path, MEASURANDS) ?? 'Energy.Active.Import.Register';
  const unit = optStr(o, 'unit', path);
  const phase = optOneOf(o, 'phase', path, PHASES);
  const rest = {
    ...(phase === undefined ? {} : { phase }),
    location: optOneOf(o, 'location', path, LOCATIONS) ?? 'Outlet',
    context: optOneOf(o, 'context', path, READING_CONTEXTS) ?? 'Sample.Periodic',
    raw: unit === undefined ? { value } : { value, unit },
  } as Omit<NormalisedSample, 'measurand' | 'unit' | 'value'>;
  if (format === 'SignedData') {
    // The reading is inside the signed blob (OCMF or vendor format): carried verbatim, never parsed here.
    rest.signed = { format: 'ocpp1.6-SignedData', data: value };
    return finish(measurand, unit, undefined, 0, rest);
  }
  return finish(measurand, unit, decimalFrom16(value, `${path}.value`), 0, rest);
}

function signed201(v: unknown, path: string): SignedMeterValue {
  const o = obj<V201.SignedMeterValueType>(v, path);
  return {
    format: 'ocpp2.0.1-signedMeterValue',
    signedMeterData: str(o, 'signedMeterData', path),
    signingMethod: str(o, 'signingMethod', path),
    encodingMethod: str(o, 'encodingMethod', path),
    publicKey: str(o, 'publicKey', path),
  };
}

/** OCPP 2.0.1 SampledValueType → NormalisedSample (value × 10^multiplier, then the unit's scale). */
export function normaliseSample201(v: unknown, path: string): NormalisedSample {
  const o = obj<V201.SampledValueType>(v, path);
  const value = decimalFrom201(o.value, `${path}.value`);
  const measurand = optOneOf(o, 'measurand', path, MEASURANDS) ?? 'Energy.Active.Import.Register';
  let unit: string | undefined;
  let multiplier: number | undefined;
  if (o.unitOfMeasure !== undefined) {
    const u = obj<V201.UnitOfMeasureType>(o.unitOfMeasure, `${path}.unitOfMeasure`);
    unit = optStr(u, 'unit', `${path}.unitOfMeasure`);
    multiplier = u.multiplier === undefined ? undefined : int(u, 'multiplier', `${path}.unitOfMeasure`);
  }
  const raw: NormalisedSample['raw'] = { value: o.value as number };
  if (unit !== undefined) raw.unit = unit;
  if (multiplier !== undefined) raw.multiplier = multiplier;
  const phase = optOneOf(o, 'phase', path, PHASES);
  const rest = {
    ...(phase === undefined ? {} : { phase }),
    location: optOneOf(o, 'location', path, LOCATIONS) ?? 'Outlet',
    context: optOneOf(o, 'context', path, READING_CONTEXTS) ?? 'Sample.Periodic',
    raw,
  } as Omit<NormalisedSample, 'measurand' | 'unit' | 'value'>;
  if (o.signedMeterValue !== undefined) rest.signed = signed201(o.signedMeterValue, `${path}.signedMeterValue`);
  return finish(measurand, unit, value, multiplier ?? 0, rest);
}

export function samplesOf(
  meterValue: unknown,
  path: string,
  each: (v: unknown, path: string) => NormalisedSample,
): { timestamp: unknown; samples: NormalisedSample[] } {
  // the 1.6 and 2.0.1 MeterValue have the same two fields
  const mv = obj<V201.MeterValueType | V16.MeterValuesRequest['meterValue'][number]>(meterValue, path);
  const list = arr(mv.sampledValue, `${path}.sampledValue`);
  return { timestamp: mv.timestamp, samples: list.map((s, i) => each(s, `${path}.sampledValue[${i}]`)) };
}

/** The phase-less Energy.Active.Import.Register of a context, in Wh, if the samples carry one. */
export function registerWh(samples: NormalisedSample[], context: string): string | undefined {
  const s = samples.find(
    (x) =>
      x.measurand === 'Energy.Active.Import.Register' &&
      x.context === context &&
      x.phase === undefined &&
      x.unit === 'Wh' &&
      x.value !== undefined,
  );
  return s?.value;
}
