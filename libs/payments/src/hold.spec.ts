import { holdAmountMinor } from './hold';

describe('the hold of a card session', () => {
  it.each([
    [
      'max_price in the account currency, rounded up',
      'EUR',
      { maxPriceInclVat: '19.991', tariffCurrency: 'EUR' },
      '50.00',
      2000n,
      'max_price',
    ],
    ['max_price exact', 'EUR', { maxPriceInclVat: '20', tariffCurrency: 'EUR' }, '50.00', 2000n, 'max_price'],
    ['zero-decimal currency', 'JPY', { maxPriceInclVat: '3000.2', tariffCurrency: 'JPY' }, '7000', 3001n, 'max_price'],
    [
      'three-decimal currency',
      'KWD',
      { maxPriceInclVat: '5.0001', tariffCurrency: 'KWD' },
      '15.000',
      5001n,
      'max_price',
    ],
    ['no max_price: the default', 'EUR', { maxPriceInclVat: null, tariffCurrency: 'EUR' }, '50.00', 5000n, 'default'],
    ['no tariff: the default', 'EUR', { maxPriceInclVat: null, tariffCurrency: null }, '50.00', 5000n, 'default'],
    [
      'a tariff in another currency: the default',
      'EUR',
      { maxPriceInclVat: '20', tariffCurrency: 'CHF' },
      '50.00',
      5000n,
      'default',
    ],
    [
      'a zero max_price: the default',
      'EUR',
      { maxPriceInclVat: '0', tariffCurrency: 'EUR' },
      '50.00',
      5000n,
      'default',
    ],
    ['no default configured: 0', 'EUR', { maxPriceInclVat: null, tariffCurrency: null }, undefined, 0n, 'default'],
  ] as const)('%s', (_name, currency, source, dflt, minor, from) => {
    expect(holdAmountMinor(currency, source, dflt)).toEqual({ amountMinor: minor, from });
  });
});
