import { defaultHolds, loadPaymentServiceConfig } from './config';

describe('payment service configuration', () => {
  it('reads the default hold per currency as decimal strings in major units', () => {
    const cfg = loadPaymentServiceConfig({ PAYMENT_DEFAULT_HOLD: 'EUR=50.00,JPY=7000,KWD=15.000' });
    expect([...defaultHolds(cfg)]).toEqual([
      ['EUR', '50.00'],
      ['JPY', '7000'],
      ['KWD', '15.000'],
    ]);
  });

  it.each(['EUR=50,00', 'eur=50.00', 'EUR=', 'EUR=50.00,', 'EUR=-5', 'EUR=1.23456'])(
    'refuses PAYMENT_DEFAULT_HOLD=%s at start-up, naming it',
    (value) => {
      expect(() => loadPaymentServiceConfig({ PAYMENT_DEFAULT_HOLD: value })).toThrow(/PAYMENT_DEFAULT_HOLD/);
    },
  );

  it('refuses a PSP key that is not a Stripe secret or restricted key', () => {
    expect(() => loadPaymentServiceConfig({ PSP_API_KEY: 'pk_test_123456789' })).toThrow(/PSP_API_KEY/);
    expect(loadPaymentServiceConfig({ PSP_API_KEY: 'sk_test_123456789' }).PSP_API_KEY).toBe('sk_test_123456789');
  });
});
