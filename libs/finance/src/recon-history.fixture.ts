import { mulberry32 } from '@csms/kernel';
import type { ReconCdr, ReconPaymentFact, ReconSession } from './reconcile';

/**
 * Test support (not exported by the library): random histories of card, wallet and invoice sessions as the
 * reconciliation reads them — sessions (with later revisions), CDRs (credit CDRs too), payment facts with the usual
 * defects (a missing or doubled capture, wrong amounts, refunds without credit, PSP lines unknown, without a payment
 * or not paid out, lines recorded again once paid out) and daily settlement reports — in the order they arrive
 * (roughly by time, with stragglers), cut into batches, a run between two batches. Seeded: the same seed is the
 * same history.
 */

export type HistoryItem =
  | { kind: 'session'; session: ReconSession & { revision: number } }
  | { kind: 'cdr'; cdr: ReconCdr }
  | { kind: 'fact'; id: string; fact: ReconPaymentFact };

const DAY = 86_400_000;
type WithoutAt<T> = T extends unknown ? Omit<T, 'at'> & { at?: string } : never;
export const HISTORY_T0 = Date.parse('2026-03-01T00:00:00.000Z');

/** The seeded generator the fixture draws from (libs/kernel mulberry32). */
export const seeded = mulberry32;

const iso = (t: number) => new Date(t).toISOString();
const uuid = (n: number, kind: number) =>
  `00000000-0000-5000-8${kind.toString(16).padStart(3, '0')}-${n.toString(16).padStart(12, '0')}`;

export function reconHistory(seed: number, sessions = 40, days = 8): HistoryItem[][] {
  const rnd = seeded(seed);
  const p = (x: number) => rnd() < x;
  const timed: Array<{ t: number; item: HistoryItem }> = [];
  let factNo = 0;
  const fact = (t: number, f: WithoutAt<ReconPaymentFact>) =>
    timed.push({
      t: t + (p(0.1) ? rnd() * 2 * DAY : 0), // some arrive late
      item: { kind: 'fact', id: uuid(++factNo, 1), fact: { at: iso(t), ...f } as ReconPaymentFact },
    });
  for (let i = 1; i <= sessions; i++) {
    const sessionId = uuid(i, 2);
    const acct = `acct-${i % 3}`;
    const ref = `pi_${i}`;
    const cdrId = `CDR-${i}`;
    const method = p(0.7) ? 'card' : p(0.6) ? 'wallet' : 'invoice';
    const ended = HISTORY_T0 + rnd() * (days - 1) * DAY;
    const at = (dt: number) => ended + dt * 60_000;
    const base = (source: string, dt: number) => ({
      accountId: acct,
      sourceEventId: `${source}-${i}`,
      at: iso(at(dt)),
    });
    if (method === 'card')
      fact(at(-60), { ...base('start', -60), type: 'payment.authorized', paymentRef: ref, sessionId });
    if (p(0.93)) {
      const energy = p(0.1) ? '11' : '12';
      timed.push({
        t: ended,
        item: { kind: 'session', session: { sessionId, endedAt: iso(ended), energyKwh: energy, revision: 1 } },
      });
      if (p(0.08))
        timed.push({
          t: ended + rnd() * 3 * DAY,
          item: { kind: 'session', session: { sessionId, endedAt: iso(ended), energyKwh: '12.5', revision: 2 } },
        });
    }
    if (!p(0.88)) continue; // no CDR (yet): MISSING_CDR once past the grace
    const gross = p(0.05) ? '8.46' : '8.47';
    timed.push({
      t: at(1) + (p(0.1) ? rnd() * 2 * DAY : 0), // some priced late
      item: { kind: 'cdr', cdr: { cdrId, sessionId, credit: false, currency: 'EUR', energyKwh: '12.000', gross } },
    });
    if (!p(0.92)) continue; // the payment service never took it
    const total = p(0.04) ? '846' : '847';
    fact(at(2), {
      ...base('cdr', 2),
      type: 'payment.cdr_recorded',
      cdrId,
      sessionId,
      credit: false,
      currency: 'EUR',
      totalInclVatMinor: total,
      method,
    });
    if (p(0.95))
      fact(at(2), {
        ...base('cdr', 2),
        type: 'ledger.transfer_posted',
        reason: 'cdr',
        currency: 'EUR',
        postings: [
          { account: `customer_receivable:EUR:${acct}`, amountMinor: p(0.03) ? '800' : total },
          { account: 'revenue_net:EUR', amountMinor: '-700' },
          { account: 'vat_payable:EUR', amountMinor: '-147' },
        ],
      });
    if (method !== 'card') {
      if (method === 'wallet')
        fact(at(3), { ...base('wallet', 3), type: 'payment.wallet_debited', cdrId, amountMinor: total });
      continue;
    }
    if (p(0.08)) {
      fact(at(3), {
        ...base('recv', 3),
        type: 'payment.receivable_opened',
        receivableId: `rcv-${i}`,
        cdrId,
        amountMinor: total,
      });
      continue;
    }
    const captures = p(0.85) ? (p(0.05) ? 2 : 1) : 0;
    const amount = p(0.04) ? '800' : total;
    for (let k = 0; k < captures; k++) {
      const dt = 3 + k * (p(0.5) ? 600 : 1);
      fact(at(dt), {
        ...base(`cap${k}`, dt),
        type: 'payment.captured',
        intentId: `cap-${i}-${k}`,
        holdId: `hold-${i}`,
        paymentRef: ref,
        sessionId,
        cdrId,
        currency: 'EUR',
        amountMinor: amount,
      });
      if (p(0.95))
        fact(at(dt), {
          ...base(`cap${k}`, dt),
          type: 'ledger.transfer_posted',
          reason: 'capture',
          currency: 'EUR',
          postings: [
            { account: 'psp_clearing:EUR', amountMinor: amount },
            { account: `customer_receivable:EUR:${acct}`, amountMinor: `-${amount}` },
          ],
        });
    }
    if (p(0.1)) {
      // a corrected session: a credit CDR (or none: a refund without credit), the refund of the difference
      if (p(0.7))
        timed.push({
          t: at(120),
          item: {
            kind: 'cdr',
            cdr: {
              cdrId: `${cdrId}-C`,
              sessionId,
              credit: true,
              currency: 'EUR',
              energyKwh: '-12.000',
              gross: '-1.00',
            },
          },
        });
      fact(at(121), {
        ...base('refund', 121),
        type: 'payment.refunded',
        intentId: `ref-${i}`,
        paymentRef: ref,
        sessionId,
        cdrId: `${cdrId}-C`,
        currency: 'EUR',
        amountMinor: '100',
      });
    }
    // the PSP's side: a charge line booked the next day, recorded again once paid out (or never paid out)
    if (captures > 0 && p(0.85)) {
      const booked = at(60 * 24);
      const line = {
        accountId: 'platform',
        sourceEventId: `import-${Math.floor((booked - HISTORY_T0) / DAY)}`,
        type: 'payment.settlement_line_recorded' as const,
        balanceTransactionId: `txn_${i}`,
        category: 'charge' as const,
        paymentRef: ref,
        currency: 'EUR',
        grossMinor: p(0.04) ? '900' : captures === 2 && p(0.5) ? '1694' : amount,
      };
      fact(booked, { ...line, payoutRef: null });
      if (p(0.7)) fact(booked + (1 + rnd() * 4) * DAY, { ...line, sourceEventId: `payout-${i}`, payoutRef: `po_${i}` });
      if (p(0.04)) fact(booked, { ...line, balanceTransactionId: `txn_${i}_twice`, payoutRef: null });
    }
  }
  // strays: PSP lines of payments nobody here knows, and lines without a payment
  for (let k = 0; k < 3; k++) {
    const t = HISTORY_T0 + rnd() * days * DAY;
    fact(t, {
      accountId: 'platform',
      sourceEventId: `import-stray-${k}`,
      type: 'payment.settlement_line_recorded',
      balanceTransactionId: `txn_stray_${k}`,
      category: 'charge',
      paymentRef: k === 0 ? null : `pi_stranger_${k}`,
      currency: 'EUR',
      grossMinor: '100',
      payoutRef: null,
    });
  }
  // a settlement report a day, imported two days after its interval ends (the first one: the run's asOf goes back
  // from the newest fact's time to its end)
  for (let d = 0; d < days + 6; d++)
    timed.push({
      t: HISTORY_T0 + (d + 3.3) * DAY,
      item: {
        kind: 'fact',
        id: uuid(++factNo, 1),
        fact: {
          accountId: 'platform',
          sourceEventId: `import-${d}`,
          at: iso(HISTORY_T0 + (d + 3.3) * DAY),
          type: 'payment.settlement_report_imported',
          reportId: `report-${d}`,
          intervalStart: iso(HISTORY_T0 + d * DAY),
          intervalEnd: iso(HISTORY_T0 + (d + 1) * DAY),
        },
      },
    });
  timed.sort((a, b) => a.t - b.t);
  // batches: the items of about half a day each
  const batches: HistoryItem[][] = [];
  let cut = HISTORY_T0 + DAY / 2;
  let batch: HistoryItem[] = [];
  for (const { t, item } of timed) {
    while (t >= cut) {
      batches.push(batch);
      batch = [];
      cut += DAY / 2;
    }
    batch.push(item);
  }
  batches.push(batch);
  return batches;
}

/**
 * The subjects a fact links (the joins `reconcile` makes), as the reporting service's `recon_payment_facts.keys` defines
 * them in SQL: this copy lets the pure test gather whole histories the way the service's run does.
 */
export function factKeys(f: ReconPaymentFact): string[] {
  const k: string[] = [];
  const has = (x: unknown): x is string => typeof x === 'string';
  const g = f as unknown as Record<string, unknown>;
  if (
    ['payment.cdr_recorded', 'payment.authorized', 'payment.captured', 'payment.refunded'].includes(f.type) &&
    has(g.sessionId)
  )
    k.push(`s:${g.sessionId}`);
  if (
    ['payment.cdr_recorded', 'payment.captured', 'payment.receivable_opened', 'payment.receivable_settled'].includes(
      f.type,
    ) &&
    has(g.cdrId)
  )
    k.push(`c:${g.cdrId}`);
  if (
    ['payment.authorized', 'payment.captured', 'payment.refunded', 'payment.settlement_line_recorded'].includes(
      f.type,
    ) &&
    has(g.paymentRef)
  )
    k.push(`r:${g.paymentRef}`);
  if (['payment.cdr_recorded', 'payment.captured', 'ledger.transfer_posted'].includes(f.type))
    k.push(`t:${f.accountId}|${f.sourceEventId}`);
  if (f.type === 'payment.settlement_line_recorded') k.push(`b:${f.balanceTransactionId}`);
  return k;
}
