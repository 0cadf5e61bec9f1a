import { DomainError, isRetriable } from '@csms/kernel';
import {
  CurrencyMismatchError,
  InvalidAmountError,
  InvalidRoundingError,
  MoneyError,
  UnknownCurrencyError,
} from './errors';

describe('money errors are domain errors', () => {
  it.each([
    [new UnknownCurrencyError('XXY'), 'MONEY_UNKNOWN_CURRENCY', 'UnknownCurrencyError'],
    [new CurrencyMismatchError('EUR', 'USD', 'add'), 'MONEY_CURRENCY_MISMATCH', 'CurrencyMismatchError'],
    [new InvalidAmountError('1e', 'not a decimal'), 'MONEY_INVALID_AMOUNT', 'InvalidAmountError'],
    [new InvalidRoundingError('UP_ISH'), 'MONEY_INVALID_ROUNDING', 'InvalidRoundingError'],
  ])('%s: its code, never retriable, its own name', (err, code, name) => {
    expect(err).toBeInstanceOf(MoneyError);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code, retriable: false, name });
    expect(isRetriable(err)).toBe(false);
  });

  it('keeps the message and the extra fields', () => {
    const e = new CurrencyMismatchError('EUR', 'USD', 'add');
    expect(e.message).toBe('cannot add EUR and USD');
    expect([e.left, e.right]).toEqual(['EUR', 'USD']);
  });
});
