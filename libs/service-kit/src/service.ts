import { Module, type INestApplication, type Provider, type Type as NestType } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TopicSpec } from '@csms/contracts';
import { MessagingRuntime, ParkedOutbox, type EventConsumer, type OutboxRelayOptions } from '@csms/messaging';
import { brokersOf, ensureDatabaseExists, openDatabase, type Logger, type Migrations } from '@csms/platform';
import { parseApiKeys } from './api-keys';
import { createHttpService, type TextBodyRoute } from './bootstrap';
import { ConsumerTransport, type ConsumerDeclaration } from './consumer-transport';
import { DEAD_LETTER_CONSUMERS, DeadLettersController, watchDeadLetters } from './dead-letters';
import type { AccessOptions } from './access';
import { HealthRegistry } from './health';
import { createMetricsRegistry } from './metrics';
import { observeConsumers, observeReadiness } from './consumer-metrics';
import { ServiceKitModule } from './module';
import { ParkedOutboxController, observeOutbox } from './outbox';

export interface ServiceDefinition {
  /** process and log name, e.g. `session-service` */
  name: string;
  title: string;
  description: string;
  databaseUrl: string;
  migrations: Migrations;
  /** `unprefixedRoutes`: routes of the service's own outside /api/v1 (a standard's path, e.g. OCPI's); `textBodies`:
   * routes that also read a text body of their own media types (bootstrap.ts) */
  http: { port: number; host: string; unprefixedRoutes?: string[]; textBodies?: TextBodyRoute[] };
  apiKeys?: string;
  /** who may read /metrics and the API description (METRICS_TOKEN_SHA256, DOCS_REQUIRE_KEY; default open) */
  access?: AccessOptions;
  /** `maxMessageBytes`: KAFKA_MAX_MESSAGE_BYTES, the topics' record limit; the HTTP body limit derives from it */
  kafka: { brokers: string; partitions: number; clientId?: string; maxMessageBytes?: number };
  /** topics the service uses (created if missing) */
  topics: readonly TopicSpec[];
  /** its outbox relay's polling (default: every 100 ms) */
  relay?: Pick<OutboxRelayOptions, 'pollIntervalMs' | 'idlePollIntervalMs'>;
  /** its consumers, each naming the `@ConsumerController()` class whose `@EventPattern` methods handle its events */
  consumers: (ctx: { dataSource: DataSource; runtime: MessagingRuntime }) => ConsumerDeclaration[];
  /** its HTTP controllers (the consumers' controllers are added from `consumers`) */
  controllers: NestType[];
  providers?: (ctx: { dataSource: DataSource; runtime: MessagingRuntime }) => Provider[];
}

/** The variables every service shares (libs/platform `CommonConfig`), as a definition's settings take them. */
export interface SharedSettingsConfig {
  API_KEYS?: string;
  METRICS_TOKEN_SHA256?: string;
  DOCS_REQUIRE_KEY: boolean;
  KAFKA_BROKERS: string;
  KAFKA_PARTITIONS: number;
  KAFKA_CLIENT_ID?: string;
  KAFKA_MAX_MESSAGE_BYTES: number;
  OUTBOX_IDLE_POLL_MS: number;
}

/**
 * A definition's API keys, access, Kafka and relay settings from the shared variables. Every outbox write of a
 * service nudges its relay after the commit, so an idle relay only looks for other instances' rows, every
 * OUTBOX_IDLE_POLL_MS.
 */
export function sharedSettings(
  cfg: SharedSettingsConfig,
): Pick<ServiceDefinition, 'apiKeys' | 'access' | 'kafka' | 'relay'> {
  return {
    apiKeys: cfg.API_KEYS,
    access: { metricsTokenSha256: cfg.METRICS_TOKEN_SHA256, docsRequireKey: cfg.DOCS_REQUIRE_KEY },
    kafka: {
      brokers: cfg.KAFKA_BROKERS,
      partitions: cfg.KAFKA_PARTITIONS,
      clientId: cfg.KAFKA_CLIENT_ID,
      maxMessageBytes: cfg.KAFKA_MAX_MESSAGE_BYTES,
    },
    relay: { idlePollIntervalMs: cfg.OUTBOX_IDLE_POLL_MS },
  };
}

export interface RunningService {
  app: INestApplication;
  dataSource: DataSource;
  runtime: MessagingRuntime;
  consumers: EventConsumer[];
  url: string;
  /** graceful: consumers finish and commit the batch in hand, the relay finishes its round, then HTTP and the database close */
  stop(): Promise<void>;
}

/**
 * Starts a service the way every service starts: its database (created, migrated), its messaging
 * (topics, outbox relay, consumers with their dead-letter topics), its HTTP API (API keys, problem
 * details, health with database and Kafka checks, metrics, OpenAPI) with the parked outbox
 * (`/api/v1/outbox/parked`, its metrics and its health check) and, when it has consumers, its dead
 * letters (API, metrics, readiness detail).
 */
export async function startService(def: ServiceDefinition, logger: Logger): Promise<RunningService> {
  await ensureDatabaseExists(def.databaseUrl);
  const dataSource = await openDatabase({
    url: def.databaseUrl,
    migrations: def.migrations,
    applicationName: def.name,
  });
  const runtime = new MessagingRuntime({
    service: def.kafka.clientId ?? def.name,
    brokers: brokersOf(def.kafka.brokers),
    dataSource,
    logger,
    topics: def.topics,
    partitions: def.kafka.partitions,
    maxMessageBytes: def.kafka.maxMessageBytes,
    relay: def.relay,
  });
  const declarations = def.consumers({ dataSource, runtime });
  // made once Nest has registered the controllers' handlers with the transport, before anything is served
  const consumers: EventConsumer[] = [];
  const providers: Provider[] = [
    { provide: DataSource, useValue: dataSource },
    { provide: DEAD_LETTER_CONSUMERS, useValue: consumers },
    { provide: ParkedOutbox, useValue: runtime.parked },
    ...(def.providers?.({ dataSource, runtime }) ?? []),
  ];
  const metrics = createMetricsRegistry(def.name);

  @Module({
    imports: [
      ServiceKitModule.forRoot({
        service: def.name,
        apiKeys: parseApiKeys(def.apiKeys),
        logger,
        metrics,
        access: def.access,
      }),
    ],
    // every service with consumers lists and re-drives its dead letters (GET /api/v1/dead-letters)
    controllers: [
      ...def.controllers,
      ...declarations.map((d) => d.controller),
      ParkedOutboxController,
      ...(declarations.length > 0 ? [DeadLettersController] : []),
    ],
    providers,
  })
  class ServiceModule {}

  const app = await createHttpService(ServiceModule, {
    service: def.name,
    title: def.title,
    description: def.description,
    logger,
    maxMessageBytes: runtime.maxMessageBytes,
    unprefixedRoutes: def.http.unprefixedRoutes,
    textBodies: def.http.textBodies,
  });
  // the consumers as a Nest custom transport: Nest registers the @EventPattern methods with it, it starts the runtime
  const transport = new ConsumerTransport(runtime);
  app.connectMicroservice({ strategy: transport });
  consumers.push(...transport.bind(declarations));
  const health = app.get(HealthRegistry);
  health.register('database', async () => (await dataSource.query('select 1')).length === 1);
  health.register('kafka', async () => runtime.health());
  watchDeadLetters(dataSource, consumers, metrics, health);
  observeOutbox(metrics, health, runtime.parked, runtime.relay);
  observeConsumers(metrics, consumers);
  observeReadiness(metrics, health);
  await app.startAllMicroservices();
  await app.listen(def.http.port, def.http.host);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  logger.info({ url }, `${def.name} ready`);
  let stopped = false;
  return {
    app,
    dataSource,
    runtime,
    consumers,
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      await transport.close();
      await app.close();
      await dataSource.destroy();
    },
  };
}

/**
 * The `main.ts` of a service: start, then stop gracefully on SIGTERM/SIGINT. The handlers are installed
 * before start-up, so a signal that arrives while the service is still starting (its consumers may
 * already be applying records) waits for start-up to finish and then stops it gracefully too.
 */
export async function runServiceProcess(
  start: () => Promise<{ stop(): Promise<void> }>,
  logger: Logger,
): Promise<void> {
  let stopping = false;
  const starting = start();
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing the batch in hand');
    starting
      .then((svc) => svc.stop())
      .then(
        () => process.exit(0),
        (e) => {
          logger.error({ err: e }, 'unclean stop');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await starting;
}
