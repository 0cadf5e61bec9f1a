/**
 * Typed errors with a stable machine `code` and a `retriable` flag (docs/conventions.md §6).
 * `retriable` decides between retrying (infrastructure hiccups) and parking the input on a
 * dead-letter topic (the input itself is wrong, retrying will not help).
 */
export class CsmsError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly field?: string;
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    opts: { retriable?: boolean; field?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.field = opts.field;
    this.details = opts.details;
  }
}

/** An event or message that does not satisfy its contract. Never retriable: park it. */
export class ContractError extends CsmsError {
  constructor(code: ContractErrorCode, message: string, opts: { field?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
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

/** True when the error says it is worth retrying. Unknown errors are not known to be retriable. */
export function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}
