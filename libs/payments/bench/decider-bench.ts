/**
 * The payment rules alone, one core: card sessions settled per CPU second through the decider (start → hold
 * authorised → CDR → capture requested → captured: 4 commands, 2 ledger transfers and 1 pending hold each), and
 * ledger transfers applied to a LedgerJournal per second. Run: `npx tsx libs/payments/bench/decider-bench.ts`.
 */
import { handle } from '@csms/kernel';
import {
  LedgerJournal,
  createPaymentDecider,
  intentIdOf,
  transferOf,
  type LedgerEvent,
  type PaymentCommand,
} from '../src';

function main(): void {
  const N = Number(process.argv[2] ?? 20000);
  const A = 'acct-bench';
  const base = { accountId: A, at: '2026-03-01T10:00:00Z' };
  const decider = createPaymentDecider(process.argv[3] ? { settledSessionsKept: Number(process.argv[3]) } : {});
  let state = decider.initialState();
  const transfers: LedgerEvent[] = [];
  const run = (c: PaymentCommand) => {
    const r = handle(decider, c, state);
    state = r.state;
    for (const e of r.events)
      if (e.type === 'ledger.transfer_posted' || e.type === 'ledger.transfer_voided') transfers.push(e);
  };
  run({
    ...base,
    type: 'open_account',
    sourceEventId: 'open',
    currency: 'EUR',
    method: { kind: 'card', customerRef: 'c', paymentMethodRef: 'p' },
    openedBy: 'bench',
  });
  const cpu = () => {
    const u = process.cpuUsage();
    return BigInt(u.user + u.system) * 1000n;
  };
  const t0 = cpu();
  for (let i = 0; i < N; i++) {
    const s = `s${i}`;
    const start = `start-${i}`;
    const hold = intentIdOf('authorize', start);
    const payment = {
      paymentRef: `pi_${i}`,
      currency: 'EUR',
      amountAuthorizedMinor: 5000n,
      amountRefundedMinor: 0n,
      holdExpiresAt: null,
      feeMinor: null,
    };
    run({
      ...base,
      type: 'session_started',
      sourceEventId: start,
      sessionId: s,
      stationId: 'CP-1',
      transactionId: null,
      evseId: 1,
      connectorId: 1,
      currency: 'EUR',
      holdAmountMinor: 5000n,
    });
    run({
      ...base,
      type: 'provider_outcome',
      sourceEventId: `auth-${i}`,
      intentId: hold,
      result: { kind: 'payment', payment: { ...payment, status: 'authorized', amountCapturedMinor: 0n } },
    });
    run({
      ...base,
      type: 'cdr_created',
      sourceEventId: `cdr-${i}`,
      cdrId: `CDR${i}`,
      sessionId: s,
      currency: 'EUR',
      totalExclVat: '7.00',
      totalInclVat: '8.47',
      credit: false,
      creditReferenceId: null,
    });
    run({
      ...base,
      type: 'provider_outcome',
      sourceEventId: `cap-${i}`,
      intentId: intentIdOf('capture', hold),
      result: { kind: 'payment', payment: { ...payment, status: 'captured', amountCapturedMinor: 847n } },
    });
  }
  const t1 = cpu();
  const journal = new LedgerJournal();
  for (const e of transfers) journal.apply(transferOf(e));
  const t2 = cpu();
  const secs = (a: bigint, b: bigint) => Number(b - a) / 1e9;
  console.log(
    JSON.stringify({
      sessions: N,
      sessionsPerSecond: Math.round(N / secs(t0, t1)),
      transfers: transfers.length,
      transfersAppliedPerSecond: Math.round(transfers.length / secs(t1, t2)),
      sessionsKeptInState: Object.keys(state.sessions).length,
      cdrsKept: Object.keys(state.cdrs).length,
      cdrIdsKept: state.settledCdrIds.length,
      intentsKept: Object.keys(state.intents).length,
      recent: state.recentSources.length,
      stateJsonBytes: JSON.stringify(state).length,
    }),
  );
}

main();
