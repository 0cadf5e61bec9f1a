import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Event types are dotted, lower case, past tense: `session.ended`, `ocpp.message_received`. */
export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$';

/**
 * The one envelope of every event on every topic (docs/architecture.md, "Events").
 * `id` is deterministic for derived events (UUID v5 of the source identity, see ids.ts);
 * `occurredAt` comes from the facts, never from the wall clock of the service that derives it.
 */
export const EnvelopeSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 100 }),
    version: Type.Integer({ minimum: 1 }),
    occurredAt: Type.String({ format: 'date-time' }),
    key: Type.String({ minLength: 1, maxLength: 512 }),
    source: Type.String({ minLength: 1, maxLength: 200 }),
    causationId: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]),
    correlationId: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]),
    payload: Type.Unknown(),
  },
  { additionalProperties: false },
);

export type Envelope<P = unknown, T extends string = string> = Omit<
  Static<typeof EnvelopeSchema>,
  'payload' | 'type'
> & {
  type: T;
  payload: P;
};

/** Closed object schema: unknown properties are a contract violation. */
export function closed<P extends Parameters<typeof Type.Object>[0]>(properties: P, description?: string) {
  return Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
}

export type { TSchema, Static };
