import { gzipSync } from 'node:zlib';
import { Writable } from 'node:stream';
import { Body, Controller, Get, Module, Param, Post, Query } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { Type } from '@sinclair/typebox';
import { DEFAULT_MAX_MESSAGE_BYTES, httpBodyLimit } from '@csms/messaging';
import pino from 'pino';
import { silentLogger } from '@csms/platform';
import {
  Actor,
  ApiProblem,
  HealthRegistry,
  type ActorRef,
  MAX_JSON_DEPTH,
  RequireRoles,
  SchemaPipe,
  ServiceKitModule,
  HTTP_KEEP_ALIVE_MS,
  createHttpService,
  encodeCursor,
  keysetPage,
  newApiKey,
  parseApiKeys,
  validateInput,
} from '@csms/service-kit';

const finance = newApiKey('finance-team', 'finance');
const operator = newApiKey('ops', 'operator');
const admin = newApiKey('root', 'admin');

const Thing = Type.Object(
  { name: Type.String({ minLength: 1 }), amount: Type.String({ pattern: '^\\d+(\\.\\d+)?$' }) },
  { additionalProperties: false },
);

@Controller('things')
class ThingsController {
  @Get()
  list() {
    return { items: [] };
  }

  @RequireRoles('finance')
  @Post()
  create(@Body(new SchemaPipe(Thing)) body: { name: string; amount: string }) {
    if (body.name === 'taken')
      throw new ApiProblem(409, 'THING_EXISTS', 'a thing with that name exists', { field: '/name' });
    return { ok: true, ...body };
  }

  @RequireRoles('operator', 'finance')
  @Post('written')
  written(@Actor() by: ActorRef) {
    return { by };
  }

  @Get('boom')
  boom() {
    throw new Error('secret internal detail');
  }

  @Get('db-refused')
  dbRefused() {
    // what a PostgreSQL driver error looks like when a value slips past the edge (22P02 invalid_text_representation)
    throw Object.assign(new Error('invalid input syntax for type uuid: "x"'), { code: '22P02' });
  }

  @Get('echo/:id')
  echo(@Param('id') id: string, @Query() query: Record<string, string>) {
    return { id, query };
  }

  @Post('echo')
  echoBody(@Body() body: unknown) {
    return { body };
  }

  @Get('since')
  since(@Query() query: unknown) {
    return validateInput(Type.Object({ from: Type.String({ format: 'date-time' }) }), query, 'query');
  }

  @Get('page')
  async page(@Query('cursor') cursor?: string) {
    // the cursor is checked against the key's column types before any SQL runs
    return keysetPage(
      { query: async () => [] },
      {
        select: 'select 1',
        filters: [],
        key: [
          ['started_at', 'timestamptz'],
          ['id', 'uuid'],
          ['n', 'integer'],
        ],
        limit: 10,
        cursor,
        keyOf: () => [],
      },
    );
  }
}

/** log lines of the app under test, parsed */
const logLines: Array<Record<string, unknown>> = [];
const captured = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean))
        logLines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  }),
);

let dbUp = true;

@Module({
  imports: [
    ServiceKitModule.forRoot({
      service: 'kit-test',
      apiKeys: parseApiKeys([finance.entry, operator.entry, admin.entry].join(',')),
      logger: silentLogger(),
    }),
  ],
  controllers: [ThingsController],
})
class TestModule {}

describe('service kit: API keys with roles, problem details, health, metrics, OpenAPI', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    app = await createHttpService(TestModule, {
      service: 'kit-test',
      title: 'Kit test',
      logger: captured,
      // the echo also reads CSV bodies (up to 64 bytes)
      textBodies: [{ path: '/api/v1/things/echo', types: ['text/csv'], limitBytes: 64 }],
    });
    app.get(HealthRegistry).register('database', async () => dbUp);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
  });

  // a loose view of JSON bodies for assertions
  type Body = Record<string, unknown> & {
    code?: string;
    errors?: Array<{ field: string }>;
    paths?: Record<string, unknown>;
    components?: { securitySchemes: Record<string, unknown> };
  };
  const json = async (r: Response): Promise<Body> => (await r.json()) as Body;
  const call = (path: string, init: RequestInit & { key?: string } = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: {
        ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.headers ?? {}),
      },
    });

  it('refuses a request without a key with 401 problem+json', async () => {
    const r = await call('/api/v1/things');
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(r)).toMatchObject({
      status: 401,
      code: 'UNAUTHENTICATED',
      field: 'Authorization',
      instance: '/api/v1/things',
      type: 'urn:csms:problem:unauthenticated',
    });
  });

  it('refuses an unknown key with 401', async () => {
    const r = await call('/api/v1/things', { key: 'csms_admin_not-a-real-key' });
    expect(r.status).toBe(401);
  });

  it('refuses a key of the wrong role with 403', async () => {
    const r = await call('/api/v1/things', {
      method: 'POST',
      key: operator.key,
      body: JSON.stringify({ name: 'a', amount: '1.00' }),
    });
    expect(r.status).toBe(403);
    expect((await json(r)).code).toBe('FORBIDDEN');
  });

  it('lets the right role, and admin, through', async () => {
    expect((await call('/api/v1/things', { key: operator.key })).status).toBe(200);
    const r = await call('/api/v1/things', {
      method: 'POST',
      key: finance.key,
      body: JSON.stringify({ name: 'a', amount: '1.00' }),
    });
    expect(r.status).toBe(201);
    expect(await json(r)).toEqual({ ok: true, name: 'a', amount: '1.00' });
    expect(
      (
        await call('/api/v1/things', {
          method: 'POST',
          key: admin.key,
          body: JSON.stringify({ name: 'b', amount: '2' }),
        })
      ).status,
    ).toBe(201);
  });

  it("@Actor() gives the key's name and role, never the key or its hash", async () => {
    const r = await call('/api/v1/things/written', { method: 'POST', key: operator.key });
    expect(r.status).toBe(201);
    const body = await json(r);
    expect(body).toEqual({ by: { keyName: 'ops', role: 'operator' } });
    expect(JSON.stringify(body)).not.toContain(operator.entry.split(':')[2]);
    expect(await json(await call('/api/v1/things/written', { method: 'POST', key: admin.key }))).toEqual({
      by: { keyName: 'root', role: 'admin' },
    });
  });

  it('rejects invalid input with 400 and every field at fault', async () => {
    const r = await call('/api/v1/things', {
      method: 'POST',
      key: finance.key,
      body: JSON.stringify({ name: '', amount: 'ten', extra: 1 }),
    });
    expect(r.status).toBe(400);
    const p = await json(r);
    expect(p.code).toBe('VALIDATION_FAILED');
    expect(p.errors!.map((e: { field: string }) => e.field).sort()).toEqual(['body/amount', 'body/extra', 'body/name']);
  });

  it('turns a deliberate ApiProblem into its status and code', async () => {
    const r = await call('/api/v1/things', {
      method: 'POST',
      key: finance.key,
      body: JSON.stringify({ name: 'taken', amount: '1' }),
    });
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

  it('keeps idle connections longer than a load balancer does (the client closes them, no ECONNRESET race)', async () => {
    const r = await call('/health/live');
    expect(r.headers.get('keep-alive')).toBe(`timeout=${HTTP_KEEP_ALIVE_MS / 1000}`);
    expect(HTTP_KEEP_ALIVE_MS).toBeGreaterThan(60_000);
  });

  it('ready stays 200 with status degraded while a check says degraded (the service works; the detail says what needs an operator)', async () => {
    let parked = 1;
    app.get(HealthRegistry).register('outbox', async () => ({ ok: true, degraded: parked > 0, detail: { parked } }));
    const r = await call('/health/ready');
    expect(r.status).toBe(200);
    expect(await json(r)).toEqual({
      status: 'degraded',
      checks: { database: { ok: true }, outbox: { ok: true, degraded: true, detail: { parked: 1 } } },
    });
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
    expect(await json(r)).toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      limit,
      size: Buffer.byteLength(over),
      type: 'urn:csms:problem:payload-too-large',
      instance: '/api/v1/things',
    });
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

  it('reads a text body only where a route names its type (textBodies): as a string, UTF-8, within its limit', async () => {
    const csv = (path: string, body: string, type = 'text/csv') =>
      call(path, { method: 'POST', key: finance.key, body, headers: { 'content-type': type } });
    const ok = await csv('/api/v1/things/echo', 'a,b\r\n1,2\r\n');
    expect([ok.status, await json(ok)]).toEqual([201, { body: 'a,b\r\n1,2\r\n' }]);
    // as the router matches the route: any case, a trailing slash
    const alike = await csv('/API/v1/Things/echo/', 'a,b', 'text/csv; charset=UTF-8');
    expect([alike.status, await json(alike)]).toEqual([201, { body: 'a,b' }]);
    const refused = async (r: Response) => {
      const b = await json(r);
      return [r.status, b.code, b.field];
    };
    expect(await refused(await csv('/api/v1/things/echo', 'a,b', 'text/csv; charset=iso-8859-1'))).toEqual([
      415,
      'UNSUPPORTED_CHARSET',
      'Content-Type',
    ]);
    expect(await refused(await csv('/api/v1/things/echo', 'x'.repeat(65)))).toEqual([413, 'PAYLOAD_TOO_LARGE', 'body']);
    expect(await refused(await csv('/api/v1/things/echo', 'a\u0000b'))).toEqual([400, 'INVALID_CHARACTERS', 'body']);
    expect(await refused(await csv('/api/v1/things/echo', 'a,b', 'text/plain'))).toEqual([
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'Content-Type',
    ]);
    // other routes stay JSON only
    expect(await refused(await csv('/api/v1/things', 'a,b'))).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type']);
    // and the API description says so
    const doc = (await json(await call('/openapi.json'))) as {
      paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: { type: string } }> } } }>;
    };
    expect(doc.paths['/api/v1/things/echo'].post!.requestBody!.content['text/csv'].schema.type).toBe('string');
    expect(doc.paths['/api/v1/things'].post!.requestBody?.content['text/csv']).toBeUndefined();
  });

  it('echoes a correlation id', async () => {
    const r = await call('/health/live', { headers: { 'x-correlation-id': 'abc-123' } });
    expect(r.headers.get('x-correlation-id')).toBe('abc-123');
  });

  describe("edge rules: every bad request is the client's error (4xx problem), never a 500", () => {
    const raw = (path: string, init: RequestInit & { key?: string } = {}) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { ...(init.key ? { authorization: `Bearer ${init.key}` } : {}), ...(init.headers ?? {}) },
      });
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const errorsLogged = () => logLines.filter((l) => (l.level as number) >= 50);

    // [what, status, code, field, request]
    const cases: Array<[string, number, string, string | undefined, () => Promise<Response>]> = [
      [
        'a body over the limit, without a key',
        413,
        'PAYLOAD_TOO_LARGE',
        'body',
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: `"${'x'.repeat(1_100_000)}"`,
          }),
      ],
      [
        'charset=iso-8859-1',
        415,
        'UNSUPPORTED_CHARSET',
        'Content-Type',
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            key: admin.key,
            headers: { 'content-type': 'application/json; charset=iso-8859-1' },
            body: '{}',
          }),
      ],
      [
        'Content-Encoding: compress',
        415,
        'UNSUPPORTED_ENCODING',
        'Content-Encoding',
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            key: admin.key,
            headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
            body: '{}',
          }),
      ],
      [
        'a gzip body that does not inflate',
        400,
        'INVALID_JSON',
        'body',
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            key: admin.key,
            headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
            body: 'not gzip at all',
          }),
      ],
      [
        'a body that is not JSON',
        400,
        'INVALID_JSON',
        'body',
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            key: admin.key,
            headers: { 'content-type': 'application/json' },
            body: '{"a":',
          }),
      ],
      [
        'a body of another media type',
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'Content-Type',
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            key: admin.key,
            headers: { 'content-type': 'text/plain' },
            body: 'hello',
          }),
      ],
      [
        `JSON nested ${MAX_JSON_DEPTH + 1} levels`,
        400,
        'JSON_TOO_DEEP',
        `body${'/0'.repeat(MAX_JSON_DEPTH)}`,
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            key: admin.key,
            headers: { 'content-type': 'application/json' },
            body: nested(MAX_JSON_DEPTH + 1),
          }),
      ],
      [
        'JSON nested 10,000 levels',
        400,
        'JSON_TOO_DEEP',
        `body${'/0'.repeat(MAX_JSON_DEPTH)}`,
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            key: admin.key,
            headers: { 'content-type': 'application/json' },
            body: nested(10_000),
          }),
      ],
      [
        'U+0000 in a JSON string',
        400,
        'INVALID_CHARACTERS',
        'body/a/0/b~1c',
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            key: admin.key,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ a: [{ 'b/c': 'x\u0000y' }] }),
          }),
      ],
      [
        'a lone surrogate in a JSON name',
        400,
        'INVALID_CHARACTERS',
        'body/\ud800',
        () =>
          raw('/api/v1/things/echo', {
            method: 'POST',
            key: admin.key,
            headers: { 'content-type': 'application/json' },
            body: '{"\\ud800":1}',
          }),
      ],
      [
        'U+0000 in a path parameter',
        400,
        'INVALID_CHARACTERS',
        'path/id',
        () => raw('/api/v1/things/echo/a%00b', { key: admin.key }),
      ],
      [
        'U+0000 in a query parameter',
        400,
        'INVALID_CHARACTERS',
        'query/name',
        () => raw('/api/v1/things/echo/a?name=x%00', { key: admin.key }),
      ],
      [
        'a path that is not valid percent-encoding',
        400,
        'BAD_REQUEST',
        undefined,
        () => raw('/api/v1/things/echo/%E0%A4%A', { key: admin.key }),
      ],
      [
        'a database refusal of a value (last line of defence)',
        400,
        'INVALID_VALUE',
        undefined,
        () => raw('/api/v1/things/db-refused', { key: admin.key }),
      ],
      [
        'year 0000',
        400,
        'VALIDATION_FAILED',
        'query/from',
        () => raw('/api/v1/things/since?from=0000-01-01T00:00:00Z', { key: admin.key }),
      ],
      [
        'offset +23:59',
        400,
        'VALIDATION_FAILED',
        'query/from',
        () => raw('/api/v1/things/since?from=2026-01-01T00:00:00%2B23:59', { key: admin.key }),
      ],
      [
        'a leap second',
        400,
        'VALIDATION_FAILED',
        'query/from',
        () => raw('/api/v1/things/since?from=2026-12-31T23:59:60Z', { key: admin.key }),
      ],
      [
        'a tampered cursor',
        400,
        'INVALID_CURSOR',
        'query/cursor',
        () => raw(`/api/v1/things/page?cursor=${encodeCursor(['x', 'y', 'z'])}`, { key: admin.key }),
      ],
      [
        'a cursor of the wrong column types',
        400,
        'INVALID_CURSOR',
        'query/cursor',
        () =>
          raw(`/api/v1/things/page?cursor=${encodeCursor(['2026-01-01T00:00:00Z', '-'.repeat(36), '1'])}`, {
            key: admin.key,
          }),
      ],
    ];

    it.each(cases)('%s: %s %s (field %s)', async (_what, status, code, field, request) => {
      const before = errorsLogged().length;
      const r = await request();
      expect(r.status).toBe(status);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const p = await json(r);
      expect(p).toMatchObject({ status, code });
      if (field === undefined) expect(p.field).toBeUndefined();
      else expect(p.field).toBe(field);
      expect(p.requestId).toBe(r.headers.get('x-request-id'));
      expect(errorsLogged().length).toBe(before);
    });

    it("takes a cursor whose parts fit the key's column types", async () => {
      const r = await raw(
        `/api/v1/things/page?cursor=${encodeCursor(['2026-01-01T00:00:00.000Z', '7f3c1a52-2b1e-4c56-9b1a-0d2f5e6a7b8c', '12'])}`,
        { key: admin.key },
      );
      expect(r.status).toBe(200);
    });

    it('takes an empty POST without a content type', async () => {
      const r = await raw('/api/v1/things/echo', { method: 'POST', key: admin.key });
      expect(r.status).toBe(201);
    });

    it('accepts JSON nested exactly MAX_JSON_DEPTH levels', async () => {
      const r = await raw('/api/v1/things/echo', {
        method: 'POST',
        key: admin.key,
        headers: { 'content-type': 'application/json' },
        body: nested(MAX_JSON_DEPTH),
      });
      expect(r.status).toBe(201);
    });

    it('reads a gzip body that inflates', async () => {
      const r = await raw('/api/v1/things/echo', {
        method: 'POST',
        key: admin.key,
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync('{"a":"é"}'),
      });
      expect(r.status).toBe(201);
      expect(await json(r)).toEqual({ body: { a: 'é' } });
    });

    it('takes a well-formed x-request-id, makes one otherwise, and logs it with every refusal and error', async () => {
      const given = await raw('/api/v1/things', { headers: { 'x-request-id': 'req-42.a:b' } });
      expect(given.headers.get('x-request-id')).toBe('req-42.a:b');
      expect((await json(given)).requestId).toBe('req-42.a:b');
      expect(logLines.find((l) => l.requestId === 'req-42.a:b')).toMatchObject({ level: 20, code: 'UNAUTHENTICATED' });
      expect(logLines.find((l) => l.requestId === 'req-42.a:b')!.err).toBeUndefined();
      const made = await raw('/api/v1/things', { headers: { 'x-request-id': 'bad id with spaces' } });
      expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const boom = await raw('/api/v1/things/boom', { key: admin.key, headers: { 'x-request-id': 'boom-1' } });
      expect(boom.status).toBe(500);
      expect((await json(boom)).requestId).toBe('boom-1');
      const line = logLines.find((l) => l.requestId === 'boom-1')!;
      expect(line.level).toBe(50);
      expect((line.err as { stack: string }).stack).toContain('secret internal detail');
    });

    it('never echoes the query string in instance', async () => {
      const r = await raw('/api/v1/things?access_token=secret-token');
      expect(r.status).toBe(401);
      const text = await r.text();
      expect(JSON.parse(text).instance).toBe('/api/v1/things');
      expect(text).not.toContain('secret-token');
    });
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
