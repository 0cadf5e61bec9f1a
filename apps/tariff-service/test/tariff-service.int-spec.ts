import type { Kafka } from 'kafkajs';
import {
  StationRegisteredV1,
  StationRegisteredV2,
  TariffAssignmentSetV1,
  TariffVersionPublishedV1,
  deriveId,
  systemCatalogue,
  type Envelope,
  type OcpiTariffDocument,
  type StationLocation,
} from '@csms/contracts';
import { KafkaRecordPublisher, httpBodyLimit } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import { TopicCollector, createTestTopics, testKafka, uniqueName, waitFor, dropTestDatabases } from '@csms/testing';
import type { RunningSessionService } from '../../session-service/src/service';
import { ocpp16Session, type Recording } from '../../session-service/test/recordings';
import { toCanonicalJson } from '@csms/pricing';
import { buildCdr, sha256 } from '@csms/billing';
import { factsOf } from '../src/pricing.handler';
import { PricingStore } from '../src/pricing.store';
import type { TariffServiceConfig } from '../src/config';
import { chainTariffConfig, chainTopics, sessionEnded, startChainSessions, tomorrow } from './chain';
import { startTariffService, type RunningTariffService } from '../src/service';

const finance = newApiKey('finance', 'finance');
const operator = newApiKey('ops', 'operator');
const admin = newApiKey('root', 'admin');

/** FLAT 1.00 + ENERGY 0.30/kWh + idle fee 6.00/h (per minute), 21 % VAT, EUR. */
const simpleTariff = (id: string): OcpiTariffDocument => ({
  country_code: 'NL',
  party_id: 'CSM',
  id,
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 1.0, vat: 21.0, step_size: 1 },
        { type: 'ENERGY', price: 0.3, vat: 21.0, step_size: 1 },
        { type: 'PARKING_TIME', price: 6.0, vat: 21.0, step_size: 60 },
      ],
    },
  ],
  last_updated: '2026-01-01T00:00:00Z',
});

interface Json {
  [k: string]: unknown;
}

describe('tariff service: catalogue API, pricing session.ended into OCPI CDRs (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let sessions: RunningSessionService;
  let tariffs: RunningTariffService;
  let cfg: TariffServiceConfig;
  const dbs: string[] = [];
  const collectors: TopicCollector[] = [];
  const topics = chainTopics();

  const api = async <T = Json>(
    method: string,
    path: string,
    body?: unknown,
    key = finance.key,
  ): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${tariffs.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as T };
  };

  async function startTariffs(): Promise<void> {
    tariffs = await startTariffService(cfg, silentLogger());
  }

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, Object.values(topics), 3);
    const tag = `${process.pid}_${Math.floor(performance.now())}`;
    dbs.push(`csms_test_tsess_${tag}`, `csms_test_tariff_${tag}`);
    sessions = await startChainSessions(topics, dbs[0]);
    cfg = chainTariffConfig(topics, dbs[1], [finance.entry, operator.entry, admin.entry].join(','));
    await startTariffs();
    for (const t of [topics.billing, topics.sessions]) collectors.push(await new TopicCollector(kafka, [t]).start());
  });

  afterAll(async () => {
    for (const c of collectors) await c.close();
    await tariffs?.stop();
    await sessions?.stop();
    await publisher.disconnect();
    await dropTestDatabases(dbs);
  });

  const billing = () => collectors[0].records.map((r) => JSON.parse(r.value!) as Envelope);
  const cdrsOf = (sessionId: string) =>
    billing().filter(
      (e) => e.type === 'cdr.created' && (e.payload as { audit: { sessionId: string } }).audit.sessionId === sessionId,
    );
  const publishRecording = (r: Recording) =>
    publisher.publish(r.records.map((e) => ({ topic: topics.inbound, key: e.key, value: JSON.stringify(e) })));
  // the contract example's location, under another location id
  const location: StationLocation = { ...StationRegisteredV2.example.location!, id: 'LOC-AMS-1' };
  /** a v2 registration with a location and a typed connector (1.6 connector 1 = EVSE 1, connector 1) */
  const registerStation = (stationId: string, timeZone: string, siteId: string | null = null) => {
    const env = systemCatalogue().create(StationRegisteredV2, {
      id: deriveId('test-station', stationId, 1),
      key: stationId,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: {
        stationId,
        securityProfile: 1,
        passwordHash: null,
        certificateCn: null,
        siteId,
        timeZone,
        location,
        evses: [
          {
            evseId: 1,
            connectors: [
              {
                connectorId: 1,
                standard: 'IEC_62196_T2',
                format: 'SOCKET',
                power_type: 'AC_3_PHASE',
                max_voltage: 400,
                max_amperage: 32,
                max_electric_power: 22000,
              },
            ],
          },
        ],
        enabled: true,
        deleted: false,
        revision: 1,
      },
    });
    return publisher.publish([{ topic: topics.stations, key: stationId, value: JSON.stringify(env) }]);
  };
  /** a registration as the gateway wrote it before locations (v1): read upcast, with no location */
  const registerStationV1 = (stationId: string, timeZone: string) => {
    const env = systemCatalogue().create(StationRegisteredV1, {
      id: deriveId('test-station-v1', stationId, 1),
      key: stationId,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: {
        stationId,
        securityProfile: 1,
        passwordHash: null,
        certificateCn: null,
        siteId: null,
        timeZone,
        evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }],
        enabled: true,
        deleted: false,
        revision: 1,
      },
    });
    return publisher.publish([{ topic: topics.stations, key: stationId, value: JSON.stringify(env) }]);
  };

  it('rejects an invalid tariff with the field at fault, and a retroactive one', async () => {
    const bad = simpleTariff('BAD');
    (bad.elements[0].price_components[1] as { step_size: number }).step_size = 0;
    const r = await api('PUT', '/api/v1/tariffs/BAD', bad);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ field: 'body/elements[0].price_components[1].step_size' });
    const past = await api('PUT', '/api/v1/tariffs/PAST?effective_from=2020-01-01T00:00:00Z', simpleTariff('PAST'));
    expect(past.status).toBe(422);
    expect(past.body).toMatchObject({ code: 'RETROACTIVE_CHANGE', field: 'query/effective_from' });
    const wrongRole = await api('PUT', '/api/v1/tariffs/X', simpleTariff('X'), operator.key);
    expect(wrongRole.status).toBe(403);
    expect((await api('GET', '/api/v1/tariffs/BAD')).status).toBe(404);
  });

  it('refuses amounts and numbers beyond the documented bounds (422, the field at fault), so no stored tariff can break the CDR contract', async () => {
    const cases: [string, (t: ReturnType<typeof simpleTariff>) => void, string, string][] = [
      [
        'HUGE-PRICE',
        (t) => ((t.elements[0].price_components[1] as { price: unknown }).price = 1e308),
        'TARIFF_NUMBER_TOO_LARGE',
        'body/elements[0].price_components[1].price',
      ],
      [
        'HUGE-STEP',
        (t) => ((t.elements[0].price_components[1] as { step_size: unknown }).step_size = 1e308),
        'TARIFF_NUMBER_TOO_LARGE',
        'body/elements[0].price_components[1].step_size',
      ],
      [
        'FINE-PRICE',
        (t) => ((t.elements[0].price_components[1] as { price: unknown }).price = '0.1234567'),
        'TARIFF_TOO_MANY_DECIMALS',
        'body/elements[0].price_components[1].price',
      ],
      [
        'HUGE-MAX',
        (t) => Object.assign(t, { max_price: { excl_vat: 10, incl_vat: 1e12 } }),
        'TARIFF_NUMBER_TOO_LARGE',
        'body/max_price.incl_vat',
      ],
    ];
    for (const [id, mutate, code, field] of cases) {
      const t = simpleTariff(id);
      mutate(t);
      const r = await api('PUT', `/api/v1/tariffs/${id}`, t);
      expect([id, r.status, r.body]).toEqual([id, 422, expect.objectContaining({ code, field })]);
      expect((await api('GET', `/api/v1/tariffs/${id}`)).status).toBe(404);
    }
  });

  it('refuses a tariff too large for a record before storing anything: 413 with the limit (body above the derived body limit, or an event above the record limit though the body fits)', async () => {
    const raw = async (id: string, body: string) => {
      const r = await fetch(`${tariffs.url}/api/v1/tariffs/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${finance.key}`, 'content-type': 'application/json' },
        body,
      });
      return { status: r.status, body: (await r.json()) as Json };
    };
    const bodyLimit = httpBodyLimit(cfg.KAFKA_MAX_MESSAGE_BYTES);
    const big = simpleTariff('BIG');
    big.elements[0].price_components = Array.from({ length: Math.ceil(bodyLimit / 50) }, () => ({
      type: 'ENERGY',
      price: 0.3,
      vat: 21.0,
      step_size: 1,
    }));
    const tooBig = JSON.stringify(big);
    expect(Buffer.byteLength(tooBig)).toBeGreaterThan(bodyLimit);
    expect(await raw('BIG', tooBig)).toEqual({
      status: 413,
      body: expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', limit: bodyLimit, size: Buffer.byteLength(tooBig) }),
    });

    // numbers written short grow when the event re-encodes them (1e9 -> 1000000000), all within the tariff's bounds:
    // the body fits, its event does not
    const element = {
      price_components: [{ type: 'ENERGY', price: 1, vat: 0, step_size: 1e6 }],
      restrictions: {
        min_duration: 1e9,
        max_duration: 2e9,
        min_power: 1e5,
        max_power: 2e5,
        min_current: 1e5,
        max_current: 2e5,
      },
    };
    const short = (json: string) =>
      json.replace(/([1-9])(0{5,})(?![0-9.])/g, (_m, d: string, zeros: string) => `${d}e${zeros.length}`);
    const one = Buffer.byteLength(short(JSON.stringify(element))) + 1;
    const growing = {
      ...simpleTariff('GROWS'),
      elements: Array.from({ length: Math.floor((bodyLimit - 2000) / one) }, () => element),
    };
    const fits = short(JSON.stringify(growing));
    expect(Buffer.byteLength(fits)).toBeLessThanOrEqual(bodyLimit);
    const r = await raw('GROWS', fits);
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: 'RECORD_TOO_LARGE', limit: cfg.KAFKA_MAX_MESSAGE_BYTES });
    expect(r.body.size as number).toBeGreaterThan(cfg.KAFKA_MAX_MESSAGE_BYTES);
    expect((await api('GET', '/api/v1/tariffs/GROWS')).status).toBe(404);
    expect((await api('GET', '/api/v1/tariffs/BIG')).status).toBe(404);
  });

  it('keeps only OCPI fields: an unknown field of any shape is a 422 with its path, and nothing is stored', async () => {
    const id = uniqueName('CLOSED');
    const r = await api('PUT', `/api/v1/tariffs/${id}`, { ...simpleTariff(id), notes: { kept: ['for', 'ever'] } });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ code: 'TARIFF_UNKNOWN_FIELD', field: 'body/notes' });
    const deep = simpleTariff(id) as unknown as {
      elements: Array<{ price_components: Array<Record<string, unknown>> }>;
    };
    deep.elements[0].price_components[0].colour = 'red';
    expect((await api('PUT', `/api/v1/tariffs/${id}`, deep)).body).toMatchObject({
      code: 'TARIFF_UNKNOWN_FIELD',
      field: 'body/elements[0].price_components[0].colour',
    });
    expect((await api('GET', `/api/v1/tariffs/${id}`)).status).toBe(404);
  });

  it("gives assignment scopes the registry's id limits", async () => {
    const id = uniqueName('SCOPE');
    expect((await api('PUT', `/api/v1/tariffs/${id}`, simpleTariff(id))).status).toBe(200);
    const long = await api('POST', '/api/v1/tariff-assignments', {
      tariffId: id,
      scope: { kind: 'station', stationId: 'S'.repeat(10_000) },
    });
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((long.body as { errors: Array<{ field: string }> }).errors.map((e) => e.field)).toContain(
      'body/scope/stationId',
    );
    const leap = await api('POST', '/api/v1/tariff-assignments', {
      tariffId: id,
      scope: { kind: 'default' },
      effectiveFrom: '2099-12-31T23:59:60Z',
    });
    expect(leap.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body/effectiveFrom' });
  });

  it('resolves the tariff of an EVSE for a driver with no contract (site, then a stronger EVSE assignment); refuses bad queries', async () => {
    const [site, station, a, b] = [uniqueName('SITE-R'), uniqueName('CP-R'), uniqueName('RES-A'), uniqueName('RES-B')];
    for (const id of [a, b]) expect((await api('PUT', `/api/v1/tariffs/${id}`, simpleTariff(id))).status).toBe(200);
    await registerStation(station, 'Europe/Amsterdam', site);
    expect(
      (await api('POST', '/api/v1/tariff-assignments', { tariffId: a, scope: { kind: 'site', siteId: site } })).status,
    ).toBe(201);
    const resolve = (evse: string, key = operator.key) =>
      api<Json>('GET', `/api/v1/tariff-assignments/resolve?stationId=${station}&evseId=${evse}`, undefined, key);
    // the station's site is known once the registry record is read
    await waitFor(async () => (await resolve('1')).body.tariffId === a, { timeoutMs: 30_000 });
    expect((await resolve('1')).body).toMatchObject({
      level: 'site',
      tariffId: a,
      version: 1,
      stationKnown: true,
      evseKnown: true,
      evseId: 1,
    });
    expect(((await resolve('1')).body.tariff as { currency: string }).currency).toBe('EUR');
    expect(
      (
        await api('POST', '/api/v1/tariff-assignments', {
          tariffId: b,
          scope: { kind: 'evse', stationId: station, evseId: 2 },
        })
      ).status,
    ).toBe(201);
    expect((await resolve('2')).body).toMatchObject({ level: 'evse', tariffId: b, evseKnown: false });
    expect((await resolve('1')).body).toMatchObject({ level: 'site', tariffId: a });
    // the service keeps the catalogue between requests while it is unchanged: a new version is answered at once
    const dearer = simpleTariff(a);
    dearer.elements[0].price_components[0].price = 1.5;
    expect((await api('PUT', `/api/v1/tariffs/${a}`, dearer)).status).toBe(200);
    const newer = (await resolve('1')).body as { version: number; tariff: typeof dearer };
    expect([newer.version, newer.tariff.elements[0].price_components[0].price]).toEqual([2, 1.5]);
    for (const [q, field] of [
      [`stationId=${station}&evseId=0`, 'query/evseId'],
      [`evseId=1`, 'query/stationId'],
      [`stationId=${station}&evseId=1&at=2026-12-31T23:59:60Z`, 'query/at'],
      [`stationId=${station}&evseId=1&colour=red`, undefined],
    ] as const) {
      const r = await api<Json>('GET', `/api/v1/tariff-assignments/resolve?${q}`);
      expect(r.status).toBe(400);
      if (field) expect(JSON.stringify(r.body)).toContain(field);
    }
  });

  it('pages the tariffs, the assignments and the pricing failures with cursors', async () => {
    const ids = [uniqueName('PAGE-A'), uniqueName('PAGE-B'), uniqueName('PAGE-C')];
    for (const id of ids) {
      expect((await api('PUT', `/api/v1/tariffs/${id}`, simpleTariff(id))).status).toBe(200);
      expect(
        (await api('POST', '/api/v1/tariff-assignments', { tariffId: id, scope: { kind: 'site', siteId: id } })).status,
      ).toBe(201);
    }
    for (const path of ['/api/v1/tariffs', '/api/v1/tariff-assignments']) {
      const seen: Json[] = [];
      let cursor: string | undefined;
      do {
        const page = await api<{ items: Json[]; nextCursor?: string }>(
          'GET',
          `${path}?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen.map((t) => t.tariffId)).toEqual(expect.arrayContaining(ids));
      // one item per tariff (its latest version) and per assignment: no page repeats one
      const keysOf = seen.map((t) => (path === '/api/v1/tariffs' ? t.tariffId : t.assignmentId));
      expect(new Set(keysOf).size).toBe(keysOf.length);
    }
    const tampered = Buffer.from(JSON.stringify(['x', 'y'])).toString('base64url');
    for (const path of ['/api/v1/tariffs', '/api/v1/tariff-assignments', '/api/v1/pricing-failures']) {
      expect((await api('GET', `${path}?cursor=${tampered}`)).body).toMatchObject({
        status: 400,
        code: 'INVALID_CURSOR',
        field: 'query/cursor',
      });
    }
  });

  it('keeps every version of a tariff, addressable', async () => {
    const id = uniqueName('VERS');
    const v1 = await api<Json>('PUT', `/api/v1/tariffs/${id}`, simpleTariff(id));
    expect(v1.status).toBe(200);
    const t2 = simpleTariff(id);
    t2.elements[0].price_components[1].price = 0.35;
    const v2 = await api<Json>('PUT', `/api/v1/tariffs/${id}`, t2);
    expect(v2.body).toMatchObject({ tariffId: id, version: 2 });
    expect((await api<Json>('GET', `/api/v1/tariffs/${id}`)).body).toMatchObject({ version: 2 });
    expect(((await api<Json>('GET', `/api/v1/tariffs/${id}/versions/1`)).body.tariff as Json).elements).toEqual(
      simpleTariff(id).elements,
    );
    expect((await api<{ items: unknown[] }>('GET', `/api/v1/tariffs/${id}/versions`)).body.items).toHaveLength(2);
  });

  it('records which API key published a version and set an assignment: stored, returned, and in the v2 events; v1 records read with no writer', async () => {
    const events = await new TopicCollector(kafka, [topics.tariffs]).start();
    try {
      const id = uniqueName('WHO');
      const put = await api<Json>('PUT', `/api/v1/tariffs/${id}`, simpleTariff(id));
      expect(put.body).toMatchObject({
        tariffId: id,
        version: 1,
        publishedBy: { keyName: 'finance', role: 'finance' },
      });
      const v2 = await api<Json>('PUT', `/api/v1/tariffs/${id}`, simpleTariff(id), admin.key);
      expect(v2.body).toMatchObject({ version: 2, publishedBy: { keyName: 'root', role: 'admin' } });
      expect((await api<Json>('GET', `/api/v1/tariffs/${id}/versions/1`)).body).toMatchObject({
        publishedBy: { keyName: 'finance', role: 'finance' },
      });
      expect((await api<Json>('GET', `/api/v1/tariffs/${id}`)).body).toMatchObject({
        version: 2,
        publishedBy: { keyName: 'root', role: 'admin' },
      });
      const rows = await tariffs.dataSource.query(
        'select version, published_by, published_by_role from tariff_versions where tariff_id = $1 order by version',
        [id],
      );
      expect(rows).toEqual([
        { version: 1, published_by: 'finance', published_by_role: 'finance' },
        { version: 2, published_by: 'root', published_by_role: 'admin' },
      ]);
      const asg = await api<Json>('POST', '/api/v1/tariff-assignments', {
        tariffId: id,
        scope: { kind: 'site', siteId: id },
      });
      expect(asg.body).toMatchObject({ tariffId: id, setBy: { keyName: 'finance', role: 'finance' } });
      const [arow] = await tariffs.dataSource.query(
        'select set_by, set_by_role from tariff_assignments where assignment_id = $1',
        [asg.body.assignmentId],
      );
      expect(arow).toEqual({ set_by: 'finance', set_by_role: 'finance' });
      const listed = await waitFor(
        async () => {
          const page = await api<{ items: Json[]; nextCursor: string | null }>(
            'GET',
            '/api/v1/tariff-assignments?limit=500',
          );
          return page.body.items.find((a) => a.assignmentId === asg.body.assignmentId);
        },
        { what: 'the assignment in the list' },
      );
      expect(listed.setBy).toEqual({ keyName: 'finance', role: 'finance' });

      // the events are the record: v2 with the writer (name and role only, never the key)
      const mine = await waitFor(
        () => {
          const es = events.records.map((r) => JSON.parse(r.value!) as Envelope).filter((e) => e.key === id);
          return es.length === 3 && es;
        },
        { what: 'the tariff events' },
      );
      expect(mine.map((e) => [e.type, e.version])).toEqual([
        ['tariff.version_published', 2],
        ['tariff.version_published', 2],
        ['tariff.assignment_set', 2],
      ]);
      expect(mine.map((e) => (e.payload as Json).publishedBy ?? (e.payload as Json).setBy)).toEqual([
        { keyName: 'finance', role: 'finance' },
        { keyName: 'root', role: 'admin' },
        { keyName: 'finance', role: 'finance' },
      ]);
      for (const e of mine)
        expect(JSON.stringify(e)).not.toMatch(new RegExp(`${finance.key}|${admin.key}|${finance.entry.split(':')[2]}`));

      // a version and an assignment written before v2 are read upcast: no writer
      const old = uniqueName('OLD');
      const c = systemCatalogue();
      const oldVersion = c.create(TariffVersionPublishedV1, {
        id: deriveId('test-tariff-v1', old),
        key: old,
        occurredAt: '2026-01-01T00:00:00Z',
        source: 'test',
        payload: {
          tariffId: old,
          version: 1,
          effectiveFrom: '2026-01-01T00:00:00.000Z',
          publishedAt: '2026-01-01T00:00:00.000Z',
          contentHash: sha256(toCanonicalJson(simpleTariff(old))),
          tariff: simpleTariff(old),
        },
      });
      const oldAssignment = c.create(TariffAssignmentSetV1, {
        id: deriveId('test-assignment-v1', old),
        key: old,
        occurredAt: '2026-01-01T00:00:00Z',
        source: 'test',
        payload: {
          assignmentId: deriveId('test-assignment', old).slice(0, 36),
          tariffId: old,
          scope: { kind: 'site', siteId: old },
          effectiveFrom: '2026-01-01T00:00:00.000Z',
          setAt: '2026-01-01T00:00:00.000Z',
          sequence: 1_000_000,
          removed: false,
        },
      });
      await publisher.publish(
        [oldVersion, oldAssignment].map((e) => ({ topic: topics.tariffs, key: old, value: JSON.stringify(e) })),
      );
      const read = await waitFor(
        async () => {
          const r = await api<Json>('GET', `/api/v1/tariffs/${old}`);
          return r.status === 200 && r.body;
        },
        { what: 'the v1 version in the catalogue' },
      );
      expect(read).toMatchObject({ tariffId: old, version: 1, publishedBy: null });
      const [oldRow] = await waitFor(
        async () => {
          const rs = await tariffs.dataSource.query(
            'select set_by, set_by_role from tariff_assignments where tariff_id = $1',
            [old],
          );
          return rs.length === 1 && rs;
        },
        { what: 'the v1 assignment' },
      );
      expect(oldRow).toEqual({ set_by: null, set_by_role: null });
    } finally {
      await events.close();
    }
  });

  it('prices a session through Kafka into a CDR with the exact totals, readable through the API', async () => {
    const tariffId = uniqueName('AC');
    const put = await api<Json>('PUT', `/api/v1/tariffs/${tariffId}`, simpleTariff(tariffId));
    expect(put.status).toBe(200);
    const stationId = uniqueName('CP');
    await registerStation(stationId, 'Europe/Amsterdam', 'site-1');
    const asg = await api<Json>('POST', '/api/v1/tariff-assignments', {
      tariffId,
      scope: { kind: 'station', stationId },
    });
    expect(asg.status).toBe(201);
    await waitFor(
      async () =>
        (await tariffs.dataSource.query('select 1 from stations where station_id = $1', [stationId])).length === 1,
      { what: 'the station in the registry copy' },
    );

    const rec = ocpp16Session(stationId, tomorrow());
    await publishRecording(rec);
    const ended = await waitFor(
      () =>
        collectors[1].records
          .map((r) => JSON.parse(r.value!) as Envelope)
          .find((e) => e.type === 'session.ended' && (e.payload as { stationId: string }).stationId === stationId),
      { what: 'session.ended' },
    );
    const sessionId = (ended.payload as { sessionId: string }).sessionId;
    const created = await waitFor(() => cdrsOf(sessionId)[0], { what: 'cdr.created' });
    const { cdr, audit } = created.payload as { cdr: Json; audit: Json };
    expect(cdr).toMatchObject({
      country_code: 'NL',
      party_id: 'CSM',
      session_id: sessionId,
      currency: 'EUR',
      total_energy: '8',
      total_parking_time: '0.3333',
      total_fixed_cost: { excl_vat: '1.00', incl_vat: '1.21' },
      total_energy_cost: { excl_vat: '2.40', incl_vat: '2.90' },
      total_parking_cost: { excl_vat: '2.00', incl_vat: '2.42' },
      total_cost: { excl_vat: '5.40', incl_vat: '6.53' },
      cdr_token: { uid: 'TAG-16', type: 'RFID' },
    });
    // OCPI 2.2.1 CdrLocation, complete: the registered location and the connector used
    expect(cdr.cdr_location).toEqual({
      id: 'LOC-AMS-1',
      name: 'Stadhuis garage',
      address: 'Amstel 1',
      city: 'Amsterdam',
      postal_code: '1011 PN',
      country: 'NLD',
      coordinates: { latitude: '52.367030', longitude: '4.900840' },
      evse_uid: `${stationId}*1`,
      evse_id: `${stationId}*1`,
      connector_id: '1',
      connector_standard: 'IEC_62196_T2',
      connector_format: 'SOCKET',
      connector_power_type: 'AC_3_PHASE',
    });
    expect(audit).toMatchObject({
      tariffId,
      tariffVersion: 1,
      timeZone: 'Europe/Amsterdam',
      timeZoneSource: 'registry',
      sessionRevision: 1,
      assignment: { level: 'station' },
    });
    expect(audit.dataQuality).toBeUndefined();
    // through the API, as OCPI JSON, and the audit on request
    const list = await api<{ items: Json[] }>('GET', `/api/v1/cdrs?stationId=${stationId}`);
    expect(list.body.items).toEqual([cdr]);
    const one = await api<Json>('GET', `/api/v1/cdrs/${cdr.id as string}?include=audit`);
    expect(one.body.audit).toEqual(audit);
    // re-pricing the same session from the stored facts gives a byte-identical CDR
    const [row] = await tariffs.dataSource.query('select session, source from priced_sessions where session_id = $1', [
      sessionId,
    ]);
    const m = tariffs.dataSource.manager;
    const store = new PricingStore(systemCatalogue());
    const station = (await store.stationsOf(m, [row.session.stationId])).get(row.session.stationId);
    const token = row.session.idToken
      ? (await store.tokensOf(m, [row.session.idToken.idToken])).get(row.session.idToken.idToken)
      : undefined;
    const again = buildCdr({
      ...factsOf(cfg, await store.catalogueSnapshot(m), station, token),
      session: row.session,
      source: row.source,
    });
    expect(again.kind).toBe('priced');
    if (again.kind === 'priced') {
      expect(JSON.stringify(again.cdr)).toBe(JSON.stringify(cdr));
      expect(again.audit.contentHash).toBe(audit.contentHash);
    }
  });

  it('a session with no applicable tariff gives session.pricing_failed, never a free CDR', async () => {
    const stationId = uniqueName('NOTARIFF');
    const rec = ocpp16Session(stationId, tomorrow());
    await publishRecording(rec);
    const failed = await waitFor(
      () =>
        billing().find(
          (e) => e.type === 'session.pricing_failed' && (e.payload as { stationId: string }).stationId === stationId,
        ),
      { what: 'session.pricing_failed' },
    );
    expect(failed.payload).toMatchObject({ code: 'NO_ASSIGNMENT', sessionRevision: 1 });
    expect(cdrsOf((failed.payload as { sessionId: string }).sessionId)).toEqual([]);
    const list = await api<{ items: Json[] }>('GET', '/api/v1/pricing-failures');
    expect(list.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ stationId, code: 'NO_ASSIGNMENT' })]),
    );
  });

  it('a session corrected after it was priced gets a credit CDR and a new CDR, never an edit', async () => {
    const tariffId = uniqueName('CORR');
    await api('PUT', `/api/v1/tariffs/${tariffId}`, simpleTariff(tariffId));
    const stationId = uniqueName('CP');
    await api('POST', '/api/v1/tariff-assignments', { tariffId, scope: { kind: 'station', stationId } });
    // registered before locations existed (a v1 record on the topic): read upcast, priced all the same
    await registerStationV1(stationId, 'Europe/Amsterdam');
    await waitFor(
      async () =>
        (await tariffs.dataSource.query('select 1 from stations where station_id = $1', [stationId])).length === 1,
      { what: 'the v1 station in the registry copy' },
    );
    const day = tomorrow();
    const rec = ocpp16Session(stationId, day);
    await publishRecording(rec);
    const first = await waitFor(
      () =>
        billing().find(
          (e) =>
            e.type === 'cdr.created' && (e.payload as { audit: { stationId: string } }).audit.stationId === stationId,
        ),
      { what: 'the first CDR' },
    );
    const sessionId = (first.payload as { audit: { sessionId: string } }).audit.sessionId;
    const original = (first.payload as { cdr: Json }).cdr;
    // no location registered: the ids it has, never a free CDR, and the audit says what is missing
    expect(original.cdr_location).toEqual({
      id: stationId,
      evse_uid: `${stationId}*1`,
      evse_id: `${stationId}*1`,
      connector_id: '1',
    });
    expect(original.total_cost).toEqual({ excl_vat: '5.40', incl_vat: '6.53' });
    expect((first.payload as { audit: Json }).audit).toMatchObject({
      timeZoneSource: 'registry',
      dataQuality: {
        flags: ['LOCATION_INCOMPLETE'],
        missingLocationFields: [
          'address',
          'city',
          'country',
          'coordinates',
          'connector_standard',
          'connector_format',
          'connector_power_type',
        ],
      },
    });
    const flagged = await api<{ items: Json[] }>(
      'GET',
      `/api/v1/cdrs?stationId=${stationId}&dataQuality=LOCATION_INCOMPLETE`,
    );
    expect(flagged.body.items.map((c) => c.id)).toEqual([original.id]);

    // an offline-queued MeterValues from inside the session arrives after it was priced
    const late = structuredClone(rec.records[8]);
    late.id = deriveId('late-meter-values', stationId);
    (late.payload as { receivedAt: string }).receivedAt = `${day}T11:30:00.000Z`;
    (late.payload as { payload: unknown }).payload = {
      connectorId: 1,
      transactionId: 1001,
      meterValue: [
        {
          timestamp: `${day}T10:35:00Z`,
          sampledValue: [{ value: '22', measurand: 'Power.Active.Import', unit: 'kW' }],
        },
      ],
    };
    await publisher.publish([{ topic: topics.inbound, key: late.key, value: JSON.stringify(late) }]);
    await waitFor(() => cdrsOf(sessionId).length === 3, { what: 'a credit CDR and a new CDR' });
    const [, credit, next] = cdrsOf(sessionId).map((e) => e.payload as { cdr: Json; audit: Json });
    expect(credit.cdr).toMatchObject({
      id: `${original.id as string}-C`,
      credit: true,
      credit_reference_id: original.id,
      total_cost: { excl_vat: '-5.40', incl_vat: '-6.53' },
    });
    expect({
      ...credit.cdr,
      id: original.id,
      credit: undefined,
      credit_reference_id: undefined,
      total_cost: original.total_cost,
      last_updated: original.last_updated,
    }).toEqual({
      ...original,
      credit: undefined,
      credit_reference_id: undefined,
    });
    expect(next.audit).toMatchObject({ sessionRevision: 2 });
    expect(next.cdr.id).not.toBe(original.id);
    expect(next.cdr).toMatchObject({ total_cost: { excl_vat: '5.40', incl_vat: '6.53' } });
    expect(next.cdr.credit).toBeUndefined();
    const all = await api<{ items: Json[] }>('GET', `/api/v1/cdrs?sessionId=${sessionId}`);
    expect(all.body.items.map((c) => c.id).sort()).toEqual([original.id, credit.cdr.id, next.cdr.id].sort());
  });

  it('prices a chunk at once: a correction and a redelivered revision in the same batch give one CDR per revision and one credit', async () => {
    const tariffId = uniqueName('CHUNK');
    await api('PUT', `/api/v1/tariffs/${tariffId}`, simpleTariff(tariffId));
    const stationId = uniqueName('CP');
    await api('POST', '/api/v1/tariff-assignments', { tariffId, scope: { kind: 'station', stationId } });
    const day = tomorrow();
    const sessionId = deriveId('chunk-session', stationId);
    const ended = (revision: number, eventId: string) => sessionEnded(day, sessionId, stationId, revision, eventId);
    // one publish, one partition (same key): revision 1, revision 2, and revision 1 again under another event id
    const events = [
      ended(1, deriveId('chunk-ended', stationId, 1)),
      ended(2, deriveId('chunk-ended', stationId, 2)),
      ended(1, deriveId('chunk-ended', stationId, 'again')),
    ];
    await publisher.publish(events.map((e) => ({ topic: topics.sessions, key: e.key, value: JSON.stringify(e) })));
    await waitFor(() => cdrsOf(sessionId).length >= 3, { what: 'CDR, credit CDR and new CDR' });
    await waitFor(
      async () =>
        // the pricing group's inbox (the running-cost group reads session.events too)
        (
          await tariffs.dataSource.query(`select 1 from inbox where event_id = $1 and consumer like '%.pricing'`, [
            events[2].id,
          ])
        ).length === 1,
      { what: 'the redelivered revision consumed' },
    );
    const [original, credit, next] = cdrsOf(sessionId).map((e) => e.payload as { cdr: Json; audit: Json });
    expect(cdrsOf(sessionId)).toHaveLength(3);
    expect(original.audit).toMatchObject({ sessionRevision: 1 });
    expect(credit.cdr).toMatchObject({
      id: `${original.cdr.id as string}-C`,
      credit: true,
      credit_reference_id: original.cdr.id,
    });
    expect(next.audit).toMatchObject({ sessionRevision: 2 });
    const rows: Array<{ revision: number }> = await tariffs.dataSource.query(
      'select revision from priced_sessions where session_id = $1 order by revision',
      [sessionId],
    );
    expect(rows.map((r) => r.revision)).toEqual([1, 2]);
    const stored: Array<{ cdr_id: string }> = await tariffs.dataSource.query(
      'select cdr_id from cdrs where session_id = $1 order by cdr_id',
      [sessionId],
    );
    expect(stored.map((r) => r.cdr_id)).toEqual([original.cdr.id, credit.cdr.id, next.cdr.id].sort());
  });
});
