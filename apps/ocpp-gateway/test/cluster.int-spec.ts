import { execFileSync } from 'node:child_process';
import { RPCClient } from 'ocpp-rpc';
import { newApiKey } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  TopicCollector,
  createTestTopics,
  dropTestDatabases,
  freePort,
  startServiceProcess,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from '@csms/testing';

const admin = newApiKey('cluster-admin', 'admin');
const PASSWORD = 'cluster-station-password';
type Json = Record<string, unknown>;
const clientOptions = (o: Record<string, unknown>) => o as unknown as ConstructorParameters<typeof RPCClient>[0];

/**
 * GATEWAY_WORKERS=2: one OCPP port, two gateway processes (node:cluster), each an instance of its own. Stations
 * land on both; a remote command reaches each station whichever worker holds it; a worker killed with SIGKILL is
 * started again and its stations reconnect; SIGTERM to the primary stops every worker cleanly.
 */
describe('ocpp-gateway with GATEWAY_WORKERS=2 (a process, real Kafka and PostgreSQL)', () => {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const db = `csms_test_gw_cluster_${tag}`;
  const topics = {
    OCPP_INBOUND_TOPIC: uniqueName('cluster.ocpp-inbound'),
    REGISTRY_STATIONS_TOPIC: uniqueName('cluster.registry-stations'),
    REGISTRY_TOKENS_TOPIC: uniqueName('cluster.registry-tokens'),
    OCPP_COMMANDS_TOPIC: uniqueName('cluster.ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName('cluster.ocpp-command-results'),
  };
  const instance = `cluster-${tag}`;
  let gw: ServiceProcess;
  let ocppPort = 0;
  let inbound: TopicCollector;
  const clients: RPCClient[] = [];

  beforeAll(async () => {
    await createTestTopics(testKafka(), Object.values(topics), 3);
    ocppPort = await freePort();
    gw = await startServiceProcess('ocpp-gateway', {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      API_KEYS: admin.entry,
      LOG_LEVEL: 'warn',
      ...topics,
      DATABASE_URL: testDatabaseUrl(db),
      HTTP_PORT: String(await freePort()),
      OCPP_PORT: String(ocppPort),
      OCPP_HOST: '127.0.0.1',
      GATEWAY_INSTANCE: instance,
      GATEWAY_WORKERS: '2',
      // stations refused while a worker's registry copy is still being read try again at once: this suite is not
      // about the failed-login throttle (abuse.int-spec.ts is), and all of them share 127.0.0.1
      OCPP_AUTH_FAIL_ADDRESS_FREE: '0',
      OCPP_AUTH_FAIL_BACKOFF_MS: '50',
      OCPP_AUTH_FAIL_BACKOFF_MAX_MS: '200',
    });
    inbound = await new TopicCollector(testKafka(), [topics.OCPP_INBOUND_TOPIC]).start();
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) await c.close({ force: true }).catch(() => undefined);
    await inbound?.close();
    gw?.kill('SIGKILL');
    await gw?.exited();
    await dropTestDatabases([db]);
  }, 60_000);

  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const r = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const connectedOn = (stationId: string) =>
    inbound.records
      .map((r) => JSON.parse(r.value!) as { payload: { kind: string; stationId: string; gatewayInstance: string } })
      .filter((e) => e.payload.kind === 'connected' && e.payload.stationId === stationId)
      .map((e) => e.payload.gatewayInstance);
  async function station(identity: string): Promise<RPCClient> {
    const c = new RPCClient(
      clientOptions({
        endpoint: `ws://127.0.0.1:${ocppPort}/ocpp`,
        identity,
        protocols: ['ocpp1.6'],
        password: PASSWORD,
        reconnect: false,
        strictMode: true,
        callTimeoutMs: 20_000,
        // an upgrade with no answer (e.g. a connection handed to the worker just killed) fails, and is tried again
        wsOpts: { handshakeTimeout: 15_000 },
      }),
    );
    c.handle('Reset', async () => ({ status: 'Accepted' }));
    await c.connect();
    clients.push(c);
    expect(await c.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' })).toMatchObject({
      status: 'Accepted',
    });
    return c;
  }
  async function reset(stationId: string): Promise<Json> {
    const sent = await api('POST', `/api/v1/stations/${stationId}/commands`, {
      action: 'Reset',
      payload: { type: 'Soft' },
    });
    expect(sent.status).toBe(202);
    return waitFor(
      async () => {
        const r = await api('GET', `/api/v1/commands/${sent.body.commandId as string}`);
        return r.body.status !== 'pending' ? r.body : undefined;
      },
      { what: `the Reset of ${stationId}` },
    );
  }

  it('spreads stations over both workers, routes commands to whichever holds the station, survives a worker killed, stops cleanly', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `CLU-${tag}-${i}`);
    for (const id of ids)
      expect(
        (
          await api('PUT', `/api/v1/stations/${id}`, {
            securityProfile: 1,
            password: PASSWORD,
            timeZone: 'Europe/Amsterdam',
          })
        ).status,
      ).toBe(200);
    // the second worker starts after the first is ready, and each takes stations once its registry copy is read:
    // stations connect one by one until both workers hold some (a refused station tries again later)
    const placed = new Map<string, string>();
    await waitFor(
      async () => {
        for (const id of ids) {
          if (placed.has(id)) continue;
          try {
            await station(id);
          } catch {
            return false;
          }
          placed.set(id, await waitFor(() => connectedOn(id)[0], { what: `the connect record of ${id}` }));
          if (placed.size >= 8 && new Set(placed.values()).size === 2) return true;
        }
        return false;
      },
      { what: 'stations on both workers', timeoutMs: 90_000 },
    );
    const instances = new Set(placed.values());
    expect([...instances].sort()).toEqual([`${instance}-w0`, `${instance}-w1`]);

    // a command reaches every station, whichever worker holds it
    for (const id of placed.keys()) expect(await reset(id)).toMatchObject({ status: 'accepted' });

    // SIGKILL one worker: the primary starts it again, its stations reconnect and are reachable again
    const workerPids = execFileSync('pgrep', ['-P', String(gw.child.pid)])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
    expect(workerPids).toHaveLength(2);
    process.kill(workerPids[0], 'SIGKILL');
    const dropped = await waitFor(
      () => {
        const closed = clients.filter((c) => (c as unknown as { state: number }).state === 3);
        return closed.length > 0 ? closed : undefined;
      },
      { what: 'the killed worker’s stations disconnected' },
    );
    for (const c of dropped) clients.splice(clients.indexOf(c), 1);
    const again = dropped.map((c) => (c as unknown as { identity: string }).identity);
    await waitFor(
      async () => {
        try {
          await station(again[0]);
          return true;
        } catch {
          return false;
        }
      },
      { what: `${again[0]} reconnected`, timeoutMs: 60_000 },
    );
    for (const id of again.slice(1)) await station(id);
    for (const id of again) expect(await reset(id)).toMatchObject({ status: 'accepted' });
    // the restarted worker (same slot, same instance name) takes stations again
    const killedInstance = placed.get(again[0])!;
    const spare = ids.filter((id) => !placed.has(id));
    await waitFor(
      async () => {
        const id = spare.shift();
        if (!id) throw new Error('no spare station left');
        const seen = connectedOn(id).length;
        try {
          await station(id);
        } catch {
          // refused (the restarted worker still reading its registry copy): the same station tries again
          spare.unshift(id);
          return false;
        }
        const on = await waitFor(() => connectedOn(id)[seen], { what: `the connect record of ${id}` });
        if (on === killedInstance) return true;
        // it landed on the other worker (the restarted one not listening yet): it leaves and tries again later
        const c = clients.find((x) => (x as unknown as { identity: string }).identity === id);
        if (c) {
          clients.splice(clients.indexOf(c), 1);
          await c.close({ code: 1000 }).catch(() => undefined);
        }
        spare.push(id);
        return false;
      },
      { what: `a station on the restarted ${killedInstance}`, timeoutMs: 90_000 },
    );
    expect(
      execFileSync('pgrep', ['-P', String(gw.child.pid)])
        .toString()
        .trim()
        .split('\n'),
    ).toHaveLength(2);

    gw.kill('SIGTERM');
    expect(await gw.exited()).toBe(0);
    // its waits (placement, a worker restarted, stations back) allow up to 90 s each: more than jest's default
  }, 300_000);
});
