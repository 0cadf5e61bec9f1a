import { Module, type INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TOPIC_SPECS, Topics, deadLetterSpec, systemCatalogue } from '@csms/contracts';
import { MessagingRuntime, type EventConsumer } from '@csms/messaging';
import { brokersOf, createLogger, ensureDatabaseExists, openDatabase, type Logger } from '@csms/platform';
import { HealthRegistry, ServiceKitModule, createHttpService, parseApiKeys } from '@csms/service-kit';
import type { SessionServiceConfig } from './config';
import { makeInboundHandler } from './inbound.handler';
import { sessionServiceMigrations } from './migrations';
import { SessionsController } from './sessions.controller';

export interface RunningSessionService {
  app: INestApplication;
  dataSource: DataSource;
  runtime: MessagingRuntime;
  consumer: EventConsumer;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the session service: database (created and migrated), messaging (topics, relay, consumer of
 * ocpp.inbound), HTTP API. `stop()` is graceful: the consumer finishes and commits its batch first.
 */
export async function startSessionService(cfg: SessionServiceConfig, logger: Logger = createLogger('session-service', cfg.LOG_LEVEL)): Promise<RunningSessionService> {
  await ensureDatabaseExists(cfg.DATABASE_URL);
  const dataSource = await openDatabase({ url: cfg.DATABASE_URL, migrations: sessionServiceMigrations, applicationName: 'session-service' });
  const catalogue = systemCatalogue().withTopics({ [Topics.ocppInbound]: cfg.OCPP_INBOUND_TOPIC, [Topics.sessionEvents]: cfg.SESSION_EVENTS_TOPIC });
  const specs = TOPIC_SPECS.filter((t) => t.name === Topics.ocppInbound || t.name === Topics.sessionEvents).map((t) => ({ ...t, name: catalogue.topic(t.name) }));
  const runtime = new MessagingRuntime({
    service: cfg.KAFKA_CLIENT_ID ?? 'session-service',
    brokers: brokersOf(cfg.KAFKA_BROKERS),
    dataSource,
    logger,
    topics: [...specs, deadLetterSpec(cfg.SESSION_CONSUMER_GROUP)],
    partitions: cfg.KAFKA_PARTITIONS,
  });
  const fold = makeInboundHandler(catalogue, { updateIntervalSeconds: cfg.SESSION_UPDATE_INTERVAL_SECONDS, staleAfterSeconds: cfg.SESSION_STALE_AFTER_SECONDS });
  const consumer = runtime.addConsumer({
    name: cfg.SESSION_CONSUMER_GROUP,
    topics: [cfg.OCPP_INBOUND_TOPIC],
    catalogue,
    handler: fold.handler,
    onChunkStart: fold.onChunkStart,
    onChunkEnd: fold.onChunkEnd,
    partitionsConsumedConcurrently: cfg.SESSION_PARTITIONS_CONCURRENCY,
  });

  @Module({
    imports: [ServiceKitModule.forRoot({ service: 'session-service', apiKeys: parseApiKeys(cfg.API_KEYS), logger })],
    controllers: [SessionsController],
    providers: [{ provide: DataSource, useValue: dataSource }],
  })
  class SessionServiceModule {}

  const app = await createHttpService(SessionServiceModule, { service: 'session-service', title: 'CSMS session service', description: 'Charging sessions folded from the OCPP log', logger });
  const health = app.get(HealthRegistry);
  health.register('database', async () => (await dataSource.query('select 1')).length === 1);
  health.register('kafka', async () => runtime.health());
  await runtime.start();
  await app.listen(cfg.HTTP_PORT, cfg.HTTP_HOST);
  const url = await app.getUrl();
  logger.info({ url }, 'session service ready');
  let stopped = false;
  return {
    app,
    dataSource,
    runtime,
    consumer,
    url: url.replace('[::1]', '127.0.0.1'),
    async stop() {
      if (stopped) return;
      stopped = true;
      await runtime.stop();
      await app.close();
      await dataSource.destroy();
    },
  };
}
