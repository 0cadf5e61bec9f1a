import { Type } from '@sinclair/typebox';
import { v5 as uuidv5 } from 'uuid';
import {
  ALL_EVENTS,
  CSMS_NAMESPACE,
  ContractError,
  EventCatalogue,
  closed,
  defineEvent,
  deriveId,
  systemCatalogue,
  type Envelope,
} from './index';

function envelopeOf(type: string, version: number, payload: unknown, overrides: Partial<Envelope> = {}): Envelope {
  return {
    id: deriveId('test', type, version),
    type,
    version,
    occurredAt: '2026-03-01T10:00:00.000Z',
    key: 'k1',
    source: 'contracts-test',
    causationId: null,
    correlationId: 'corr-1',
    payload,
    ...overrides,
  };
}

function contractError(fn: () => unknown): ContractError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractError);
    return e as ContractError;
  }
  throw new Error('expected a ContractError, nothing was thrown');
}

describe('every event type of the system', () => {
  const catalogue = systemCatalogue();

  it.each(ALL_EVENTS.map((d) => [`${d.type} v${d.version}`, d] as const))(
    '%s round-trips through its schema (an old version comes back upcast)',
    (_name, def) => {
      const env = catalogue.create(def, {
        id: deriveId('example', def.type),
        key: 'k',
        occurredAt: '2026-01-01T00:00:00Z',
        source: 'test',
        payload: def.example,
      });
      const wire = catalogue.encode(env);
      const latest = catalogue.latestVersion(def.type)!;
      if (def.version === latest) {
        expect(catalogue.decode(wire)).toEqual(env);
        expect(catalogue.decode(Buffer.from(wire))).toEqual(env);
      } else {
        // every old version has an upcaster path to the newest one
        expect(catalogue.decode(wire)).toMatchObject({ id: env.id, type: def.type, version: latest });
      }
    },
  );

  it.each(ALL_EVENTS.map((d) => [`${d.type} v${d.version}`, d] as const))(
    '%s has a closed payload schema',
    (_name, def) => {
      const env = envelopeOf(def.type, def.version, { ...(def.example as object), notInTheContract: 1 });
      const err = contractError(() => catalogue.parse(env));
      expect(err.code).toBe('INVALID_PAYLOAD');
      expect(err.field).toBe('/payload/notInTheContract');
    },
  );

  it('every type name is dotted, lower case and each version is defined once', () => {
    for (const d of ALL_EVENTS) expect(d.type).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/);
    expect(() => new EventCatalogue([...ALL_EVENTS, ALL_EVENTS[0]])).toThrow(/defined twice/);
  });
});

describe('envelope validation', () => {
  const Ping = defineEvent({
    type: 'test.pinged',
    version: 1,
    topic: 't',
    description: 'test',
    schema: closed({ n: Type.Integer() }),
    example: { n: 1 },
  });
  const catalogue = new EventCatalogue([Ping]);

  it.each([
    ['not JSON', 'MALFORMED_JSON', '{"id":', undefined],
    ['a tombstone', 'MALFORMED_JSON', null, undefined],
    ['a JSON array', 'INVALID_ENVELOPE', '[]', '/'],
    [
      'an id that is not a uuid',
      'INVALID_ENVELOPE',
      JSON.stringify(envelopeOf('test.pinged', 1, { n: 1 }, { id: 'x' })),
      '/id',
    ],
    ['a type that is not dotted', 'INVALID_ENVELOPE', JSON.stringify(envelopeOf('Pinged', 1, { n: 1 })), '/type'],
    ['a version 0', 'INVALID_ENVELOPE', JSON.stringify(envelopeOf('test.pinged', 0, { n: 1 })), '/version'],
    [
      'a local time',
      'INVALID_ENVELOPE',
      JSON.stringify(envelopeOf('test.pinged', 1, { n: 1 }, { occurredAt: 'yesterday' })),
      '/occurredAt',
    ],
    [
      'an extra envelope field',
      'INVALID_ENVELOPE',
      JSON.stringify({ ...envelopeOf('test.pinged', 1, { n: 1 }), extra: true }),
      '/extra',
    ],
    [
      'a missing key',
      'INVALID_ENVELOPE',
      JSON.stringify({ ...envelopeOf('test.pinged', 1, { n: 1 }), key: undefined }),
      '/key',
    ],
    ['an unknown type', 'UNKNOWN_EVENT_TYPE', JSON.stringify(envelopeOf('test.ponged', 1, { n: 1 })), '/type'],
    ['a newer version', 'UNKNOWN_EVENT_VERSION', JSON.stringify(envelopeOf('test.pinged', 2, { n: 1 })), '/version'],
    [
      'a payload of the wrong type',
      'INVALID_PAYLOAD',
      JSON.stringify(envelopeOf('test.pinged', 1, { n: 'one' })),
      '/payload/n',
    ],
    ['a payload missing a field', 'INVALID_PAYLOAD', JSON.stringify(envelopeOf('test.pinged', 1, {})), '/payload/n'],
  ])('rejects %s with %s', (_what, code, wire, field) => {
    const err = contractError(() => catalogue.decode(wire));
    expect(err.code).toBe(code);
    expect(err.retriable).toBe(false);
    if (field !== undefined) expect(err.field).toBe(field);
  });

  it('validates on produce too: create refuses an invalid payload', () => {
    const err = contractError(() =>
      catalogue.create(Ping, {
        id: deriveId('x'),
        key: 'k',
        occurredAt: '2026-01-01T00:00:00Z',
        source: 's',
        payload: { n: 1.5 },
      }),
    );
    expect(err.code).toBe('INVALID_PAYLOAD');
  });

  it('encode refuses an envelope whose payload breaks the schema', () => {
    const err = contractError(() => catalogue.encode(envelopeOf('test.pinged', 1, { n: 'x' })));
    expect(err.code).toBe('INVALID_PAYLOAD');
  });
});

describe('upcasting', () => {
  // v1 carried energy as a number of Wh; v2 carries kWh as a decimal string and a unit.
  const MeterReadV1 = defineEvent({
    type: 'test.meter_read',
    version: 1,
    topic: 't',
    description: 'v1',
    schema: closed({ stationId: Type.String(), wh: Type.Integer() }),
    example: { stationId: 'CP1', wh: 1500 },
  });
  const MeterReadV2 = defineEvent({
    type: 'test.meter_read',
    version: 2,
    topic: 't',
    description: 'v2',
    schema: closed({
      stationId: Type.String(),
      energy: Type.String({ pattern: '^-?\\d+(\\.\\d+)?$' }),
      unit: Type.Literal('kWh'),
    }),
    example: { stationId: 'CP1', energy: '1.5', unit: 'kWh' },
  });
  const up = {
    type: 'test.meter_read',
    fromVersion: 1,
    up: (p: unknown) => {
      const v1 = p as { stationId: string; wh: number };
      const s = String(v1.wh).padStart(4, '0');
      const kwh = `${s.slice(0, -3)}.${s.slice(-3)}`.replace(/\.?0+$/, '');
      return { stationId: v1.stationId, energy: kwh, unit: 'kWh' };
    },
  };

  it('brings a v1 event to v2, keeping the envelope', () => {
    const catalogue = new EventCatalogue([MeterReadV1, MeterReadV2], [up]);
    const v1 = envelopeOf('test.meter_read', 1, { stationId: 'CP1', wh: 1500 });
    const out = catalogue.parse(v1);
    expect(out).toEqual({ ...v1, version: 2, payload: { stationId: 'CP1', energy: '1.5', unit: 'kWh' } });
  });

  it('leaves a v2 event as it is', () => {
    const catalogue = new EventCatalogue([MeterReadV1, MeterReadV2], [up]);
    const v2 = envelopeOf('test.meter_read', 2, { stationId: 'CP1', energy: '2', unit: 'kWh' });
    expect(catalogue.parse(v2)).toEqual(v2);
  });

  it('validates the upcast result against the new schema', () => {
    const broken = { ...up, up: () => ({ stationId: 'CP1', energy: 'lots', unit: 'kWh' }) };
    const catalogue = new EventCatalogue([MeterReadV1, MeterReadV2], [broken]);
    const err = contractError(() => catalogue.parse(envelopeOf('test.meter_read', 1, { stationId: 'CP1', wh: 1 })));
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.field).toBe('/payload/energy');
  });

  it('rejects an old version it has no upcaster for', () => {
    const catalogue = new EventCatalogue([MeterReadV1, MeterReadV2]);
    expect(
      contractError(() => catalogue.parse(envelopeOf('test.meter_read', 1, { stationId: 'CP1', wh: 1 }))).code,
    ).toBe('UNKNOWN_EVENT_VERSION');
  });

  it('reports an upcaster that throws as UPCAST_FAILED', () => {
    const throwing = {
      ...up,
      up: () => {
        throw new Error('boom');
      },
    };
    const catalogue = new EventCatalogue([MeterReadV1, MeterReadV2], [throwing]);
    expect(
      contractError(() => catalogue.parse(envelopeOf('test.meter_read', 1, { stationId: 'CP1', wh: 1 }))).code,
    ).toBe('UPCAST_FAILED');
  });
});

describe('deriveId', () => {
  it('is deterministic and name-based', () => {
    expect(deriveId('session', 'CP1', 42)).toBe(deriveId('session', 'CP1', 42));
    expect(deriveId('session', 'CP1', 42)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
  it('does not confuse different splits of the same characters', () => {
    expect(deriveId('a', 'b|c')).not.toBe(deriveId('a', 'b', 'c'));
    expect(deriveId('ab', 'c')).not.toBe(deriveId('a', 'bc'));
  });
  it('gives the ids it gave with the uuid package (same name, same namespace), ASCII and not', () => {
    const parts: Array<Array<string | number | bigint>> = [[], ['CP1', 42], ['Zürich', 1n], ['🔌', 'x'.repeat(300)]];
    for (let i = 0; i < 200; i++) parts.push([`b7d4c1e2-3f5a-5c8b-9d0e-${String(i).padStart(12, '0')}`, i]);
    for (const p of parts) {
      const name = ['cdr', ...p.map(String)].map((s) => `${s.length}:${s}`).join('|');
      expect(deriveId('cdr', ...p)).toBe(uuidv5(name, CSMS_NAMESPACE));
    }
  });
});

describe('topic renames', () => {
  it('maps default topic names to the deployment’s names, keeping the events', () => {
    const base = systemCatalogue();
    const renamed = base.withTopics({ 'ocpp.inbound': 'test-inbound-1' });
    expect(base.topicOf({ type: 'ocpp.message_received', version: 1 })).toBe('ocpp.inbound');
    expect(renamed.topicOf({ type: 'ocpp.message_received', version: 1 })).toBe('test-inbound-1');
    expect(renamed.topic('session.events')).toBe('session.events');
    expect(renamed.definitions()).toEqual(base.definitions());
  });
});
