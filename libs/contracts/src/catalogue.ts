import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';
import { EnvelopeSchema, type Envelope } from './envelope';
import { ContractError } from './errors';
import { schemaParts } from './schema-parts';

/** One version of one event type: its topic and its closed payload schema. */
export interface EventDefinition<T extends string = string, V extends number = number, S extends TSchema = TSchema> {
  readonly type: T;
  readonly version: V;
  readonly topic: string;
  readonly schema: S;
  readonly description: string;
  /** A valid payload, used by the contract tests (every type must round-trip) and the docs. */
  readonly example: Static<S>;
}

export function defineEvent<T extends string, V extends number, S extends TSchema>(
  def: EventDefinition<T, V, S>,
): EventDefinition<T, V, S> {
  return Object.freeze(def);
}

/** The envelope type of a definition: its payload is the schema's static type. */
export type EventOf<D> = D extends EventDefinition<infer T, number, infer S> ? Envelope<Static<S>, T> : never;

/**
 * A pure function from the payload of (type, from) to the payload of (type, from + 1).
 * Chains of upcasters bring any known old version to the newest one.
 */
export interface Upcaster {
  readonly type: string;
  readonly fromVersion: number;
  up(payload: unknown): unknown;
}

export interface EnvelopeInit<P> {
  id: string;
  key: string;
  occurredAt: string;
  source: string;
  payload: P;
  causationId?: string | null;
  correlationId?: string | null;
}

function describe(errors: ErrorObject[] | null | undefined): { field: string; message: string } {
  const e = errors?.[0];
  if (!e) return { field: '', message: 'invalid' };
  let field = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') field = `${e.instancePath}/${String(e.params.additionalProperty)}`;
  if (e.keyword === 'required') field = `${e.instancePath}/${String(e.params.missingProperty)}`;
  return { field, message: e.message ?? e.keyword };
}

/**
 * The set of event versions a service knows. Validates on produce (`create`, `encode`) and on
 * consume (`decode`, `parse`), and upcasts known old versions to the newest. Anything else is a
 * ContractError (never retriable), which consumers park on their dead-letter topic.
 */
export class EventCatalogue {
  private readonly ajv: Ajv;
  private readonly validateEnvelope: ValidateFunction;
  private readonly byKey = new Map<string, { def: EventDefinition; validate: ValidateFunction }>();
  private readonly latest = new Map<string, number>();
  private readonly upcasters = new Map<string, Upcaster>();

  private readonly topicMap: Readonly<Record<string, string>>;
  /** envelopes this catalogue has checked (envelopes are immutable once made: `encode` need not check them again) */
  private readonly checked = new WeakSet<object>();
  /** their wire bytes, once encoded (a producer that measures an event before emitting it does not stringify it twice) */
  private readonly encoded = new WeakMap<object, string>();

  /**
   * @param topicMap renames topics (default name -> actual name), for deployments and tests that use
   *   other topic names than the defaults in the definitions.
   */
  constructor(
    private readonly definitions_: readonly EventDefinition[],
    private readonly upcasters_: readonly Upcaster[] = [],
    topicMap: Readonly<Record<string, string>> = {},
  ) {
    const definitions = definitions_;
    const upcasters = upcasters_;
    this.topicMap = topicMap;
    // inlineRefs: false keeps each part of a large schema in a function of its own (schema-parts.ts)
    this.ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true, inlineRefs: false });
    addFormats(this.ajv);
    this.validateEnvelope = this.ajv.compile(EnvelopeSchema);
    for (const def of definitions) {
      const k = `${def.type}@${def.version}`;
      if (this.byKey.has(k)) throw new ContractError('DUPLICATE_DEFINITION', `event ${k} is defined twice`);
      const { root, parts } = schemaParts(def.schema, `csms:${k}`);
      for (const part of parts) this.ajv.addSchema(part);
      this.byKey.set(k, { def, validate: this.ajv.compile(root) });
      this.latest.set(def.type, Math.max(this.latest.get(def.type) ?? 0, def.version));
    }
    for (const u of upcasters) this.upcasters.set(`${u.type}@${u.fromVersion}`, u);
  }

  definitions(): EventDefinition[] {
    return [...this.byKey.values()].map((v) => v.def);
  }

  latestVersion(type: string): number | undefined {
    return this.latest.get(type);
  }

  /** Builds a validated envelope of the newest version of `def`. */
  create<D extends EventDefinition>(def: D, init: EnvelopeInit<Static<D['schema']>>): EventOf<D> {
    const env = {
      id: init.id,
      type: def.type,
      version: def.version,
      occurredAt: init.occurredAt,
      key: init.key,
      source: init.source,
      causationId: init.causationId ?? null,
      correlationId: init.correlationId ?? null,
      payload: init.payload,
    };
    this.check(env);
    return env as EventOf<D>;
  }

  /** Validates an envelope exactly as it is (no upcasting): envelope shape, known type and version, payload. */
  check(raw: unknown): Envelope {
    if (!this.validateEnvelope(raw)) {
      const d = describe(this.validateEnvelope.errors);
      throw new ContractError('INVALID_ENVELOPE', `invalid envelope at ${d.field}: ${d.message}`, { field: d.field });
    }
    const env = raw as Envelope;
    const entry = this.byKey.get(`${env.type}@${env.version}`);
    if (!entry) {
      if (!this.latest.has(env.type)) {
        throw new ContractError('UNKNOWN_EVENT_TYPE', `unknown event type ${env.type}`, { field: '/type' });
      }
      throw new ContractError(
        'UNKNOWN_EVENT_VERSION',
        `unknown version ${env.version} of ${env.type} (known up to ${this.latest.get(env.type)})`,
        {
          field: '/version',
        },
      );
    }
    if (!entry.validate(env.payload)) {
      const d = describe(entry.validate.errors);
      throw new ContractError(
        'INVALID_PAYLOAD',
        `invalid ${env.type} v${env.version} payload at ${d.field}: ${d.message}`,
        {
          field: `/payload${d.field === '/' ? '' : d.field}`,
        },
      );
    }
    this.checked.add(env);
    return env;
  }

  /**
   * Validates a consumed envelope and brings it to the newest known version of its type.
   * A version with no upcaster path, or newer than any this service knows, is rejected.
   */
  parse(raw: unknown): Envelope {
    let env = this.check(raw);
    const target = this.latest.get(env.type)!;
    while (env.version < target) {
      const u = this.upcasters.get(`${env.type}@${env.version}`);
      if (!u) {
        throw new ContractError(
          'UNKNOWN_EVENT_VERSION',
          `no upcaster for ${env.type} v${env.version} -> v${env.version + 1}`,
          { field: '/version' },
        );
      }
      let payload: unknown;
      try {
        payload = u.up(env.payload);
      } catch (cause) {
        throw new ContractError(
          'UPCAST_FAILED',
          `upcasting ${env.type} v${env.version} failed: ${(cause as Error).message}`,
          { cause },
        );
      }
      env = this.check({ ...env, version: env.version + 1, payload });
    }
    return env;
  }

  /** Bytes from the wire to a validated, upcast envelope. */
  decode(bytes: Buffer | string | null): Envelope {
    if (bytes === null) throw new ContractError('MALFORMED_JSON', 'record has no value (tombstone)');
    let raw: unknown;
    try {
      raw = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
    } catch (cause) {
      throw new ContractError('MALFORMED_JSON', `record value is not JSON: ${(cause as Error).message}`, { cause });
    }
    return this.parse(raw);
  }

  /** A validated envelope to wire bytes (JSON). */
  encode(env: Envelope): string {
    let text = this.encoded.get(env);
    if (text === undefined) {
      if (!this.checked.has(env)) this.check(env);
      text = JSON.stringify(env);
      this.encoded.set(env, text);
    }
    return text;
  }

  topicOf(env: Pick<Envelope, 'type' | 'version'>): string {
    const entry = this.byKey.get(`${env.type}@${env.version}`);
    if (!entry) throw new ContractError('UNKNOWN_EVENT_TYPE', `unknown event ${env.type} v${env.version}`);
    return this.topic(entry.def.topic);
  }

  /** The actual name of a default topic name under this catalogue's renames. */
  topic(defaultName: string): string {
    return this.topicMap[defaultName] ?? defaultName;
  }

  /** The same events and upcasters with topics renamed (default name -> actual name). */
  withTopics(topicMap: Readonly<Record<string, string>>): EventCatalogue {
    return new EventCatalogue(this.definitions_, this.upcasters_, { ...this.topicMap, ...topicMap });
  }
}
