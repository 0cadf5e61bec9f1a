import { randomUUID } from 'node:crypto';
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
import { startPspEmulator, type PspEmulator } from '../../psp-emulator/src';

/**
 * Crash safety: the payment service as its own process, SIGKILLed at seeded moments while paid sessions start and
 * end (holds, captures, webhooks in flight), restarted each time. At the end every CDR is captured exactly once at
 * the PSP (the emulator counts its captures per payment), no payment is authorised twice, the ledger sums to zero
 * and its balances are the ones an undisturbed run gives (computed from the CDRs).
 */
describe('payment service crash safety: SIGKILL at seeded points during paid sessions (real processes, Kafka, PostgreSQL)', () => {
  const SESSIONS = Number(process.env.PAYMENT_CRASH_SESSIONS ?? 200);
  const ACCOUNTS = 20;
  const KILLS = 3;
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
  let emulator: PspEmulator;
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

  beforeAll(async () => {
    await createTestTopics(testKafka(), Object.values(topics), 3);
    publisher = new KafkaRecordPublisher(testKafka());
    const webhookPort = await freePort();
    emulator = await startPspEmulator({
      port: 0,
      webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/psp`,
      webhookSecret: secret,
      apiKey,
      webhookRetryBaseMs: 100,
    });
    env = {
      ...topics,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(db),
      HTTP_PORT: String(await freePort()),
      API_KEYS: admin.entry,
      PAYMENT_CONSUMER_GROUP: uniqueName('crash-payments'),
      PSP_API_URL: emulator.url,
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
    await emulator?.close();
    await publisher?.disconnect();
    await dropTestDatabases([db]);
  }, 120_000);

  const count = async (sql: string) => Number((await pg.query<{ n: string }>(sql)).rows[0].n);

  it(`${SESSIONS} card sessions with ${KILLS} SIGKILLs: every CDR captured exactly once, nothing authorised twice, the books as undisturbed`, async () => {
    const psp = emulator.psp as unknown as {
      createCustomer(p: Record<string, unknown>): { id: string; invoice_settings: { default_payment_method: string } };
    };
    const accounts: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const c = psp.createCustomer({ payment_method: 'pm_card_visa' });
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
    const cdrs = sessions.map((s) => {
      const ex = CdrCreatedV3.example;
      return catalogue.create(CdrCreatedV3, {
        id: deriveId('crash-cdr', s.sessionId),
        key: s.sessionId,
        occurredAt: '2026-03-01T11:00:00Z',
        source: 'test',
        payload: {
          ...ex,
          cdr: {
            ...ex.cdr,
            id: `CRASH-${s.i}`,
            total_cost: { excl_vat: money(exclOf(incl(s.i))), incl_vat: money(incl(s.i)) },
          },
          audit: { ...ex.audit, sessionId: s.sessionId },
          billingAccountId: accounts[s.i % ACCOUNTS],
        },
      });
    });

    // sessions start, their CDRs follow in waves; the service is killed at seeded moments in between
    const publishing = (async () => {
      for (let k = 0; k < SESSIONS; k += 20) {
        const batch = started.slice(k, k + 20);
        await publisher.publish(
          batch.map((e) => ({ topic: topics.SESSION_EVENTS_TOPIC, key: e.key, value: JSON.stringify(e) })),
        );
        await new Promise((r) => setTimeout(r, 300));
        const done = cdrs.slice(Math.max(0, k - 40), Math.max(0, k - 20));
        if (done.length > 0)
          await publisher.publish(
            done.map((e) => ({ topic: topics.BILLING_EVENTS_TOPIC, key: e.key, value: JSON.stringify(e) })),
          );
      }
      const rest = cdrs.slice(Math.max(0, SESSIONS - 40));
      await publisher.publish(
        rest.map((e) => ({ topic: topics.BILLING_EVENTS_TOPIC, key: e.key, value: JSON.stringify(e) })),
      );
    })();
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 1000 + Math.floor(rnd() * 3000)));
      svc!.kill('SIGKILL');
      await svc!.exited();
      await start();
    }
    await publishing;

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
    await emulator.webhooksIdle();

    // at the PSP: one authorisation and one capture per session, for exactly the CDR's total
    const payments = emulator.ledger().filter((p) => sessions.some((s) => s.sessionId === p.metadata.session_id));
    expect(payments).toHaveLength(SESSIONS);
    const wrong = payments.filter((p) => p.authorizations !== 1 || p.captures !== 1 || p.refunds !== 0);
    expect(wrong).toEqual([]);
    const capturedByPsp = payments.reduce((n, p) => n + p.captured_minor, 0);
    const due = sessions.reduce((n, s) => n + incl(s.i), 0);
    expect(capturedByPsp).toBe(due);
    // in the service: one payment.captured per session, the books balanced and as an undisturbed run has them
    expect(await count(`select count(*) as n from payment_events where type = 'payment.captured'`)).toBe(SESSIONS);
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
    const revenue = sessions.reduce((n, s) => n + exclOf(incl(s.i)), 0);
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
