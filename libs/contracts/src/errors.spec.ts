import { DomainError, isRetriable } from '@csms/kernel';
import { ContractError, CsmsError } from './errors';

describe('contract errors are domain errors', () => {
  it('CsmsError is a DomainError with every option', () => {
    const e = new CsmsError('SOMETHING_BUSY', 'later', { retriable: true, field: 'a', details: { n: 1 } });
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({
      name: 'CsmsError',
      code: 'SOMETHING_BUSY',
      retriable: true,
      field: 'a',
      details: { n: 1 },
    });
    expect(isRetriable(e)).toBe(true);
  });

  it('ContractError is never retriable and keeps its code', () => {
    const e = new ContractError('INVALID_PAYLOAD', 'payload.x must be a string', { field: 'payload.x' });
    expect(e).toBeInstanceOf(CsmsError);
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({ name: 'ContractError', code: 'INVALID_PAYLOAD', retriable: false, field: 'payload.x' });
  });
});
