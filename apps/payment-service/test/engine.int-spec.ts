import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { systemCatalogue, type Envelope } from '@csms/contracts';
import { createTestDatabase, type TestDatabase } from '@csms/testing';
import { PaymentEngine } from '../src/engine';
import { paymentServiceMigrations } from '../src/migrations';
import { paymentRules } from '../src/rules';

/**
 * The service's load -> decide -> save around libs/payments' decider, on PostgreSQL (no broker, no PSP: the PSP's
 * answers are given as provider_outcome commands): the intents it records, the ledger it posts, the remote stop of
 * a declined session, and the refold of its own events into an empty database (the rebuild's path) giving the same
 * states, transfer ids and balances.
 */
describe('payment engine on PostgreSQL: intents, ledger, stop command, refold', () => {
  const catalogue = systemCatalogue();
  const engine = new PaymentEngine(paymentRules(), catalogue, { stopCommandTtlS: 300 });
  let db: TestDatabase;
  let copy: TestDatabase;
  const emitted: Envelope[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('payengine', paymentServiceMigrations);
    copy = await createTestDatabase('payengine_copy', paymentServiceMigrations);
  });
  afterAll(async () => {
    await db?.drop();
    await copy?.drop();
  });

  const decide = async (cmd: Record<string, unknown>) => {
    const out = await db.dataSource.transaction((m) =>
      engine.decide(m, { sourceEventId: randomUUID(), at: '2026-03-01T10:00:00Z', ...cmd } as never),
    );
    emitted.push(...out);
    return out;
  };
  const intent = async (sessionId: string, kind: string) =>
    (
      await db.dataSource.query(`select * from psp_intents where session_id = $1 and kind = $2`, [sessionId, kind])
    )[0] as { intent_id: string; status: string; request: Record<string, string> } | undefined;
  const payment = (ref: string, status: string, authorized: bigint, captured = 0n) => ({
    kind: 'payment',
    payment: {
      paymentRef: ref,
      status,
      currency: 'EUR',
      amountAuthorizedMinor: authorized,
      amountCapturedMinor: captured,
      amountRefundedMinor: 0n,
      holdExpiresAt: '2026-03-08T10:00:00Z',
      feeMinor: null,
    },
  });

  async function books(ds: DataSource) {
    return {
      balances: await ds.query('select account, posted_minor, pending_minor from ledger_balances order by account'),
      transfers: await ds.query(
        `select t.transfer_id, t.initial_state, t.pending_id, t.session_id,
                (select json_agg(json_build_array(p.account, p.amount_minor::text) order by p.line) from ledger_postings p where p.transfer_id = t.transfer_id) as postings,
                (select json_agg(s.state order by s.state) from ledger_transfer_states s where s.transfer_id = t.transfer_id) as states
           from ledger_transfers t order by t.transfer_id`,
      ),
      states: await ds.query('select account_id, state from account_state order by account_id'),
      intents: await ds.query('select intent_id, kind, status from psp_intents order by intent_id'),
      settled: await ds.query('select account_id, kind, id, entry::text from payment_settled order by 1, 2, 3'),
    };
  }

  it('card: hold requested at start, pending transfer on authorisation, exact capture at the CDR, books balanced', async () => {
    const acct = 'eng-card';
    const sessionId = randomUUID();
    await decide({
      type: 'open_account',
      accountId: acct,
      currency: 'EUR',
      method: { kind: 'card', customerRef: 'cus_1', paymentMethodRef: 'pm_1' },
      openedBy: 'test',
    });
    await decide({
      type: 'session_started',
      accountId: acct,
      sessionId,
      stationId: 'CP-1',
      transactionId: '42',
      evseId: null,
      connectorId: 1,
      currency: 'EUR',
      holdAmountMinor: 5000n,
    });
    const auth = await intent(sessionId, 'authorize');
    expect(auth).toMatchObject({ status: 'pending', request: { amountMinor: '5000', customerRef: 'cus_1' } });
    await decide({
      type: 'provider_outcome',
      accountId: acct,
      intentId: auth!.intent_id,
      result: payment('pi_1', 'authorized', 5000n),
    });
    expect((await intent(sessionId, 'authorize'))!.status).toBe('done');
    await decide({
      type: 'cdr_created',
      accountId: acct,
      cdrId: 'CDR-ENG-1',
      sessionId,
      currency: 'EUR',
      totalExclVat: '7.00',
      totalInclVat: '8.47',
      credit: false,
      creditReferenceId: null,
    });
    const cap = await intent(sessionId, 'capture');
    expect(cap).toMatchObject({ status: 'pending', request: { amountMinor: '847', paymentRef: 'pi_1' } });
    // the same outcome twice (runner and webhook): applied once
    for (let i = 0; i < 2; i++)
      await decide({
        type: 'provider_outcome',
        accountId: acct,
        intentId: cap!.intent_id,
        result: payment('pi_1', 'captured', 5000n, 847n),
      });
    const captured = emitted.filter((e) => e.type === 'payment.captured');
    expect(captured).toHaveLength(1);
    const [bal] = await db.dataSource.query(
      `select posted_minor from ledger_balances where account = 'psp_clearing:EUR'`,
    );
    expect(bal.posted_minor).toBe('847');
    const sums = await db.dataSource.query(
      'select transfer_id from ledger_postings group by transfer_id having sum(amount_minor) <> 0',
    );
    expect(sums).toEqual([]);
  });

  it('a declined hold asks for the session to stop: RequestStopTransaction for 2.0.1, on ocpp.commands', async () => {
    const acct = 'eng-decline';
    const sessionId = randomUUID();
    await db.dataSource.query(
      `insert into payment_sessions (session_id, account_id, station_id, protocol, transaction_id, started_at)
       values ($1, $2, 'CP-201', 'ocpp2.0.1', 'tx-9', now())`,
      [sessionId, acct],
    );
    await decide({
      type: 'open_account',
      accountId: acct,
      currency: 'EUR',
      method: { kind: 'card', customerRef: 'cus_2', paymentMethodRef: 'pm_2' },
      openedBy: 'test',
    });
    await decide({
      type: 'session_started',
      accountId: acct,
      sessionId,
      stationId: 'CP-201',
      transactionId: 'tx-9',
      evseId: 1,
      connectorId: null,
      currency: 'EUR',
      holdAmountMinor: 5000n,
    });
    const auth = await intent(sessionId, 'authorize');
    const out = await decide({
      type: 'provider_outcome',
      accountId: acct,
      intentId: auth!.intent_id,
      result: { kind: 'decline', code: 'card_declined', message: 'declined', paymentRef: null },
    });
    expect(out.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'payment.authorization_failed',
        'payment.session_stop_requested',
        'ocpp.command_requested',
      ]),
    );
    const cmd = out.find((e) => e.type === 'ocpp.command_requested')!;
    expect(cmd.key).toBe('CP-201');
    expect(cmd.payload).toMatchObject({ action: 'RequestStopTransaction', payload: { transactionId: 'tx-9' } });
    expect((await intent(sessionId, 'authorize'))!.status).toBe('failed');
  });

  it('a credit CDR for a session settled long ago (30 sessions back) is refunded against its hold; the state stays small', async () => {
    const acct = 'eng-late-credit';
    await decide({
      type: 'open_account',
      accountId: acct,
      currency: 'EUR',
      method: { kind: 'card', customerRef: 'cus_9', paymentMethodRef: 'pm_9' },
      openedBy: 'test',
    });
    const sessions = Array.from({ length: 30 }, (_, i) => `late-${i}-${randomUUID()}`);
    for (const [i, sessionId] of sessions.entries()) {
      await decide({
        type: 'session_started',
        accountId: acct,
        sessionId,
        stationId: 'CP-9',
        transactionId: String(100 + i),
        evseId: null,
        connectorId: 1,
        currency: 'EUR',
        holdAmountMinor: 5000n,
      });
      const auth = await intent(sessionId, 'authorize');
      await decide({
        type: 'provider_outcome',
        accountId: acct,
        intentId: auth!.intent_id,
        result: payment(`pi_late_${i}`, 'authorized', 5000n),
      });
      await decide({
        type: 'cdr_created',
        accountId: acct,
        cdrId: `CDR-LATE-${i}`,
        sessionId,
        currency: 'EUR',
        totalExclVat: '7.00',
        totalInclVat: '8.47',
        credit: false,
        creditReferenceId: null,
      });
      const cap = await intent(sessionId, 'capture');
      await decide({
        type: 'provider_outcome',
        accountId: acct,
        intentId: cap!.intent_id,
        result: payment(`pi_late_${i}`, 'captured', 5000n, 847n),
      });
    }
    const stored = async () =>
      (await db.dataSource.query('select state from account_state where account_id = $1', [acct]))[0].state as {
        sessions: Record<string, unknown>;
        archive: Record<string, unknown>;
        recentSources: string[];
      };
    const before = await stored();
    // the settled sessions are rows, not state: only the newest (settled after the last CDR) is still in it
    expect(Object.keys(before.sessions).length).toBeLessThanOrEqual(1);
    expect(before.archive).toEqual({});
    expect(before.recentSources).toEqual([]);
    const [settled] = await db.dataSource.query(
      `select count(*) filter (where kind = 'session')::int as sessions, count(*) filter (where kind = 'cdr')::int as cdrs
         from payment_settled where account_id = $1`,
      [acct],
    );
    expect(settled).toEqual({ sessions: 29, cdrs: 29 });
    const old = sessions[0];
    // its start arriving again through another input (a redelivery after a crash): no second hold
    expect(
      await decide({
        type: 'session_started',
        accountId: acct,
        sessionId: old,
        stationId: 'CP-9',
        transactionId: '100',
        evseId: null,
        connectorId: 1,
        currency: 'EUR',
        holdAmountMinor: 5000n,
      }),
    ).toEqual([]);
    // the first CDR delivered again (another input id): known, decides nothing
    expect(
      await decide({
        type: 'cdr_created',
        accountId: acct,
        cdrId: 'CDR-LATE-0',
        sessionId: old,
        currency: 'EUR',
        totalExclVat: '7.00',
        totalInclVat: '8.47',
        credit: false,
        creditReferenceId: null,
      }),
    ).toEqual([]);
    // an input decided before, delivered again: decides nothing (payment_events' source index)
    const credit = {
      type: 'cdr_created',
      accountId: acct,
      sourceEventId: randomUUID(),
      cdrId: 'CDR-LATE-0-C',
      sessionId: old,
      currency: 'EUR',
      totalExclVat: '-7.00',
      totalInclVat: '-8.47',
      credit: true,
      creditReferenceId: 'CDR-LATE-0',
    };
    expect((await decide(credit)).map((e) => e.type)).toContain('payment.cdr_recorded');
    expect(await decide(credit)).toEqual([]);
    const corrected = await decide({
      type: 'cdr_created',
      accountId: acct,
      cdrId: 'CDR-LATE-0b',
      sessionId: old,
      currency: 'EUR',
      totalExclVat: '4.13',
      totalInclVat: '5.00',
      credit: false,
      creditReferenceId: null,
    });
    expect(corrected.map((e) => e.type)).not.toContain('payment.capture_requested');
    expect(corrected.find((e) => e.type === 'payment.refund_requested')?.payload).toMatchObject({
      paymentRef: 'pi_late_0',
      amountMinor: '347',
    });
    const refund = await intent(old, 'refund');
    expect(refund).toMatchObject({ status: 'pending', request: { amountMinor: '347', paymentRef: 'pi_late_0' } });
    const done = await decide({
      type: 'provider_outcome',
      accountId: acct,
      intentId: refund!.intent_id,
      result: {
        kind: 'refund',
        refund: { refundRef: 're_1', paymentRef: 'pi_late_0', amountMinor: 347n, status: 'succeeded' },
      },
    });
    expect(done.map((e) => e.type)).toContain('payment.refunded');
    const sums = await db.dataSource.query(
      'select transfer_id from ledger_postings group by transfer_id having sum(amount_minor) <> 0',
    );
    expect(sums).toEqual([]);
  });

  it("a chunk's look-ups answered at its start (loadChunk's probes, one query) decide as one look-up each would", async () => {
    const acct = 'eng-chunk-probes';
    await decide({
      type: 'open_account',
      accountId: acct,
      currency: 'EUR',
      method: { kind: 'card', customerRef: 'cus_10', paymentMethodRef: 'pm_10' },
      openedBy: 'test',
    });
    const sessions = Array.from({ length: 3 }, (_, i) => `probe-${i}-${randomUUID()}`);
    const starts: string[] = [];
    for (const [i, sessionId] of sessions.entries()) {
      const start = randomUUID();
      starts.push(start);
      await decide({
        type: 'session_started',
        accountId: acct,
        sourceEventId: start,
        sessionId,
        stationId: 'CP-10',
        transactionId: String(200 + i),
        evseId: null,
        connectorId: 1,
        currency: 'EUR',
        holdAmountMinor: 5000n,
      });
      const auth = await intent(sessionId, 'authorize');
      await decide({
        type: 'provider_outcome',
        accountId: acct,
        intentId: auth!.intent_id,
        result: payment(`pi_probe_${i}`, 'authorized', 5000n),
      });
      await decide({
        type: 'cdr_created',
        accountId: acct,
        cdrId: `CDR-PROBE-${i}`,
        sessionId,
        currency: 'EUR',
        totalExclVat: '7.00',
        totalInclVat: '8.47',
        credit: false,
        creditReferenceId: null,
      });
      const cap = await intent(sessionId, 'capture');
      await decide({
        type: 'provider_outcome',
        accountId: acct,
        intentId: cap!.intent_id,
        result: payment(`pi_probe_${i}`, 'captured', 5000n, 847n),
      });
    }
    const old = sessions[0];
    const at = '2026-03-01T11:00:00Z';
    const creditSource = randomUUID();
    const credit = {
      type: 'cdr_created',
      accountId: acct,
      sourceEventId: creditSource,
      at,
      cdrId: 'CDR-PROBE-0-C',
      sessionId: old,
      currency: 'EUR',
      totalExclVat: '-7.00',
      totalInclVat: '-8.47',
      credit: true,
      creditReferenceId: 'CDR-PROBE-0',
    };
    const againSource = randomUUID();
    const againCdr = {
      type: 'cdr_created',
      accountId: acct,
      sourceEventId: againSource,
      at,
      cdrId: 'CDR-PROBE-0',
      sessionId: old,
      currency: 'EUR',
      totalExclVat: '7.00',
      totalInclVat: '8.47',
      credit: false,
      creditReferenceId: null,
    };
    const startAgain = {
      type: 'session_started',
      accountId: acct,
      sourceEventId: randomUUID(),
      at,
      sessionId: old,
      stationId: 'CP-10',
      transactionId: '200',
      evseId: null,
      connectorId: 1,
      currency: 'EUR',
      holdAmountMinor: 5000n,
    };
    const firstStartAgain = { ...startAgain, sourceEventId: starts[0] };
    const out = await db.dataSource.transaction(async (m) => {
      const cache = await engine.loadChunk(
        m,
        [acct],
        [
          { accountId: acct, sourceEventId: startAgain.sourceEventId, startedSessionId: old },
          { accountId: acct, sourceEventId: starts[0], startedSessionId: old },
          { accountId: acct, sourceEventId: againSource, sessionId: old, cdrId: 'CDR-PROBE-0' },
          { accountId: acct, sourceEventId: creditSource, sessionId: old, cdrId: 'CDR-PROBE-0-C' },
        ],
      );
      expect(cache.answered.size).toBeGreaterThan(0);
      // from here on the decisions look nothing up: every query they make is counted
      const queries: string[] = [];
      const query = m.query.bind(m);
      (m as { query: typeof m.query }).query = ((sql: string, p?: unknown[]) => {
        queries.push(sql);
        return query(sql, p);
      }) as typeof m.query;
      const decided = {
        startAgain: await engine.decide(m, startAgain as never, cache),
        firstStartAgain: await engine.decide(m, firstStartAgain as never, cache),
        againCdr: await engine.decide(m, againCdr as never, cache),
        credit: await engine.decide(m, credit as never, cache),
        creditAgain: await engine.decide(m, credit as never, cache),
      };
      expect(queries.filter((q) => /payment_settled|sourceEventId/.test(q))).toEqual([]);
      (m as { query: typeof m.query }).query = query;
      await engine.flushChunk(m, cache);
      return decided;
    });
    // a settled session's start again (another input, or the same one): no second hold
    expect(out.startAgain).toEqual([]);
    expect(out.firstStartAgain).toEqual([]);
    // its CDR again under another input id: known (a payment_settled row), decides nothing
    expect(out.againCdr).toEqual([]);
    // a credit CDR for it: recorded, refunded against its hold (the archived session found); the same input again
    // in the same chunk decides nothing (the chunk's own decisions)
    expect(out.credit.map((e) => e.type)).toContain('payment.cdr_recorded');
    expect(out.creditAgain).toEqual([]);
    emitted.push(...out.credit);
    // and in a later chunk (payment_events' source index, answered at that chunk's start)
    const later = await db.dataSource.transaction(async (m) => {
      const cache = await engine.loadChunk(m, [acct], [{ accountId: acct, sourceEventId: creditSource }]);
      return engine.decide(m, credit as never, cache);
    });
    expect(later).toEqual([]);
  });

  it('refolding its own events into an empty database gives the same states, transfer ids and balances', async () => {
    // what payment.events holds (remote stops go to ocpp.commands, standings to registry.accounts)
    const events = emitted.filter((e) => e.type.startsWith('payment.') || e.type.startsWith('ledger.'));
    // the rebuild reads the topic: each account's events in order (one partition per key), accounts interleaved
    const byAccount = new Map<string, Envelope[]>();
    for (const e of events) byAccount.set(e.key, [...(byAccount.get(e.key) ?? []), e]);
    const interleaved: Envelope[] = [];
    const queues = [...byAccount.values()].reverse();
    while (queues.some((q) => q.length > 0)) for (const q of queues) if (q.length > 0) interleaved.push(q.shift()!);
    await copy.dataSource.transaction(async (m) => {
      // in batches, as the topic's batches come
      const read = interleaved.map((e) => catalogue.parse(JSON.parse(catalogue.encode(e))));
      for (let k = 0; k < read.length; k += 4) await engine.refold(m, read.slice(k, k + 4));
      // applied twice: nothing changes
      await engine.refold(m, interleaved);
    });
    expect(await books(copy.dataSource)).toEqual(await books(db.dataSource));
  });

  it('a state the engine wrote is reused only while its row is unchanged: a rolled-back write and another writer are read again', async () => {
    const acct = 'eng-state-cache';
    const at = '2026-03-01T10:00:00Z';
    // another instance of the service, on the same database
    const other = new PaymentEngine(paymentRules(), catalogue, { stopCommandTtlS: 300 });
    const run = (e: PaymentEngine, cmd: Record<string, unknown>) =>
      db.dataSource.transaction((m) => e.decide(m, cmd as never));
    const topUp = (ref: string, amountMinor: bigint) => ({
      type: 'top_up_wallet',
      accountId: acct,
      sourceEventId: `state-cache-${ref}`,
      at,
      topUpRef: ref,
      currency: 'EUR',
      amountMinor,
      via: 'bank',
    });
    const balance = async () =>
      (
        (await db.dataSource.query('select state from account_state where account_id = $1', [acct]))[0] as {
          state: { walletBalanceMinor: string };
        }
      ).state.walletBalanceMinor;
    await run(engine, {
      type: 'open_account',
      accountId: acct,
      sourceEventId: 'state-cache-open',
      at,
      currency: 'EUR',
      method: { kind: 'wallet' },
      openedBy: 'test',
    });
    await run(engine, topUp('a', 1000n));
    // decided and written, then rolled back: the row keeps its state, and so does the engine
    await expect(
      db.dataSource.transaction(async (m) => {
        expect(await engine.decide(m, topUp('b', 500n) as never)).not.toHaveLength(0);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await balance()).toBe('1000');
    expect(await run(engine, topUp('b', 500n))).not.toHaveLength(0); // not taken for a top-up already made
    expect(await balance()).toBe('1500');
    // another writer: this engine reads what it wrote
    expect(await run(other, topUp('c', 250n))).not.toHaveLength(0);
    expect(await run(engine, topUp('d', 1n))).not.toHaveLength(0);
    expect(await balance()).toBe('1751');
    // a chunk reads it once, decides in memory and writes it once
    await db.dataSource.transaction(async (m) => {
      const cache = await engine.loadChunk(m, [acct]);
      expect((cache.get(acct)!.state as { walletBalanceMinor: string }).walletBalanceMinor).toBe('1751');
      expect(await engine.decide(m, topUp('e', 9n) as never, cache)).not.toHaveLength(0);
      expect(await engine.decide(m, topUp('c', 250n) as never, cache)).toHaveLength(0); // made by the other one
      await engine.flushChunk(m, cache);
    });
    expect(await balance()).toBe('1760');
    expect(await run(other, topUp('f', 40n))).not.toHaveLength(0);
    expect(await balance()).toBe('1800');
  });
});
