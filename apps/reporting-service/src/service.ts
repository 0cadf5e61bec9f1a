import { TOPIC_SPECS, Topics, deadLetterSpec, systemCatalogue } from '@csms/contracts';
import { createLogger, type Logger } from '@csms/platform';
import { startService, type RunningService } from '@csms/service-kit';
import type { ReportingServiceConfig } from './config';
import { reportingServiceMigrations } from './migrations';
import { MONITORING_DEPS, MonitoringController, type MonitoringDeps } from './monitoring.controller';
import { monitoringHandler } from './monitoring.handler';

/** Starts the reporting service; its first read model is station monitoring (from ocpp.inbound and monitoring.events). */
export async function startReportingService(cfg: ReportingServiceConfig, logger: Logger = createLogger('reporting-service', cfg.LOG_LEVEL)): Promise<RunningService> {
  const catalogue = systemCatalogue().withTopics({ [Topics.ocppInbound]: cfg.OCPP_INBOUND_TOPIC, [Topics.monitoringEvents]: cfg.MONITORING_EVENTS_TOPIC });
  const mine = [Topics.ocppInbound, Topics.monitoringEvents] as string[];
  const group = `${cfg.REPORTING_CONSUMER_GROUP}.monitoring`;
  return startService(
    {
      name: 'reporting-service',
      title: 'CSMS reporting service',
      description: 'Read models: station monitoring (online/offline, connectors, alarms, firmware and diagnostics status)',
      databaseUrl: cfg.DATABASE_URL,
      migrations: reportingServiceMigrations,
      http: { port: cfg.HTTP_PORT, host: cfg.HTTP_HOST },
      apiKeys: cfg.API_KEYS,
      kafka: { brokers: cfg.KAFKA_BROKERS, partitions: cfg.KAFKA_PARTITIONS, clientId: cfg.KAFKA_CLIENT_ID, maxMessageBytes: cfg.KAFKA_MAX_MESSAGE_BYTES },
      topics: [...TOPIC_SPECS.filter((t) => mine.includes(t.name)).map((t) => ({ ...t, name: catalogue.topic(t.name) })), deadLetterSpec(group)],
      // operator acknowledgements are events too: the read model is ocpp.inbound + monitoring.events, folded
      consumers: () => [{ name: group, topics: [cfg.OCPP_INBOUND_TOPIC, cfg.MONITORING_EVENTS_TOPIC], catalogue, handler: monitoringHandler }],
      controllers: [MonitoringController],
      providers: ({ runtime }) => [{ provide: MONITORING_DEPS, useValue: { catalogue, relay: runtime.relay, now: () => new Date() } satisfies MonitoringDeps }],
    },
    logger,
  );
}
