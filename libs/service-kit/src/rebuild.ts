import { Client } from 'pg';
import { createKafka } from '@csms/messaging';
import { brokersOf, ensureDatabaseExists, openDatabase, type Logger, type Migrations } from '@csms/platform';

export interface RebuildPlan {
  databaseUrl: string;
  migrations: Migrations;
  kafkaBrokers: string;
  /** each consumer group of the service and the topics it reads: moved back to offset zero */
  groups: Array<{ groupId: string; topics: string[] }>;
}

/**
 * Empties a service's derived state so that it refolds its input topics from offset zero on its next
 * start: refuses while the service runs (its groups have members), drops and re-creates its database
 * (migrated), and resets its groups' offsets to the earliest record. The topics are never touched.
 */
export async function rebuildFromLog(plan: RebuildPlan, logger: Logger): Promise<void> {
  const kafka = createKafka({ brokers: brokersOf(plan.kafkaBrokers), clientId: 'rebuild', logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeGroups(plan.groups.map((g) => g.groupId));
    for (const g of described.groups) {
      if (g.members.length > 0)
        throw new Error(
          `consumer group ${g.groupId} has ${g.members.length} running member(s): stop the service first`,
        );
    }
    const url = new URL(plan.databaseUrl);
    const name = decodeURIComponent(url.pathname.slice(1));
    url.pathname = '/postgres';
    const c = new Client({ connectionString: url.toString() });
    await c.connect();
    await c.query(`drop database if exists "${name}" with (force)`);
    await c.end();
    await ensureDatabaseExists(plan.databaseUrl);
    const ds = await openDatabase({ url: plan.databaseUrl, migrations: plan.migrations });
    await ds.destroy();
    const existing = new Set(await admin.listTopics());
    for (const g of plan.groups) {
      for (const topic of g.topics)
        if (existing.has(topic)) await admin.resetOffsets({ groupId: g.groupId, topic, earliest: true });
    }
    logger.info(
      { database: name, groups: plan.groups },
      'derived state emptied; the service refolds its topics from offset zero on its next start',
    );
  } finally {
    await admin.disconnect();
  }
}
