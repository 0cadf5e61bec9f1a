import { given, givenCommands } from '@csms/kernel';
import { balancesOf, transferOf, type LedgerEvent } from './ledger';
import { createPaymentDecider, paymentDecider } from './payment-decider';
import { intentIdOf } from './state';
import { at, cdr, declined, holdOf, ofType, open, outcome, psp, started, typesOf } from './spec-helpers';
import type { PaymentCommand, PaymentEvent } from './types';

const A = 'acct-1';
const S = 'sess-1';
const H = holdOf(S);
const CAPTURE = intentIdOf('capture', H);

/** a card session with an authorised hold of `hold` minor units */
const authorised = (hold = 5000n, currency = 'EUR'): PaymentCommand[] => [
  open(A, undefined, { currency }),
  started(A, S, hold, { currency }),
  outcome(A, H, psp({ amountAuthorizedMinor: hold, currency }), 'psp-auth'),
];

const ledger = (events: readonly PaymentEvent[]) =>
  events
    .filter((e): e is LedgerEvent => e.type === 'ledger.transfer_posted' || e.type === 'ledger.transfer_voided')
    .map(transferOf);

describe('card: the hold at session start', () => {
  it('asks the PSP for the hold given in the command, on the saved card', () => {
    given(paymentDecider)
      .when(open(A), started(A, S, 5000n))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual([
          'payment.account_opened',
          'payment.session_opened',
          'payment.authorization_requested',
        ]);
        expect(events[2]).toEqual({
          type: 'payment.authorization_requested',
          accountId: A,
          sourceEventId: `start-${S}`,
          at: at(1),
          intentId: H,
          holdId: H,
          sessionId: S,
          currency: 'EUR',
          amount: '50.00',
          amountMinor: '5000',
          customerRef: 'cus_1',
          paymentMethodRef: 'pm_1',
          hosted: false,
        });
      });
  });

  it('authorised: the hold is a pending ledger transfer', () => {
    givenCommands(paymentDecider, authorised().slice(0, 2))
      .when(outcome(A, H, psp(), 'psp-auth'))
      .thenCheck((events, state) => {
        expect(typesOf(events)).toEqual(['payment.authorized', 'ledger.transfer_posted']);
        const [t] = ledger(events);
        expect(t.state).toBe('pending');
        expect(state.holds[H]).toMatchObject({ status: 'authorized', paymentRef: 'pi_1', authorizedMinor: '5000' });
      });
  });

  it('declined: authorization_failed, the session stopped, the account blocked (by policy)', () => {
    givenCommands(paymentDecider, authorised().slice(0, 2))
      .when(declined(A, H, 'card_declined', 'psp-decline'))
      .thenCheck((events, state) => {
        expect(typesOf(events)).toEqual([
          'payment.authorization_failed',
          'payment.session_stop_requested',
          'payment.account_blocked',
        ]);
        expect(ofType(events, 'payment.session_stop_requested')[0]).toMatchObject({
          sessionId: S,
          stationId: 'CP-001',
          transactionId: '42',
          reason: 'authorization_failed',
        });
        expect(state.blocked).toBe(true);
      });
  });

  it('declined on an account whose policy allows: no block; the CDR later is a receivable', () => {
    givenCommands(paymentDecider, [
      open(A, undefined, { policy: { onShortfall: 'allow' } }),
      started(A, S, 5000n),
      declined(A, H, 'card_declined', 'psp-decline'),
    ])
      .when(cdr(A, 'CDR1', S, '8.47', '7.00'))
      .thenCheck((events, state) => {
        expect(state.blocked).toBe(false);
        expect(ofType(events, 'payment.receivable_opened')[0]).toMatchObject({
          amountMinor: '847',
          reason: 'authorization_failed',
        });
        expect(ofType(events, 'payment.capture_requested')).toEqual([]);
      });
  });
});

describe('card: capture exactly the CDR total, release the rest', () => {
  it.each([
    ['EUR', 5000n, '8.47', '7.00', '847', 'EXACT'],
    ['EUR', 5000n, '8.465', '6.996', '847', 'HALF_UP'],
    ['JPY', 5000n, '1234', '1122', '1234', 'EXACT'],
    ['JPY', 5000n, '1234.5', '1122.3', '1235', 'HALF_UP'],
    ['KWD', 50000n, '1.234', '1.122', '1234', 'EXACT'],
    ['KWD', 50000n, '1.2345', '1.1223', '1235', 'HALF_UP'],
  ])(
    '%s hold %p, CDR %s (excl. VAT %s): capture %s minor units (%s)',
    (currency, hold, incl, excl, minor, rounding) => {
      givenCommands(paymentDecider, authorised(hold, currency))
        .when(cdr(A, 'CDR1', S, incl, excl, { currency }))
        .thenCheck((events) => {
          expect(typesOf(events)).toEqual([
            'payment.cdr_recorded',
            'ledger.transfer_posted',
            'payment.capture_requested',
          ]);
          expect(ofType(events, 'payment.cdr_recorded')[0]).toMatchObject({ totalInclVatMinor: minor, rounding });
          expect(ofType(events, 'payment.capture_requested')[0]).toMatchObject({
            intentId: CAPTURE,
            paymentRef: 'pi_1',
            cdrId: 'CDR1',
            amountMinor: minor,
            currency,
            reason: 'cdr',
          });
        });
    },
  );

  it('the capture outcome posts the hold for the captured amount: the receivable is 0 and nothing is pending', () => {
    const history = [...authorised(), cdr(A, 'CDR1', S, '8.47', '7.00')];
    const g = givenCommands(paymentDecider, history);
    g.when(outcome(A, CAPTURE, psp({ status: 'captured', amountCapturedMinor: 847n }), 'psp-cap')).thenCheck(
      (events, state) => {
        expect(typesOf(events)).toEqual(['payment.captured', 'ledger.transfer_posted']);
        const all = ledger([...g.history, ...events]);
        const { posted, pending } = balancesOf(all);
        expect(posted.get('customer_receivable:EUR:acct-1') ?? 0n).toBe(0n);
        expect(posted.get('psp_clearing:EUR')).toBe(847n);
        expect(posted.get('revenue_net:EUR')).toBe(-700n);
        expect(posted.get('vat_payable:EUR')).toBe(-147n);
        expect(pending.size).toBe(0);
        expect(state.holds[H]).toMatchObject({ status: 'captured', capturedMinor: '847' });
      },
    );
  });

  it('a total above the hold: capture the hold, the rest a receivable', () => {
    givenCommands(paymentDecider, authorised(500n))
      .when(cdr(A, 'CDR1', S, '8.47', '7.00'))
      .thenCheck((events) => {
        expect(ofType(events, 'payment.capture_requested')[0].amountMinor).toBe('500');
        expect(ofType(events, 'payment.receivable_opened')[0]).toMatchObject({
          amountMinor: '347',
          reason: 'capture_short',
          cdrId: 'CDR1',
        });
      });
  });

  it('the PSP captures less than asked (partial capture): the shortfall is a receivable', () => {
    givenCommands(paymentDecider, [...authorised(), cdr(A, 'CDR1', S, '8.47', '7.00')])
      .when(outcome(A, CAPTURE, psp({ status: 'captured', amountCapturedMinor: 600n }), 'psp-cap'))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual(['payment.captured', 'ledger.transfer_posted', 'payment.receivable_opened']);
        expect(ofType(events, 'payment.receivable_opened')[0]).toMatchObject({
          amountMinor: '247',
          reason: 'capture_short',
        });
      });
  });

  it('a total of zero: nothing captured, the hold released', () => {
    givenCommands(paymentDecider, authorised())
      .when(
        cdr(A, 'CDR1', S, '0.00', '0.00'),
        outcome(A, intentIdOf('release', H), psp({ status: 'canceled' }), 'psp-rel'),
      )
      .thenCheck((events, state) => {
        expect(typesOf(events)).toEqual([
          'payment.cdr_recorded',
          'payment.release_requested',
          'payment.released',
          'ledger.transfer_voided',
        ]);
        expect(state.holds[H].status).toBe('released');
      });
  });

  it('the same CDR twice (a re-delivered cdr.created, even under another event id): nothing the second time', () => {
    givenCommands(paymentDecider, [...authorised(), cdr(A, 'CDR1', S, '8.47', '7.00')])
      .when(cdr(A, 'CDR1', S, '8.47', '7.00'), cdr(A, 'CDR1', S, '8.47', '7.00', { sourceEventId: 'another-id' }))
      .then([]);
  });

  it('a CDR before the hold was authorised: captured when the authorisation arrives', () => {
    givenCommands(paymentDecider, [open(A), started(A, S, 5000n), cdr(A, 'CDR1', S, '8.47', '7.00')])
      .when(outcome(A, H, psp(), 'psp-auth'))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual(['payment.authorized', 'ledger.transfer_posted', 'payment.capture_requested']);
        expect(ofType(events, 'payment.capture_requested')[0].amountMinor).toBe('847');
      });
  });
});

describe('card: duplicate and out-of-order PSP answers change nothing', () => {
  const captured = psp({ status: 'captured', amountCapturedMinor: 847n });
  const history = [...authorised(), cdr(A, 'CDR1', S, '8.47', '7.00'), outcome(A, CAPTURE, captured, 'psp-cap')];

  it.each([
    ['the same capture answer again (another webhook id)', outcome(A, CAPTURE, captured, 'webhook-2')],
    ['the capture webhook naming the hold', outcome(A, H, captured, 'webhook-3')],
    ['a late "authorized" webhook after the capture', outcome(A, H, psp(), 'webhook-4')],
    ['a late decline of the capture', declined(A, CAPTURE, 'card_declined', 'late-decline')],
    ['an outcome for an intent not ours', outcome(A, 'someone-else', captured, 'webhook-5')],
    ['the same input id again', outcome(A, CAPTURE, captured, 'psp-cap')],
  ])('%s', (_what, cmd) => {
    givenCommands(paymentDecider, history).when(cmd).then([]);
  });

  it('an authorisation answered twice (sync answer and webhook) is authorised once', () => {
    givenCommands(paymentDecider, authorised())
      .when(outcome(A, H, psp(), 'webhook-auth'))
      .then([]);
  });

  it('a capture answer before we saw the authorisation: authorised, then captured', () => {
    givenCommands(paymentDecider, [open(A), started(A, S, 5000n), cdr(A, 'CDR1', S, '8.47', '7.00')])
      .when(outcome(A, H, captured, 'webhook-captured'))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual([
          'payment.authorized',
          'ledger.transfer_posted',
          'payment.captured',
          'ledger.transfer_posted',
        ]);
        expect(ofType(events, 'payment.capture_requested')).toEqual([]);
      });
  });
});

describe('card: a credit CDR refunds the difference, never a second capture', () => {
  const captured = psp({ status: 'captured', amountCapturedMinor: 847n });
  const history = [...authorised(), cdr(A, 'CDR1', S, '8.47', '7.00'), outcome(A, CAPTURE, captured, 'psp-cap')];
  const credit = cdr(A, 'CDR1-C', S, '-8.47', '-7.00', { creditReferenceId: 'CDR1', at: at(120) });

  it('credit CDR then the corrected CDR (lower): refund the difference', () => {
    givenCommands(paymentDecider, history)
      .when(credit, cdr(A, 'CDR2', S, '7.00', '5.79', { at: at(120) }))
      .thenCheck((events) => {
        expect(ofType(events, 'payment.capture_requested')).toEqual([]);
        const [refund] = ofType(events, 'payment.refund_requested');
        expect(refund).toMatchObject({ amountMinor: '147', cdrId: 'CDR2', paymentRef: 'pi_1', holdId: H });
      });
  });

  it('the refund outcome books the reversal; the receivable is 0 again', () => {
    const g = givenCommands(paymentDecider, [...history, credit, cdr(A, 'CDR2', S, '7.00', '5.79', { at: at(120) })]);
    const [refund] = ofType(g.history, 'payment.refund_requested');
    g.when({
      type: 'provider_outcome',
      accountId: A,
      sourceEventId: 'psp-refund',
      at: at(121),
      intentId: refund.intentId,
      result: {
        kind: 'refund',
        refund: { refundRef: 're_1', paymentRef: 'pi_1', amountMinor: 147n, status: 'succeeded' },
      },
    }).thenCheck((events) => {
      expect(typesOf(events)).toEqual(['payment.refunded', 'ledger.transfer_posted']);
      const { posted } = balancesOf(ledger([...g.history, ...events]));
      expect(posted.get('customer_receivable:EUR:acct-1') ?? 0n).toBe(0n);
      expect(posted.get('psp_clearing:EUR')).toBe(700n);
      expect(posted.get('revenue_net:EUR')).toBe(-579n);
    });
  });

  it('a refund seen on the payment (webhook or retrieve after a timeout) completes it once; its own answer later changes nothing', () => {
    const g = givenCommands(paymentDecider, [...history, credit, cdr(A, 'CDR2', S, '7.00', '5.79', { at: at(120) })]);
    const [refund] = ofType(g.history, 'payment.refund_requested');
    const seen = psp({ status: 'captured', amountCapturedMinor: 847n, amountRefundedMinor: 147n });
    g.when(outcome(A, H, seen, 'webhook-refunded'), outcome(A, H, seen, 'webhook-refunded-again'), {
      type: 'provider_outcome',
      accountId: A,
      sourceEventId: 'psp-refund',
      at: at(121),
      intentId: refund.intentId,
      result: {
        kind: 'refund',
        refund: { refundRef: 're_1', paymentRef: 'pi_1', amountMinor: 147n, status: 'succeeded' },
      },
    }).thenCheck((events) => {
      expect(typesOf(events)).toEqual(['payment.refunded', 'ledger.transfer_posted']);
      expect(events[0]).toMatchObject({ intentId: refund.intentId, amountMinor: '147', refundRef: null });
    });
  });

  it('credit CDR then a higher corrected CDR: the difference is a receivable (no second capture)', () => {
    givenCommands(paymentDecider, history)
      .when(credit, cdr(A, 'CDR2', S, '9.00', '7.44', { at: at(120) }))
      .thenCheck((events) => {
        expect(ofType(events, 'payment.capture_requested')).toEqual([]);
        expect(ofType(events, 'payment.receivable_opened')[0]).toMatchObject({
          amountMinor: '53',
          reason: 'capture_short',
        });
      });
  });

  it('a credit CDR alone waits for its corrected CDR; after the grace period it refunds in full', () => {
    const d = createPaymentDecider({ correctionGraceMs: 60 * 60 * 1000 });
    givenCommands(d, [...history, credit])
      .when(
        { type: 'hold_expiry_due', accountId: A, sourceEventId: 'tick-1', at: at(150) },
        { type: 'hold_expiry_due', accountId: A, sourceEventId: 'tick-2', at: at(181) },
        { type: 'hold_expiry_due', accountId: A, sourceEventId: 'tick-3', at: at(240) },
      )
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual(['payment.refund_requested']);
        expect(events[0]).toMatchObject({ sourceEventId: 'tick-2', amountMinor: '847' });
      });
  });
});

describe('card: the running cost nears the hold', () => {
  const cost = (c: string, source: string) =>
    ({ type: 'running_cost', accountId: A, sourceEventId: source, at: at(30), sessionId: S, costInclVat: c }) as const;

  it('below the threshold: only noted', () => {
    givenCommands(paymentDecider, authorised(1000n))
      .when(cost('7.99', 'u1'))
      .thenCheck((events) => expect(typesOf(events)).toEqual(['payment.session_cost_updated']));
  });

  it('at 80 %: raise the hold (increase policy); a repeated update asks nothing more', () => {
    givenCommands(paymentDecider, authorised(1000n))
      .when(cost('8.00', 'u1'), cost('8.50', 'u2'))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual([
          'payment.session_cost_updated',
          'payment.increase_requested',
          'payment.session_cost_updated',
        ]);
        expect(ofType(events, 'payment.increase_requested')[0]).toMatchObject({
          amountMinor: '2000',
          paymentRef: 'pi_1',
        });
      });
  });

  it('a cost far over the hold raises it past the threshold at once', () => {
    givenCommands(paymentDecider, authorised(1000n))
      .when(cost('25.00', 'u1'))
      .thenCheck((events) => expect(ofType(events, 'payment.increase_requested')[0].amountMinor).toBe('4000'));
  });

  it('stop policy: the session is stopped instead', () => {
    givenCommands(paymentDecider, [
      open(A, undefined, { policy: { onHoldNearlyUsed: 'stop' } }),
      ...authorised(1000n).slice(1),
    ])
      .when(cost('8.00', 'u1'))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual(['payment.session_cost_updated', 'payment.session_stop_requested']);
        expect(events[1]).toMatchObject({ reason: 'hold_exhausted' });
      });
  });

  it('the increase granted: the old pending transfer voided, a new one for the whole hold', () => {
    const g = givenCommands(paymentDecider, [...authorised(1000n), cost('8.00', 'u1')]);
    const [inc] = ofType(g.history, 'payment.increase_requested');
    g.when(outcome(A, inc.intentId, psp({ amountAuthorizedMinor: 2000n }), 'psp-inc')).thenCheck((events, state) => {
      expect(typesOf(events)).toEqual(['ledger.transfer_voided', 'payment.increased', 'ledger.transfer_posted']);
      expect(state.holds[H].authorizedMinor).toBe('2000');
      const { pending } = balancesOf(ledger([...g.history, ...events]));
      expect(pending.get('psp_clearing:EUR')).toBe(2000n);
    });
  });

  it('the increase declined: payment.failed and the session stopped', () => {
    const g = givenCommands(paymentDecider, [...authorised(1000n), cost('8.00', 'u1')]);
    const [inc] = ofType(g.history, 'payment.increase_requested');
    g.when(declined(A, inc.intentId, 'card_declined', 'psp-inc')).thenCheck((events) => {
      expect(typesOf(events)).toEqual(['payment.failed', 'payment.session_stop_requested']);
      expect(events[1]).toMatchObject({ reason: 'increase_failed' });
    });
  });
});

describe('card: a hold about to expire', () => {
  const tick = (when: string, id: string) =>
    ({ type: 'hold_expiry_due', accountId: A, sourceEventId: id, at: when }) as const;
  const cost = {
    type: 'running_cost',
    accountId: A,
    sourceEventId: 'u1',
    at: at(30),
    sessionId: S,
    costInclVat: '4.20',
  } as const;
  const sixDays = 6 * 24 * 60;

  it('is captured for what is due (the running cost) a day before the 7 days; the CDR later owes the rest', () => {
    const g = givenCommands(paymentDecider, [...authorised(), cost]);
    g.when(
      tick(at(sixDays - 10), 't1'),
      tick(at(sixDays + 5), 't2'),
      outcome(A, CAPTURE, psp({ status: 'captured', amountCapturedMinor: 420n }), 'psp-cap'),
      cdr(A, 'CDR1', S, '8.47', '7.00', { at: at(sixDays + 60) }),
    ).thenCheck((events) => {
      expect(typesOf(events)).toEqual([
        'payment.capture_requested',
        'payment.captured',
        'ledger.transfer_posted',
        'payment.cdr_recorded',
        'ledger.transfer_posted',
        'payment.receivable_opened',
      ]);
      expect(events[0]).toMatchObject({
        sourceEventId: 't2',
        amountMinor: '420',
        reason: 'hold_expiring',
        cdrId: null,
      });
      expect(ofType(events, 'payment.receivable_opened')[0]).toMatchObject({
        amountMinor: '427',
        reason: 'capture_short',
      });
    });
  });

  it('uses the expiry the PSP states when it states one', () => {
    givenCommands(paymentDecider, [
      open(A),
      started(A, S, 5000n),
      outcome(A, H, psp({ holdExpiresAt: at(3 * 24 * 60) }), 'psp-auth'),
      cost,
    ])
      .when(tick(at(2 * 24 * 60 + 1), 't1'))
      .thenCheck((events) => expect(typesOf(events)).toEqual(['payment.capture_requested']));
  });

  it('with nothing due yet: released', () => {
    givenCommands(paymentDecider, authorised())
      .when(tick(at(sixDays + 5), 't1'))
      .thenCheck((events) =>
        expect(ofType(events, 'payment.release_requested')[0]).toMatchObject({ reason: 'nothing_due' }),
      );
  });

  it('a hold the PSP let lapse (canceled) is released and voided; the CDR is then owed', () => {
    givenCommands(paymentDecider, authorised())
      .when(outcome(A, H, psp({ status: 'canceled' }), 'webhook-canceled'), cdr(A, 'CDR1', S, '8.47', '7.00'))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual([
          'payment.released',
          'ledger.transfer_voided',
          'payment.cdr_recorded',
          'ledger.transfer_posted',
          'payment.receivable_opened',
        ]);
        expect(ofType(events, 'payment.receivable_opened')[0].reason).toBe('no_hold');
      });
  });
});

describe('card: a refused release', () => {
  it('payment.failed once; the release is not asked again at every tick', () => {
    const tick = (id: string, minutes: number) =>
      ({ type: 'hold_expiry_due', accountId: A, sourceEventId: id, at: at(minutes) }) as const;
    givenCommands(paymentDecider, authorised())
      .when(
        tick('t1', 7 * 24 * 60),
        declined(A, intentIdOf('release', H), 'processing_error', 'psp-rel'),
        tick('t2', 7 * 24 * 60 + 60),
      )
      .thenCheck((events) => expect(typesOf(events)).toEqual(['payment.release_requested', 'payment.failed']));
  });
});

describe('card: a refused capture', () => {
  it('payment.failed, the pending hold voided, the total a receivable, the account blocked; never captured again', () => {
    givenCommands(paymentDecider, [...authorised(), cdr(A, 'CDR1', S, '8.47', '7.00')])
      .when(declined(A, CAPTURE, 'expired_for_capture', 'psp-cap'), {
        type: 'hold_expiry_due',
        accountId: A,
        sourceEventId: 't',
        at: at(9 * 24 * 60),
      })
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual([
          'payment.failed',
          'ledger.transfer_voided',
          'payment.account_blocked',
          'payment.receivable_opened',
        ]);
        expect(events[0]).toMatchObject({ operation: 'capture', code: 'expired_for_capture' });
        expect(ofType(events, 'payment.receivable_opened')[0]).toMatchObject({
          amountMinor: '847',
          reason: 'capture_failed',
        });
      });
  });
});

describe('idempotency and refusals', () => {
  it('a command from a source already applied decides nothing', () => {
    givenCommands(paymentDecider, authorised())
      .when(started(A, 'sess-2', 5000n, { sourceEventId: `start-${S}` }))
      .then([]);
  });

  it('a session started twice is opened once', () => {
    givenCommands(paymentDecider, authorised())
      .when(started(A, S, 5000n, { sourceEventId: 'again' }))
      .then([]);
  });

  it.each([
    ['a CDR in another currency', cdr(A, 'CDR9', S, '1.00', '1.00', { currency: 'USD' }), 'PAYMENT_CURRENCY_MISMATCH'],
    [
      'an account opened twice differently',
      open(A, { kind: 'wallet' }, { sourceEventId: 'x' }),
      'PAYMENT_ACCOUNT_EXISTS',
    ],
    ['a CDR whose amount is not a decimal', cdr(A, 'CDR9', S, '1e3', '1.00'), 'PAYMENT_INVALID_AMOUNT'],
  ])('refuses %s', (_what, cmd, code) => {
    givenCommands(paymentDecider, authorised()).when(cmd).thenError(code);
  });

  it('refuses a session on an account never opened', () => {
    given(paymentDecider)
      .when(started(A, S, 5000n))
      .thenError('PAYMENT_ACCOUNT_UNKNOWN');
  });

  it('opening the same account the same way again decides nothing', () => {
    givenCommands(paymentDecider, [open(A)])
      .when(open(A, undefined, { sourceEventId: 'retry' }))
      .then([]);
  });
});

describe('bounded state', () => {
  it('keeps only the newest settled sessions in full; an old CDR delivered again still decides nothing', () => {
    const d = createPaymentDecider({ settledSessionsKept: 2 });
    const history: PaymentCommand[] = [open(A)];
    for (let i = 0; i < 6; i++) {
      const s = `s${i}`;
      history.push(
        started(A, s, 5000n),
        outcome(A, holdOf(s), psp({ paymentRef: `pi_${i}` }), `auth-${i}`),
        cdr(A, `CDR${i}`, s, '8.47', '7.00'),
        outcome(
          A,
          intentIdOf('capture', holdOf(s)),
          psp({ paymentRef: `pi_${i}`, status: 'captured', amountCapturedMinor: 847n }),
          `cap-${i}`,
        ),
      );
    }
    const g = givenCommands(d, history);
    expect(Object.keys(g.state.sessions).length).toBeLessThanOrEqual(3);
    expect(Object.keys(g.state.holds).length).toBeLessThanOrEqual(3);
    expect(g.state.settledCdrIds).toEqual(expect.arrayContaining(['CDR0', 'CDR1', 'CDR2']));
    g.when(cdr(A, 'CDR0', 's0', '8.47', '7.00', { sourceEventId: 'redelivered' })).then([]);
  });
});

describe('a correction of a pruned session', () => {
  it('brings the session and its hold back from the archive and refunds the difference', () => {
    const d = createPaymentDecider({ settledSessionsKept: 1 });
    const history: PaymentCommand[] = [open(A)];
    for (let i = 0; i < 5; i++) {
      const s = `s${i}`;
      history.push(
        started(A, s, 5000n),
        outcome(A, holdOf(s), psp({ paymentRef: `pi_${i}` }), `auth-${i}`),
        cdr(A, `CDR${i}`, s, '8.47', '7.00'),
        outcome(
          A,
          intentIdOf('capture', holdOf(s)),
          psp({ paymentRef: `pi_${i}`, status: 'captured', amountCapturedMinor: 847n }),
          `cap-${i}`,
        ),
      );
    }
    const g = givenCommands(d, history);
    expect(g.state.sessions.s0).toBeUndefined();
    expect(g.state.archive.s0).toMatchObject({ paymentRef: 'pi_0', capturedMinor: '847', dueMinor: '847' });
    g.when(
      cdr(A, 'CDR0-C', 's0', '-8.47', '-7.00', { creditReferenceId: 'CDR0' }),
      cdr(A, 'CDR0b', 's0', '5.00', '4.13'),
    ).thenCheck((events) => {
      expect(ofType(events, 'payment.refund_requested')[0]).toMatchObject({
        paymentRef: 'pi_0',
        amountMinor: '347',
        holdId: holdOf('s0'),
      });
      expect(ofType(events, 'payment.capture_requested')).toEqual([]);
    });
  });
});
