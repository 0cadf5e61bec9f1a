/**
 * How much a card session's hold is: the tariff's OCPI `max_price` incl. VAT (the most the session can cost),
 * rounded up to the currency's minor unit, when the tariff has one in the account's currency; else the configured
 * default of the account's currency (PAYMENT_DEFAULT_HOLD; none configured: 0, no hold).
 */
import { toMinorUnits } from './minor-units';

export interface HoldSource {
  /** the tariff's max_price incl. VAT (decimal string, major units), null: the tariff has none or no tariff applies */
  maxPriceInclVat: string | null;
  /** the tariff's currency (null: no tariff) */
  tariffCurrency: string | null;
}

export function holdAmountMinor(
  accountCurrency: string,
  source: HoldSource,
  defaultHold: string | undefined,
): { amountMinor: bigint; from: 'max_price' | 'default' } {
  if (source.maxPriceInclVat !== null && source.tariffCurrency === accountCurrency) {
    const max = toMinorUnits(source.maxPriceInclVat, accountCurrency, 'CEILING');
    if (max > 0n) return { amountMinor: max, from: 'max_price' };
  }
  return { amountMinor: defaultHold === undefined ? 0n : toMinorUnits(defaultHold, accountCurrency), from: 'default' };
}
