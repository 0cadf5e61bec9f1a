/**
 * Rebuilds the tariff service from its topics:
 *   npm run tariffs:rebuild             (stop the tariff service first; start it again afterwards)
 * Drops its database and moves its consumer groups back to offset zero. On start, the catalogue
 * (tariff.events) and the registry copies are rebuilt first; only then does pricing start, so every
 * session.ended is priced against the same catalogue and the same CDRs come out (same ids, same hashes).
 */
import { createLogger } from '@csms/platform';
import { rebuildFromLog } from '@csms/service-kit';
import { loadTariffServiceConfig, type TariffServiceConfig } from './config';
import { tariffServiceMigrations } from './migrations';

export function rebuildTariffService(cfg: TariffServiceConfig): Promise<void> {
  return rebuildFromLog(
    {
      databaseUrl: cfg.DATABASE_URL,
      migrations: tariffServiceMigrations,
      kafkaBrokers: cfg.KAFKA_BROKERS,
      groups: [
        {
          groupId: `${cfg.TARIFF_CONSUMER_GROUP}.catalogue`,
          topics: [cfg.TARIFF_EVENTS_TOPIC, cfg.REGISTRY_STATIONS_TOPIC, cfg.REGISTRY_TOKENS_TOPIC],
        },
        { groupId: `${cfg.TARIFF_CONSUMER_GROUP}.pricing`, topics: [cfg.SESSION_EVENTS_TOPIC] },
        // the running-cost estimates: the same ids again (derived from session.started / session.updated)
        { groupId: `${cfg.TARIFF_CONSUMER_GROUP}.running`, topics: [cfg.SESSION_EVENTS_TOPIC] },
      ],
    },
    createLogger('tariff-rebuild', cfg.LOG_LEVEL),
  );
}

if (require.main === module) {
  rebuildTariffService(loadTariffServiceConfig()).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
