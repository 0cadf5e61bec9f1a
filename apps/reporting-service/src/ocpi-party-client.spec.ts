import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OcpiInputError, parsePartyUrlAllowList } from '@csms/ocpi';
import { HttpOcpiPartyClient } from './ocpi-party-client';

/**
 * The HTTP adapter of the credentials handshake against a party served here on loopback: refused unless the
 * allow-list (OCPI_PARTY_URL_ALLOW) names it, and then called; a details URL it gives that points elsewhere
 * private is refused too.
 */
describe('HttpOcpiPartyClient: the SSRF guard', () => {
  let server: Server;
  let port = 0;
  const seen: string[] = [];
  /** where the party says its 2.2.1 details are; `redirect`: its versions answer is a 302 */
  let detailsAt = '';
  let redirect = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const ok = (data: unknown) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ data, status_code: 1000, timestamp: '2026-12-01T00:00:00Z' }));
      if (req.url === '/ocpi/versions') {
        if (redirect) return res.writeHead(302, { location: `http://127.0.0.1:${port}/ocpi/2.2.1` }).end();
        return ok([{ version: '2.2.1', url: detailsAt }]);
      }
      if (req.url === '/ocpi/2.2.1')
        return ok({
          version: '2.2.1',
          endpoints: [{ identifier: 'credentials', role: 'SENDER', url: `http://127.0.0.1:${port}/ocpi/2.2.1/c` }],
        });
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    seen.length = 0;
    detailsAt = `http://127.0.0.1:${port}/ocpi/2.2.1`;
    redirect = false;
  });

  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (e instanceof OcpiInputError) return { statusCode: e.statusCode, field: e.field, message: e.message };
      throw e;
    }
    throw new Error('expected a refusal');
  };

  it('refuses a loopback versions URL without the allow-list, before any request (2001, body/url)', async () => {
    const client = new HttpOcpiPartyClient(2000);
    expect(await failure(client.endpointsOf(`http://127.0.0.1:${port}/ocpi/versions`, 'token-b'))).toMatchObject({
      statusCode: 2001,
      field: 'body/url',
      message: expect.stringMatching(/loopback address \(127\.0\.0\.1\).*OCPI_PARTY_URL_ALLOW/),
    });
    // a host name is checked on what it resolves to, when the connection looks it up
    expect(await failure(client.endpointsOf(`http://localhost:${port}/ocpi/versions`, 'token-b'))).toMatchObject({
      statusCode: 2001,
      field: 'body/url',
      message: expect.stringMatching(/localhost is a loopback address/),
    });
    expect(seen).toEqual([]);
  });

  it('calls a party the allow-list names (by address, by range, by host name)', async () => {
    for (const allow of ['127.0.0.1', '127.0.0.0/8', 'localhost'])
      for (const host of allow === 'localhost' ? ['localhost'] : ['127.0.0.1']) {
        seen.length = 0;
        detailsAt = `http://${host}:${port}/ocpi/2.2.1`;
        const client = new HttpOcpiPartyClient(2000, parsePartyUrlAllowList(allow));
        expect(await client.endpointsOf(`http://${host}:${port}/ocpi/versions`, 'token-b')).toEqual([
          { identifier: 'credentials', role: 'SENDER', url: `http://127.0.0.1:${port}/ocpi/2.2.1/c` },
        ]);
        expect(seen).toEqual(['/ocpi/versions', '/ocpi/2.2.1']);
      }
  });

  it('refuses a details URL the party points at a private or metadata address (3001), and follows no redirect', async () => {
    const client = new HttpOcpiPartyClient(2000, parsePartyUrlAllowList('127.0.0.1'));
    detailsAt = 'http://169.254.169.254/latest/meta-data/';
    expect(await failure(client.endpointsOf(`http://127.0.0.1:${port}/ocpi/versions`, 'token-b'))).toMatchObject({
      statusCode: 3001,
      field: undefined,
      message: expect.stringMatching(/^version details: 169\.254\.169\.254 is a link-local address/),
    });
    detailsAt = 'http://[::1]/ocpi/2.2.1';
    expect((await failure(client.endpointsOf(`http://127.0.0.1:${port}/ocpi/versions`, 'token-b'))).message).toMatch(
      /::1 is a loopback address/,
    );
    expect(seen).toEqual(['/ocpi/versions', '/ocpi/versions']);
    redirect = true;
    expect(await failure(client.endpointsOf(`http://127.0.0.1:${port}/ocpi/versions`, 'token-b'))).toMatchObject({
      statusCode: 3001,
      message: 'versions: the party answered HTTP 302',
    });
  });
});
