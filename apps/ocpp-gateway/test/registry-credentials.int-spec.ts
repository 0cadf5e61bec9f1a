import { randomUUID } from 'node:crypto';
import { StationRegisteredV2 } from '@csms/contracts';
import { KafkaRecordPublisher } from '@csms/messaging';
import { TopicCollector, createTestDatabase, testKafka, uniqueName, waitFor, type TestDatabase } from '@csms/testing';
import { gatewayMigrations } from '../src/migrations';
import type { GatewayRuntime } from '../src/runtime';
import { api, chargePoint, refusedWith, startTestGateway, startTestRuntime, type TestGateway } from './harness';

const PASSWORD = 'first-station-password-1';
const NEW_PASSWORD = 'second-station-password-2';

interface Record3 {
  version: number;
  key: string;
  payload: {
    stationId: string;
    passwordSet?: boolean;
    credentialRevision?: number;
    revision: number;
    deleted: boolean;
  };
}

/**
 * Station credentials stay in the gateway's database: `registry.station_registered` v3 carries no hash, a
 * second instance learns a station through the topic and reads its credentials from the shared database.
 */
describe('ocpp-gateway registry credentials', () => {
  let db: TestDatabase;
  let gw: TestGateway;
  let second: GatewayRuntime;
  let stations: TopicCollector;
  const topics = {
    inbound: uniqueName('ocpp.inbound'),
    stations: uniqueName('registry.stations'),
    tokens: uniqueName('registry.tokens'),
    commands: uniqueName('ocpp.commands'),
    results: uniqueName('ocpp.command_results'),
  };
  let env: Record<string, string>;
  const secondUrl = () => `ws://127.0.0.1:${second.server.ports.ws}/ocpp`;
  const connect = (url: string, identity: string, password: string) =>
    refusedWith(chargePoint({ endpoint: url, identity, protocols: ['ocpp1.6'], password }));
  const records = (id: string) =>
    stations.records
      .filter((r) => r.key === id && r.value)
      .map((r) => ({ raw: r.value!, env: JSON.parse(r.value!) as Record3 }));
  const put = (id: string, body: Record<string, unknown>) => api(gw, 'PUT', `/api/v1/stations/${id}`, body);
  const revisionOf = async (id: string) =>
    ((await api(gw, 'GET', `/api/v1/stations/${id}`)).body as { revision: number }).revision;

  beforeAll(async () => {
    db = await createTestDatabase('ocpp_gateway_credentials', gatewayMigrations);
    await db.dataSource.destroy(); // the gateways open their own pools on this database
    env = {
      DATABASE_URL: db.url,
      OCPP_INBOUND_TOPIC: topics.inbound,
      REGISTRY_STATIONS_TOPIC: topics.stations,
      REGISTRY_TOKENS_TOPIC: topics.tokens,
      OCPP_COMMANDS_TOPIC: topics.commands,
      OCPP_COMMAND_RESULTS_TOPIC: topics.results,
    };
    gw = await startTestGateway(env);
    second = await startTestRuntime(env);
    stations = await new TopicCollector(testKafka(), [topics.stations]).start();
  });

  afterAll(async () => {
    await stations?.close();
    await second?.stop();
    await gw?.close();
    await db?.drop();
  });

  it('publishes v3 with no hash; a second instance (topic + database) authenticates the station; a password change is honoured there', async () => {
    const id = uniqueName('CRED');
    expect((await put(id, { securityProfile: 1, password: PASSWORD })).status).toBe(200);
    const [first] = await waitFor(() => (records(id).length > 0 ? records(id) : undefined), {
      what: 'the registry record',
    });
    expect(first.env.version).toBe(3);
    expect(first.env.payload).toMatchObject({ passwordSet: true, credentialRevision: first.env.payload.revision });
    expect(first.env.payload).not.toHaveProperty('passwordHash');
    expect(first.raw).not.toContain('scrypt');

    await waitFor(() => second.registryCache.station(id), { what: 'the station on the second instance' });
    expect(await connect(secondUrl(), id, PASSWORD)).toBe('connected');
    // verified once and remembered (by the old hash) on the second instance
    expect(await connect(secondUrl(), id, PASSWORD)).toBe('connected');

    const oldHash = second.registryCache.station(id)?.passwordHash;
    expect(oldHash).toMatch(/^scrypt\$/);
    expect((await put(id, { securityProfile: 1, password: NEW_PASSWORD })).status).toBe(200);
    const changed = await waitFor(() => records(id).find((r) => r.env.payload.revision > first.env.payload.revision), {
      what: 'the record of the change',
    });
    expect(changed.env.payload.credentialRevision).toBe(changed.env.payload.revision);
    expect(changed.raw).not.toContain('scrypt');
    // the second instance re-read the row (the event carries no hash)
    await waitFor(
      () =>
        second.registryCache.credentialsReady(id) &&
        ![undefined, null, oldHash].includes(second.registryCache.station(id)?.passwordHash),
      { what: 'the new credentials on the second instance' },
    );
    expect(await connect(secondUrl(), id, NEW_PASSWORD)).toBe('connected');
    expect(await connect(secondUrl(), id, PASSWORD)).toBe(401);
    expect(await connect(gw.wsUrl, id, PASSWORD)).toBe(401);
    expect(await connect(gw.wsUrl, id, NEW_PASSWORD)).toBe('connected');

    // a change that sets no password keeps the credential revision (the instances have nothing to re-read)
    expect((await put(id, { securityProfile: 1, timeZone: 'Europe/Paris' })).status).toBe(200);
    const kept = await waitFor(() => records(id).find((r) => r.env.payload.revision > changed.env.payload.revision), {
      what: 'the record of the third change',
    });
    expect(kept.env.payload.credentialRevision).toBe(changed.env.payload.credentialRevision);
    await waitFor(() => second.registryCache.station(id)?.timeZone === 'Europe/Paris', {
      what: 'the third change on the second instance',
    });
    expect(second.registryCache.credentialsReady(id)).toBe(true);
    expect(await connect(secondUrl(), id, NEW_PASSWORD)).toBe('connected');
  });

  it.each([
    ['15 characters', 400, 'x'.repeat(15)],
    ['41 characters', 400, 'x'.repeat(41)],
    ['16 characters', 200, 'x'.repeat(16)],
    ['40 characters', 200, 'x'.repeat(40)],
  ])('a password of %s is answered %s', async (_what, status, password) => {
    const r = await put(uniqueName('LEN'), { securityProfile: 1, password });
    expect(r.status).toBe(status);
    if (status === 400)
      expect(r.body).toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED', field: 'body/password' }));
  });

  it('generates a password on request: returned once, never on reading, never on the topic; the station authenticates with it', async () => {
    const id = uniqueName('GEN');
    const both = await put(id, { securityProfile: 1, password: PASSWORD, generatePassword: true });
    expect(both).toEqual({
      status: 400,
      body: expect.objectContaining({ code: 'VALIDATION_FAILED', field: 'body/generatePassword' }),
    });

    const r = await put(id, { securityProfile: 1, generatePassword: true });
    expect(r.status).toBe(200);
    const generated = (r.body as { password: string }).password;
    expect(generated).toMatch(/^[0-9a-f]{40}$/);
    expect((await api(gw, 'GET', `/api/v1/stations/${id}`)).body).not.toHaveProperty('password');
    const listed = (await api(gw, 'GET', '/api/v1/stations?limit=500')).body as {
      items: Array<Record<string, unknown>>;
    };
    expect(listed.items.find((s) => s.stationId === id)).not.toHaveProperty('password');
    // a later change without generatePassword returns none either (and keeps it)
    const later = await put(id, { securityProfile: 1, timeZone: 'Europe/Amsterdam' });
    expect(later.body).not.toHaveProperty('password');

    await waitFor(() => records(id).length >= 2, { what: 'the registry records' });
    for (const rec of records(id)) expect(rec.raw).not.toContain(generated);
    await waitFor(() => second.registryCache.station(id)?.timeZone === 'Europe/Amsterdam', {
      what: 'the station on the second instance',
    });
    expect(await connect(secondUrl(), id, generated)).toBe('connected');
    expect(await connect(gw.wsUrl, id, generated)).toBe('connected');

    // generating again replaces it
    const again = (await put(id, { securityProfile: 1, generatePassword: true })).body as { password: string };
    expect(again.password).not.toBe(generated);
    expect(await connect(gw.wsUrl, id, generated)).toBe(401);
    expect(await connect(gw.wsUrl, id, again.password)).toBe('connected');
  });

  it('a starting instance re-publishes as v3 the stations whose latest record is older (v2 with a hash), kept or deleted', async () => {
    const kept = uniqueName('OLD');
    expect((await put(kept, { securityProfile: 1, password: PASSWORD })).status).toBe(200);
    const revision = await revisionOf(kept);
    const gone = uniqueName('GONE');
    // records as a gateway before v3 wrote them: the hash on the topic
    const v2 = (stationId: string, rev: number, deleted: boolean) => ({
      id: randomUUID(),
      type: 'registry.station_registered',
      version: 2,
      occurredAt: '2026-01-01T00:00:00.000Z',
      key: stationId,
      source: 'ocpp-gateway',
      causationId: null,
      correlationId: null,
      payload: { ...StationRegisteredV2.example, securityProfile: 1, stationId, deleted, revision: rev },
    });
    const publisher = new KafkaRecordPublisher(testKafka());
    await publisher.publish([
      { topic: topics.stations, key: kept, value: JSON.stringify(v2(kept, revision, false)) },
      { topic: topics.stations, key: gone, value: JSON.stringify(v2(gone, 1, true)) },
    ]);
    await publisher.disconnect();
    await waitFor(() => records(kept).some((r) => r.env.version === 2) && records(gone).length > 0, {
      what: 'the v2 records',
    });

    const third = await startTestRuntime(env);
    try {
      const latest = (id: string) => records(id).at(-1);
      const k = await waitFor(
        () =>
          latest(kept)?.env.version === 3 && latest(kept)!.env.payload.revision > revision ? latest(kept) : undefined,
        { what: 'the kept station again as v3' },
      );
      expect(k.env.payload).toMatchObject({ deleted: false, passwordSet: true });
      expect(k.raw).not.toContain('scrypt');
      const g = await waitFor(() => (latest(gone)?.env.version === 3 ? latest(gone) : undefined), {
        what: 'the deleted station again as v3',
      });
      expect(g.env.payload).toMatchObject({ deleted: true, passwordSet: false });
      expect(g.raw).not.toContain('scrypt');
      // the station still authenticates with its password (from the database) on every instance
      await waitFor(
        () =>
          second.registryCache.station(kept) &&
          (second.registryCache.station(kept)?.passwordHash ?? null) !== null &&
          second.registryCache.credentialsReady(kept),
        { what: 'credentials on the second instance' },
      );
      expect(await connect(secondUrl(), kept, PASSWORD)).toBe('connected');
      expect(third.registryCache.legacyStations()).toEqual([]);
    } finally {
      await third.stop();
    }
    // the next start finds nothing to re-publish
    const count = records(kept).length;
    const fourth = await startTestRuntime(env);
    try {
      expect(fourth.registryCache.legacyStations()).toEqual([]);
      expect(records(kept).length).toBe(count);
    } finally {
      await fourth.stop();
    }
  });
});
