import { MEASURANDS, PHASES, LOCATIONS, READING_CONTEXTS, type Measurand } from './events';
import { defaultUnit, normaliseSample16, normaliseSample201 } from './meter';
import { OcppNormaliseError } from './errors';

const MEASURANDS_16 = MEASURANDS.filter(
  (m) =>
    ![
      'Energy.Active.Net',
      'Energy.Reactive.Net',
      'Energy.Apparent.Net',
      'Energy.Apparent.Import',
      'Energy.Apparent.Export',
    ].includes(m),
);
const MEASURANDS_201 = MEASURANDS.filter((m) => m !== 'Temperature' && m !== 'RPM');

describe('OCPP 1.6 sampled values', () => {
  it.each([
    // value, unit, canonical value, canonical unit
    ['1234', 'Wh', '1234', 'Wh'],
    ['1234.5', 'Wh', '1234.5', 'Wh'],
    ['12.345', 'kWh', '12345', 'Wh'],
    ['0.001', 'kWh', '1', 'Wh'],
    ['910', 'kWh', '910000', 'Wh'],
    ['5', 'varh', '5', 'varh'],
    ['1.5', 'kvarh', '1500', 'varh'],
    ['7400', 'W', '7400', 'W'],
    ['7.4', 'kW', '7400', 'W'],
    ['100', 'VA', '100', 'VA'],
    ['2.2', 'kVA', '2200', 'VA'],
    ['10', 'var', '10', 'var'],
    ['0.25', 'kvar', '250', 'var'],
    ['16.04', 'A', '16.04', 'A'],
    ['230.1', 'V', '230.1', 'V'],
    ['300', 'K', '300', 'K'],
    ['25.5', 'Celsius', '25.5', 'Celsius'],
    ['25.5', 'Celcius', '25.5', 'Celsius'],
    ['77', 'Fahrenheit', '77', 'Fahrenheit'],
    ['80', 'Percent', '80', 'Percent'],
  ])('value %s %s is %s %s', (value, unit, expected, expectedUnit) => {
    const s = normaliseSample16({ value, unit, measurand: measurandFor(expectedUnit) }, 'sv');
    expect(s.value).toBe(expected);
    expect(s.unit).toBe(expectedUnit);
    expect(s.raw).toEqual({ value, unit });
  });

  it('keeps precision a float would lose', () => {
    expect(normaliseSample16({ value: '123456789012345.6789', unit: 'kWh' }, 'sv').value).toBe('123456789012345678.9');
    expect(normaliseSample16({ value: '0.1', unit: 'kWh' }, 'sv').value).toBe('100');
  });

  it('applies the defaults of the spec: Energy.Active.Import.Register, Sample.Periodic, Outlet, Wh', () => {
    expect(normaliseSample16({ value: '42' }, 'sv')).toEqual({
      measurand: 'Energy.Active.Import.Register',
      value: '42',
      unit: 'Wh',
      location: 'Outlet',
      context: 'Sample.Periodic',
      raw: { value: '42' },
    });
  });

  it.each(MEASURANDS_16.map((m) => [m, defaultUnit(m)]))(
    'measurand %s without unit defaults to %s',
    (measurand, unit) => {
      const s = normaliseSample16({ value: '1', measurand }, 'sv');
      expect(s.measurand).toBe(measurand);
      expect(s.unit).toBe(unit);
      expect(s.unitMismatch).toBeUndefined();
    },
  );

  it.each(PHASES)('phase %s is kept', (phase) => {
    expect(normaliseSample16({ value: '1', phase, measurand: 'Current.Import', unit: 'A' }, 'sv').phase).toBe(phase);
  });
  it.each(LOCATIONS)('location %s is kept', (location) => {
    expect(normaliseSample16({ value: '1', location }, 'sv').location).toBe(location);
  });
  it.each(READING_CONTEXTS)('context %s is kept', (context) => {
    expect(normaliseSample16({ value: '1', context }, 'sv').context).toBe(context);
  });

  it('carries SignedData through untouched and does not parse it', () => {
    const data = 'OCMF|{"FV":"1.0","RD":[{"RV":0.56698}]}|{"SD":"3045"}';
    const s = normaliseSample16({ value: data, format: 'SignedData', context: 'Transaction.End' }, 'sv');
    expect(s.signed).toEqual({ format: 'ocpp1.6-SignedData', data });
    expect(s.value).toBeUndefined();
    expect(s.raw.value).toBe(data);
  });

  it('flags a unit that does not fit the measurand', () => {
    const s = normaliseSample16({ value: '16', measurand: 'Energy.Active.Import.Register', unit: 'A' }, 'sv');
    expect(s.unitMismatch).toBe(true);
  });

  it.each([
    [{ value: 'abc' }, 'INVALID_METER_VALUE', 'sv.value'],
    [{ value: '' }, 'INVALID_METER_VALUE', 'sv.value'],
    [{ value: 'NaN' }, 'INVALID_METER_VALUE', 'sv.value'],
    [{ value: '0x10' }, 'INVALID_METER_VALUE', 'sv.value'],
    [{ value: 12 }, 'INVALID_PAYLOAD', 'sv.value'],
    [{ value: '1', measurand: 'Energy.Bogus' }, 'INVALID_PAYLOAD', 'sv.measurand'],
    [{ value: '1', context: 'Whenever' }, 'INVALID_PAYLOAD', 'sv.context'],
    [{ value: '1', phase: 'L4' }, 'INVALID_PAYLOAD', 'sv.phase'],
  ])('%j is rejected with %s at %s', (input, code, path) => {
    expect(() => normaliseSample16(input, 'sv')).toThrow(OcppNormaliseError);
    try {
      normaliseSample16(input, 'sv');
    } catch (e) {
      expect((e as OcppNormaliseError).code).toBe(code);
      expect((e as OcppNormaliseError).path).toBe(path);
    }
  });
});

describe('OCPP 2.0.1 sampled values', () => {
  it.each([
    // value, unit, multiplier, canonical value, canonical unit
    [1234, undefined, undefined, '1234', 'Wh'],
    [1234, 'Wh', 0, '1234', 'Wh'],
    [1234, 'Wh', 3, '1234000', 'Wh'],
    [12.345, 'kWh', 0, '12345', 'Wh'],
    [12.345, 'kWh', -3, '12.345', 'Wh'],
    [5, 'kWh', 1, '50000', 'Wh'],
    [123456, 'Wh', -2, '1234.56', 'Wh'],
    [7.4, 'kW', 0, '7400', 'W'],
    [74, 'W', 2, '7400', 'W'],
    [1.5, 'kvarh', 0, '1500', 'varh'],
    [1.5, 'kVAh', 0, '1500', 'VAh'],
    [150, 'VAh', -2, '1.5', 'VAh'],
    [2.2, 'kVA', 0, '2200', 'VA'],
    [0.25, 'kvar', 0, '250', 'var'],
    [1604, 'A', -2, '16.04', 'A'],
    [230, 'V', 0, '230', 'V'],
    [50, 'Hz', 0, '50', 'Hz'],
    [80, 'Percent', 0, '80', 'Percent'],
    [0.1, 'kWh', 0, '100', 'Wh'],
  ])('value %s %s ×10^%s is %s %s', (value, unit, multiplier, expected, expectedUnit) => {
    const unitOfMeasure = unit === undefined && multiplier === undefined ? undefined : { unit, multiplier };
    const s = normaliseSample201({ value, measurand: measurandFor(expectedUnit), unitOfMeasure }, 'sv');
    expect(s.value).toBe(expected);
    expect(s.unit).toBe(expectedUnit);
  });

  it.each(MEASURANDS_201.map((m) => [m, defaultUnit(m)]))(
    'measurand %s without unit defaults to %s',
    (measurand, unit) => {
      const s = normaliseSample201({ value: 1, measurand }, 'sv');
      expect(s.unit).toBe(unit);
      expect(s.unitMismatch).toBeUndefined();
    },
  );

  it.each(PHASES)('phase %s is kept', (phase) => {
    expect(normaliseSample201({ value: 1, phase }, 'sv').phase).toBe(phase);
  });
  it.each(LOCATIONS)('location %s is kept', (location) => {
    expect(normaliseSample201({ value: 1, location }, 'sv').location).toBe(location);
  });
  it.each(READING_CONTEXTS)('context %s is kept', (context) => {
    expect(normaliseSample201({ value: 1, context }, 'sv').context).toBe(context);
  });

  it('carries signedMeterValue through untouched, with the numeric value', () => {
    const signedMeterValue = {
      signedMeterData: 'T0NNRnx7fQ==',
      signingMethod: 'ECDSA-secp256r1-SHA256',
      encodingMethod: 'OCMF',
      publicKey: '',
    };
    const s = normaliseSample201({ value: 8367.06, context: 'Transaction.End', signedMeterValue }, 'sv');
    expect(s.signed).toEqual({ format: 'ocpp2.0.1-signedMeterValue', ...signedMeterValue });
    expect(s.value).toBe('8367.06');
  });

  it('keeps the raw value, unit and multiplier', () => {
    expect(normaliseSample201({ value: 5, unitOfMeasure: { unit: 'kWh', multiplier: 1 } }, 'sv').raw).toEqual({
      value: 5,
      unit: 'kWh',
      multiplier: 1,
    });
  });

  it.each([
    [{ value: '12' }, 'INVALID_METER_VALUE'],
    [{ value: Number.NaN }, 'INVALID_METER_VALUE'],
    [{ value: 1, unitOfMeasure: { multiplier: 1.5 } }, 'INVALID_PAYLOAD'],
    [{ value: 1, signedMeterValue: { signedMeterData: 'x' } }, 'INVALID_PAYLOAD'],
    [{ value: 1, measurand: 'Temperature.Bogus' }, 'INVALID_PAYLOAD'],
  ])('%j is rejected with %s', (input, code) => {
    let error: unknown;
    try {
      normaliseSample201(input, 'sv');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OcppNormaliseError);
    expect((error as OcppNormaliseError).code).toBe(code);
  });
});

function measurandFor(unit: string): Measurand {
  const byUnit: Record<string, Measurand> = {
    Wh: 'Energy.Active.Import.Register',
    varh: 'Energy.Reactive.Import.Register',
    VAh: 'Energy.Apparent.Import',
    W: 'Power.Active.Import',
    VA: 'Power.Active.Import',
    var: 'Power.Reactive.Import',
    A: 'Current.Import',
    V: 'Voltage',
    K: 'Temperature',
    Celsius: 'Temperature',
    Fahrenheit: 'Temperature',
    Percent: 'SoC',
    Hz: 'Frequency',
  };
  return byUnit[unit];
}
