import { randomUUID } from 'node:crypto';
import { silentLogger } from '@csms/platform';
import { waitFor } from '@csms/testing';
import { SessionStartedV1, deriveId, systemCatalogue } from '@csms/contracts';
import {
  endRecordingSessions,
  recordSession,
  recordSessionInChunk,
  startRecordingSessions,
} from '../src/inputs.handler';
import { rebuildPaymentService } from '../src/rebuild';
import { HOLDS_FROM_EVENTS_SQL } from '../src/migrations-throughput';
import { PaymentHarness, operator, type Json } from './harness';

/**
 * The payment service against real Kafka and PostgreSQL and the PSP emulator (in process, through the Stripe
 * adapter): card, wallet and invoice sessions, credit CDRs, a decline that stops the session, PSP faults, the
 * ledger's rules. After every scenario the books are checked: each transfer and each currency sums to zero, the
 * derived balances equal the sums of the postings.
 */
describe('payment service: holds, captures, refunds and a double-entry ledger (real Kafka, PostgreSQL, PSP emulator)', () => {
  const h = new PaymentHarness();

  beforeAll(() => h.start(), 120_000);
  afterAll(() => h.stop(), 60_000);
  afterEach(async () => {
    await h.settled();
    await h.checkBooks();
  }, 60_000);

  /** A PSP customer with a saved card (a `pm_card_*` test method), as the emulator keeps it. */
  const customer = (pm: string): { customerRef: string; paymentMethodRef: string } => {
    const c = (h.emulator.psp as unknown as { createCustomer(p: Record<string, unknown>): Json }).createCustomer({
      payment_method: pm,
    });
    return {
      customerRef: c.id as string,
      paymentMethodRef: (c.invoice_settings as { default_payment_method: string }).default_payment_method,
    };
  };

  const openCard = async (accountId: string, pm = 'pm_card_visa') => {
    const r = await h.api('POST', '/accounts', {
      accountId,
      currency: 'EUR',
      method: { kind: 'card', ...customer(pm) },
    });
    expect(r.status).toBe(201);
  };

  /** A card account with a token, a session started with it, and its hold authorised. */
  const authorizedCardSession = async (uid: string) => {
    const account = `card-${randomUUID().slice(0, 8)}`;
    await openCard(account);
    await h.token(uid, account);
    const sessionId = randomUUID();
    await h.sessionStarted({ sessionId, uid });
    const authorized = await h.waitForEvent(sessionId, 'payment.authorized');
    return { account, sessionId, authorized };
  };

  it('card: a hold at session start, the exact capture at cdr.created, a balanced journal, the payment record via the API', async () => {
    const { account, sessionId, authorized } = await authorizedCardSession('TOK-CARD-1');
    expect(authorized.amountMinor).toBe('5000'); // PAYMENT_DEFAULT_HOLD EUR=50.00

    await h.publishCdr(
      h.cdr({ cdrId: `CDR-${sessionId.slice(0, 8)}`, sessionId, accountId: account, excl: '7.00', incl: '8.47' }),
    );
    const captured = await h.waitForEvent(sessionId, 'payment.captured');
    expect(captured.amountMinor).toBe('847');
    await h.settled();

    const psp = await h.pspSummary(sessionId);
    expect(psp).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 847, refunds: 0 });

    const record = await h.api<Json>('GET', `/sessions/${sessionId}/payment`);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({
      sessionId,
      accountId: account,
      status: 'captured',
      capturedMinor: '847',
      hold: { requestedMinor: '5000', authorizedMinor: '5000' },
    });
    const journal = await h.api<Json>('GET', `/sessions/${sessionId}/journal`);
    expect(journal.status).toBe(200);
    expect(journal.body.balanced).toBe(true);
    const posted = journal.body.posted as Array<{ account: string; amountMinor: string }>;
    // the CDR: receivable 8.47 against revenue 7.00 + VAT 1.47; the capture moves it to PSP clearing
    expect(posted).toEqual(
      expect.arrayContaining([
        { account: 'revenue_net:EUR', amountMinor: '-700' },
        { account: 'vat_payable:EUR', amountMinor: '-147' },
        { account: 'psp_clearing:EUR', amountMinor: '847' },
      ]),
    );
    const receivable = posted.find((p) => p.account === `customer_receivable:EUR:${account}`);
    expect(receivable?.amountMinor ?? '0').toBe('0');
  });

  it('credit CDR: the difference is refunded, never captured twice', async () => {
    const { account, sessionId } = await authorizedCardSession('TOK-CARD-2');
    const cdrId = `CDR-${sessionId.slice(0, 8)}`;
    await h.publishCdr(h.cdr({ cdrId, sessionId, accountId: account, excl: '7.00', incl: '8.47' }));
    await h.waitForEvent(sessionId, 'payment.captured');
    // the session was corrected: its CDR is credited and a new one (lower) follows
    await h.publishCdr(
      h.cdr({
        cdrId: `${cdrId}-C`,
        sessionId,
        accountId: account,
        excl: '-7.00',
        incl: '-8.47',
        credit: true,
        creditReferenceId: cdrId,
      }),
      h.cdr({ cdrId: `${cdrId}-2`, sessionId, accountId: account, excl: '5.00', incl: '6.05' }),
    );
    const refunded = await h.waitForEvent(sessionId, 'payment.refunded');
    expect(refunded.amountMinor).toBe('242');
    await h.settled();
    const psp = await h.pspSummary(sessionId);
    expect(psp).toMatchObject({ captures: 1, captured_minor: 847, refunds: 1, refunded_minor: 242 });
    const record = await h.api<Json>('GET', `/sessions/${sessionId}/payment`);
    expect(record.body).toMatchObject({ capturedMinor: '847', refundedMinor: '242' });
  });

  it('wallet: a top-up, then each CDR debits the wallet; invoice: a receivable per CDR and a monthly statement', async () => {
    const wallet = `wallet-${randomUUID().slice(0, 8)}`;
    expect(
      (await h.api('POST', '/accounts', { accountId: wallet, currency: 'EUR', method: { kind: 'wallet' } })).status,
    ).toBe(201);
    const top = await h.api('POST', `/accounts/${wallet}/top-ups`, { topUpRef: 'T-1', amount: '20.00' });
    expect(top.status).toBe(201);
    // the same top-up again is the same top-up
    await h.api('POST', `/accounts/${wallet}/top-ups`, { topUpRef: 'T-1', amount: '20.00' });
    const ws = randomUUID();
    await h.publishCdr(
      h.cdr({ cdrId: `CDR-${ws.slice(0, 8)}`, sessionId: ws, accountId: wallet, excl: '7.00', incl: '8.47' }),
    );
    const debited = await h.waitForEvent(ws, 'payment.wallet_debited');
    expect(debited).toMatchObject({ amountMinor: '847', balanceMinor: '1153' });
    await h.settled();
    const wb = await h.api<Json>('GET', `/accounts/${wallet}/balances`);
    const walletLine = (wb.body.balances as Array<{ account: string; postedMinor: string }>).find((b) =>
      b.account.startsWith('wallet_liability:'),
    );
    expect(walletLine?.postedMinor).toBe('-1153'); // a liability: credit balance

    const fleet = `fleet-${randomUUID().slice(0, 8)}`;
    expect(
      (
        await h.api('POST', '/accounts', {
          accountId: fleet,
          currency: 'EUR',
          method: { kind: 'invoice', creditLimitMinor: '100000' },
        })
      ).status,
    ).toBe(201);
    const is = randomUUID();
    await h.publishCdr(
      h.cdr({
        cdrId: `CDR-${is.slice(0, 8)}`,
        sessionId: is,
        accountId: fleet,
        excl: '7.00',
        incl: '8.47',
        at: '2026-02-10T12:00:00Z',
      }),
    );
    const receivable = await h.waitForEvent(is, 'payment.receivable_opened');
    expect(receivable).toMatchObject({ amountMinor: '847', reason: 'invoice' });
    const st = await h.api<Json>('POST', `/accounts/${fleet}/statements`, { month: '2026-02' });
    expect(st.status).toBe(201);
    expect(st.body).toMatchObject({ month: '2026-02', totalMinor: '847' });
    expect((st.body.lines as unknown[]).length).toBe(1);
  });

  it("a wallet that cannot pay is blocked on registry.accounts (the gateway's Authorize verdict) and a top-up unblocks it", async () => {
    const wallet = `wallet-${randomUUID().slice(0, 8)}`;
    await h.api('POST', '/accounts', { accountId: wallet, currency: 'EUR', method: { kind: 'wallet' } });
    await h.api('POST', `/accounts/${wallet}/top-ups`, { topUpRef: 'T-SMALL', amount: '5.00' });
    const ws = randomUUID();
    await h.publishCdr(
      h.cdr({ cdrId: `CDR-${ws.slice(0, 8)}`, sessionId: ws, accountId: wallet, excl: '7.00', incl: '8.47' }),
    );
    const standings = () =>
      h.standings.records
        .filter((r) => r.key === wallet)
        .map(
          (r) =>
            JSON.parse(r.value!) as { type: string; payload: { canPay: boolean; reason: string; revision: number } },
        );
    const blocked = await waitFor(() => standings().find((s) => !s.payload.canPay), {
      what: 'a standing that says the wallet cannot pay',
    });
    expect(blocked.type).toBe('registry.account_standing_changed');
    expect(blocked.payload.reason).toBe('wallet_insufficient');
    await h.api('POST', `/accounts/${wallet}/top-ups`, { topUpRef: 'T-BIG', amount: '50.00' });
    const again = await waitFor(() => standings().find((s) => s.payload.canPay), {
      what: 'a standing that says the wallet can pay again',
    });
    expect(again.payload.revision).toBeGreaterThan(blocked.payload.revision);
  });

  it('a CDR with no billing account is recorded as unbilled, not dropped', async () => {
    const s = randomUUID();
    await h.publishCdr(
      h.cdr({ cdrId: `CDR-NOACCT-${s.slice(0, 8)}`, sessionId: s, accountId: null, excl: '1.00', incl: '1.21' }),
    );
    await waitFor(
      async () => {
        const r = await h.api<{ items: Array<{ cdrId: string; reason: string }> }>(
          'GET',
          '/unbilled-cdrs?limit=500',
          undefined,
          operator.key,
        );
        return r.body.items.find((i) => i.cdrId === `CDR-NOACCT-${s.slice(0, 8)}`);
      },
      { what: 'the unbilled CDR listed' },
    );
  });

  it('a declined hold is recorded and the session is stopped through ocpp.commands (RemoteStopTransaction, 1.6)', async () => {
    const account = `card-${randomUUID().slice(0, 8)}`;
    await openCard(account, 'pm_card_chargeDeclined');
    await h.token('TOK-DECLINE', account);
    const sessionId = randomUUID();
    await h.sessionStarted({ sessionId, uid: 'TOK-DECLINE', stationId: 'CP-DECLINE', transactionId: '77' });
    const failed = await h.waitForEvent(sessionId, 'payment.authorization_failed');
    expect(failed.code).toMatch(/declin/);
    await h.waitForEvent(sessionId, 'payment.session_stop_requested');
    const cmd = await waitFor(
      () =>
        h.commands.records
          .map((r) => JSON.parse(r.value!) as { type: string; payload: Json })
          .find((e) => e.type === 'ocpp.command_requested' && e.payload.stationId === 'CP-DECLINE'),
      { what: 'the remote stop on ocpp.commands' },
    );
    expect(cmd.payload).toMatchObject({ action: 'RemoteStopTransaction', payload: { transactionId: 77 } });
  });

  it('PSP faults: a capture that times out after it succeeded is read back, never captured twice; duplicate webhooks change nothing', async () => {
    const account = `card-${randomUUID().slice(0, 8)}`;
    await openCard(account);
    await h.token('TOK-FAULT', account);
    const sessionId = randomUUID();
    const dup = h.emulator.addFault({ kind: 'duplicate_webhook', count: 2, times: 3 });
    await h.sessionStarted({ sessionId, uid: 'TOK-FAULT' });
    await h.waitForEvent(sessionId, 'payment.authorized');
    const timeout = h.emulator.addFault({ kind: 'timeout_after_success', operations: ['capture'], mode: 'drop' });
    await h.publishCdr(
      h.cdr({ cdrId: `CDR-${sessionId.slice(0, 8)}`, sessionId, accountId: account, excl: '10.00', incl: '12.10' }),
    );
    const captured = await h.waitForEvent(sessionId, 'payment.captured');
    expect(captured.amountMinor).toBe('1210');
    await h.settled();
    const psp = await h.pspSummary(sessionId);
    expect(psp).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 1210 });
    const types = await h.typesOf(sessionId);
    expect(types.filter((t) => t === 'payment.captured')).toHaveLength(1);
    expect(types.filter((t) => t === 'payment.authorized')).toHaveLength(1);
    // the faults did fire: the capture's answer was lost, webhooks came three times each (deduplicated by event id)
    expect(timeout.remaining).toBe(0);
    expect(dup.remaining).toBe(0);
    const [seen] = await h.query<{ n: string }>(`select count(*) as n from psp_webhooks_seen`);
    expect(Number(seen.n)).toBeGreaterThan(0);
  });

  it("webhooks out of order (the capture's before the hold's): nothing applied twice, the late one settles nothing", async () => {
    const account = `card-${randomUUID().slice(0, 8)}`;
    await openCard(account);
    await h.token('TOK-OOO', account);
    const sessionId = randomUUID();
    const ooo = h.emulator.addFault({ kind: 'out_of_order_webhooks', count: 2 });
    await h.sessionStarted({ sessionId, uid: 'TOK-OOO' });
    await h.waitForEvent(sessionId, 'payment.authorized');
    await h.publishCdr(
      h.cdr({ cdrId: `CDR-${sessionId.slice(0, 8)}`, sessionId, accountId: account, excl: '3.00', incl: '3.63' }),
    );
    await h.waitForEvent(sessionId, 'payment.captured');
    await h.settled();
    expect(ooo.remaining).toBe(0);
    const types = await h.typesOf(sessionId);
    expect(types.filter((t) => t === 'payment.authorized')).toHaveLength(1);
    expect(types.filter((t) => t === 'payment.captured')).toHaveLength(1);
    expect(await h.pspSummary(sessionId)).toMatchObject({ authorizations: 1, captures: 1, captured_minor: 363 });
    const record = await h.api<Json>('GET', `/sessions/${sessionId}/payment`);
    expect(record.body).toMatchObject({ status: 'captured', capturedMinor: '363' });
  });

  it('a hold about to lapse with nothing due is released by the hold-expiry scan', async () => {
    const { sessionId } = await authorizedCardSession('TOK-EXPIRY');
    // six and a half days later: the 7-day hold lapses within the margin (a day)
    h.clockOffsetMs = 6.5 * 24 * 3600 * 1000;
    try {
      expect(await h.svc.runner.scanHolds()).toBeGreaterThanOrEqual(1);
    } finally {
      h.clockOffsetMs = 0;
    }
    const released = await h.waitForEvent(sessionId, 'payment.released');
    expect(released.amountMinor).toBe('5000');
    await h.settled();
    expect(await h.pspSummary(sessionId)).toMatchObject({ authorizations: 1, captures: 0, cancels: 1 });
  });

  it('ledger rows cannot be changed or deleted (the database refuses)', async () => {
    await expect(h.query('update ledger_postings set amount_minor = amount_minor + 1')).rejects.toThrow(/immutable/);
    await expect(h.query('delete from ledger_transfers')).rejects.toThrow(/immutable/);
    await expect(h.query(`update ledger_transfer_states set state = 'voided'`)).rejects.toThrow(/immutable/);
    await expect(h.query('truncate ledger_accounts cascade')).rejects.toThrow(/immutable/);
    const [n] = await h.query<{ n: string }>('select count(*) as n from ledger_postings');
    expect(Number(n.n)).toBeGreaterThan(0);
  });

  it('a transfer that does not balance is refused by the database: a sum other than zero, two currencies, one posting', async () => {
    const [eur, eur2] = await h.query<{ name: string }>(
      `select name from ledger_accounts where currency = 'EUR' order by name limit 2`,
    );
    class RolledBack extends Error {}
    // each attempt in a transaction of its own, the check made at the statement's end instead of at commit, and rolled
    // back: nothing stays (the rebuild below compares the books)
    const attempt = (postings: Array<[string, number]>) =>
      h.svc.dataSource.transaction(async (m) => {
        await m.query('set constraints ledger_transfers_balanced immediate');
        await m.query(
          `insert into ledger_accounts (name, chart, currency, created_at) values ('test:chf', 'bank', 'CHF', now())`,
        );
        await m.query(
          `with t as (insert into ledger_transfers (transfer_id, currency, initial_state, source_event_id, event_id, reason, at)
                      values ('test', 'EUR', 'posted', 'test', gen_random_uuid(), 'test', now()) returning transfer_id)
           insert into ledger_postings (transfer_id, line, account, amount_minor)
           select t.transfer_id, x.line, x.account, x.amount
             from t, unnest($1::text[], $2::bigint[]) with ordinality as x(account, amount, line)`,
          [postings.map((p) => p[0]), postings.map((p) => p[1])],
        );
        throw new RolledBack('balanced');
      });
    await expect(
      attempt([
        [eur.name, 100],
        [eur2.name, -99],
      ]),
    ).rejects.toThrow(/does not balance \(2 postings, sum 1, 1 currencies\)/);
    await expect(
      attempt([
        [eur.name, 100],
        ['test:chf', -100],
      ]),
    ).rejects.toThrow(/does not balance \(2 postings, sum 0, 2 currencies\)/);
    await expect(attempt([[eur.name, 100]])).rejects.toThrow(/does not balance \(1 postings, sum 100, 1 currencies\)/);
    // the same statement with a balanced transfer passes the check (the refusals above are the check's)
    await expect(
      attempt([
        [eur.name, 100],
        [eur2.name, -100],
      ]),
    ).rejects.toThrow(RolledBack);
    expect(await h.query(`select count(*)::int as n from ledger_transfers where transfer_id = 'test'`)).toEqual([
      { n: 0 },
    ]);
  });

  it("the recording group's session starts, a chunk at a time, give the rows one at a time gives", async () => {
    const tag = randomUUID().slice(0, 8);
    await h.token(`REC-A-${tag}`, `acct-rec-${tag}`);
    await h.token(`REC-NONE-${tag}`, null);
    const cat = systemCatalogue();
    const started = (n: number, sessionId: string, uid: string | undefined, answered?: string | null) =>
      cat.create(SessionStartedV1, {
        id: deriveId('test-recording', tag, String(n)),
        key: sessionId,
        occurredAt: '2026-03-01T10:00:00Z',
        source: 'test',
        payload: {
          ...SessionStartedV1.example,
          sessionId,
          stationId: `CP-REC-${n}`,
          transactionId: String(n),
          startedAt: '2026-03-01T10:00:00Z',
          ...(uid === undefined
            ? { idToken: undefined }
            : {
                idToken: {
                  idToken: uid,
                  type: 'ocpp1.6-idTag',
                  ...(answered === undefined
                    ? {}
                    : { registry: { revision: 3, groupId: null, billingAccountId: answered } }),
                },
              }),
        },
      });
    // session ids are uuids: one derived per case
    const s = (k: string) => deriveId('test-recording-session', tag, k);
    const events = [
      started(1, s('known'), `REC-A-${tag}`), // the copy of the registry knows the token
      started(2, s('unknown'), `REC-X-${tag}`), // it does not
      started(3, s('no-account'), `REC-NONE-${tag}`), // a token with no account
      started(4, s('answered'), `REC-A-${tag}`, 'acct-as-answered'), // the registry's answer, recorded on the event
      started(5, s('answered-none'), `REC-A-${tag}`, null), // answered: no account
      started(6, s('no-token'), undefined),
      started(7, s('known'), `REC-NONE-${tag}`), // the same session again: the first row stays
    ];
    class RolledBack extends Error {}
    const rows = async (write: (m: Parameters<typeof recordSession>[0]) => Promise<void>) => {
      let out: unknown[] = [];
      await expect(
        h.svc.dataSource.transaction(async (m) => {
          await write(m);
          out = await m.query(
            `select session_id, account_id, station_id, protocol, transaction_id, evse_id, connector_id, id_token, started_at, event_id
               from payment_sessions where session_id = any($1::text[]) order by session_id`,
            [events.map((e) => e.payload.sessionId)],
          );
          throw new RolledBack();
        }),
      ).rejects.toThrow(RolledBack);
      return out;
    };
    const oneAtATime = await rows(async (m) => {
      for (const e of events) await recordSession(m, e);
    });
    const chunked = await rows(async (m) => {
      const scratch = new Map<string, unknown>();
      await startRecordingSessions(m, scratch, events);
      for (const e of events) await recordSessionInChunk(m, scratch, e);
      await endRecordingSessions(m, scratch);
    });
    expect(chunked).toEqual(oneAtATime);
    const byId = new Map(
      (chunked as Array<{ session_id: string; account_id: string | null; station_id: string }>).map((r) => [
        r.session_id,
        r,
      ]),
    );
    expect(byId.size).toBe(6);
    expect(byId.get(s('known'))).toMatchObject({ account_id: `acct-rec-${tag}`, station_id: 'CP-REC-1' });
    expect(byId.get(s('unknown'))?.account_id).toBeNull();
    expect(byId.get(s('no-account'))?.account_id).toBeNull();
    expect(byId.get(s('answered'))?.account_id).toBe('acct-as-answered');
    expect(byId.get(s('answered-none'))?.account_id).toBeNull();
    expect(byId.get(s('no-token'))).toMatchObject({ account_id: null, id_token: null });
  });

  it('payment_holds, what the hold-expiry scan reads, holds what the recorded events say: open and closed holds, each lapse', async () => {
    // a hold still open (a session started, no CDR yet)
    await authorizedCardSession('TOK-HOLDS');
    await h.settled();
    const rows = (sql: string) =>
      h.query(`select account_id, hold_id, expires_at::text, closed from (${sql}) x order by account_id, hold_id`);
    const table = await rows('select * from payment_holds');
    // the scenarios above left holds of both kinds: captured or released ones, and the expiry scan's
    expect(table.some((r) => r.closed === true)).toBe(true);
    expect(table.some((r) => r.closed === false)).toBe(true);
    expect(table.every((r) => r.expires_at !== null || r.closed === true)).toBe(true);
    expect(table).toEqual(await rows(HOLDS_FROM_EVENTS_SQL));
    // eight days on, every open hold has lapsed: the scan asks for each of them and for no closed one
    const open = table.filter((r) => r.closed === false).length;
    h.clockOffsetMs = 8 * 24 * 3600 * 1000;
    try {
      expect(await h.svc.runner.scanHolds()).toBe(open);
    } finally {
      h.clockOffsetMs = 0;
    }
  });

  it('rebuild: payment.events refolded into an empty database give the same states, transfer ids and balances; the PSP is not called', async () => {
    await h.settled();
    const books = async () => ({
      balances: await h.query('select account, posted_minor, pending_minor from ledger_balances order by account'),
      transfers: await h.query(
        `select t.transfer_id, t.initial_state, t.pending_id, t.session_id, t.reason,
                (select json_agg(json_build_array(p.account, p.amount_minor::text) order by p.line) from ledger_postings p where p.transfer_id = t.transfer_id) as postings,
                (select json_agg(s.state order by s.state) from ledger_transfer_states s where s.transfer_id = t.transfer_id) as states
           from ledger_transfers t order by t.transfer_id`,
      ),
      states: await h.query('select account_id, state from account_state order by account_id'),
      events: await h.query('select event_id from payment_events order by event_id'),
      accounts: await h.query('select account_id, currency, method, status from billing_accounts order by account_id'),
      intents: await h.query('select intent_id, kind, status from psp_intents order by intent_id'),
      holds: await h.query('select account_id, hold_id, expires_at, closed from payment_holds order by 1, 2'),
    });
    const pspCalls = () =>
      h.emulator.ledger().reduce((n, p) => n + p.authorizations + p.increments + p.captures + p.cancels + p.refunds, 0);
    const before = await books();
    const callsBefore = pspCalls();
    expect(before.transfers.length).toBeGreaterThan(5);
    await h.svc.stop();
    const { events } = await rebuildPaymentService(h.cfg, silentLogger());
    expect(events).toBe(before.events.length);
    await h.startService();
    await h.settled();
    expect(await books()).toEqual(before);
    expect(pspCalls()).toBe(callsBefore);
  }, 240_000);
});
