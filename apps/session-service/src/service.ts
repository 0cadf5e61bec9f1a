import { fetchRoomForChunk } from '@csms/messaging';
import { TOPIC_SPECS, Topics, deadLetterSpec, systemCatalogue } from '@csms/contracts';
import { createLogger, inboundInboxRetention, type Logger } from '@csms/platform';
import { startService, type RunningService, sharedSettings } from '@csms/service-kit';
import type { SessionServiceConfig } from './config';
import { InboundFrameReader } from './frames';
import { INBOUND_FOLD, InboundConsumer } from './inbound.consumer';
import { makeInboundHandler } from './inbound.handler';
import { sessionServiceMigrations } from './migrations';
import { FRAME_READER, SessionsController } from './sessions.controller';

export interface RunningSessionService extends RunningService {
  consumer: RunningService['consumers'][number];
}

/**
 * Starts the session service: its database, the consumer of ocpp.inbound that folds records into
 * sessions (emitting session events through the outbox), and the sessions API.
 */
export async function startSessionService(
  cfg: SessionServiceConfig,
  logger: Logger = createLogger('session-service', cfg.LOG_LEVEL),
): Promise<RunningSessionService> {
  const catalogue = systemCatalogue().withTopics({
    [Topics.ocppInbound]: cfg.OCPP_INBOUND_TOPIC,
    [Topics.sessionEvents]: cfg.SESSION_EVENTS_TOPIC,
  });
  const specs = TOPIC_SPECS.filter((t) => t.name === Topics.ocppInbound || t.name === Topics.sessionEvents).map(
    (t) => ({ ...t, name: catalogue.topic(t.name) }),
  );
  const fold = makeInboundHandler(
    catalogue,
    { updateIntervalSeconds: cfg.SESSION_UPDATE_INTERVAL_SECONDS, staleAfterSeconds: cfg.SESSION_STALE_AFTER_SECONDS },
    { stations: cfg.SESSION_STATE_CACHE_STATIONS, items: cfg.SESSION_STATE_CACHE_ITEMS },
  );
  const svc = await startService(
    {
      name: 'session-service',
      title: 'CSMS session service',
      description: 'Charging sessions folded from the OCPP log',
      databaseUrl: cfg.DATABASE_URL,
      migrations: sessionServiceMigrations,
      http: { port: cfg.HTTP_PORT, host: cfg.HTTP_HOST },
      ...sharedSettings(cfg),
      topics: [...specs, deadLetterSpec(cfg.SESSION_CONSUMER_GROUP)],
      consumers: () => [
        {
          name: cfg.SESSION_CONSUMER_GROUP,
          topics: [cfg.OCPP_INBOUND_TOPIC],
          catalogue,
          controller: InboundConsumer,
          partitionsConsumedConcurrently: cfg.SESSION_PARTITIONS_CONCURRENCY,
          chunkSize: cfg.SESSION_CHUNK_SIZE,
          // room for a whole chunk of records of up to 2 KiB in one fetched batch (a chunk never spans two)
          fetchMaxBytesPerPartition: fetchRoomForChunk(cfg.SESSION_CHUNK_SIZE),
          inboxRetentionMs: inboundInboxRetention(cfg.OCPP_INBOUND_TOPIC, cfg),
        },
      ],
      controllers: [SessionsController],
      providers: ({ runtime }) => [
        { provide: INBOUND_FOLD, useValue: fold },
        {
          provide: FRAME_READER,
          useValue: new InboundFrameReader(runtime.kafka, {
            topic: cfg.OCPP_INBOUND_TOPIC,
            groupPrefix: cfg.SESSION_CONSUMER_GROUP,
            timeoutMs: cfg.SESSION_FRAMES_TIMEOUT_MS,
            maxConcurrent: cfg.SESSION_FRAMES_CONCURRENCY,
            maxWaiting: cfg.SESSION_FRAMES_CONCURRENCY * 4,
            cacheRecords: cfg.SESSION_FRAMES_CACHE_RECORDS,
          }),
        },
      ],
    },
    logger,
  );
  return { ...svc, consumer: svc.consumers[0] };
}
