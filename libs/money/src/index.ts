export { allCurrencies, findCurrency, isCurrencyCode } from './currency';
export type { Currency, CurrencyCode } from './currency';
export { Dec, isDecimalString, toPlainString } from '@csms/kernel';
export { dec, decFromWireNumber } from './decimal';
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
export { DEFAULT_ROUNDING, ROUNDING_MODES, isRoundingMode } from '@csms/kernel';
export type { RoundingMode } from '@csms/kernel';
export { roundDecimal, toDecimalRounding } from './rounding';
