import {
  TariffAssignmentSetV2,
  TariffVersionPublishedV2,
  deriveId,
  systemCatalogue,
  type Envelope,
} from '@csms/contracts';
import { createTestDatabase, type TestDatabase } from '@csms/testing';
import { applyCatalogueEvent } from '../src/catalogue';
import { tariffServiceMigrations } from '../src/migrations';
import { PricingStore } from '../src/pricing.store';

/**
 * The pricing store's catalogue (real PostgreSQL): the versions and assignments are read again only when the
 * catalogue's revision moved — every version or assignment added moves it, a copy applied again does not — and the
 * rows it keeps between transactions are frozen.
 */
describe('tariff service: the catalogue kept between chunks while its revision stands', () => {
  let db: TestDatabase;
  const catalogue = systemCatalogue();
  beforeAll(async () => {
    db = await createTestDatabase('catalogue_cache', tariffServiceMigrations);
  });
  afterAll(async () => db.drop());

  const version = (tariffId: string, n: number): Envelope =>
    catalogue.create(TariffVersionPublishedV2, {
      id: deriveId('cache-version', tariffId, n),
      key: tariffId,
      occurredAt: '2026-03-01T00:00:00Z',
      source: 'test',
      payload: {
        ...TariffVersionPublishedV2.example,
        tariffId,
        version: n,
        tariff: { ...TariffVersionPublishedV2.example.tariff, id: tariffId },
      },
    });
  const assignment = (tariffId: string, sequence: number): Envelope =>
    catalogue.create(TariffAssignmentSetV2, {
      id: deriveId('cache-assignment', tariffId, sequence),
      key: tariffId,
      occurredAt: '2026-03-01T00:00:00Z',
      source: 'test',
      payload: { ...TariffAssignmentSetV2.example, assignmentId: `asg-${sequence}`, tariffId, sequence },
    });
  const apply = (e: Envelope) => db.dataSource.transaction((m) => applyCatalogueEvent(m, e));
  const revision = async () =>
    Number(
      (await db.dataSource.query<Array<{ r: string }>>('select revision::text as r from catalogue_revision'))[0].r,
    );

  it('reads the tables again when a version or an assignment was added, never for a copy; keeps the rows frozen', async () => {
    const store = new PricingStore(catalogue);
    const snap = () => store.catalogueSnapshot(db.dataSource.manager);
    expect(await revision()).toBe(0);
    const empty = await snap();
    expect(empty.versions).toEqual([]);

    await apply(version('T1', 1));
    await apply(assignment('T1', 1));
    expect(await revision()).toBe(2);
    const first = await snap();
    expect(first.versions.map((v) => [v.tariffId, v.version])).toEqual([['T1', 1]]);
    expect(first.assignments.map((a) => a.assignmentId)).toEqual(['asg-1']);

    // nothing added: the same objects (their compiled tariffs carry over)
    const again = await snap();
    expect(again.versions).toBe(first.versions);
    expect(again.assignments).toBe(first.assignments);
    // a copy of an event already applied (the API's own, then the topic's) adds nothing and moves nothing
    await apply(version('T1', 1));
    await apply(assignment('T1', 1));
    expect(await revision()).toBe(2);
    expect((await snap()).versions).toBe(first.versions);

    // a new version: read again, with it
    await apply(version('T1', 2));
    expect(await revision()).toBe(3);
    const second = await snap();
    expect(second.versions).not.toBe(first.versions);
    expect(second.versions.map((v) => [v.tariffId, v.version])).toEqual([
      ['T1', 1],
      ['T1', 2],
    ]);
    // a new assignment too
    await apply(assignment('T1', 2));
    expect((await snap()).assignments.map((a) => a.assignmentId)).toEqual(['asg-1', 'asg-2']);

    // what is kept cannot be changed by a user of it
    expect(Object.isFrozen(second.versions)).toBe(true);
    expect(() => {
      (second.versions[0] as { tariffId: string }).tariffId = 'changed';
    }).toThrow(TypeError);
    expect(() => (second.versions[0].tariff.elements as unknown[]).push({})).toThrow(TypeError);

    // a store of its own (another process) reads the same rows
    const other = await new PricingStore(catalogue).catalogueSnapshot(db.dataSource.manager);
    expect(other.versions).toEqual((await snap()).versions);
  });
});
