import { Socket } from 'node:net';
import { Client } from 'pg';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS } from './env';

function tcp(hostPort: string, timeoutMs: number): Promise<void> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i);
  const port = Number(hostPort.slice(i + 1));
  return new Promise((resolve, reject) => {
    const s = new Socket();
    const done = (err?: Error) => {
      s.destroy();
      if (err) reject(err);
      else resolve();
    };
    s.setTimeout(timeoutMs, () => done(new Error('timeout')));
    s.once('error', done);
    s.connect(port, host, () => done());
  });
}

/**
 * Fails the integration tier at once, naming what is missing, instead of letting every suite time out.
 * Kafka: `bash infra/kafka/kafka.sh start`. PostgreSQL: DATABASE_URL (trust auth on 127.0.0.1:5432 here).
 */
export default async function globalSetup(): Promise<void> {
  try {
    await tcp(TEST_KAFKA_BROKERS[0], 3000);
  } catch (e) {
    throw new Error(
      `integration tests need Kafka at KAFKA_BROKERS=${TEST_KAFKA_BROKERS.join(',')} (${(e as Error).message}); start it with: bash infra/kafka/kafka.sh start`,
    );
  }
  const c = new Client({ connectionString: TEST_DATABASE_URL });
  try {
    await c.connect();
    await c.query('select 1');
  } catch (e) {
    throw new Error(`integration tests need PostgreSQL at DATABASE_URL=${TEST_DATABASE_URL} (${(e as Error).message})`);
  } finally {
    await c.end().catch(() => undefined);
  }
}
