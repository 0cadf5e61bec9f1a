/**
 * Rebuilds the payment service from payment.events:
 *   npm run payments:rebuild            (stop the payment service first; start it again afterwards)
 * Refuses while the service runs or while its outbox holds events not yet published (they would be lost: start the
 * service, let it publish, stop it). Drops and re-creates its database, then folds payment.events from offset zero
 * through the decider's `evolve` and the same projection the live path uses: account states, accounts, the ledger
 * (same transfer ids, same balances), intents and their outcomes, statements. The PSP is never called: an intent
 * whose outcome is not on the topic is left `pending`, and the service's runner calls it (same idempotency key) once
 * it runs again. The registry copy, session references and unbilled CDRs (the recording consumer group) are moved back
 * to offset zero and refolded on the next start; the deciding group keeps its offsets (its decisions are on the topic).
 */
import { Client } from 'pg';
import { createKafka } from '@csms/messaging';
import { brokersOf, createLogger, openDatabase, type Logger } from '@csms/platform';
import { rebuildFromLog } from '@csms/service-kit';
import { loadPaymentServiceConfig, type PaymentServiceConfig } from './config';
import { refoldAdhocRows } from './adhoc/adhoc-effects';
import { PaymentEngine, type PaymentRules } from './engine';
import { paymentServiceMigrations } from './migrations';
import { paymentRules } from './rules';
import { paymentCatalogue, paymentGroups } from './service';

async function outboxDepth(databaseUrl: string): Promise<number> {
  const c = new Client({ connectionString: databaseUrl });
  try {
    await c.connect();
  } catch {
    return 0; // no database yet: nothing to lose
  }
  try {
    const t = await c.query(`select to_regclass('public.outbox') as t`);
    if (t.rows[0].t === null) return 0;
    return Number((await c.query('select count(*) as n from outbox')).rows[0].n);
  } finally {
    await c.end();
  }
}

export async function rebuildPaymentService(
  cfg: PaymentServiceConfig,
  logger: Logger = createLogger('payment-rebuild', cfg.LOG_LEVEL),
  opts: { rules?: PaymentRules } = {},
): Promise<{ events: number }> {
  const groups = paymentGroups(cfg);
  const kafka = createKafka({ brokers: brokersOf(cfg.KAFKA_BROKERS), clientId: 'payment-rebuild', logger });
  const admin = kafka.admin();
  await admin.connect();
  let high: Array<{ partition: number; offset: string }> = [];
  try {
    const described = await admin.describeGroups([groups.decide]);
    if (described.groups.some((g) => g.members.length > 0))
      throw new Error(`consumer group ${groups.decide} has running members: stop the payment service first`);
    const depth = await outboxDepth(cfg.DATABASE_URL);
    if (depth > 0)
      throw new Error(
        `the outbox holds ${depth} event(s) not published yet: start the payment service, let it publish them, stop it, then rebuild`,
      );
    // drops and re-creates the database (refusing if the recording group runs), moves the recording group to zero
    await rebuildFromLog(
      {
        databaseUrl: cfg.DATABASE_URL,
        migrations: paymentServiceMigrations,
        kafkaBrokers: cfg.KAFKA_BROKERS,
        groups: [
          {
            groupId: groups.records,
            topics: [cfg.REGISTRY_TOKENS_TOPIC, cfg.SESSION_EVENTS_TOPIC, cfg.BILLING_EVENTS_TOPIC],
          },
        ],
      },
      logger,
    );
    const topics = await admin.listTopics();
    if (topics.includes(cfg.PAYMENT_EVENTS_TOPIC)) high = await admin.fetchTopicOffsets(cfg.PAYMENT_EVENTS_TOPIC);
  } finally {
    await admin.disconnect();
  }
  const todo = new Map(high.filter((p) => p.offset !== '0').map((p) => [p.partition, BigInt(p.offset)]));
  if (todo.size === 0) return { events: 0 };

  const catalogue = paymentCatalogue(cfg);
  const engine = new PaymentEngine(opts.rules ?? paymentRules(), catalogue, { stopCommandTtlS: 0, logger });
  const ds = await openDatabase({ url: cfg.DATABASE_URL, migrations: paymentServiceMigrations });
  const groupId = `${cfg.PAYMENT_CONSUMER_GROUP}.rebuild-${Date.now()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  let events = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [cfg.PAYMENT_EVENTS_TOPIC], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = todo.get(batch.partition);
            if (end === undefined) return;
            const mine = batch.messages.filter((msg) => BigInt(msg.offset) < end);
            await ds.transaction(async (m) => {
              const envs = mine.map((msg) => catalogue.decode(msg.value));
              await engine.refold(m, envs);
              await refoldAdhocRows(m, envs, cfg.PAYMENT_ADHOC_DEFAULT_PROTOCOL);
            });
            events += mine.length;
            const last = batch.messages[batch.messages.length - 1];
            if (last && BigInt(last.offset) + 1n >= end) {
              todo.delete(batch.partition);
              if (todo.size === 0) resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await ds.destroy();
    // the reading group was the rebuild's own: leave nothing behind
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  logger.info({ events, topic: cfg.PAYMENT_EVENTS_TOPIC }, 'payment state and ledger refolded from payment.events');
  return { events };
}

if (require.main === module) {
  const cfg = loadPaymentServiceConfig();
  rebuildPaymentService(cfg).then(
    ({ events }) => {
      console.log(`rebuilt from ${events} payment event(s); start the payment service to resume`);
      process.exit(0);
    },
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
