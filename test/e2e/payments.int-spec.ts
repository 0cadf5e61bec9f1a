/**
 * Payments end to end, every service its own process on the real Kafka and PostgreSQL, the PSP emulator in this
 * process (the payment service calls it through the Stripe adapter; it posts its webhooks back): an OCPP 1.6 charger
 * charges with a token whose billing account pays by card — a hold at the start, the exact capture of the CDR's
 * total at the end, a balanced journal, the payment record through the API —, and a token whose card is declined
 * gets its session stopped: the charger receives RemoteStopTransaction for its transaction; a wallet whose balance
 * does not cover its session is blocked, and the gateway answers its token's next Authorize `Blocked`. Running
 * cost: a session on a tariff with a small max_price gets a hold of that amount; when its running cost (priced by the
 * tariff service from session.updated with the CDR's engine) nears it, the hold is raised (the emulator counts an
 * incremental authorisation) or, for an account whose policy is to stop, the charger receives RemoteStopTransaction.
 * A corrected session (closed by rule, its real StopTransaction late with less energy: the tariff service issues a
 * credit CDR and a new CDR) is refunded exactly the difference, once, never captured twice; a wallet session is
 * debited exactly its CDR's total; an invoice session opens a receivable and goes on its month's statement.
 */
import { Client } from 'pg';
import type { RPCClient } from 'ocpp-rpc';
import { uniqueName, waitFor } from '@csms/testing';
import type { PspEmulator } from '../../apps/psp-emulator/src';
import {
  chargeTwelveKwh16,
  openCardAccount,
  plainTariff,
  publishTariffForSite,
  putToken,
  registerStation,
  startSystem,
  stationClient,
  type Json,
  type RunningSystem,
} from './system';

const PASSWORD = 'e2e-pay-station-password';
/** FLAT 1.00 + ENERGY 0.25/kWh, 21 % VAT */
const TARIFF = plainTariff('E2E-PAY');

describe('payments end to end: hold, exact capture, journal and payment record; a declined card stops the session', () => {
  const clients: RPCClient[] = [];
  let sys: RunningSystem;
  let emulator: PspEmulator;
  let pg: Client;

  beforeAll(async () => {
    sys = await startSystem({
      label: 'e2epay',
      services: ['ocpp-gateway', 'session-service', 'tariff-service', 'payment-service'],
      env: () => ({
        // a session.updated (and a running-cost estimate) per minute of session time
        'session-service': { SESSION_UPDATE_INTERVAL_SECONDS: '60' },
        'tariff-service': { TARIFF_ESTIMATE_INTERVAL_S: '60' },
        // a small hold for CHF sessions (the running-cost scenario)
        'payment-service': { PAYMENT_DEFAULT_HOLD: 'EUR=50.00,CHF=3.00' },
      }),
    });
    emulator = sys.psp;
    pg = new Client({ connectionString: sys.databaseUrls['payment-service'] });
    await pg.connect();
  }, 400_000);

  afterAll(async () => {
    for (const c of clients) await c.close({ force: true }).catch(() => undefined);
    await pg?.end().catch(() => undefined);
    await sys?.stop('SIGTERM');
  }, 120_000);

  const api = <T = Json>(service: Parameters<RunningSystem['api']>[0], method: string, path: string, body?: unknown) =>
    sys.api<T>(service, method, path, body);

  const openCard = (
    accountId: string,
    pm: string,
    onHoldNearlyUsed: 'increase' | 'stop' = 'increase',
    currency = 'EUR',
  ) => openCardAccount(sys, accountId, pm, { currency, policy: { onHoldNearlyUsed, onShortfall: 'block' } });

  it('a card session is held, captured exactly and journaled; a declined card stops its session remotely', async () => {
    const stationId = uniqueName('E2EPAY16');
    await registerStation(sys, stationId, { password: PASSWORD, siteId: 'site-e2epay' });
    await openCard('acct-pay', 'pm_card_visa');
    await openCard('acct-declined', 'pm_card_chargeDeclined');
    expect(
      (
        await api('payment-service', 'POST', '/api/v1/accounts', {
          accountId: 'acct-wallet',
          currency: 'EUR',
          method: { kind: 'wallet' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api('payment-service', 'POST', '/api/v1/accounts/acct-wallet/top-ups', {
          topUpRef: 'E2E-T1',
          amount: '1.00',
        })
      ).status,
    ).toBe(201);
    for (const [uid, account] of [
      ['E2E-PAY', 'acct-pay'],
      ['E2E-DECLINED', 'acct-declined'],
      ['E2E-WALLET', 'acct-wallet'],
    ])
      await putToken(sys, uid, account);
    await publishTariffForSite(sys, TARIFF, 'site-e2epay');
    // the payment service resolves a session's account from its copy of the token registry
    await waitFor(
      async () =>
        (await pg.query(`select 1 from tokens where uid in ('E2E-PAY', 'E2E-DECLINED', 'E2E-WALLET')`)).rowCount === 3,
      { what: "the tokens in the payment service's registry copy", timeoutMs: 60_000 },
    );
    await waitFor(async () => (await fetch(`${sys.urls['ocpp-gateway']}/health/ready`)).status === 200, {
      what: 'gateway ready',
    });

    const cp = stationClient(sys, stationId, PASSWORD);
    clients.push(cp);
    const stops: number[] = [];
    cp.handle('RemoteStopTransaction', async ({ params }) => {
      stops.push((params as { transactionId: number }).transactionId);
      return { status: 'Accepted' };
    });
    await cp.connect();
    expect(await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' })).toMatchObject({
      status: 'Accepted',
    });
    const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();

    // a card session: 12 kWh
    const start = (await cp.call('StartTransaction', {
      connectorId: 1,
      idTag: 'E2E-PAY',
      meterStart: 1000,
      timestamp: at(0),
    })) as { transactionId: number };
    await chargeTwelveKwh16(cp, { transactionId: start.transactionId, at, idTag: 'E2E-PAY' });
    const cdr = await waitFor(
      async () => {
        const r = await api<{ items: Array<Json & { audit: { sessionId: string } }> }>(
          'tariff-service',
          'GET',
          `/api/v1/cdrs?stationId=${stationId}&include=audit`,
        );
        return r.body.items[0];
      },
      { what: 'the CDR', timeoutMs: 90_000 },
    );
    const total = (cdr.total_cost as { incl_vat: string }).incl_vat;
    expect(total).toBe('4.84'); // (1.00 + 12 kWh × 0.25) × 1.21
    const sessionId = cdr.audit.sessionId;
    const record = await waitFor(
      async () => {
        const r = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/payment`);
        return r.status === 200 && r.body.status === 'captured' ? r.body : undefined;
      },
      { what: 'the payment record, captured', timeoutMs: 90_000 },
    );
    expect(record).toMatchObject({
      accountId: 'acct-pay',
      capturedMinor: '484',
      hold: { requestedMinor: '5000', authorizedMinor: '5000', status: 'captured' },
    });
    const journal = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/journal`);
    expect(journal.body.balanced).toBe(true);
    const payment = emulator.ledger().find((p) => p.metadata.session_id === sessionId);
    expect(payment).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 484 });

    // a declined card: the session is stopped through the remote-command path
    const declined = (await cp.call('StartTransaction', {
      connectorId: 1,
      idTag: 'E2E-DECLINED',
      meterStart: 13000,
      timestamp: at(200),
    })) as { transactionId: number };
    await waitFor(() => stops.includes(declined.transactionId), {
      what: 'RemoteStopTransaction at the charger',
      timeoutMs: 90_000,
    });

    // a wallet holding 1.00 pays a 4.84 session: the rest is a receivable and the account is blocked; the gateway
    // (which never calls the PSP) answers the token's next Authorize Blocked
    const verdict = async () =>
      ((await cp.call('Authorize', { idTag: 'E2E-WALLET' })) as { idTagInfo: { status: string } }).idTagInfo.status;
    expect(await verdict()).toBe('Accepted');
    const w = (await cp.call('StartTransaction', {
      connectorId: 2,
      idTag: 'E2E-WALLET',
      meterStart: 50_000,
      timestamp: at(300),
    })) as { transactionId: number };
    await cp.call('StopTransaction', {
      transactionId: w.transactionId,
      idTag: 'E2E-WALLET',
      meterStop: 62_000,
      timestamp: at(420),
      reason: 'Local',
    });
    await waitFor(async () => ((await verdict()) === 'Blocked' ? true : undefined), {
      what: "Authorize Blocked for the wallet's token",
      timeoutMs: 90_000,
    });
    for (const s of Object.values(sys.services)) expect(s.errorLines()).toEqual([]);
  }, 400_000);

  it('running cost near a small hold (the CHF default, 3.00): raised for an account that increases, the session stopped remotely for one that stops', async () => {
    const stationId = uniqueName('E2ERUN16');
    await registerStation(sys, stationId, { password: PASSWORD, siteId: 'site-e2erun' });
    await openCard('acct-run-inc', 'pm_card_visa', 'increase', 'CHF');
    await openCard('acct-run-stop', 'pm_card_visa', 'stop', 'CHF');
    for (const [uid, account] of [
      ['E2E-RUN-INC', 'acct-run-inc'],
      ['E2E-RUN-STOP', 'acct-run-stop'],
    ])
      await putToken(sys, uid, account);
    // FLAT 1.00 + ENERGY 0.25/kWh + 21 % VAT in CHF, no max_price: the hold is the CHF default, 3.00
    const chf = { ...TARIFF, id: 'E2E-RUN', currency: 'CHF' };
    await publishTariffForSite(sys, chf, 'site-e2erun');
    await waitFor(
      async () => (await pg.query(`select 1 from tokens where uid in ('E2E-RUN-INC', 'E2E-RUN-STOP')`)).rowCount === 2,
      { what: "the tokens in the payment service's registry copy", timeoutMs: 60_000 },
    );
    const cp = stationClient(sys, stationId, PASSWORD);
    clients.push(cp);
    const stops: number[] = [];
    cp.handle('RemoteStopTransaction', async ({ params }) => {
      stops.push((params as { transactionId: number }).transactionId);
      return { status: 'Accepted' };
    });
    await cp.connect();
    await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' });
    const t0 = Date.now() + 60_000;
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();

    /** starts a session, waits for its hold (3.00) to be authorised, then charges 5 kWh in 70 s: 2.72 of 3.00 */
    const chargeNearHold = async (idTag: string, connectorId: number, from: number) => {
      const { transactionId } = (await cp.call('StartTransaction', {
        connectorId,
        idTag,
        meterStart: 1000,
        timestamp: at(from),
      })) as { transactionId: number };
      const sessionId = await waitFor(
        async () =>
          (
            await pg.query('select session_id from payment_sessions where station_id = $1 and transaction_id = $2', [
              stationId,
              String(transactionId),
            ])
          ).rows[0]?.session_id as string | undefined,
        { what: 'the session in the payment service', timeoutMs: 90_000 },
      );
      const hold = await waitFor(
        async () => {
          const r = await api<{ hold?: Json }>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/payment`);
          return r.status === 200 && r.body.hold?.status === 'authorized' ? r.body.hold : undefined;
        },
        { what: 'the hold authorised', timeoutMs: 90_000 },
      );
      expect(hold).toMatchObject({ requestedMinor: '300', authorizedMinor: '300' });
      await cp.call('MeterValues', {
        connectorId,
        transactionId,
        meterValue: [
          {
            timestamp: at(from + 70),
            sampledValue: [{ value: '6000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
          },
        ],
      });
      return { transactionId, sessionId };
    };

    // increase: the hold is raised to 6.00 at the PSP (one incremental authorisation), the CDR captured in full
    const inc = await chargeNearHold('E2E-RUN-INC', 1, 0);
    const raised = await waitFor(
      () => {
        const p = emulator.ledger().find((x) => x.metadata.session_id === inc.sessionId);
        return p && p.increments >= 1 ? p : undefined;
      },
      { what: 'the incremental authorisation at the emulator', timeoutMs: 90_000 },
    );
    expect(raised).toMatchObject({ authorizations: 1, increments: 1 });
    await cp.call('StopTransaction', {
      transactionId: inc.transactionId,
      idTag: 'E2E-RUN-INC',
      meterStop: 11000,
      timestamp: at(130),
      reason: 'Local',
    });
    const record = await waitFor(
      async () => {
        const r = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${inc.sessionId}/payment`);
        return r.status === 200 && r.body.status === 'captured' ? r.body : undefined;
      },
      { what: 'the payment record, captured', timeoutMs: 90_000 },
    );
    // (1.00 + 10 kWh × 0.25) × 1.21 = 4.24: more than the first hold, captured in full from the raised one
    expect(record).toMatchObject({ capturedMinor: '424', hold: { authorizedMinor: '600' } });
    expect(emulator.ledger().find((x) => x.metadata.session_id === inc.sessionId)).toMatchObject({
      authorizations: 1,
      increments: 1,
      captures: 1,
      captured_minor: 424,
    });

    // stop: the charger is asked to stop the transaction
    const stop = await chargeNearHold('E2E-RUN-STOP', 2, 200);
    await waitFor(() => stops.includes(stop.transactionId), {
      what: 'RemoteStopTransaction at the charger (hold exhausted)',
      timeoutMs: 90_000,
    });
    for (const s of Object.values(sys.services)) expect(s.errorLines()).toEqual([]);
  }, 400_000);

  it('a corrected session: its credit CDR gives a refund of exactly the difference (one capture, one refund); a wallet session debits exactly its CDR; an invoice session opens a receivable and goes on a statement; every journal balanced', async () => {
    const stationId = uniqueName('E2ECRD16');
    await registerStation(sys, stationId, { password: PASSWORD, siteId: 'site-e2ecrd' });
    // its own tariff (the same prices), so this case runs alone too (jest -t)
    await publishTariffForSite(sys, { ...TARIFF, id: 'E2E-CRD' }, 'site-e2ecrd');
    await openCard('acct-credit', 'pm_card_visa');
    for (const [accountId, method] of [
      ['acct-wallet-ok', { kind: 'wallet' }],
      ['acct-invoice', { kind: 'invoice', creditLimitMinor: '100000' }],
    ] as const)
      expect(
        (await api('payment-service', 'POST', '/api/v1/accounts', { accountId, currency: 'EUR', method })).status,
      ).toBe(201);
    expect(
      (
        await api('payment-service', 'POST', '/api/v1/accounts/acct-wallet-ok/top-ups', {
          topUpRef: 'E2E-T2',
          amount: '20.00',
        })
      ).status,
    ).toBe(201);
    for (const [uid, account] of [
      ['E2E-CREDIT', 'acct-credit'],
      ['E2E-WALLET-OK', 'acct-wallet-ok'],
      ['E2E-INVOICE', 'acct-invoice'],
    ])
      await putToken(sys, uid, account);
    await waitFor(
      async () =>
        (await pg.query(`select 1 from tokens where uid in ('E2E-CREDIT', 'E2E-WALLET-OK', 'E2E-INVOICE')`))
          .rowCount === 3,
      { what: "the tokens in the payment service's registry copy", timeoutMs: 60_000 },
    );
    const cp = stationClient(sys, stationId, PASSWORD);
    clients.push(cp);
    cp.handle('RemoteStopTransaction', async () => ({ status: 'Accepted' }));
    await cp.connect();
    await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' });
    const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();
    type Cdr = Json & {
      id: string;
      credit?: boolean;
      end_date_time: string;
      cdr_token: { uid: string };
      total_cost: { incl_vat: string };
      audit: { sessionId: string };
    };
    const cdrsOf = async () =>
      (await api<{ items: Cdr[] }>('tariff-service', 'GET', `/api/v1/cdrs?stationId=${stationId}&include=audit`)).body
        .items;
    const minor = (amount: string) => Math.round(Number(amount) * 100);
    const paymentOf = (sessionId: string, ready: (r: Json) => boolean, what: string) =>
      waitFor(
        async () => {
          const r = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/payment`);
          return r.status === 200 && ready(r.body) ? r.body : undefined;
        },
        { what, timeoutMs: 90_000 },
      );
    const balancedJournal = async (sessionId: string) => {
      const journal = await api<Json>('payment-service', 'GET', `/api/v1/sessions/${sessionId}/journal`);
      expect(journal.status).toBe(200);
      expect(journal.body.balanced).toBe(true);
    };

    // a card session the session service closes by rule (a new transaction on its connector: ended at its last
    // sample, 12 kWh, 4.84 captured); its real StopTransaction then arrives late: it stopped at 6 kWh. The session
    // is revised, the tariff service issues a credit CDR for 4.84 and a new CDR, the payment service refunds the
    // difference, never capturing again
    const a = (await cp.call('StartTransaction', {
      connectorId: 1,
      idTag: 'E2E-CREDIT',
      meterStart: 1000,
      timestamp: at(0),
    })) as { transactionId: number };
    for (const [s, wh] of [
      [60, '7000'],
      [120, '13000'],
    ] as const)
      await cp.call('MeterValues', {
        connectorId: 1,
        transactionId: a.transactionId,
        meterValue: [
          { timestamp: at(s), sampledValue: [{ value: wh, measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] },
        ],
      });
    const b = (await cp.call('StartTransaction', {
      connectorId: 1,
      idTag: 'E2E-CREDIT',
      meterStart: 13000,
      timestamp: at(180),
    })) as { transactionId: number };
    const first = await waitFor(async () => (await cdrsOf()).find((c) => !c.credit), {
      what: 'the CDR of the session closed by rule',
      timeoutMs: 90_000,
    });
    expect(first.total_cost.incl_vat).toBe('4.84');
    const sessionId = first.audit.sessionId;
    await paymentOf(sessionId, (r) => r.status === 'captured', 'the first CDR captured');
    await cp.call('StopTransaction', {
      transactionId: a.transactionId,
      idTag: 'E2E-CREDIT',
      meterStop: 7000,
      timestamp: at(60),
      reason: 'Local',
    });
    const [credit, corrected] = await waitFor(
      async () => {
        const mine = (await cdrsOf()).filter((c) => c.audit.sessionId === sessionId);
        const cr = mine.find((c) => c.credit);
        const nw = mine.find((c) => !c.credit && c.id !== first.id);
        return cr && nw ? ([cr, nw] as const) : undefined;
      },
      { what: 'the credit CDR and the corrected CDR', timeoutMs: 90_000 },
    );
    expect(credit).toMatchObject({ credit_reference_id: first.id, total_cost: { incl_vat: '-4.84' } });
    const difference = 484 - minor(corrected.total_cost.incl_vat);
    expect(difference).toBeGreaterThan(0);
    const refunded = await paymentOf(
      sessionId,
      (r) => r.refundedMinor === String(difference),
      'the refund of the difference',
    );
    expect(refunded).toMatchObject({ capturedMinor: '484', refundedMinor: String(difference) });
    await waitFor(
      async () => (await pg.query(`select 1 from psp_intents where status not in ('done', 'failed')`)).rowCount === 0,
      { what: 'no PSP call left open', timeoutMs: 60_000 },
    );
    await emulator.webhooksIdle();
    expect(emulator.ledger().find((p) => p.metadata.session_id === sessionId)).toMatchObject({
      authorizations: 1,
      captures: 1,
      captured_minor: 484,
      refunds: 1,
      refunded_minor: difference,
    });
    await balancedJournal(sessionId);
    await cp.call('StopTransaction', {
      transactionId: b.transactionId,
      idTag: 'E2E-CREDIT',
      meterStop: 13000,
      timestamp: at(240),
      reason: 'Local',
    });

    /** a 12 kWh session (4.84) in two minutes on its own connector; its CDR */
    const charge = async (idTag: string, connectorId: number, from: number) => {
      const { transactionId } = (await cp.call('StartTransaction', {
        connectorId,
        idTag,
        meterStart: 1000,
        timestamp: at(from),
      })) as { transactionId: number };
      await chargeTwelveKwh16(cp, { transactionId, at, from, connectorId, idTag });
      return waitFor(async () => (await cdrsOf()).find((c) => c.cdr_token.uid === idTag), {
        what: `the CDR of ${idTag}`,
        timeoutMs: 90_000,
      });
    };

    // a wallet holding 20.00: debited exactly the CDR's total, its balance through the API
    const wcdr = await charge('E2E-WALLET-OK', 2, 20);
    const wtotal = minor(wcdr.total_cost.incl_vat);
    expect(wtotal).toBe(484);
    const wrec = await paymentOf(
      wcdr.audit.sessionId,
      (r) => (r.walletDebits as unknown[] | undefined)?.length === 1,
      'the wallet debit',
    );
    expect(wrec.walletDebits).toEqual([expect.objectContaining({ cdrId: wcdr.id, amountMinor: String(wtotal) })]);
    const wb = await api<{ balances: Array<{ account: string; postedMinor: string }> }>(
      'payment-service',
      'GET',
      '/api/v1/accounts/acct-wallet-ok/balances',
    );
    expect(wb.status).toBe(200);
    // a liability: a credit balance of 20.00 − 4.84
    expect(wb.body.balances.find((l) => l.account.startsWith('wallet_liability:'))?.postedMinor).toBe(
      String(-(2000 - wtotal)),
    );
    await balancedJournal(wcdr.audit.sessionId);
    expect(emulator.ledger().filter((p) => p.metadata.session_id === wcdr.audit.sessionId)).toEqual([]);

    // an invoice account: a receivable for the CDR, then the statement of its month whose line is the CDR
    const icdr = await charge('E2E-INVOICE', 3, 140);
    const itotal = minor(icdr.total_cost.incl_vat);
    const irec = await paymentOf(
      icdr.audit.sessionId,
      (r) => (r.receivables as unknown[] | undefined)?.length === 1,
      'the receivable',
    );
    expect(irec.receivables).toEqual([
      expect.objectContaining({ cdrId: icdr.id, amountMinor: String(itotal), reason: 'invoice' }),
    ]);
    await balancedJournal(icdr.audit.sessionId);
    const month = icdr.end_date_time.slice(0, 7);
    const st = await api<Json & { lines: Array<Json> }>(
      'payment-service',
      'POST',
      '/api/v1/accounts/acct-invoice/statements',
      {
        month,
      },
    );
    expect(st.status).toBe(201);
    expect(st.body).toMatchObject({ month, totalMinor: String(itotal) });
    expect(st.body.lines).toEqual([expect.objectContaining({ cdrId: icdr.id })]);
    expect(emulator.ledger().filter((p) => p.metadata.session_id === icdr.audit.sessionId)).toEqual([]);
    for (const s of Object.values(sys.services)) expect(s.errorLines()).toEqual([]);
  }, 400_000);
});
