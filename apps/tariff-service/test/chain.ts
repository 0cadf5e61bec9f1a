import { SessionEndedV1, systemCatalogue, type EventOf } from '@csms/contracts';
import { silentLogger } from '@csms/platform';
import { TEST_KAFKA_BROKERS, testDatabaseUrl, uniqueName } from '@csms/testing';
import { loadSessionServiceConfig } from '../../session-service/src/config';
import { startSessionService, type RunningSessionService } from '../../session-service/src/service';
import { loadTariffServiceConfig, type TariffServiceConfig } from '../src/config';

/** The topics of a session service feeding a tariff service, unique to one suite. */
export function chainTopics() {
  return {
    inbound: uniqueName('test.ocpp-inbound'),
    sessions: uniqueName('test.session-events'),
    tariffs: uniqueName('test.tariff-events'),
    billing: uniqueName('test.billing-events'),
    stations: uniqueName('test.registry-stations'),
    tokens: uniqueName('test.registry-tokens'),
  };
}
export type ChainTopics = ReturnType<typeof chainTopics>;

/** A session service (in process) folding `topics.inbound` into `topics.sessions`, in database `db`. */
export function startChainSessions(topics: ChainTopics, db: string): Promise<RunningSessionService> {
  return startSessionService(
    loadSessionServiceConfig({
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(db),
      HTTP_PORT: '0',
      SESSION_CONSUMER_GROUP: uniqueName('sessions'),
      OCPP_INBOUND_TOPIC: topics.inbound,
      SESSION_EVENTS_TOPIC: topics.sessions,
      LOG_LEVEL: 'silent',
    }),
    silentLogger(),
  );
}

/** The tariff service's configuration on those topics, in database `db`. */
export function chainTariffConfig(
  topics: ChainTopics,
  db: string,
  apiKeys: string,
  extra: Record<string, string> = {},
): TariffServiceConfig {
  return loadTariffServiceConfig({
    KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
    DATABASE_URL: testDatabaseUrl(db),
    HTTP_PORT: '0',
    API_KEYS: apiKeys,
    TARIFF_CONSUMER_GROUP: uniqueName('tariffs'),
    TARIFF_EVENTS_TOPIC: topics.tariffs,
    SESSION_EVENTS_TOPIC: topics.sessions,
    BILLING_EVENTS_TOPIC: topics.billing,
    REGISTRY_STATIONS_TOPIC: topics.stations,
    REGISTRY_TOKENS_TOPIC: topics.tokens,
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

/** A day after today (UTC): sessions must start after the tariff is published (no retroactive prices). */
export const tomorrow = (): string => new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10);

/**
 * A session.ended v1 envelope (as older session services wrote them: the service prices it through the v1 -> v2
 * upcaster): the contract's example moved to `day` (YYYY-MM-DD), for session `sessionId` at
 * `stationId`, revision `revision`, with event id `eventId`.
 */
export function sessionEnded(
  day: string,
  sessionId: string,
  stationId: string,
  revision: number,
  eventId: string,
): EventOf<typeof SessionEndedV1> {
  const ex = SessionEndedV1.example;
  const shift = (t: string) => t.replace('2026-03-01', day);
  return systemCatalogue().create(SessionEndedV1, {
    id: eventId,
    key: sessionId,
    occurredAt: shift(ex.endedAt),
    source: 'test',
    payload: {
      ...ex,
      sessionId,
      revision,
      stationId,
      startedAt: shift(ex.startedAt),
      endedAt: shift(ex.endedAt),
      chargingPeriods: ex.chargingPeriods.map((p) => ({
        ...p,
        startDateTime: shift(p.startDateTime),
        endDateTime: shift(p.endDateTime),
      })),
      energyTimeline: ex.energyTimeline.map((x) => ({ ...x, at: shift(x.at) })),
    },
  });
}
