/**
 * The account's state and how each event changes it (`evolve`). Pure and total: an event the state does not expect
 * (a duplicate) leaves it as it is. Amounts are minor units as integer strings.
 */
import { deriveId } from '@csms/contracts';
import { PostingRules } from './ledger';
import {
  emptySession,
  type AccountPaymentState,
  type HoldState,
  type PaymentConfig,
  type PaymentEvent,
  type PaymentPolicy,
  type SessionState,
} from './types';

export const DEFAULT_POLICY: PaymentPolicy = { onHoldNearlyUsed: 'increase', onShortfall: 'block' };

export const DEFAULT_PAYMENT_CONFIG: PaymentConfig = {
  holdThresholdPercent: 80,
  expiryMarginMs: 24 * 60 * 60 * 1000,
  holdLifetimeMs: 7 * 24 * 60 * 60 * 1000,
  correctionGraceMs: 60 * 60 * 1000,
  recentSourcesKept: 256,
  settledSessionsKept: 20,
  settledCdrIdsKept: 500,
  archivedSessionsKept: 500,
};

export function initialPaymentState(): AccountPaymentState {
  return {
    accountId: null,
    currency: null,
    method: null,
    policy: DEFAULT_POLICY,
    blocked: false,
    blockReason: null,
    walletBalanceMinor: '0',
    holds: {},
    sessions: {},
    receivables: {},
    cdrs: {},
    intents: {},
    archive: {},
    settledCdrIds: [],
    statements: [],
    payouts: [],
    recentSources: [],
  };
}

/** The id of an intent (the PSP idempotency key): UUID v5 of its kind and what caused it. */
export function intentIdOf(kind: string, ...parts: string[]): string {
  return deriveId('payment-intent', kind, ...parts);
}

/** The id of a receivable: UUID v5 of the account, the CDR and what opened it. */
export function receivableIdOf(accountId: string, cdrId: string, sourceEventId: string): string {
  return deriveId('payment-receivable', accountId, cdrId, sourceEventId);
}

/** The id of an invoice account's statement of a month. */
export function statementIdOf(accountId: string, month: string): string {
  return deriveId('payment-statement', accountId, month);
}

const add = (a: string, b: string | bigint) => (BigInt(a) + BigInt(b)).toString();

function withHold(s: AccountPaymentState, holdId: string, f: (h: HoldState) => HoldState): AccountPaymentState {
  const h = s.holds[holdId];
  return h ? { ...s, holds: { ...s.holds, [holdId]: f(h) } } : s;
}

function withSession(s: AccountPaymentState, sessionId: string | null, f: (x: SessionState) => SessionState) {
  const x = sessionId ? s.sessions[sessionId] : undefined;
  return x ? { ...s, sessions: { ...s.sessions, [x.sessionId]: f(x) } } : s;
}

function pendingOf(
  s: AccountPaymentState,
  e: { accountId: string; sourceEventId: string; at: string; currency: string },
  holdId: string,
  amountMinor: string,
) {
  const t = PostingRules.hold(
    { billingAccountId: e.accountId, currency: e.currency, sourceEventId: e.sourceEventId, at: e.at },
    holdId,
    BigInt(amountMinor),
    amountMinor,
  );
  return {
    pendingTransferId: t?.transferId ?? null,
    pendingPostings: t ? t.postings.map((p) => ({ account: p.account, amountMinor: p.amountMinor.toString() })) : null,
  };
}

function remember(s: AccountPaymentState, sourceEventId: string, kept: number): AccountPaymentState {
  const r = s.recentSources;
  if (r[r.length - 1] === sourceEventId || r.includes(sourceEventId)) return s;
  const next = r.length >= kept ? r.slice(r.length - kept + 1) : r.slice();
  next.push(sourceEventId);
  return { ...s, recentSources: next };
}

/** A hold that is over: captured (no refund in flight), released or failed. */
function holdSettled(h: HoldState | undefined): boolean {
  if (!h) return true;
  const over = h.status === 'captured' || h.status === 'released' || h.status === 'failed';
  return over && !h.capture && !h.releaseIntentId && !h.increase && Object.keys(h.refunds).length === 0;
}

/**
 * Keeps the state bounded: of the sessions that have a CDR, no open receivable and a settled hold, only the newest
 * `kept` stay (with their holds, intents and CDRs); a credit CDR for an older one is still recorded and booked,
 * and settled against what is left (receivables, or a refund naming a hold no longer known is not possible).
 */
function prune(s: AccountPaymentState, cfg: PaymentConfig, current: string | null): AccountPaymentState {
  const kept = cfg.settledSessionsKept;
  // pruned in batches (a quarter of `kept` at a time), not on every CDR
  if (Object.keys(s.sessions).length <= kept + Math.ceil(kept / 4)) return s;
  const settled = Object.values(s.sessions).filter(
    (x) =>
      x.sessionId !== current && // the session of the CDR being decided stays (its settlement follows)
      x.cdrCount > 0 &&
      x.correctingSince === null &&
      (x.holdId === null || holdSettled(s.holds[x.holdId])) &&
      !Object.values(s.receivables).some((r) => r.sessionId === x.sessionId),
  );
  if (settled.length <= kept) return s;
  const drop = new Set(settled.slice(0, settled.length - kept).map((x) => x.sessionId));
  const sessions = Object.fromEntries(Object.entries(s.sessions).filter(([k]) => !drop.has(k)));
  const droppedHolds = new Set(
    Object.values(s.holds)
      .filter((h) => h.sessionId !== null && drop.has(h.sessionId))
      .map((h) => h.holdId),
  );
  const holds = Object.fromEntries(Object.entries(s.holds).filter(([k]) => !droppedHolds.has(k)));
  const intents = Object.fromEntries(Object.entries(s.intents).filter(([, v]) => !droppedHolds.has(v.holdId)));
  // the CDRs of dropped sessions go too (an invoice account's once they are on a statement); their ids stay known
  const droppedCdrs = Object.values(s.cdrs)
    .filter(
      (c) => c.sessionId !== null && drop.has(c.sessionId) && (s.method?.kind !== 'invoice' || c.statementId !== null),
    )
    .map((c) => c.cdrId);
  const gone = new Set(droppedCdrs);
  const cdrs = Object.fromEntries(Object.entries(s.cdrs).filter(([k]) => !gone.has(k)));
  const settledCdrIds = [...(s.settledCdrIds ?? []), ...droppedCdrs].slice(-cfg.settledCdrIdsKept);
  const archived = Object.entries(s.archive ?? {});
  for (const id of drop) {
    const x = s.sessions[id];
    const h = x.holdId ? s.holds[x.holdId] : undefined;
    if (!h?.paymentRef || BigInt(h.capturedMinor) === 0n) continue; // nothing a correction could refund
    archived.push([
      id,
      {
        sessionId: id,
        stationId: x.stationId,
        holdId: h.holdId,
        paymentRef: h.paymentRef,
        dueMinor: x.dueMinor,
        cdrCount: x.cdrCount,
        capturedMinor: h.capturedMinor,
        refundedMinor: h.refundedMinor,
      },
    ]);
  }
  const archive = Object.fromEntries(archived.slice(Math.max(0, archived.length - cfg.archivedSessionsKept)));
  return { ...s, sessions, holds, intents, cdrs, settledCdrIds, archive };
}

/** A pruned session a CDR names again (a correction): back from the archive, with its captured hold. */
function restore(s: AccountPaymentState, sessionId: string | null): AccountPaymentState {
  const a = sessionId && !s.sessions[sessionId] ? s.archive?.[sessionId] : undefined;
  if (!a || !sessionId) return s;
  const { [sessionId]: _back, ...archive } = s.archive;
  const session = emptySession(sessionId, {
    stationId: a.stationId,
    holdId: a.holdId,
    dueMinor: a.dueMinor,
    cdrCount: a.cdrCount,
    stopRequested: true,
  });
  const hold: HoldState = {
    holdId: a.holdId,
    sessionId,
    paymentRef: a.paymentRef,
    status: 'captured',
    hosted: false,
    requestedMinor: '0',
    authorizedMinor: a.capturedMinor,
    capturedMinor: a.capturedMinor,
    refundedMinor: a.refundedMinor,
    capture: null,
    releaseIntentId: null,
    increase: null,
    refunds: {},
    pendingTransferId: null,
    pendingPostings: null,
    authorizedAt: null,
    expiresAt: null,
  };
  return { ...s, archive, sessions: { ...s.sessions, [sessionId]: session }, holds: { ...s.holds, [a.holdId]: hold } };
}

export function evolvePayment(cfg: PaymentConfig) {
  return (state: AccountPaymentState, e: PaymentEvent): AccountPaymentState => {
    let s = remember(state, e.sourceEventId, cfg.recentSourcesKept);
    switch (e.type) {
      case 'payment.account_opened':
        return { ...s, accountId: e.accountId, currency: e.currency, method: e.method, policy: e.policy };
      case 'payment.account_updated':
        return { ...s, method: e.method, policy: e.policy };
      case 'payment.account_blocked':
        return { ...s, blocked: true, blockReason: e.reason };
      case 'payment.account_unblocked':
        return { ...s, blocked: false, blockReason: null };
      case 'payment.wallet_topped_up':
      case 'payment.wallet_debited':
      case 'payment.wallet_credited':
        return { ...s, walletBalanceMinor: e.balanceMinor };
      case 'payment.cdr_recorded': {
        s = restore(s, e.sessionId);
        const known = e.sessionId ? s.sessions[e.sessionId] : undefined;
        const session: SessionState | null = e.sessionId ? { ...(known ?? emptySession(e.sessionId)) } : null;
        if (session) {
          session.dueMinor = add(session.dueMinor, e.totalInclVatMinor);
          session.cdrCount += 1;
          session.correctingSince = e.credit ? e.at : null;
        }
        const next = {
          ...s,
          cdrs: {
            ...s.cdrs,
            [e.cdrId]: {
              cdrId: e.cdrId,
              sessionId: e.sessionId,
              credit: e.credit,
              creditReferenceId: e.creditReferenceId,
              inclMinor: e.totalInclVatMinor,
              at: e.at,
              statementId: null,
            },
          },
          sessions: session ? { ...s.sessions, [session.sessionId]: session } : s.sessions,
        };
        return prune(next, cfg, e.sessionId);
      }
      case 'payment.session_opened':
        return {
          ...s,
          sessions: {
            ...s.sessions,
            [e.sessionId]: emptySession(e.sessionId, {
              stationId: e.stationId,
              transactionId: e.transactionId,
              holdId: e.holdId,
            }),
          },
          holds:
            e.holdId && s.holds[e.holdId]
              ? { ...s.holds, [e.holdId]: { ...s.holds[e.holdId], sessionId: e.sessionId } }
              : s.holds,
        };
      case 'payment.session_cost_updated':
        return withSession(s, e.sessionId, (x) => ({ ...x, costMinor: e.costMinor }));
      case 'payment.session_stop_requested':
        return withSession(s, e.sessionId, (x) => ({ ...x, stopRequested: true }));
      case 'payment.authorization_requested':
        return {
          ...s,
          intents: { ...s.intents, [e.intentId]: { holdId: e.holdId, kind: 'authorize' } },
          holds: {
            ...s.holds,
            [e.holdId]: {
              holdId: e.holdId,
              sessionId: e.sessionId,
              paymentRef: null,
              status: 'requested',
              hosted: e.hosted,
              requestedMinor: e.amountMinor,
              authorizedMinor: '0',
              capturedMinor: '0',
              refundedMinor: '0',
              capture: null,
              releaseIntentId: null,
              increase: null,
              refunds: {},
              pendingTransferId: null,
              pendingPostings: null,
              authorizedAt: null,
              expiresAt: null,
            },
          },
        };
      case 'payment.authorized':
        return withHold(s, e.holdId, (h) => ({
          ...h,
          status: 'authorized',
          paymentRef: e.paymentRef,
          authorizedMinor: e.amountMinor,
          authorizedAt: e.at,
          expiresAt: e.holdExpiresAt,
          sessionId: h.sessionId ?? e.sessionId,
          ...pendingOf(s, e, e.holdId, e.amountMinor),
        }));
      case 'payment.authorization_failed':
        return withHold(s, e.holdId, (h) => ({ ...h, status: 'failed', paymentRef: e.paymentRef ?? h.paymentRef }));
      case 'payment.increase_requested':
        return withHold(
          { ...s, intents: { ...s.intents, [e.intentId]: { holdId: e.holdId, kind: 'increase' } } },
          e.holdId,
          (h) => ({ ...h, increase: { intentId: e.intentId, amountMinor: e.amountMinor } }),
        );
      case 'payment.increased':
        return withHold(s, e.holdId, (h) => ({
          ...h,
          authorizedMinor: e.amountMinor,
          increase: null,
          ...pendingOf(s, e, e.holdId, e.amountMinor),
        }));
      case 'payment.capture_requested':
        return withHold(
          { ...s, intents: { ...s.intents, [e.intentId]: { holdId: e.holdId, kind: 'capture' } } },
          e.holdId,
          (h) => ({ ...h, capture: { intentId: e.intentId, amountMinor: e.amountMinor, cdrId: e.cdrId } }),
        );
      case 'payment.captured':
        return withHold(s, e.holdId, (h) => ({
          ...h,
          status: 'captured',
          capturedMinor: add(h.capturedMinor, e.amountMinor),
          capture: null,
          increase: null,
          pendingTransferId: null,
          pendingPostings: null,
        }));
      case 'payment.release_requested':
        return withHold(
          { ...s, intents: { ...s.intents, [e.intentId]: { holdId: e.holdId, kind: 'release' } } },
          e.holdId,
          (h) => ({ ...h, releaseIntentId: e.intentId }),
        );
      case 'payment.released':
        return withHold(s, e.holdId, (h) => ({
          ...h,
          status: 'released',
          releaseIntentId: null,
          increase: null,
          pendingTransferId: null,
          pendingPostings: null,
        }));
      case 'payment.refund_requested':
        return withHold(
          { ...s, intents: { ...s.intents, [e.intentId]: { holdId: e.holdId, kind: 'refund' } } },
          e.holdId,
          (h) => ({ ...h, refunds: { ...h.refunds, [e.intentId]: { amountMinor: e.amountMinor, cdrId: e.cdrId } } }),
        );
      case 'payment.refunded':
        return withHold(s, e.holdId, (h) => {
          const { [e.intentId]: _done, ...refunds } = h.refunds;
          return { ...h, refundedMinor: add(h.refundedMinor, e.amountMinor), refunds };
        });
      case 'payment.failed':
        return withHold(s, e.holdId, (h) => {
          switch (e.operation) {
            case 'increase':
              return { ...h, increase: null };
            case 'capture':
              // a refused capture ends the hold: it is never captured a second time
              return { ...h, capture: null, status: 'failed', pendingTransferId: null, pendingPostings: null };
            case 'release':
              return { ...h, releaseIntentId: null, releaseRefused: true };
            case 'refund': {
              const { [e.intentId]: _failed, ...refunds } = h.refunds;
              return { ...h, refunds };
            }
            default:
              return { ...h, status: 'failed' };
          }
        });
      case 'payment.receivable_opened':
        return {
          ...s,
          receivables: {
            ...s.receivables,
            [e.receivableId]: {
              receivableId: e.receivableId,
              cdrId: e.cdrId,
              sessionId: e.sessionId,
              openMinor: e.amountMinor,
              at: e.at,
            },
          },
        };
      case 'payment.receivable_settled': {
        const r = s.receivables[e.receivableId];
        if (!r) return s;
        if (BigInt(e.remainingMinor) <= 0n) {
          const { [e.receivableId]: _settled, ...rest } = s.receivables;
          return { ...s, receivables: rest };
        }
        return { ...s, receivables: { ...s.receivables, [e.receivableId]: { ...r, openMinor: e.remainingMinor } } };
      }
      case 'payment.statement_issued': {
        const cdrs = { ...s.cdrs };
        for (const l of e.lines) if (cdrs[l.cdrId]) cdrs[l.cdrId] = { ...cdrs[l.cdrId], statementId: e.statementId };
        return { ...s, cdrs, statements: [...s.statements, e.month] };
      }
      case 'payment.payout_settled':
        return { ...s, payouts: [...s.payouts.slice(-(cfg.recentSourcesKept - 1)), e.payoutRef] };
      case 'ledger.transfer_posted':
      case 'ledger.transfer_voided':
        return s;
      default:
        return s;
    }
  };
}
