import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { CdrCreatedV3, deriveId, systemCatalogue, type CdrCreatedPayload, type Envelope } from '@csms/contracts';
import { creditCdrOf } from '@csms/billing';
import { KafkaRecordPublisher } from '@csms/messaging';
import { authorizationOf } from '@csms/ocpi';
import { silentLogger } from '@csms/platform';
import { newApiKey, type RunningService } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  createTestTopics,
  dropTestDatabases,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
} from '@csms/testing';
import { loadReportingServiceConfig, type ReportingServiceConfig } from '../src/config';
import { rebuildReportingStore } from '../src/rebuild';
import { startReportingService } from '../src/service';

/**
 * The OCPI 2.2.1 versions and credentials modules and the per-party CDRs, end to end on the real Kafka and
 * PostgreSQL: an operator opens registrations, parties register with token A (the service calls each back, a small
 * fake party served here, with its token B through the real HTTP adapter), rotate and unregister; eMSPs pull only
 * their own CDRs, a hub all; a rebuild from ocpi.events restores the parties.
 */
const finance = newApiKey('fin', 'finance');
const operator = newApiKey('ops', 'operator');
const CONFIGURED = 'configured-hub-token-01';
const catalogue = systemCatalogue();
const example = CdrCreatedV3.example as CdrCreatedPayload;

interface Json {
  [k: string]: unknown;
}
interface Ocpi {
  http: number;
  body: { data?: Json & Json[]; status_code: number; status_message: string; timestamp: string };
  headers: Headers;
}

/** A fake eMSP or hub: its versions and 2.2.1 details, answering only its current token B. */
class FakeParty {
  server!: Server;
  url = '';
  tokenB = '';
  /** the Authorization headers it received */
  seen: string[] = [];
  mode: 'ok' | 'http500' | 'no221' = 'ok';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      this.seen.push(req.headers.authorization ?? '');
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const ok = (data: unknown) =>
        send(200, { data, status_code: 1000, status_message: 'Success', timestamp: '2026-12-01T00:00:00Z' });
      if (req.headers.authorization !== authorizationOf(this.tokenB))
        return send(401, { status_code: 2000, status_message: 'unknown token', timestamp: '2026-12-01T00:00:00Z' });
      if (this.mode === 'http500') return send(500, {});
      if (req.url === '/ocpi/versions')
        return ok(
          this.mode === 'no221'
            ? [{ version: '2.1.1', url: `${this.url}/ocpi/2.1.1` }]
            : [{ version: '2.2.1', url: `${this.url}/ocpi/2.2.1` }],
        );
      if (req.url === '/ocpi/2.2.1')
        return ok({
          version: '2.2.1',
          endpoints: [
            { identifier: 'credentials', role: 'SENDER', url: `${this.url}/ocpi/2.2.1/credentials` },
            { identifier: 'cdrs', role: 'RECEIVER', url: `${this.url}/ocpi/2.2.1/cdrs` },
          ],
        });
      send(404, {});
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

function cdrOf(n: number, token: { country_code: string; party_id: string }, at: string): CdrCreatedPayload {
  const id = `CDR-OCPI-${String(n).padStart(4, '0')}`;
  const sessionId = deriveId('ocpi-test-session', n);
  return {
    cdr: {
      ...example.cdr,
      id,
      session_id: sessionId,
      start_date_time: new Date(Date.parse(at) - 3_600_000).toISOString(),
      end_date_time: at,
      last_updated: at,
      cdr_token: { ...example.cdr.cdr_token, ...token },
    },
    audit: { ...example.audit, sessionId },
    billingAccountId: null,
  };
}

describe('reporting service: OCPI 2.2.1 versions, credentials handshake, per-party CDRs (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let publisher: KafkaRecordPublisher;
  let svc: RunningService;
  let cfg: ReportingServiceConfig;
  let pg: Client;
  const parties = [new FakeParty(), new FakeParty(), new FakeParty()];
  const db = `csms_test_ocpi_${process.pid}_${Math.floor(performance.now())}`;
  const topics = {
    billing: uniqueName('test.billing-events'),
    finance: uniqueName('test.finance-events'),
    ocpi: uniqueName('test.ocpi-events'),
  };

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new KafkaRecordPublisher(kafka);
    await createTestTopics(kafka, Object.values(topics), 3);
    for (const p of parties) await p.start();
    cfg = loadReportingServiceConfig({
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: testDatabaseUrl(db),
      HTTP_PORT: '0',
      API_KEYS: [finance.entry, operator.entry].join(','),
      // reconciliation only when a test asks (the scheduler has its own test: reconciliation-lifecycle)
      RECONCILIATION_INTERVAL_S: '0',
      REPORTING_CONSUMER_GROUP: uniqueName('reporting'),
      OCPP_INBOUND_TOPIC: uniqueName('test.ocpp-inbound'),
      MONITORING_EVENTS_TOPIC: uniqueName('test.monitoring-events'),
      SESSION_EVENTS_TOPIC: uniqueName('test.session-events'),
      BILLING_EVENTS_TOPIC: topics.billing,
      FINANCE_EVENTS_TOPIC: topics.finance,
      REGISTRY_STATIONS_TOPIC: uniqueName('test.registry-stations'),
      PAYMENT_EVENTS_TOPIC: uniqueName('test.payment-events'),
      OCPI_EVENTS_TOPIC: topics.ocpi,
      TARIFF_CONSUMER_GROUP: uniqueName('tariffs'),
      OCPI_TOKENS: `hub:${createHash('sha256').update(CONFIGURED).digest('hex')}`,
      OCPI_BASE_URL: 'https://cpo.example.com',
      // the fake parties are served on loopback: allowed by name (OCPI_PARTY_URL_ALLOW)
      OCPI_PARTY_URL_ALLOW: '127.0.0.1',
      CPO_COUNTRY_CODE: 'NL',
      CPO_PARTY_ID: 'CSM',
      CPO_BUSINESS_NAME: 'Test CPO',
      LOG_LEVEL: 'silent',
    });
    svc = await startReportingService(cfg, silentLogger());
    pg = new Client({ connectionString: testDatabaseUrl(db) });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await svc?.stop();
    for (const p of parties) await p.stop();
    await publisher.disconnect();
    await dropTestDatabases([db]);
  });

  const ocpi = async (method: string, path: string, token: string | undefined, body?: unknown): Promise<Ocpi> => {
    const r = await fetch(`${svc.url}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: authorizationOf(token) }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { http: r.status, body: (await r.json()) as Ocpi['body'], headers: r.headers };
  };
  const api = async (method: string, path: string, body?: unknown, key = finance.key) => {
    const r = await fetch(`${svc.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const credentialsOf = (p: FakeParty, role: string, country_code: string, party_id: string) => ({
    token: p.tokenB,
    url: `${p.url}/ocpi/versions`,
    roles: [{ role, country_code, party_id, business_details: { name: `${role} ${party_id}` } }],
  });
  /** opens a registration and registers the party with it; its token C */
  const register = async (p: FakeParty, role: string, cc: string, pid: string): Promise<string> => {
    const opened = await api('POST', '/ocpi/parties', { name: `${role} ${pid}` });
    expect(opened.status).toBe(201);
    p.tokenB = `token-b-${pid}-${opened.body.registrationId as string}`.slice(0, 64);
    const r = await ocpi(
      'POST',
      '/ocpi/2.2.1/credentials',
      opened.body.tokenA as string,
      credentialsOf(p, role, cc, pid),
    );
    expect(r.body.status_code).toBe(1000);
    return r.body.data!.token as string;
  };
  const cdrIds = async (token: string) => {
    const r = await ocpi('GET', '/ocpi/2.2.1/cdrs?limit=1000', token);
    expect(r.http).toBe(200);
    return (r.body.data as unknown as Array<{ id: string }>).map((c) => c.id);
  };

  let emsp1C = '';
  let openTokenA = '';
  const tokensRevoked: string[] = [];

  it('the handshake: token A reads the versions and registers once; token C then works, rotates, unregisters', async () => {
    // only finance (and admin) open registrations
    expect((await api('POST', '/ocpi/parties', { name: 'x' }, operator.key)).status).toBe(403);
    const opened = await api('POST', '/ocpi/parties', { name: 'eMSP one' });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ status: 'OPEN', versionsUrl: 'https://cpo.example.com/ocpi/versions' });
    const tokenA = opened.body.tokenA as string;
    expect(tokenA).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // only the hash is stored
    const stored = await pg.query('select token_a_sha256 from ocpi_parties where registration_id = $1', [
      opened.body.registrationId,
    ]);
    expect(stored.rows[0].token_a_sha256).toBe(createHash('sha256').update(tokenA).digest('hex'));
    expect(JSON.stringify((await pg.query('select * from ocpi_parties')).rows)).not.toContain(tokenA);

    // the versions module, with token A
    const versions = await ocpi('GET', '/ocpi/versions', tokenA);
    expect(versions.http).toBe(200);
    expect(versions.body).toMatchObject({
      status_code: 1000,
      data: [{ version: '2.2.1', url: 'https://cpo.example.com/ocpi/2.2.1' }],
    });
    const details = await ocpi('GET', '/ocpi/2.2.1', tokenA);
    expect(details.body.data).toEqual({
      version: '2.2.1',
      endpoints: [
        { identifier: 'credentials', role: 'SENDER', url: 'https://cpo.example.com/ocpi/2.2.1/credentials' },
        { identifier: 'credentials', role: 'RECEIVER', url: 'https://cpo.example.com/ocpi/2.2.1/credentials' },
        { identifier: 'cdrs', role: 'SENDER', url: 'https://cpo.example.com/ocpi/2.2.1/cdrs' },
      ],
    });
    expect((await ocpi('GET', '/ocpi/versions', undefined)).http).toBe(401);
    expect((await ocpi('GET', '/ocpi/versions', 'nobody-knows-this')).body.status_code).toBe(2000);
    // token A registers, nothing else
    expect((await ocpi('GET', '/ocpi/2.2.1/cdrs', tokenA)).http).toBe(401);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await ocpi(method, '/ocpi/2.2.1/credentials', tokenA, method === 'PUT' ? {} : undefined);
      expect([method, r.http, r.body.status_code]).toEqual([method, 405, 2000]);
    }

    const p = parties[0];
    p.tokenB = 'emsp-one-token-b';
    // bad credentials objects: 2001 with the field, token A still unspent
    const bad = await ocpi('POST', '/ocpi/2.2.1/credentials', tokenA, {
      ...credentialsOf(p, 'EMSP', 'DE', 'EMS'),
      url: 'ftp://x',
    });
    // OCPI 2.2.1: a request that reached the OCPI layer gets no HTTP error status, the envelope tells
    expect([bad.http, bad.body.status_code, bad.body.data]).toEqual([200, 2001, { field: 'body/url' }]);
    // the party's API unusable: 3001; no 2.2.1: 3002; token A still unspent
    p.mode = 'http500';
    const unusable = await ocpi('POST', '/ocpi/2.2.1/credentials', tokenA, credentialsOf(p, 'EMSP', 'DE', 'EMS'));
    expect([unusable.http, unusable.body.status_code]).toEqual([200, 3001]);
    p.mode = 'no221';
    const noVersion = await ocpi('POST', '/ocpi/2.2.1/credentials', tokenA, credentialsOf(p, 'EMSP', 'DE', 'EMS'));
    expect([noVersion.http, noVersion.body.status_code]).toEqual([200, 3002]);
    p.mode = 'ok';
    p.seen = [];

    const posted = await ocpi('POST', '/ocpi/2.2.1/credentials', tokenA, credentialsOf(p, 'EMSP', 'de', 'ems'));
    expect(posted.http).toBe(200);
    expect(posted.body.status_code).toBe(1000);
    const tokenC = posted.body.data!.token as string;
    expect(tokenC).not.toBe(tokenA);
    expect(posted.body.data).toEqual({
      token: tokenC,
      url: 'https://cpo.example.com/ocpi/versions',
      roles: [{ role: 'CPO', business_details: { name: 'Test CPO' }, party_id: 'CSM', country_code: 'NL' }],
    });
    // the service read the party's versions and details with token B
    expect(p.seen).toEqual([authorizationOf('emsp-one-token-b'), authorizationOf('emsp-one-token-b')]);
    // token A is spent; token C cannot register again
    expect((await ocpi('GET', '/ocpi/versions', tokenA)).http).toBe(401);
    const again = await ocpi('POST', '/ocpi/2.2.1/credentials', tokenC, credentialsOf(p, 'EMSP', 'DE', 'EMS'));
    expect([again.http, again.body.status_code]).toEqual([405, 2000]);
    expect((await ocpi('GET', '/ocpi/2.2.1/credentials', tokenC)).body.data).toMatchObject({ token: tokenC });
    expect((await ocpi('GET', '/ocpi/2.2.1/cdrs', tokenC)).http).toBe(200);
    const listed = (await api('GET', '/ocpi/parties')).body.items as Json[];
    expect(listed).toEqual([
      expect.objectContaining({
        name: 'eMSP one',
        status: 'REGISTERED',
        url: `${p.url}/ocpi/versions`,
        roles: [{ role: 'EMSP', countryCode: 'DE', partyId: 'EMS', businessName: 'EMSP ems' }],
        endpoints: [
          { identifier: 'credentials', role: 'SENDER', url: `${p.url}/ocpi/2.2.1/credentials` },
          { identifier: 'cdrs', role: 'RECEIVER', url: `${p.url}/ocpi/2.2.1/cdrs` },
        ],
      }),
    ]);

    // PUT: a new token B in, a new token C out; the old C refused
    p.tokenB = 'emsp-one-token-b2';
    const put = await ocpi('PUT', '/ocpi/2.2.1/credentials', tokenC, credentialsOf(p, 'EMSP', 'DE', 'EMS'));
    expect(put.body.status_code).toBe(1000);
    const tokenC2 = put.body.data!.token as string;
    expect(tokenC2).not.toBe(tokenC);
    expect((await ocpi('GET', '/ocpi/2.2.1/cdrs', tokenC)).http).toBe(401);
    expect((await ocpi('GET', '/ocpi/2.2.1/cdrs', tokenC2)).http).toBe(200);

    // DELETE: unregistered; no token of it works
    const del = await ocpi('DELETE', '/ocpi/2.2.1/credentials', tokenC2);
    expect([del.http, del.body.status_code]).toEqual([200, 1000]);
    const after = await ocpi('GET', '/ocpi/2.2.1/cdrs', tokenC2);
    expect([after.http, after.body.status_code]).toEqual([401, 2000]);
    expect((await ocpi('DELETE', '/ocpi/2.2.1/credentials', tokenC2)).http).toBe(401);
    expect(((await api('GET', '/ocpi/parties')).body.items as Json[])[0]).toMatchObject({
      status: 'UNREGISTERED',
      unregisteredBy: 'party',
    });
    tokensRevoked.push(tokenA, tokenC, tokenC2);

    // the configured token: hub-like, no handshake through OCPI
    expect((await ocpi('GET', '/ocpi/2.2.1/credentials', CONFIGURED)).body.data).toMatchObject({ token: CONFIGURED });
    for (const method of ['POST', 'PUT', 'DELETE'])
      expect(
        (await ocpi(method, '/ocpi/2.2.1/credentials', CONFIGURED, method === 'DELETE' ? undefined : {})).http,
      ).toBe(405);

    // the operator revokes an open registration; 404 unknown, 409 twice
    const other = await api('POST', '/ocpi/parties', { name: 'never registers' });
    const revoked = await api('DELETE', `/ocpi/parties/${other.body.registrationId as string}`);
    expect(revoked.body).toMatchObject({ status: 'UNREGISTERED', unregisteredBy: 'api-key:fin' });
    expect((await ocpi('GET', '/ocpi/versions', other.body.tokenA as string)).http).toBe(401);
    expect((await api('DELETE', `/ocpi/parties/${other.body.registrationId as string}`)).status).toBe(409);
    expect((await api('DELETE', `/ocpi/parties/${deriveId('nothing', 1)}`)).status).toBe(404);
    tokensRevoked.push(other.body.tokenA as string);
  });

  it('per party: two eMSPs see disjoint CDRs (credit CDRs included), a hub and a configured token see all', async () => {
    emsp1C = await register(parties[0], 'EMSP', 'DE', 'EMS');
    const emsp2C = await register(parties[1], 'EMSP', 'NL', 'ABC');
    const hubC = await register(parties[2], 'HUB', 'NL', 'HUB');
    // one registration left open: its token A after the rebuild
    openTokenA = (await api('POST', '/ocpi/parties', { name: 'pending' })).body.tokenA as string;
    const at = (n: number) => new Date(Date.UTC(2026, 10, 2, 10, n)).toISOString();
    const cdrs = [
      cdrOf(1, { country_code: 'DE', party_id: 'EMS' }, at(1)),
      cdrOf(2, { country_code: 'NL', party_id: 'ABC' }, at(2)),
      cdrOf(3, { country_code: 'DE', party_id: 'EMS' }, at(3)),
      cdrOf(4, { country_code: 'FR', party_id: 'XYZ' }, at(4)),
      cdrOf(5, { country_code: 'NL', party_id: 'ABC' }, at(5)),
    ];
    const credit = creditCdrOf(cdrs[0].cdr, cdrs[0].audit, at(6));
    cdrs.push({ ...cdrs[0], cdr: credit.cdr, audit: credit.audit });
    await publisher.publish(
      cdrs.map((p) => ({
        topic: topics.billing,
        key: p.audit.sessionId,
        value: JSON.stringify(
          catalogue.create(CdrCreatedV3, {
            id: deriveId('cdr-created', p.cdr.id),
            key: p.audit.sessionId,
            occurredAt: p.cdr.last_updated,
            source: 'test',
            payload: p,
          }) as Envelope,
        ),
      })),
    );
    await waitFor(async () => Number((await pg.query('select count(*)::int as n from finance_cdrs')).rows[0].n) === 6, {
      what: 'the CDRs folded',
    });
    const all = cdrs.map((c) => c.cdr.id);
    const one = await cdrIds(emsp1C);
    const two = await cdrIds(emsp2C);
    expect(one).toEqual([all[0], all[2], credit.cdr.id]);
    expect(two).toEqual([all[1], all[4]]);
    expect(one.filter((id) => two.includes(id))).toEqual([]);
    expect(await cdrIds(hubC)).toEqual(all);
    expect(await cdrIds(CONFIGURED)).toEqual(all);
    // the counts and pages are the party's
    const page = await ocpi('GET', '/ocpi/2.2.1/cdrs?limit=2', emsp1C);
    expect(page.headers.get('x-total-count')).toBe('3');
    expect(page.headers.get('link')).toContain('offset=2');
  });

  it('a rebuild from ocpi.events restores the parties: the same registrations, the same tokens work and are refused', async () => {
    const before = (await api('GET', '/ocpi/parties')).body;
    const seesBefore = await cdrIds(emsp1C);
    await waitFor(async () => Number((await pg.query('select count(*)::int as n from outbox')).rows[0].n) === 0, {
      what: 'the outbox drained',
    });
    await pg.end();
    await svc.stop();
    await rebuildReportingStore(cfg);
    svc = await startReportingService(cfg, silentLogger());
    pg = new Client({ connectionString: testDatabaseUrl(db) });
    await pg.connect();
    await waitFor(async () => JSON.stringify((await api('GET', '/ocpi/parties')).body) === JSON.stringify(before), {
      what: 'the parties refolded',
    });
    await waitFor(async () => Number((await pg.query('select count(*)::int as n from finance_cdrs')).rows[0].n) === 6, {
      what: 'the CDRs refolded',
    });
    expect(await cdrIds(emsp1C)).toEqual(seesBefore);
    expect((await ocpi('GET', '/ocpi/versions', openTokenA)).http).toBe(200);
    for (const t of tokensRevoked) expect((await ocpi('GET', '/ocpi/versions', t)).http).toBe(401);
  }, 240_000);
});
