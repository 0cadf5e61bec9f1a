import Decimal from 'decimal.js';
import { Currency, findCurrency } from './currency';
import { DEFAULT_ROUNDING, Dec, type RoundingMode, toPlainString } from '@csms/kernel';
import { dec } from './decimal';
import { CurrencyMismatchError, InvalidAmountError, UnknownCurrencyError } from './errors';
import { toDecimalRounding } from './rounding';

/** JSON form of a Money: the exact amount as a decimal string and the ISO 4217 code. */
export interface MoneyJson {
  readonly amount: string;
  readonly currency: string;
}

function resolveCurrency(currency: string | Currency): Currency {
  if (typeof currency === 'object' && currency !== null && findCurrency(currency.code) === currency) return currency;
  const code = typeof currency === 'string' ? currency : currency?.code;
  const found = typeof code === 'string' ? findCurrency(code) : undefined;
  if (!found) throw new UnknownCurrencyError(typeof currency === 'string' ? currency : code);
  return found;
}

const ZERO_TEXT = ['0', '0.0', '0.00', '0.000', '0.0000'];

/**
 * A decimal amount of `currency`, rounded to its minor unit with the named rule, as a string with
 * exactly that many decimals ("5.63", "1235" for JPY, "1.235" for KWD). The same as
 * Money.of(amount, currency).toMinorUnitString(mode), without building a Money (hot paths).
 */
export function formatMinorUnits(amount: Decimal, currency: Currency, mode: RoundingMode = DEFAULT_ROUNDING): string {
  if (amount.isZero()) return ZERO_TEXT[currency.minorUnits] ?? (0).toFixed(currency.minorUnits);
  const s = amount.toFixed(currency.minorUnits, toDecimalRounding(mode));
  // A negative amount that rounds to zero prints as "-0.00": money has no negative zero.
  return s.charCodeAt(0) === 45 && /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/**
 * An amount of money in one ISO 4217 currency, over decimal.js. Immutable.
 *
 * - Arithmetic keeps full precision; nothing is rounded until `round()` is called, with a named rule.
 * - Combining two currencies throws CurrencyMismatchError (code MONEY_CURRENCY_MISMATCH).
 * - Amounts enter as decimal strings or Decimals (never JS numbers) and leave as decimal strings.
 */
export class Money {
  private constructor(
    readonly amount: Decimal,
    readonly currency: Currency,
  ) {}

  /** Money from a decimal string ("12.50") or Decimal, in a currency given by code or object. */
  static of(amount: string | Decimal, currency: string | Currency): Money {
    return new Money(dec(amount), resolveCurrency(currency));
  }

  static zero(currency: string | Currency): Money {
    return new Money(new Dec(0), resolveCurrency(currency));
  }

  /** Money from a whole number of minor units (cents for EUR, yen for JPY, fils for KWD). */
  static ofMinor(minorUnits: bigint | string, currency: string | Currency): Money {
    const c = resolveCurrency(currency);
    const text = typeof minorUnits === 'bigint' ? minorUnits.toString() : minorUnits;
    if (!/^-?\d+$/.test(text)) throw new InvalidAmountError(text, 'minor units must be an integer');
    return new Money(new Dec(text).dividedBy(new Dec(10).pow(c.minorUnits)), c);
  }

  /** Sum of a list, all in `currency` (also the result for an empty list: zero). */
  static sum(items: readonly Money[], currency: string | Currency): Money {
    let total = Money.zero(currency);
    for (const m of items) total = total.add(m);
    return total;
  }

  get currencyCode(): string {
    return this.currency.code;
  }

  private same(other: Money, operation: string): void {
    if (!(other instanceof Money)) throw new InvalidAmountError(other, 'not a Money');
    if (other.currency.code !== this.currency.code) {
      throw new CurrencyMismatchError(this.currency.code, other.currency.code, operation);
    }
  }

  add(other: Money): Money {
    this.same(other, 'add');
    return new Money(this.amount.plus(other.amount), this.currency);
  }

  subtract(other: Money): Money {
    this.same(other, 'subtract');
    return new Money(this.amount.minus(other.amount), this.currency);
  }

  /** Multiply by a dimensionless factor (a quantity, a VAT factor), at full precision. */
  multiply(factor: string | Decimal): Money {
    return new Money(this.amount.times(dec(factor)), this.currency);
  }

  negate(): Money {
    return new Money(this.amount.negated(), this.currency);
  }

  compare(other: Money): -1 | 0 | 1 {
    this.same(other, 'compare');
    return this.amount.comparedTo(other.amount) as -1 | 0 | 1;
  }

  equals(other: Money): boolean {
    return other instanceof Money && other.currency.code === this.currency.code && this.amount.eq(other.amount);
  }

  greaterThan(other: Money): boolean {
    return this.compare(other) > 0;
  }

  lessThan(other: Money): boolean {
    return this.compare(other) < 0;
  }

  max(other: Money): Money {
    return this.compare(other) >= 0 ? this : other;
  }

  min(other: Money): Money {
    return this.compare(other) <= 0 ? this : other;
  }

  isZero(): boolean {
    return this.amount.isZero();
  }

  isNegative(): boolean {
    return this.amount.isNegative() && !this.amount.isZero();
  }

  isPositive(): boolean {
    return this.amount.isPositive() && !this.amount.isZero();
  }

  /** Round to the currency's minor unit (EUR 2 decimals, JPY 0, KWD 3) with the named rule (default HALF_UP). */
  round(mode: RoundingMode = DEFAULT_ROUNDING): Money {
    return new Money(this.amount.toDecimalPlaces(this.currency.minorUnits, toDecimalRounding(mode)), this.currency);
  }

  /** Round to an explicit number of decimals (e.g. 4 for OCPI wire numbers) with the named rule. */
  roundTo(decimalPlaces: number, mode: RoundingMode = DEFAULT_ROUNDING): Money {
    if (!Number.isInteger(decimalPlaces) || decimalPlaces < 0) {
      throw new InvalidAmountError(decimalPlaces, 'decimal places must be a non-negative integer');
    }
    return new Money(this.amount.toDecimalPlaces(decimalPlaces, toDecimalRounding(mode)), this.currency);
  }

  /** Exact amount as a plain decimal string, full precision ("5.625", "0.1", "-3"). */
  toDecimalString(): string {
    return toPlainString(this.amount);
  }

  /**
   * Amount rounded to the minor unit, with exactly that many decimals ("5.63", "1235" for JPY,
   * "1.235" for KWD).
   */
  toMinorUnitString(mode: RoundingMode = DEFAULT_ROUNDING): string {
    return formatMinorUnits(this.amount, this.currency, mode);
  }

  /** Amount rounded to the minor unit, as an integer count of minor units (563n for EUR 5.625). */
  toMinorUnits(mode: RoundingMode = DEFAULT_ROUNDING): bigint {
    const rounded = this.amount.toDecimalPlaces(this.currency.minorUnits, toDecimalRounding(mode));
    return BigInt(rounded.times(new Dec(10).pow(this.currency.minorUnits)).toFixed(0));
  }

  toJSON(): MoneyJson {
    return { amount: this.toDecimalString(), currency: this.currency.code };
  }

  toString(): string {
    return `${this.toDecimalString()} ${this.currency.code}`;
  }
}
