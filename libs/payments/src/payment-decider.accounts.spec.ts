import { givenCommands } from '@csms/kernel';
import { adhocAccountId, PAYOUT_ACCOUNT_ID } from './envelopes';
import { balancesOf, transferOf, type LedgerEvent } from './ledger';
import { paymentDecider } from './payment-decider';
import { intentIdOf, statementIdOf } from './state';
import { T0, at, cdr, ofType, open, outcome, psp, started, typesOf } from './spec-helpers';
import type { PaymentCommand, PaymentEvent, TopUpWallet } from './types';

const ledger = (events: readonly PaymentEvent[]) =>
  events
    .filter((e): e is LedgerEvent => e.type === 'ledger.transfer_posted' || e.type === 'ledger.transfer_voided')
    .map(transferOf);

describe('wallet', () => {
  const W = 'wallet-1';
  const topUp = (amountMinor: bigint, ref: string): TopUpWallet => ({
    type: 'top_up_wallet',
    accountId: W,
    sourceEventId: `topup-${ref}`,
    at: at(5),
    topUpRef: ref,
    currency: 'EUR',
    amountMinor,
    via: 'psp',
  });
  const base: PaymentCommand[] = [open(W, { kind: 'wallet' }), topUp(2000n, 't1'), started(W, 's1', 0n)];

  it('a session opens without a hold; the CDR is debited from the balance', () => {
    givenCommands(paymentDecider, base)
      .when(cdr(W, 'CDR1', 's1', '8.47', '7.00'))
      .thenCheck((events, state) => {
        expect(typesOf(events)).toEqual([
          'payment.cdr_recorded',
          'ledger.transfer_posted',
          'payment.wallet_debited',
          'ledger.transfer_posted',
        ]);
        expect(ofType(events, 'payment.wallet_debited')[0]).toMatchObject({ amountMinor: '847', balanceMinor: '1153' });
        expect(state.walletBalanceMinor).toBe('1153');
      });
  });

  it('insufficient balance: debit what is there, the rest a receivable, the account blocked; a top-up settles and unblocks', () => {
    const g = givenCommands(paymentDecider, [...base, cdr(W, 'CDR1', 's1', '25.00', '20.66')]);
    expect(typesOf(g.history).slice(-5)).toEqual([
      'ledger.transfer_posted',
      'payment.wallet_debited',
      'ledger.transfer_posted',
      'payment.receivable_opened',
      'payment.account_blocked',
    ]);
    expect(g.state.blocked).toBe(true);
    g.when(topUp(1000n, 't2')).thenCheck((events, state) => {
      expect(typesOf(events)).toEqual([
        'payment.wallet_topped_up',
        'ledger.transfer_posted',
        'payment.wallet_debited',
        'ledger.transfer_posted',
        'payment.receivable_settled',
        'payment.account_unblocked',
      ]);
      expect(ofType(events, 'payment.wallet_debited')[0]).toMatchObject({ amountMinor: '500', balanceMinor: '500' });
      expect(state).toMatchObject({ blocked: false, walletBalanceMinor: '500', receivables: {} });
      const { posted } = balancesOf(ledger([...g.history, ...events]));
      expect(posted.get('customer_receivable:EUR:wallet-1') ?? 0n).toBe(0n);
      expect(posted.get('wallet_liability:EUR:wallet-1')).toBe(-500n);
      expect(posted.get('psp_clearing:EUR')).toBe(3000n);
    });
  });

  it('a top-up too small keeps the account blocked', () => {
    givenCommands(paymentDecider, [...base, cdr(W, 'CDR1', 's1', '25.00', '20.66')])
      .when(topUp(100n, 't2'))
      .thenCheck((events, state) => {
        expect(ofType(events, 'payment.account_unblocked')).toEqual([]);
        expect(state.blocked).toBe(true);
      });
  });

  it('a credit CDR credits the wallet; the corrected CDR is debited again', () => {
    givenCommands(paymentDecider, [...base, cdr(W, 'CDR1', 's1', '8.47', '7.00')])
      .when(
        cdr(W, 'CDR1-C', 's1', '-8.47', '-7.00', { creditReferenceId: 'CDR1' }),
        cdr(W, 'CDR2', 's1', '7.00', '5.79'),
      )
      .thenCheck((events, state) => {
        expect(ofType(events, 'payment.wallet_credited')[0]).toMatchObject({
          amountMinor: '847',
          balanceMinor: '2000',
        });
        expect(ofType(events, 'payment.wallet_debited')[0]).toMatchObject({ amountMinor: '700', balanceMinor: '1300' });
        expect(state.walletBalanceMinor).toBe('1300');
      });
  });

  it('a credit CDR settles the credited CDR’s open receivable first', () => {
    givenCommands(paymentDecider, [...base, cdr(W, 'CDR1', 's1', '25.00', '20.66')])
      .when(cdr(W, 'CDR1-C', 's1', '-25.00', '-20.66', { creditReferenceId: 'CDR1' }))
      .thenCheck((events, state) => {
        expect(ofType(events, 'payment.receivable_settled')[0]).toMatchObject({ amountMinor: '500', by: 'credit_cdr' });
        expect(ofType(events, 'payment.wallet_credited')[0]).toMatchObject({ amountMinor: '2000' });
        expect(state.blocked).toBe(false);
      });
  });

  it('refuses a top-up of a card account, and one in another currency', () => {
    givenCommands(paymentDecider, [open('card-1')])
      .when({ ...topUp(100n, 'x'), accountId: 'card-1' })
      .thenError('PAYMENT_METHOD_MISMATCH');
    givenCommands(paymentDecider, base)
      .when({ ...topUp(100n, 'x'), currency: 'USD' })
      .thenError('PAYMENT_CURRENCY_MISMATCH');
  });
});

describe('invoice', () => {
  const F = 'fleet-1';
  const base: PaymentCommand[] = [open(F, { kind: 'invoice', creditLimitMinor: '2000' })];

  it('a receivable per CDR; past the credit limit the account is blocked', () => {
    givenCommands(paymentDecider, base)
      .when(cdr(F, 'CDR1', 's1', '15.00', '12.40'), cdr(F, 'CDR2', 's2', '8.47', '7.00'))
      .thenCheck((events, state) => {
        expect(ofType(events, 'payment.receivable_opened').map((r) => [r.cdrId, r.amountMinor, r.reason])).toEqual([
          ['CDR1', '1500', 'invoice'],
          ['CDR2', '847', 'invoice'],
        ]);
        expect(ofType(events, 'payment.account_blocked')[0]).toMatchObject({
          reason: 'credit_limit_exceeded',
          openReceivablesMinor: '2347',
        });
        expect(state.blocked).toBe(true);
      });
  });

  it('a credit CDR settles the credited receivable and unblocks under the limit', () => {
    givenCommands(paymentDecider, [
      ...base,
      cdr(F, 'CDR1', 's1', '15.00', '12.40'),
      cdr(F, 'CDR2', 's2', '8.47', '7.00'),
    ])
      .when(cdr(F, 'CDR1-C', 's1', '-15.00', '-12.40', { creditReferenceId: 'CDR1' }))
      .thenCheck((events, state) => {
        expect(typesOf(events)).toEqual([
          'payment.cdr_recorded',
          'ledger.transfer_posted',
          'payment.receivable_settled',
          'payment.account_unblocked',
        ]);
        expect(state.blocked).toBe(false);
      });
  });

  it('raising the credit limit unblocks', () => {
    givenCommands(paymentDecider, [...base, cdr(F, 'CDR1', 's1', '25.00', '20.66')])
      .when({
        type: 'update_account',
        accountId: F,
        sourceEventId: 'upd',
        at: at(70),
        method: { kind: 'invoice', creditLimitMinor: '5000' },
        updatedBy: 'api-key:ops',
      })
      .thenCheck((events) => expect(typesOf(events)).toEqual(['payment.account_updated', 'payment.account_unblocked']));
  });

  it('the monthly statement lists the month’s CDRs (credit CDRs negative), once', () => {
    const feb = (cdrId: string, incl: string, excl: string, day: number, extra = {}) =>
      cdr(F, cdrId, `s-${cdrId}`, incl, excl, { at: `2026-02-${String(day).padStart(2, '0')}T12:00:00Z`, ...extra });
    const stmt = (month: string, id: string) =>
      ({ type: 'issue_statement', accountId: F, sourceEventId: id, at: T0, month }) as const;
    givenCommands(paymentDecider, [
      ...base,
      feb('CDR1', '8.47', '7.00', 3),
      feb('CDR2', '4.00', '3.31', 10),
      feb('CDR1-C', '-8.47', '-7.00', 11, { creditReferenceId: 'CDR1', sessionId: 's-CDR1' }),
      cdr(F, 'CDR3', 's3', '1.00', '0.83', { at: '2026-03-02T12:00:00Z' }),
    ])
      .when(stmt('2026-02', 'stmt-1'), stmt('2026-02', 'stmt-2'))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual(['payment.statement_issued']);
        const [s] = ofType(events, 'payment.statement_issued');
        expect(s.statementId).toBe(statementIdOf(F, '2026-02'));
        expect(s.lines.map((l) => [l.cdrId, l.amountMinor])).toEqual([
          ['CDR1', '847'],
          ['CDR2', '400'],
          ['CDR1-C', '-847'],
        ]);
        expect(s).toMatchObject({ total: '4.00', totalMinor: '400' });
      });
  });

  it('the month is the UTC month of the CDR', () => {
    givenCommands(paymentDecider, [...base, cdr(F, 'CDR1', 's1', '1.00', '0.83', { at: '2026-03-01T00:30:00+01:00' })])
      .when({ type: 'issue_statement', accountId: F, sourceEventId: 'st', at: T0, month: '2026-02' })
      .thenCheck((events) =>
        expect(ofType(events, 'payment.statement_issued')[0].lines.map((l) => l.cdrId)).toEqual(['CDR1']),
      );
  });

  it.each(['2026-13', '2026-2', 'feb'])('refuses the month %j', (month) => {
    givenCommands(paymentDecider, base)
      .when({ type: 'issue_statement', accountId: F, sourceEventId: 'st', at: T0, month })
      .thenError('PAYMENT_INVALID_COMMAND');
  });

  it('a receivable paid by bank transfer is settled and booked', () => {
    const g = givenCommands(paymentDecider, [...base, cdr(F, 'CDR1', 's1', '15.00', '12.40')]);
    const [r] = ofType(g.history, 'payment.receivable_opened');
    g.when({
      type: 'settle_receivable',
      accountId: F,
      sourceEventId: 'bank-1',
      at: at(100),
      receivableId: r.receivableId,
      amountMinor: 1500n,
      via: 'bank',
    }).thenCheck((events) => {
      expect(typesOf(events)).toEqual(['payment.receivable_settled', 'ledger.transfer_posted']);
      const { posted } = balancesOf(ledger([...g.history, ...events]));
      expect(posted.get('customer_receivable:EUR:fleet-1') ?? 0n).toBe(0n);
      expect(posted.get('bank:EUR')).toBe(1500n);
    });
  });
});

describe('ad-hoc (QR) payment', () => {
  const P = 'qr-7';
  const AD = adhocAccountId(P);
  const start = (source: string) =>
    ({
      type: 'start_adhoc_payment',
      accountId: AD,
      sourceEventId: source,
      at: T0,
      paymentId: P,
      stationId: 'CP-001',
      evseId: 1,
      currency: 'EUR',
      holdAmountMinor: 5000n,
    }) as const;
  const HOLD = intentIdOf('authorize', 'qr-click-1');

  it('opens the adhoc account and asks for a hosted-page hold; a double click or reload decides nothing', () => {
    givenCommands(paymentDecider, [])
      .when(start('qr-click-1'), start('qr-click-2'), start('qr-click-1'))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual(['payment.account_opened', 'payment.authorization_requested']);
        expect(events[1]).toMatchObject({ intentId: HOLD, hosted: true, sessionId: null, customerRef: null });
      });
  });

  it('paid: the hold is authorised, the session takes it, the CDR is captured from it', () => {
    givenCommands(paymentDecider, [
      start('qr-click-1'),
      outcome(AD, HOLD, psp({ paymentRef: 'pi_qr' }), 'webhook-paid'),
    ])
      .when(started(AD, 'sq', 0n), cdr(AD, 'CDRQ', 'sq', '8.47', '7.00'))
      .thenCheck((events, state) => {
        expect(ofType(events, 'payment.session_opened')[0].holdId).toBe(HOLD);
        expect(ofType(events, 'payment.authorization_requested')).toEqual([]);
        expect(ofType(events, 'payment.capture_requested')[0]).toMatchObject({
          amountMinor: '847',
          paymentRef: 'pi_qr',
          holdId: HOLD,
        });
        expect(state.holds[HOLD].sessionId).toBe('sq');
      });
  });

  it('the station never started: the hold is released (once), and voided in the ledger', () => {
    const g = givenCommands(paymentDecider, [
      start('qr-click-1'),
      outcome(AD, HOLD, psp({ paymentRef: 'pi_qr' }), 'webhook-paid'),
    ]);
    const never = (id: string) =>
      ({
        type: 'release_unused_hold',
        accountId: AD,
        sourceEventId: id,
        at: at(10),
        reason: 'station_never_started',
      }) as const;
    g.when(
      never('n1'),
      never('n2'),
      outcome(AD, intentIdOf('release', HOLD), psp({ paymentRef: 'pi_qr', status: 'canceled' }), 'psp-rel'),
    ).thenCheck((events) => {
      expect(typesOf(events)).toEqual(['payment.release_requested', 'payment.released', 'ledger.transfer_voided']);
      expect(balancesOf(ledger([...g.history, ...events])).pending.size).toBe(0);
    });
  });

  it('a hosted page abandoned (canceled before authorisation) is a failed authorisation', () => {
    givenCommands(paymentDecider, [start('qr-click-1')])
      .when(outcome(AD, HOLD, psp({ status: 'canceled', amountAuthorizedMinor: 0n }), 'webhook-canceled'))
      .thenCheck((events) => expect(typesOf(events)).toEqual(['payment.authorization_failed']));
  });

  it('refuses an ad-hoc payment under another account id', () => {
    givenCommands(paymentDecider, [])
      .when({ ...start('x'), accountId: 'acct-1' })
      .thenError('PAYMENT_INVALID_COMMAND');
  });
});

describe('payouts', () => {
  it('clearing to the bank minus fees, once per payout', () => {
    const payout = (id: string) =>
      ({
        type: 'payout_settled',
        accountId: PAYOUT_ACCOUNT_ID,
        sourceEventId: id,
        at: T0,
        payoutRef: 'po_1',
        currency: 'EUR',
        amountMinor: 99000n,
        feeMinor: 1000n,
      }) as const;
    givenCommands(paymentDecider, [])
      .when(payout('w1'), payout('w2'))
      .thenCheck((events) => {
        expect(typesOf(events)).toEqual(['payment.payout_settled', 'ledger.transfer_posted']);
        expect(ledger(events)[0].postings.map((p) => [p.account, p.amountMinor])).toEqual([
          ['bank:EUR', 99000n],
          ['psp_fees:EUR', 1000n],
          ['psp_clearing:EUR', -100000n],
        ]);
      });
  });
});
