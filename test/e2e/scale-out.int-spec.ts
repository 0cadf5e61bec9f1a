/**
 * Scaling out, proven: two instances of each consuming service (sessions, tariffs, reporting) in one consumer
 * group per service, sharing that service's database, as a deployment runs replicas. Mid-run one instance of each
 * is killed with SIGKILL: its partitions move to the other instance (seen in the group's assignment). Later it is
 * started again and the partitions are shared once more. Afterwards every session has exactly one CDR, nothing is
 * doubled, billing completeness reconciles, and every consumer's lag (the services' own
 * `csms_consumer_lag_records`) is back to zero with every partition held by a live instance.
 */
import { AssignerProtocol, type Admin } from 'kafkajs';
import { Client } from 'pg';
import { newApiKey } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  createTestTopics,
  drivePlan,
  dropTestDatabases,
  freePort,
  prng,
  startServiceProcess,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
  type PlannedSession,
  type ServiceProcess,
} from '@csms/testing';

const SEED = 20261205;
const STATIONS = 10;
const SESSIONS_PER_STATION = 12;
const PARTITIONS = 4;
const PASSWORD = 'scale-station-password';
const admin = newApiKey('scale-admin', 'admin');
const TARIFF = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'SCALE-AC',
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
};

type Consuming = 'session-service' | 'tariff-service' | 'reporting-service';
const CONSUMING: Consuming[] = ['session-service', 'tariff-service', 'reporting-service'];
type Instance = `${Consuming}-${'a' | 'b'}`;

describe('scale out: two instances of each consuming service in one group, one of each killed and restarted', () => {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const dbs = {
    'ocpp-gateway': `csms_test_scale_gateway_${tag}`,
    'session-service': `csms_test_scale_sessions_${tag}`,
    'tariff-service': `csms_test_scale_tariffs_${tag}`,
    'reporting-service': `csms_test_scale_reporting_${tag}`,
  };
  const groups = {
    'session-service': `scale-sessions-${tag}`,
    'tariff-service': `scale-tariffs-${tag}`,
    'reporting-service': `scale-reporting-${tag}`,
  };
  const topics = {
    OCPP_INBOUND_TOPIC: uniqueName('scale.ocpp-inbound'),
    SESSION_EVENTS_TOPIC: uniqueName('scale.session-events'),
    TARIFF_EVENTS_TOPIC: uniqueName('scale.tariff-events'),
    BILLING_EVENTS_TOPIC: uniqueName('scale.billing-events'),
    REGISTRY_STATIONS_TOPIC: uniqueName('scale.registry-stations'),
    REGISTRY_TOKENS_TOPIC: uniqueName('scale.registry-tokens'),
    OCPP_COMMANDS_TOPIC: uniqueName('scale.ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName('scale.ocpp-command-results'),
    MONITORING_EVENTS_TOPIC: uniqueName('scale.monitoring-events'),
  };
  const envs = {} as Record<Instance | 'ocpp-gateway', Record<string, string>>;
  const running = {} as Record<Instance | 'ocpp-gateway', ServiceProcess>;
  let ocppPort = 0;
  let tariffDb: Client;
  let kafkaAdmin: Admin;

  const serviceOf = (i: Instance): Consuming => i.slice(0, -2) as Consuming;
  const start = async (i: Instance | 'ocpp-gateway') => {
    running[i] = await startServiceProcess(i === 'ocpp-gateway' ? i : serviceOf(i), envs[i]);
  };

  beforeAll(async () => {
    await createTestTopics(testKafka(), Object.values(topics), PARTITIONS);
    kafkaAdmin = testKafka('scale-out-test').admin();
    await kafkaAdmin.connect();
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      API_KEYS: admin.entry,
      LOG_LEVEL: 'warn',
      KAFKA_PARTITIONS: String(PARTITIONS),
      ...topics,
    };
    ocppPort = await freePort();
    envs['ocpp-gateway'] = {
      ...common,
      DATABASE_URL: testDatabaseUrl(dbs['ocpp-gateway']),
      HTTP_PORT: String(await freePort()),
      OCPP_PORT: String(ocppPort),
      OCPP_HOST: '127.0.0.1',
      GATEWAY_INSTANCE: `scale-${tag}`,
    };
    for (const service of CONSUMING)
      for (const x of ['a', 'b'] as const)
        envs[`${service}-${x}`] = {
          ...common,
          DATABASE_URL: testDatabaseUrl(dbs[service]),
          HTTP_PORT: String(await freePort()),
          KAFKA_CLIENT_ID: `${service}-${x}`,
          SESSION_CONSUMER_GROUP: groups['session-service'],
          TARIFF_CONSUMER_GROUP: groups['tariff-service'],
          REPORTING_CONSUMER_GROUP: groups['reporting-service'],
        };
    await start('ocpp-gateway');
    // the two instances of a service start together, as replicas do (they take turns migrating)
    // allSettled: if one fails to start, the others are still recorded in `running` (afterAll stops them), not orphaned
    const started = await Promise.allSettled(CONSUMING.flatMap((s) => [start(`${s}-a`), start(`${s}-b`)]));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    tariffDb = new Client({ connectionString: testDatabaseUrl(dbs['tariff-service']) });
    await tariffDb.connect();
  }, 300_000);

  afterAll(async () => {
    await tariffDb?.end();
    await kafkaAdmin?.disconnect();
    for (const s of Object.values(running)) s.kill('SIGKILL');
    await Promise.all(Object.values(running).map((s) => s.exited()));
    await dropTestDatabases(Object.values(dbs));
  }, 120_000);

  const api = async (instance: Instance | 'ocpp-gateway', method: string, path: string, body?: unknown) => {
    const r = await fetch(`${running[instance].url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  /** consumer group id → (client id → partitions of `topic` assigned) */
  const assignment = async (groupId: string, topic: string): Promise<Map<string, number[]>> => {
    const { groups: described } = await kafkaAdmin.describeGroups([groupId]);
    const out = new Map<string, number[]>();
    for (const m of described[0]?.members ?? []) {
      const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      out.set(m.clientId, [...(a?.assignment[topic] ?? [])].sort());
    }
    return out;
  };
  /** the consumer groups of a service and the topic each reads that every instance must share */
  const watched: Array<{ service: Consuming; groupId: string; topic: string }> = [
    { service: 'session-service', groupId: groups['session-service'], topic: topics.OCPP_INBOUND_TOPIC },
    { service: 'tariff-service', groupId: `${groups['tariff-service']}.pricing`, topic: topics.SESSION_EVENTS_TOPIC },
    {
      service: 'reporting-service',
      groupId: `${groups['reporting-service']}.monitoring`,
      topic: topics.OCPP_INBOUND_TOPIC,
    },
    {
      service: 'reporting-service',
      groupId: `${groups['reporting-service']}.billing`,
      topic: topics.SESSION_EVENTS_TOPIC,
    },
  ];
  const allPartitions = Array.from({ length: PARTITIONS }, (_, i) => i);

  const lagOf = async (instance: Instance): Promise<number> => {
    const text = await (await fetch(`${running[instance].url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n'))
      if (line.startsWith('csms_consumer_lag_records{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    return sum;
  };

  const cdrs = async () =>
    (
      await tariffDb.query<{ session_id: string; credit: boolean }>(
        'select session_id, credit from cdrs order by cdr_id',
      )
    ).rows;

  it('gives every session exactly one CDR while partitions move between instances, and lag returns to zero', async () => {
    const rnd = prng(SEED);
    const stationIds = Array.from({ length: STATIONS }, (_, i) => `SCALE-${tag}-${i}`);
    for (const id of stationIds)
      expect(
        (
          await api('ocpp-gateway', 'PUT', `/api/v1/stations/${id}`, {
            securityProfile: 1,
            password: PASSWORD,
            timeZone: 'Europe/Amsterdam',
          })
        ).status,
      ).toBe(200);
    expect(
      (await api('ocpp-gateway', 'PUT', '/api/v1/tokens/SCALE-TAG', { type: 'ISO14443', status: 'Accepted' })).status,
    ).toBe(200);
    expect((await api('tariff-service-a', 'PUT', '/api/v1/tariffs/SCALE-AC', TARIFF)).status).toBe(200);
    expect(
      (
        await api('tariff-service-b', 'POST', '/api/v1/tariff-assignments', {
          tariffId: 'SCALE-AC',
          scope: { kind: 'default' },
        })
      ).status,
    ).toBe(201);

    // both instances of each service hold partitions of the topic they share
    for (const w of watched) {
      const shared = await waitFor(
        async () => {
          const a = await assignment(w.groupId, w.topic);
          const held = [...a.values()].filter((p) => p.length > 0);
          return a.size === 2 && held.length === 2 ? a : undefined;
        },
        { what: `${w.groupId}: two members sharing ${w.topic}`, timeoutMs: 60_000 },
      );
      expect([...shared.values()].flat().sort()).toEqual(allPartitions);
    }

    const plan: PlannedSession[][] = stationIds.map((stationId, s) =>
      Array.from({ length: SESSIONS_PER_STATION }, (_, index) => ({
        stationId,
        protocol: s % 2 === 0 ? 'ocpp1.6' : 'ocpp2.0.1',
        index,
        energyWh: 1000 + Math.floor(rnd() * 4000),
        idTag: 'SCALE-TAG',
      })),
    );
    const total = STATIONS * SESSIONS_PER_STATION;
    const killAt = Math.floor(total * 0.25);
    const restartAt = Math.floor(total * 0.6);
    const victims = CONSUMING.map((s) => `${s}-${rnd() < 0.5 ? 'a' : 'b'}` as Instance);
    const survivors = victims.map((v) => `${v.slice(0, -1)}${v.endsWith('a') ? 'b' : 'a'}` as Instance);
    let completed = 0;
    let phase: 'all' | 'killed' | 'restarted' = 'all';
    const moves: Promise<void>[] = [];
    const step = () => {
      if (phase === 'all' && completed >= killAt) {
        phase = 'killed';
        moves.push(
          (async () => {
            for (const v of victims) running[v].kill('SIGKILL');
            await Promise.all(victims.map((v) => running[v].exited()));
            // the survivors take every partition over (after the group's session timeout at most)
            for (const w of watched) {
              const survivor = survivors[CONSUMING.indexOf(w.service)];
              await waitFor(
                async () => {
                  const a = await assignment(w.groupId, w.topic);
                  const p = a.get(survivor);
                  return a.size === 1 && p && p.length === PARTITIONS ? true : undefined;
                },
                { what: `${survivor} holds all of ${w.topic} (${w.groupId})`, timeoutMs: 90_000 },
              );
            }
          })(),
        );
      } else if (phase === 'killed' && completed >= restartAt) {
        phase = 'restarted';
        moves.push(
          (async () => {
            await moves[0];
            const again = await Promise.allSettled(victims.map((v) => start(v)));
            const refused = again.find((r) => r.status === 'rejected');
            if (refused) throw refused.reason;
          })(),
        );
      }
    };

    const stations = await drivePlan(plan, {
      url: `ws://127.0.0.1:${ocppPort}/ocpp`,
      password: PASSWORD,
      startRegisterWh: 50_000,
      afterSession: () => {
        completed++;
        step();
      },
    });
    await Promise.all(moves);
    for (const st of stations) await st.close();
    expect(phase).toBe('restarted');

    // exactly one CDR per session, none doubled, no credit notes
    await waitFor(async () => ((await cdrs()).length >= total ? true : undefined), {
      what: `${total} CDRs`,
      timeoutMs: 180_000,
    });
    const got = await cdrs();
    expect(got).toHaveLength(total);
    expect(got.filter((c) => c.credit)).toEqual([]);
    expect(new Set(got.map((c) => c.session_id)).size).toBe(total);

    // billing completeness as the reporting service's instances reconciled it (either answers: one database)
    const complete = await waitFor(
      async () => {
        const r = (await api('reporting-service-a', 'GET', '/api/v1/billing-completeness')).body as {
          complete: boolean;
          totals: { sessionsEnded: number; cdrs: number; multipleOutcomes: number; missing: number };
        };
        return r.complete && r.totals.sessionsEnded === total ? r : undefined;
      },
      { what: 'billing complete', timeoutMs: 120_000 },
    );
    expect(complete.totals).toMatchObject({ sessionsEnded: total, cdrs: total, multipleOutcomes: 0, missing: 0 });

    // the restarted instances hold partitions again, every partition is held, and the lag is back to zero
    for (const w of watched) {
      const a = await waitFor(
        async () => {
          const x = await assignment(w.groupId, w.topic);
          return x.size === 2 && [...x.values()].every((p) => p.length > 0) ? x : undefined;
        },
        { what: `${w.groupId}: shared again`, timeoutMs: 90_000 },
      );
      expect([...a.values()].flat().sort()).toEqual(allPartitions);
    }
    const instances = CONSUMING.flatMap((s) => [`${s}-a`, `${s}-b`] as Instance[]);
    await waitFor(async () => ((await Promise.all(instances.map(lagOf))).every((l) => l === 0) ? true : undefined), {
      what: 'every consumer lag back to zero',
      timeoutMs: 90_000,
    });
    process.stdout.write(
      `scale-out: ${total} sessions, killed ${victims.join(', ')} after ${killAt}, restarted after ${restartAt}\n`,
    );
  }, 900_000);
});
