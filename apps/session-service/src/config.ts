import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig, InboundInboxConfig, loadConfig } from '@csms/platform';

export const SessionServiceConfigSchema = Type.Object({
  ...CommonConfig,
  ...InboundInboxConfig,
  DATABASE_URL: Type.String({
    default: 'postgres://postgres@127.0.0.1:5432/csms_sessions',
    pattern: '^postgres(ql)?://',
  }),
  HTTP_PORT: Type.Integer({ default: 3001, minimum: 0, maximum: 65535 }),
  HTTP_HOST: Type.String({ default: '127.0.0.1' }),
  API_KEYS: Type.Optional(Type.String()),
  /** consumer group; one per deployment (instances of the service share it) */
  SESSION_CONSUMER_GROUP: Type.String({ default: 'session-service', minLength: 1 }),
  /** topic names (overridable for tests and multi-tenant deployments) */
  OCPP_INBOUND_TOPIC: Type.String({ default: 'ocpp.inbound' }),
  SESSION_EVENTS_TOPIC: Type.String({ default: 'session.events' }),
  /** decider rules (event time, seconds): see libs/sessions/README.md */
  SESSION_UPDATE_INTERVAL_SECONDS: Type.Integer({ default: 900, minimum: 0 }),
  SESSION_STALE_AFTER_SECONDS: Type.Integer({ default: 259200, minimum: 60 }),
  SESSION_PARTITIONS_CONCURRENCY: Type.Integer({ default: 3, minimum: 1, maximum: 64 }),
  /** most records applied in one transaction when there is a backlog (a quiet stream makes small chunks anyway) */
  SESSION_CHUNK_SIZE: Type.Integer({ default: 1000, minimum: 1, maximum: 10000 }),
  /**
   * stations whose decider state is kept in memory between chunks, and the list items (readings, power, current,
   * seqNos, sources) they may hold together: the least recently used are dropped beyond either (a dropped one is read
   * again from the database, head and every piece of its open sessions, at its next chunk)
   */
  SESSION_STATE_CACHE_STATIONS: Type.Integer({ default: 50000, minimum: 0 }),
  SESSION_STATE_CACHE_ITEMS: Type.Integer({ default: 3000000, minimum: 0 }),
  /** raw frames API (GET /sessions/{id}/frames): how long one read of ocpp.inbound may take, reads at once, records cached */
  SESSION_FRAMES_TIMEOUT_MS: Type.Integer({ default: 15000, minimum: 500, maximum: 120000 }),
  SESSION_FRAMES_CONCURRENCY: Type.Integer({ default: 2, minimum: 1, maximum: 16 }),
  SESSION_FRAMES_CACHE_RECORDS: Type.Integer({ default: 5000, minimum: 0 }),
});
export type SessionServiceConfig = Static<typeof SessionServiceConfigSchema>;

export function loadSessionServiceConfig(env: NodeJS.ProcessEnv = process.env): SessionServiceConfig {
  return loadConfig(SessionServiceConfigSchema, env);
}
