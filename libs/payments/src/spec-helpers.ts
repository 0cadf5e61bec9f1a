/** Builders of the payment decider's commands for the specs (plain values, a fixed clock). */
import type {
  CdrCreated,
  OpenAccount,
  PaymentCommand,
  PaymentEvent,
  PaymentMethod,
  ProviderOutcome,
  PspPayment,
  SessionStarted,
} from './types';
import { intentIdOf } from './state';

export const T0 = '2026-03-01T10:00:00Z';
export const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

export const CARD: PaymentMethod = { kind: 'card', customerRef: 'cus_1', paymentMethodRef: 'pm_1' };

export function open(accountId: string, method: PaymentMethod = CARD, extra: Partial<OpenAccount> = {}): OpenAccount {
  return {
    type: 'open_account',
    accountId,
    sourceEventId: `open-${accountId}`,
    at: T0,
    currency: 'EUR',
    method,
    openedBy: 'api-key:ops',
    ...extra,
  };
}

export function started(
  accountId: string,
  sessionId: string,
  holdAmountMinor: bigint,
  extra: Partial<SessionStarted> = {},
): SessionStarted {
  return {
    type: 'session_started',
    accountId,
    sourceEventId: `start-${sessionId}`,
    at: at(1),
    sessionId,
    stationId: 'CP-001',
    transactionId: '42',
    evseId: 1,
    connectorId: 1,
    currency: 'EUR',
    holdAmountMinor,
    ...extra,
  };
}

/** The hold id of a session started with `started(…)`. */
export const holdOf = (sessionId: string): string => intentIdOf('authorize', `start-${sessionId}`);

export function cdr(
  accountId: string,
  cdrId: string,
  sessionId: string | null,
  incl: string,
  excl: string,
  extra: Partial<CdrCreated> = {},
): CdrCreated {
  return {
    type: 'cdr_created',
    accountId,
    sourceEventId: `cdr-${cdrId}`,
    at: at(60),
    cdrId,
    sessionId,
    currency: 'EUR',
    totalExclVat: excl,
    totalInclVat: incl,
    credit: incl.startsWith('-'),
    creditReferenceId: null,
    ...extra,
  };
}

export function psp(overrides: Partial<PspPayment> = {}): PspPayment {
  return {
    paymentRef: 'pi_1',
    status: 'authorized',
    currency: 'EUR',
    amountAuthorizedMinor: 5000n,
    amountCapturedMinor: 0n,
    amountRefundedMinor: 0n,
    holdExpiresAt: null,
    feeMinor: null,
    ...overrides,
  };
}

export function outcome(
  accountId: string,
  intentId: string,
  payment: PspPayment,
  source: string,
  when = at(2),
): ProviderOutcome {
  return {
    type: 'provider_outcome',
    accountId,
    sourceEventId: source,
    at: when,
    intentId,
    result: { kind: 'payment', payment },
  };
}

export function declined(accountId: string, intentId: string, code: string, source: string): ProviderOutcome {
  return {
    type: 'provider_outcome',
    accountId,
    sourceEventId: source,
    at: at(2),
    intentId,
    result: { kind: 'decline', code, message: `declined: ${code}`, paymentRef: null },
  };
}

/** The events' types, in order. */
export const typesOf = (events: readonly PaymentEvent[]): string[] => events.map((e) => e.type);

/** The events of one type. */
export function ofType<T extends PaymentEvent['type']>(events: readonly PaymentEvent[], type: T) {
  return events.filter((e): e is Extract<PaymentEvent, { type: T }> => e.type === type);
}

export type { PaymentCommand };
