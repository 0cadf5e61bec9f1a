/**
 * The settlement report import on the real PostgreSQL and Kafka: lines and the import as events, the payout to the
 * ledger through the decider (clearing to bank and fees), idempotent by report id and by balance transaction; a line
 * first seen not paid out is recorded again once paid out; a bad file or a conflicting line stores nothing.
 */
import { silentLogger } from '@csms/platform';
import { rebuildPaymentService } from '../src/rebuild';
import { PaymentHarness, finance, type Json } from './harness';

const HEADER =
  'balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,payment_intent_id,automatic_payout_id,automatic_payout_effective_at_utc';
const file = (...lines: string[]) => [HEADER, ...lines].join('\r\n') + '\r\n';
const interval = { intervalStart: '2026-03-01T00:00:00Z', intervalEnd: '2026-03-02T00:00:00Z' };

describe('payment service: settlement reports (real Kafka, PostgreSQL)', () => {
  const h = new PaymentHarness();

  beforeAll(() => h.start(), 120_000);
  afterAll(() => h.stop(), 60_000);

  const count = async (type: string) =>
    Number((await h.query<{ n: string }>('select count(*) as n from payment_events where type = $1', [type]))[0].n);
  const rows = async () => Number((await h.query<{ n: string }>('select count(*) as n from payment_events'))[0].n);

  it('imports lines and payouts once; the payout moves clearing to bank and fees; the books balance', async () => {
    const csv = file(
      'txn_a1,2026-03-01 10:00:00,2026-03-01 10:00:00,eur,8.47,0.37,8.10,charge,ch_a1,pi_a1,po_a,2026-03-01 20:00:00',
      'txn_a2,2026-03-01 11:00:00,2026-03-01 11:00:00,eur,-1.47,0.00,-1.47,refund,re_a2,pi_a1,po_a,2026-03-01 20:00:00',
      'txn_a3,2026-03-01 12:00:00,2026-03-01 12:00:00,eur,5.00,0.32,4.68,charge,ch_a3,pi_a3,,',
    );
    const r = await h.api<Json>('POST', '/settlements', { reportId: 'rep-a', ...interval, csv });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      duplicate: false,
      lines: 3,
      linesNew: 3,
      payouts: [{ payoutRef: 'po_a', currency: 'EUR', amountMinor: '663', feeMinor: '37', grossMinor: '700' }],
    });
    expect(await count('payment.settlement_line_recorded')).toBe(3);
    expect(await count('payment.settlement_report_imported')).toBe(1);
    expect(await count('payment.payout_settled')).toBe(1);
    const postings = await h.query<{ account: string; amount_minor: string }>(
      `select p.account, p.amount_minor::text from ledger_postings p join ledger_transfers t using (transfer_id)
        where t.reason = 'payout' order by p.account`,
    );
    expect(postings).toEqual([
      { account: 'bank:EUR', amount_minor: '663' },
      { account: 'psp_clearing:EUR', amount_minor: '-700' },
      { account: 'psp_fees:EUR', amount_minor: '37' },
    ]);
    await h.checkBooks();

    // the same report: nothing new
    const before = await rows();
    const again = await h.api<Json>('POST', '/settlements', { reportId: 'rep-a', ...interval, csv });
    expect([again.status, again.body.duplicate]).toEqual([201, true]);
    expect(await rows()).toBe(before);

    // a later report: txn_a3 now paid out (recorded again), txn_a1 as it was (not again), a new payout posted once
    const later = await h.api<Json>('POST', '/settlements', {
      reportId: 'rep-b',
      intervalStart: '2026-03-01T00:00:00Z',
      intervalEnd: '2026-03-03T00:00:00Z',
      csv: file(
        'txn_a1,2026-03-01 10:00:00,2026-03-01 10:00:00,eur,8.47,0.37,8.10,charge,ch_a1,pi_a1,po_a,2026-03-01 20:00:00',
        'txn_a3,2026-03-01 12:00:00,2026-03-01 12:00:00,eur,5.00,0.32,4.68,charge,ch_a3,pi_a3,po_b,2026-03-02 20:00:00',
      ),
    });
    expect(later.status).toBe(201);
    expect(later.body).toMatchObject({ lines: 2, linesNew: 1 });
    expect(await count('payment.settlement_line_recorded')).toBe(4);
    // po_a named again is not booked twice; po_b is
    expect(await count('payment.payout_settled')).toBe(2);
    await h.checkBooks();
    await h.settled();
  });

  it.each([
    [
      'the same report id with another file',
      { reportId: 'rep-a', csv: file() },
      409,
      'SETTLEMENT_REPORT_CONFLICT',
      'body/reportId',
    ],
    [
      'a balance transaction with other figures',
      {
        reportId: 'rep-c',
        csv: file('txn_a1,2026-03-01 10:00:00,,eur,8.57,0.37,8.20,charge,ch_a1,pi_a1,po_a,2026-03-01 20:00:00'),
      },
      409,
      'SETTLEMENT_LINE_CONFLICT',
      'body/csv/line/2/balance_transaction_id',
    ],
    [
      'a balance transaction under another payout',
      {
        reportId: 'rep-d',
        csv: file('txn_a3,2026-03-01 12:00:00,,eur,5.00,0.32,4.68,charge,ch_a3,pi_a3,po_z,2026-03-02 20:00:00'),
      },
      409,
      'SETTLEMENT_LINE_CONFLICT',
      'body/csv/line/2/balance_transaction_id',
    ],
    [
      'an unbalanced line',
      { reportId: 'rep-e', csv: file('txn_e1,2026-03-01 10:00:00,,eur,8.47,0.37,8.00,charge,ch_e1,pi_e1,,') },
      400,
      'SETTLEMENT_LINE_UNBALANCED',
      'body/csv/line/2/net',
    ],
    [
      'an interval that ends before it starts',
      { reportId: 'rep-f', csv: file(), intervalEnd: '2026-02-01T00:00:00Z' },
      400,
      'SETTLEMENT_INTERVAL_INVALID',
      'body/intervalEnd',
    ],
  ])('refuses %s, storing nothing', async (_what, patch, status, code, field) => {
    const before = await rows();
    const r = await h.api<Json>('POST', '/settlements', { ...interval, ...patch });
    expect([r.status, r.body.code, r.body.field]).toEqual([status, code, field]);
    expect(await rows()).toBe(before);
  });

  /** the report as the PSP exports it: the file as a text/csv body, the rest in the query */
  const upload = async (query: string, csv: string | Buffer, contentType = 'text/csv') => {
    const r = await fetch(`${h.svc.url}/api/v1/settlements${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${finance.key}`, 'content-type': contentType },
      body: csv,
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const q = (reportId: string, end = '2026-03-03T00:00:00Z') =>
    `?reportId=${reportId}&intervalStart=2026-03-02T00:00:00Z&intervalEnd=${encodeURIComponent(end)}`;
  const csvC = file(
    'txn_c1,2026-03-02 09:00:00,2026-03-02 09:00:00,eur,10.00,0.40,9.60,charge,ch_c1,pi_c1,po_c,2026-03-02 21:00:00',
  );

  it('imports the report uploaded as the CSV file itself (text/csv, UTF-8), the same as in a JSON body', async () => {
    const r = await upload(q('rep-csv'), csvC, 'text/csv; charset=utf-8');
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      duplicate: false,
      reportId: 'rep-csv',
      lines: 1,
      linesNew: 1,
      payouts: [{ payoutRef: 'po_c', currency: 'EUR', amountMinor: '960', feeMinor: '40', grossMinor: '1000' }],
    });
    expect(await count('payment.payout_settled')).toBe(3);
    await h.checkBooks();
    // the same file again, and the same report in a JSON body: one import
    const before = await rows();
    expect((await upload(q('rep-csv'), csvC)).body.duplicate).toBe(true);
    const json = await h.api<Json>('POST', '/settlements', {
      reportId: 'rep-csv',
      intervalStart: '2026-03-02T00:00:00Z',
      intervalEnd: '2026-03-03T00:00:00Z',
      csv: csvC,
    });
    expect([json.status, json.body.duplicate]).toEqual([201, true]);
    expect(await rows()).toBe(before);
    await h.settled();
  });

  it.each([
    [
      'no report id',
      '?intervalStart=2026-03-02T00:00:00Z&intervalEnd=2026-03-03T00:00:00Z',
      csvC,
      'text/csv',
      400,
      'VALIDATION_FAILED',
      'query/reportId',
    ],
    [
      'an interval end that is not an instant',
      q('rep-g', 'tomorrow'),
      csvC,
      'text/csv',
      400,
      'VALIDATION_FAILED',
      'query/intervalEnd',
    ],
    [
      'an unknown query parameter',
      `${q('rep-g')}&format=csv`,
      csvC,
      'text/csv',
      400,
      'VALIDATION_FAILED',
      'query/format',
    ],
    [
      'the same report id with another file',
      q('rep-csv'),
      file(),
      'text/csv',
      409,
      'SETTLEMENT_REPORT_CONFLICT',
      'query/reportId',
    ],
    [
      'an interval that ends before it starts',
      q('rep-g', '2026-03-01T00:00:00Z'),
      csvC,
      'text/csv',
      400,
      'SETTLEMENT_INTERVAL_INVALID',
      'query/intervalEnd',
    ],
    [
      'an unbalanced line',
      q('rep-g'),
      file('txn_g1,2026-03-02 10:00:00,,eur,8.47,0.37,8.00,charge,ch_g1,pi_g1,,'),
      'text/csv',
      400,
      'SETTLEMENT_LINE_UNBALANCED',
      'body/line/2/net',
    ],
    ['a file in Latin-1', q('rep-g'), csvC, 'text/csv; charset=iso-8859-1', 415, 'UNSUPPORTED_CHARSET', 'Content-Type'],
    ['plain text', q('rep-g'), csvC, 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type'],
    [
      'a file over 4,000,000 bytes',
      q('rep-g'),
      Buffer.alloc(4_000_001, 'a'),
      'text/csv',
      413,
      'PAYLOAD_TOO_LARGE',
      'body',
    ],
  ])('a CSV upload: refuses %s, storing nothing', async (_what, query, body, type, status, code, field) => {
    const before = await rows();
    const r = await upload(query, body, type);
    expect([r.status, r.body.code, r.body.field]).toEqual([status, code, field]);
    expect(await rows()).toBe(before);
  });

  it('a JSON body names the report in the body, not in the query', async () => {
    const before = await rows();
    const r = await h.api<Json>('POST', `/settlements${q('rep-h')}`, { reportId: 'rep-h', ...interval, csv: csvC });
    expect([r.status, r.body.code, r.body.field]).toEqual([400, 'VALIDATION_FAILED', 'query/reportId']);
    expect(await rows()).toBe(before);
  });

  it('lists the imported reports, newest first', async () => {
    const r = await h.api<{ items: Array<{ reportId: string }> }>('GET', '/settlements?limit=2');
    expect(r.body.items.map((i) => i.reportId)).toEqual(['rep-csv', 'rep-b']);
  });

  it('a rebuild from payment.events gives the same lines, imports and payout transfers; a re-import is still a duplicate', async () => {
    await h.settled();
    const state = async () => ({
      events: await h.query('select event_id, type, payload from payment_events order by event_id'),
      transfers: await h.query(
        `select t.transfer_id, p.account, p.amount_minor::text from ledger_transfers t join ledger_postings p using (transfer_id)
          order by t.transfer_id, p.account`,
      ),
    });
    const before = await state();
    await h.svc.stop();
    await rebuildPaymentService(h.cfg, silentLogger());
    await h.startService();
    await h.settled();
    expect(await state()).toEqual(before);
    const r = await h.api<Json>('POST', '/settlements', {
      reportId: 'rep-b',
      intervalStart: '2026-03-01T00:00:00Z',
      intervalEnd: '2026-03-03T00:00:00Z',
      csv: file(
        'txn_a1,2026-03-01 10:00:00,2026-03-01 10:00:00,eur,8.47,0.37,8.10,charge,ch_a1,pi_a1,po_a,2026-03-01 20:00:00',
        'txn_a3,2026-03-01 12:00:00,2026-03-01 12:00:00,eur,5.00,0.32,4.68,charge,ch_a3,pi_a3,po_b,2026-03-02 20:00:00',
      ),
    });
    expect(r.body.duplicate).toBe(true);
  }, 240_000);
});
