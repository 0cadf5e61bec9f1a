import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';

/**
 * Configuration is environment variables, validated by a schema at start-up (docs/conventions.md §9).
 * Every invalid or missing variable is named in one error, so a service fails fast and says why.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Coerces env strings (numbers, booleans) and applies defaults; returns the typed config. */
export function loadConfig<P extends TProperties>(
  schema: TObject<P>,
  env: NodeJS.ProcessEnv = process.env,
): Static<TObject<P>> {
  const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const candidate: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const v = env[key];
    if (v !== undefined && v !== '') candidate[key] = v;
  }
  if (!validate(candidate)) {
    const problems = (validate.errors ?? []).map((e) => {
      const name = e.keyword === 'required' ? String(e.params.missingProperty) : e.instancePath.replace(/^\//, '');
      const value = env[name];
      return `${name}: ${e.message}${value !== undefined ? ` (got ${JSON.stringify(value)})` : ''}`;
    });
    throw new ConfigError(problems);
  }
  return candidate as Static<TObject<P>>;
}

/** Variables every service shares. */
export const CommonConfig = {
  KAFKA_BROKERS: Type.String({
    default: '127.0.0.1:9092',
    pattern: '^[^,\\s]+:\\d+(,[^,\\s]+:\\d+)*$',
    description: 'comma-separated host:port list',
  }),
  KAFKA_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  KAFKA_PARTITIONS: Type.Integer({
    default: 3,
    minimum: 1,
    maximum: 1000,
    description: 'partitions of topics the project creates',
  }),
  KAFKA_MAX_MESSAGE_BYTES: Type.Integer({
    default: 1048576,
    minimum: 65536,
    maximum: 100 * 1024 * 1024,
    description:
      'max.message.bytes of the topics the project creates: the largest record; the HTTP body limit is derived from it',
  }),
  METRICS_TOKEN_SHA256: Type.Optional(
    Type.String({
      pattern: '^[0-9a-f]{64}$',
      description: 'sha256 hex of the token /metrics requires (Authorization: Bearer <token>); unset: /metrics is open',
    }),
  ),
  DOCS_REQUIRE_KEY: Type.Boolean({ default: false, description: 'true: /docs and /openapi.json need a valid API key' }),
  OUTBOX_IDLE_POLL_MS: Type.Integer({
    default: 2000,
    minimum: 10,
    maximum: 600_000,
    description:
      'how long the outbox relay sleeps after a round that found nothing before it looks again, for rows another ' +
      'instance or process committed; every commit of this process wakes it at once, and while it finds rows it ' +
      'looks again at once or after its busy interval',
  }),
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('trace'),
      Type.Literal('debug'),
      Type.Literal('info'),
      Type.Literal('warn'),
      Type.Literal('error'),
      Type.Literal('silent'),
    ],
    { default: 'info' },
  ),
};

/**
 * What a service that consumes `ocpp.inbound` adds to its config: how long its inbox keeps the ids of inbound records
 * (a station repeating a call on its connection is dropped by them; a redelivery needs none: ADR 0011).
 */
export const InboundInboxConfig = {
  INBOX_RETENTION_HOURS: Type.Integer({
    default: 168,
    minimum: 1,
    maximum: 87_600,
    description: 'hours the inbox keeps the event ids of ocpp.inbound records before they are pruned',
  }),
};

/** `inboxRetentionMs` of a consumer of `topic` (ocpp.inbound, as named in this deployment) under `InboundInboxConfig`. */
export function inboundInboxRetention(topic: string, cfg: { INBOX_RETENTION_HOURS: number }): Record<string, number> {
  return { [topic]: cfg.INBOX_RETENTION_HOURS * 3_600_000 };
}

export function brokersOf(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
