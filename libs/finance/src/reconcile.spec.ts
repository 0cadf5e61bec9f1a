import { reconcile, reconciliationAsOf, type ReconCdr, type ReconPaymentFact, type ReconSession } from './reconcile';

const T0 = '2026-03-01T10:00:00.000Z';
const AS_OF = '2026-03-05T00:00:00.000Z';
const opts = { asOf: AS_OF, unsettledDays: 3, graceSeconds: 3600 };
const base = (sourceEventId: string, accountId = 'acct-1') => ({ accountId, sourceEventId, at: T0 });

/** One card session paid in full, recorded everywhere: 8.47 EUR, 12 kWh. */
function cleanSession(n: number) {
  const s = `00000000-0000-5000-8000-00000000000${n}`;
  const cdrId = `CDR${n}`;
  const ref = `pi_${n}`;
  const sessions: ReconSession[] = [{ sessionId: s, endedAt: T0, energyKwh: '12' }];
  const cdrs: ReconCdr[] = [
    { cdrId, sessionId: s, credit: false, currency: 'EUR', energyKwh: '12.000', gross: '8.47' },
  ];
  const payments: ReconPaymentFact[] = [
    { ...base(`auth-${n}`), type: 'payment.authorized', paymentRef: ref, sessionId: s },
    {
      ...base(`cdr-${n}`),
      type: 'payment.cdr_recorded',
      cdrId,
      sessionId: s,
      credit: false,
      currency: 'EUR',
      totalInclVatMinor: '847',
      method: 'card',
    },
    {
      ...base(`cdr-${n}`),
      type: 'ledger.transfer_posted',
      reason: 'cdr',
      currency: 'EUR',
      postings: [
        { account: 'customer_receivable:EUR:acct-1', amountMinor: '847' },
        { account: 'revenue_net:EUR', amountMinor: '-700' },
        { account: 'vat_payable:EUR', amountMinor: '-147' },
      ],
    },
    {
      ...base(`cap-${n}`),
      type: 'payment.captured',
      intentId: `cap-intent-${n}`,
      holdId: `hold-${n}`,
      paymentRef: ref,
      sessionId: s,
      cdrId,
      currency: 'EUR',
      amountMinor: '847',
    },
    {
      ...base(`cap-${n}`),
      type: 'ledger.transfer_posted',
      reason: 'capture',
      currency: 'EUR',
      postings: [
        { account: 'psp_clearing:EUR', amountMinor: '847' },
        { account: 'customer_receivable:EUR:acct-1', amountMinor: '-847' },
      ],
    },
    {
      ...base(`line-${n}`, 'platform'),
      type: 'payment.settlement_line_recorded',
      balanceTransactionId: `txn_${n}`,
      category: 'charge',
      paymentRef: ref,
      currency: 'EUR',
      grossMinor: '847',
      payoutRef: 'po_1',
    },
  ];
  return { sessions, cdrs, payments, s, cdrId, ref };
}
const REPORT: ReconPaymentFact = {
  ...base('report', 'platform'),
  at: '2026-03-02T00:00:00.000Z',
  type: 'payment.settlement_report_imported',
  reportId: 'r1',
  intervalStart: '2026-03-01T00:00:00.000Z',
  intervalEnd: '2026-03-02T00:00:00.000Z',
};

function world(...parts: Array<ReturnType<typeof cleanSession>>) {
  return {
    sessions: parts.flatMap((p) => p.sessions),
    cdrs: parts.flatMap((p) => p.cdrs),
    payments: [...parts.flatMap((p) => p.payments), REPORT],
  };
}
const reasons = (w: ReturnType<typeof world>) => reconcile(w, opts).map((b) => [b.reason, b.sessionId, b.paymentRef]);

describe('three-way reconciliation', () => {
  it('sessions recorded alike everywhere give no break', () => {
    expect(reconcile(world(cleanSession(1), cleanSession(2)), opts)).toEqual([]);
  });

  it('the run is as of the latest report end, else the newest fact', () => {
    expect(reconciliationAsOf(world(cleanSession(1)).payments)).toBe('2026-03-02T00:00:00.000Z');
    expect(reconciliationAsOf(cleanSession(1).payments)).toBe(T0);
    expect(reconciliationAsOf([])).toBeNull();
  });

  it('a capture the PSP never booked: MISSING_CAPTURE', () => {
    const a = cleanSession(1);
    a.payments = a.payments.filter((p) => p.type !== 'payment.settlement_line_recorded');
    expect(reasons(world(a))).toEqual([['MISSING_CAPTURE', a.s, a.ref]]);
  });

  it('a capture the PSP booked twice: DOUBLE_CAPTURE', () => {
    const a = cleanSession(1);
    const line = a.payments.find((p) => p.type === 'payment.settlement_line_recorded')!;
    a.payments.push({ ...line, balanceTransactionId: 'txn_dup' } as ReconPaymentFact);
    expect(reasons(world(a))).toEqual([['DOUBLE_CAPTURE', a.s, a.ref]]);
  });

  it('a PSP line of another amount than the capture: AMOUNT_MISMATCH with both amounts', () => {
    const a = cleanSession(1);
    a.payments = a.payments.map((p) =>
      p.type === 'payment.settlement_line_recorded' ? { ...p, grossMinor: '857' } : p,
    );
    expect(reconcile(world(a), opts)).toEqual([
      expect.objectContaining({ reason: 'AMOUNT_MISMATCH', paymentRef: a.ref, expected: '847', actual: '857' }),
    ]);
  });

  it('a card CDR with no capture: MISSING_CAPTURE (the PSP line of it is then unknown to us)', () => {
    const a = cleanSession(1);
    a.payments = a.payments.filter(
      (p) =>
        p.type !== 'payment.captured' && p.type !== 'payment.settlement_line_recorded' && p.sourceEventId !== 'cap-1',
    );
    expect(reasons(world(a))).toEqual([['MISSING_CAPTURE', a.s, null]]);
  });

  it('a session without CDR: MISSING_CDR, only after the grace', () => {
    const w = world(cleanSession(1));
    w.sessions.push({ sessionId: 'lonely', endedAt: T0, energyKwh: '1' });
    expect(reasons(w)).toEqual([['MISSING_CDR', 'lonely', null]]);
    w.sessions[1].endedAt = '2026-03-04T23:30:00.000Z';
    expect(reasons(w)).toEqual([]);
  });

  it("the CDR's energy differs from the meter's: ENERGY_MISMATCH", () => {
    const a = cleanSession(1);
    a.sessions[0].energyKwh = '12.5';
    expect(reconcile(world(a), opts)).toEqual([
      expect.objectContaining({ reason: 'ENERGY_MISMATCH', expected: '12.5', actual: '12' }),
    ]);
  });

  it('a refund without a credit CDR: REFUND_WITHOUT_CREDIT, once per session (ours and the PSP line), and the shortfall', () => {
    const a = cleanSession(1);
    a.payments.push(
      {
        ...base('ref-1'),
        type: 'payment.refunded',
        intentId: 'refund-intent',
        paymentRef: a.ref,
        sessionId: a.s,
        cdrId: 'CDR1',
        currency: 'EUR',
        amountMinor: '100',
      },
      {
        ...base('line-r', 'platform'),
        type: 'payment.settlement_line_recorded',
        balanceTransactionId: 'txn_r',
        category: 'refund',
        paymentRef: a.ref,
        currency: 'EUR',
        grossMinor: '-100',
        payoutRef: null,
      },
    );
    // once per session, and the session is now paid less than its CDR is due
    expect(reasons(world(a))).toEqual([
      ['AMOUNT_MISMATCH', a.s, a.ref],
      ['REFUND_WITHOUT_CREDIT', a.s, a.ref],
    ]);
  });

  it('a PSP charge not paid out N days after: UNSETTLED_AFTER_N_DAYS (event time, against asOf)', () => {
    const a = cleanSession(1);
    a.payments = a.payments.map((p) => (p.type === 'payment.settlement_line_recorded' ? { ...p, payoutRef: null } : p));
    expect(reasons(world(a))).toEqual([['UNSETTLED_AFTER_N_DAYS', a.s, a.ref]]);
    expect(reconcile(world(a), { ...opts, asOf: '2026-03-03T00:00:00.000Z' })).toEqual([]);
    // recorded again once paid out: settled
    a.payments.push({
      ...(a.payments.find((p) => p.type === 'payment.settlement_line_recorded') as ReconPaymentFact),
      payoutRef: 'po_2',
    } as ReconPaymentFact);
    expect(reasons(world(a))).toEqual([]);
  });

  it('a capture posted to the ledger for another amount: LEDGER_MISMATCH', () => {
    const a = cleanSession(1);
    a.payments = a.payments.map((p) =>
      p.type === 'ledger.transfer_posted' && p.reason === 'capture'
        ? { ...p, postings: [{ ...p.postings[0], amountMinor: '800' }, p.postings[1]] }
        : p,
    );
    expect(reasons(world(a))).toEqual([['LEDGER_MISMATCH', a.s, a.ref]]);
  });

  it('a PSP line of a payment nobody here knows: UNKNOWN_PSP_PAYMENT', () => {
    const w = world(cleanSession(1));
    w.payments.push({
      ...base('stray', 'platform'),
      type: 'payment.settlement_line_recorded',
      balanceTransactionId: 'txn_x',
      category: 'charge',
      paymentRef: 'pi_stranger',
      currency: 'EUR',
      grossMinor: '100',
      payoutRef: 'po_1',
    });
    expect(reasons(w)).toEqual([['UNKNOWN_PSP_PAYMENT', null, 'pi_stranger']]);
  });

  it('the answer does not depend on the order of the facts; ids are derived, stable', () => {
    const a = cleanSession(1);
    a.payments = a.payments.filter((p) => p.type !== 'payment.settlement_line_recorded');
    const b = cleanSession(2);
    b.sessions[0].energyKwh = '13';
    const w = world(a, b);
    const one = reconcile(w, opts);
    const two = reconcile(
      { sessions: [...w.sessions].reverse(), cdrs: [...w.cdrs].reverse(), payments: [...w.payments].reverse() },
      opts,
    );
    expect(two).toEqual(one);
    expect(one.map((x) => x.reason)).toEqual(['ENERGY_MISMATCH', 'MISSING_CAPTURE']);
    expect(one[0].breakId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
