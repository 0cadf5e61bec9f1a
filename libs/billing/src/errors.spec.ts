import { DomainError, isDomainError } from '@csms/kernel';
import { BillingError } from './errors';

describe('BillingError', () => {
  it('is a domain error with its code, field and reason; never retriable; the message unchanged', () => {
    const e = new BillingError('BILLING_INVALID_SESSION', 'endedAt', 'must not be before startedAt');
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({
      name: 'BillingError',
      code: 'BILLING_INVALID_SESSION',
      field: 'endedAt',
      reason: 'must not be before startedAt',
      retriable: false,
    });
    expect(e.message).toBe('BILLING_INVALID_SESSION: endedAt: must not be before startedAt');
    expect(isDomainError(e, 'BILLING_INVALID_SESSION')).toBe(true);
  });
});
