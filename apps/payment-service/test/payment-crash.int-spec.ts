import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { systemCatalogue, deriveId, CdrCreatedV3, SessionStartedV1, TokenRegisteredV1 } from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
import { newApiKey } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  createTestTopics,
  dropTestDatabases,
  freePort,
  startServiceProcess,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from '@csms/testing';

/**
 * Crash safety: the payment service and the PSP emulator each as its own process (the emulator on a state file),
 * SIGKILLed at seeded moments — the payment service, then the emulator, in turn — while paid sessions start and end
 * (holds, captures, refunds, webhooks in flight), each restarted at once. Every tenth session is corrected: a credit
 * CDR and a lower CDR follow its CDR, so the difference is refunded. At the end every CDR is captured exactly once at
 * the PSP (the emulator's own counts, through its admin API), no payment is authorised twice or refunded twice (a
 * corrected session once, for exactly the difference; the others never), the ledger sums to zero and its balances
 * are the ones an undisturbed run gives (computed from the CDRs).
 */
describe('payment service crash safety: SIGKILL of the payment service and of the PSP emulator at seeded points during paid sessions (real processes, Kafka, PostgreSQL)', () => {
  const SESSIONS = Number(process.env.PAYMENT_CRASH_SESSIONS ?? 200);
  const ACCOUNTS = 20;
  /** in turn: the payment service, the emulator, the payment service, the emulator */
  const KILLS: Array<'payment-service' | 'psp-emulator'> = [
    'payment-service',
    'psp-emulator',
    'payment-service',
    'psp-emulator',
  ];
  /** every tenth session gets a credit CDR and a corrected CDR this much lower */
  const corrected = (i: number) => i % 10 === 3;
  const CORRECTION = (i: number) => 20 + (i % 50);
  const catalogue = systemCatalogue();
  const admin = newApiKey('crash-admin', 'admin');
  const db = `csms_test_paycrash_${process.pid}`;
  const topics = {
    BILLING_EVENTS_TOPIC: uniqueName('crash.billing-events'),
    SESSION_EVENTS_TOPIC: uniqueName('crash.session-events'),
    REGISTRY_TOKENS_TOPIC: uniqueName('crash.registry-tokens'),
    PAYMENT_EVENTS_TOPIC: uniqueName('crash.payment-events'),
    OCPP_COMMANDS_TOPIC: uniqueName('crash.ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName('crash.ocpp-command-results'),
  };
  const secret = `whsec_${randomUUID().replace(/-/g, '')}`;
  const apiKey = `sk_test_${randomUUID().replace(/-/g, '')}`;
  let emu: ServiceProcess | undefined;
  let emuEnv: Record<string, string>;
  let stateDir: string;
  let svc: ServiceProcess | undefined;
  let env: Record<string, string>;
  let publisher: KafkaRecordPublisher;
  let pg: Client;
  // a seeded generator: the kill points are the same on every run
  let seed = 0x5eed1234;
  const rnd = () => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x297a2d39) >>> 0;
    return seed / 2 ** 32;
  };

  const start = async () => {
    svc = await startServiceProcess('payment-service', env, 180_000);
  };
  const startEmulator = async () => {
    emu = await startServiceProcess('psp-emulator', emuEnv, 120_000);
  };
  const emulatorGet = async <T>(path: string) => (await (await fetch(`${emu!.url}/_emulator${path}`)).json()) as T;

  beforeAll(async () => {
    await createTestTopics(testKafka(), Object.values(topics), 3);
    publisher = new KafkaRecordPublisher(testKafka());
    const webhookPort = await freePort();
    stateDir = mkdtempSync(join(tmpdir(), 'payment-crash-psp-'));
    // the emulator as a process on a state file (every change journaled before it answers): the same port after
    // each restart, so the payment service's PSP_API_URL stays valid
    emuEnv = {
      HTTP_PORT: String(await freePort()),
      PSP_EMULATOR_STATE_FILE: join(stateDir, 'state.jsonl'),
      PSP_EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/webhooks/psp`,
      PSP_EMULATOR_WEBHOOK_SECRET: secret,
      PSP_EMULATOR_API_KEY: apiKey,
      PSP_EMULATOR_WEBHOOK_MAX_ATTEMPTS: '1000',
      LOG_LEVEL: 'warn',
    };
    await startEmulator();
    env = {
      ...topics,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(db),
      HTTP_PORT: String(await freePort()),
      API_KEYS: admin.entry,
      PAYMENT_CONSUMER_GROUP: uniqueName('crash-payments'),
      PSP_API_URL: emu!.url,
      PSP_API_KEY: apiKey,
      PSP_WEBHOOK_SECRET: secret,
      PAYMENT_WEBHOOK_PORT: String(webhookPort),
      PAYMENT_RUNNER_POLL_MS: '50',
      // this test publishes session.started itself (no tariff service): the hold at the start, the default
      PAYMENT_HOLD_AT: 'session_started',
      PAYMENT_RETRY_INITIAL_MS: '100',
      PAYMENT_RETRY_MAX_MS: '1000',
      // a runner killed while holding an intent: claimed again (as an unknown outcome, read back first) soon
      PAYMENT_RUNNER_LEASE_MS: '2000',
      LOG_LEVEL: 'warn',
    };
    await start();
    pg = new Client({ connectionString: testDatabaseUrl(db) });
    await pg.connect();
  }, 240_000);

  afterAll(async () => {
    await pg?.end().catch(() => undefined);
    svc?.kill('SIGTERM');
    await svc?.exited();
    emu?.kill('SIGTERM');
    await emu?.exited();
    await publisher?.disconnect();
    await dropTestDatabases([db]);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  const count = async (sql: string) => Number((await pg.query<{ n: string }>(sql)).rows[0].n);

  it(`${SESSIONS} card sessions with ${KILLS.length} SIGKILLs (payment service and emulator in turn): every CDR captured exactly once, nothing authorised or refunded twice, the books as undisturbed`, async () => {
    const accounts: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const c = (await (
        await fetch(`${emu!.url}/v1/customers`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'payment_method=pm_card_visa',
        })
      ).json()) as { id: string; invoice_settings: { default_payment_method: string } };
      const accountId = `crash-${i}`;
      const r = await fetch(`${svc!.url}/api/v1/accounts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          accountId,
          currency: 'EUR',
          method: { kind: 'card', customerRef: c.id, paymentMethodRef: c.invoice_settings.default_payment_method },
        }),
      });
      expect(r.status).toBe(201);
      accounts.push(accountId);
      const token = catalogue.create(TokenRegisteredV1, {
        id: deriveId('crash-token', i),
        key: `CT-${i}`,
        occurredAt: '2026-01-01T00:00:00Z',
        source: 'test',
        payload: {
          ...TokenRegisteredV1.example,
          uid: `CT-${i}`,
          billingAccountId: accountId,
          groupId: null,
          revision: 1,
        },
      });
      await publisher.publish([{ topic: topics.REGISTRY_TOKENS_TOPIC, key: token.key, value: JSON.stringify(token) }]);
    }
    await waitFor(async () => (await count('select count(*) as n from tokens')) === ACCOUNTS, { what: 'tokens' });

    const sessions = Array.from({ length: SESSIONS }, (_, i) => ({ sessionId: deriveId('crash-session', i), i }));
    // totals per session: 1.00 .. 9.99 EUR incl. 21 % VAT, exact in cents
    const incl = (i: number) => 100 + ((i * 37) % 900);
    const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
    const exclOf = (cents: number) => Math.round((cents * 100) / 121);
    const started = sessions.map((s) =>
      catalogue.create(SessionStartedV1, {
        id: deriveId('crash-started', s.sessionId),
        key: s.sessionId,
        occurredAt: '2026-03-01T10:00:00Z',
        source: 'test',
        payload: {
          ...SessionStartedV1.example,
          sessionId: s.sessionId,
          stationId: `CP-CRASH-${s.i % 10}`,
          transactionId: String(1000 + s.i),
          idToken: { idToken: `CT-${s.i % ACCOUNTS}`, type: 'ocpp1.6-idTag' },
        },
      }),
    );
    const cdrOf = (
      s: { sessionId: string; i: number },
      id: string,
      exclVat: string,
      inclVat: string,
      credit?: string,
    ) => {
      const ex = CdrCreatedV3.example;
      return catalogue.create(CdrCreatedV3, {
        id: deriveId('crash-cdr', id),
        key: s.sessionId,
        occurredAt: '2026-03-01T11:00:00Z',
        source: 'test',
        payload: {
          ...ex,
          cdr: {
            ...ex.cdr,
            id,
            total_cost: { excl_vat: exclVat, incl_vat: inclVat },
            ...(credit ? { credit: true, credit_reference_id: credit } : {}),
          },
          audit: { ...ex.audit, sessionId: s.sessionId },
          billingAccountId: accounts[s.i % ACCOUNTS],
        },
      });
    };
    const cdrs = sessions.map((s) => cdrOf(s, `CRASH-${s.i}`, money(exclOf(incl(s.i))), money(incl(s.i))));
    /** what a session finally owes: its CDR, or its corrected CDR */
    const final = (i: number) => (corrected(i) ? incl(i) - CORRECTION(i) : incl(i));
    // a corrected session: the credit CDR of its CDR, then the lower CDR (published one wave after its CDR)
    const corrections = sessions.map((s) =>
      corrected(s.i)
        ? [
            cdrOf(s, `CRASH-${s.i}-C`, `-${money(exclOf(incl(s.i)))}`, `-${money(incl(s.i))}`, `CRASH-${s.i}`),
            cdrOf(s, `CRASH-${s.i}-2`, money(exclOf(final(s.i))), money(final(s.i))),
          ]
        : [],
    );
    const toBilling = (events: typeof cdrs) =>
      events.length === 0
        ? Promise.resolve()
        : publisher.publish(
            events.map((e) => ({ topic: topics.BILLING_EVENTS_TOPIC, key: e.key, value: JSON.stringify(e) })),
          );

    // the sessions start (holds in flight), then their CDRs follow in waves of 40, the corrections a wave later;
    // a seeded moment after each of the first waves (while its captures and refunds are in flight) the payment
    // service or the emulator, in turn, is killed and restarted at once
    await publisher.publish(
      started.map((e) => ({ topic: topics.SESSION_EVENTS_TOPIC, key: e.key, value: JSON.stringify(e) })),
    );
    const WAVE = 40;
    const openIntents = () => count(`select count(*) as n from psp_intents where status not in ('done', 'failed')`);
    const captured = () => count(`select count(*) as n from payment_events where type = 'payment.captured'`);
    /** what was in flight when each kill landed: PSP calls not settled, CDRs published but not captured yet */
    const landed: Array<{ target: string; afterMs: number; openIntents: number; uncaptured: number }> = [];
    for (let w = 0; w * WAVE < SESSIONS; w++) {
      await toBilling(cdrs.slice(w * WAVE, (w + 1) * WAVE));
      if (w > 0) await toBilling(corrections.slice((w - 1) * WAVE, w * WAVE).flat());
      const target = KILLS[w];
      if (!target) continue;
      const afterMs = 50 + Math.floor(rnd() * 350);
      await new Promise((r) => setTimeout(r, afterMs));
      const victim = target === 'payment-service' ? svc! : emu!;
      victim.kill('SIGKILL');
      landed.push({
        target,
        afterMs,
        openIntents: await openIntents(),
        uncaptured: Math.min(SESSIONS, (w + 1) * WAVE) - (await captured()),
      });
      await victim.exited();
      await (target === 'payment-service' ? start() : startEmulator());
    }
    // the last wave's corrections only once every session is captured, so the refund path runs whatever the
    // machine's pace (the earlier waves' corrections race their captures)
    await waitFor(async () => (await captured()) >= SESSIONS, {
      what: `${SESSIONS} captures recorded`,
      timeoutMs: 300_000,
      intervalMs: 500,
    });
    await toBilling(corrections.slice(Math.max(0, SESSIONS - WAVE)).flat());
    if (process.env.PAYMENT_CRASH_VERBOSE) console.log(JSON.stringify(landed));
    // each kind of kill landed at least once with work in flight
    for (const target of new Set(KILLS))
      expect(
        landed.filter((l) => l.target === target && (l.openIntents > 0 || l.uncaptured > 0)).length,
      ).toBeGreaterThan(0);
    const CORRECTED = sessions.filter((s) => corrected(s.i)).length;

    await waitFor(
      async () => (await count(`select count(*) as n from payment_events where type = 'payment.captured'`)) >= SESSIONS,
      { what: `${SESSIONS} captures recorded`, timeoutMs: 300_000, intervalMs: 500 },
    );
    await waitFor(
      async () =>
        (await count(`select count(*) as n from psp_intents where status not in ('done', 'failed')`)) === 0 &&
        (await count('select count(*) as n from outbox')) === 0,
      { what: 'intents settled, outbox published', timeoutMs: 120_000 },
    );
    await waitFor(async () => (await emulatorGet<{ pending: number }>('/webhooks')).pending === 0, {
      what: "the emulator's webhooks delivered",
      timeoutMs: 120_000,
    });

    // at the PSP (the emulator's own counts, across its restarts): one authorisation and one capture per session,
    // for exactly the CDR's total (a session corrected before its capture: the corrected total), a refund only for
    // a corrected session captured before its correction, once, for exactly the difference
    type Summary = {
      metadata: Record<string, string>;
      authorizations: number;
      captures: number;
      captured_minor: number;
      refunds: number;
      refunded_minor: number;
    };
    const settledAt = (p: Summary | undefined, i: number) =>
      p !== undefined && p.captured_minor - p.refunded_minor === final(i);
    await waitFor(
      async () => {
        const all = (await emulatorGet<{ data: Summary[] }>('/ledger')).data;
        const m = new Map(all.map((p) => [p.metadata.session_id, p]));
        return sessions.every((x) => settledAt(m.get(x.sessionId), x.i));
      },
      { what: 'every session settled at the emulator', timeoutMs: 60_000, intervalMs: 500 },
    ).catch(() => undefined); // the assertions below say which
    const { data } = await emulatorGet<{ data: Summary[] }>('/ledger');
    const bySession = new Map(data.map((p) => [p.metadata.session_id, p]));
    const payments = data.filter((p) => sessions.some((s) => s.sessionId === p.metadata.session_id));
    expect(payments).toHaveLength(SESSIONS);
    const wrong = sessions
      .map((s) => ({ s, p: bySession.get(s.sessionId)! }))
      .filter(
        ({ s, p }) =>
          p.authorizations !== 1 ||
          p.captures !== 1 ||
          // the CDR's total, or the corrected one when the correction came before the capture
          (p.captured_minor !== incl(s.i) && p.captured_minor !== final(s.i)) ||
          // a refund only of a corrected session captured before its correction: once, exactly the difference
          p.refunds !== (p.captured_minor === final(s.i) ? 0 : 1) ||
          p.captured_minor - p.refunded_minor !== final(s.i),
      );
    if (process.env.PAYMENT_CRASH_VERBOSE && wrong.length > 0)
      for (const { s: w, p } of wrong.slice(0, 3))
        console.log(
          w.i,
          JSON.stringify(p),
          JSON.stringify(
            (
              await pg.query('select type, payload from payment_events where session_id = $1 order by seq', [
                w.sessionId,
              ])
            ).rows,
          ),
        );
    expect(wrong).toEqual([]);
    const capturedByPsp = payments.reduce((n, p) => n + p.captured_minor - p.refunded_minor, 0);
    const due = sessions.reduce((n, s) => n + final(s.i), 0);
    expect(capturedByPsp).toBe(due);
    // in the service: one payment.captured per session, the books balanced and as an undisturbed run has them
    expect(await count(`select count(*) as n from payment_events where type = 'payment.captured'`)).toBe(SESSIONS);
    const refunded = payments.filter((p) => p.refunds > 0).length;
    if (process.env.PAYMENT_CRASH_VERBOSE) console.log({ corrected: CORRECTED, refunded });
    // some corrections came after their capture (the refund path ran), none was refunded in the service twice
    expect(refunded).toBeGreaterThan(0);
    expect(await count(`select count(*) as n from payment_events where type = 'payment.refunded'`)).toBe(refunded);
    expect(
      (await pg.query('select transfer_id from ledger_postings group by transfer_id having sum(amount_minor) <> 0'))
        .rows,
    ).toEqual([]);
    const bal = Object.fromEntries(
      (
        await pg.query<{ account: string; posted_minor: string; pending_minor: string }>(
          `select account, posted_minor, pending_minor from ledger_balances where billing_account_id is null`,
        )
      ).rows.map((r) => [r.account, [r.posted_minor, r.pending_minor]]),
    );
    const revenue = sessions.reduce((n, s) => n + exclOf(final(s.i)), 0);
    expect(bal['psp_clearing:EUR']).toEqual([String(due), '0']);
    expect(bal['revenue_net:EUR']).toEqual([String(-revenue), '0']);
    expect(bal['vat_payable:EUR']).toEqual([String(-(due - revenue)), '0']);
    const receivables = await pg.query(
      `select account, posted_minor, pending_minor from ledger_balances where chart = 'customer_receivable' and (posted_minor <> 0 or pending_minor <> 0)`,
    );
    expect(receivables.rows).toEqual([]);
    expect(svc!.errorLines()).toEqual([]);
  }, 900_000);
});
