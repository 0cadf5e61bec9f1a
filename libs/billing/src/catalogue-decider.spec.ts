import {
  deriveId,
  systemCatalogue,
  type OcpiTariffDocument,
  type TariffAssignmentSet,
  type TariffVersionPublished,
} from '@csms/contracts';
import { givenCommands } from '@csms/kernel';
import { toCanonicalJson } from '@csms/pricing';
import { CatalogueError, catalogueDecider, type CatalogueCommand } from './catalogue-decider';
import { sha256 } from './cdr';

const decider = catalogueDecider({ catalogue: systemCatalogue(), source: 'tariff-service' });
const tariff = (id: string): OcpiTariffDocument => ({
  id,
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
});
const by = { keyName: 'finance-team', role: 'finance' } as const;
const NOW = '2026-03-01T12:00:00.000Z';

const publish = (id: string, o: { effectiveFrom?: string; now?: string } = {}): CatalogueCommand => ({
  type: 'PublishTariffVersion',
  tariffId: id,
  tariff: tariff(id),
  now: o.now ?? NOW,
  by,
  ...(o.effectiveFrom ? { effectiveFrom: o.effectiveFrom } : {}),
});
const assign = (id: string, o: { effectiveFrom?: string; removed?: boolean } = {}): CatalogueCommand => ({
  type: 'SetTariffAssignment',
  tariffId: id,
  scope: { kind: 'station', stationId: 'CP-1' },
  removed: o.removed ?? false,
  now: NOW,
  by,
  ...(o.effectiveFrom ? { effectiveFrom: o.effectiveFrom } : {}),
});

/** given/when/then (the kernel's givenCommands): `given` decides the history in turn; `when` returns only what the new command decides. */
const given = (...history: CatalogueCommand[]) => givenCommands(decider, history);

describe('tariff catalogue rules (decider)', () => {
  it.each<[string, CatalogueCommand[], CatalogueCommand, Record<string, unknown>]>([
    [
      'the first version of a tariff is 1, effective now by default',
      [],
      publish('AC'),
      { tariffId: 'AC', version: 1, effectiveFrom: NOW, publishedAt: NOW },
    ],
    [
      'each new version is the next number, per tariff',
      [publish('AC'), publish('DC'), publish('AC')],
      publish('AC'),
      { version: 3 },
    ],
    [
      'a future effectiveFrom is kept, in canonical UTC',
      [],
      publish('AC', { effectiveFrom: '2026-04-01T02:00:00+02:00' }),
      { effectiveFrom: '2026-04-01T00:00:00.000Z' },
    ],
    [
      'less than a minute in the past (clock skew) is accepted as given',
      [],
      publish('AC', { effectiveFrom: '2026-03-01T11:59:30Z' }),
      { effectiveFrom: '2026-03-01T11:59:30.000Z' },
    ],
    [
      'an assignment of a known tariff: sequence 1',
      [publish('AC')],
      assign('AC'),
      { tariffId: 'AC', sequence: 1, setAt: NOW, effectiveFrom: NOW, removed: false },
    ],
    [
      'assignments are numbered across tariffs',
      [publish('AC'), publish('DC'), assign('AC'), assign('DC')],
      assign('AC', { removed: true }),
      { sequence: 3, removed: true },
    ],
  ])('%s', (_what, history, cmd, expected) => {
    const [e] = given(...history)
      .when(cmd)
      .thenCheck((events) => expect(events).toHaveLength(1)).events;
    expect(e.payload).toMatchObject({
      ...expected,
      ...(cmd.type === 'PublishTariffVersion' ? { publishedBy: by } : { setBy: by }),
    });
  });

  it('a version event has a name-based id, the content hash of the tariff and the tariff as given', () => {
    const [e] = given(publish('AC')).when(publish('AC')).events as TariffVersionPublished[];
    expect(e.id).toBe(deriveId('tariff-version', 'AC', 2));
    expect(e.type).toBe('tariff.version_published');
    expect(e.version).toBe(2);
    expect(e.payload.contentHash).toBe(sha256(toCanonicalJson(tariff('AC'))));
    expect(e.payload.tariff).toEqual(tariff('AC'));
  });

  it('an assignment event has name-based ids of its sequence', () => {
    const [e] = given(publish('AC')).when(assign('AC')).events as TariffAssignmentSet[];
    expect(e.id).toBe(deriveId('tariff-assignment-set', 1));
    expect(e.payload.assignmentId).toBe(deriveId('tariff-assignment', 1).slice(0, 36));
  });

  it.each<[string, CatalogueCommand[], CatalogueCommand, string, string]>([
    [
      'a version effective in the past',
      [],
      publish('AC', { effectiveFrom: '2026-03-01T11:58:59Z' }),
      'RETROACTIVE_CHANGE',
      'effectiveFrom',
    ],
    [
      'an assignment effective in the past',
      [publish('AC')],
      assign('AC', { effectiveFrom: '2026-01-01T00:00:00Z' }),
      'RETROACTIVE_CHANGE',
      'effectiveFrom',
    ],
    [
      'an assignment of a tariff the catalogue does not have',
      [publish('AC')],
      assign('DC'),
      'TARIFF_NOT_FOUND',
      'tariffId',
    ],
  ])('refuses %s', (_what, history, cmd, code, field) => {
    const e = given(...history)
      .when(cmd)
      .thenError(code);
    expect(e).toBeInstanceOf(CatalogueError);
    expect([e.field, e.retriable]).toEqual([field, false]);
  });

  it('evolve keeps the latest version per tariff and the last sequence (an event applied twice changes nothing)', () => {
    const [v] = given().when(publish('AC')).events;
    const [a] = given(publish('AC')).when(assign('AC')).events;
    const once = [v, a].reduce(decider.evolve, decider.initialState());
    expect(once).toEqual({ latestVersion: { AC: 1 }, lastSequence: 1 });
    expect([v, a, v, a].reduce(decider.evolve, decider.initialState())).toEqual(once);
  });
});
