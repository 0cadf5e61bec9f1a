import type { Server } from 'node:http';
import { TOPIC_SPECS, Topics, deadLetterSpec, systemCatalogue } from '@csms/contracts';
import { createLogger, type Logger } from '@csms/platform';
import { SharedDecodes } from '@csms/messaging';
import { startService, type RunningService, sharedSettings } from '@csms/service-kit';
import { AccountsController, type PaymentDeps } from './accounts.controller';
import { ADHOC_DEPS, ADHOC_ROUTES, AdhocController, type AdhocDeps } from './adhoc/adhoc.controller';
import { AdhocEffects } from './adhoc/adhoc-effects';
import { AdhocService } from './adhoc/adhoc.service';
import { TariffClient } from './adhoc/tariff-client';
import type { PaymentServiceConfig } from './config';
import { PaymentEngine, type PaymentRules } from './engine';
import { INPUTS, PaymentInputsConsumer, PaymentRecordsConsumer } from './inputs.consumer';
import { InputsHandler } from './inputs.handler';
import { LedgerController } from './ledger.controller';
import { defaultHolds } from './config';
import { paymentServiceMigrations } from './migrations';
import { asksForPspCall } from './projection';
import { createProvider } from './provider-factory';
import type { PaymentProvider } from './provider/port';
import { paymentRules } from './rules';
import { EffectRunner } from './runner';
import { SETTLEMENT_CSV_LIMIT_BYTES, SettlementsController } from './settlements.controller';
import { PaymentScheduler } from './scheduler';
import { PAYMENT_CONFIG, PAYMENT_DEPS } from './tokens';
import { WebhookReceiver } from './webhooks';

export interface RunningPaymentService extends RunningService {
  runner: EffectRunner;
  webhooks: WebhookReceiver;
  /** where the PSP posts its webhooks: `<webhookUrl>/webhooks/psp` */
  webhookUrl: string;
  engine: PaymentEngine;
  adhoc: AdhocService;
  /** the clock-driven commands (monthly statements) */
  scheduler: PaymentScheduler;
}

/** The consumer groups of the payment service (the rebuild names them too). */
export function paymentGroups(cfg: PaymentServiceConfig) {
  return {
    records: `${cfg.PAYMENT_CONSUMER_GROUP}.records`,
    decide: `${cfg.PAYMENT_CONSUMER_GROUP}.decide`,
  };
}

/** The catalogue with this deployment's topic names. */
export function paymentCatalogue(cfg: PaymentServiceConfig) {
  return systemCatalogue().withTopics({
    [Topics.billingEvents]: cfg.BILLING_EVENTS_TOPIC,
    [Topics.sessionEvents]: cfg.SESSION_EVENTS_TOPIC,
    [Topics.registryTokens]: cfg.REGISTRY_TOKENS_TOPIC,
    [Topics.paymentEvents]: cfg.PAYMENT_EVENTS_TOPIC,
    [Topics.ocppCommands]: cfg.OCPP_COMMANDS_TOPIC,
    [Topics.registryAccounts]: cfg.REGISTRY_ACCOUNTS_TOPIC,
    [Topics.ocppCommandResults]: cfg.OCPP_COMMAND_RESULTS_TOPIC,
  });
}

/**
 * Starts the payment service: consumers of the registry tokens, session.events and billing.events (each CDR paid by
 * its account's card, wallet or invoice through libs/payments' decider, in the consumer's transaction), the effect
 * runner (PSP calls after commit, idempotency key = intent id), the PSP webhook receiver (own port), the accounts,
 * ledger and payment-record API, and payment.events + remote stops on ocpp.commands + the accounts' standing on
 * registry.accounts (the gateway answers Blocked for the tokens of an account that cannot pay) through the outbox.
 */
export async function startPaymentService(
  cfg: PaymentServiceConfig,
  logger: Logger = createLogger('payment-service', cfg.LOG_LEVEL),
  opts: { provider?: PaymentProvider; rules?: PaymentRules; now?: () => Date } = {},
): Promise<RunningPaymentService> {
  const catalogue = paymentCatalogue(cfg);
  const mine = [
    Topics.billingEvents,
    Topics.sessionEvents,
    Topics.registryTokens,
    Topics.paymentEvents,
    Topics.ocppCommands,
    Topics.registryAccounts,
    Topics.ocppCommandResults,
  ] as string[];
  const specs = TOPIC_SPECS.filter((t) => mine.includes(t.name)).map((t) => ({ ...t, name: catalogue.topic(t.name) }));
  const groups = paymentGroups(cfg);
  // both groups read session.events and billing.events: each record is parsed and validated once for the two
  const decodes = new SharedDecodes({ topics: [cfg.SESSION_EVENTS_TOPIC, cfg.BILLING_EVENTS_TOPIC], readers: 2 });
  const adhocEffects = new AdhocEffects(catalogue, {
    defaultProtocol: cfg.PAYMENT_ADHOC_DEFAULT_PROTOCOL,
    startTimeoutS: cfg.PAYMENT_ADHOC_START_TIMEOUT_S,
    logger: logger.child({ component: 'adhoc' }),
  });
  const engine = new PaymentEngine(opts.rules ?? paymentRules(), catalogue, {
    stopCommandTtlS: cfg.PAYMENT_STOP_COMMAND_TTL_S,
    logger,
    adhoc: adhocEffects,
  });
  const inputs = new InputsHandler(engine, cfg, adhocEffects);
  const provider = opts.provider ?? createProvider(cfg);
  /** the runner is made once the service's database and relay exist; the API nudges it through this */
  const runnerRef: { current?: EffectRunner } = {};
  /** the ad-hoc pages' service, made with the runner; the controller reaches it through this */
  const adhocRef: { current?: AdhocService; publicUrl?: string } = {};
  const svc = await startService(
    {
      name: 'payment-service',
      title: 'CSMS payment service',
      description:
        'Billing accounts (card, wallet, invoice), pre-authorisation, capture and refund through the PSP, a double-entry ledger',
      databaseUrl: cfg.DATABASE_URL,
      migrations: paymentServiceMigrations,
      // the ad-hoc payment's public pages live outside /api/v1 (a driver's URL, printed as a QR code)
      // the settlement report may also be uploaded as the CSV file the PSP exports
      http: {
        port: cfg.HTTP_PORT,
        host: cfg.HTTP_HOST,
        unprefixedRoutes: ADHOC_ROUTES,
        textBodies: [{ path: '/api/v1/settlements', types: ['text/csv'], limitBytes: SETTLEMENT_CSV_LIMIT_BYTES }],
      },
      ...sharedSettings(cfg),
      topics: [...specs, deadLetterSpec(groups.records), deadLetterSpec(groups.decide)],
      // PAYMENT_OUTBOX_IDLE_POLL_MS, when set, overrides the shared idle poll
      relay: { idlePollIntervalMs: cfg.PAYMENT_OUTBOX_IDLE_POLL_MS ?? cfg.OUTBOX_IDLE_POLL_MS },
      consumers: () => [
        {
          name: groups.records,
          topics: [cfg.REGISTRY_TOKENS_TOPIC, cfg.SESSION_EVENTS_TOPIC, cfg.BILLING_EVENTS_TOPIC],
          catalogue,
          controller: PaymentRecordsConsumer,
          chunkSize: cfg.PAYMENT_CHUNK_SIZE,
          sharedDecodes: decodes,
        },
        // decides only once the token copy holds what its topic held at start
        {
          name: groups.decide,
          topics: [cfg.SESSION_EVENTS_TOPIC, cfg.BILLING_EVENTS_TOPIC, cfg.OCPP_COMMAND_RESULTS_TOPIC],
          catalogue,
          controller: PaymentInputsConsumer,
          chunkSize: cfg.PAYMENT_CHUNK_SIZE,
          startAfterCaughtUp: [groups.records],
          partitionsConsumedConcurrently: cfg.KAFKA_PARTITIONS,
          sharedDecodes: decodes,
        },
      ],
      controllers: [AccountsController, LedgerController, AdhocController, SettlementsController],
      providers: ({ runtime }) => {
        const deps: PaymentDeps = {
          catalogue,
          relay: runtime.relay,
          engine,
          nudgeRunner: () => runnerRef.current?.nudge(),
          now: opts.now ?? (() => new Date()),
        };
        const tariffs = new TariffClient({ url: cfg.TARIFF_API_URL, apiKey: cfg.TARIFF_API_KEY });
        const adhocDeps: AdhocDeps = {
          get service() {
            if (!adhocRef.current) throw new Error('the ad-hoc payment service is starting');
            return adhocRef.current;
          },
          tariffs,
          publicUrl: () => cfg.PAYMENT_PUBLIC_URL ?? adhocRef.publicUrl ?? `http://${cfg.HTTP_HOST}:${cfg.HTTP_PORT}`,
          logger: logger.child({ component: 'adhoc-pages' }),
        };
        return [
          { provide: ADHOC_DEPS, useValue: adhocDeps },
          { provide: PAYMENT_DEPS, useValue: deps },
          { provide: PAYMENT_CONFIG, useValue: cfg },
          { provide: INPUTS, useValue: inputs },
        ];
      },
    },
    logger,
  );
  const runner = new EffectRunner(
    svc.dataSource,
    engine,
    provider,
    catalogue,
    svc.runtime.relay,
    logger.child({ component: 'effect-runner' }),
    {
      pollMs: cfg.PAYMENT_RUNNER_POLL_MS,
      idlePollMs: cfg.PAYMENT_RUNNER_IDLE_POLL_MS,
      concurrency: cfg.PAYMENT_RUNNER_CONCURRENCY,
      batchSize: cfg.PAYMENT_RUNNER_BATCH,
      leaseMs: cfg.PAYMENT_RUNNER_LEASE_MS,
      retryInitialMs: cfg.PAYMENT_RETRY_INITIAL_MS,
      retryMaxMs: cfg.PAYMENT_RETRY_MAX_MS,
      holdScanMs: cfg.PAYMENT_HOLD_SCAN_MS,
      holdExpiryMarginS: cfg.PAYMENT_HOLD_EXPIRY_MARGIN_S,
      now: opts.now,
    },
  );
  runnerRef.current = runner;
  const r = runner;
  // a chunk that recorded intents: run them now rather than at the next poll
  for (const c of svc.consumers) c.onChunkApplied((a) => (asksForPspCall(a.emitted) ? r.nudge() : undefined));
  runner.start();
  const scheduler = new PaymentScheduler(
    svc.dataSource,
    engine,
    catalogue,
    svc.runtime.relay,
    logger.child({ component: 'scheduler' }),
    { statementDay: cfg.PAYMENT_STATEMENT_DAY, scanMs: cfg.PAYMENT_STATEMENT_SCAN_MS, now: opts.now },
  );
  scheduler.start();
  const webhooks = new WebhookReceiver(
    svc.dataSource,
    engine,
    provider,
    runner,
    catalogue,
    svc.runtime.relay,
    logger.child({ component: 'psp-webhooks' }),
  );
  const adhoc = new AdhocService(
    svc.dataSource,
    engine,
    adhocEffects,
    provider,
    () => runnerRef.current,
    catalogue,
    svc.runtime.relay,
    logger.child({ component: 'adhoc' }),
    { holds: defaultHolds(cfg), scanMs: cfg.PAYMENT_ADHOC_SCAN_MS, now: opts.now ?? (() => new Date()) },
  );
  adhocRef.current = adhoc;
  adhocRef.publicUrl = svc.url;
  adhoc.start();
  const { server, url: webhookUrl } = await webhooks.listen(cfg.PAYMENT_WEBHOOK_PORT, cfg.PAYMENT_WEBHOOK_HOST);
  logger.info({ webhookUrl: `${webhookUrl}/webhooks/psp` }, 'PSP webhooks received here');
  const stopService = svc.stop.bind(svc);
  return {
    ...svc,
    runner,
    webhooks,
    webhookUrl,
    engine,
    adhoc,
    scheduler,
    async stop() {
      await closeServer(server);
      await adhoc.stop();
      await scheduler.stop();
      await r.stop();
      await stopService();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
