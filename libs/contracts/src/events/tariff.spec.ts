import {
  EventCatalogue,
  TariffAssignmentSetV1,
  TariffAssignmentSetV2,
  TariffVersionPublishedV1,
  TariffVersionPublishedV2,
  deriveId,
  systemCatalogue,
  type Envelope,
} from '../index';
import { contractError, specEnvelope } from './spec-helpers';

const catalogue = systemCatalogue();

function envelope(type: string, version: number, payload: unknown): Envelope {
  return specEnvelope(type, version, payload, {
    key: 'AC-STANDARD',
    source: 'tariff-service',
    id: deriveId('tariff-spec', type, version),
  });
}

describe.each([
  ['tariff.version_published', TariffVersionPublishedV1.example, TariffVersionPublishedV2.example, 'publishedBy'],
  ['tariff.assignment_set', TariffAssignmentSetV1.example, TariffAssignmentSetV2.example, 'setBy'],
] as const)('%s v1 -> v2 (who wrote it)', (type, v1Example, v2Example, field) => {
  it('reads a v1 record as v2 with no writer, keeping everything else and the envelope', () => {
    const env = catalogue.decode(JSON.stringify(envelope(type, 1, v1Example)));
    expect(env.version).toBe(2);
    expect(env.payload).toEqual({ ...v1Example, [field]: null });
    expect(env.id).toBe(deriveId('tariff-spec', type, 1));
  });

  it('reads a v2 record as it is', () => {
    const v2 = envelope(type, 2, v2Example);
    expect(catalogue.parse(v2)).toEqual(v2);
  });

  it.each([
    ['a writer with the key hash in it', { keyName: 'finance-team', role: 'finance', hash: 'ab'.repeat(32) }],
    ['a role that does not exist', { keyName: 'finance-team', role: 'root' }],
    ['an empty key name', { keyName: '', role: 'finance' }],
    ['a writer as bare text', 'api-key:finance-team'],
  ])('refuses %s', (_what, writer) => {
    const e = contractError(() => catalogue.parse(envelope(type, 2, { ...v2Example, [field]: writer })));
    expect(e.code).toBe('INVALID_PAYLOAD');
    expect(e.field?.startsWith(`/payload/${field}`)).toBe(true);
  });

  it('a reader of v1 only (closed schema) refuses the writer in v1 and does not know v2: hence a new version, read by the upcaster', () => {
    const v1Only = new EventCatalogue([
      type === 'tariff.version_published' ? TariffVersionPublishedV1 : TariffAssignmentSetV1,
    ]);
    expect(
      contractError(() =>
        v1Only.check(envelope(type, 1, { ...v1Example, [field]: v2Example[field as keyof typeof v2Example] })),
      ).field,
    ).toBe(`/payload/${field}`);
    expect(contractError(() => v1Only.check(envelope(type, 2, v2Example))).code).toBe('UNKNOWN_EVENT_VERSION');
  });
});
