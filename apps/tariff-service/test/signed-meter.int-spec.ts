import type { Kafka } from 'kafkajs';
import { SessionEndedV2, deriveId, systemCatalogue, type Envelope } from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
import { meterKeyPair, signOcmf, verifyOcmf } from '@csms/ocmf';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import { TopicCollector, createTestTopics, dropTestDatabases, testKafka, uniqueName, waitFor } from '@csms/testing';
import { startTariffService, type RunningTariffService } from '../src/service';
import { chainTariffConfig, chainTopics, tomorrow } from './chain';

const finance = newApiKey('finance', 'finance');
const operator = newApiKey('ops', 'operator');

interface Json {
  [k: string]: unknown;
}

const meter = meterKeyPair('secp256r1');

/** The example session's meter: 20 kWh between 1.200 and 21.200 kWh, token ABC123, signed by `meter`. */
function record(tx: 'B' | 'E', kwh: string): string {
  const payload = `{"FV":"1.0","GI":"SIM","GS":"S-1","PG":"T1","MV":"SIM","MM":"SIM-M","MS":"M-1","IS":true,"IT":"ISO14443","ID":"ABC123","RD":[{"TM":"2030-01-01T10:00:00,000+0000 S","TX":"${tx}","RV":${kwh},"RI":"1-b:1.8.0","RU":"kWh","RT":"AC","ST":"G"}]}`;
  return signOcmf(payload, meter.privateKey);
}

describe('tariff service: meter keys, signed meter values in CDRs, transparency export (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let tariffs: RunningTariffService;
  let billing: TopicCollector;
  let tariffEvents: TopicCollector;
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const dbs = [`csms_test_tsigned_${tag}`];
  const topics = chainTopics();
  const day = tomorrow();

  const api = async <T = Json>(method: string, path: string, body?: unknown, key = finance.key) => {
    const r = await fetch(`${tariffs.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return {
      status: r.status,
      type: r.headers.get('content-type') ?? '',
      text,
      body: (text.startsWith('{') ? JSON.parse(text) : null) as T,
    };
  };

  /** A session.ended v2 of `stationId` tomorrow with these signed values (1.6 SignedData). */
  const publishSession = async (stationId: string, begin: string, end: string) => {
    const sessionId = deriveId('signed-spec', stationId);
    const ex = SessionEndedV2.example;
    const shift = (t: string) => t.replace('2026-03-01', day);
    const env = systemCatalogue().create(SessionEndedV2, {
      id: deriveId('signed-spec-ended', stationId),
      key: sessionId,
      occurredAt: shift(ex.endedAt),
      source: 'test',
      payload: {
        ...ex,
        sessionId,
        stationId,
        startedAt: shift(ex.startedAt),
        endedAt: shift(ex.endedAt),
        chargingPeriods: ex.chargingPeriods.map((p) => ({
          ...p,
          startDateTime: shift(p.startDateTime),
          endDateTime: shift(p.endDateTime),
        })),
        energyTimeline: ex.energyTimeline.map((x) => ({ ...x, at: shift(x.at) })),
        signedMeterValues: [
          {
            at: shift(ex.startedAt),
            context: 'Transaction.Begin',
            measurand: 'Energy.Active.Import.Register',
            signed: { format: 'ocpp1.6-SignedData', data: begin },
          },
          {
            at: shift(ex.endedAt),
            context: 'Transaction.End',
            measurand: 'Energy.Active.Import.Register',
            signed: { format: 'ocpp1.6-SignedData', data: end },
          },
        ],
      },
    });
    await publisher.publish([{ topic: topics.sessions, key: sessionId, value: JSON.stringify(env) }]);
    return sessionId;
  };

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, Object.values(topics), 3);
    const cfg = chainTariffConfig(topics, dbs[0], [finance.entry, operator.entry].join(','));
    tariffs = await startTariffService(cfg, silentLogger());
    billing = await new TopicCollector(kafka, [topics.billing]).start();
    tariffEvents = await new TopicCollector(kafka, [topics.tariffs]).start();
    const tariffId = uniqueName('AC');
    const put = await api('PUT', `/api/v1/tariffs/${tariffId}`, {
      id: tariffId,
      currency: 'EUR',
      elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
    });
    expect(put.status).toBe(200);
    expect((await api('POST', '/api/v1/tariff-assignments', { tariffId, scope: { kind: 'default' } })).status).toBe(
      201,
    );
  });

  afterAll(async () => {
    await billing?.close();
    await tariffEvents?.close();
    await tariffs?.stop();
    await publisher.disconnect();
    await dropTestDatabases(dbs);
  });

  const events = () => billing.records.map((r) => JSON.parse(r.value!) as Envelope);
  const outcomeOf = (sessionId: string) =>
    waitFor(
      () =>
        events().find(
          (e) =>
            (e.type === 'cdr.created' && (e.payload as { cdr: { session_id: string } }).cdr.session_id === sessionId) ||
            (e.type === 'session.pricing_failed' && (e.payload as { sessionId: string }).sessionId === sessionId),
        ),
      { what: `the outcome of ${sessionId}` },
    );

  it('an operator confirms a meter key (audited: who, when, as an event); other roles and unreadable keys are refused', async () => {
    const set = await api<Json>(
      'POST',
      '/api/v1/meter-keys',
      { stationId: 'SIG-1', evseId: 0, publicKey: meter.publicKeyHex, meterSerial: 'M-1' },
      operator.key,
    );
    expect(set.status).toBe(201);
    expect(set.body).toMatchObject({
      stationId: 'SIG-1',
      evseId: 0,
      status: 'confirmed',
      meterSerial: 'M-1',
      setBy: { keyName: 'ops', role: 'operator' },
    });
    expect(
      (await api('POST', '/api/v1/meter-keys', { stationId: 'SIG-1', evseId: 0, publicKey: meter.publicKeyHex }))
        .status,
    ).toBe(403);
    const bad = await api<Json>(
      'POST',
      '/api/v1/meter-keys',
      { stationId: 'SIG-1', evseId: 0, publicKey: 'C0FFEE' },
      operator.key,
    );
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: 'METER_KEY_UNREADABLE', field: 'body/publicKey' });
    const past = await api<Json>(
      'POST',
      '/api/v1/meter-keys',
      { stationId: 'SIG-1', evseId: 0, publicKey: meter.publicKeyHex, validFrom: '2020-01-01T00:00:00Z' },
      operator.key,
    );
    expect(past.body).toMatchObject({ code: 'RETROACTIVE_CHANGE', field: 'body/validFrom' });
    for (const stationId of ['SIG-2', 'SIG-BLOCK'])
      expect(
        (await api('POST', '/api/v1/meter-keys', { stationId, evseId: 1, publicKey: meter.publicKeyHex }, operator.key))
          .status,
      ).toBe(201);
    const blocked = await api<Json>(
      'POST',
      '/api/v1/signature-policies',
      { scope: { kind: 'station', stationId: 'SIG-BLOCK' }, invalidSignature: 'block' },
      operator.key,
    );
    expect(blocked.status).toBe(201);
    const list = await api<{ items: Json[] }>('GET', '/api/v1/meter-keys?stationId=SIG-1');
    expect(list.body.items).toHaveLength(1);
    const recorded = await waitFor(
      () => {
        const xs = tariffEvents.records
          .map((r) => JSON.parse(r.value!) as Envelope)
          .filter((e) => e.type === 'meter.key_set' || e.type === 'meter.signature_policy_set');
        return xs.length === 4 ? xs : undefined;
      },
      { what: 'the key events on tariff.events' },
    );
    expect(recorded[0].payload).toMatchObject({ stationId: 'SIG-1', setBy: { keyName: 'ops', role: 'operator' } });
  });

  it('a signed session: the CDR carries OCPI signed_data, the audit a VERIFIED check; the transparency export gives back the signed bytes and the key', async () => {
    const begin = record('B', '1.200');
    const end = record('E', '21.200');
    const sessionId = await publishSession('SIG-1', begin, end);
    const e = await outcomeOf(sessionId);
    expect(e.type).toBe('cdr.created');
    expect(e.version).toBe(4);
    const { cdr, audit } = e.payload as {
      cdr: Json & { id: string; signed_data: Json };
      audit: { signedMeterValues: Json };
    };
    expect(cdr.signed_data).toMatchObject({
      encoding_method: 'OCMF',
      public_key: meter.publicKeyHex,
      signed_values: [
        { nature: 'Start', signed_data: Buffer.from(begin).toString('base64') },
        { nature: 'End', signed_data: Buffer.from(end).toString('base64') },
      ],
    });
    expect(audit.signedMeterValues).toMatchObject({
      result: 'VERIFIED',
      flags: [],
      key: { source: 'registry' },
      energy: { signedWh: '20000', billedWh: '20000', result: 'match' },
    });
    const x = await waitFor(
      async () => {
        const r = await api('GET', `/api/v1/cdrs/${cdr.id}/transparency`);
        return r.status === 200 ? r : undefined;
      },
      { what: 'the transparency export' },
    );
    expect(x.type).toMatch(/^application\/xml/);
    const signed = [...x.text.matchAll(/<signedData format="OCMF" encoding="plain">([^<]*)<\/signedData>/g)].map((m) =>
      m[1]
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&'),
    );
    expect(signed).toEqual([begin, end]);
    const key = /<publicKey encoding="hex">([0-9A-F]+)<\/publicKey>/.exec(x.text)![1];
    expect(signed.map((s) => verifyOcmf(s, key).status)).toEqual(['VALID', 'VALID']);
  });

  it('a tampered reading is priced with the flag by default, and blocked where the policy says so', async () => {
    const tampered = record('E', '21.200').replace('"RV":21.200', '"RV":25.200');
    const flagged = await outcomeOf(await publishSession('SIG-2', record('B', '1.200'), tampered));
    expect(flagged.type).toBe('cdr.created');
    expect((flagged.payload as { audit: { signedMeterValues: Json } }).audit.signedMeterValues).toMatchObject({
      result: 'FAILED',
      flags: expect.arrayContaining(['SIGNATURE_INVALID', 'SIGNED_ENERGY_MISMATCH']),
    });
    const failed = await api<{ items: Array<{ session_id: string }> }>('GET', '/api/v1/cdrs?signedMeterValues=FAILED');
    expect(failed.body.items.map((c) => c.session_id)).toEqual([
      (flagged.payload as { cdr: { session_id: string } }).cdr.session_id,
    ]);
    const blocked = await outcomeOf(await publishSession('SIG-BLOCK', record('B', '1.200'), tampered));
    expect(blocked.type).toBe('session.pricing_failed');
    expect(blocked.payload).toMatchObject({ code: 'SIGNED_METER_VALUES_FAILED' });
  });

  it('a CDR without signed values has no transparency export; a hostile id is refused', async () => {
    expect((await api<Json>('GET', '/api/v1/cdrs/CDRNONE/transparency')).body).toMatchObject({ code: 'CDR_NOT_FOUND' });
    const bad = await api<Json>('GET', `/api/v1/cdrs/${encodeURIComponent('../x')}/transparency`);
    expect(bad.status).toBe(400);
  });
});
