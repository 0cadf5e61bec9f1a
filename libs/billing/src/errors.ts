import { DomainError } from '@csms/kernel';

/**
 * Typed errors of the billing library (on the kernel's `DomainError`): a broken invariant of the input (a session.ended payload
 * that contradicts itself, an assignment log with an invalid date). Each has a stable `code`, the
 * `field` at fault and `retriable: false`: the same input can never succeed, so the caller does not
 * retry it (the tariff service records it as a pricing failure with this code). Expected outcomes (no tariff assigned) are results,
 * not errors: see selectTariff.
 */
export type BillingErrorCode =
  | 'BILLING_INVALID_TIME_ZONE'
  | 'BILLING_INVALID_SESSION'
  | 'BILLING_PERIODS_NOT_CONTIGUOUS'
  | 'BILLING_ENERGY_MISMATCH'
  | 'BILLING_INVALID_ASSIGNMENT'
  | 'BILLING_INVALID_VERSION'
  | 'BILLING_INVALID_CONTEXT';

export class BillingError extends DomainError<BillingErrorCode> {
  declare readonly field: string;
  constructor(
    code: BillingErrorCode,
    field: string,
    readonly reason: string,
  ) {
    super(code, `${code}: ${field}: ${reason}`, { field });
  }
}
