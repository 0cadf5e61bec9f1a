/**
 * The card flow (and the ad-hoc flow, which is a card flow whose hold comes from a hosted payment page): a hold
 * at the start, raised or the session stopped as the cost nears it, the CDR's total captured once (at most the
 * hold; the rest a receivable) and the rest released, a correction refunded (never a second capture), a hold
 * about to expire captured for what is due. The PSP's answers come back as `provider_outcome`s, judged against
 * the hold's state: a duplicate or late answer changes nothing.
 */
import { epochMsOf } from '@csms/kernel';
import { Decision, big, min } from './decision';
import { PaymentError } from './errors';
import { PostingRules, type Transfer } from './ledger';
import { toMinorUnits } from './minor-units';
import { blockByPolicy, openReceivable, settleReceivables } from './receivables';
import { intentIdOf } from './state';
import type {
  HoldExpiryDue,
  HoldState,
  ProviderOutcome,
  PspPayment,
  ReleaseUnusedHold,
  RunningCost,
  SessionStarted,
  SessionState,
} from './types';

const holdCommon = (d: Decision, h: HoldState) => ({
  holdId: h.holdId,
  sessionId: h.sessionId,
  currency: d.currency,
});

function pendingTransfer(h: HoldState): Pick<Transfer, 'transferId' | 'postings'> | null {
  if (!h.pendingTransferId || !h.pendingPostings) return null;
  return {
    transferId: h.pendingTransferId,
    postings: h.pendingPostings.map((p) => ({ account: p.account, amountMinor: BigInt(p.amountMinor) })),
  };
}

function voidPending(d: Decision, h: HoldState, reason: string): void {
  const p = pendingTransfer(h);
  if (p) d.ledger(PostingRules.void(d.posting(), p, reason));
}

/** A card (or ad-hoc) session began: ask for the hold (an ad-hoc session takes its paid hold). */
export function cardSessionStarted(d: Decision, c: SessionStarted): void {
  const common = {
    sessionId: c.sessionId,
    stationId: c.stationId,
    transactionId: c.transactionId,
    evseId: c.evseId,
    connectorId: c.connectorId,
    currency: d.currency,
  };
  if (d.state.method?.kind === 'adhoc') {
    const hold = Object.values(d.state.holds).find(
      (h) => h.sessionId === null && (h.status === 'authorized' || h.status === 'requested') && !h.releaseIntentId,
    );
    d.emit('payment.session_opened', { ...common, holdId: hold?.holdId ?? null });
    return;
  }
  const method = d.state.method;
  if (method?.kind !== 'card') return;
  if (c.holdAmountMinor <= 0n) {
    throw new PaymentError('PAYMENT_INVALID_AMOUNT', 'a card session needs a positive hold', 'holdAmountMinor');
  }
  const holdId = intentIdOf('authorize', c.sourceEventId);
  d.emit('payment.session_opened', { ...common, holdId });
  d.emit('payment.authorization_requested', {
    intentId: holdId,
    holdId,
    sessionId: c.sessionId,
    currency: d.currency,
    ...d.money(c.holdAmountMinor),
    customerRef: method.customerRef,
    paymentMethodRef: method.paymentMethodRef,
    hosted: false,
  });
}

/** The running cost rose: note it; near the hold, raise it or stop the session (by policy). */
export function cardRunningCost(d: Decision, c: RunningCost): void {
  const s = d.state.sessions[c.sessionId];
  if (!s) return;
  const cost = toMinorUnits(c.costInclVat, d.currency);
  if (cost <= big(s.costMinor)) return;
  d.emit('payment.session_cost_updated', {
    sessionId: s.sessionId,
    currency: d.currency,
    cost: d.money(cost).amount,
    costMinor: cost.toString(),
  });
  const h = s.holdId ? d.state.holds[s.holdId] : undefined;
  if (!h || h.status !== 'authorized' || h.capture || h.increase || s.stopRequested || s.cdrCount > 0) return;
  const authorized = big(h.authorizedMinor);
  if (cost * 100n < authorized * BigInt(d.cfg.holdThresholdPercent)) return;
  // the tariff caps the session's price: a hold that covers the cap needs neither a raise nor a stop
  const cap = c.maxCostInclVat ? toMinorUnits(c.maxCostInclVat, d.currency, 'CEILING') : null;
  if (cap !== null && cap > 0n && authorized >= cap) return;
  if (d.state.method?.kind === 'card' && d.state.policy.onHoldNearlyUsed === 'increase' && h.paymentRef) {
    const step = big(h.requestedMinor) > 0n ? big(h.requestedMinor) : authorized;
    let target = authorized + step;
    while (cost * 100n >= target * BigInt(d.cfg.holdThresholdPercent)) target += step;
    if (cap !== null && cap > 0n && target > cap) target = cap;
    d.emit('payment.increase_requested', {
      ...holdCommon(d, h),
      intentId: intentIdOf('increase', c.sourceEventId, h.holdId),
      paymentRef: h.paymentRef,
      ...d.money(target),
    });
    return;
  }
  stopSession(d, s, 'hold_exhausted');
}

function stopSession(
  d: Decision,
  s: SessionState,
  reason: 'authorization_failed' | 'hold_exhausted' | 'increase_failed',
) {
  // a session with a CDR has ended; a stop already asked is not asked again
  if (s.stopRequested || s.cdrCount > 0 || !s.stationId) return;
  d.emit('payment.session_stop_requested', {
    sessionId: s.sessionId,
    stationId: s.stationId,
    transactionId: s.transactionId,
    reason,
  });
}

/**
 * Settles a card session against its CDRs: `due` (the CDRs' sum) against what covers it (captured − refunded,
 * with what is in flight, plus open receivables). Short: capture (once per hold, at most the hold), the rest a
 * receivable. Over (a correction): settle the session's receivables, then refund what was captured. Even with
 * nothing due: release the hold. A session being corrected (a credit CDR without its new CDR yet) waits unless
 * `force`.
 */
export function settleCardSession(d: Decision, sessionId: string, cdrId: string, force = false): void {
  const s = d.state.sessions[sessionId];
  if (!s || s.cdrCount === 0 || (s.correctingSince !== null && !force)) return;
  const h = s.holdId ? d.state.holds[s.holdId] : undefined;
  if (h?.status === 'requested') return; // settled when the PSP answers the authorisation
  const due = big(s.dueMinor);
  const captured = h ? big(h.capturedMinor) + big(h.capture?.amountMinor) : 0n;
  const refunding = h ? Object.values(h.refunds).reduce((a, r) => a + big(r.amountMinor), 0n) : 0n;
  const refunded = h ? big(h.refundedMinor) + refunding : 0n;
  const receivable = Object.values(d.state.receivables)
    .filter((r) => r.sessionId === sessionId)
    .reduce((a, r) => a + big(r.openMinor), 0n);
  const gap = due - (captured - refunded + receivable);
  const capturable = h && h.status === 'authorized' && !h.capture && !h.releaseIntentId;
  if (gap > 0n) {
    let rest = gap;
    if (h && capturable && h.paymentRef) {
      const amount = min(gap, big(h.authorizedMinor));
      if (amount > 0n) {
        d.emit('payment.capture_requested', {
          ...holdCommon(d, h),
          intentId: intentIdOf('capture', h.holdId),
          paymentRef: h.paymentRef,
          cdrId,
          ...d.money(amount),
          reason: 'cdr',
        });
        rest -= amount;
      }
    }
    const reason = !h
      ? 'no_hold'
      : h.status === 'failed'
        ? h.authorizedAt
          ? 'capture_failed'
          : 'authorization_failed'
        : h.status === 'released'
          ? 'no_hold'
          : 'capture_short';
    openReceivable(d, cdrId, sessionId, rest, reason);
  } else if (gap < 0n) {
    let excess = -gap;
    excess -= settleReceivables(d, excess, 'credit_cdr', (r) => r.sessionId === sessionId);
    if (h && excess > 0n && h.paymentRef && !h.capture) {
      const refundable = big(h.capturedMinor) - refunded;
      const amount = min(excess, refundable);
      if (amount > 0n) {
        d.emit('payment.refund_requested', {
          ...holdCommon(d, h),
          intentId: intentIdOf('refund', d.cmd.sourceEventId, h.holdId),
          paymentRef: h.paymentRef,
          cdrId,
          ...d.money(amount),
        });
      }
    }
  }
  const after = s.holdId ? d.state.holds[s.holdId] : undefined;
  if (after && after.status === 'authorized' && !after.capture && !after.releaseIntentId && after.paymentRef) {
    // nothing (more) to capture from a hold still in place: release it
    release(d, after, 'nothing_due');
  }
}

function release(d: Decision, h: HoldState, reason: 'nothing_due' | 'station_never_started' | 'session_not_found') {
  if (!h.paymentRef || h.releaseRefused) return;
  d.emit('payment.release_requested', {
    ...holdCommon(d, h),
    intentId: intentIdOf('release', h.holdId),
    paymentRef: h.paymentRef,
    ...d.money(big(h.authorizedMinor)),
    reason,
  });
}

/** The hold of an intent id (the intent's, or the id is the hold's own). */
function holdOfIntent(d: Decision, intentId: string): HoldState | undefined {
  const i = d.state.intents[intentId];
  return d.state.holds[i?.holdId ?? intentId];
}

function settleIfEnded(d: Decision, h: HoldState | undefined, cdrId?: string) {
  if (!h?.sessionId) return;
  const s = d.state.sessions[h.sessionId];
  if (!s || s.cdrCount === 0) return;
  const last =
    cdrId ??
    Object.values(d.state.cdrs)
      .filter((x) => x.sessionId === s.sessionId)
      .map((x) => x.cdrId)
      .pop();
  if (last) settleCardSession(d, s.sessionId, last);
}

/** A PSP answer or webhook. */
export function providerOutcome(d: Decision, c: ProviderOutcome): void {
  const hold = holdOfIntent(d, c.intentId);
  if (!hold) return; // not ours, or long settled
  const kind = d.state.intents[c.intentId]?.kind ?? 'authorize';
  const r = c.result;
  if (r.kind === 'decline') return decline(d, hold, c.intentId, kind, r.code, r.message, r.paymentRef);
  if (r.kind === 'refund') {
    const pending = hold.refunds[c.intentId];
    if (!pending || r.refund.status === 'pending') return;
    if (r.refund.status === 'failed') {
      d.emit('payment.failed', {
        ...holdCommon(d, hold),
        intentId: c.intentId,
        paymentRef: hold.paymentRef,
        operation: 'refund',
        code: 'refund_failed',
        message: `refund ${r.refund.refundRef} failed`,
      });
      return;
    }
    d.emit('payment.refunded', {
      ...holdCommon(d, hold),
      intentId: c.intentId,
      paymentRef: r.refund.paymentRef,
      refundRef: r.refund.refundRef,
      cdrId: pending.cdrId,
      ...d.money(big(pending.amountMinor)),
    });
    d.ledger(PostingRules.refund(d.posting(), c.intentId, big(pending.amountMinor)));
    return;
  }
  payment(d, hold.holdId, r.payment);
}

function decline(
  d: Decision,
  h: HoldState,
  intentId: string,
  kind: 'authorize' | 'increase' | 'capture' | 'release' | 'refund',
  code: string,
  message: string,
  paymentRef: string | null,
): void {
  const failed = (operation: typeof kind) =>
    d.emit('payment.failed', {
      ...holdCommon(d, h),
      intentId,
      paymentRef: paymentRef ?? h.paymentRef,
      operation,
      code,
      message: message.slice(0, 500),
    });
  const session = h.sessionId ? d.state.sessions[h.sessionId] : undefined;
  switch (kind) {
    case 'authorize':
      if (h.status !== 'requested') return;
      d.emit('payment.authorization_failed', {
        ...holdCommon(d, h),
        intentId,
        paymentRef,
        code,
        message: message.slice(0, 500),
      });
      if (session) stopSession(d, session, 'authorization_failed');
      blockByPolicy(d, 'authorization_failed');
      settleIfEnded(d, d.state.holds[h.holdId]);
      return;
    case 'increase':
      if (h.increase?.intentId !== intentId) return;
      failed('increase');
      if (session) stopSession(d, session, 'increase_failed');
      return;
    case 'capture':
      if (h.capture?.intentId !== intentId) return;
      failed('capture');
      voidPending(d, h, 'capture_failed');
      blockByPolicy(d, 'capture_failed');
      settleIfEnded(d, d.state.holds[h.holdId], h.capture.cdrId ?? undefined);
      return;
    case 'release':
      if (h.releaseIntentId !== intentId) return;
      failed('release');
      return;
    case 'refund':
      if (!h.refunds[intentId]) return;
      failed('refund');
      return;
  }
}

/** The payment's state at the PSP, against the hold's. */
function payment(d: Decision, holdId: string, p: PspPayment): void {
  let h = d.state.holds[holdId];
  if (p.status === 'pending') return;
  if (h.status === 'requested') {
    if (p.amountAuthorizedMinor <= 0n || (p.status === 'canceled' && p.amountCapturedMinor === 0n)) {
      // a hosted page abandoned, or a hold cancelled before we saw it authorised
      d.emit('payment.authorization_failed', {
        ...holdCommon(d, h),
        intentId: holdId,
        paymentRef: p.paymentRef,
        code: 'canceled',
        message: 'the payment was cancelled before it was authorised',
      });
      settleIfEnded(d, d.state.holds[holdId]);
      return;
    }
    d.emit('payment.authorized', {
      ...holdCommon(d, h),
      intentId: holdId,
      paymentRef: p.paymentRef,
      ...d.money(p.amountAuthorizedMinor),
      holdExpiresAt: p.holdExpiresAt,
    });
    const t = d.state.holds[holdId];
    d.ledger(PostingRules.hold(d.posting(), holdId, big(t.authorizedMinor), t.authorizedMinor));
    h = t;
    if (p.status === 'authorized') {
      settleIfEnded(d, h);
      return;
    }
  }
  if (h.status === 'captured' && p.status === 'captured') return refundsSeen(d, h, p);
  if (h.status !== 'authorized') return; // captured, released or failed already: a late or repeated answer
  if (p.status === 'authorized') {
    if (h.increase && p.amountAuthorizedMinor > big(h.authorizedMinor)) {
      const old = pendingTransfer(h);
      const intentId = h.increase.intentId;
      if (old) d.ledger(PostingRules.void(d.posting(), old, 'hold_increased'));
      d.emit('payment.increased', {
        ...holdCommon(d, h),
        intentId,
        paymentRef: p.paymentRef,
        ...d.money(p.amountAuthorizedMinor),
      });
      const t = d.state.holds[holdId];
      d.ledger(PostingRules.hold(d.posting(), holdId, big(t.authorizedMinor), t.authorizedMinor));
    }
    return;
  }
  if (p.status === 'captured') {
    const amount = p.amountCapturedMinor - big(h.capturedMinor);
    const cdrId = h.capture?.cdrId ?? null;
    const intentId = h.capture?.intentId ?? intentIdOf('capture', holdId);
    d.emit('payment.captured', {
      ...holdCommon(d, h),
      intentId,
      paymentRef: p.paymentRef,
      cdrId,
      ...d.money(amount),
      feeMinor: p.feeMinor === null ? null : p.feeMinor.toString(),
    });
    d.ledger(PostingRules.capture(d.posting(), holdId, amount, h.pendingTransferId));
    if (amount === 0n) voidPending(d, h, 'hold_released');
    settleIfEnded(d, d.state.holds[holdId], cdrId ?? undefined);
    return;
  }
  // canceled: released (by us, or lapsed at the PSP); a capture still asked is thereby refused
  if (h.capture) {
    decline(d, h, h.capture.intentId, 'capture', 'canceled', 'the hold was cancelled before the capture', p.paymentRef);
    return;
  }
  d.emit('payment.released', {
    ...holdCommon(d, h),
    intentId: h.releaseIntentId ?? intentIdOf('release', holdId),
    paymentRef: p.paymentRef,
    ...d.money(big(h.authorizedMinor)),
  });
  voidPending(d, h, 'hold_released');
}

/**
 * The payment read back (a webhook, or `retrieve` after a timeout) shows more refunded than the hold has booked:
 * the refunds in flight it covers, oldest first, are done.
 */
function refundsSeen(d: Decision, h: HoldState, p: PspPayment): void {
  let booked = big(h.refundedMinor);
  for (const [intentId, r] of Object.entries(h.refunds)) {
    if (p.amountRefundedMinor < booked + big(r.amountMinor)) return;
    booked += big(r.amountMinor);
    d.emit('payment.refunded', {
      ...holdCommon(d, h),
      intentId,
      paymentRef: p.paymentRef,
      refundRef: null,
      cdrId: r.cdrId,
      ...d.money(big(r.amountMinor)),
    });
    d.ledger(PostingRules.refund(d.posting(), intentId, big(r.amountMinor)));
  }
}

/** Holds about to expire: capture what is due (the running cost, at most the hold), or release; corrections past their grace: settle. */
export function holdExpiryDue(d: Decision, c: HoldExpiryDue): void {
  const now = epochMsOf(c.at);
  for (const h of Object.values(d.state.holds)) {
    if (h.status !== 'authorized' || h.capture || h.releaseIntentId || !h.paymentRef || !h.authorizedAt) continue;
    const expires = h.expiresAt ? epochMsOf(h.expiresAt) : epochMsOf(h.authorizedAt) + d.cfg.holdLifetimeMs;
    if (expires - d.cfg.expiryMarginMs > now) continue;
    const s = h.sessionId ? d.state.sessions[h.sessionId] : undefined;
    if (!s) {
      release(d, h, 'station_never_started');
      continue;
    }
    if (s.cdrCount > 0) {
      settleCardSession(d, s.sessionId, lastCdrOf(d, s.sessionId), true);
      continue;
    }
    const due = min(big(s.costMinor), big(h.authorizedMinor));
    if (due > 0n) {
      d.emit('payment.capture_requested', {
        ...holdCommon(d, h),
        intentId: intentIdOf('capture', h.holdId),
        paymentRef: h.paymentRef,
        cdrId: null,
        ...d.money(due),
        reason: 'hold_expiring',
      });
    } else {
      release(d, h, 'nothing_due');
    }
  }
  for (const s of Object.values(d.state.sessions)) {
    if (s.correctingSince === null || epochMsOf(s.correctingSince) + d.cfg.correctionGraceMs > now) continue;
    settleCardSession(d, s.sessionId, lastCdrOf(d, s.sessionId), true);
  }
}

function lastCdrOf(d: Decision, sessionId: string): string {
  const ids = Object.values(d.state.cdrs)
    .filter((x) => x.sessionId === sessionId)
    .map((x) => x.cdrId);
  return ids[ids.length - 1] ?? sessionId;
}

/** An ad-hoc hold whose station never started: release it. */
export function releaseUnusedHold(d: Decision, c: ReleaseUnusedHold): void {
  for (const h of Object.values(d.state.holds)) {
    if (h.sessionId === null && h.status === 'authorized' && !h.releaseIntentId && !h.capture) release(d, h, c.reason);
  }
}
