export { allCurrencies, findCurrency, isCurrencyCode } from './currency';
export type { Currency, CurrencyCode } from './currency';
export { Dec, dec, decFromWireNumber, isDecimalString, toPlainString } from './decimal';
export {
  CurrencyMismatchError,
  InvalidAmountError,
  InvalidRoundingError,
  MoneyError,
  UnknownCurrencyError,
} from './errors';
export type { MoneyErrorCode } from './errors';
export { Money, formatMinorUnits } from './money';
export type { MoneyJson } from './money';
export { DEFAULT_ROUNDING, ROUNDING_MODES, isRoundingMode, roundDecimal, toDecimalRounding } from './rounding';
export type { RoundingMode } from './rounding';
