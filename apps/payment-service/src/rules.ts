/**
 * The payment rules the service runs: libs/payments' decider (one aggregate per billing account), its envelopes and
 * its money conversions. The app holds no rule of its own: it loads, decides through this, and saves.
 */
import type { EventCatalogue } from '@csms/contracts';
import {
  createPaymentDecider,
  emptySession,
  fromMinorUnits,
  toMinorUnits,
  toMinorUnitsExact,
  toPaymentEnvelope,
  type AccountPaymentState,
  type PaymentCommand,
  type PaymentEvent,
} from '@csms/payments';
import {
  SERVICE_SOURCE,
  type PaymentEventLike,
  type PaymentRules,
  type SettledLookup,
  type SettledRow,
} from './engine';

/**
 * The decider as the service runs it: every settled session is pruned from the state at the account's next CDR
 * (`settledSessionsKept: 0`; libs/payments' default keeps 20 in full). What pruning moves aside — the archive of
 * settled sessions, the ids of their CDRs — and the recent input ids are not kept in the stored state: the engine
 * writes the first two as rows (`payment_settled`) and puts back, before a decision, the one row a CDR names and
 * whether its input was decided already (an index over payment_events). The decider and `evolve` are unchanged and
 * pure; the rebuild folds through the same engine and writes the same rows.
 */
export const SERVICE_PAYMENT_CONFIG = { settledSessionsKept: 0 } as const;

type Named = { type: string; sessionId?: unknown; cdrId?: unknown; sourceEventId?: unknown };

/** What a command or event names that the state does not hold and the engine should look up. */
function lookupOf(input: Named, s: AccountPaymentState, withSource: boolean): SettledLookup | null {
  const cdr = input.type === 'cdr_created' || input.type === 'payment.cdr_recorded';
  const sessionId =
    cdr && typeof input.sessionId === 'string' && !s.sessions[input.sessionId] && !s.archive?.[input.sessionId]
      ? input.sessionId
      : null;
  const cdrId =
    input.type === 'cdr_created' &&
    typeof input.cdrId === 'string' &&
    !s.cdrs[input.cdrId] &&
    !s.settledCdrIds?.includes(input.cdrId)
      ? input.cdrId
      : null;
  const sourceEventId =
    withSource && typeof input.sourceEventId === 'string' && !s.recentSources.includes(input.sourceEventId)
      ? input.sourceEventId
      : null;
  // a session's start arriving again (its other input, a redelivery) after the session was settled and pruned
  const openedSessionId =
    input.type === 'session_started' && typeof input.sessionId === 'string' && !s.sessions[input.sessionId]
      ? input.sessionId
      : null;
  return sessionId || cdrId || sourceEventId || openedSessionId
    ? { sessionId, cdrId, sourceEventId, openedSessionId }
    : null;
}

export function paymentRules(): PaymentRules {
  const d = createPaymentDecider(SERVICE_PAYMENT_CONFIG);
  return {
    decideAndEvolve: (c, s) => d.decideAndEvolve(c as PaymentCommand, s as AccountPaymentState),
    evolve: (s, e) => d.evolve(s as AccountPaymentState, e as unknown as PaymentEvent),
    initialState: () => d.initialState(),
    lookup: (input, s, withSource) => lookupOf(input as Named, s as AccountPaymentState, withSource),
    restore: (state, found) => {
      const s = state as AccountPaymentState;
      const archive = found.session
        ? { ...s.archive, [(found.session as { sessionId: string }).sessionId]: found.session as never }
        : s.archive;
      const settledCdrIds = found.cdrId ? [...(s.settledCdrIds ?? []), found.cdrId] : s.settledCdrIds;
      const recentSources = found.sourceEventId ? [...s.recentSources, found.sourceEventId] : s.recentSources;
      // a pruned session opened before: present for the decider's "already started" check only (a session_started
      // decides nothing then, so this never reaches a stored state)
      const sessions = found.openedSessionId
        ? {
            ...s.sessions,
            [found.openedSessionId]: emptySession(found.openedSessionId, { stopRequested: true }),
          }
        : s.sessions;
      return { ...s, archive, settledCdrIds, recentSources, sessions };
    },
    offload: (state) => {
      const s = state as AccountPaymentState;
      const sessions = Object.values(s.archive ?? {});
      const cdrIds = s.settledCdrIds ?? [];
      if (sessions.length === 0 && cdrIds.length === 0 && s.recentSources.length === 0) return { state, rows: [] };
      const rows: SettledRow[] = [
        ...sessions.map((a) => ({ kind: 'session' as const, id: a.sessionId, entry: a })),
        ...cdrIds.map((id) => ({ kind: 'cdr' as const, id, entry: null })),
      ];
      return { state: { ...s, archive: {}, settledCdrIds: [], recentSources: [] }, rows };
    },
    envelope: (catalogue: EventCatalogue, e: PaymentEventLike, ordinal: number) =>
      toPaymentEnvelope(catalogue, e as unknown as PaymentEvent, {
        ordinal,
        source: SERVICE_SOURCE,
        causationId: e.sourceEventId,
      }),
  };
}

/** A decimal string in major units -> minor units of the currency (exact; rounded once, half-up, if it has more decimals). */
export function toMinor(text: string, currency: string): bigint {
  return toMinorUnits(text, currency);
}

export function fromMinor(minor: bigint, currency: string): string {
  return fromMinorUnits(minor, currency);
}

/** An amount someone pays: exact, refused (PAYMENT_INEXACT_AMOUNT) if it has more decimals than the currency. */
export function toMinorExact(text: string, currency: string): bigint {
  return toMinorUnitsExact(text, currency);
}
