import { DomainError } from '@csms/kernel';
import { PricingError, TariffValidationError } from './errors';

describe('pricing errors are domain errors', () => {
  it('PricingError: code, field, reason, never retriable, the message unchanged', () => {
    const e = new PricingError('PRICING_INVALID_TIME_ZONE', 'time_zone', 'must be an IANA time zone');
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({
      name: 'PricingError',
      code: 'PRICING_INVALID_TIME_ZONE',
      field: 'time_zone',
      reason: 'must be an IANA time zone',
      retriable: false,
    });
    expect(e.message).toBe('PRICING_INVALID_TIME_ZONE: time_zone: must be an IANA time zone');
  });

  it('TariffValidationError: the first issue is its code, field and reason; every issue is kept', () => {
    const issues = [
      {
        code: 'TARIFF_NEGATIVE_PRICE' as const,
        field: 'elements[0].price_components[0].price',
        reason: 'must be >= 0',
      },
      { code: 'TARIFF_INVALID_VAT' as const, field: 'elements[0].price_components[0].vat', reason: 'must be 0-100' },
    ];
    const e = new TariffValidationError(issues);
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({
      name: 'TariffValidationError',
      code: 'TARIFF_NEGATIVE_PRICE',
      field: 'elements[0].price_components[0].price',
      reason: 'must be >= 0',
      retriable: false,
    });
    expect(e.issues).toEqual(issues);
    expect(e.message).toBe('invalid tariff: elements[0].price_components[0].price: must be >= 0 (+1 more)');
  });
});
