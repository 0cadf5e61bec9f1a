import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { deriveId, type OcppMessageReceived } from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
import type { OcppInboundRecord } from '@csms/ocpp-normaliser';
import { silentLogger } from '@csms/platform';
import { newApiKey, type RunningService } from '@csms/service-kit';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS, createTestTopics, testKafka, uniqueName, waitFor } from '@csms/testing';
import { loadReportingServiceConfig } from '../src/config';
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
  const dbName = `csms_test_reporting_${process.pid}`;
  let seq = 0;

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, [inbound], 3);
    const db = new URL(TEST_DATABASE_URL);
    db.pathname = `/${dbName}`;
    svc = await startReportingService(
      loadReportingServiceConfig({
        KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
        DATABASE_URL: db.toString(),
        HTTP_PORT: '0',
        API_KEYS: [operator.entry, finance.entry].join(','),
        REPORTING_CONSUMER_GROUP: uniqueName('reporting'),
        OCPP_INBOUND_TOPIC: inbound,
        LOG_LEVEL: 'silent',
      }),
      silentLogger(),
    );
  });

  afterAll(async () => {
    await svc?.stop();
    await publisher.disconnect();
    const c = new Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    await c.query(`drop database if exists "${dbName}" with (force)`);
    await c.end();
  });

  const send = (stationId: string, protocol: 'ocpp1.6' | 'ocpp2.0.1', receivedAt: string, rec: Partial<OcppInboundRecord>) => {
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
      payload: { stationId, protocol, kind: 'call', messageId: `m${seq}`, receivedAt, connectionId: 'c1', gatewayInstance: 'gw', ...rec } as OcppMessageReceived['payload'],
    };
    return publisher.publish([{ topic: inbound, key: stationId, value: JSON.stringify(env) }]);
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
    await send(cp16, 'ocpp1.6', '2026-03-10T10:01:00Z', { action: 'StatusNotification', payload: { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure', timestamp: '2026-03-10T10:01:00Z' } });
    await send(cp16, 'ocpp1.6', '2026-03-10T10:02:00Z', { action: 'FirmwareStatusNotification', payload: { status: 'Downloading' } });
    await send(cp16, 'ocpp1.6', '2026-03-10T10:03:00Z', { action: 'DiagnosticsStatusNotification', payload: { status: 'Uploaded' } });
    await send(cp16, 'ocpp1.6', '2026-03-10T10:04:00Z', { action: 'Heartbeat', payload: {}, response: { currentTime: '2026-03-10T10:04:00Z' } });
    await send(cp201, 'ocpp2.0.1', '2026-03-10T10:00:00Z', { kind: 'connected' });
    await send(cp201, 'ocpp2.0.1', '2026-03-10T10:05:00Z', { action: 'SecurityEventNotification', payload: { type: 'TamperDetectionActivated', timestamp: '2026-03-10T10:05:00Z' } });
    await send(cp201, 'ocpp2.0.1', '2026-03-10T10:06:00Z', { kind: 'disconnected', reason: 'ping timeout' });

    const s16 = await waitFor(async () => {
      const r = await get<Json>(`/api/v1/stations/${cp16}`);
      return r.status === 200 && (r.body.lastMessageAt as string) === '2026-03-10T10:04:00.000Z' ? r.body : undefined;
    }, { what: `${cp16} in the monitoring view` });
    expect(s16).toMatchObject({ online: true, vendor: 'Acme', model: 'AC22', firmware: { status: 'Downloading' }, diagnostics: { kind: 'diagnostics', status: 'Uploaded' }, openAlarms: 1 });
    expect(s16.connectors).toEqual([expect.objectContaining({ connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure' })]);
    const faulted = await get<{ items: Json[] }>(`/api/v1/alarms?stationId=${cp16}`);
    expect(faulted.body.items).toEqual([expect.objectContaining({ kind: 'CONNECTOR_FAULTED', code: 'GroundFailure', status: 'open', connectorId: 1 })]);

    const s201 = await waitFor(async () => {
      const r = await get<Json>(`/api/v1/stations/${cp201}`);
      return r.status === 200 && r.body.online === false ? r.body : undefined;
    }, { what: `${cp201} offline` });
    expect(s201).toMatchObject({ disconnectReason: 'ping timeout', openAlarms: 1 });
    const offline = await get<{ items: Json[] }>('/api/v1/stations?online=false');
    expect(offline.body.items.map((s) => s.stationId)).toContain(cp201);

    // the fault clears with the next status; the security event needs an operator
    await send(cp16, 'ocpp1.6', '2026-03-10T10:10:00Z', { action: 'StatusNotification', payload: { connectorId: 1, status: 'Available', errorCode: 'NoError', timestamp: '2026-03-10T10:10:00Z' } });
    await waitFor(async () => (await get<{ items: Json[] }>(`/api/v1/alarms?stationId=${cp16}&status=closed`)).body.items.length === 1, { what: 'the fault alarm closed' });
    const security = (await get<{ items: Json[] }>(`/api/v1/alarms?stationId=${cp201}`)).body.items[0];
    expect(security).toMatchObject({ kind: 'SECURITY_EVENT', code: 'TamperDetectionActivated', status: 'open' });
    const forbidden = await fetch(`${svc.url}/api/v1/alarms/${security.alarmId as string}/acknowledge`, { method: 'POST', headers: { authorization: `Bearer ${finance.key}` } });
    expect(forbidden.status).toBe(403);
    const ack = await fetch(`${svc.url}/api/v1/alarms/${security.alarmId as string}/acknowledge`, { method: 'POST', headers: { authorization: `Bearer ${operator.key}` } });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({ status: 'closed', closedBy: 'api-key:ops' });
    expect((await get<Json>(`/api/v1/stations/${cp201}`)).body.openAlarms).toBe(0);
    expect((await fetch(`${svc.url}/api/v1/stations`)).status).toBe(401);
  });
});
