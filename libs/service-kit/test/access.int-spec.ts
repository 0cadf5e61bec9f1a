import { createHash } from 'node:crypto';
import { Controller, Get, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { silentLogger } from '@csms/platform';
import { ServiceKitModule, createHttpService, newApiKey, parseApiKeys, type AccessOptions } from '@csms/service-kit';

const admin = newApiKey('root', 'admin');
const operator = newApiKey('ops', 'operator');
const METRICS_TOKEN = 'prometheus-scrape-token-0123456789';

@Controller('things')
class ThingsController {
  @Get()
  list() {
    return { items: [] };
  }
}

async function appWith(access: AccessOptions | undefined): Promise<{ app: INestApplication; base: string }> {
  @Module({
    imports: [
      ServiceKitModule.forRoot({
        service: 'access-test',
        apiKeys: parseApiKeys([admin.entry, operator.entry].join(',')),
        logger: silentLogger(),
        access,
      }),
    ],
    controllers: [ThingsController],
  })
  class TestModule {}
  const app = await createHttpService(TestModule, {
    service: 'access-test',
    title: 'Access test',
    logger: silentLogger(),
  });
  await app.listen(0, '127.0.0.1');
  return { app, base: await app.getUrl() };
}

const get = async (url: string, key?: string) => {
  const r = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
};

describe('access to /metrics and the API description', () => {
  describe('by default (a service on 127.0.0.1): open', () => {
    let t: { app: INestApplication; base: string };
    beforeAll(async () => (t = await appWith(undefined)));
    afterAll(() => t.app.close());

    it('serves /metrics, /openapi.json and /docs without a key', async () => {
      expect((await get(`${t.base}/metrics`)).status).toBe(200);
      expect((await get(`${t.base}/openapi.json`)).status).toBe(200);
      expect((await get(`${t.base}/docs`)).status).toBe(200);
    });
  });

  describe('with METRICS_TOKEN_SHA256 and DOCS_REQUIRE_KEY', () => {
    let t: { app: INestApplication; base: string };
    beforeAll(
      async () =>
        (t = await appWith({
          metricsTokenSha256: createHash('sha256').update(METRICS_TOKEN).digest('hex'),
          docsRequireKey: true,
        })),
    );
    afterAll(() => t.app.close());

    it('/metrics needs the token (or an admin key): 401 problem otherwise, the query string not echoed', async () => {
      const none = await get(`${t.base}/metrics?access_token=leak-me`);
      expect(none.status).toBe(401);
      expect(none.type).toContain('application/problem+json');
      expect(JSON.parse(none.body)).toMatchObject({
        code: 'UNAUTHENTICATED',
        field: 'Authorization',
        instance: '/metrics',
      });
      expect(none.body).not.toContain('leak-me');
      expect((await get(`${t.base}/metrics`, 'not-the-token')).status).toBe(401);
      expect((await get(`${t.base}/metrics`, operator.key)).status).toBe(401);
      const ok = await get(`${t.base}/metrics`, METRICS_TOKEN);
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('process_cpu_user_seconds_total');
      expect((await get(`${t.base}/metrics`, admin.key)).status).toBe(200);
    });

    it('/docs and /openapi.json need a valid API key of any role', async () => {
      for (const path of ['/openapi.json', '/docs']) {
        const none = await get(`${t.base}${path}`);
        expect([path, none.status]).toEqual([path, 401]);
        expect(JSON.parse(none.body)).toMatchObject({ code: 'UNAUTHENTICATED', field: 'Authorization' });
        expect((await get(`${t.base}${path}`, 'garbage')).status).toBe(401);
        expect((await get(`${t.base}${path}`, operator.key)).status).toBe(200);
      }
    });

    it('leaves health open (load balancers and orchestrators probe it without a credential)', async () => {
      expect((await get(`${t.base}/health/live`)).status).toBe(200);
    });
  });
});
