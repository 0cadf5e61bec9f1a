import { CdrCreatedV4, ContractError, systemCatalogue, type CdrAudit, type OcpiCdr } from '@csms/contracts';
import type { PricingContext, PricingOutcome } from './cdr';
import { BillingError } from './errors';
import { settle, type InfrastructureFailure, type Pricer } from './settle';

const catalogue = systemCatalogue();
const ctx = {} as PricingContext;
const example = CdrCreatedV4.example;
const priced: PricingOutcome = { kind: 'priced', cdr: example.cdr, audit: example.audit };
const toEvent = (o: { cdr: OcpiCdr; audit: CdrAudit }) =>
  catalogue.create(CdrCreatedV4, {
    id: '7c9e6679-7425-50de-944b-e07fc1f90ae7',
    key: o.audit.sessionId,
    occurredAt: '2026-03-01T11:00:00Z',
    source: 'test',
    payload: { cdr: o.cdr, audit: o.audit, billingAccountId: null },
  });
/** an infrastructure rule as the tariff service passes one (its consumer's classifyFailure): a refused connection is retried */
const infrastructure: InfrastructureFailure = (e) => (e as { code?: unknown }).code === 'ECONNREFUSED';

describe('settle: exactly one CDR or pricing failure per session', () => {
  it.each<[string, Pricer, number, Record<string, unknown>]>([
    [
      'a CDR that fits its contract and a record',
      () => priced,
      1_000_000,
      { kind: 'priced', cdr: { id: example.cdr.id } },
    ],
    [
      'a failure of the engine, as it is',
      () => ({ kind: 'failed', code: 'NO_ASSIGNMENT', detail: 'no tariff' }),
      1_000_000,
      { kind: 'failed', code: 'NO_ASSIGNMENT', detail: 'no tariff' },
    ],
    [
      'an error thrown without a code',
      () => {
        throw new RangeError('[DecimalError] Invalid argument: NaN');
      },
      1_000_000,
      { kind: 'failed', code: 'ENGINE_ERROR', detail: 'RangeError: [DecimalError] Invalid argument: NaN' },
    ],
    [
      'a typed error of a broken input, with its code and field',
      () => {
        throw new BillingError('BILLING_INVALID_ASSIGNMENT', 'assignments[0].effectiveFrom', 'not a date-time');
      },
      1_000_000,
      { kind: 'failed', code: 'BILLING_INVALID_ASSIGNMENT', field: 'assignments[0].effectiveFrom' },
    ],
    [
      'a failure code outside the contract',
      () => ({ kind: 'failed', code: 'weird-code', detail: 'x' }),
      1_000_000,
      { kind: 'failed', code: 'ENGINE_ERROR', detail: 'weird-code: x' },
    ],
    [
      'a CDR that breaks the contract',
      () => ({ ...priced, cdr: { ...example.cdr, currency: 'EURO' } }),
      1_000_000,
      { kind: 'failed', code: 'CDR_CONTRACT_VIOLATION', field: '/payload/cdr/currency' },
    ],
    ['a CDR too large for a record', () => priced, 1_000, { kind: 'failed', code: 'CDR_TOO_LARGE', field: '/payload' }],
  ])('%s', (_, price, maxBytes, expected) => {
    expect(settle(catalogue, price, ctx, toEvent, maxBytes, infrastructure)).toMatchObject(expected);
  });

  it('throws an infrastructure failure (the consumer retries it) and a contract error of the failure path never escapes', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(() =>
      settle(
        catalogue,
        () => {
          throw down;
        },
        ctx,
        toEvent,
        1_000_000,
        infrastructure,
      ),
    ).toThrow(down);
    const r = settle(
      catalogue,
      () => priced,
      ctx,
      () => {
        throw new ContractError('INVALID_PAYLOAD', 'bad', { field: '/payload/x' });
      },
      1_000_000,
    );
    expect(r).toEqual({ kind: 'failed', code: 'CDR_CONTRACT_VIOLATION', detail: 'bad', field: '/payload/x' });
  });

  it('by default only an error that says retriable: true is thrown on; any other becomes ENGINE_ERROR', () => {
    const retriable = Object.assign(new Error('broker away'), { retriable: true });
    expect(() =>
      settle(
        catalogue,
        () => {
          throw retriable;
        },
        ctx,
        toEvent,
        1_000_000,
      ),
    ).toThrow(retriable);
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const r = settle(
      catalogue,
      () => {
        throw down;
      },
      ctx,
      toEvent,
      1_000_000,
    );
    expect(r).toMatchObject({ kind: 'failed', code: 'ENGINE_ERROR' });
  });
});
