import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startConsoleServer } from './server';

/** The console's server with a stand-in service that echoes what reached it. */
describe('console server: the built app, and /api/<service>/… forwarded as it came', () => {
  let dir: string;
  let upstream: Server;
  let console_: { server: Server; url: string };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'console-static-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        res.writeHead(req.headers.authorization ? 200 : 401, {
          'content-type': 'application/json',
          'x-request-id': 'r1',
        });
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            auth: req.headers.authorization ?? null,
            cookie: req.headers.cookie ?? null,
            body,
          }),
        );
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const port = (upstream.address() as { port: number }).port;
    console_ = await startConsoleServer({
      staticDir: dir,
      port: 0,
      upstreams: { tariffs: `http://127.0.0.1:${port}`, reporting: 'http://127.0.0.1:1' },
    });
  });
  afterAll(async () => {
    await new Promise((r) => console_.server.close(r));
    await new Promise((r) => upstream.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards method, path below the prefix, query, body and the Authorization header; not cookies', async () => {
    const r = await fetch(`${console_.url}/api/tariffs/api/v1/tariffs/T1?effective_from=x`, {
      method: 'PUT',
      headers: { authorization: 'Bearer k', cookie: 'a=b', 'content-type': 'application/json' },
      body: '{"id":"T1"}',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('r1');
    expect(await r.json()).toEqual({
      method: 'PUT',
      url: '/api/v1/tariffs/T1?effective_from=x',
      auth: 'Bearer k',
      cookie: null,
      body: '{"id":"T1"}',
    });
  });
  it('adds no credentials of its own: without the key the service says 401', async () => {
    expect((await fetch(`${console_.url}/api/tariffs/api/v1/tariffs`)).status).toBe(401);
  });
  it('answers a problem for an unknown service (also a name of Object.prototype) and a service that is down', async () => {
    for (const name of ['nope', 'constructor']) {
      const r = await fetch(`${console_.url}/api/${name}/x`);
      expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([404, 'UNKNOWN_SERVICE']);
    }
    const down = await fetch(`${console_.url}/api/reporting/api/v1/alarms`);
    expect([down.status, ((await down.json()) as { code: string }).code]).toEqual([502, 'UPSTREAM_UNREACHABLE']);
  });
  it('serves files of the build, index.html for the app routes, nothing outside the build', async () => {
    const js = await fetch(`${console_.url}/assets/app.js`);
    expect([js.status, js.headers.get('content-type'), await js.text()]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'console.log(1)',
    ]);
    for (const p of ['/cdrs/CDR1', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2fpackage.json']) {
      const r = await fetch(`${console_.url}${p}`);
      expect([p, r.status, await r.text()]).toEqual([p, 200, '<!doctype html><title>console</title>']);
    }
    expect((await fetch(`${console_.url}/%E0%A4%A`)).status).toBe(400);
    expect((await fetch(`${console_.url}/health/ready`)).status).toBe(200);
  });
});
