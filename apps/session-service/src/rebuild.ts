/**
 * Rebuilds the session store from offset zero of ocpp.inbound:
 *   npm run sessions:rebuild            (stop the session service first; start it again afterwards)
 * Drops the service's database, creates and migrates it anew, and moves the consumer group's offsets
 * on the inbound topic back to the earliest record. On start, the service folds the whole log again and
 * re-emits identical session events (same ids, same content: they are derived from the log alone);
 * downstream consumers drop the copies through their inbox.
 */
import { Client } from 'pg';
import { brokersOf, createLogger, ensureDatabaseExists, openDatabase } from '@csms/platform';
import { createKafka } from '@csms/messaging';
import { loadSessionServiceConfig, type SessionServiceConfig } from './config';
import { sessionServiceMigrations } from './migrations';

export async function rebuildSessionStore(cfg: SessionServiceConfig): Promise<void> {
  const logger = createLogger('session-rebuild', cfg.LOG_LEVEL);
  const kafka = createKafka({ brokers: brokersOf(cfg.KAFKA_BROKERS), clientId: 'session-rebuild', logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = await admin.describeGroups([cfg.SESSION_CONSUMER_GROUP]);
    const members = groups.groups[0]?.members.length ?? 0;
    if (members > 0) throw new Error(`consumer group ${cfg.SESSION_CONSUMER_GROUP} has ${members} running member(s): stop the session service first`);
    const url = new URL(cfg.DATABASE_URL);
    const name = decodeURIComponent(url.pathname.slice(1));
    url.pathname = '/postgres';
    const c = new Client({ connectionString: url.toString() });
    await c.connect();
    await c.query(`drop database if exists "${name}" with (force)`);
    await c.end();
    await ensureDatabaseExists(cfg.DATABASE_URL);
    const ds = await openDatabase({ url: cfg.DATABASE_URL, migrations: sessionServiceMigrations });
    await ds.destroy();
    const topics = await admin.listTopics();
    if (topics.includes(cfg.OCPP_INBOUND_TOPIC)) await admin.resetOffsets({ groupId: cfg.SESSION_CONSUMER_GROUP, topic: cfg.OCPP_INBOUND_TOPIC, earliest: true });
    logger.info({ database: name, group: cfg.SESSION_CONSUMER_GROUP, topic: cfg.OCPP_INBOUND_TOPIC }, 'session store emptied; the service will refold the log from offset zero on start');
  } finally {
    await admin.disconnect();
  }
}

if (require.main === module) {
  rebuildSessionStore(loadSessionServiceConfig()).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
