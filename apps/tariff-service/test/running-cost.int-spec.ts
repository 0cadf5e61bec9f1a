import type { Kafka } from 'kafkajs';
import {
  SessionEndedV2,
  SessionStartedV1,
  SessionUpdatedV1,
  TokenRegisteredV1,
  deriveId,
  systemCatalogue,
  type Envelope,
  type OcpiTariffDocument,
} from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import { TopicCollector, createTestTopics, dropTestDatabases, testKafka, uniqueName, waitFor } from '@csms/testing';
import type { TariffServiceConfig } from '../src/config';
import { rebuildTariffService } from '../src/rebuild';
import { startTariffService, type RunningTariffService } from '../src/service';
import { chainTariffConfig, chainTopics, tomorrow } from './chain';

const finance = newApiKey('finance-run', 'finance');
const catalogue = systemCatalogue();

/** FLAT 1.00 + ENERGY 0.30/kWh + PARKING 6.00/h, 21 % VAT, capped at 20.00 incl. VAT. */
const tariff = (id: string, maxPrice: boolean): OcpiTariffDocument => ({
  country_code: 'NL',
  party_id: 'CSM',
  id,
  currency: 'EUR',
  ...(maxPrice ? { max_price: { excl_vat: 16.53, incl_vat: 20 } } : {}),
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

describe('tariff service: the tariff at each start and running-cost estimates on billing.events (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let tariffs: RunningTariffService | undefined;
  let cfg: TariffServiceConfig;
  let billing: TopicCollector;
  const topics = chainTopics();
  const db = `csms_test_trun_${process.pid}_${Math.floor(performance.now())}`;
  const day = tomorrow();
  const at = (minute: number) => new Date(Date.parse(`${day}T10:00:00Z`) + minute * 60_000).toISOString();

  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const r = await fetch(`${tariffs!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${finance.key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, Object.values(topics), 3);
    cfg = chainTariffConfig(topics, db, finance.entry, { TARIFF_ESTIMATE_INTERVAL_S: '300' });
    tariffs = await startTariffService(cfg, silentLogger());
    billing = await new TopicCollector(kafka, [topics.billing]).start();
    for (const [id, cap, station] of [
      ['T-CAP', true, 'CS-RUN-1'],
      ['T-NOCAP', false, 'CS-RUN-2'],
    ] as const) {
      expect((await api('PUT', `/api/v1/tariffs/${id}`, tariff(id, cap))).status).toBe(200);
      const a = await api('POST', '/api/v1/tariff-assignments', {
        tariffId: id,
        scope: { kind: 'station', stationId: station },
      });
      expect(a.status).toBe(201);
    }
    const token = catalogue.create(TokenRegisteredV1, {
      id: deriveId('test-token', 'TAG-RUN'),
      key: 'TAG-RUN',
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: {
        ...TokenRegisteredV1.example,
        uid: 'TAG-RUN',
        groupId: null,
        billingAccountId: 'acct-run',
        revision: 1,
      },
    });
    await publisher.publish([{ topic: topics.tokens, key: 'TAG-RUN', value: JSON.stringify(token) }]);
    // the catalogue consumer has the assignments (the running consumer starts after it caught up; wait for the rows)
    await waitFor(
      async () => {
        const r = await api('GET', '/api/v1/tariff-assignments');
        return ((r.body.items as unknown[]) ?? []).length === 2;
      },
      { what: 'the assignments' },
    );
    // and the token's account: registry.tokens and session.events are different topics, so a session.started read
    // before the token record would be selected without an account (seen under load)
    await waitFor(
      async () => (await tariffs!.dataSource.query('select 1 from tokens where uid = $1', ['TAG-RUN'])).length === 1,
      { what: 'the token in the catalogue' },
    );
  }, 120_000);

  afterAll(async () => {
    await billing?.close();
    await tariffs?.stop();
    await publisher.disconnect();
    await dropTestDatabases([db]);
  });

  const events = () => billing.records.map((r) => JSON.parse(r.value!) as Envelope<Json>);
  const ofSession = (type: string, sessionId: string) =>
    events().filter((e) => e.type === type && e.payload.sessionId === sessionId);

  function started(sessionId: string, stationId: string, uid: string | null) {
    return catalogue.create(SessionStartedV1, {
      id: deriveId('test-started', sessionId),
      key: sessionId,
      occurredAt: at(0),
      source: 'test',
      payload: {
        sessionId,
        stationId,
        protocol: 'ocpp1.6',
        transactionId: '4711',
        connectorId: 1,
        startedAt: at(0),
        startKnown: true,
        ...(uid ? { idToken: { idToken: uid, type: 'ocpp1.6-idTag' } } : {}),
        sources: [],
      },
    });
  }
  function updated(sessionId: string, stationId: string, minute: number, wh: number, state = 'Charging') {
    return catalogue.create(SessionUpdatedV1, {
      id: deriveId('test-updated', sessionId, minute, state),
      key: sessionId,
      occurredAt: at(minute),
      source: 'test',
      payload: {
        sessionId,
        stationId,
        protocol: 'ocpp1.6',
        transactionId: '4711',
        connectorId: 1,
        status: 'active',
        startedAt: at(0),
        chargingState: state as 'Charging',
        energyWh: String(wh),
        lastReadingAt: at(minute),
        missingSeqNos: [],
        flags: [],
      },
    });
  }
  const publish = (envs: Envelope[]) =>
    publisher.publish(envs.map((e) => ({ topic: topics.sessions, key: e.key, value: JSON.stringify(e) })));

  it('session.started -> billing.session_tariff_selected with the tariff, its max_price and the billing account; no tariff -> the code', async () => {
    const a = deriveId('run-session', uniqueName('a'));
    const b = deriveId('run-session', uniqueName('b'));
    const c = deriveId('run-session', uniqueName('c'));
    await publish([started(a, 'CS-RUN-1', 'TAG-RUN'), started(b, 'CS-RUN-2', null), started(c, 'CS-NOWHERE', null)]);
    await waitFor(() => [a, b, c].every((s) => ofSession('billing.session_tariff_selected', s).length === 1), {
      what: 'three tariff selections',
    });
    const [ea] = ofSession('billing.session_tariff_selected', a);
    expect(ea.id).toBe(deriveId('billing.session_tariff_selected', deriveId('test-started', a)));
    expect(ea.key).toBe(a);
    expect(ea.occurredAt).toBe(at(0));
    expect(ea.payload).toMatchObject({
      billingAccountId: 'acct-run',
      tariffId: 'T-CAP',
      tariffVersion: 1,
      currency: 'EUR',
      maxPriceInclVat: '20',
      code: null,
      protocol: 'ocpp1.6',
      transactionId: '4711',
      tokenUid: 'TAG-RUN',
    });
    expect(ofSession('billing.session_tariff_selected', b)[0].payload).toMatchObject({
      tariffId: 'T-NOCAP',
      maxPriceInclVat: null,
      billingAccountId: null,
    });
    expect(ofSession('billing.session_tariff_selected', c)[0].payload).toMatchObject({
      tariffId: null,
      code: 'NO_ASSIGNMENT',
    });
  });

  it('session.updated -> estimates priced as the CDR, at most one per 5 minutes of session time, and at a state change; the same update again gives nothing new', async () => {
    const s = deriveId('run-session', uniqueName('est'));
    // a sample a minute for 12 minutes (1 kWh each), then the EV suspends at minute 12, then parked to minute 20
    const updates = [
      ...Array.from({ length: 12 }, (_, i) => updated(s, 'CS-RUN-1', i + 1, (i + 1) * 1000)),
      updated(s, 'CS-RUN-1', 12, 12_000, 'SuspendedEV'),
      updated(s, 'CS-RUN-1', 20, 12_000, 'SuspendedEV'),
    ];
    await publish([started(s, 'CS-RUN-1', 'TAG-RUN'), ...updates]);
    // priced: minute 1 (first), 6, 11 (every 5 minutes), 12 (state change); 20 is 8 minutes after 12
    await waitFor(() => ofSession('billing.session_cost_estimated', s).length >= 5, { what: 'five estimates' });
    const est = ofSession('billing.session_cost_estimated', s);
    expect(est.map((e) => e.payload.asOf)).toEqual([at(1), at(6), at(11), at(12), at(20)]);
    // (1.00 + 0.30/kWh) * 1.21, parking 6.00/h per minute from minute 12
    expect(est.map((e) => e.payload.costInclVat)).toEqual(['1.57', '3.39', '5.20', '5.57', '6.53']);
    expect(est[0]).toMatchObject({
      key: s,
      occurredAt: at(1),
      id: deriveId('billing.session_cost_estimated', updates[0].id),
      payload: { billingAccountId: 'acct-run', tariffId: 'T-CAP', currency: 'EUR', energyWh: '1000' },
    });
    // redelivered updates (same ids) and an ended session: nothing more
    const before = events().length;
    await publish([
      updates[13],
      catalogue.create(SessionEndedV2, {
        id: deriveId('test-ended', s),
        key: s,
        occurredAt: at(21),
        source: 'test',
        payload: {
          ...SessionEndedV2.example,
          sessionId: s,
          stationId: 'CS-RUN-1',
          startedAt: at(0),
          endedAt: at(21),
          chargingPeriods: [
            {
              ...SessionEndedV2.example.chargingPeriods[0],
              startDateTime: at(0),
              endDateTime: at(21),
              energyWh: '12000',
            },
          ],
          energyTimeline: [],
          totals: { ...SessionEndedV2.example.totals, energyWh: '12000', energyKwh: '12' },
        },
      }),
      updated(s, 'CS-RUN-1', 40, 15_000),
    ]);
    // a barrier: another session's start on the same key (same partition, read after them)
    const barrier = deriveId('run-session', uniqueName('barrier'));
    await publish([{ ...started(barrier, 'CS-RUN-2', null), key: s }]);
    await waitFor(() => ofSession('billing.session_tariff_selected', barrier).length === 1, { what: 'the barrier' });
    expect(events().length).toBeGreaterThan(before);
    expect(ofSession('billing.session_cost_estimated', s)).toHaveLength(5);
  });

  it('a rebuild (database dropped, groups back to zero) publishes the same selections and estimates again: same ids, same payloads', async () => {
    const running = (e: Envelope<Json>) =>
      e.type === 'billing.session_tariff_selected' || e.type === 'billing.session_cost_estimated';
    const before = new Map(
      events()
        .filter(running)
        .map((e) => [e.id, JSON.stringify(e)]),
    );
    expect(before.size).toBeGreaterThan(5);
    const count = billing.records.length;
    await tariffs!.stop();
    tariffs = undefined;
    await rebuildTariffService(cfg);
    tariffs = await startTariffService(cfg, silentLogger());
    // every running event again (the relay publishes them once more; consumers drop them by id)
    await waitFor(() => events().slice(count).filter(running).length >= before.size, {
      what: 'the running events published again',
      timeoutMs: 60_000,
    });
    const again = events().slice(count).filter(running);
    expect(new Set(again.map((e) => e.id))).toEqual(new Set(before.keys()));
    for (const e of again) expect(JSON.stringify(e)).toBe(before.get(e.id));
  }, 120_000);
});
