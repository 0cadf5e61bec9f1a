import fc from 'fast-check';
import { systemCatalogue } from '@csms/contracts';
import { handle } from '@csms/kernel';
import { fromPaymentEnvelope, toPaymentEnvelope } from './envelopes';
import { LedgerJournal, assertBalanced, transferOf, type LedgerEvent } from './ledger';
import { paymentDecider } from './payment-decider';
import { at, cdr, open, started, CARD } from './spec-helpers';
import type {
  AccountPaymentState,
  PaymentCommand,
  PaymentEvent,
  PaymentMethod,
  ProviderOutcome,
  PspResult,
} from './types';

/**
 * Random histories of one account: sessions, running costs, CDRs, credit CDRs with their corrections, ticks of
 * the hold-expiry clock, top-ups, and a PSP (idempotent per intent) that answers the requested intents in any
 * order — granting, declining, capturing less, cancelling, answering twice, doing the work and losing the answer
 * (a timeout after success: the runner retries), or showing the payment as it is (a webhook, a retrieve).
 * The model PSP refuses a capture above the hold and a refund above what is left. Whatever happens: every ledger transfer is balanced
 * and the journal accepts it (a pending hold resolved once, never posted above its amount), a hold and a CDR
 * are captured at most once, and once everything is answered the customer's receivable in the ledger equals
 * the open receivables.
 */
type Action =
  | { k: 'start'; s: number; hold: bigint }
  | { k: 'cost'; s: number; cost: bigint }
  | { k: 'cdr'; s: number; incl: bigint; vat: bigint }
  | { k: 'credit'; s: number; correctedIncl: bigint | null }
  | { k: 'respond'; pick: number; mode: 'ok' | 'decline' | 'partial' | 'cancel' | 'dup' | 'lost' | 'peek' }
  | { k: 'tick'; hours: number }
  | { k: 'topup'; amount: bigint };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ k: fc.constant('start' as const), s: fc.nat(3), hold: fc.bigInt({ min: 100n, max: 10000n }) }),
  fc.record({ k: fc.constant('cost' as const), s: fc.nat(3), cost: fc.bigInt({ min: 0n, max: 20000n }) }),
  fc.record({
    k: fc.constant('cdr' as const),
    s: fc.nat(3),
    incl: fc.bigInt({ min: 0n, max: 20000n }),
    vat: fc.bigInt({ min: 0n, max: 25n }),
  }),
  fc.record({
    k: fc.constant('credit' as const),
    s: fc.nat(3),
    correctedIncl: fc.option(fc.bigInt({ min: 0n, max: 20000n })),
  }),
  fc.record({
    k: fc.constant('respond' as const),
    pick: fc.nat(20),
    mode: fc.constantFrom('ok', 'ok', 'ok', 'decline', 'partial', 'cancel', 'dup'),
  }),
  fc.record({ k: fc.constant('respond' as const), pick: fc.nat(20), mode: fc.constant('ok' as const) }),
  fc.record({ k: fc.constant('tick' as const), hours: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ k: fc.constant('topup' as const), amount: fc.bigInt({ min: 1n, max: 10000n }) }),
);

const fmt = (minor: bigint) => {
  const neg = minor < 0n;
  const a = neg ? -minor : minor;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
};

type Requested = Extract<
  PaymentEvent,
  {
    type:
      | 'payment.authorization_requested'
      | 'payment.increase_requested'
      | 'payment.capture_requested'
      | 'payment.release_requested'
      | 'payment.refund_requested';
  }
>;

function run(method: PaymentMethod, actions: Action[], drain: boolean) {
  const A = 'acct-p';
  let state: AccountPaymentState = paymentDecider.initialState();
  const events: PaymentEvent[] = [];
  let n = 0;
  let minutes = 1;
  const cdrsOf = new Map<number, { id: string; incl: bigint; vat: bigint; credited: boolean }[]>();
  const open: Requested[] = [];
  const answered: ProviderOutcome[] = [];
  // the PSP's view of each hold
  const psp = new Map<
    string,
    { ref: string; auth: bigint; captured: bigint; refunded: bigint; status: 'authorized' | 'captured' | 'canceled' }
  >();

  const exec = (c: PaymentCommand) => {
    const r = handle(paymentDecider, c, state);
    state = r.state;
    for (const e of r.events) {
      events.push(e);
      if (e.type.endsWith('_requested') && e.type !== 'payment.session_stop_requested') open.push(e as Requested);
    }
  };
  const src = () => `src-${++n}`;
  const now = () => at(minutes);

  // the PSP answers an intent (idempotency key) the same way every time
  const results = new Map<string, PspResult>();
  const answer = (req: Requested, mode: 'ok' | 'decline' | 'partial' | 'cancel'): PspResult => {
    const known = results.get(req.intentId);
    if (known) return known;
    const r = perform(req, mode);
    results.set(req.intentId, r);
    return r;
  };
  const perform = (req: Requested, mode: 'ok' | 'decline' | 'partial' | 'cancel'): PspResult => {
    const p = psp.get(req.holdId);
    const payment = (x: NonNullable<typeof p>): PspResult => ({
      kind: 'payment',
      payment: {
        paymentRef: x.ref,
        status: x.status,
        currency: 'EUR',
        amountAuthorizedMinor: x.auth,
        amountCapturedMinor: x.captured,
        amountRefundedMinor: x.refunded,
        holdExpiresAt: null,
        feeMinor: null,
      },
    });
    const decline: PspResult = {
      kind: 'decline',
      code: 'card_declined',
      message: 'declined',
      paymentRef: p?.ref ?? null,
    };
    switch (req.type) {
      case 'payment.authorization_requested': {
        if (mode === 'decline' || mode === 'cancel') return decline;
        const x = {
          ref: `pi_${req.holdId.slice(0, 8)}`,
          auth: BigInt(req.amountMinor),
          captured: 0n,
          refunded: 0n,
          status: 'authorized' as const,
        };
        psp.set(req.holdId, x);
        return payment(x);
      }
      case 'payment.increase_requested':
        if (!p || p.status !== 'authorized' || mode === 'decline') return decline;
        p.auth = BigInt(req.amountMinor);
        return payment(p);
      case 'payment.capture_requested': {
        if (!p || p.status !== 'authorized' || mode === 'decline') return decline;
        if (mode === 'cancel') {
          p.status = 'canceled';
          return payment(p);
        }
        const amount = BigInt(req.amountMinor);
        if (amount > p.auth) throw new Error(`capture ${amount} above the hold ${p.auth}`);
        p.captured = mode === 'partial' && amount > 1n ? amount - 1n : amount;
        p.status = 'captured';
        return payment(p);
      }
      case 'payment.release_requested':
        if (!p || p.status !== 'authorized' || mode === 'decline') return decline;
        p.status = 'canceled';
        return payment(p);
      case 'payment.refund_requested': {
        // never more refunded than captured: the rules refund at most what was captured and not refunded
        if (p && BigInt(req.amountMinor) > p.captured - p.refunded) {
          throw new Error(`refund ${req.amountMinor} above what is left (${p.captured - p.refunded})`);
        }
        if (!p || p.status !== 'captured' || mode === 'decline' || BigInt(req.amountMinor) > p.captured - p.refunded) {
          return {
            kind: 'refund',
            refund: {
              refundRef: `re_${req.intentId.slice(0, 8)}`,
              paymentRef: p?.ref ?? 'none',
              amountMinor: BigInt(req.amountMinor),
              status: 'failed',
            },
          };
        }
        p.refunded += BigInt(req.amountMinor);
        return {
          kind: 'refund',
          refund: {
            refundRef: `re_${req.intentId.slice(0, 8)}`,
            paymentRef: p.ref,
            amountMinor: BigInt(req.amountMinor),
            status: 'succeeded',
          },
        };
      }
    }
  };

  const respond = (pick: number, mode: 'ok' | 'decline' | 'partial' | 'cancel' | 'dup' | 'lost' | 'peek') => {
    if (mode === 'peek') {
      // a webhook, or the runner's retrieve after a timeout: the payment as the PSP holds it now, naming the hold
      const holds = [...psp.entries()];
      const hit = holds[pick % Math.max(1, holds.length)];
      if (!hit) return;
      const [holdId, x] = hit;
      exec({
        type: 'provider_outcome',
        accountId: A,
        sourceEventId: src(),
        at: now(),
        intentId: holdId,
        result: {
          kind: 'payment',
          payment: {
            paymentRef: x.ref,
            status: x.status,
            currency: 'EUR',
            amountAuthorizedMinor: x.auth,
            amountCapturedMinor: x.captured,
            amountRefundedMinor: x.refunded,
            holdExpiresAt: null,
            feeMinor: null,
          },
        },
      });
      return;
    }
    if (mode === 'lost') {
      // timeout after success: the PSP did it, the answer never came; the intent stays open (the runner retries)
      if (open.length > 0) answer(open[pick % open.length], 'ok');
      return;
    }
    if (mode === 'dup') {
      const old = answered[pick % Math.max(1, answered.length)];
      if (old) exec({ ...old, sourceEventId: src(), at: now() });
      return;
    }
    if (open.length === 0) return;
    const [req] = open.splice(pick % open.length, 1);
    const c: ProviderOutcome = {
      type: 'provider_outcome',
      accountId: A,
      sourceEventId: src(),
      at: now(),
      intentId: req.intentId,
      result: answer(req, mode),
    };
    answered.push(c);
    exec(c);
  };

  exec(openCmd(A, method));
  for (const a of actions) {
    minutes += 7;
    switch (a.k) {
      case 'start':
        exec(started(A, `s${a.s}`, a.hold, { sourceEventId: src(), at: now() }));
        break;
      case 'cost':
        exec({
          type: 'running_cost',
          accountId: A,
          sourceEventId: src(),
          at: now(),
          sessionId: `s${a.s}`,
          costInclVat: fmt(a.cost),
        });
        break;
      case 'cdr': {
        const list = cdrsOf.get(a.s) ?? [];
        const id = `CDR-${a.s}-${list.length}`;
        const excl = (a.incl * 100n) / (100n + a.vat);
        list.push({ id, incl: a.incl, vat: a.vat, credited: false });
        cdrsOf.set(a.s, list);
        exec(cdr(A, id, `s${a.s}`, fmt(a.incl), fmt(excl), { sourceEventId: src(), at: now() }));
        break;
      }
      case 'credit': {
        const list = cdrsOf.get(a.s) ?? [];
        const last = [...list].reverse().find((x) => !x.credited && !x.id.endsWith('-C'));
        if (!last) break;
        last.credited = true;
        const excl = (last.incl * 100n) / (100n + last.vat);
        exec(
          cdr(A, `${last.id}-C`, `s${a.s}`, fmt(-last.incl), fmt(-excl), {
            sourceEventId: src(),
            at: now(),
            credit: true,
            creditReferenceId: last.id,
          }),
        );
        if (a.correctedIncl !== null) {
          const id = `CDR-${a.s}-${list.length}`;
          list.push({ id, incl: a.correctedIncl, vat: last.vat, credited: false });
          exec(
            cdr(A, id, `s${a.s}`, fmt(a.correctedIncl), fmt((a.correctedIncl * 100n) / (100n + last.vat)), {
              sourceEventId: src(),
              at: now(),
            }),
          );
        }
        break;
      }
      case 'respond':
        respond(a.pick, a.mode);
        break;
      case 'tick':
        minutes += a.hours * 60;
        exec({ type: 'hold_expiry_due', accountId: A, sourceEventId: src(), at: now() });
        break;
      case 'topup':
        if (method.kind === 'wallet') {
          exec({
            type: 'top_up_wallet',
            accountId: A,
            sourceEventId: src(),
            at: now(),
            topUpRef: `t${n}`,
            currency: 'EUR',
            amountMinor: a.amount,
            via: 'psp',
          });
        }
        break;
    }
  }
  if (drain) {
    // every session ends with a CDR (as every real one does)
    for (const sessionId of Object.keys(state.sessions)) {
      const s = Number(sessionId.slice(1));
      if ((cdrsOf.get(s) ?? []).length === 0) {
        cdrsOf.set(s, [{ id: `CDR-${s}-end`, incl: 500n, vat: 0n, credited: false }]);
        exec(cdr(A, `CDR-${s}-end`, sessionId, '5.00', '5.00', { sourceEventId: src(), at: now() }));
      }
    }
    // answer everything (successfully), let every hold and correction come due, answer again
    for (let round = 0; round < 4; round++) {
      while (open.length > 0) respond(0, 'ok');
      minutes += 30 * 24 * 60;
      exec({ type: 'hold_expiry_due', accountId: A, sourceEventId: src(), at: now() });
    }
  }
  return { events, state, A };
}

function openCmd(A: string, method: PaymentMethod): PaymentCommand {
  return open(A, method);
}

const catalogue = systemCatalogue();

function checkInvariants(events: PaymentEvent[]) {
  const journal = new LedgerJournal();
  for (const [i, e] of events.entries()) {
    // every decided event is a valid payment.events v1 payload, and comes back from its envelope unchanged
    const env = toPaymentEnvelope(catalogue, e, { ordinal: i, source: 'payment-service' });
    expect(fromPaymentEnvelope(catalogue.decode(catalogue.encode(env)))).toEqual(e);
    if (e.type === 'ledger.transfer_posted' || e.type === 'ledger.transfer_voided') {
      const t = transferOf(e as LedgerEvent);
      assertBalanced(t);
      expect(t.postings.reduce((a, p) => a + p.amountMinor, 0n)).toBe(0n);
      expect(journal.apply(t)).toBe('applied');
    }
  }
  const count = (xs: (string | null)[]) => {
    const m = new Map<string, number>();
    for (const x of xs) if (x !== null) m.set(x, (m.get(x) ?? 0) + 1);
    return Math.max(0, ...m.values());
  };
  const captureRequests = events.filter((e) => e.type === 'payment.capture_requested');
  const captures = events.filter((e) => e.type === 'payment.captured');
  // a hold is captured at most once, a CDR at most once
  expect(count(captureRequests.map((e) => e.holdId))).toBeLessThanOrEqual(1);
  expect(count(captureRequests.map((e) => e.cdrId))).toBeLessThanOrEqual(1);
  expect(count(captures.map((e) => e.holdId))).toBeLessThanOrEqual(1);
  expect(count(captures.map((e) => e.cdrId))).toBeLessThanOrEqual(1);
  // the books balance
  const { posted, pending } = journal.balances();
  expect([...posted.values()].reduce((a, b) => a + b, 0n)).toBe(0n);
  expect([...pending.values()].reduce((a, b) => a + b, 0n)).toBe(0n);
  return journal;
}

describe('payment decider properties', () => {
  it('the random card histories reach every card transition (the properties below are not vacuous)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
        for (const e of run(CARD, actions, true).events) seen.add(e.type);
      }),
      { numRuns: 500, seed: 12 },
    );
    for (const t of [
      'payment.authorized',
      'payment.authorization_failed',
      'payment.increased',
      'payment.captured',
      'payment.released',
      'payment.refunded',
      'payment.failed',
      'payment.receivable_opened',
      'payment.receivable_settled',
      'payment.session_stop_requested',
      'ledger.transfer_voided',
    ]) {
      expect([t, seen.has(t)]).toEqual([t, true]);
    }
  });

  it.each([
    ['card', CARD],
    ['wallet', { kind: 'wallet' } as PaymentMethod],
    ['invoice', { kind: 'invoice', creditLimitMinor: '5000' } as PaymentMethod],
  ])('%s: every transfer balanced, every hold and CDR captured at most once', (_name, method) => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
        const { events } = run(method, actions, false);
        checkInvariants(events);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['card', CARD],
    ['wallet', { kind: 'wallet' } as PaymentMethod],
  ])('%s: once every intent is answered, the ledger receivable equals the open receivables', (_name, method) => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
        const { events, state, A } = run(method, actions, true);
        const journal = checkInvariants(events);
        const ledgerReceivable = journal.balances().posted.get(`customer_receivable:EUR:${A}`) ?? 0n;
        const open = Object.values(state.receivables).reduce((a, r) => a + BigInt(r.openMinor), 0n);
        expect(ledgerReceivable).toBe(open);
        expect(journal.balances().pending.size).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
