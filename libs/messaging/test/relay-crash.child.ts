/**
 * Child process for the outbox crash test: runs one relay round and kills itself with SIGKILL after
 * the broker acknowledged the batch and before the rows are deleted (the worst moment to die).
 * Env: DATABASE_URL, KAFKA_BROKERS.
 */
import { createDataSource, silentLogger } from '@csms/platform';
import { KafkaRecordPublisher, OutboxRelay, createKafka } from '@csms/messaging';

async function main(): Promise<void> {
  const ds = createDataSource({ url: process.env.DATABASE_URL!, migrations: [] });
  await ds.initialize();
  const kafka = createKafka({
    brokers: process.env.KAFKA_BROKERS!.split(','),
    clientId: 'relay-crash',
    logger: silentLogger(),
  });
  const publisher = new KafkaRecordPublisher(kafka);
  const relay = new OutboxRelay(ds, publisher, silentLogger(), {
    afterPublish: (ids) => {
      process.stdout.write(`published ${ids.length}\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  });
  await relay.relayOnce();
  process.stdout.write('not killed\n');
  process.exit(3);
}
main().catch((e) => {
  console.error(e);
  process.exit(2);
});
