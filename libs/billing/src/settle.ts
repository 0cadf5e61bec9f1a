/**
 * Settles one ended session: a CDR whose cdr.created event satisfies its contract and fits in a record, or a
 * pricing failure with its reason. Invariant: for every session.ended revision the pricing consumer applies,
 * this returns exactly one of the two, whatever the pricing function does, unless the failure is one of
 * infrastructure (then it throws, and the consumer retries the chunk). One bad session never fails the chunk
 * of the others, and never ends only on the dead-letter topic.
 */
import { ContractError, type CdrAudit, type Envelope, type EventCatalogue, type OcpiCdr } from '@csms/contracts';
import { DomainError, isRetriable } from '@csms/kernel';
import type { PricingContext, PricingOutcome } from './cdr';

/** The pricing function (buildCdr; tests inject another one to make the engine throw or build a bad CDR). */
export type Pricer = (ctx: PricingContext) => PricingOutcome;

/**
 * Whether an error thrown while pricing is one of infrastructure (to be retried, never recorded as a pricing
 * failure). The service passes its consumer's rule (libs/messaging `classifyFailure(e) === 'retry'`); by default
 * an error that says `retriable: true` (the kernel's `isRetriable`).
 */
export type InfrastructureFailure = (e: unknown) => boolean;
export const retriableOnly: InfrastructureFailure = (e) => isRetriable(e);

/**
 * Reason codes a failure gets here, beside the ones the engine and the tariff selection return
 * (NO_ASSIGNMENT, NO_VERSION_IN_FORCE, TARIFF_*, PRICING_*, …): `session.pricing_failed` v1 `code`.
 */
export const SettleFailureCode = {
  /** the pricing function threw an error without a stable code (a bug, or input it does not handle) */
  engineError: 'ENGINE_ERROR',
  /** the CDR it built does not satisfy the cdr.created contract (`field` says where) */
  contractViolation: 'CDR_CONTRACT_VIOLATION',
  /** the cdr.created event is larger than TARIFF_MAX_EVENT_BYTES: the broker would refuse it */
  tooLarge: 'CDR_TOO_LARGE',
  /** (not from settle) the service could not record the outcome, 5 times: see the pricing consumer's onGiveUp */
  handlerFailed: 'HANDLER_FAILED',
} as const;

export type Settled<E extends Envelope = Envelope> =
  { kind: 'priced'; cdr: OcpiCdr; audit: CdrAudit; event: E } | SettledFailure;
export type SettledFailure = { kind: 'failed'; code: string; detail: string; field?: string };

const CODE = /^[A-Z][A-Z0-9_]*$/;
const MAX_DETAIL = 2000;

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code}: ` : ''}${e.name}: ${e.message}`;
  }
  return String(e);
}

function failed(code: string, detail: string, field?: string): SettledFailure {
  // the failure event must satisfy its own contract: an odd code from a pricing function is kept in the detail
  const ok = CODE.test(code);
  const text = ok ? detail : `${code}: ${detail}`;
  return {
    kind: 'failed',
    code: ok ? code : SettleFailureCode.engineError,
    detail: text.slice(0, MAX_DETAIL),
    ...(field ? { field: field.slice(0, 500) } : {}),
  };
}

/**
 * Infrastructure failures go up (retried); a typed error (a stable `code`, `retriable: false`, e.g. a
 * BillingError of a broken input) keeps its code and field; anything else becomes a failure with `code`.
 */
function asFailure(e: unknown, code: string, infrastructure: InfrastructureFailure): SettledFailure {
  if (infrastructure(e)) throw e;
  if (e instanceof DomainError && !e.retriable) return failed(e.code, e.message, e.field);
  return failed(code, describe(e));
}

/**
 * @param price the pricing function
 * @param toEvent the cdr.created envelope of a priced outcome (validated against the contract as it is made)
 * @param infrastructure which thrown errors are infrastructure failures (thrown on, for the consumer to retry)
 */
export function settle<E extends Envelope>(
  catalogue: EventCatalogue,
  price: Pricer,
  ctx: PricingContext,
  toEvent: (priced: Extract<PricingOutcome, { kind: 'priced' }>) => E,
  maxEventBytes: number,
  infrastructure: InfrastructureFailure = retriableOnly,
): Settled<E> {
  let outcome: PricingOutcome;
  try {
    outcome = price(ctx);
  } catch (e) {
    return asFailure(e, SettleFailureCode.engineError, infrastructure);
  }
  if (outcome.kind === 'failed') return failed(outcome.code, outcome.detail, outcome.field);
  let event: E;
  try {
    event = toEvent(outcome);
  } catch (e) {
    if (e instanceof ContractError) return failed(SettleFailureCode.contractViolation, e.message, e.field);
    return asFailure(e, SettleFailureCode.engineError, infrastructure);
  }
  // measured as the outbox will write it (the catalogue keeps the encoding: the outbox does not stringify it again)
  const bytes = Buffer.byteLength(catalogue.encode(event), 'utf8');
  if (bytes > maxEventBytes) {
    return failed(
      SettleFailureCode.tooLarge,
      `the cdr.created event would be ${bytes} bytes, more than the ${maxEventBytes} a record may have (TARIFF_MAX_EVENT_BYTES)`,
      '/payload',
    );
  }
  return { kind: 'priced', cdr: outcome.cdr, audit: outcome.audit, event };
}
