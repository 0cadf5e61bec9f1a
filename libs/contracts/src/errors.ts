import { DomainError, type DomainErrorOptions } from '@csms/kernel';

/**
 * Errors of the platform's messages and records, on the one base of every domain error (`DomainError` of
 * `@csms/kernel`: a stable machine `code`, `retriable`, `field`, `details`; docs/conventions.md §6).
 * `retriable` decides between retrying (infrastructure hiccups) and parking the input on a dead-letter topic
 * (the input itself is wrong, retrying will not help). `isRetriable` is the kernel's.
 */
export class CsmsError<Code extends string = string> extends DomainError<Code> {
  constructor(code: Code, message: string, opts: DomainErrorOptions = {}) {
    super(code, message, opts);
  }
}

/** An event or message that does not satisfy its contract. Never retriable: park it. */
export class ContractError extends CsmsError<ContractErrorCode> {
  constructor(
    code: ContractErrorCode,
    message: string,
    opts: { field?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(code, message, { ...opts, retriable: false });
  }
}

export type ContractErrorCode =
  | 'MALFORMED_JSON'
  | 'INVALID_ENVELOPE'
  | 'UNKNOWN_EVENT_TYPE'
  | 'UNKNOWN_EVENT_VERSION'
  | 'INVALID_PAYLOAD'
  | 'UPCAST_FAILED'
  | 'DUPLICATE_DEFINITION';
