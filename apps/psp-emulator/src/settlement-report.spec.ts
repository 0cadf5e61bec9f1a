import { parse } from 'csv-parse/sync';
import { FaultBook } from './faults';
import { Psp, SETTLEMENT_REPORT_COLUMNS } from './psp';
import { Store } from './store';
import type { WebhookDispatcher } from './webhooks';

/** The emulator's PSP core in memory (webhooks only queued): captures, the capture faults and the settlement report. */
function psp() {
  let now = Date.parse('2026-03-01T10:00:00Z');
  const faults = new FaultBook();
  const p = new Psp(
    new Store(),
    faults,
    { enqueue: () => undefined } as unknown as WebhookDispatcher,
    {
      holdSeconds: 604800,
      feeBps: 140,
      feeFixedMinor: 25,
      publicUrl: 'http://psp',
      apiVersion: 'test',
      maxAmount: 99999999,
    },
    () => now,
  );
  const ctx = { requestId: 'req', idempotencyKey: null };
  const capture = (amount: number) => {
    const pi = p.createPaymentIntent(
      {
        amount: String(amount),
        currency: 'eur',
        payment_method: 'pm_card_visa',
        capture_method: 'manual',
        confirm: 'true',
      },
      ctx,
    ) as { id: string };
    now += 1000;
    p.capture(pi.id, {}, ctx);
    return pi.id;
  };
  const report = () =>
    parse(p.settlementReport(0, Date.parse('2026-03-02T00:00:00Z') / 1000), { columns: true }) as Array<
      Record<string, string>
    >;
  return { p, faults, capture, report };
}

describe('emulator settlement report and capture faults', () => {
  it('one line per captured charge, in major units, with its payout once paid out', () => {
    const { p, capture, report } = psp();
    const pi = capture(847);
    const raw = p.settlementReport(0, 2_000_000_000);
    expect(raw.split('\r\n')[0]).toBe(SETTLEMENT_REPORT_COLUMNS.join(','));
    expect(report()).toEqual([
      expect.objectContaining({
        created_utc: '2026-03-01 10:00:01',
        currency: 'eur',
        gross: '8.47',
        fee: '0.37',
        net: '8.10',
        reporting_category: 'charge',
        payment_intent_id: pi,
        automatic_payout_id: '',
      }),
    ]);
    p.payout('eur');
    expect(report()[0].automatic_payout_id).toMatch(/^po_/);
  });

  it('missed_capture: the capture succeeds for the caller but is never booked; double_capture: booked twice', () => {
    const { faults, capture, report } = psp();
    faults.add({ kind: 'missed_capture' });
    const missed = capture(500);
    faults.add({ kind: 'double_capture' });
    const doubled = capture(600);
    const clean = capture(700);
    const byPi = (pi: string) => report().filter((l) => l.payment_intent_id === pi).length;
    expect([byPi(missed), byPi(doubled), byPi(clean)]).toEqual([0, 2, 1]);
  });
});
