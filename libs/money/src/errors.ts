import { DomainError } from '@csms/kernel';

/**
 * Typed errors of the money library, on the kernel's `DomainError`: a stable machine `code` and
 * `retriable: false` (these are broken invariants, retrying cannot fix them).
 */
export type MoneyErrorCode =
  'MONEY_UNKNOWN_CURRENCY' | 'MONEY_CURRENCY_MISMATCH' | 'MONEY_INVALID_AMOUNT' | 'MONEY_INVALID_ROUNDING';

export class MoneyError extends DomainError<MoneyErrorCode> {
  constructor(code: MoneyErrorCode, message: string) {
    super(code, message);
  }
}

export class UnknownCurrencyError extends MoneyError {
  constructor(readonly currency: unknown) {
    super('MONEY_UNKNOWN_CURRENCY', `unknown ISO 4217 currency: ${JSON.stringify(currency)}`);
  }
}

export class CurrencyMismatchError extends MoneyError {
  constructor(
    readonly left: string,
    readonly right: string,
    operation: string,
  ) {
    super('MONEY_CURRENCY_MISMATCH', `cannot ${operation} ${left} and ${right}`);
  }
}

export class InvalidAmountError extends MoneyError {
  constructor(
    readonly value: unknown,
    reason: string,
  ) {
    super('MONEY_INVALID_AMOUNT', `invalid amount ${JSON.stringify(String(value))}: ${reason}`);
  }
}

export class InvalidRoundingError extends MoneyError {
  constructor(readonly value: unknown) {
    super('MONEY_INVALID_ROUNDING', `unknown rounding mode: ${JSON.stringify(value)}`);
  }
}
