import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Kafka } from 'kafkajs';
import { TopicCollector, createTestDatabase, testKafka, uniqueName, waitFor, type TestDatabase } from '@csms/testing';
import { gatewayMigrations } from '../src/migrations';
import { PasswordVerifier } from '../src/registry/password';
import { api, chargePoint, refusedWith, startTestGateway, type TestGateway } from './harness';

const PASSWORD = 'correct-horse-battery-staple';
const WRONG = 'wrong-password-1234';

interface Inbound {
  payload: {
    stationId: string;
    kind: string;
    messageId?: string;
    action?: string;
    reason?: string;
    frame?: string;
    response?: unknown;
  };
}

/**
 * The OCPP edge under abuse: wrong passwords are throttled per station id and per remote address (429, no
 * scrypt while throttled), a station over its CALL rate gets CALLERRORs that are not recorded as calls,
 * unsolicited answers and CSMS-only actions are bad messages, and connections that never become WebSockets
 * are capped and timed out. A gateway of its own with small limits; clients bind to 127.0.0.x addresses of
 * their own so each test has its own remote address.
 */
/** The real verifier, except that the checks of the station ids in `held` wait until the test releases them. */
class HoldingVerifier extends PasswordVerifier {
  readonly held = new Set<string>();
  private readonly waiting = new Map<string, () => void>();
  override async verify(stationId: string, stored: string, password: string) {
    if (this.held.has(stationId)) await new Promise<void>((r) => this.waiting.set(stationId, r));
    return super.verify(stationId, stored, password);
  }
  /** lets the held check of `stationId` go on (and later ones pass through) */
  release(stationId: string): void {
    this.held.delete(stationId);
    this.waiting.get(stationId)?.();
    this.waiting.delete(stationId);
  }
  isWaiting(stationId: string): boolean {
    return this.waiting.has(stationId);
  }
}

describe('ocpp-gateway: abuse costs the abuser', () => {
  const passwords = new HoldingVerifier();
  let db: TestDatabase;
  let kafka: Kafka;
  let gw: TestGateway;
  let collector: TopicCollector;
  const topics = {
    inbound: uniqueName('ocpp.inbound'),
    stations: uniqueName('registry.stations'),
    tokens: uniqueName('registry.tokens'),
    commands: uniqueName('ocpp.commands'),
    results: uniqueName('ocpp.command_results'),
  };
  const BACKOFF_MS = 3000;
  const MAX_PENDING = 30;

  const inbound = (): Inbound[] => collector.records.filter((r) => r.value).map((r) => JSON.parse(r.value!) as Inbound);
  const metrics = async () => (await fetch(`${gw.httpUrl}/metrics`)).text();
  /** the value of a metric line whose labels include `labels` (the registry adds service="ocpp-gateway") */
  const metric = async (name: string, labels = ''): Promise<number> => {
    for (const line of (await metrics()).split('\n')) {
      const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (m && m[1] === name && (labels === '' || (m[2] ?? '').split(',').includes(labels))) return Number(m[3]);
    }
    return 0;
  };
  async function registerStation(id: string) {
    expect((await api(gw, 'PUT', `/api/v1/stations/${id}`, { securityProfile: 1, password: PASSWORD })).status).toBe(
      200,
    );
  }
  /** the gateway's answer to an upgrade request, with its Retry-After (ws clients do not show headers) */
  const upgradeResponse = (id: string, from: string, password?: string) =>
    new Promise<{ status?: number; retryAfter?: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: gw.runtime.server.ports.ws,
        path: `/ocpp/${id}`,
        localAddress: from,
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-protocol': 'ocpp1.6',
          ...(password ? { authorization: `Basic ${Buffer.from(`${id}:${password}`).toString('base64')}` } : {}),
        },
      });
      req.on('response', (r) => {
        resolve({ status: r.statusCode, retryAfter: r.headers['retry-after'] });
        r.resume();
      });
      req.on('upgrade', (r, socket) => {
        socket.destroy();
        resolve({ status: r.statusCode });
      });
      req.on('error', reject);
      req.end();
    });
  const station = (identity: string, password: string | undefined, localAddress = '127.0.0.1') =>
    chargePoint({ endpoint: gw.wsUrl, identity, protocols: ['ocpp1.6'], password, wsOpts: { localAddress } });
  const attempt = (identity: string, password: string | undefined, localAddress?: string) =>
    refusedWith(station(identity, password, localAddress));

  beforeAll(async () => {
    db = await createTestDatabase('ocpp_gateway_abuse', gatewayMigrations);
    await db.dataSource.destroy();
    kafka = testKafka();
    gw = await startTestGateway(
      {
        DATABASE_URL: db.url,
        OCPP_INBOUND_TOPIC: topics.inbound,
        REGISTRY_STATIONS_TOPIC: topics.stations,
        REGISTRY_TOKENS_TOPIC: topics.tokens,
        OCPP_COMMANDS_TOPIC: topics.commands,
        OCPP_COMMAND_RESULTS_TOPIC: topics.results,
        OCPP_AUTH_FAIL_FREE: '3',
        OCPP_AUTH_FAIL_ADDRESS_FREE: '5',
        OCPP_AUTH_FAIL_BACKOFF_MS: String(BACKOFF_MS),
        OCPP_AUTH_FAIL_BACKOFF_MAX_MS: '6000',
        OCPP_RATE_LIMIT_PER_S: '0.1',
        OCPP_RATE_LIMIT_BURST: '5',
        OCPP_MAX_BAD_MESSAGES: '8',
        OCPP_MAX_PENDING_UPGRADES: String(MAX_PENDING),
        OCPP_UPGRADE_TIMEOUT_MS: '4000',
        OCPP_CALL_TIMEOUT_MS: '500',
      },
      { passwords },
    );
    collector = await new TopicCollector(kafka, [topics.inbound]).start();
  });

  afterAll(async () => {
    await collector?.close();
    await gw?.close();
    await db?.drop();
  });

  describe('failed authentication', () => {
    it('throttles a station id after OCPP_AUTH_FAIL_FREE failures: 429 with Retry-After, no scrypt while throttled; the right password is accepted once the backoff has passed', async () => {
      const id = uniqueName('GUESSED');
      await registerStation(id);
      const from = '127.0.0.2';
      // three free failures, the fourth starts the backoff
      for (let i = 0; i < 4; i++) expect(await attempt(id, WRONG, from)).toBe(401);
      const scryptBefore = await metric('ocpp_password_checks_total', 'result="miss"');
      const throttledBefore = await metric('ocpp_auth_throttled_total', 'scope="station"');
      // 20 more guesses and then the right password: refused unchecked while throttled
      const guesses = await Promise.all(Array.from({ length: 20 }, () => attempt(id, WRONG, from)));
      expect(guesses).toEqual(Array(20).fill(429));
      expect(await attempt(id, PASSWORD, from)).toBe(429);
      expect(await metric('ocpp_password_checks_total', 'result="miss"')).toBe(scryptBefore);
      expect(await metric('ocpp_auth_throttled_total', 'scope="station"')).toBe(throttledBefore + 21);
      // the refusal says when to come back
      const res = await upgradeResponse(id, from);
      expect(res.status).toBe(429);
      expect(Number(res.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(res.retryAfter)).toBeLessThanOrEqual(BACKOFF_MS / 1000);

      // once the backoff has passed, the right password gets in (and clears the station's failures)
      await waitFor(async () => (await attempt(id, PASSWORD, from)) === 'connected', {
        what: 'the right password accepted after the backoff',
        intervalMs: 250,
      });
      expect(await attempt(id, WRONG, from)).toBe(401);
      expect(await attempt(id, PASSWORD, from)).toBe('connected');
    });

    it('checks one password of a station at a time: 40 wrong guesses in parallel cost at most the free failures in scrypt', async () => {
      const id = uniqueName('PARALLEL');
      await registerStation(id);
      const from = '127.0.0.5';
      const misses = await metric('ocpp_password_checks_total', 'result="miss"');
      const answers = await Promise.all(Array.from({ length: 40 }, () => attempt(id, WRONG, from)));
      expect(new Set(answers)).toEqual(new Set([401, 429]));
      // OCPP_AUTH_FAIL_FREE (3) + the failure that starts the backoff; the rest were refused unchecked
      expect((await metric('ocpp_password_checks_total', 'result="miss"')) - misses).toBeLessThanOrEqual(4);
    });

    it('throttles a remote address after OCPP_AUTH_FAIL_ADDRESS_FREE failures across stations, not other addresses', async () => {
      const from = '127.0.0.3';
      const ids = Array.from({ length: 6 }, () => uniqueName('SPRAY'));
      for (const id of ids) await registerStation(id);
      const good = uniqueName('NEIGHBOUR');
      await registerStation(good);
      // one wrong password for each of six stations: no station reaches its own limit, the address does
      for (const id of ids) expect(await attempt(id, WRONG, from)).toBe(401);
      const before = await metric('ocpp_auth_throttled_total', 'scope="address"');
      expect(await attempt(good, PASSWORD, from)).toBe(429);
      expect(await metric('ocpp_auth_throttled_total', 'scope="address"')).toBe(before + 1);
      // the same station from another address is not affected
      expect(await attempt(good, PASSWORD, '127.0.0.4')).toBe('connected');
      await waitFor(async () => (await attempt(good, PASSWORD, from)) === 'connected', {
        what: 'the address served again after the backoff',
        intervalMs: 250,
      });
      expect(await metric('ocpp_auth_failures_total')).toBeGreaterThanOrEqual(6);
    });

    it('answers a station reconnecting with its verified password from memory, and a changed password is checked by scrypt again', async () => {
      const id = uniqueName('REPEAT');
      await registerStation(id);
      expect(await attempt(id, PASSWORD)).toBe('connected');
      const hits = await metric('ocpp_password_checks_total', 'result="hit"');
      const misses = await metric('ocpp_password_checks_total', 'result="miss"');
      expect(await attempt(id, PASSWORD)).toBe('connected');
      expect(await attempt(id, PASSWORD)).toBe('connected');
      expect(await metric('ocpp_password_checks_total', 'result="hit"')).toBe(hits + 2);
      expect(await metric('ocpp_password_checks_total', 'result="miss"')).toBe(misses);

      const changed = 'a-brand-new-password-42';
      expect((await api(gw, 'PUT', `/api/v1/stations/${id}`, { securityProfile: 1, password: changed })).status).toBe(
        200,
      );
      await waitFor(async () => (await attempt(id, PASSWORD)) === 401, {
        what: 'the old password refused after the change',
      });
      expect(await attempt(id, changed)).toBe('connected');
    });
  });

  describe('CALL rate per connection', () => {
    it('answers CALLs over the rate with CALLERROR GenericError, records them as rejected (never as calls), and disconnects a station that keeps flooding', async () => {
      const id = uniqueName('FLOOD');
      await registerStation(id);
      const cp = station(id, PASSWORD);
      await cp.connect();
      const closed = new Promise<{ code: number }>((r) => cp.once('close', r));
      const answers = () => new Map(cp.inbound.map((t) => JSON.parse(t) as unknown[]).map((f) => [f[1] as string, f]));
      // the bucket starts full: a burst of five back to back is served
      const served = Array.from({ length: 5 }, (_, i) => `hb-${i}`);
      for (const m of served) cp.sendRaw(JSON.stringify([2, m, 'Heartbeat', {}]));
      await waitFor(() => served.every((m) => answers().get(m)?.[0] === 3), {
        what: 'the burst answered with CALLRESULTs',
      });
      // then the sustained rate (one CALL in 10 s) is far exceeded: GenericError, until the bad-message budget is spent
      const flood = Array.from({ length: 15 }, (_, i) => `flood-${i}`);
      for (const m of flood) cp.sendRaw(JSON.stringify([2, m, 'Heartbeat', {}]));
      expect((await closed).code).toBe(1008);
      const refused = flood.filter((m) => answers().get(m));
      expect(refused.length).toBeGreaterThanOrEqual(8);
      for (const m of refused)
        expect(answers().get(m)).toEqual([4, m, 'GenericError', expect.stringContaining('rate limit'), {}]);

      const mine = await waitFor(
        () => {
          const rs = inbound().filter((e) => e.payload.stationId === id);
          const calls = rs.filter((e) => e.payload.kind === 'call').map((e) => e.payload.messageId);
          const rejected = rs.filter((e) => e.payload.kind === 'rejected' && e.payload.reason === 'rateLimited');
          return (
            served.every((m) => calls.includes(m)) &&
            rejected.length >= refused.length &&
            rs.some((e) => e.payload.kind === 'disconnected') &&
            rs
          );
        },
        { what: 'the served calls and the rejected ones on ocpp.inbound' },
      );
      const recordedCalls = mine.filter((e) => e.payload.kind === 'call').map((e) => e.payload.messageId);
      expect(recordedCalls.filter((m) => refused.includes(m!))).toEqual([]);
      expect(recordedCalls.sort()).toEqual(served.sort());
      expect(await metric('ocpp_bad_messages_total', 'kind="rateLimited"')).toBeGreaterThanOrEqual(8);
    });
  });

  describe('frames a station has no business sending', () => {
    it('counts an unsolicited CALLRESULT / CALLERROR and a CSMS-only action as bad messages (metrics, rejected records), but not a late answer to a call that timed out', async () => {
      const id = uniqueName('ODD');
      await registerStation(id);
      const cp = station(id, PASSWORD);
      let answer!: () => void;
      const late = new Promise<void>((r) => (answer = r));
      cp.handle('ClearCache', async () => {
        await late;
        return { status: 'Accepted' };
      });
      const sent: string[] = [];
      cp.on(
        'message',
        (m: { message: string | Buffer; outbound: boolean }) => m.outbound && sent.push(m.message.toString()),
      );
      await cp.connect();
      const unsolicited = await metric('ocpp_bad_messages_total', 'kind="unsolicitedResponse"');
      const csmsOnly = await metric('ocpp_bad_messages_total', 'kind="csmsOnlyAction"');

      cp.sendRaw('[3,"nobody-asked",{}]');
      cp.sendRaw('[4,"nobody-asked-either","GenericError","",{}]');
      cp.sendRaw('[2,"r-1","Reset",{"type":"Soft"}]');
      const reset = await waitFor(() => cp.inbound.map((t) => JSON.parse(t) as unknown[]).find((f) => f[1] === 'r-1'), {
        what: 'the answer to Reset',
      });
      expect(reset).toEqual([4, 'r-1', 'NotSupported', expect.any(String), {}]);
      await waitFor(
        async () => (await metric('ocpp_bad_messages_total', 'kind="unsolicitedResponse"')) === unsolicited + 2,
        { what: 'two unsolicited responses counted' },
      );
      expect(await metric('ocpp_bad_messages_total', 'kind="csmsOnlyAction"')).toBe(csmsOnly + 1);

      // a call of ours times out; its answer comes late: ignored, not a bad message
      await waitFor(() => gw.runtime.server.connection(id), { what: 'the connection' });
      const calls: string[] = [];
      cp.on('call', (c: { outbound: boolean; payload: [number, string] }) => !c.outbound && calls.push(c.payload[1]));
      expect(await gw.runtime.server.call(id, 'ClearCache', {})).toEqual({ status: 'timed_out' });
      answer();
      await waitFor(() => sent.some((t) => t.startsWith(`[3,"${calls[0]}"`)), { what: 'the late answer sent' });
      expect(await cp.call('Heartbeat', {})).toEqual(expect.objectContaining({ currentTime: expect.any(String) }));
      expect(await metric('ocpp_bad_messages_total', 'kind="unsolicitedResponse"')).toBe(unsolicited + 2);
      await cp.close();

      const rejected = await waitFor(
        () => {
          const rs = inbound().filter((e) => e.payload.stationId === id && e.payload.kind === 'rejected');
          return rs.length >= 3 && rs;
        },
        { what: 'the three rejected frames on ocpp.inbound' },
      );
      expect(rejected.map((e) => e.payload.reason).sort()).toEqual([
        'csmsOnlyAction',
        'unsolicitedResponse',
        'unsolicitedResponse',
      ]);
      expect(rejected.find((e) => e.payload.messageId === 'nobody-asked')?.payload.frame).toBe('[3,"nobody-asked",{}]');
    });
  });

  describe('connections that never become stations', () => {
    const sockets: Socket[] = [];
    const open = (write?: string) =>
      new Promise<Socket>((resolve) => {
        const s = connect(gw.runtime.server.ports.ws!, '127.0.0.1', () => {
          if (write) s.write(write);
          resolve(s);
        });
        s.on('error', () => undefined);
        sockets.push(s);
      });
    afterEach(async () => {
      for (const s of sockets.splice(0)) s.destroy();
      await waitFor(() => gw.runtime.server.pendingUpgrades === 0, { what: 'no pending connection' });
    });

    it('refuses connections over OCPP_MAX_PENDING_UPGRADES with 503, and serves again once the pending ones are gone', async () => {
      const id = uniqueName('PATIENT');
      await registerStation(id);
      // silent sockets and sockets that sent half a request
      const idle = await Promise.all(
        Array.from({ length: MAX_PENDING }, (_, i) => open(i % 2 ? 'GET /ocpp/x HTTP/1.1\r\nHost: x\r\n' : undefined)),
      );
      await waitFor(() => gw.runtime.server.pendingUpgrades === MAX_PENDING, { what: 'the pending connections' });
      expect(await attempt(id, PASSWORD)).toBe(503);
      expect(await metric('ocpp_pending_upgrades')).toBe(MAX_PENDING);
      for (const s of idle) s.destroy();
      await waitFor(() => gw.runtime.server.pendingUpgrades === 0, { what: 'no pending connection' });
      expect(await attempt(id, PASSWORD)).toBe('connected');
    });

    it('refuses with 503 and Retry-After an upgrade not decided within OCPP_UPGRADE_TIMEOUT_MS (a password check that does not answer), and the late decision changes nothing', async () => {
      const id = uniqueName('UNDECIDED');
      await registerStation(id);
      passwords.held.add(id);
      const refusedBefore = await metric('ocpp_upgrades_refused_total', 'status="503"');
      const res = await upgradeResponse(id, '127.0.0.9', PASSWORD);
      expect(res).toEqual({ status: 503, retryAfter: '5' });
      expect(passwords.isWaiting(id)).toBe(true);
      expect(await metric('ocpp_upgrades_refused_total', 'status="503"')).toBe(refusedBefore + 1);
      // the check answers after all (the password is right): the refused socket stays refused, nothing connects
      const checks = await metric('ocpp_password_checks_total', 'result="miss"');
      passwords.release(id);
      await waitFor(async () => (await metric('ocpp_password_checks_total', 'result="miss"')) === checks + 1, {
        what: 'the late password check done',
      });
      await waitFor(() => gw.runtime.server.pendingUpgrades === 0, { what: 'no pending connection' });
      expect(gw.runtime.server.connection(id)).toBeUndefined();
      expect(inbound().some((e) => e.payload.stationId === id)).toBe(false);
      // and the station's next attempt gets in
      expect(await attempt(id, PASSWORD, '127.0.0.9')).toBe('connected');
    });

    it('closes a connection that has not sent its upgrade request within OCPP_UPGRADE_TIMEOUT_MS, even one trickling its headers', async () => {
      const s = await open('GET /ocpp/slow HTTP/1.1\r\n');
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      const trickle = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 500);
      try {
        await closed;
      } finally {
        clearInterval(trickle);
      }
      await waitFor(() => gw.runtime.server.pendingUpgrades === 0, { what: 'no pending connection' });
    });
  });
});
