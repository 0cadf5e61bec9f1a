import { DomainError } from '@csms/kernel';

/**
 * Typed errors of the payment rules (on the kernel's `DomainError`): a command the rules refuse (an account opened
 * twice, a CDR in another currency than its account, an amount that is not money) or a ledger transfer that
 * would break the books. Each has a stable `code`, the `field` at fault when there is one, and
 * `retriable: false`: the same input can never succeed. Expected outcomes (a declined card, an empty wallet) are
 * events, not errors.
 */
export type PaymentErrorCode =
  | 'PAYMENT_INVALID_AMOUNT'
  | 'PAYMENT_UNKNOWN_CURRENCY'
  | 'PAYMENT_INEXACT_AMOUNT'
  | 'PAYMENT_ACCOUNT_EXISTS'
  | 'PAYMENT_ACCOUNT_UNKNOWN'
  | 'PAYMENT_CURRENCY_MISMATCH'
  | 'PAYMENT_METHOD_MISMATCH'
  | 'PAYMENT_INVALID_COMMAND'
  | 'PAYMENT_UNKNOWN_EVENT'
  | 'LEDGER_UNBALANCED'
  | 'LEDGER_INVALID_TRANSFER';

export class PaymentError extends DomainError<PaymentErrorCode> {
  constructor(code: PaymentErrorCode, message: string, field?: string) {
    super(code, message, field === undefined ? {} : { field });
  }
}
