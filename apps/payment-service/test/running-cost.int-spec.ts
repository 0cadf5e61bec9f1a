import { randomUUID } from 'node:crypto';
import { waitFor } from '@csms/testing';
import { PaymentHarness, type Json } from './harness';

/**
 * The tariff service's inputs to the card flow, against real Kafka and PostgreSQL and the PSP emulator:
 * billing.session_tariff_selected (the hold of the tariff's max_price), billing.session_cost_estimated (the running
 * cost: near the hold it is raised, or the session stopped, by the account's policy), the hold-expiry scan capturing
 * the running cost, and the scheduler issuing last month's statement of an invoice account by itself.
 */
describe('payment service: holds from the tariff, running cost, expiring holds, scheduled statements (real Kafka, PostgreSQL, PSP emulator)', () => {
  const h = new PaymentHarness();

  beforeAll(() => h.start(), 120_000);
  afterAll(() => h.stop(), 60_000);
  afterEach(async () => {
    await h.settled();
    await h.checkBooks();
  }, 60_000);

  const customer = (pm: string): { customerRef: string; paymentMethodRef: string } => {
    const c = (h.emulator.psp as unknown as { createCustomer(p: Record<string, unknown>): Json }).createCustomer({
      payment_method: pm,
    });
    return {
      customerRef: c.id as string,
      paymentMethodRef: (c.invoice_settings as { default_payment_method: string }).default_payment_method,
    };
  };

  const openCard = async (accountId: string, onHoldNearlyUsed: 'increase' | 'stop' = 'increase') => {
    const r = await h.api('POST', '/accounts', {
      accountId,
      currency: 'EUR',
      method: { kind: 'card', ...customer('pm_card_visa') },
      policy: { onHoldNearlyUsed, onShortfall: 'block' },
    });
    expect(r.status).toBe(201);
  };

  const newCardSession = async (policy: 'increase' | 'stop', maxPriceInclVat: string | null) => {
    const account = `card-${randomUUID().slice(0, 8)}`;
    const uid = `TOK-${account}`;
    await openCard(account, policy);
    await h.token(uid, account);
    const sessionId = randomUUID();
    await h.sessionStarted({ sessionId, uid, maxPriceInclVat });
    return { account, sessionId };
  };

  it("the hold is the tariff's max_price incl. VAT (rounded up to the cent), else the configured default", async () => {
    const capped = await newCardSession('increase', '12.341');
    expect((await h.waitForEvent(capped.sessionId, 'payment.authorized')).amountMinor).toBe('1235');
    const uncapped = await newCardSession('increase', null);
    expect((await h.waitForEvent(uncapped.sessionId, 'payment.authorized')).amountMinor).toBe('5000');
    // a session.started alone (no selection yet) asks for nothing: the hold waits for the tariff
    const waiting = randomUUID();
    await h.sessionStarted({ sessionId: waiting, uid: `TOK-${capped.account}`, tariff: false });
    await waitFor(
      async () => (await h.query('select 1 from payment_sessions where session_id = $1', [waiting])).length,
      {
        what: 'the session recorded',
      },
    );
    expect(await h.typesOf(waiting)).toEqual([]);
  });

  it('increase policy: a running cost near the hold raises it (an incremental authorisation at the emulator); the CDR is captured in full', async () => {
    // no max_price: the default hold, 50.00
    const { account, sessionId } = await newCardSession('increase', null);
    await h.waitForEvent(sessionId, 'payment.authorized');
    // 25.00 of 50.00: below the 80 % threshold, noted only
    await h.costEstimated({ sessionId, accountId: account, costInclVat: '25.00', asOf: '2026-03-01T10:20:00Z' });
    await h.waitForEvent(sessionId, 'payment.session_cost_updated');
    // 42.50 of 50.00: raised by a hold's worth
    await h.costEstimated({ sessionId, accountId: account, costInclVat: '42.50', asOf: '2026-03-01T10:40:00Z' });
    const increased = await h.waitForEvent(sessionId, 'payment.increased');
    expect(increased.amountMinor).toBe('10000');
    await h.settled();
    expect(await h.pspSummary(sessionId)).toMatchObject({ authorizations: 1, increments: 1, captures: 0 });
    // the same estimate again (redelivered): nothing more
    await h.costEstimated({ sessionId, accountId: account, costInclVat: '42.50', asOf: '2026-03-01T10:40:00Z' });
    await h.publishCdr(
      h.cdr({ cdrId: `CDR-${sessionId.slice(0, 8)}`, sessionId, accountId: account, excl: '49.59', incl: '60.00' }),
    );
    expect((await h.waitForEvent(sessionId, 'payment.captured')).amountMinor).toBe('6000');
    await h.settled();
    expect(await h.pspSummary(sessionId)).toMatchObject({
      authorizations: 1,
      increments: 1,
      captures: 1,
      captured_minor: 6000,
    });
    const types = await h.typesOf(sessionId);
    expect(types.filter((t) => t === 'payment.increase_requested')).toHaveLength(1);
  });

  it('stop policy: a running cost near the hold stops the session through ocpp.commands (RemoteStopTransaction)', async () => {
    const { account, sessionId } = await newCardSession('stop', null);
    await h.waitForEvent(sessionId, 'payment.authorized');
    await h.costEstimated({ sessionId, accountId: account, costInclVat: '45.10', asOf: '2026-03-01T10:40:00Z' });
    const stop = await h.waitForEvent(sessionId, 'payment.session_stop_requested');
    expect(stop).toMatchObject({ reason: 'hold_exhausted', transactionId: '42' });
    const command = await waitFor(
      () =>
        h.commands.records
          .map((r) => JSON.parse(r.value!) as { payload: Json })
          .find(
            (e) => (e.payload.payload as Json | undefined)?.transactionId === 42 && e.payload.stationId === 'CP-PAY-1',
          ),
      { what: 'the remote stop' },
    );
    expect(command.payload).toMatchObject({ action: 'RemoteStopTransaction', payload: { transactionId: 42 } });
    // its CDR is still captured (at most the hold)
    await h.publishCdr(
      h.cdr({ cdrId: `CDR-${sessionId.slice(0, 8)}`, sessionId, accountId: account, excl: '37.60', incl: '45.50' }),
    );
    expect((await h.waitForEvent(sessionId, 'payment.captured')).amountMinor).toBe('4550');
  });

  it("a hold of the tariff's max_price covers the session: a cost near it neither raises it nor stops the session", async () => {
    const { account, sessionId } = await newCardSession('stop', '10.00');
    await h.waitForEvent(sessionId, 'payment.authorized');
    await h.costEstimated({
      sessionId,
      accountId: account,
      costInclVat: '9.90',
      asOf: '2026-03-01T10:40:00Z',
      maxPriceInclVat: '10.00',
    });
    const noted = await h.waitForEvent(sessionId, 'payment.session_cost_updated');
    expect(noted.costMinor).toBe('990');
    expect(await h.typesOf(sessionId)).not.toContain('payment.session_stop_requested');
    expect(await h.typesOf(sessionId)).not.toContain('payment.increase_requested');
  });

  it('a hold about to lapse is captured for the running cost (what is due so far)', async () => {
    const { account, sessionId } = await newCardSession('increase', null);
    await h.waitForEvent(sessionId, 'payment.authorized');
    await h.costEstimated({ sessionId, accountId: account, costInclVat: '3.21', asOf: '2026-03-01T10:30:00Z' });
    await h.waitForEvent(sessionId, 'payment.session_cost_updated');
    h.clockOffsetMs = 6.5 * 24 * 3600 * 1000;
    try {
      expect(await h.svc.runner.scanHolds()).toBeGreaterThanOrEqual(1);
    } finally {
      h.clockOffsetMs = 0;
    }
    const captured = await h.waitForEvent(sessionId, 'payment.captured');
    expect(captured.amountMinor).toBe('321');
    await h.settled();
    expect(await h.pspSummary(sessionId)).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 321 });
  });

  it("the scheduler issues last month's statement of an invoice account by itself, once, whatever the instances", async () => {
    const account = `fleet-${randomUUID().slice(0, 8)}`;
    const r = await h.api('POST', '/accounts', {
      accountId: account,
      currency: 'EUR',
      method: { kind: 'invoice', creditLimitMinor: '100000' },
    });
    expect(r.status).toBe(201);
    const now = new Date();
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15, 12));
    const month = lastMonth.toISOString().slice(0, 7);
    const sessionId = randomUUID();
    await h.publishCdr(
      h.cdr({
        cdrId: `CDR-${sessionId.slice(0, 8)}`,
        sessionId,
        accountId: account,
        excl: '10.00',
        incl: '12.10',
        at: lastMonth.toISOString(),
      }),
    );
    await waitFor(
      async () => (await h.query('select 1 from payment_events where session_id = $1', [sessionId])).length,
      {
        what: 'the CDR taken',
      },
    );
    // two scans at once (two instances), then another (a restart): one statement
    await Promise.all([h.svc.scheduler.issueStatements(), h.svc.scheduler.issueStatements()]);
    await h.svc.scheduler.issueStatements();
    const statements = await h.api<{ items: Json[] }>('GET', `/accounts/${account}/statements`);
    expect(statements.status).toBe(200);
    expect(statements.body.items).toHaveLength(1);
    expect(statements.body.items[0]).toMatchObject({ month });
    const issued = await h.query<{ n: string }>(
      `select count(*) as n from payment_events where account_id = $1 and type = 'payment.statement_issued'`,
      [account],
    );
    expect(Number(issued[0].n)).toBe(1);
  });
});
