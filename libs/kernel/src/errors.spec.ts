import { DomainError, isDomainError, isRetriable } from './errors';

class ExampleError extends DomainError<'EXAMPLE_BROKEN' | 'EXAMPLE_BUSY'> {}

describe('DomainError', () => {
  it('carries code, retriable, field, details and cause; the name is the subclass', () => {
    const cause = new Error('below');
    const e = new ExampleError('EXAMPLE_BUSY', 'try later', {
      retriable: true,
      field: 'a.b[0]',
      details: { n: 1 },
      cause,
    });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({
      name: 'ExampleError',
      code: 'EXAMPLE_BUSY',
      message: 'try later',
      retriable: true,
      field: 'a.b[0]',
      details: { n: 1 },
    });
    expect(e.cause).toBe(cause);
  });

  it('is not retriable by default and leaves absent fields absent', () => {
    const e = new DomainError('SOMETHING', 'bad input');
    expect(e.retriable).toBe(false);
    expect(Object.keys(e)).not.toContain('field');
    expect(Object.keys(e)).not.toContain('details');
    expect('cause' in e).toBe(false);
  });

  it('isRetriable trusts only an explicit retriable: true', () => {
    expect(isRetriable(new DomainError('X', 'x', { retriable: true }))).toBe(true);
    expect(isRetriable(new DomainError('X', 'x'))).toBe(false);
    expect(isRetriable({ retriable: 'yes' })).toBe(false);
    expect(isRetriable(new Error('x'))).toBe(false);
    expect(isRetriable(null)).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
  });

  it('isDomainError checks the base and, when given, the code', () => {
    const e = new ExampleError('EXAMPLE_BROKEN', 'x');
    expect(isDomainError(e)).toBe(true);
    expect(isDomainError(e, 'EXAMPLE_BUSY', 'EXAMPLE_BROKEN')).toBe(true);
    expect(isDomainError(e, 'EXAMPLE_BUSY')).toBe(false);
    expect(isDomainError({ code: 'EXAMPLE_BROKEN', retriable: false })).toBe(false);
  });
});
