import { fetchRoomForChunk } from '@csms/messaging';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { TOPIC_SPECS, Topics, deadLetterSpec, systemCatalogue } from '@csms/contracts';
import { parsePartyUrlAllowList } from '@csms/ocpi';
import { createLogger, inboundInboxRetention, type Logger } from '@csms/platform';
import { startService, type RunningService, sharedSettings } from '@csms/service-kit';
import { registerCompletenessMetrics } from './completeness';
import { COMPLETENESS_DEPS, CompletenessController, type CompletenessDeps } from './completeness.controller';
import { CompletenessConsumer, PricingDeadLettersConsumer } from './completeness.consumer';
import { reportingGroups, type ReportingServiceConfig } from './config';
import { reportingServiceMigrations } from './migrations';
import { MONITORING_DEPS, MonitoringController, type MonitoringDeps } from './monitoring.controller';
import { MonitoringConsumer } from './monitoring.consumer';
import { FINANCE_DEPS, FinanceController, type FinanceDeps } from './finance.controller';
import { parseOcpiTokens } from './ocpi';
import { PaymentsConsumer } from './payments.consumer';
import { registerReconciliationMetrics } from './reconciliation.handler';
import { RECONCILIATION_DEPS, ReconciliationController, type ReconciliationDeps } from './reconciliation.controller';
import {
  RECONCILIATION_SCHEDULE,
  ReconciliationScheduler,
  reconciliationRunMetrics,
  type ReconciliationSchedule,
  type RunDeps,
} from './reconciliation.run';
import { OCPI_CDRS_PATH, OCPI_DEPS, OcpiCdrsController, type OcpiDeps } from './ocpi.controller';
import {
  OCPI_CREDENTIALS_PATH,
  OCPI_VERSION_DETAILS_PATH,
  OCPI_VERSIONS_PATH,
  OcpiCredentialsController,
} from './ocpi-credentials.controller';
import { HttpOcpiPartyClient, type OcpiPartyClient } from './ocpi-party-client';
import { OcpiPartiesConsumer } from './ocpi-parties.consumer';
import { OcpiPartiesController } from './ocpi-parties.controller';

const RECONCILIATION_RUN_DEPS = Symbol('RECONCILIATION_RUN_DEPS');

/**
 * Starts the reporting service: station monitoring (from ocpp.inbound and monitoring.events) and billing
 * completeness (from session.events, billing.events and the tariff service's pricing dead letters).
 */
export async function startReportingService(
  cfg: ReportingServiceConfig,
  logger: Logger = createLogger('reporting-service', cfg.LOG_LEVEL),
  options: { ocpiPartyClient?: OcpiPartyClient } = {},
): Promise<RunningService> {
  const catalogue = systemCatalogue().withTopics({
    [Topics.ocppInbound]: cfg.OCPP_INBOUND_TOPIC,
    [Topics.monitoringEvents]: cfg.MONITORING_EVENTS_TOPIC,
    [Topics.sessionEvents]: cfg.SESSION_EVENTS_TOPIC,
    [Topics.billingEvents]: cfg.BILLING_EVENTS_TOPIC,
    [Topics.financeEvents]: cfg.FINANCE_EVENTS_TOPIC,
    [Topics.registryStations]: cfg.REGISTRY_STATIONS_TOPIC,
    [Topics.paymentEvents]: cfg.PAYMENT_EVENTS_TOPIC,
    [Topics.ocpiEvents]: cfg.OCPI_EVENTS_TOPIC,
  });
  const mine = [
    Topics.ocppInbound,
    Topics.monitoringEvents,
    Topics.sessionEvents,
    Topics.billingEvents,
    Topics.financeEvents,
    Topics.registryStations,
    Topics.paymentEvents,
    Topics.ocpiEvents,
  ] as string[];
  const [monitoring, billing, deadLetters, payments, ocpi] = reportingGroups(cfg);
  const ocpiParties = parseOcpiTokens(cfg.OCPI_TOKENS);
  // a bad entry stops the start, as a bad OCPI_TOKENS does
  const partyUrlAllow = parsePartyUrlAllowList(cfg.OCPI_PARTY_URL_ALLOW);
  const tariffGroup = `${cfg.TARIFF_CONSUMER_GROUP}.pricing`;
  // the two groups that take every inbound record and every session event: room for a whole chunk of records of up to
  // 2 KiB in one fetched batch (a chunk never spans two)
  const chunking = {
    chunkSize: cfg.REPORTING_CHUNK_SIZE,
    fetchMaxBytesPerPartition: fetchRoomForChunk(cfg.REPORTING_CHUNK_SIZE),
  };
  return startService(
    {
      name: 'reporting-service',
      title: 'CSMS reporting service',
      description:
        'Read models: station monitoring (online/offline, connectors, alarms, firmware and diagnostics status); billing completeness; finance (revenue, payments, utilisation, uptime, CDR exports, period close, three-way reconciliation); the OCPI 2.2.1 CDRs sender interface',
      databaseUrl: cfg.DATABASE_URL,
      migrations: reportingServiceMigrations,
      http: {
        port: cfg.HTTP_PORT,
        host: cfg.HTTP_HOST,
        unprefixedRoutes: [OCPI_CDRS_PATH, OCPI_VERSIONS_PATH, OCPI_VERSION_DETAILS_PATH, OCPI_CREDENTIALS_PATH],
      },
      ...sharedSettings(cfg),
      topics: [
        ...TOPIC_SPECS.filter((t) => mine.includes(t.name)).map((t) => ({ ...t, name: catalogue.topic(t.name) })),
        // the tariff service's, created here too when the reporting service starts first
        deadLetterSpec(tariffGroup),
        ...[monitoring, billing, deadLetters, payments, ocpi].map((g) => deadLetterSpec(g.groupId)),
      ],
      consumers: () => [
        // operator acknowledgements are events too: the read model is ocpp.inbound + monitoring.events, folded
        {
          name: monitoring.groupId,
          topics: monitoring.topics,
          catalogue,
          controller: MonitoringConsumer,
          ...chunking,
          inboxRetentionMs: inboundInboxRetention(cfg.OCPP_INBOUND_TOPIC, cfg),
        },
        { name: billing.groupId, topics: billing.topics, catalogue, controller: CompletenessConsumer, ...chunking },
        { name: deadLetters.groupId, topics: deadLetters.topics, catalogue, controller: PricingDeadLettersConsumer },
        { name: payments.groupId, topics: payments.topics, catalogue, controller: PaymentsConsumer },
        { name: ocpi.groupId, topics: ocpi.topics, catalogue, controller: OcpiPartiesConsumer },
      ],
      controllers: [
        MonitoringController,
        CompletenessController,
        FinanceController,
        ReconciliationController,
        OcpiCdrsController,
        OcpiCredentialsController,
        OcpiPartiesController,
      ],
      providers: ({ runtime }) => [
        {
          provide: MONITORING_DEPS,
          useValue: { catalogue, relay: runtime.relay, now: () => new Date() } satisfies MonitoringDeps,
        },
        {
          provide: FINANCE_DEPS,
          useValue: {
            catalogue,
            relay: runtime.relay,
            now: () => new Date(),
            partitions: cfg.KAFKA_PARTITIONS,
          } satisfies FinanceDeps,
        },
        // one set of run dependencies (and metrics) for the API's runs and the scheduler's
        {
          provide: RECONCILIATION_RUN_DEPS,
          inject: [Registry],
          useFactory: (registry: Registry): RunDeps => ({
            catalogue,
            relay: runtime.relay,
            unsettledDays: cfg.RECONCILIATION_UNSETTLED_DAYS,
            graceSeconds: cfg.RECONCILIATION_GRACE_SECONDS,
            metrics: reconciliationRunMetrics(registry),
          }),
        },
        {
          provide: RECONCILIATION_DEPS,
          inject: [RECONCILIATION_RUN_DEPS],
          useFactory: (deps: RunDeps) => ({ ...deps, now: () => new Date() }) satisfies ReconciliationDeps,
        },
        {
          provide: RECONCILIATION_SCHEDULE,
          inject: [RECONCILIATION_RUN_DEPS],
          useFactory: (deps: RunDeps) =>
            ({ deps, intervalSeconds: cfg.RECONCILIATION_INTERVAL_S, logger }) satisfies ReconciliationSchedule,
        },
        ReconciliationScheduler,
        {
          provide: OCPI_DEPS,
          useValue: {
            parties: ocpiParties,
            maxLimit: cfg.OCPI_MAX_LIMIT,
            now: () => new Date(),
            catalogue,
            relay: runtime.relay,
            partyClient: options.ocpiPartyClient ?? new HttpOcpiPartyClient(cfg.OCPI_PARTY_TIMEOUT_MS, partyUrlAllow),
            baseUrl: cfg.OCPI_BASE_URL,
            cpo: { countryCode: cfg.CPO_COUNTRY_CODE, partyId: cfg.CPO_PARTY_ID, businessName: cfg.CPO_BUSINESS_NAME },
          } satisfies OcpiDeps,
        },
        {
          provide: COMPLETENESS_DEPS,
          useValue: { graceSeconds: cfg.COMPLETENESS_GRACE_SECONDS } satisfies CompletenessDeps,
        },
        {
          provide: 'RECONCILIATION_METRICS',
          inject: [Registry, DataSource],
          useFactory: (registry: Registry, ds: DataSource) => registerReconciliationMetrics(registry, ds),
        },
        {
          provide: 'COMPLETENESS_METRICS',
          inject: [Registry, DataSource],
          useFactory: (registry: Registry, ds: DataSource) =>
            registerCompletenessMetrics(registry, ds, cfg.COMPLETENESS_GRACE_SECONDS),
        },
      ],
    },
    logger,
  );
}
