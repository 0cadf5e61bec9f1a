/**
 * Reconciliation agrees with the payment decider: the events libs/payments decides for card sessions — an exact
 * capture, a total above the hold, a partial capture, a corrected session refunded or owed the difference — with the
 * PSP's settlement lines that match them, reconcile without a break; the same records with one capture lost or
 * booked twice at the PSP give exactly that break.
 */
import { givenCommands } from '@csms/kernel';
import { intentIdOf, paymentDecider, type PaymentCommand, type PaymentEvent, type PspPayment } from '@csms/payments';
import { reconcile, type ReconCdr, type ReconPaymentFact, type ReconSession } from './reconcile';

const A = 'acct-1';
const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
const opts = { asOf: '2026-03-02T00:00:00.000Z', unsettledDays: 3, graceSeconds: 0 };

const psp = (sessionId: string, o: Partial<PspPayment>): PspPayment => ({
  paymentRef: `pi_${sessionId}`,
  status: 'authorized',
  currency: 'EUR',
  amountAuthorizedMinor: 5000n,
  amountCapturedMinor: 0n,
  amountRefundedMinor: 0n,
  holdExpiresAt: null,
  feeMinor: null,
  ...o,
});

interface Cdr {
  id: string;
  incl: string;
  excl: string;
  kwh: string;
  creditOf?: string;
}

/**
 * One card session through the decider: the hold (of `hold` minor units) authorised, its CDRs in turn, the PSP
 * answering each capture with `captureMinor` (default: what was asked) and each refund in full.
 */
function session(n: number, cdrs: Cdr[], o: { hold?: bigint; captureMinor?: bigint } = {}) {
  const s = `00000000-0000-5000-8000-0000000000${String(n).padStart(2, '0')}`;
  const hold = intentIdOf('authorize', `start-${s}`);
  const commands: PaymentCommand[] = [
    {
      type: 'session_started',
      accountId: A,
      sourceEventId: `start-${s}`,
      at: at(n),
      sessionId: s,
      stationId: 'CP-1',
      transactionId: String(n),
      evseId: 1,
      connectorId: 1,
      currency: 'EUR',
      holdAmountMinor: o.hold ?? 5000n,
    },
    {
      type: 'provider_outcome',
      accountId: A,
      sourceEventId: `auth-${s}`,
      at: at(n + 1),
      intentId: hold,
      result: { kind: 'payment', payment: psp(s, { amountAuthorizedMinor: o.hold ?? 5000n }) },
    },
  ];
  return { s, hold, commands, cdrs, captureMinor: o.captureMinor };
}

/** Decides every session in turn, answering the PSP calls the decider asks for; returns its events. */
function decide(sessions: Array<ReturnType<typeof session>>): PaymentEvent[] {
  const open: PaymentCommand = {
    type: 'open_account',
    accountId: A,
    sourceEventId: 'open',
    at: at(0),
    currency: 'EUR',
    method: { kind: 'card', customerRef: 'cus_1', paymentMethodRef: 'pm_1' },
    openedBy: 'api-key:ops',
  };
  let g = givenCommands(paymentDecider, [open]);
  const run = (...cs: PaymentCommand[]) => {
    g = givenCommands(paymentDecider, cs, g.state);
    return g.history;
  };
  const all: PaymentEvent[] = [];
  for (const x of sessions) {
    all.push(...run(...x.commands));
    for (const [i, c] of x.cdrs.entries()) {
      const events = run({
        type: 'cdr_created',
        accountId: A,
        sourceEventId: `cdr-${c.id}`,
        at: at(100 + i),
        cdrId: c.id,
        sessionId: x.s,
        currency: 'EUR',
        totalExclVat: c.excl,
        totalInclVat: c.incl,
        credit: c.incl.startsWith('-'),
        creditReferenceId: c.creditOf ?? null,
      });
      all.push(...events);
      for (const e of events) {
        if (e.type === 'payment.capture_requested') {
          const captured = x.captureMinor ?? BigInt(e.amountMinor);
          all.push(
            ...run({
              type: 'provider_outcome',
              accountId: A,
              sourceEventId: `psp-${e.intentId}`,
              at: at(110 + i),
              intentId: e.intentId,
              result: {
                kind: 'payment',
                payment: psp(x.s, { status: 'captured', amountCapturedMinor: captured }),
              },
            }),
          );
        }
        if (e.type === 'payment.refund_requested')
          all.push(
            ...run({
              type: 'provider_outcome',
              accountId: A,
              sourceEventId: `psp-${e.intentId}`,
              at: at(120 + i),
              intentId: e.intentId,
              result: {
                kind: 'refund',
                refund: {
                  refundRef: `re_${e.intentId}`,
                  paymentRef: e.paymentRef,
                  amountMinor: BigInt(e.amountMinor),
                  status: 'succeeded',
                },
              },
            }),
          );
      }
    }
  }
  return all;
}

/** The records the reporting service would hold: sessions, CDRs, the decided events and the PSP's lines of them. */
function records(sessions: Array<ReturnType<typeof session>>, events: PaymentEvent[]) {
  const cdrs: ReconCdr[] = sessions.flatMap((x) =>
    x.cdrs.map((c) => ({
      cdrId: c.id,
      sessionId: x.s,
      credit: c.incl.startsWith('-'),
      currency: 'EUR',
      energyKwh: c.incl.startsWith('-') ? `-${c.kwh}` : c.kwh,
      gross: c.incl,
    })),
  );
  const meter: ReconSession[] = sessions.map((x) => ({
    sessionId: x.s,
    endedAt: at(90),
    energyKwh: x.cdrs[x.cdrs.length - 1].kwh,
  }));
  const facts = events.map((e) => e as unknown as ReconPaymentFact);
  const lines: ReconPaymentFact[] = events.flatMap((e, i): ReconPaymentFact[] =>
    e.type === 'payment.captured' || e.type === 'payment.refunded'
      ? [
          {
            type: 'payment.settlement_line_recorded',
            accountId: 'platform',
            sourceEventId: `line-${i}`,
            at: e.at,
            balanceTransactionId: `txn_${i}`,
            category: e.type === 'payment.captured' ? 'charge' : 'refund',
            paymentRef: e.paymentRef,
            currency: 'EUR',
            grossMinor: e.type === 'payment.captured' ? e.amountMinor : `-${e.amountMinor}`,
            payoutRef: 'po_1',
          },
        ]
      : [],
  );
  const report: ReconPaymentFact = {
    type: 'payment.settlement_report_imported',
    accountId: 'platform',
    sourceEventId: 'report',
    at: '2026-03-02T00:00:00.000Z',
    reportId: 'r1',
    intervalStart: '2026-03-01T00:00:00.000Z',
    intervalEnd: '2026-03-02T00:00:00.000Z',
  };
  return { sessions: meter, cdrs, facts, lines, report };
}

const SESSIONS = () => [
  // exact capture
  session(1, [{ id: 'CDR1', incl: '8.47', excl: '7.00', kwh: '12' }]),
  // a total above the hold: the hold captured, the rest a receivable
  session(2, [{ id: 'CDR2', incl: '60.50', excl: '50.00', kwh: '200' }], { hold: 5000n }),
  // the PSP captures less than asked: the shortfall a receivable
  session(3, [{ id: 'CDR3', incl: '8.47', excl: '7.00', kwh: '12' }], { captureMinor: 400n }),
  // corrected lower: credit CDR and re-issue, the difference refunded
  session(4, [
    { id: 'CDR4', incl: '8.47', excl: '7.00', kwh: '12' },
    { id: 'CDR4-C', incl: '-8.47', excl: '-7.00', kwh: '12', creditOf: 'CDR4' },
    { id: 'CDR4-B', incl: '7.00', excl: '5.79', kwh: '10' },
  ]),
  // corrected higher: the difference owed
  session(5, [
    { id: 'CDR5', incl: '8.47', excl: '7.00', kwh: '12' },
    { id: 'CDR5-C', incl: '-8.47', excl: '-7.00', kwh: '12', creditOf: 'CDR5' },
    { id: 'CDR5-B', incl: '9.00', excl: '7.44', kwh: '13' },
  ]),
];

describe('reconciliation agrees with the payment decider', () => {
  const sessions = SESSIONS();
  const events = decide(sessions);
  const r = records(sessions, events);

  it('the decider did what the scenarios say (a refund, receivables)', () => {
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'payment.captured')).toHaveLength(5);
    expect(types.filter((t) => t === 'payment.refunded')).toHaveLength(1);
    expect(types.filter((t) => t === 'payment.receivable_opened')).toHaveLength(3);
  });

  it('card sessions paid as decided, matched by the PSP, reconcile without a break', () => {
    expect(
      reconcile({ sessions: r.sessions, cdrs: r.cdrs, payments: [...r.facts, ...r.lines, r.report] }, opts),
    ).toEqual([]);
  });

  it('the same records with a capture the PSP lost, or booked twice: exactly that break', () => {
    const lost = r.lines.filter(
      (l) =>
        !(
          l.type === 'payment.settlement_line_recorded' &&
          l.paymentRef === `pi_${sessions[0].s}` &&
          l.category === 'charge'
        ),
    );
    expect(
      reconcile({ sessions: r.sessions, cdrs: r.cdrs, payments: [...r.facts, ...lost, r.report] }, opts).map((b) => [
        b.reason,
        b.sessionId,
      ]),
    ).toEqual([['MISSING_CAPTURE', sessions[0].s]]);
    const dup = r.lines.find(
      (l) =>
        l.type === 'payment.settlement_line_recorded' &&
        l.paymentRef === `pi_${sessions[3].s}` &&
        l.category === 'charge',
    )!;
    expect(
      reconcile(
        {
          sessions: r.sessions,
          cdrs: r.cdrs,
          payments: [...r.facts, ...r.lines, { ...dup, balanceTransactionId: 'txn_dup' } as ReconPaymentFact, r.report],
        },
        opts,
      ).map((b) => [b.reason, b.sessionId]),
    ).toEqual([['DOUBLE_CAPTURE', sessions[3].s]]);
  });
});
