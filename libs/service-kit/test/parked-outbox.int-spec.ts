import { spawn } from 'node:child_process';
import path from 'node:path';
import { Body, Controller, Inject, Param, Post } from '@nestjs/common';
import { Type } from '@sinclair/typebox';
import { ConfigResourceTypes } from 'kafkajs';
import { DataSource } from 'typeorm';
import { EventCatalogue, closed, defineEvent, deriveId } from '@csms/contracts';
import { appendToOutbox, messagingMigrations, type MessagingRuntime } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { RequireRoles, newApiKey, startService, type RunningService } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  TopicCollector,
  createTestTopics,
  dropTestDatabases,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
} from '@csms/testing';

const repoRoot = path.resolve(__dirname, '../../..');
const admin = newApiKey('root', 'admin');
const operator = newApiKey('ops', 'operator');
const TOPIC_LIMIT = 8192;

const topic = uniqueName('test.kit-parked');
const Padded = defineEvent({
  type: 'test.padded',
  version: 1,
  topic,
  description: 'test',
  schema: closed({ key: Type.String(), n: Type.Integer(), pad: Type.String() }),
  example: { key: 'a', n: 1, pad: '' },
});
const catalogue = new EventCatalogue([Padded]);
const RUNTIME = Symbol('runtime');

/** A write API that emits one event through the outbox per request, padded by `pad` bytes. */
@Controller('padded')
class PaddedController {
  private n = 0;
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(RUNTIME) private readonly runtime: MessagingRuntime,
  ) {}

  @Post(':key')
  @RequireRoles('operator')
  async emit(@Param('key') key: string, @Body() body: { pad: number }) {
    const n = ++this.n;
    const ev = catalogue.create(Padded, {
      id: deriveId('padded', topic, key, n),
      key,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'test',
      payload: { key, n, pad: 'p'.repeat(body.pad) },
    });
    await this.ds.transaction((m) =>
      appendToOutbox(m, catalogue, [ev], { maxMessageBytes: this.runtime.relay.maxMessageBytes }),
    );
    this.runtime.relay.nudge();
    return { eventId: ev.id };
  }
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/outbox.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, CSMS_API_KEY: admin.key },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a service whose topic refuses a record: parked, visible (API, metrics, health), re-sent after the fix (startService, real Kafka and PostgreSQL)', () => {
  const db = uniqueName('csms_test_kit_parked').replace(/-/g, '_');
  let svc: RunningService;
  let collector: TopicCollector;
  const kafka = testKafka();

  beforeAll(async () => {
    // the topic exists with a small limit: the service's configured limit (1 MiB) is above it, so the broker refuses
    await createTestTopics(kafka, [topic], 3, { maxMessageBytes: TOPIC_LIMIT });
    svc = await startService(
      {
        name: 'kit-parked',
        title: 'parked outbox test',
        description: 'test',
        databaseUrl: testDatabaseUrl(db),
        migrations: messagingMigrations,
        http: { port: 0, host: '127.0.0.1' },
        apiKeys: [admin.entry, operator.entry].join(','),
        kafka: { brokers: TEST_KAFKA_BROKERS.join(','), partitions: 3 },
        topics: [{ name: topic, description: 'test', key: 'k', retentionMs: -1, cleanupPolicy: 'delete' }],
        consumers: () => [],
        controllers: [PaddedController],
        providers: ({ runtime }) => [{ provide: RUNTIME, useValue: runtime }],
      },
      silentLogger(),
    );
    collector = await new TopicCollector(kafka, [topic]).start();
  });

  afterAll(async () => {
    await collector?.close();
    await svc?.stop();
    await dropTestDatabases([db]);
  });

  const call = async (p: string, init: { method?: string; key?: string; body?: unknown } = {}) => {
    const r = await fetch(`${svc.url}${p}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    const text = await r.text();
    return {
      status: r.status,
      body: (r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as Record<string, unknown> & {
        items?: Array<Record<string, unknown>>;
      },
    };
  };
  const emit = async (key: string, pad = 0) =>
    (await call(`/api/v1/padded/${key}`, { method: 'POST', key: operator.key, body: { pad } })).body.eventId as string;
  const onTopic = (key: string) => collector.records.filter((r) => r.key === key).map((r) => r.headers['event-id']);
  const metric = async (name: string) => {
    const text = (await call('/metrics')).body as unknown as string;
    return text.split('\n').filter((l) => l.startsWith(name));
  };

  it('parks the refused record and keeps publishing; shows it; re-sends it once after the fix (API and CLI)', async () => {
    const a1 = await emit('a');
    const big1 = await emit('big', 20_000);
    const held = await emit('big');
    const a2 = await emit('a');
    await waitFor(() => new Set(onTopic('a')).size === 2, { what: 'the good records published' });
    const list = await waitFor(
      async () => {
        const r = await call('/api/v1/outbox/parked', { key: admin.key });
        return r.body.items!.length === 1 && r.body;
      },
      { what: 'the refused record in the parked list' },
    );
    expect([...new Set(onTopic('a'))]).toEqual([a1, a2]);
    expect(onTopic('big')).toEqual([]);
    expect(list.items![0]).toMatchObject({
      eventId: big1,
      topic,
      key: 'big',
      state: 'parked',
      error: { code: 'MESSAGE_TOO_LARGE' },
      resends: 0,
    });
    expect(list.items![0].value).toBeUndefined();

    // API: admin only, the record with its value, problems for a bad or unknown id
    expect((await call('/api/v1/outbox/parked', { key: operator.key })).status).toBe(403);
    const one = await call(`/api/v1/outbox/parked/${big1}`, { key: admin.key });
    expect(one.status).toBe(200);
    expect(JSON.parse(one.body.value as string)).toMatchObject({ id: big1, type: 'test.padded' });
    expect(await call('/api/v1/outbox/parked/not-a-uuid', { key: admin.key })).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED', field: 'path/eventId' },
    });
    expect(await call(`/api/v1/outbox/parked/${deriveId('nothing')}`, { key: admin.key })).toMatchObject({
      status: 404,
      body: { code: 'PARKED_RECORD_NOT_FOUND' },
    });

    // metrics and readiness: degraded, still 200
    expect(await metric('csms_outbox_parked{')).toEqual(['csms_outbox_parked{service="kit-parked"} 1']);
    expect(await metric('csms_outbox_held{')).toEqual(['csms_outbox_held{service="kit-parked"} 1']);
    expect(await metric('csms_outbox_parks_total{')).toEqual([
      `csms_outbox_parks_total{topic="${topic}",code="MESSAGE_TOO_LARGE",service="kit-parked"} 1`,
    ]);
    const ready = await call('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'degraded',
      checks: { outbox: { ok: true, degraded: true, detail: { parked: 1, held: 1 } } },
    });

    // the fix: the topic accepts bigger records; then re-send through the CLI, then again through the API (one effect)
    const adminClient = kafka.admin();
    await adminClient.connect();
    await adminClient.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [{ name: 'max.message.bytes', value: String(1024 * 1024) }],
        },
      ],
    });
    await adminClient.disconnect();
    const listed = await runCli(['list', '--url', svc.url, '--state', 'parked']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toContain(`${big1}  parked  ${topic}  big  test.padded`);
    const first = await runCli(['resend', big1, '--url', svc.url]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(`resent ${big1}`);
    expect(await call(`/api/v1/outbox/parked/${big1}/resend`, { method: 'POST', key: admin.key })).toMatchObject({
      status: 200,
      body: { resent: false, record: { state: 'resent', resends: 1 } },
    });

    await waitFor(() => onTopic('big').length === 2, { what: 'the re-sent record and the one held behind it' });
    expect(onTopic('big')).toEqual([big1, held]);
    await waitFor(async () => (await call('/health/ready')).body.status === 'ok', { what: 'ready ok again' });
    expect(await metric('csms_outbox_parked{')).toEqual(['csms_outbox_parked{service="kit-parked"} 0']);
    expect((await runCli(['show', big1, '--url', svc.url])).stdout).toContain('"state": "resent"');
  });

  it('refuses a request whose event would be above the record limit before storing anything: 413 RECORD_TOO_LARGE with the limit', async () => {
    const r = await call('/api/v1/padded/huge', { method: 'POST', key: operator.key, body: { pad: 1024 * 1024 } });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: 'RECORD_TOO_LARGE', limit: 1024 * 1024, status: 413 });
    expect(r.body.size as number).toBeGreaterThan(1024 * 1024);
    expect(await svc.dataSource.query(`select 1 from outbox where key = 'huge'`)).toEqual([]);
  });
});
