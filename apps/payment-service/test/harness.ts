import type { Kafka } from 'kafkajs';
import {
  CdrCreatedV3,
  SessionCostEstimatedV1,
  SessionStartedV1,
  SessionTariffSelectedV1,
  TokenRegisteredV1,
  deriveId,
  systemCatalogue,
  type Envelope,
} from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  TopicCollector,
  createTestTopics,
  dropTestDatabases,
  freePort,
  startServiceProcess,
  testDatabaseUrl,
  type ServiceProcess,
  testKafka,
  uniqueName,
  waitFor,
} from '@csms/testing';
import { startPspEmulator, type PspEmulator } from '../../psp-emulator/src';
import { loadPaymentServiceConfig, type PaymentServiceConfig } from '../src/config';
import { startPaymentService, type RunningPaymentService } from '../src/service';

export const finance = newApiKey('pay-finance', 'finance');
export const operator = newApiKey('pay-operator', 'operator');

export interface Json {
  [k: string]: unknown;
}

const catalogue = systemCatalogue();

/** The topics of one suite. */
export function paymentTopics() {
  return {
    billing: uniqueName('test.billing-events'),
    sessions: uniqueName('test.session-events'),
    tokens: uniqueName('test.registry-tokens'),
    payments: uniqueName('test.payment-events'),
    commands: uniqueName('test.ocpp-commands'),
    accounts: uniqueName('test.registry-accounts'),
    results: uniqueName('test.ocpp-command-results'),
  };
}
export type PaymentTopics = ReturnType<typeof paymentTopics>;

/**
 * A payment service (in process) on real Kafka and PostgreSQL, calling a PSP emulator (in process, from
 * apps/psp-emulator) through the Stripe adapter; the emulator posts its webhooks to the service's receiver.
 */
export class PaymentHarness {
  kafka!: Kafka;
  publisher!: KafkaRecordPublisher;
  emulator!: PspEmulator;
  /** the emulator as its own process (`start(…, { emulatorProcess: true })`, the benches): then `emulator` is unset */
  emulatorProcess?: ServiceProcess;
  svc!: RunningPaymentService;
  cfg!: PaymentServiceConfig;
  payments!: TopicCollector;
  commands!: TopicCollector;
  standings!: TopicCollector;
  readonly topics = paymentTopics();
  readonly db = `csms_test_payments_${process.pid}_${Math.floor(performance.now())}`;
  readonly secret = `whsec_${uniqueName('secret').replace(/-/g, '')}`;
  readonly apiKey = `sk_test_${uniqueName('key').replace(/-/g, '')}`;

  /**
   * `emulatorProcess`: the PSP emulator runs as its own process (`npm run psp-emulator`, as a deployment has its PSP
   * elsewhere) instead of in this one; the helpers that read the in-process emulator (`settled`, `pspSummary`) then
   * are not for use.
   */
  async start(extra: Record<string, string> = {}, opts: { emulatorProcess?: boolean } = {}): Promise<void> {
    this.kafka = testKafka();
    this.publisher = new KafkaRecordPublisher(this.kafka);
    await createTestTopics(this.kafka, Object.values(this.topics), 3);
    const webhookPort = await freePort();
    let pspUrl: string;
    if (opts.emulatorProcess) {
      this.emulatorProcess = await startServiceProcess('psp-emulator', {
        HTTP_PORT: String(await freePort()),
        PSP_EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/webhooks/psp`,
        PSP_EMULATOR_WEBHOOK_SECRET: this.secret,
        PSP_EMULATOR_API_KEY: this.apiKey,
        LOG_LEVEL: 'warn',
      });
      pspUrl = this.emulatorProcess.url;
    } else {
      this.emulator = await startPspEmulator({
        port: 0,
        webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/psp`,
        webhookSecret: this.secret,
        apiKey: this.apiKey,
        webhookRetryBaseMs: 50,
      });
      pspUrl = this.emulator.url;
    }
    this.cfg = loadPaymentServiceConfig({
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(this.db),
      HTTP_PORT: '0',
      API_KEYS: [finance.entry, operator.entry].join(','),
      PAYMENT_CONSUMER_GROUP: uniqueName('payments'),
      BILLING_EVENTS_TOPIC: this.topics.billing,
      SESSION_EVENTS_TOPIC: this.topics.sessions,
      REGISTRY_TOKENS_TOPIC: this.topics.tokens,
      PAYMENT_EVENTS_TOPIC: this.topics.payments,
      OCPP_COMMANDS_TOPIC: this.topics.commands,
      REGISTRY_ACCOUNTS_TOPIC: this.topics.accounts,
      OCPP_COMMAND_RESULTS_TOPIC: this.topics.results,
      PSP_API_URL: pspUrl,
      PSP_API_KEY: this.apiKey,
      PSP_WEBHOOK_SECRET: this.secret,
      PAYMENT_WEBHOOK_PORT: String(webhookPort),
      PAYMENT_RUNNER_POLL_MS: '50',
      PAYMENT_RETRY_INITIAL_MS: '50',
      PAYMENT_RETRY_MAX_MS: '500',
      LOG_LEVEL: 'silent',
      ...extra,
    });
    await this.startService();
    this.payments = await new TopicCollector(this.kafka, [this.topics.payments]).start();
    this.commands = await new TopicCollector(this.kafka, [this.topics.commands]).start();
    this.standings = await new TopicCollector(this.kafka, [this.topics.accounts]).start();
  }

  /** how far the service's clock (API requests, PSP outcomes, the hold-expiry scan) is ahead of the wall clock */
  clockOffsetMs = 0;

  async startService(): Promise<void> {
    this.svc = await startPaymentService(this.cfg, silentLogger(), {
      now: () => new Date(Date.now() + this.clockOffsetMs),
    });
  }

  async stop(): Promise<void> {
    await this.payments?.close();
    await this.commands?.close();
    await this.standings?.close();
    await this.svc?.stop();
    await this.emulator?.close();
    if (this.emulatorProcess) {
      this.emulatorProcess.kill('SIGTERM');
      await this.emulatorProcess.exited();
    }
    await this.publisher?.disconnect();
    await dropTestDatabases([this.db]);
  }

  async api<T = Json>(
    method: string,
    path: string,
    body?: unknown,
    key = finance.key,
  ): Promise<{ status: number; body: T }> {
    const r = await fetch(`${this.svc.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as T };
  }

  publish(topic: string, ...events: Envelope[]): Promise<unknown> {
    return this.publisher.publish(events.map((e) => ({ topic, key: e.key, value: JSON.stringify(e) })));
  }

  query<T = Json>(sql: string, args: unknown[] = []): Promise<T[]> {
    return this.svc.dataSource.query(sql, args) as Promise<T[]>;
  }

  /** The payment events of a session, as the service recorded them (types in order). */
  async typesOf(sessionId: string): Promise<string[]> {
    const rows = await this.query<{ type: string }>(
      'select type from payment_events where session_id = $1 order by seq',
      [sessionId],
    );
    return rows.map((r) => r.type);
  }

  waitForEvent(sessionId: string, type: string, what = type): Promise<Json> {
    return waitFor(
      async () => {
        const rows = await this.query<{ payload: Json }>(
          'select payload from payment_events where session_id = $1 and type = $2 order by seq desc limit 1',
          [sessionId, type],
        );
        return rows[0]?.payload;
      },
      { what: `${what} of session ${sessionId}`, timeoutMs: 30_000 },
    );
  }

  /** Nothing left to do: no intent open, the outbox empty, the emulator's webhooks delivered. */
  async settled(): Promise<void> {
    await waitFor(
      async () => {
        await this.emulator.webhooksIdle();
        const [r] = await this.query<{ open: string; outbox: string }>(
          `select (select count(*) from psp_intents where status not in ('done', 'failed')) as open,
                  (select count(*) from outbox) as outbox`,
        );
        return Number(r.open) === 0 && Number(r.outbox) === 0;
      },
      { what: 'intents settled and outbox published', timeoutMs: 30_000 },
    );
  }

  /**
   * The books: every transfer sums to zero, every currency's postings sum to zero, and the derived balances equal
   * the sums of the postings of the transfers posted (and of the pending ones still open).
   */
  async checkBooks(): Promise<void> {
    const unbalanced = await this.query(
      'select transfer_id, sum(amount_minor) as s from ledger_postings group by transfer_id having sum(amount_minor) <> 0',
    );
    expect(unbalanced).toEqual([]);
    const currencies = await this.query(
      `select a.currency, sum(p.amount_minor) as s from ledger_postings p join ledger_accounts a on a.name = p.account
        group by a.currency having sum(p.amount_minor) <> 0`,
    );
    expect(currencies).toEqual([]);
    const mismatched = await this.query(
      `with sums as (
         select p.account,
                sum(p.amount_minor) filter (where t.initial_state = 'posted') as posted,
                sum(p.amount_minor) filter (where t.initial_state = 'pending' and not exists (
                  select 1 from ledger_transfer_states s where s.transfer_id = t.transfer_id and s.state <> 'pending')) as pending
           from ledger_postings p join ledger_transfers t on t.transfer_id = p.transfer_id group by p.account)
       select b.account, b.posted_minor, s.posted, b.pending_minor, s.pending
         from ledger_balances b left join sums s on s.account = b.account
        where b.posted_minor <> coalesce(s.posted, 0) or b.pending_minor <> coalesce(s.pending, 0)`,
    );
    expect(mismatched).toEqual([]);
  }

  // ---- inputs ----

  /** Registers a token (registry.tokens) and waits until the service's copy has it: sessions are resolved with it. */
  async token(uid: string, accountId: string | null): Promise<void> {
    const env = catalogue.create(TokenRegisteredV1, {
      id: deriveId('test-token', uid, accountId ?? ''),
      key: uid,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: { ...TokenRegisteredV1.example, uid, billingAccountId: accountId, revision: 1, groupId: null },
    });
    await this.publish(this.topics.tokens, env);
    await waitFor(
      async () =>
        (
          await this.query('select 1 from tokens where uid = $1 and billing_account_id is not distinct from $2', [
            uid,
            accountId,
          ])
        ).length > 0,
      { what: `token ${uid} in the payment service's copy` },
    );
  }

  /**
   * session.started on the sessions topic and, as the tariff service publishes it, billing.session_tariff_selected
   * on the billing topic (the hold is asked for then): no tariff (the default hold) unless `maxPriceInclVat` is
   * given; `tariff: false` publishes the start alone.
   */
  async sessionStarted(s: {
    sessionId: string;
    uid: string;
    stationId?: string;
    protocol?: 'ocpp1.6' | 'ocpp2.0.1';
    transactionId?: string;
    startedAt?: string;
    accountId?: string | null;
    maxPriceInclVat?: string | null;
    currency?: string;
    tariff?: boolean;
  }): Promise<unknown> {
    const env = catalogue.create(SessionStartedV1, {
      id: deriveId('test-session-started', s.sessionId),
      key: s.sessionId,
      occurredAt: s.startedAt ?? '2026-03-01T10:00:00Z',
      source: 'test',
      payload: {
        ...SessionStartedV1.example,
        sessionId: s.sessionId,
        stationId: s.stationId ?? 'CP-PAY-1',
        protocol: s.protocol ?? 'ocpp1.6',
        transactionId: s.transactionId ?? '42',
        startedAt: s.startedAt ?? '2026-03-01T10:00:00Z',
        idToken: { idToken: s.uid, type: 'ocpp1.6-idTag' },
      },
    });
    await this.publish(this.topics.sessions, env);
    if (s.tariff === false) return;
    const withTariff = s.maxPriceInclVat !== undefined && s.maxPriceInclVat !== null;
    const selected = catalogue.create(SessionTariffSelectedV1, {
      id: deriveId('test-tariff-selected', s.sessionId),
      key: s.sessionId,
      occurredAt: env.occurredAt,
      source: 'test',
      payload: {
        sessionId: s.sessionId,
        stationId: env.payload.stationId,
        protocol: env.payload.protocol,
        transactionId: env.payload.transactionId,
        evseId: null,
        connectorId: env.payload.connectorId ?? null,
        tokenUid: s.uid,
        startedAt: env.payload.startedAt,
        billingAccountId: s.accountId ?? null,
        tariffId: withTariff ? 'T-TEST' : null,
        tariffVersion: withTariff ? 1 : null,
        currency: withTariff ? (s.currency ?? 'EUR') : null,
        maxPriceInclVat: withTariff ? s.maxPriceInclVat! : null,
        code: withTariff ? null : 'NO_ASSIGNMENT',
        sourceEventId: env.id,
      },
    });
    return this.publish(this.topics.billing, selected);
  }

  /** billing.session_cost_estimated as the tariff service publishes it (id from the session and `asOf`). */
  costEstimated(e: {
    sessionId: string;
    accountId: string | null;
    costInclVat: string;
    asOf: string;
    currency?: string;
    maxPriceInclVat?: string | null;
  }) {
    return this.publish(
      this.topics.billing,
      catalogue.create(SessionCostEstimatedV1, {
        id: deriveId('test-cost-estimated', e.sessionId, e.asOf),
        key: e.sessionId,
        occurredAt: e.asOf,
        source: 'test',
        payload: {
          sessionId: e.sessionId,
          stationId: 'CP-PAY-1',
          billingAccountId: e.accountId,
          tariffId: 'T-TEST',
          tariffVersion: 1,
          currency: e.currency ?? 'EUR',
          asOf: e.asOf,
          energyWh: '1000',
          costExclVat: e.costInclVat,
          costInclVat: e.costInclVat,
          maxPriceInclVat: e.maxPriceInclVat ?? null,
          sourceEventId: deriveId('test-updated', e.sessionId, e.asOf),
        },
      }),
    );
  }

  cdr(c: {
    cdrId: string;
    sessionId: string;
    accountId: string | null;
    currency?: string;
    excl: string;
    incl: string;
    credit?: boolean;
    creditReferenceId?: string;
    at?: string;
  }): Envelope {
    const ex = CdrCreatedV3.example;
    return catalogue.create(CdrCreatedV3, {
      id: deriveId('test-cdr', c.cdrId),
      key: c.sessionId,
      occurredAt: c.at ?? '2026-03-01T11:00:00Z',
      source: 'test',
      payload: {
        ...ex,
        cdr: {
          ...ex.cdr,
          id: c.cdrId,
          currency: c.currency ?? 'EUR',
          total_cost: { excl_vat: c.excl, incl_vat: c.incl },
          last_updated: c.at ?? '2026-03-01T11:00:00Z',
          ...(c.credit ? { credit: true, credit_reference_id: c.creditReferenceId } : {}),
        },
        audit: { ...ex.audit, sessionId: c.sessionId },
        billingAccountId: c.accountId,
      },
    });
  }

  publishCdr(...cdrs: Envelope[]): Promise<unknown> {
    return this.publish(this.topics.billing, ...cdrs);
  }

  /** The emulator's count of what it did to the payment of a session's hold. */
  async pspSummary(sessionId: string) {
    const [hold] = await this.query<{ payment_ref: string }>(
      `select payment_ref from psp_intents where session_id = $1 and kind = 'authorize'`,
      [sessionId],
    );
    return hold?.payment_ref ? this.emulator.summary(hold.payment_ref) : undefined;
  }
}
