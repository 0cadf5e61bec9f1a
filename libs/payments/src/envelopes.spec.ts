import { systemCatalogue } from '@csms/contracts';
import { handleAll } from '@csms/kernel';
import { PAYOUT_ACCOUNT_ID, adhocAccountId, fromPaymentEnvelope, paymentEventId, toPaymentEnvelope } from './envelopes';
import { paymentDecider } from './payment-decider';
import { intentIdOf } from './state';
import { T0, cdr, open, outcome, psp, started } from './spec-helpers';
import { pspResultOf, type PaymentCommand } from './types';

const catalogue = systemCatalogue();

describe('payment.events envelopes', () => {
  const AD = adhocAccountId('qr-1');
  const commands: PaymentCommand[] = [
    {
      type: 'start_adhoc_payment',
      accountId: AD,
      sourceEventId: 'click',
      at: T0,
      paymentId: 'qr-1',
      stationId: 'CP-001',
      evseId: 1,
      currency: 'EUR',
      holdAmountMinor: 5000n,
    },
    outcome(AD, intentIdOf('authorize', 'click'), psp(), 'paid'),
    started(AD, 's1', 0n),
    cdr(AD, 'CDR1', 's1', '8.47', '7.00'),
  ];

  it('every event of an ad-hoc payment is a valid envelope keyed by the account, and reads back as the event', () => {
    const { events } = handleAll(paymentDecider, commands);
    expect(events.length).toBeGreaterThan(5);
    events.forEach((e, i) => {
      const env = toPaymentEnvelope(catalogue, e, {
        ordinal: i,
        source: 'payment-service',
        causationId: e.sourceEventId,
      });
      expect(env).toMatchObject({ key: AD, type: e.type, version: 1, occurredAt: e.at, id: paymentEventId(e, i) });
      expect(fromPaymentEnvelope(catalogue.decode(catalogue.encode(env)))).toEqual(e);
    });
  });

  it('ids are derived: the same decision gives the same envelope ids', () => {
    const a = handleAll(paymentDecider, commands).events.map((e, i) => paymentEventId(e, i));
    const b = handleAll(paymentDecider, commands).events.map((e, i) => paymentEventId(e, i));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
  });

  it('a payout and an invoice statement are valid envelopes too', () => {
    const { events } = handleAll(paymentDecider, [
      {
        type: 'payout_settled',
        accountId: PAYOUT_ACCOUNT_ID,
        sourceEventId: 'po',
        at: T0,
        payoutRef: 'po_1',
        currency: 'JPY',
        amountMinor: 99000n,
        feeMinor: 1000n,
      },
    ]);
    const inv = handleAll(paymentDecider, [
      open('fleet', { kind: 'invoice', creditLimitMinor: '100' }),
      cdr('fleet', 'CDR1', 's1', '8.47', '7.00', { at: '2026-02-10T10:00:00Z' }),
      { type: 'issue_statement', accountId: 'fleet', sourceEventId: 'st', at: T0, month: '2026-02' },
    ]).events;
    for (const [i, e] of [...events, ...inv].entries()) {
      expect(() => toPaymentEnvelope(catalogue, e, { ordinal: i, source: 'payment-service' })).not.toThrow();
    }
    expect(inv.map((e) => e.type)).toContain('payment.statement_issued');
  });

  it('refuses an envelope that is not a payment event', () => {
    expect(() =>
      fromPaymentEnvelope({
        id: 'x',
        type: 'cdr.created',
        version: 3,
        occurredAt: T0,
        key: 'k',
        source: 's',
        causationId: null,
        correlationId: null,
        payload: {},
      }),
    ).toThrow(expect.objectContaining({ code: 'PAYMENT_UNKNOWN_EVENT' }));
  });
});

describe('pspResultOf', () => {
  it("takes the provider port's answers as they are", () => {
    const payment = psp();
    expect(pspResultOf(payment)).toEqual({ kind: 'payment', payment });
    const refund = { refundRef: 're_1', paymentRef: 'pi_1', amountMinor: 5n, status: 'succeeded' as const };
    expect(pspResultOf(refund)).toEqual({ kind: 'refund', refund });
    expect(pspResultOf({ declined: true, code: 'card_declined', message: 'no', paymentRef: null })).toEqual({
      kind: 'decline',
      code: 'card_declined',
      message: 'no',
      paymentRef: null,
    });
  });
});
