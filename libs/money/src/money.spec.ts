import fc from 'fast-check';
import {
  CurrencyMismatchError,
  Dec,
  InvalidAmountError,
  Money,
  MoneyError,
  RoundingMode,
  UnknownCurrencyError,
  allCurrencies,
  dec,
  decFromWireNumber,
  findCurrency,
  isCurrencyCode,
} from './index';

describe('currency table', () => {
  it.each([
    ['EUR', 2],
    ['USD', 2],
    ['GBP', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['ISK', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['TND', 3],
    ['CLF', 4],
  ])('%s has %i minor units', (code, units) => {
    expect(findCurrency(code)?.minorUnits).toBe(units);
  });

  it.each(['eur', 'EURO', 'XXX', 'XAU', '', 'E1R'])('%j is not a currency', (code) => {
    expect(isCurrencyCode(code)).toBe(false);
    expect(() => Money.zero(code)).toThrow(UnknownCurrencyError);
  });

  it('lists every code once, sorted', () => {
    const codes = allCurrencies().map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(codes);
    expect(codes.length).toBeGreaterThan(150);
  });
});

describe('Money construction', () => {
  it('keeps the exact decimal', () => {
    expect(Money.of('0.1', 'EUR').add(Money.of('0.2', 'EUR')).toDecimalString()).toBe('0.3');
  });

  it.each([['1e3'], ['abc'], [''], ['1.'], ['.5'], ['1,5'], ['NaN'], ['Infinity']])('rejects %j', (text) => {
    expect(() => Money.of(text, 'EUR')).toThrow(InvalidAmountError);
  });

  it('refuses a JS number at run time', () => {
    expect(() => Money.of(1.5 as unknown as string, 'EUR')).toThrow(InvalidAmountError);
  });

  it('errors carry a stable code and are not retriable', () => {
    const err = (() => {
      try {
        Money.of('1', 'EUR').add(Money.of('1', 'USD'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CurrencyMismatchError);
    expect(err).toBeInstanceOf(MoneyError);
    expect((err as MoneyError).code).toBe('MONEY_CURRENCY_MISMATCH');
    expect((err as MoneyError).retriable).toBe(false);
  });

  it('builds from minor units', () => {
    expect(Money.ofMinor(563n, 'EUR').toDecimalString()).toBe('5.63');
    expect(Money.ofMinor('1235', 'JPY').toDecimalString()).toBe('1235');
    expect(Money.ofMinor('-1235', 'KWD').toDecimalString()).toBe('-1.235');
  });

  it('reads OCPI wire numbers by their shortest representation', () => {
    expect(decFromWireNumber(0.1).toFixed()).toBe('0.1');
    expect(decFromWireNumber(5.2).toFixed()).toBe('5.2');
    expect(() => decFromWireNumber(Number.NaN)).toThrow(InvalidAmountError);
  });
});

describe('currency guards', () => {
  const eur = Money.of('1.00', 'EUR');
  const usd = Money.of('1.00', 'USD');
  it.each([
    ['add', () => eur.add(usd)],
    ['subtract', () => eur.subtract(usd)],
    ['compare', () => eur.compare(usd)],
    ['max', () => eur.max(usd)],
    ['min', () => eur.min(usd)],
    ['sum', () => Money.sum([eur, usd], 'EUR')],
  ])('%s across currencies throws MONEY_CURRENCY_MISMATCH', (_name, op) => {
    expect(op).toThrow(CurrencyMismatchError);
  });

  it('equals is false across currencies, never throws', () => {
    expect(eur.equals(usd)).toBe(false);
    expect(eur.equals(Money.of('1', 'EUR'))).toBe(true);
  });
});

describe('rounding', () => {
  it.each<[string, string, RoundingMode, string]>([
    ['5.625', 'EUR', 'HALF_UP', '5.63'],
    ['5.625', 'EUR', 'HALF_EVEN', '5.62'],
    ['5.635', 'EUR', 'HALF_EVEN', '5.64'],
    ['5.625', 'EUR', 'HALF_DOWN', '5.62'],
    ['5.621', 'EUR', 'UP', '5.63'],
    ['5.629', 'EUR', 'DOWN', '5.62'],
    ['-5.625', 'EUR', 'HALF_UP', '-5.63'],
    ['-5.621', 'EUR', 'CEILING', '-5.62'],
    ['-5.621', 'EUR', 'FLOOR', '-5.63'],
    ['4.997', 'EUR', 'HALF_UP', '5.00'],
    ['1234.5', 'JPY', 'HALF_UP', '1235'],
    ['1234.5', 'JPY', 'HALF_EVEN', '1234'],
    ['1234.4999', 'JPY', 'HALF_UP', '1234'],
    ['0.0005', 'KWD', 'HALF_UP', '0.001'],
    ['1.2345', 'KWD', 'HALF_UP', '1.235'],
    ['1.2345', 'KWD', 'HALF_EVEN', '1.234'],
    ['1.2345', 'KWD', 'DOWN', '1.234'],
    ['0.00004', 'EUR', 'HALF_UP', '0.00'],
    ['-0.001', 'EUR', 'HALF_UP', '0.00'],
  ])('%s %s %s -> %s', (amount, currency, mode, expected) => {
    const m = Money.of(amount, currency);
    expect(m.toMinorUnitString(mode)).toBe(expected);
    expect(m.round(mode).toMinorUnitString(mode)).toBe(expected);
  });

  it('defaults to HALF_UP', () => {
    expect(Money.of('5.625', 'EUR').round().toDecimalString()).toBe('5.63');
    expect(Money.of('5.625', 'EUR').toMinorUnits()).toBe(563n);
    expect(Money.of('1234.5', 'JPY').toMinorUnits()).toBe(1235n);
  });

  it('rejects an unknown rounding name', () => {
    expect(() => Money.of('1', 'EUR').round('NEAREST' as RoundingMode)).toThrow(MoneyError);
  });

  it('serialises as decimal strings', () => {
    expect(JSON.stringify(Money.of('5.6250', 'EUR'))).toBe('{"amount":"5.625","currency":"EUR"}');
    expect(Money.of('5.625', 'EUR').toString()).toBe('5.625 EUR');
  });
});

describe('properties', () => {
  const amount = fc
    .tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: 0, max: 8 }))
    .map(([n, scale]) => new Dec(n.toString()).dividedBy(new Dec(10).pow(scale)).toFixed());

  it('addition is exact and commutative', () => {
    fc.assert(
      fc.property(amount, amount, (a, b) => {
        const x = Money.of(a, 'EUR');
        const y = Money.of(b, 'EUR');
        expect(x.add(y).equals(y.add(x))).toBe(true);
        expect(x.add(y).subtract(y).equals(x)).toBe(true);
      }),
    );
  });

  it('rounded value is within half a minor unit (HALF_UP) and one minor unit (UP/DOWN)', () => {
    fc.assert(
      fc.property(amount, fc.constantFrom('EUR', 'JPY', 'KWD'), (a, code) => {
        const m = Money.of(a, code);
        const unit = new Dec(10).pow(-m.currency.minorUnits);
        expect(m.round('HALF_UP').amount.minus(m.amount).abs().lte(unit.dividedBy(2))).toBe(true);
        expect(m.round('UP').amount.abs().gte(m.amount.abs())).toBe(true);
        expect(m.round('DOWN').amount.abs().lte(m.amount.abs())).toBe(true);
        expect(m.round('UP').amount.minus(m.amount).abs().lt(unit)).toBe(true);
      }),
    );
  });

  it('dec() round-trips any plain decimal string', () => {
    fc.assert(fc.property(amount, (a) => expect(dec(a).toFixed()).toBe(new Dec(a).toFixed())));
  });
});
