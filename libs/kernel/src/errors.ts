/**
 * The one base of every domain error: a stable machine `code` (API: never renamed), `retriable`
 * (worth retrying: an infrastructure hiccup; not retriable: the input itself is wrong, so it is parked
 * on a dead-letter topic or answered with a 4xx), the `field` at fault when there is one (a JSON path
 * such as `elements[1].price_components[0].step_size`), and optional machine-readable `details`.
 * Callers branch on `instanceof DomainError`, `code` and `isRetriable`, never on the message.
 */
export interface DomainErrorOptions {
  retriable?: boolean;
  field?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class DomainError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly retriable: boolean;
  // `declare`: no class-field initialiser, so an absent field stays absent (not an own `undefined` key)
  declare readonly field?: string;
  declare readonly details?: Record<string, unknown>;

  constructor(code: Code, message: string, opts: DomainErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
    // absent rather than `undefined`: errors compare and serialise without empty keys
    if (opts.field !== undefined) this.field = opts.field;
    if (opts.details !== undefined) this.details = opts.details;
  }
}

/** True when the error says it is worth retrying. Unknown errors are not known to be retriable. */
export function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

/** True when `err` is a domain error, optionally with one of the given codes. */
export function isDomainError(err: unknown, ...codes: string[]): err is DomainError {
  return err instanceof DomainError && (codes.length === 0 || codes.includes(err.code));
}
