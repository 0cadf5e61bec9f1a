/**
 * Rebuilds the read models from offset zero of their topics: monitoring (with the EVSE status facts and the
 * maintenance windows of uptime and utilisation) from ocpp.inbound and monitoring.events, billing completeness
 * from session.events, billing.events and the tariff service's pricing dead letters, finance (revenue, CDR
 * exports, the OCPI CDRs, period closes) from billing.events, finance.events and registry.stations, the OCPI
 * parties (registrations, roles, the hashes of their live tokens) from ocpi.events:
 *   npm run reporting:rebuild           (stop the reporting service first; start it again afterwards)
 * Drops the service's database, creates and migrates it anew, and moves the consumer group's offsets on
 * both topics back to the earliest record. On start, the service folds the chargers' messages and the
 * operators' acknowledgements again: the same views and alarms, acknowledged alarms still closed by whom
 * and when they were; the same completeness counts (event time only); the same revenue reports byte for byte, a closed period's
 * included (a CDR's period follows from its position in billing.events and the closes' cuts, not from the order
 * the topics are read in).
 */
import { createLogger } from '@csms/platform';
import { rebuildFromLog } from '@csms/service-kit';
import { loadReportingServiceConfig, reportingGroups, type ReportingServiceConfig } from './config';
import { reportingServiceMigrations } from './migrations';

export function rebuildReportingStore(cfg: ReportingServiceConfig): Promise<void> {
  return rebuildFromLog(
    {
      databaseUrl: cfg.DATABASE_URL,
      migrations: reportingServiceMigrations,
      kafkaBrokers: cfg.KAFKA_BROKERS,
      groups: reportingGroups(cfg),
    },
    createLogger('reporting-rebuild', cfg.LOG_LEVEL),
  );
}

if (require.main === module) {
  rebuildReportingStore(loadReportingServiceConfig()).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
