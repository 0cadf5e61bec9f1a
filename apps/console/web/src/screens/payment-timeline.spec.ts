import type { PaymentRecord, SessionJournal } from '../api/views';
import { minorToMajor, paymentTimeline } from './payment-timeline';

const record = (over: Partial<PaymentRecord>): PaymentRecord => ({
  sessionId: 's1',
  accountId: 'acct-1',
  currency: 'EUR',
  status: 'captured',
  hold: null,
  cdrs: [],
  captures: [],
  releases: [],
  refunds: [],
  walletDebits: [],
  walletCredits: [],
  receivables: [],
  failures: [],
  stopRequested: null,
  capturedMinor: '0',
  refundedMinor: '0',
  ...over,
});

const transfer = (reason: string, at: string, clearing: string) => ({
  transferId: `t-${reason}-${at}`,
  currency: 'EUR',
  state: reason === 'hold' ? 'posted' : 'posted',
  initialState: reason === 'hold' ? 'pending' : 'posted',
  pendingId: null,
  reason,
  accountId: 'acct-1',
  sessionId: 's1',
  sourceEventId: 'e',
  eventId: 'e',
  at,
  postings: [
    { account: 'psp_clearing:EUR', amountMinor: clearing },
    { account: 'customer_receivable:EUR:acct-1', amountMinor: `-${clearing}` },
  ],
});

describe('payment timeline', () => {
  it('minor units as major units, by the currency’s exponent', () => {
    expect(minorToMajor('484', 'EUR')).toBe('4.84');
    expect(minorToMajor('5', 'EUR')).toBe('0.05');
    expect(minorToMajor('-242', 'EUR')).toBe('-2.42');
    expect(minorToMajor('7000', 'JPY')).toBe('7000');
    expect(minorToMajor('15000', 'KWD')).toBe('15.000');
    expect(minorToMajor(null, 'EUR')).toBe('—');
  });

  it('hold → raised → CDR → capture → release → refund, in the order a payment goes, whatever the clocks say', () => {
    const journal: SessionJournal = {
      sessionId: 's1',
      balanced: true,
      posted: [],
      transfers: [
        transfer('hold', '2026-03-01T10:00:01.000Z', '5000'),
        transfer('hold', '2026-03-01T11:00:00.000Z', '7500'),
        transfer('capture', '2026-03-01T12:00:02.000Z', '484'),
      ],
    };
    const steps = paymentTimeline(
      record({
        hold: {
          holdId: 'h1',
          paymentRef: 'pi_1',
          requestedMinor: '5000',
          authorizedMinor: '7500',
          expiresAt: null,
          status: 'captured',
        },
        refunds: [{ intentId: 'i3', cdrId: 'c2', amount: '2.42', amountMinor: '242', at: '2026-03-02T09:00:00.000Z' }],
        releases: [{ intentId: 'i2', amountMinor: '7016', at: '2026-03-01T12:00:03.000Z' }],
        // the PSP's answer in the service's time, before the CDR's station time of the session end
        captures: [{ intentId: 'i1', cdrId: 'c1', amount: '4.84', amountMinor: '484', at: '2026-03-01T11:59:02.000Z' }],
        cdrs: [
          {
            cdrId: 'c1',
            credit: false,
            totalInclVat: '4.84',
            totalInclVatMinor: '484',
            method: 'card',
            at: '2026-03-01T12:00:00.000Z',
          },
        ],
      }),
      journal,
    );
    expect(steps.map((s) => [s.kind, s.amountMinor])).toEqual([
      ['hold_requested', '5000'],
      ['hold_authorized', '5000'],
      ['hold_increased', '7500'],
      ['cdr', '484'],
      ['capture', '484'],
      ['release', '7016'],
      ['refund', '242'],
    ]);
  });

  it('a partial capture releases the rest of the hold', () => {
    const steps = paymentTimeline(
      record({
        hold: {
          holdId: 'h1',
          paymentRef: 'pi_1',
          requestedMinor: '5000',
          authorizedMinor: '5000',
          expiresAt: null,
          status: 'captured',
        },
        captures: [{ intentId: 'i1', cdrId: 'c1', amount: '3.62', amountMinor: '362', at: '2026-03-01T12:00:02.000Z' }],
        capturedMinor: '362',
      }),
    );
    expect(steps.map((s) => [s.kind, s.amountMinor])).toEqual([
      ['hold_requested', '5000'],
      ['hold_authorized', '5000'],
      ['capture', '362'],
      ['release', '4638'],
    ]);
  });

  it('a declined hold and the remote stop; without a journal the authorisation has no time', () => {
    const steps = paymentTimeline(
      record({
        hold: {
          holdId: 'h1',
          paymentRef: null,
          requestedMinor: '5000',
          authorizedMinor: null,
          expiresAt: null,
          status: 'declined',
        },
        failures: [{ type: 'payment.authorization_failed', code: 'card_declined', at: '2026-03-01T10:00:02.000Z' }],
        stopRequested: { reason: 'authorization_failed', at: '2026-03-01T10:00:02.000Z' },
      }),
    );
    expect(steps.map((s) => [s.kind, s.tone])).toEqual([
      ['hold_requested', 'info'],
      ['failure', 'bad'],
      ['stop_requested', 'bad'],
    ]);
    expect(steps[1].label).toBe('hold declined (card_declined)');
  });
});
