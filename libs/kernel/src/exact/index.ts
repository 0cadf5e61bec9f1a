// Exact numbers: plain decimal text, scaled BigInt fixed point, BigInt rationals and the decimal.js
// clone for money. See libs/kernel/README.md "Exact numbers".
export { DECIMAL_ROUNDING, Dec, decOfWireNumber, isDec, ratioOfDec, toPlainString } from './decimal';
export {
  ZERO_RATIO,
  addRatio,
  ceilToScale,
  cmpRatio,
  divRatio,
  floorToScale,
  formatRatio,
  formatRational,
  mulRatio,
  negRatio,
  parseRatio,
  ratio,
  ratioOfScaled,
  roundToScale,
  subRatio,
} from './rational';
export type { Ratio } from './rational';
export { DEFAULT_ROUNDING, ROUNDING_MODES, ceilDiv, ceilToStep, divRound, floorDiv, isRoundingMode } from './rounding';
export type { RoundingMode } from './rounding';
export {
  compareDecimal,
  decimalsOf,
  formatDigits,
  formatMillis,
  formatMinor,
  formatScaled,
  hoursFromMs,
  isCanonicalDecimal,
  isDecimalString,
  isNonNegativeDecimal,
  parseScaled,
  pow10,
  toScaled,
} from './text';
