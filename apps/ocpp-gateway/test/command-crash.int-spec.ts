import { RPCClient } from 'ocpp-rpc';
import { KafkaRecordPublisher } from '@csms/messaging';
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

/*
 * Remote commands are sent at most once, also when the gateway instance that sent one is killed (SIGKILL)
 * before the station answered: the restarted instance (or another one that reads the command again) does
 * not send it a second time, and the command's final result, `interrupted`, is readable through the API and
 * on the results topic. A command that expired while it waited behind another call is not sent late.
 */

const PASSWORD = 'command-crash-station-password';
const operator = newApiKey('crash-operator', 'operator');
type Json = Record<string, unknown>;

/** A charger that stays connected (reconnecting after the gateway dies) and logs every call it gets. */
class Station {
  readonly received: Array<{ action: string; params: unknown }> = [];
  connects = 0;
  /** how it answers a CSMS call; default: never (the call stays outstanding) */
  answer: (action: string, params: Json) => Promise<Json> = () => new Promise(() => undefined);
  private client?: RPCClient;
  private running = true;
  private loop?: Promise<void>;

  constructor(
    readonly id: string,
    readonly protocol: 'ocpp1.6' | 'ocpp2.0.1',
    private readonly endpoint: () => string,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        const c = new RPCClient({
          endpoint: this.endpoint(),
          identity: this.id,
          protocols: [this.protocol],
          password: PASSWORD,
          reconnect: false,
          strictMode: false,
          callTimeoutMs: 20_000,
          pingIntervalMs: 0,
        } as unknown as ConstructorParameters<typeof RPCClient>[0]);
        c.handle(({ method, params }) => {
          this.received.push({ action: method!, params });
          return this.answer(method!, params as Json);
        });
        try {
          const closed = new Promise<void>((r) => c.once('close', () => r()));
          await c.connect();
          this.client = c;
          await c.call('Heartbeat', {}); // answered: the gateway holds the connection
          this.connects++;
          await closed;
        } catch {
          await c.close({ force: true }).catch(() => undefined);
        }
        this.client = undefined;
        if (this.running) await new Promise((r) => setTimeout(r, 200));
      }
    })();
  }

  get connected(): boolean {
    return this.client !== undefined && this.connects > 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.client?.close({ force: true }).catch(() => undefined);
    await this.loop;
  }

  count(action: string): number {
    return this.received.filter((r) => r.action === action).length;
  }
}

describe('remote commands: at most once across a gateway crash (processes, real Kafka and PostgreSQL)', () => {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const db = `csms_test_gw_cmd_crash_${tag}`;
  const topics = {
    OCPP_INBOUND_TOPIC: uniqueName('crash.ocpp-inbound'),
    REGISTRY_STATIONS_TOPIC: uniqueName('crash.registry-stations'),
    REGISTRY_TOKENS_TOPIC: uniqueName('crash.registry-tokens'),
    OCPP_COMMANDS_TOPIC: uniqueName('crash.ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName('crash.ocpp-command-results'),
  };
  const kafka = testKafka('command-crash-test');
  let env: Record<string, string>;
  let gw: ServiceProcess | undefined;
  let ocppPort = 0;
  let results: TopicCollector;
  let commands: TopicCollector;
  const stations: Station[] = [];
  const publisher = new KafkaRecordPublisher(kafka);

  const start = async (instance: string) => {
    gw = await startServiceProcess('ocpp-gateway', { ...env, GATEWAY_INSTANCE: instance });
    return gw;
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${gw!.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${operator.key}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json().catch(() => undefined)) as Json };
  };
  const station = async (protocol: 'ocpp1.6' | 'ocpp2.0.1') => {
    const id = uniqueName('CRASH');
    expect((await api('PUT', `/api/v1/stations/${id}`, { securityProfile: 1, password: PASSWORD })).status).toBe(200);
    const s = new Station(id, protocol, () => `ws://127.0.0.1:${ocppPort}/ocpp`);
    stations.push(s);
    s.start();
    await waitFor(() => s.connected, { what: `${id} connected`, timeoutMs: 30_000 });
    return s;
  };
  const send = async (s: Station, action: string, payload: Json, ttlSeconds?: number) => {
    const r = await api('POST', `/api/v1/stations/${s.id}/commands`, {
      action,
      payload,
      ...(ttlSeconds ? { ttlSeconds } : {}),
    });
    expect(r.status).toBe(202);
    return r.body as { commandId: string; expiresAt: string };
  };
  const finalStatus = (commandId: string) =>
    waitFor(
      async () => {
        const r = await api('GET', `/api/v1/commands/${commandId}`);
        return r.status === 200 && r.body.status !== 'pending' ? r.body : undefined;
      },
      { what: `a result for ${commandId}`, timeoutMs: 60_000, intervalMs: 250 },
    );
  const resultsOf = (commandId: string) =>
    results.records
      .map((r) => JSON.parse(r.value!) as { type: string; payload: Json })
      .filter((e) => e.payload.commandId === commandId);
  /** delivers the command record again, byte for byte (what a consumer re-reading its partition sees) */
  const redeliver = async (commandId: string) => {
    const rec = await waitFor(() => commands.records.find((r) => r.value?.includes(commandId)), {
      what: `command ${commandId} on the topic`,
    });
    await publisher.publish([{ topic: rec.topic, key: rec.key, value: rec.value!, headers: rec.headers }]);
  };
  const killGateway = async () => {
    gw!.kill('SIGKILL');
    await gw!.exited();
  };

  beforeAll(async () => {
    await createTestTopics(kafka, Object.values(topics), 3);
    ocppPort = await freePort();
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      API_KEYS: operator.entry,
      LOG_LEVEL: 'info',
      ...topics,
      DATABASE_URL: testDatabaseUrl(db),
      HTTP_PORT: String(await freePort()),
      OCPP_PORT: String(ocppPort),
      OCPP_HOST: '127.0.0.1',
      OCPP_PING_INTERVAL_S: '0',
      // long enough that a silent station's call is still outstanding when the gateway is killed
      OCPP_CALL_TIMEOUT_MS: '120000',
    };
    [results, commands] = await Promise.all([
      new TopicCollector(kafka, [topics.OCPP_COMMAND_RESULTS_TOPIC]).start(),
      new TopicCollector(kafka, [topics.OCPP_COMMANDS_TOPIC]).start(),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(stations.map((s) => s.stop()));
    gw?.kill('SIGTERM');
    await gw?.exited();
    await Promise.all([results?.close(), commands?.close(), publisher.disconnect()]);
    await dropTestDatabases([db]);
  }, 60_000);

  it('a Reset sent just before the instance was killed is not sent again by its restart: the result is interrupted', async () => {
    const instance = `gw-a-${tag}`;
    await start(instance);
    const cp = await station('ocpp1.6');
    const { commandId } = await send(cp, 'Reset', { type: 'Hard' });
    await waitFor(() => cp.count('Reset') === 1, { what: 'the Reset at the station', timeoutMs: 30_000 });

    await killGateway(); // the station has not answered: the call is outstanding, no result recorded
    const connects = cp.connects;
    await start(instance); // the same instance again (same consumer group)
    await waitFor(() => cp.connects > connects, { what: 'the station reconnected', timeoutMs: 30_000 });

    const view = await finalStatus(commandId);
    expect(view).toEqual(expect.objectContaining({ status: 'interrupted', dispatchedBy: instance }));
    expect((view.result as Json).detail).toMatch(/may or may not have carried it out/);
    // the command record read once more (a consumer that had not committed its offset): still not sent
    await redeliver(commandId);
    const skipped = () =>
      gw!
        .output()
        .split('\n')
        .some((l) => l.includes(commandId) && l.includes('command already completed: not sent again'));
    await waitFor(skipped, { what: 'the redelivered command skipped', timeoutMs: 30_000 });
    await waitFor(() => resultsOf(commandId).length > 0, {
      what: 'the result on the results topic',
      timeoutMs: 30_000,
    });
    expect(resultsOf(commandId).map((e) => [e.type, e.payload.status])).toEqual([
      ['ocpp.command_completed', 'interrupted'],
    ]);
    expect(cp.count('Reset')).toBe(1);
  }, 180_000);

  it('another instance that reads the command again after the sender was killed does not send it either', async () => {
    const cp = await station('ocpp2.0.1');
    const { commandId } = await send(cp, 'RequestStartTransaction', {
      idToken: { idToken: 'TAG-1', type: 'ISO14443' },
      remoteStartId: 7,
      evseId: 1,
    });
    await waitFor(() => cp.count('RequestStartTransaction') === 1, {
      what: 'the RequestStartTransaction at the station',
      timeoutMs: 30_000,
    });
    const sender = (await api('GET', `/api/v1/commands/${commandId}`)).body.dispatchedBy as string;
    expect(sender).toBeTruthy();

    await killGateway();
    const connects = cp.connects;
    const other = `gw-b-${tag}`; // a new consumer group: it reads every command from the beginning
    await start(other);
    await waitFor(() => cp.connects > connects, {
      what: 'the station reconnected to the other instance',
      timeoutMs: 30_000,
    });
    // whatever the new group read before the station was back, the record comes once more while it is connected
    await redeliver(commandId);

    const view = await finalStatus(commandId);
    expect(view).toEqual(expect.objectContaining({ status: 'interrupted', dispatchedBy: sender }));
    expect(view.result).toEqual(
      expect.objectContaining({ gatewayInstance: other, protocol: 'ocpp2.0.1', response: null }),
    );
    await waitFor(() => resultsOf(commandId).length > 0, {
      what: 'the result on the results topic',
      timeoutMs: 30_000,
    });
    expect(resultsOf(commandId).map((e) => e.payload.status)).toEqual(['interrupted']);
    // it was the dispatch on record that stopped it (not a start-up recovery: this instance never sent it)
    expect(
      gw!
        .output()
        .split('\n')
        .some((l) => l.includes(commandId) && l.includes('command already sent once: not sent again')),
    ).toBe(true);
    expect(cp.count('RequestStartTransaction')).toBe(1);
  }, 180_000);

  it('a command that expired while it waited behind another call is not sent late', async () => {
    const cp = await station('ocpp1.6');
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    cp.answer = async (action) => {
      if (action === 'Reset') await released;
      return { status: 'Accepted' };
    };
    const first = await send(cp, 'Reset', { type: 'Soft' });
    await waitFor(() => cp.count('Reset') === 1, { what: 'the Reset at the station', timeoutMs: 30_000 });
    const late = await send(cp, 'ClearCache', {}, 1);
    await waitFor(() => Date.now() > Date.parse(late.expiresAt) + 200, {
      what: 'the second command expired',
      timeoutMs: 10_000,
    });
    release();
    expect((await finalStatus(first.commandId)).status).toBe('accepted');
    expect(await finalStatus(late.commandId)).toEqual(
      expect.objectContaining({ status: 'expired', dispatchedAt: null }),
    );
    expect(cp.count('ClearCache')).toBe(0);
  }, 120_000);
});
