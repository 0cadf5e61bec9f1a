import { SettlementReportError, parseSettlementReport, payoutsOf } from './settlement-report';

const HEADER =
  'balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,payment_intent_id,automatic_payout_id,automatic_payout_effective_at_utc,description';
const file = (...lines: string[]) => [HEADER, ...lines].join('\r\n') + '\r\n';
const CHARGE =
  'txn_1,2026-03-01 10:05:00,2026-03-01 10:05:00,eur,8.47,0.37,8.10,charge,ch_1,pi_1,po_1,2026-03-02 00:00:00,"Payment for pi_1, card"';
const REFUND = 'txn_2,2026-03-01 11:00:00,,eur,-1.47,0.00,-1.47,refund,re_1,pi_1,po_1,2026-03-02 00:00:00,Refund';

function refusal(text: string): SettlementReportError {
  try {
    parseSettlementReport(text);
  } catch (e) {
    expect(e).toBeInstanceOf(SettlementReportError);
    return e as SettlementReportError;
  }
  throw new Error('accepted');
}

describe('settlement report (itemized payout reconciliation CSV)', () => {
  it('reads charges and refunds exactly, in minor units, with their payout', () => {
    const lines = parseSettlementReport(file(CHARGE, REFUND));
    expect(lines).toEqual([
      expect.objectContaining({
        line: 2,
        balanceTransactionId: 'txn_1',
        createdAt: '2026-03-01T10:05:00.000Z',
        currency: 'EUR',
        category: 'charge',
        grossMinor: 847n,
        feeMinor: 37n,
        netMinor: 810n,
        paymentRef: 'pi_1',
        payoutRef: 'po_1',
      }),
      expect.objectContaining({ line: 3, category: 'refund', grossMinor: -147n, availableOn: null }),
    ]);
    expect(payoutsOf(lines)).toEqual([
      {
        payoutRef: 'po_1',
        currency: 'EUR',
        grossMinor: 700n,
        feeMinor: 37n,
        amountMinor: 663n,
        effectiveAt: '2026-03-02T00:00:00.000Z',
      },
    ]);
  });

  it('a zero-decimal currency in its own units', () => {
    const [l] = parseSettlementReport(file('txn_9,2026-03-01 10:05:00,,jpy,1200,30,1170,charge,ch_9,pi_9,,,'));
    expect([l.grossMinor, l.feeMinor, l.payoutRef]).toEqual([1200n, 30n, null]);
  });

  it.each([
    [
      'a gross that does not minus the fee to the net',
      file(CHARGE.replace(',8.10,', ',8.11,')),
      'SETTLEMENT_LINE_UNBALANCED',
      'csv/line/2/net',
    ],
    [
      'more decimals than the currency',
      file(CHARGE.replace(',8.47,0.37,8.10,', ',8.471,0.371,8.100,')),
      'SETTLEMENT_VALUE_INVALID',
      'csv/line/2/gross',
    ],
    [
      'a bad time',
      file(REFUND, CHARGE.replace('2026-03-01 10:05:00,2026', '2026-02-30 10:05:00,2026')),
      'SETTLEMENT_VALUE_INVALID',
      'csv/line/3/created_utc',
    ],
    [
      'a payout line',
      file(CHARGE.replace(',charge,', ',payout,')),
      'SETTLEMENT_CATEGORY_UNSUPPORTED',
      'csv/line/2/reporting_category',
    ],
    [
      'a balance transaction twice',
      file(CHARGE, CHARGE),
      'SETTLEMENT_DUPLICATE_LINE',
      'csv/line/3/balance_transaction_id',
    ],
    [
      'no net column',
      'balance_transaction_id,created_utc,currency,gross,fee,reporting_category,payment_intent_id,automatic_payout_id\r\n',
      'SETTLEMENT_COLUMN_MISSING',
      'csv/line/1/net',
    ],
    ['an unknown currency', file(CHARGE.replace(',eur,', ',xyz,')), 'SETTLEMENT_VALUE_INVALID', 'csv/line/2/currency'],
    [
      'an id with a space',
      file(CHARGE.replace('pi_1,po_1', 'pi 1,po_1')),
      'SETTLEMENT_VALUE_INVALID',
      'csv/line/2/payment_intent_id',
    ],
    ['a short row', file(CHARGE, 'txn_3,2026-03-01 10:05:00'), 'SETTLEMENT_CSV_INVALID', 'csv/line/3'],
    ['an unclosed quote', file(CHARGE, 'txn_4,"2026-03-01 10:05:00'), 'SETTLEMENT_CSV_INVALID', 'csv'],
    ['nothing', '', 'SETTLEMENT_EMPTY', 'csv'],
  ])('refuses %s, naming the line and column', (_what, text, code, field) => {
    const e = refusal(text);
    expect(e.code).toBe(code);
    expect(e.field?.startsWith(field)).toBe(true);
  });
});
