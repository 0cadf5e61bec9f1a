import Decimal from 'decimal.js';
import type { Kafka } from 'kafkajs';
import { KafkaRecordPublisher } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { newApiKey } from '@csms/service-kit';
import { TopicCollector, createTestTopics, testKafka, uniqueName, waitFor, dropTestDatabases } from '@csms/testing';
import type { RunningSessionService } from '../../session-service/src/service';
import { ocpp16Session, ocpp201Session } from '../../session-service/test/recordings';
import type { TariffServiceConfig } from '../src/config';
import { chainTariffConfig, chainTopics, startChainSessions, tomorrow } from './chain';
import { rebuildTariffService } from '../src/rebuild';
import { startTariffService, type RunningTariffService } from '../src/service';

const finance = newApiKey('finance', 'finance');
const SESSIONS = 40;

/** Time of day matters: energy costs more from 11:30 local (10:30 UTC in March, Amsterdam). */
const touTariff = (id: string, peak = 0.4) => ({
  country_code: 'NL',
  party_id: 'CSM',
  id,
  currency: 'EUR',
  elements: [
    { price_components: [{ type: 'FLAT', price: 0.5, vat: 21, step_size: 1 }] },
    {
      price_components: [{ type: 'ENERGY', price: peak, vat: 21, step_size: 100 }],
      restrictions: { start_time: '11:30', end_time: '12:00' },
    },
    { price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 100 }] },
    { price_components: [{ type: 'PARKING_TIME', price: 6, vat: 21, step_size: 300 }] },
  ],
  last_updated: '2026-01-01T00:00:00Z',
});

describe('tariff service: restart mid-stream, full replay, what-if (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let sessions: RunningSessionService;
  let tariffs: RunningTariffService | undefined;
  let cfg: TariffServiceConfig;
  let billing: TopicCollector;
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const dbs = [`csms_test_rsess_${tag}`, `csms_test_rtariff_${tag}`];
  const topics = chainTopics();

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, Object.values(topics), 3);
    sessions = await startChainSessions(topics, dbs[0]);
    cfg = chainTariffConfig(topics, dbs[1], finance.entry, { DEFAULT_TIME_ZONE: 'Europe/Amsterdam' });
    billing = await new TopicCollector(kafka, [topics.billing]).start();
  });

  afterAll(async () => {
    await billing?.close();
    await tariffs?.stop();
    await sessions?.stop();
    await publisher.disconnect();
    await dropTestDatabases(dbs);
  });

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${tariffs!.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${finance.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as T };
  };
  const storedCdrs = async (): Promise<Array<{ cdr_id: string; content_hash: string; cdr: unknown }>> =>
    tariffs!.dataSource.query('select cdr_id, content_hash, cdr from cdrs order by cdr_id');
  const cdrCount = async () => (await tariffs!.dataSource.query('select count(*)::int as c from cdrs'))[0].c as number;

  it('prices every session once across a restart, and a rebuild from the topics gives identical CDRs', async () => {
    tariffs = await startTariffService(cfg, silentLogger());
    const tariffId = uniqueName('TOU');
    expect((await api('PUT', `/api/v1/tariffs/${tariffId}`, touTariff(tariffId))).status).toBe(200);
    expect((await api('POST', '/api/v1/tariff-assignments', { tariffId, scope: { kind: 'default' } })).status).toBe(
      201,
    );

    const day = tomorrow();
    const recordings = Array.from({ length: SESSIONS }, (_, i) =>
      i % 2 === 0 ? ocpp16Session(`R-${tag}-${i}`, day, 5000 + i) : ocpp201Session(`R-${tag}-${i}`, day, `TX-${i}`),
    );
    await publisher.publish(
      recordings.flatMap((r) =>
        r.records.map((e) => ({ topic: topics.inbound, key: e.key, value: JSON.stringify(e) })),
      ),
    );

    // restart mid-stream
    await waitFor(async () => (await cdrCount()) >= 5, { what: 'some CDRs' });
    await tariffs.stop();
    tariffs = await startTariffService(cfg, silentLogger());
    await waitFor(async () => (await cdrCount()) === SESSIONS, { what: `${SESSIONS} CDRs`, timeoutMs: 60_000 });
    const created = () => billing.records.filter((r) => r.headers['event-type'] === 'cdr.created');
    await waitFor(() => new Set(created().map((r) => r.headers['event-id'])).size === SESSIONS, {
      what: 'every cdr.created on the topic',
    });
    const copies = new Map<string, Set<string>>();
    for (const r of created())
      copies.set(r.headers['event-id'], (copies.get(r.headers['event-id']) ?? new Set()).add(r.value!));
    expect([...copies.values()].every((c) => c.size === 1)).toBe(true);
    const before = await storedCdrs();
    expect(before).toHaveLength(SESSIONS);
    // time of day was priced: sessions that charged after 11:30 local have two energy lines
    const audits: Array<{
      audit: { pricing: { breakdown: { lines: Array<{ dimension: string; element_index: number }> } } };
    }> = await tariffs.dataSource.query('select audit from cdrs');
    expect(
      audits.some(
        (a) =>
          new Set(a.audit.pricing.breakdown.lines.filter((l) => l.dimension === 'ENERGY').map((l) => l.element_index))
            .size === 2,
      ),
    ).toBe(true);

    // what-if: the same sessions under a draft with a dearer peak; nothing is emitted
    const billingBefore = billing.records.length;
    const whatIf = await api<{
      sessions: number;
      totals: { billed: { excl_vat: string }; draft: { excl_vat: string }; difference: { excl_vat: string } };
      items: Array<{ billed: { excl_vat: string }; draft: { excl_vat: string }; difference: { excl_vat: string } }>;
    }>('POST', '/api/v1/what-if', {
      tariff: touTariff(tariffId, 0.8),
      from: `${day}T00:00:00Z`,
      to: `${day}T23:59:59Z`,
    });
    expect(whatIf.status).toBe(200);
    expect(whatIf.body.sessions).toBe(SESSIONS);
    const billedSum = before.reduce(
      (s, r) => s.plus((r.cdr as { total_cost: { excl_vat: string } }).total_cost.excl_vat),
      new Decimal(0),
    );
    expect(whatIf.body.totals.billed.excl_vat).toBe(billedSum.toFixed());
    expect(new Decimal(whatIf.body.totals.difference.excl_vat).gt(0)).toBe(true);
    for (const it of whatIf.body.items)
      expect(new Decimal(it.draft.excl_vat).minus(it.billed.excl_vat).toFixed()).toBe(it.difference.excl_vat);
    expect(billing.records.length).toBe(billingBefore);

    // full replay: drop the database, refold the topics
    await tariffs.stop();
    tariffs = undefined;
    await rebuildTariffService(cfg);
    tariffs = await startTariffService(cfg, silentLogger());
    await waitFor(async () => (await cdrCount()) === SESSIONS, { what: 'the rebuilt CDRs', timeoutMs: 60_000 });
    expect(await storedCdrs()).toEqual(before);
  });
});
