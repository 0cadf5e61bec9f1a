/**
 * ISO 4217 currency codes and their minor units (number of decimal places).
 *
 * Source: ISO 4217 list one (active codes), as published by SIX (the ISO 4217 maintenance agency).
 * Fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW) are included because they are valid
 * ISO 4217 codes; precious metals and testing codes (XAU, XTS, XXX, ...) have no minor unit and are
 * deliberately absent, so they are rejected as currencies for money.
 */
const ZERO_DECIMALS = [
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'ISK',
  'JPY',
  'KMF',
  'KRW',
  'PYG',
  'RWF',
  'UGX',
  'UYI',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
] as const;
const THREE_DECIMALS = ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'] as const;
const FOUR_DECIMALS = ['CLF', 'UYW'] as const;
const TWO_DECIMALS = [
  'AED',
  'AFN',
  'ALL',
  'AMD',
  'ANG',
  'AOA',
  'ARS',
  'AUD',
  'AWG',
  'AZN',
  'BAM',
  'BBD',
  'BDT',
  'BGN',
  'BMD',
  'BND',
  'BOB',
  'BOV',
  'BRL',
  'BSD',
  'BTN',
  'BWP',
  'BYN',
  'BZD',
  'CAD',
  'CDF',
  'CHE',
  'CHF',
  'CHW',
  'CNY',
  'COP',
  'COU',
  'CRC',
  'CUP',
  'CVE',
  'CZK',
  'DKK',
  'DOP',
  'DZD',
  'EGP',
  'ERN',
  'ETB',
  'EUR',
  'FJD',
  'FKP',
  'GBP',
  'GEL',
  'GHS',
  'GIP',
  'GMD',
  'GTQ',
  'GYD',
  'HKD',
  'HNL',
  'HTG',
  'HUF',
  'IDR',
  'ILS',
  'INR',
  'IRR',
  'JMD',
  'KES',
  'KGS',
  'KHR',
  'KPW',
  'KYD',
  'KZT',
  'LAK',
  'LBP',
  'LKR',
  'LRD',
  'LSL',
  'MAD',
  'MDL',
  'MGA',
  'MKD',
  'MMK',
  'MNT',
  'MOP',
  'MRU',
  'MUR',
  'MVR',
  'MWK',
  'MXN',
  'MXV',
  'MYR',
  'MZN',
  'NAD',
  'NGN',
  'NIO',
  'NOK',
  'NPR',
  'NZD',
  'PAB',
  'PEN',
  'PGK',
  'PHP',
  'PKR',
  'PLN',
  'QAR',
  'RON',
  'RSD',
  'RUB',
  'SAR',
  'SBD',
  'SCR',
  'SDG',
  'SEK',
  'SGD',
  'SHP',
  'SLE',
  'SOS',
  'SRD',
  'SSP',
  'STN',
  'SVC',
  'SYP',
  'SZL',
  'THB',
  'TJS',
  'TMT',
  'TOP',
  'TRY',
  'TTD',
  'TWD',
  'TZS',
  'UAH',
  'USD',
  'USN',
  'UYU',
  'UZS',
  'VED',
  'VES',
  'WST',
  'XCD',
  'XCG',
  'YER',
  'ZAR',
  'ZMW',
  'ZWG',
] as const;

export type CurrencyCode =
  | (typeof ZERO_DECIMALS)[number]
  | (typeof TWO_DECIMALS)[number]
  | (typeof THREE_DECIMALS)[number]
  | (typeof FOUR_DECIMALS)[number];

export interface Currency {
  /** ISO 4217 alphabetic code, e.g. "EUR". */
  readonly code: CurrencyCode;
  /** Number of decimal places of the minor unit: EUR 2, JPY 0, KWD 3, CLF 4. */
  readonly minorUnits: number;
}

const TABLE: ReadonlyMap<string, Currency> = new Map<string, Currency>([
  ...ZERO_DECIMALS.map((code): [string, Currency] => [code, Object.freeze({ code, minorUnits: 0 })]),
  ...TWO_DECIMALS.map((code): [string, Currency] => [code, Object.freeze({ code, minorUnits: 2 })]),
  ...THREE_DECIMALS.map((code): [string, Currency] => [code, Object.freeze({ code, minorUnits: 3 })]),
  ...FOUR_DECIMALS.map((code): [string, Currency] => [code, Object.freeze({ code, minorUnits: 4 })]),
]);

/** True when `code` is an active ISO 4217 currency known to this table (case-sensitive, upper case). */
export function isCurrencyCode(code: unknown): code is CurrencyCode {
  return typeof code === 'string' && TABLE.has(code);
}

/** The currency for `code`, or undefined when it is not a known ISO 4217 code. */
export function findCurrency(code: string): Currency | undefined {
  return TABLE.get(code);
}

/** All known currencies, sorted by code. */
export function allCurrencies(): readonly Currency[] {
  return [...TABLE.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}
