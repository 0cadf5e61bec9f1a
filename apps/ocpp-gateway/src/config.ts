import { hostname } from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { Topics } from '@csms/contracts';
import { ENVELOPE_MARGIN_BYTES } from '@csms/messaging';
import { CommonConfig, ConfigError, loadConfig } from '@csms/platform';

/** Every environment variable of the gateway (validated at start-up; see README). */
export const GatewayConfigSchema = Type.Object({
  ...CommonConfig,
  DATABASE_URL: Type.String({
    default: 'postgres://postgres@127.0.0.1:5432/csms_gateway',
    pattern: '^postgres(ql)?://',
  }),
  HTTP_PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535, description: 'REST API, health, metrics' }),
  OCPP_HOST: Type.String({ default: '0.0.0.0' }),
  OCPP_PORT: Type.Integer({ default: 9000, minimum: 0, maximum: 65535, description: 'ws:// endpoint (profile 1)' }),
  OCPP_TLS_PORT: Type.Integer({
    default: 9443,
    minimum: 0,
    maximum: 65535,
    description: 'wss:// endpoint (profiles 2, 3); only with OCPP_TLS_CERT_FILE',
  }),
  OCPP_TLS_CERT_FILE: Type.Optional(Type.String({ minLength: 1 })),
  OCPP_TLS_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  OCPP_TLS_CLIENT_CA_FILE: Type.Optional(
    Type.String({ minLength: 1, description: 'CA of station certificates (profile 3)' }),
  ),
  OCPP_MAX_FRAME_BYTES: Type.Integer({ default: 65536, minimum: 1024 }),
  OCPP_MAX_BAD_MESSAGES: Type.Integer({ default: 10, minimum: 1 }),
  OCPP_CALL_TIMEOUT_MS: Type.Integer({ default: 30000, minimum: 100 }),
  OCPP_HEARTBEAT_INTERVAL_S: Type.Integer({ default: 300, minimum: 1 }),
  OCPP_PING_INTERVAL_S: Type.Integer({
    default: 60,
    minimum: 0,
    description: 'WebSocket ping to detect dead peers; 0 = off',
  }),
  OCPP_AUTH_FAIL_FREE: Type.Integer({
    default: 5,
    minimum: 1,
    description: 'failed authentications of a station id before it is throttled (429)',
  }),
  OCPP_AUTH_FAIL_ADDRESS_FREE: Type.Integer({
    default: 20,
    minimum: 0,
    description: 'failed authentications from one remote address before it is throttled; 0 = no throttle per address',
  }),
  OCPP_AUTH_FAIL_BACKOFF_MS: Type.Integer({
    default: 1000,
    minimum: 1,
    description: 'first wait once throttled; doubles with each further failure',
  }),
  OCPP_AUTH_FAIL_BACKOFF_MAX_MS: Type.Integer({
    default: 60000,
    minimum: 1,
    description: 'longest wait of a throttled station id or address',
  }),
  OCPP_RATE_LIMIT_PER_S: Type.Number({
    default: 50,
    minimum: 0,
    description: 'sustained CALLs per second per connection; 0 = no limit',
  }),
  OCPP_RATE_LIMIT_BURST: Type.Integer({
    default: 300,
    minimum: 1,
    description: 'CALLs a connection may send back to back above the sustained rate',
  }),
  OCPP_MAX_PENDING_UPGRADES: Type.Integer({
    default: 1000,
    minimum: 1,
    description: 'connections not yet WebSockets (HTTP upgrade pending) held at once; more are refused with 503',
  }),
  OCPP_UPGRADE_TIMEOUT_MS: Type.Integer({
    default: 10000,
    minimum: 100,
    description:
      'a connection that has not sent its whole upgrade request by then is closed; an upgrade request not decided by then (credentials read, password check) is refused with 503 and Retry-After: 5',
  }),
  OCPP_PASSWORD_SCRYPT_N: Type.Integer({
    default: 16384,
    minimum: 1024,
    maximum: 1048576,
    description:
      'scrypt cost (N, a power of two) of station password hashes made from now on; each hash keeps its own cost, so a change applies to passwords set later (the benchmarks of thousands of stations lower it to set them up in minutes)',
  }),
  OCPP_REMOTE_START_GRANT_S: Type.Integer({
    default: 180,
    minimum: 1,
    description:
      'a token this gateway sent in a remote start is accepted from that station for this long while the registry does not know it yet',
  }),
  OCPP_ALLOW_PROVISIONAL: Type.Boolean({
    default: false,
    description: 'accept unknown stations (BootNotification Pending)',
  }),
  GATEWAY_INSTANCE: Type.String({ default: `${hostname()}-${process.pid}`, minLength: 1 }),
  GATEWAY_WORKERS: Type.Integer({
    default: 1,
    minimum: 1,
    maximum: 64,
    description: 'gateway processes sharing the ports (node:cluster); each is an instance of its own',
  }),
  PUBLISH_LINGER_MS: Type.Integer({ default: 2, minimum: 0 }),
  PUBLISH_PRODUCERS: Type.Integer({
    default: 1,
    minimum: 1,
    maximum: 16,
    description: 'parallel idempotent producers for ocpp.inbound (a station always uses the same one)',
  }),
  PUBLISH_MAX_BATCH: Type.Integer({ default: 500, minimum: 1 }),
  PUBLISH_TIMEOUT_MS: Type.Integer({
    default: 5000,
    minimum: 100,
    description: 'no broker ack by then = CALLERROR InternalError',
  }),
  API_KEYS: Type.Optional(Type.String()),
  OCPP_INBOUND_TOPIC: Type.String({ default: Topics.ocppInbound }),
  REGISTRY_STATIONS_TOPIC: Type.String({ default: Topics.registryStations }),
  REGISTRY_TOKENS_TOPIC: Type.String({ default: Topics.registryTokens }),
  REGISTRY_ACCOUNTS_TOPIC: Type.String({ default: Topics.registryAccounts }),
  OCPP_COMMANDS_TOPIC: Type.String({ default: Topics.ocppCommands }),
  OCPP_COMMAND_RESULTS_TOPIC: Type.String({ default: Topics.ocppCommandResults }),
  COMMAND_TTL_S: Type.Integer({
    default: 300,
    minimum: 1,
    description: 'default lifetime of a command sent through the API',
  }),
});
export type GatewayConfig = Static<typeof GatewayConfigSchema>;

/**
 * How much bigger than its frame an `ocpp.inbound` record can be: a rejected frame is recorded verbatim as a JSON
 * string, where a control character takes 6 bytes (`\u0001`).
 */
export const FRAME_ESCAPE_FACTOR = 6;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const c = loadConfig(GatewayConfigSchema, env);
  // every frame the gateway accepts must fit in its record, or the broker refuses it (and the batch it is in)
  const largest = c.OCPP_MAX_FRAME_BYTES * FRAME_ESCAPE_FACTOR + ENVELOPE_MARGIN_BYTES;
  if (largest > c.KAFKA_MAX_MESSAGE_BYTES) {
    throw new ConfigError([
      `OCPP_MAX_FRAME_BYTES: ${c.OCPP_MAX_FRAME_BYTES} can make an ocpp.inbound record of up to ${largest} bytes, above KAFKA_MAX_MESSAGE_BYTES ${c.KAFKA_MAX_MESSAGE_BYTES} (at most ${Math.floor((c.KAFKA_MAX_MESSAGE_BYTES - ENVELOPE_MARGIN_BYTES) / FRAME_ESCAPE_FACTOR)}, or raise KAFKA_MAX_MESSAGE_BYTES)`,
    ]);
  }
  const n = c.OCPP_PASSWORD_SCRYPT_N;
  if ((n & (n - 1)) !== 0) throw new ConfigError([`OCPP_PASSWORD_SCRYPT_N: ${n} is not a power of two (scrypt's N)`]);
  return { ...c, GATEWAY_INSTANCE: c.GATEWAY_INSTANCE ?? `${hostname()}-${process.pid}` };
}
