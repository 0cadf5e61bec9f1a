import type { Kafka } from 'kafkajs';
import { SessionEndedV1, StationRegisteredV1, StationRegisteredV2, deriveId, systemCatalogue, type Envelope, type StationLocation } from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import { TopicCollector, createTestTopics, testKafka, uniqueName, waitFor, dropTestDatabases } from '@csms/testing';
import type { RunningSessionService } from '../../session-service/src/service';
import { ocpp16Session, type Recording } from '../../session-service/test/recordings';
import { buildCdr } from '../src/cdr-builder';
import { pricingContext } from '../src/pricing.handler';
import type { TariffServiceConfig } from '../src/config';
import { chainTariffConfig, chainTopics, startChainSessions, tomorrow } from './chain';
import { startTariffService, type RunningTariffService } from '../src/service';

const finance = newApiKey('finance', 'finance');
const operator = newApiKey('ops', 'operator');

/** FLAT 1.00 + ENERGY 0.30/kWh + idle fee 6.00/h (per minute), 21 % VAT, EUR. */
const simpleTariff = (id: string) => ({
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

  const api = async <T = Json>(method: string, path: string, body?: unknown, key = finance.key): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${tariffs.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
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
    cfg = chainTariffConfig(topics, dbs[1], [finance.entry, operator.entry].join(','));
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
  const cdrsOf = (sessionId: string) => billing().filter((e) => e.type === 'cdr.created' && (e.payload as { audit: { sessionId: string } }).audit.sessionId === sessionId);
  const publishRecording = (r: Recording) => publisher.publish(r.records.map((e) => ({ topic: topics.inbound, key: e.key, value: JSON.stringify(e) })));
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
        evses: [{ evseId: 1, connectors: [{ connectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', power_type: 'AC_3_PHASE', max_voltage: 400, max_amperage: 32, max_electric_power: 22000 }] }],
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
      payload: { stationId, securityProfile: 1, passwordHash: null, certificateCn: null, siteId: null, timeZone, evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }], enabled: true, deleted: false, revision: 1 },
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

  it('keeps every version of a tariff, addressable', async () => {
    const id = uniqueName('VERS');
    const v1 = await api<Json>('PUT', `/api/v1/tariffs/${id}`, simpleTariff(id));
    expect(v1.status).toBe(200);
    const t2 = simpleTariff(id);
    t2.elements[0].price_components[1].price = 0.35;
    const v2 = await api<Json>('PUT', `/api/v1/tariffs/${id}`, t2);
    expect(v2.body).toMatchObject({ tariffId: id, version: 2 });
    expect((await api<Json>('GET', `/api/v1/tariffs/${id}`)).body).toMatchObject({ version: 2 });
    expect(((await api<Json>('GET', `/api/v1/tariffs/${id}/versions/1`)).body.tariff as Json).elements).toEqual(simpleTariff(id).elements);
    expect(((await api<{ items: unknown[] }>('GET', `/api/v1/tariffs/${id}/versions`)).body.items)).toHaveLength(2);
  });

  it('prices a session through Kafka into a CDR with the exact totals, readable through the API', async () => {
    const tariffId = uniqueName('AC');
    const put = await api<Json>('PUT', `/api/v1/tariffs/${tariffId}`, simpleTariff(tariffId));
    expect(put.status).toBe(200);
    const stationId = uniqueName('CP');
    await registerStation(stationId, 'Europe/Amsterdam', 'site-1');
    const asg = await api<Json>('POST', '/api/v1/tariff-assignments', { tariffId, scope: { kind: 'station', stationId } });
    expect(asg.status).toBe(201);
    await waitFor(async () => (await tariffs.dataSource.query('select 1 from stations where station_id = $1', [stationId])).length === 1, { what: 'the station in the registry copy' });

    const rec = ocpp16Session(stationId, tomorrow());
    await publishRecording(rec);
    const ended = await waitFor(() => collectors[1].records.map((r) => JSON.parse(r.value!) as Envelope).find((e) => e.type === 'session.ended' && (e.payload as { stationId: string }).stationId === stationId), { what: 'session.ended' });
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
    expect(audit).toMatchObject({ tariffId, tariffVersion: 1, timeZone: 'Europe/Amsterdam', timeZoneSource: 'registry', sessionRevision: 1, assignment: { level: 'station' } });
    expect(audit.dataQuality).toBeUndefined();
    // through the API, as OCPI JSON, and the audit on request
    const list = await api<{ items: Json[] }>('GET', `/api/v1/cdrs?stationId=${stationId}`);
    expect(list.body.items).toEqual([cdr]);
    const one = await api<Json>('GET', `/api/v1/cdrs/${cdr.id as string}?include=audit`);
    expect(one.body.audit).toEqual(audit);
    // re-pricing the same session from the stored facts gives a byte-identical CDR
    const [row] = await tariffs.dataSource.query('select session, source from priced_sessions where session_id = $1', [sessionId]);
    const again = buildCdr(await pricingContext(tariffs.dataSource.manager, cfg, row.session, row.source));
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
      () => billing().find((e) => e.type === 'session.pricing_failed' && (e.payload as { stationId: string }).stationId === stationId),
      { what: 'session.pricing_failed' },
    );
    expect(failed.payload).toMatchObject({ code: 'NO_ASSIGNMENT', sessionRevision: 1 });
    expect(cdrsOf((failed.payload as { sessionId: string }).sessionId)).toEqual([]);
    const list = await api<{ items: Json[] }>('GET', '/api/v1/pricing-failures');
    expect(list.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ stationId, code: 'NO_ASSIGNMENT' })]));
  });

  it('a session corrected after it was priced gets a credit CDR and a new CDR, never an edit', async () => {
    const tariffId = uniqueName('CORR');
    await api('PUT', `/api/v1/tariffs/${tariffId}`, simpleTariff(tariffId));
    const stationId = uniqueName('CP');
    await api('POST', '/api/v1/tariff-assignments', { tariffId, scope: { kind: 'station', stationId } });
    // registered before locations existed (a v1 record on the topic): read upcast, priced all the same
    await registerStationV1(stationId, 'Europe/Amsterdam');
    await waitFor(async () => (await tariffs.dataSource.query('select 1 from stations where station_id = $1', [stationId])).length === 1, { what: 'the v1 station in the registry copy' });
    const day = tomorrow();
    const rec = ocpp16Session(stationId, day);
    await publishRecording(rec);
    const first = await waitFor(() => billing().find((e) => e.type === 'cdr.created' && (e.payload as { audit: { stationId: string } }).audit.stationId === stationId), { what: 'the first CDR' });
    const sessionId = (first.payload as { audit: { sessionId: string } }).audit.sessionId;
    const original = (first.payload as { cdr: Json }).cdr;
    // no location registered: the ids it has, never a free CDR, and the audit says what is missing
    expect(original.cdr_location).toEqual({ id: stationId, evse_uid: `${stationId}*1`, evse_id: `${stationId}*1`, connector_id: '1' });
    expect(original.total_cost).toEqual({ excl_vat: '5.40', incl_vat: '6.53' });
    expect((first.payload as { audit: Json }).audit).toMatchObject({
      timeZoneSource: 'registry',
      dataQuality: { flags: ['LOCATION_INCOMPLETE'], missingLocationFields: ['address', 'city', 'country', 'coordinates', 'connector_standard', 'connector_format', 'connector_power_type'] },
    });
    const flagged = await api<{ items: Json[] }>('GET', `/api/v1/cdrs?stationId=${stationId}&dataQuality=LOCATION_INCOMPLETE`);
    expect(flagged.body.items.map((c) => c.id)).toEqual([original.id]);

    // an offline-queued MeterValues from inside the session arrives after it was priced
    const late = structuredClone(rec.records[8]);
    late.id = deriveId('late-meter-values', stationId);
    (late.payload as { receivedAt: string }).receivedAt = `${day}T11:30:00.000Z`;
    (late.payload as { payload: unknown }).payload = {
      connectorId: 1,
      transactionId: 1001,
      meterValue: [{ timestamp: `${day}T10:35:00Z`, sampledValue: [{ value: '22', measurand: 'Power.Active.Import', unit: 'kW' }] }],
    };
    await publisher.publish([{ topic: topics.inbound, key: late.key, value: JSON.stringify(late) }]);
    await waitFor(() => cdrsOf(sessionId).length === 3, { what: 'a credit CDR and a new CDR' });
    const [, credit, next] = cdrsOf(sessionId).map((e) => e.payload as { cdr: Json; audit: Json });
    expect(credit.cdr).toMatchObject({ id: `${original.id as string}-C`, credit: true, credit_reference_id: original.id, total_cost: { excl_vat: '-5.40', incl_vat: '-6.53' } });
    expect({ ...credit.cdr, id: original.id, credit: undefined, credit_reference_id: undefined, total_cost: original.total_cost, last_updated: original.last_updated }).toEqual({
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
    // a session.ended v1 record, as older session services wrote them: priced through the v1 -> v2 upcaster
    const ex = SessionEndedV1.example;
    const shift = (t: string) => t.replace('2026-03-01', day);
    const sessionId = deriveId('chunk-session', stationId);
    const ended = (revision: number, eventId: string) =>
      systemCatalogue().create(SessionEndedV1, {
        id: eventId,
        key: sessionId,
        occurredAt: shift(ex.endedAt),
        source: 'test',
        payload: {
          ...ex,
          sessionId,
          revision,
          stationId,
          startedAt: shift(ex.startedAt),
          endedAt: shift(ex.endedAt),
          chargingPeriods: ex.chargingPeriods.map((p) => ({ ...p, startDateTime: shift(p.startDateTime), endDateTime: shift(p.endDateTime) })),
          energyTimeline: ex.energyTimeline.map((x) => ({ ...x, at: shift(x.at) })),
        },
      });
    // one publish, one partition (same key): revision 1, revision 2, and revision 1 again under another event id
    const events = [ended(1, deriveId('chunk-ended', stationId, 1)), ended(2, deriveId('chunk-ended', stationId, 2)), ended(1, deriveId('chunk-ended', stationId, 'again'))];
    await publisher.publish(events.map((e) => ({ topic: topics.sessions, key: e.key, value: JSON.stringify(e) })));
    await waitFor(() => cdrsOf(sessionId).length >= 3, { what: 'CDR, credit CDR and new CDR' });
    await waitFor(async () => (await tariffs.dataSource.query('select 1 from inbox where event_id = $1', [events[2].id])).length === 1, { what: 'the redelivered revision consumed' });
    const [original, credit, next] = cdrsOf(sessionId).map((e) => e.payload as { cdr: Json; audit: Json });
    expect(cdrsOf(sessionId)).toHaveLength(3);
    expect(original.audit).toMatchObject({ sessionRevision: 1 });
    expect(credit.cdr).toMatchObject({ id: `${original.cdr.id as string}-C`, credit: true, credit_reference_id: original.cdr.id });
    expect(next.audit).toMatchObject({ sessionRevision: 2 });
    const rows: Array<{ revision: number }> = await tariffs.dataSource.query('select revision from priced_sessions where session_id = $1 order by revision', [sessionId]);
    expect(rows.map((r) => r.revision)).toEqual([1, 2]);
    const stored: Array<{ cdr_id: string }> = await tariffs.dataSource.query('select cdr_id from cdrs where session_id = $1 order by cdr_id', [sessionId]);
    expect(stored.map((r) => r.cdr_id)).toEqual([original.cdr.id, credit.cdr.id, next.cdr.id].sort());
  });
});
