import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { AlarmAcknowledgedV1, deriveId, systemCatalogue, type OcppMessageReceived } from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
import { applyChargerEvent, emptyView } from '@csms/monitoring';
import { normalise, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { silentLogger } from '@csms/platform';
import { newApiKey, type RunningService } from '@csms/service-kit';
import {
  TEST_DATABASE_URL,
  TEST_KAFKA_BROKERS,
  TopicCollector,
  createTestTopics,
  testKafka,
  uniqueName,
  waitFor,
} from '@csms/testing';
import { loadReportingServiceConfig, type ReportingServiceConfig } from '../src/config';
import { rebuildReportingStore } from '../src/rebuild';
import { startReportingService } from '../src/service';

const operator = newApiKey('ops', 'operator');
const finance = newApiKey('fin', 'finance');

interface Json {
  [k: string]: unknown;
}

describe('reporting service: station monitoring from ocpp.inbound (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let svc: RunningService;
  const inbound = uniqueName('test.ocpp-inbound');
  const monitoring = uniqueName('test.monitoring-events');
  let cfg: ReportingServiceConfig;
  const dbName = `csms_test_reporting_${process.pid}`;
  let seq = 0;

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, [inbound, monitoring], 3);
    const db = new URL(TEST_DATABASE_URL);
    db.pathname = `/${dbName}`;
    cfg = loadReportingServiceConfig({
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: db.toString(),
      HTTP_PORT: '0',
      API_KEYS: [operator.entry, finance.entry].join(','),
      // reconciliation only when a test asks (the scheduler has its own test: reconciliation-lifecycle)
      RECONCILIATION_INTERVAL_S: '0',
      REPORTING_CONSUMER_GROUP: uniqueName('reporting'),
      OCPP_INBOUND_TOPIC: inbound,
      MONITORING_EVENTS_TOPIC: monitoring,
      // billing completeness reads these: topics of this suite's own, not the shared ones
      SESSION_EVENTS_TOPIC: uniqueName('test.session-events'),
      BILLING_EVENTS_TOPIC: uniqueName('test.billing-events'),
      FINANCE_EVENTS_TOPIC: uniqueName('test.finance-events'),
      REGISTRY_STATIONS_TOPIC: uniqueName('test.registry-stations'),
      TARIFF_CONSUMER_GROUP: uniqueName('tariffs'),
      LOG_LEVEL: 'silent',
    });
    svc = await startReportingService(cfg, silentLogger());
  });

  afterAll(async () => {
    await svc?.stop();
    await publisher.disconnect();
    const c = new Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    await c.query(`drop database if exists "${dbName}" with (force)`);
    await c.end();
  });

  const record = (
    stationId: string,
    protocol: 'ocpp1.6' | 'ocpp2.0.1',
    receivedAt: string,
    rec: Partial<OcppInboundRecord>,
  ) => {
    seq++;
    const env: OcppMessageReceived = {
      id: deriveId('reporting-test', stationId, seq),
      type: 'ocpp.message_received',
      version: 1,
      occurredAt: receivedAt,
      key: stationId,
      source: 'ocpp-gateway',
      causationId: null,
      correlationId: null,
      payload: {
        stationId,
        protocol,
        kind: 'call',
        messageId: `m${seq}`,
        receivedAt,
        connectionId: 'c1',
        gatewayInstance: 'gw',
        ...rec,
      } as OcppMessageReceived['payload'],
    };
    return env;
  };
  const send = async (...args: Parameters<typeof record>) => {
    const env = record(...args);
    await publisher.publish([{ topic: inbound, key: env.key!, value: JSON.stringify(env) }]);
    return env;
  };
  const get = async <T = Json>(path: string, key = operator.key): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: r.status, body: (await r.json()) as T };
  };

  it('shows stations online/offline, connectors, firmware and diagnostics status, and alarms that open and close', async () => {
    const cp16 = uniqueName('CP16');
    const cp201 = uniqueName('CP201');
    await send(cp16, 'ocpp1.6', '2026-03-10T10:00:00Z', { kind: 'connected' });
    await send(cp16, 'ocpp1.6', '2026-03-10T10:00:01Z', {
      action: 'BootNotification',
      payload: { chargePointVendor: 'Acme', chargePointModel: 'AC22', firmwareVersion: '1.0' },
      response: { status: 'Accepted', currentTime: '2026-03-10T10:00:01Z', interval: 300 },
    });
    await send(cp16, 'ocpp1.6', '2026-03-10T10:01:00Z', {
      action: 'StatusNotification',
      payload: { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure', timestamp: '2026-03-10T10:01:00Z' },
    });
    await send(cp16, 'ocpp1.6', '2026-03-10T10:02:00Z', {
      action: 'FirmwareStatusNotification',
      payload: { status: 'Downloading' },
    });
    await send(cp16, 'ocpp1.6', '2026-03-10T10:03:00Z', {
      action: 'DiagnosticsStatusNotification',
      payload: { status: 'Uploaded' },
    });
    await send(cp16, 'ocpp1.6', '2026-03-10T10:04:00Z', {
      action: 'Heartbeat',
      payload: {},
      response: { currentTime: '2026-03-10T10:04:00Z' },
    });
    await send(cp201, 'ocpp2.0.1', '2026-03-10T10:00:00Z', { kind: 'connected' });
    await send(cp201, 'ocpp2.0.1', '2026-03-10T10:05:00Z', {
      action: 'SecurityEventNotification',
      payload: { type: 'TamperDetectionActivated', timestamp: '2026-03-10T10:05:00Z' },
    });
    await send(cp201, 'ocpp2.0.1', '2026-03-10T10:06:00Z', { kind: 'disconnected', reason: 'ping timeout' });

    const s16 = await waitFor(
      async () => {
        const r = await get<Json>(`/api/v1/stations/${cp16}`);
        return r.status === 200 && (r.body.lastMessageAt as string) === '2026-03-10T10:04:00.000Z' ? r.body : undefined;
      },
      { what: `${cp16} in the monitoring view` },
    );
    expect(s16).toMatchObject({
      online: true,
      vendor: 'Acme',
      model: 'AC22',
      firmware: { status: 'Downloading' },
      diagnostics: { kind: 'diagnostics', status: 'Uploaded' },
      openAlarms: 1,
    });
    expect(s16.connectors).toEqual([
      expect.objectContaining({ connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure' }),
    ]);
    const faulted = await get<{ items: Json[] }>(`/api/v1/alarms?stationId=${cp16}`);
    expect(faulted.body.items).toEqual([
      expect.objectContaining({ kind: 'CONNECTOR_FAULTED', code: 'GroundFailure', status: 'open', connectorId: 1 }),
    ]);

    const s201 = await waitFor(
      async () => {
        const r = await get<Json>(`/api/v1/stations/${cp201}`);
        return r.status === 200 && r.body.online === false ? r.body : undefined;
      },
      { what: `${cp201} offline` },
    );
    expect(s201).toMatchObject({ disconnectReason: 'ping timeout', openAlarms: 1 });
    const offline = await get<{ items: Json[] }>('/api/v1/stations?online=false');
    expect(offline.body.items.map((s) => s.stationId)).toContain(cp201);

    // the fault clears with the next status; the security event needs an operator
    await send(cp16, 'ocpp1.6', '2026-03-10T10:10:00Z', {
      action: 'StatusNotification',
      payload: { connectorId: 1, status: 'Available', errorCode: 'NoError', timestamp: '2026-03-10T10:10:00Z' },
    });
    await waitFor(
      async () =>
        (await get<{ items: Json[] }>(`/api/v1/alarms?stationId=${cp16}&status=closed`)).body.items.length === 1,
      { what: 'the fault alarm closed' },
    );
    const security = (await get<{ items: Json[] }>(`/api/v1/alarms?stationId=${cp201}`)).body.items[0];
    expect(security).toMatchObject({ kind: 'SECURITY_EVENT', code: 'TamperDetectionActivated', status: 'open' });
    const dashes = await fetch(`${svc.url}/api/v1/alarms/${'-'.repeat(36)}/acknowledge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator.key}` },
    });
    expect(dashes.status).toBe(400);
    expect(await dashes.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'path/alarmId' });
    const tampered = await fetch(
      `${svc.url}/api/v1/alarms?cursor=${Buffer.from(JSON.stringify(['x', 'y'])).toString('base64url')}`,
      { headers: { authorization: `Bearer ${operator.key}` } },
    );
    expect(await tampered.json()).toMatchObject({ status: 400, code: 'INVALID_CURSOR', field: 'query/cursor' });
    const forbidden = await fetch(`${svc.url}/api/v1/alarms/${security.alarmId as string}/acknowledge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${finance.key}` },
    });
    expect(forbidden.status).toBe(403);
    const ack = await fetch(`${svc.url}/api/v1/alarms/${security.alarmId as string}/acknowledge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator.key}` },
    });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({
      status: 'closed',
      closedBy: 'api-key:ops',
      acknowledgedBy: { keyName: 'ops', role: 'operator' },
    });
    const [stored] = await svc.dataSource.query(
      'select acknowledged_by, acknowledged_by_role from alarm_acknowledgements where alarm_id = $1',
      [security.alarmId],
    );
    expect(stored).toEqual({ acknowledged_by: 'api-key:ops', acknowledged_by_role: 'operator' });
    const listed = (await get<{ items: Json[] }>(`/api/v1/alarms?stationId=${cp201}&status=all`)).body.items.find(
      (a) => a.alarmId === security.alarmId,
    );
    expect(listed).toMatchObject({ acknowledgedBy: { keyName: 'ops', role: 'operator' } });
    expect((await get<Json>(`/api/v1/stations/${cp201}`)).body.openAlarms).toBe(0);
    expect(
      (
        await fetch(`${svc.url}/api/v1/alarms/${security.alarmId as string}/acknowledge`, {
          method: 'POST',
          headers: { authorization: `Bearer ${operator.key}` },
        })
      ).status,
    ).toBe(409);
    expect((await fetch(`${svc.url}/api/v1/stations`)).status).toBe(401);

    // the acknowledgement is an event on monitoring.events, keyed by station, its id derived from the alarm
    const events = await new TopicCollector(kafka, [monitoring]).start();
    try {
      const acked = await waitFor(
        () => events.records.find((r) => r.headers['event-type'] === 'monitoring.alarm_acknowledged'),
        { what: 'the acknowledgement on monitoring.events' },
      );
      expect(acked.key).toBe(cp201);
      expect(acked.headers['event-id']).toBe(deriveId('alarm-acknowledged', security.alarmId as string));
      expect(JSON.parse(acked.value!)).toMatchObject({
        version: 2,
        payload: {
          alarmId: security.alarmId,
          stationId: cp201,
          acknowledgedBy: 'api-key:ops',
          acknowledgedByRole: 'operator',
        },
      });
      expect(acked.value).not.toContain(operator.key);
    } finally {
      await events.close();
    }

    // a rebuild from offset zero of both topics gives the same alarms: the acknowledged one stays closed, by whom and when
    const alarmsNow = async () => (await get<{ items: Json[] }>('/api/v1/alarms?status=all')).body.items;
    const before = await alarmsNow();
    expect(before).toHaveLength(2);
    await svc.stop();
    await rebuildReportingStore(cfg);
    svc = await startReportingService(cfg, silentLogger());
    const after = await waitFor(
      async () => {
        const items = await alarmsNow();
        return items.length === 2 && items.every((a) => a.status === 'closed') ? items : undefined;
      },
      { what: 'the rebuilt alarms', timeoutMs: 60_000 },
    );
    expect(after).toEqual(before);
    expect((await get<Json>(`/api/v1/stations/${cp201}`)).body.openAlarms).toBe(0);
  });

  it('closes an alarm at once when its acknowledgement was read before the alarm opened (the order of a rebuild)', async () => {
    const cp = uniqueName('CPACK');
    const payload = { type: 'FirmwareTampered', timestamp: '2026-03-11T08:00:00Z' };
    // the alarm id is derived from the record, so it can be known before the record is read
    const seqBefore = seq;
    const future: OcppMessageReceived = {
      id: deriveId('reporting-test', cp, seqBefore + 1),
      type: 'ocpp.message_received',
      version: 1,
      occurredAt: '2026-03-11T08:00:00Z',
      key: cp,
      source: 'ocpp-gateway',
      causationId: null,
      correlationId: null,
      payload: {
        stationId: cp,
        protocol: 'ocpp2.0.1',
        kind: 'call',
        messageId: `m${seqBefore + 1}`,
        receivedAt: '2026-03-11T08:00:00Z',
        connectionId: 'c1',
        gatewayInstance: 'gw',
        action: 'SecurityEventNotification',
        payload,
      } as OcppMessageReceived['payload'],
    };
    const res = normalise(future.payload as OcppInboundRecord, {
      eventId: future.id,
      topic: inbound,
      partition: 0,
      offset: '0',
    });
    if (!res.ok) throw res.error;
    const alarmId = res.events.flatMap((e) => applyChargerEvent(emptyView(cp), e).opened)[0].alarmId;
    const catalogue = systemCatalogue().withTopics({ 'monitoring.events': monitoring });
    const ack = catalogue.create(AlarmAcknowledgedV1, {
      id: deriveId('alarm-acknowledged', alarmId),
      key: cp,
      occurredAt: '2026-03-11T08:05:00.000Z',
      source: 'reporting-service',
      payload: {
        alarmId,
        stationId: cp,
        acknowledgedAt: '2026-03-11T08:05:00.000Z',
        acknowledgedBy: 'api-key:night-shift',
      },
    });
    const applied = svc.consumers[0].stats().applied;
    await publisher.publish([{ topic: monitoring, key: cp, value: catalogue.encode(ack) }]);
    await waitFor(() => svc.consumers[0].stats().applied > applied, { what: 'the acknowledgement applied' });
    const sent = await send(cp, 'ocpp2.0.1', '2026-03-11T08:00:00Z', { action: 'SecurityEventNotification', payload });
    expect(sent.id).toBe(future.id);
    const alarm = await waitFor(
      async () => (await get<{ items: Json[] }>(`/api/v1/alarms?stationId=${cp}&status=all`)).body.items[0],
      { what: 'the alarm' },
    );
    expect(alarm).toMatchObject({
      alarmId,
      kind: 'SECURITY_EVENT',
      status: 'closed',
      closedAt: '2026-03-11T08:05:00.000Z',
      closedBy: 'api-key:night-shift',
    });
    // a v1 acknowledgement (before the role was recorded) is read upcast: the key name, no role
    expect(alarm.acknowledgedBy).toEqual({ keyName: 'night-shift', role: null });
  });

  it('folds a chunk of many records of several stations as one record at a time would (views, status facts, alarms)', async () => {
    const stations = [uniqueName('CPCHUNK'), uniqueName('CPCHUNK'), uniqueName('CPCHUNK')];
    const at = (s: number) => new Date(Date.parse('2026-03-12T10:00:00Z') + s * 1000).toISOString();
    const records: OcppMessageReceived[] = [];
    for (const cp of stations) {
      records.push(record(cp, 'ocpp1.6', at(0), { kind: 'connected' }));
      records.push(
        record(cp, 'ocpp1.6', at(1), {
          action: 'StatusNotification',
          payload: { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure', timestamp: at(1) },
        }),
      );
      for (let i = 0; i < 40; i++)
        records.push(
          record(cp, 'ocpp1.6', at(10 + i), {
            action: 'MeterValues',
            payload: {
              connectorId: 1,
              meterValue: [
                {
                  timestamp: at(10 + i),
                  sampledValue: [{ value: String(1000 + i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
                },
              ],
            },
            response: {},
          }),
        );
      records.push(
        record(cp, 'ocpp1.6', at(60), {
          action: 'StatusNotification',
          payload: { connectorId: 1, status: 'Available', errorCode: 'NoError', timestamp: at(60) },
        }),
      );
      records.push(
        record(cp, 'ocpp1.6', at(70), { action: 'Heartbeat', payload: {}, response: { currentTime: at(70) } }),
      );
    }
    // one publish: the consumer reads them in batches and applies them in chunks of many records per station
    await publisher.publish(records.map((r) => ({ topic: inbound, key: r.key!, value: JSON.stringify(r) })));
    for (const cp of stations) {
      const view = await waitFor(
        async () => {
          const r = await get<Json>(`/api/v1/stations/${cp}`);
          return r.status === 200 && r.body.lastMessageAt === at(70) ? r.body : undefined;
        },
        { what: `${cp} folded` },
      );
      expect(view).toMatchObject({ online: true, openAlarms: 0 });
      expect(view.connectors).toEqual([expect.objectContaining({ connectorId: 1, status: 'Available' })]);
      const alarms = (await get<{ items: Json[] }>(`/api/v1/alarms?stationId=${cp}&status=all`)).body.items;
      expect(alarms).toEqual([expect.objectContaining({ kind: 'CONNECTOR_FAULTED', status: 'closed' })]);
      const facts: Array<{ kind: string; value: string }> = await svc.dataSource.query(
        'select kind, value from evse_status_facts where station_id = $1 order by seq',
        [cp],
      );
      expect(facts).toEqual([
        { kind: 'connectivity', value: 'online' },
        { kind: 'status', value: 'Faulted' },
        { kind: 'status', value: 'Available' },
        { kind: 'charging', value: 'Idle' },
      ]);
    }
  });
});
