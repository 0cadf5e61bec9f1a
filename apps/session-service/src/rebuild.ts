/**
 * Rebuilds the session store from offset zero of ocpp.inbound:
 *   npm run sessions:rebuild            (stop the session service first; start it again afterwards)
 * Drops the service's database, creates and migrates it anew, and moves the consumer group's offsets
 * on the inbound topic back to the earliest record. On start, the service folds the whole log again and
 * re-emits identical session events (same ids, same content: they are derived from the log alone);
 * downstream consumers drop the copies through their inbox.
 */
import { createLogger } from '@csms/platform';
import { rebuildFromLog } from '@csms/service-kit';
import { loadSessionServiceConfig, type SessionServiceConfig } from './config';
import { sessionServiceMigrations } from './migrations';

export function rebuildSessionStore(cfg: SessionServiceConfig): Promise<void> {
  return rebuildFromLog(
    {
      databaseUrl: cfg.DATABASE_URL,
      migrations: sessionServiceMigrations,
      kafkaBrokers: cfg.KAFKA_BROKERS,
      groups: [{ groupId: cfg.SESSION_CONSUMER_GROUP, topics: [cfg.OCPP_INBOUND_TOPIC] }],
    },
    createLogger('session-rebuild', cfg.LOG_LEVEL),
  );
}

if (require.main === module) {
  rebuildSessionStore(loadSessionServiceConfig()).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
