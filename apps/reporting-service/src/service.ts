import { TOPIC_SPECS, Topics, deadLetterSpec, systemCatalogue } from '@csms/contracts';
import { createLogger, type Logger } from '@csms/platform';
import { startService, type RunningService } from '@csms/service-kit';
import type { ReportingServiceConfig } from './config';
import { reportingServiceMigrations } from './migrations';
import { MonitoringController } from './monitoring.controller';
import { monitoringHandler } from './monitoring.handler';

/** Starts the reporting service; its first read model is station monitoring (from ocpp.inbound). */
export async function startReportingService(cfg: ReportingServiceConfig, logger: Logger = createLogger('reporting-service', cfg.LOG_LEVEL)): Promise<RunningService> {
  const catalogue = systemCatalogue().withTopics({ [Topics.ocppInbound]: cfg.OCPP_INBOUND_TOPIC });
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
      kafka: { brokers: cfg.KAFKA_BROKERS, partitions: cfg.KAFKA_PARTITIONS, clientId: cfg.KAFKA_CLIENT_ID },
      topics: [...TOPIC_SPECS.filter((t) => t.name === Topics.ocppInbound).map((t) => ({ ...t, name: catalogue.topic(t.name) })), deadLetterSpec(group)],
      consumers: () => [{ name: group, topics: [cfg.OCPP_INBOUND_TOPIC], catalogue, handler: monitoringHandler }],
      controllers: [MonitoringController],
    },
    logger,
  );
}
