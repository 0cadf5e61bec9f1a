import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf, type Upcaster } from '../catalogue';
import { closed } from '../envelope';
import { Topics } from '../topics';

const Instant = Type.String({ format: 'date-time' });
const TariffId = Type.String({ minLength: 1, maxLength: 36, pattern: '^[A-Za-z0-9._-]+$' });

/**
 * Who made a catalogue write: the API key's configured name and its role (never the key or its hash).
 * Null only in records written before v2 (upcast from v1).
 */
export const WriterSchema = Type.Union([
  closed({
    keyName: Type.String({ minLength: 1, maxLength: 200 }),
    role: Type.Union([
      Type.Literal('operator'),
      Type.Literal('finance'),
      Type.Literal('integration'),
      Type.Literal('admin'),
    ]),
  }),
  Type.Null(),
]);

/**
 * A new version of a tariff (an OCPI 2.2.1 Tariff object, validated by libs/pricing before it is
 * published). Versions are kept forever; a version applies to sessions that START at or after its
 * effectiveFrom, which is never before its publication: a price change never rewrites the past.
 */
export const TariffVersionPublishedV1 = defineEvent({
  type: 'tariff.version_published',
  version: 1,
  topic: Topics.tariffEvents,
  description: 'a tariff version was published to the catalogue',
  schema: closed({
    tariffId: TariffId,
    version: Type.Integer({ minimum: 1 }),
    effectiveFrom: Instant,
    publishedAt: Instant,
    /** sha256 of the canonical JSON of `tariff` */
    contentHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** the OCPI 2.2.1 Tariff object, exactly as accepted */
    tariff: Type.Object(
      { id: Type.String(), currency: Type.String(), elements: Type.Array(Type.Unknown()) },
      { additionalProperties: true },
    ),
  }),
  example: {
    tariffId: 'AC-STANDARD',
    version: 1,
    effectiveFrom: '2026-03-01T00:00:00Z',
    publishedAt: '2026-02-28T09:00:00Z',
    contentHash: '5f0c6f1e1b8e3f1d2a4c6b8e0f2a4c6e8a0c2e4f6a8c0e2f4a6c8e0a2c4e6f80',
    tariff: {
      id: 'AC-STANDARD',
      currency: 'EUR',
      elements: [{ price_components: [{ type: 'ENERGY', price: '0.35', vat: '21', step_size: 1 }] }],
    },
  },
});

const Scope = Type.Union([
  closed({ kind: Type.Literal('account'), accountId: Type.String({ minLength: 1, maxLength: 100 }) }),
  closed({ kind: Type.Literal('token_group'), groupId: Type.String({ minLength: 1, maxLength: 36 }) }),
  closed({
    kind: Type.Literal('connector'),
    stationId: Type.String({ minLength: 1 }),
    evseId: Type.Optional(Type.Integer({ minimum: 0 })),
    connectorId: Type.Integer({ minimum: 1 }),
  }),
  closed({
    kind: Type.Literal('evse'),
    stationId: Type.String({ minLength: 1 }),
    evseId: Type.Integer({ minimum: 1 }),
  }),
  closed({ kind: Type.Literal('station'), stationId: Type.String({ minLength: 1 }) }),
  closed({ kind: Type.Literal('site'), siteId: Type.String({ minLength: 1, maxLength: 100 }) }),
  closed({ kind: Type.Literal('default') }),
]);
export const TariffAssignmentScope = Scope;

/** A tariff assigned to a scope from a date (or, with `removed`, the scope's assignment withdrawn from that date). */
export const TariffAssignmentSetV1 = defineEvent({
  type: 'tariff.assignment_set',
  version: 1,
  topic: Topics.tariffEvents,
  description:
    'a tariff was assigned to (or withdrawn from) a station, EVSE, connector, site, token group, account or as the default',
  schema: closed({
    assignmentId: Type.String({ minLength: 1, maxLength: 64 }),
    tariffId: TariffId,
    scope: Scope,
    effectiveFrom: Instant,
    setAt: Instant,
    /** order of assignments in the catalogue, assigned when set: ties of effectiveFrom go to the later one */
    sequence: Type.Integer({ minimum: 1 }),
    removed: Type.Boolean(),
  }),
  example: {
    assignmentId: 'asg-1',
    tariffId: 'AC-STANDARD',
    scope: { kind: 'station', stationId: 'CP-001' },
    effectiveFrom: '2026-03-01T00:00:00Z',
    setAt: '2026-02-28T09:00:00Z',
    sequence: 1,
    removed: false,
  },
});

/** v2: the same, and who published it (`publishedBy`). */
export const TariffVersionPublishedV2 = defineEvent({
  type: 'tariff.version_published',
  version: 2,
  topic: Topics.tariffEvents,
  description: 'a tariff version was published to the catalogue, by which API key',
  schema: closed({ ...TariffVersionPublishedV1.schema.properties, publishedBy: WriterSchema }),
  example: { ...TariffVersionPublishedV1.example, publishedBy: { keyName: 'finance-team', role: 'finance' } },
});

/** v2: the same, and who set it (`setBy`). */
export const TariffAssignmentSetV2 = defineEvent({
  type: 'tariff.assignment_set',
  version: 2,
  topic: Topics.tariffEvents,
  description:
    'a tariff was assigned to (or withdrawn from) a station, EVSE, connector, site, token group, account or as the default, by which API key',
  schema: closed({ ...TariffAssignmentSetV1.schema.properties, setBy: WriterSchema }),
  example: { ...TariffAssignmentSetV1.example, setBy: { keyName: 'finance-team', role: 'finance' } },
});

/** v1 -> v2: who published it was not recorded then (`publishedBy: null`); everything else is the same. */
export const tariffVersionPublishedV1ToV2: Upcaster = {
  type: TariffVersionPublishedV2.type,
  fromVersion: 1,
  up: (payload) => ({ ...(payload as object), publishedBy: null }),
};

/** v1 -> v2: who set it was not recorded then (`setBy: null`); everything else is the same. */
export const tariffAssignmentSetV1ToV2: Upcaster = {
  type: TariffAssignmentSetV2.type,
  fromVersion: 1,
  up: (payload) => ({ ...(payload as object), setBy: null }),
};

export type TariffVersionPublished = EventOf<typeof TariffVersionPublishedV2>;
export type TariffAssignmentSet = EventOf<typeof TariffAssignmentSetV2>;
