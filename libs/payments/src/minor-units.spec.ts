import fc from 'fast-check';
import { isDomainError } from '@csms/kernel';
import { currencyExponent, fromMinorUnits, toMinorUnits, toMinorUnitsDetailed, toMinorUnitsExact } from './minor-units';

describe('ISO 4217 exponents', () => {
  it.each([
    ['JPY', 0],
    ['KRW', 0],
    ['EUR', 2],
    ['USD', 2],
    ['BHD', 3],
    ['KWD', 3],
    ['JOD', 3],
    ['OMR', 3],
    ['TND', 3],
    ['CLF', 4],
  ])('%s has %i decimals', (code, exp) => expect(currencyExponent(code)).toBe(exp));

  it.each(['XXX', 'eur', 'EURO', ''])('refuses %j', (code) => {
    expect(() => currencyExponent(code)).toThrow(expect.objectContaining({ code: 'PAYMENT_UNKNOWN_CURRENCY' }));
  });
});

describe('toMinorUnits', () => {
  it.each([
    ['8.47', 'EUR', 847n, false],
    ['8.4', 'EUR', 840n, false],
    ['8', 'EUR', 800n, false],
    ['8.470', 'EUR', 847n, false],
    ['-8.47', 'EUR', -847n, false],
    ['0.005', 'EUR', 1n, true],
    ['8.465', 'EUR', 847n, true],
    ['8.4649', 'EUR', 846n, true],
    ['-8.465', 'EUR', -847n, true],
    ['1234', 'JPY', 1234n, false],
    ['1234.5', 'JPY', 1235n, true],
    ['1234.0', 'JPY', 1234n, false],
    ['1.234', 'KWD', 1234n, false],
    ['1.2345', 'KWD', 1235n, true],
    ['0.001', 'KWD', 1n, false],
    ['99999999999999999999.99', 'EUR', 9999999999999999999999n, false],
  ])('%s %s = %p minor units (rounded: %p)', (text, currency, minor, rounded) => {
    expect(toMinorUnitsDetailed(text, currency)).toEqual({ minor, rounded });
  });

  it('rounds by the named rule, and only when it must', () => {
    expect(toMinorUnits('8.465', 'EUR', 'HALF_EVEN')).toBe(846n);
    expect(toMinorUnits('8.461', 'EUR', 'UP')).toBe(847n);
    expect(toMinorUnits('-8.461', 'EUR', 'FLOOR')).toBe(-847n);
    expect(toMinorUnits('-8.461', 'EUR', 'CEILING')).toBe(-846n);
    expect(toMinorUnits('8.46', 'EUR', 'UP')).toBe(846n);
  });

  it.each(['', '1e3', '1.', '.5', '+1', '1,00', ' 1', 'NaN'])('refuses %j', (text) => {
    const run = () => toMinorUnits(text, 'EUR');
    expect(run).toThrow(expect.objectContaining({ code: 'PAYMENT_INVALID_AMOUNT', field: 'amount' }));
  });

  it('the exact form refuses what would round', () => {
    expect(toMinorUnitsExact('10.50', 'EUR')).toBe(1050n);
    let err: unknown;
    try {
      toMinorUnitsExact('10.505', 'EUR');
    } catch (e) {
      err = e;
    }
    expect(isDomainError(err, 'PAYMENT_INEXACT_AMOUNT')).toBe(true);
  });
});

describe('fromMinorUnits', () => {
  it.each([
    [847n, 'EUR', '8.47'],
    [5n, 'EUR', '0.05'],
    [-5n, 'EUR', '-0.05'],
    [0n, 'EUR', '0.00'],
    [1234n, 'JPY', '1234'],
    [5n, 'KWD', '0.005'],
    [1234n, 'KWD', '1.234'],
  ])('%p %s = %s', (minor, currency, text) => expect(fromMinorUnits(minor, currency)).toBe(text));
});

describe('round trips (property)', () => {
  const currencies = fc.constantFrom('EUR', 'JPY', 'KWD', 'BHD', 'KRW', 'USD', 'CLF');
  const minor = fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n });

  it('minor units → text → minor units is the identity, and never rounds', () => {
    fc.assert(
      fc.property(minor, currencies, (m, c) => {
        const text = fromMinorUnits(m, c);
        expect(toMinorUnitsDetailed(text, c)).toEqual({ minor: m, rounded: false });
        expect(toMinorUnitsExact(text, c)).toBe(m);
      }),
    );
  });

  it('text with at most the currency decimals → minor units → text keeps its value exactly', () => {
    fc.assert(
      fc.property(minor, currencies, fc.integer({ min: 0, max: 4 }), (m, c, extraZeros) => {
        // the same value written with trailing zeros converts to the same minor units
        const text = fromMinorUnits(m, c);
        const padded = currencyExponent(c) === 0 ? text : text + '0'.repeat(extraZeros);
        expect(toMinorUnits(padded, c)).toBe(m);
        expect(fromMinorUnits(toMinorUnits(padded, c), c)).toBe(text);
      }),
    );
  });

  it('a rounded conversion is within half a minor unit (HALF_UP) and says it rounded', () => {
    fc.assert(
      fc.property(minor, currencies, fc.integer({ min: 1, max: 999 }), (m, c, tail) => {
        const exp = currencyExponent(c);
        const tailText = String(tail).padStart(3, '0').replace(/0+$/, '');
        const base = fromMinorUnits(m, c);
        const text = exp === 0 ? `${base}.${tailText}` : `${base}${tailText}`;
        const r = toMinorUnitsDetailed(text, c);
        expect(r.rounded).toBe(true);
        // |text - r.minor| <= 0.5 minor units: compare at the text's scale
        const scale = 10n ** BigInt(tailText.length);
        const exact = BigInt(text.replace('.', '')); // the value in units of 10^-(exp + tail digits)
        const diff = exact - r.minor * scale;
        expect(diff <= scale / 2n && diff >= -(scale / 2n)).toBe(true);
      }),
    );
  });
});
