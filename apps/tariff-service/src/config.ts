import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@csms/platform';

export const TariffServiceConfigSchema = Type.Object({
  ...CommonConfig,
  DATABASE_URL: Type.String({
    default: 'postgres://postgres@127.0.0.1:5432/csms_tariffs',
    pattern: '^postgres(ql)?://',
  }),
  HTTP_PORT: Type.Integer({ default: 3002, minimum: 0, maximum: 65535 }),
  HTTP_HOST: Type.String({ default: '127.0.0.1' }),
  API_KEYS: Type.Optional(Type.String()),
  TARIFF_CONSUMER_GROUP: Type.String({ default: 'tariff-service', minLength: 1 }),
  /** topic names (overridable for tests and multi-tenant deployments) */
  TARIFF_EVENTS_TOPIC: Type.String({ default: 'tariff.events' }),
  SESSION_EVENTS_TOPIC: Type.String({ default: 'session.events' }),
  BILLING_EVENTS_TOPIC: Type.String({ default: 'billing.events' }),
  REGISTRY_STATIONS_TOPIC: Type.String({ default: 'registry.stations' }),
  REGISTRY_TOKENS_TOPIC: Type.String({ default: 'registry.tokens' }),
  /** the CPO that owns the CDRs (OCPI country_code / party_id) */
  CPO_COUNTRY_CODE: Type.String({ default: 'NL', pattern: '^[A-Z]{2}$' }),
  CPO_PARTY_ID: Type.String({ default: 'CSM', pattern: '^[A-Z0-9]{3}$' }),
  /** time zone for stations the registry does not know (recorded in each CDR's audit) */
  DEFAULT_TIME_ZONE: Type.String({ default: 'UTC' }),
  /** most session.ended events priced in one transaction when there is a backlog */
  TARIFF_CHUNK_SIZE: Type.Integer({ default: 100, minimum: 1, maximum: 10000 }),
  /**
   * largest cdr.created event (bytes of its JSON) the service emits; a bigger one would be refused by the broker
   * (`max.message.bytes`, 1 MiB by default) and stall the outbox, so the session becomes a CDR_TOO_LARGE pricing failure
   */
  TARIFF_MAX_EVENT_BYTES: Type.Integer({ default: 1_000_000, minimum: 10_000 }),
  /**
   * running-cost estimates (billing.session_cost_estimated): a running session is priced at most once per this many
   * seconds of session time (event time), and at every charging-state change; 0 turns the estimates off
   */
  TARIFF_ESTIMATE_INTERVAL_S: Type.Integer({ default: 300, minimum: 0, maximum: 86400 }),
  /** rounding of each reported total to the currency's minor unit */
  PRICING_ROUNDING: Type.Union(
    ['HALF_UP', 'HALF_EVEN', 'HALF_DOWN', 'UP', 'DOWN', 'CEILING', 'FLOOR'].map((s) => Type.Literal(s)),
    { default: 'HALF_UP' },
  ),
});
export type TariffServiceConfig = Static<typeof TariffServiceConfigSchema>;

export function loadTariffServiceConfig(env: NodeJS.ProcessEnv = process.env): TariffServiceConfig {
  return loadConfig(TariffServiceConfigSchema, env);
}
