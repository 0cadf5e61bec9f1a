import { paymentRecord } from './ledger.controller';

const at = new Date('2026-03-01T10:00:00Z');
const ev = (type: string, payload: Record<string, unknown>, seq: number) => ({
  seq: String(seq),
  event_id: `e${seq}`,
  type,
  occurred_at: at,
  account_id: 'acct-1',
  payload: { accountId: 'acct-1', currency: 'EUR', ...payload },
});

describe('the payment record of a session (from its payment events)', () => {
  it('a card session: hold, capture of the CDR, a partial refund', () => {
    const r = paymentRecord('s1', [
      ev('payment.authorization_requested', { holdId: 'h1', amountMinor: '5000' }, 1),
      ev(
        'payment.authorized',
        { holdId: 'h1', paymentRef: 'pi_1', amountMinor: '5000', holdExpiresAt: '2026-03-08T10:00:00Z' },
        2,
      ),
      ev(
        'payment.cdr_recorded',
        { cdrId: 'C1', credit: false, totalInclVat: '8.47', totalInclVatMinor: '847', method: 'card' },
        3,
      ),
      ev('payment.captured', { intentId: 'i2', cdrId: 'C1', amount: '8.47', amountMinor: '847' }, 4),
      ev('payment.refunded', { intentId: 'i3', cdrId: 'C2', amount: '2.42', amountMinor: '242' }, 5),
    ]);
    expect(r).toMatchObject({
      sessionId: 's1',
      accountId: 'acct-1',
      currency: 'EUR',
      status: 'partially_refunded',
      capturedMinor: '847',
      refundedMinor: '242',
      hold: { holdId: 'h1', paymentRef: 'pi_1', requestedMinor: '5000', authorizedMinor: '5000', status: 'captured' },
    });
    expect(r.captures).toHaveLength(1);
    expect(r.cdrs).toHaveLength(1);
  });

  it('a declined hold: declined, the failure and the stop request recorded', () => {
    const r = paymentRecord('s2', [
      ev('payment.authorization_requested', { holdId: 'h2', amountMinor: '5000' }, 1),
      ev('payment.authorization_failed', { holdId: 'h2', code: 'card_declined', message: 'declined' }, 2),
      ev('payment.session_stop_requested', { reason: 'authorization_failed' }, 3),
    ]);
    expect(r).toMatchObject({
      status: 'declined',
      hold: { status: 'declined' },
      stopRequested: { reason: 'authorization_failed' },
    });
    expect(r.failures).toEqual([expect.objectContaining({ code: 'card_declined' })]);
  });

  it('a wallet session and an invoice session', () => {
    expect(
      paymentRecord('s3', [ev('payment.wallet_debited', { cdrId: 'C3', amount: '8.47', amountMinor: '847' }, 1)]),
    ).toMatchObject({
      status: 'paid_by_wallet',
      walletDebits: [expect.objectContaining({ amountMinor: '847' })],
    });
    expect(
      paymentRecord('s4', [
        ev('payment.receivable_opened', { receivableId: 'r1', cdrId: 'C4', amountMinor: '847', reason: 'invoice' }, 1),
      ]),
    ).toMatchObject({ status: 'receivable', receivables: [expect.objectContaining({ reason: 'invoice' })] });
  });
});
