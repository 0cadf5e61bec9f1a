import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { Type } from '@sinclair/typebox';
import { DEFAULT_MAX_MESSAGE_BYTES, httpBodyLimit } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { ApiProblem, HealthRegistry, RequireRoles, SchemaPipe, ServiceKitModule, createHttpService, newApiKey, parseApiKeys } from '@csms/service-kit';

const finance = newApiKey('finance-team', 'finance');
const operator = newApiKey('ops', 'operator');
const admin = newApiKey('root', 'admin');

const Thing = Type.Object({ name: Type.String({ minLength: 1 }), amount: Type.String({ pattern: '^\\d+(\\.\\d+)?$' }) }, { additionalProperties: false });

@Controller('things')
class ThingsController {
  @Get()
  list() {
    return { items: [] };
  }

  @RequireRoles('finance')
  @Post()
  create(@Body(new SchemaPipe(Thing)) body: { name: string; amount: string }) {
    if (body.name === 'taken') throw new ApiProblem(409, 'THING_EXISTS', 'a thing with that name exists', { field: '/name' });
    return { ok: true, ...body };
  }

  @Get('boom')
  boom() {
    throw new Error('secret internal detail');
  }
}

let dbUp = true;

@Module({
  imports: [ServiceKitModule.forRoot({ service: 'kit-test', apiKeys: parseApiKeys([finance.entry, operator.entry, admin.entry].join(',')), logger: silentLogger() })],
  controllers: [ThingsController],
})
class TestModule {}

describe('service kit: API keys with roles, problem details, health, metrics, OpenAPI', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    app = await createHttpService(TestModule, { service: 'kit-test', title: 'Kit test', logger: silentLogger() });
    app.get(HealthRegistry).register('database', async () => dbUp);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
  });

  // a loose view of JSON bodies for assertions
  type Body = Record<string, unknown> & { code?: string; errors?: Array<{ field: string }>; paths?: Record<string, unknown>; components?: { securitySchemes: Record<string, unknown> } };
  const json = async (r: Response): Promise<Body> => (await r.json()) as Body;
  const call = (path: string, init: RequestInit & { key?: string } = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: { ...(init.key ? { authorization: `Bearer ${init.key}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
    });

  it('refuses a request without a key with 401 problem+json', async () => {
    const r = await call('/api/v1/things');
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(r)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', field: 'Authorization', instance: '/api/v1/things', type: 'urn:csms:problem:unauthenticated' });
  });

  it('refuses an unknown key with 401', async () => {
    const r = await call('/api/v1/things', { key: 'csms_admin_not-a-real-key' });
    expect(r.status).toBe(401);
  });

  it('refuses a key of the wrong role with 403', async () => {
    const r = await call('/api/v1/things', { method: 'POST', key: operator.key, body: JSON.stringify({ name: 'a', amount: '1.00' }) });
    expect(r.status).toBe(403);
    expect((await json(r)).code).toBe('FORBIDDEN');
  });

  it('lets the right role, and admin, through', async () => {
    expect((await call('/api/v1/things', { key: operator.key })).status).toBe(200);
    const r = await call('/api/v1/things', { method: 'POST', key: finance.key, body: JSON.stringify({ name: 'a', amount: '1.00' }) });
    expect(r.status).toBe(201);
    expect(await json(r)).toEqual({ ok: true, name: 'a', amount: '1.00' });
    expect((await call('/api/v1/things', { method: 'POST', key: admin.key, body: JSON.stringify({ name: 'b', amount: '2' }) })).status).toBe(201);
  });

  it('rejects invalid input with 400 and every field at fault', async () => {
    const r = await call('/api/v1/things', { method: 'POST', key: finance.key, body: JSON.stringify({ name: '', amount: 'ten', extra: 1 }) });
    expect(r.status).toBe(400);
    const p = await json(r);
    expect(p.code).toBe('VALIDATION_FAILED');
    expect(p.errors!.map((e: { field: string }) => e.field).sort()).toEqual(['body/amount', 'body/extra', 'body/name']);
  });

  it('turns a deliberate ApiProblem into its status and code', async () => {
    const r = await call('/api/v1/things', { method: 'POST', key: finance.key, body: JSON.stringify({ name: 'taken', amount: '1' }) });
    expect(r.status).toBe(409);
    expect(await json(r)).toMatchObject({ code: 'THING_EXISTS', field: '/name', title: 'Conflict' });
  });

  it('hides internal errors behind a 500 problem', async () => {
    const r = await call('/api/v1/things/boom', { key: admin.key });
    expect(r.status).toBe(500);
    const body = await r.text();
    expect(JSON.parse(body)).toMatchObject({ code: 'INTERNAL', status: 500 });
    expect(body).not.toContain('secret internal detail');
  });

  it('answers unknown routes with a 404 problem', async () => {
    const r = await call('/api/v1/nothing-here', { key: admin.key });
    expect(r.status).toBe(404);
    expect((await json(r)).code).toBe('NOT_FOUND');
  });

  it('serves health without a key; ready follows the registered checks', async () => {
    expect((await call('/health/live')).status).toBe(200);
    expect((await call('/health/ready')).status).toBe(200);
    dbUp = false;
    const r = await call('/health/ready');
    expect(r.status).toBe(503);
    expect(await json(r)).toEqual({ status: 'unavailable', checks: { database: { ok: false } } });
    dbUp = true;
  });

  it('ready stays 200 with status degraded while a check says degraded (the service works; the detail says what needs an operator)', async () => {
    let parked = 1;
    app.get(HealthRegistry).register('outbox', async () => ({ ok: true, degraded: parked > 0, detail: { parked } }));
    const r = await call('/health/ready');
    expect(r.status).toBe(200);
    expect(await json(r)).toEqual({ status: 'degraded', checks: { database: { ok: true }, outbox: { ok: true, degraded: true, detail: { parked: 1 } } } });
    parked = 0;
    expect(await json(await call('/health/ready'))).toMatchObject({ status: 'ok' });
    dbUp = false;
    parked = 1;
    const down = await call('/health/ready');
    expect(down.status).toBe(503);
    expect((await json(down)).status).toBe('unavailable');
    dbUp = true;
  });

  it('refuses a body above the limit derived from the record limit with a 413 problem that says the limit', async () => {
    const limit = httpBodyLimit(DEFAULT_MAX_MESSAGE_BYTES);
    const over = JSON.stringify({ name: 'x'.repeat(limit), amount: '1' });
    const r = await call('/api/v1/things', { method: 'POST', key: finance.key, body: over });
    expect(r.status).toBe(413);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(r)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', limit, size: Buffer.byteLength(over), type: 'urn:csms:problem:payload-too-large', instance: '/api/v1/things' });
    // at most the limit: accepted
    const under = JSON.stringify({ name: 'x'.repeat(limit - 40), amount: '1' });
    expect(Buffer.byteLength(under)).toBeLessThanOrEqual(limit);
    expect((await call('/api/v1/things', { method: 'POST', key: finance.key, body: under })).status).toBe(201);
  });

  it('serves Prometheus metrics and the OpenAPI description', async () => {
    const m = await call('/metrics');
    expect(m.status).toBe(200);
    expect(await m.text()).toMatch(/process_cpu_user_seconds_total\{service="kit-test"\}/);
    const o = await call('/openapi.json');
    expect(o.status).toBe(200);
    const doc = await json(o);
    expect(Object.keys(doc.paths!)).toEqual(expect.arrayContaining(['/api/v1/things']));
    expect(doc.components!.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect((await call('/docs')).status).toBe(200);
  });

  it('echoes a correlation id', async () => {
    const r = await call('/health/live', { headers: { 'x-correlation-id': 'abc-123' } });
    expect(r.headers.get('x-correlation-id')).toBe('abc-123');
  });
});

describe('parseApiKeys', () => {
  it('reads name:role:sha256 entries and never accepts an unknown role or a raw key', () => {
    expect(parseApiKeys(`${finance.entry}, ${admin.entry}`).map((e) => e.role)).toEqual(['finance', 'admin']);
    expect(parseApiKeys('')).toEqual([]);
    expect(() => parseApiKeys('x:root:' + 'a'.repeat(64))).toThrow(/unknown role root/);
    expect(() => parseApiKeys('x:admin:plaintext-key')).toThrow(/64 lower-case hex/);
    expect(() => parseApiKeys('x:admin')).toThrow(/name:role:sha256hex/);
  });
});
