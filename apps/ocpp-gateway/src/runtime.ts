import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { Topics, TOPIC_SPECS, type TopicSpec } from '@csms/contracts';
import {
  KafkaRecordPublisher,
  OutboxRelay,
  ParkedOutbox,
  STARTUP_TIMEOUT_MS,
  createKafka,
  ensureTopics,
  waitForGroupCoordinators,
  type RecordPublisher,
} from '@csms/messaging';
import { brokersOf, ensureDatabaseExists, openDatabase, type Logger } from '@csms/platform';
import type { GatewayConfig } from './config';
import { gatewayMigrations } from './migrations';
import { BatchingPublisher, ShardedPublisher } from './ocpp/batching-publisher';
import { InboundRecorder } from './ocpp/inbound-recorder';
import { OcppServer, type OcppServerDeps } from './ocpp/ocpp-server';
import { PasswordVerifier, type SharedVerification } from './registry/password';
import { PASSWORD_MEMO_KEY_ENV } from './cluster';
import { RegistryCache } from './registry/registry-cache';
import { databaseCredentials } from './registry/credentials';
import { RegistryService } from './registry/registry.service';
import { TransactionIdStore } from './transactions/transaction-ids';
import { CommandConsumer } from './commands/command-consumer';
import { CommandService } from './commands/command.service';
import { PresenceStore } from './commands/presence';

export interface RuntimeOverrides {
  now?: () => Date;
  /** the publisher of inbound records (tests point it at a dead broker) */
  inboundPublisher?: RecordPublisher;
  metrics?: OcppServerDeps['metrics'];
  /** the password verifier (tests make one that does not answer) */
  passwords?: PasswordVerifier;
}

function spec(name: string, like: string): TopicSpec {
  const base = TOPIC_SPECS.find((s) => s.name === like)!;
  return { ...base, name };
}

/**
 * The password verifier: in a worker of a clustered gateway, with the key the primary drew and the
 * verifications shared with the other workers through the primary; else a verifier of its own.
 */
function sharedPasswordVerifier(): PasswordVerifier {
  const key = process.env[PASSWORD_MEMO_KEY_ENV];
  if (!cluster.isWorker || !key) return new PasswordVerifier();
  const verifier = new PasswordVerifier(Buffer.from(key, 'base64'));
  verifier.onVerified = (v) => process.send?.({ passwordVerified: v });
  process.on('message', (m: { passwordVerified?: SharedVerification }) => {
    if (m?.passwordVerified) verifier.remember(m.passwordVerified);
  });
  return verifier;
}

/**
 * The gateway's parts, wired in start order: database (migrations), topics, registry (read to the end),
 * producer, outbox relay, OCPP listeners. `stop()` undoes it in reverse, letting in-flight records finish.
 */
export class GatewayRuntime {
  private constructor(
    readonly config: GatewayConfig,
    readonly dataSource: DataSource,
    readonly kafka: Kafka,
    readonly producer: KafkaRecordPublisher,
    private readonly inboundProducers: KafkaRecordPublisher[],
    readonly batcher: ShardedPublisher,
    readonly relay: OutboxRelay,
    readonly parked: ParkedOutbox,
    readonly registryCache: RegistryCache,
    readonly registry: RegistryService,
    readonly server: OcppServer,
    readonly commands: CommandService,
    readonly commandConsumer: CommandConsumer,
    private readonly logger: Logger,
  ) {}

  static async start(config: GatewayConfig, logger: Logger, overrides: RuntimeOverrides = {}): Promise<GatewayRuntime> {
    const now = overrides.now ?? (() => new Date());
    await ensureDatabaseExists(config.DATABASE_URL);
    const dataSource = await openDatabase({
      url: config.DATABASE_URL,
      migrations: gatewayMigrations,
      applicationName: `ocpp-gateway-${config.GATEWAY_INSTANCE}`,
    });
    const kafka = createKafka({
      brokers: brokersOf(config.KAFKA_BROKERS),
      clientId: config.KAFKA_CLIENT_ID ?? 'ocpp-gateway',
      logger,
    });
    const topics = {
      stations: config.REGISTRY_STATIONS_TOPIC,
      tokens: config.REGISTRY_TOKENS_TOPIC,
      accounts: config.REGISTRY_ACCOUNTS_TOPIC,
    };
    const limits = { maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES };
    const mismatches = await ensureTopics(
      kafka,
      [
        spec(config.OCPP_INBOUND_TOPIC, Topics.ocppInbound),
        spec(topics.stations, Topics.registryStations),
        spec(topics.tokens, Topics.registryTokens),
        spec(topics.accounts, Topics.registryAccounts),
        spec(config.OCPP_COMMANDS_TOPIC, Topics.ocppCommands),
        spec(config.OCPP_COMMAND_RESULTS_TOPIC, Topics.ocppCommandResults),
      ],
      config.KAFKA_PARTITIONS,
      { ...limits, logger },
    );
    for (const m of mismatches) {
      logger.warn(
        {
          topic: m.topic,
          topicMaxMessageBytes: m.maxMessageBytes ?? 'broker default',
          maxMessageBytes: limits.maxMessageBytes,
        },
        'topic max.message.bytes is below KAFKA_MAX_MESSAGE_BYTES (existing topics are not altered): a record between the two limits is parked by the outbox relay',
      );
    }
    // on a new broker the first group lookup creates __consumer_offsets: wait (bounded) until its coordinator answers
    await waitForGroupCoordinators(kafka, [`ocpp-gateway-commands-${config.GATEWAY_INSTANCE}`], {
      deadline: Date.now() + STARTUP_TIMEOUT_MS,
      logger,
    });
    const registryCache = new RegistryCache(
      kafka,
      topics,
      config.GATEWAY_INSTANCE,
      logger,
      databaseCredentials(dataSource),
    );
    await registryCache.start();
    const producer = new KafkaRecordPublisher(kafka, limits);
    await producer.connect();
    // inbound records: PUBLISH_PRODUCERS idempotent producers, a station's records always through the same one
    const inboundProducers = overrides.inboundPublisher
      ? []
      : Array.from({ length: config.PUBLISH_PRODUCERS }, () => new KafkaRecordPublisher(kafka, limits));
    await Promise.all(inboundProducers.map((p) => p.connect()));
    const batchOpts = {
      lingerMs: config.PUBLISH_LINGER_MS,
      maxBatch: config.PUBLISH_MAX_BATCH,
      timeoutMs: config.PUBLISH_TIMEOUT_MS,
    };
    const batcher = new ShardedPublisher(
      overrides.inboundPublisher
        ? [new BatchingPublisher(overrides.inboundPublisher, batchOpts)]
        : inboundProducers.map((p) => new BatchingPublisher(p, batchOpts)),
    );
    // the registry and the command path nudge the relay after each commit: idle, it only looks for other instances' rows
    const relay = new OutboxRelay(dataSource, producer, logger.child({ component: 'outbox-relay' }), {
      pollIntervalMs: 200,
      idlePollIntervalMs: config.OUTBOX_IDLE_POLL_MS,
      ...limits,
    });
    relay.start();
    const parked = new ParkedOutbox(dataSource, relay);
    const registry = new RegistryService(
      dataSource,
      relay,
      registryCache,
      topics,
      `ocpp-gateway/${config.GATEWAY_INSTANCE}`,
      config.OCPP_PASSWORD_SCRYPT_N,
    );
    // records from before v3 may carry a password hash on the compacted topic: superseded by a v3 record each
    // (compaction then drops the old ones). Idempotent; a failure is retried at the next start.
    const legacy = await registry.republishLegacyStations().catch((e: unknown) => {
      logger.warn(
        { err: e },
        'stations with pre-v3 registry records (password hashes) not re-published; retried at the next start',
      );
      return 0;
    });
    if (legacy > 0)
      logger.info(
        { stations: legacy },
        'stations re-published as registry.station_registered v3 (no password hash on the topic)',
      );
    const transactions = new TransactionIdStore(dataSource);
    const presence = new PresenceStore(dataSource, config.GATEWAY_INSTANCE);
    await presence.clearOwn();
    const commands = new CommandService(
      dataSource,
      relay,
      { commands: config.OCPP_COMMANDS_TOPIC, results: config.OCPP_COMMAND_RESULTS_TOPIC },
      `ocpp-gateway/${config.GATEWAY_INSTANCE}`,
      now,
    );
    const tls =
      config.OCPP_TLS_CERT_FILE && config.OCPP_TLS_KEY_FILE
        ? {
            port: config.OCPP_TLS_PORT,
            cert: readFileSync(config.OCPP_TLS_CERT_FILE),
            key: readFileSync(config.OCPP_TLS_KEY_FILE),
            ca: config.OCPP_TLS_CLIENT_CA_FILE ? readFileSync(config.OCPP_TLS_CLIENT_CA_FILE) : undefined,
          }
        : undefined;
    const passwords = overrides.passwords ?? sharedPasswordVerifier();
    const server = new OcppServer(
      {
        host: config.OCPP_HOST,
        port: config.OCPP_PORT,
        tls,
        maxFrameBytes: config.OCPP_MAX_FRAME_BYTES,
        maxBadMessages: config.OCPP_MAX_BAD_MESSAGES,
        callTimeoutMs: config.OCPP_CALL_TIMEOUT_MS,
        heartbeatIntervalS: config.OCPP_HEARTBEAT_INTERVAL_S,
        pingIntervalS: config.OCPP_PING_INTERVAL_S,
        allowProvisional: config.OCPP_ALLOW_PROVISIONAL,
        authThrottle: {
          freeFailures: config.OCPP_AUTH_FAIL_FREE,
          addressFreeFailures: config.OCPP_AUTH_FAIL_ADDRESS_FREE,
          baseMs: config.OCPP_AUTH_FAIL_BACKOFF_MS,
          maxMs: config.OCPP_AUTH_FAIL_BACKOFF_MAX_MS,
        },
        rateLimit:
          config.OCPP_RATE_LIMIT_PER_S > 0
            ? { perSecond: config.OCPP_RATE_LIMIT_PER_S, burst: config.OCPP_RATE_LIMIT_BURST }
            : null,
        maxPendingUpgrades: config.OCPP_MAX_PENDING_UPGRADES,
        upgradeTimeoutMs: config.OCPP_UPGRADE_TIMEOUT_MS,
        remoteStartGrantMs: config.OCPP_REMOTE_START_GRANT_S * 1000,
      },
      {
        registry: registryCache,
        passwords,
        recorder: new InboundRecorder(batcher, config.OCPP_INBOUND_TOPIC, config.GATEWAY_INSTANCE, now),
        assignTransactionId: (s) => transactions.assign(s),
        now,
        logger: logger.child({ component: 'ocpp' }),
        metrics: overrides.metrics,
        presence,
        connectorReported: (stationId, evseId, connectorId) => registry.recordConnector(stationId, evseId, connectorId),
      },
    );
    await server.listen();
    const commandConsumer = new CommandConsumer(
      kafka,
      config.OCPP_COMMANDS_TOPIC,
      config.GATEWAY_INSTANCE,
      server,
      commands,
      presence,
      now,
      logger.child({ component: 'commands' }),
      config.OCPP_CALL_TIMEOUT_MS,
    );
    await commandConsumer.start();
    logger.info({ ports: server.ports, instance: config.GATEWAY_INSTANCE }, 'OCPP endpoint listening');
    return new GatewayRuntime(
      config,
      dataSource,
      kafka,
      producer,
      inboundProducers,
      batcher,
      relay,
      parked,
      registryCache,
      registry,
      server,
      commands,
      commandConsumer,
      logger,
    );
  }

  /** Kafka answers a metadata request (readiness). */
  async kafkaAnswers(): Promise<boolean> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    await this.commandConsumer.stop().catch(() => undefined);
    await this.server.close();
    await this.batcher.drain().catch(() => undefined);
    await this.relay.stop();
    await this.registryCache.stop().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    await Promise.all(this.inboundProducers.map((p) => p.disconnect().catch(() => undefined)));
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    this.logger.info('gateway stopped');
  }
}
