/**
 * Crash safety: 200 sessions through the whole chain (gateway, sessions, tariffs, reporting as separate
 * processes) while each service is killed with SIGKILL once, at a point chosen by a seeded PRNG, and
 * started again. Afterwards every session has exactly one CDR, none is missing or doubled (in the tariff
 * service's store, and in the reporting service's billing completeness), and the totals equal those of an
 * undisturbed run of the same seed (computed from the plan: the tariff is FLAT 1.00 + 0.25/kWh, 21 % VAT, so
 * each session's total follows from its energy).
 * Then the services' databases are dropped and rebuilt from the topics, and every CDR comes back identical.
 */
import Decimal from 'decimal.js';
import { Client } from 'pg';
import { newApiKey } from '@csms/service-kit';
import { loadSessionServiceConfig } from '../../apps/session-service/src/config';
import { rebuildSessionStore } from '../../apps/session-service/src/rebuild';
import { loadTariffServiceConfig } from '../../apps/tariff-service/src/config';
import { rebuildTariffService } from '../../apps/tariff-service/src/rebuild';
import {
  TEST_KAFKA_BROKERS,
  createTestTopics,
  drivePlan,
  freePort,
  prng,
  startServiceProcess,
  testKafka,
  uniqueName,
  waitFor,
  type PlannedSession,
  type ServiceProcess,
  testDatabaseUrl,
  dropTestDatabases,
} from '@csms/testing';

const SEED = 20261126;
const STATIONS = 20;
const SESSIONS_PER_STATION = 10;
const PASSWORD = 'crash-station-password';
const admin = newApiKey('crash-admin', 'admin');
const TARIFF = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'CRASH-AC',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 1.0, vat: 21, step_size: 1 },
        { type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 },
      ],
    },
  ],
};

describe('crash safety and replay across the whole chain (every service its own process, kill -9)', () => {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const names = ['ocpp-gateway', 'session-service', 'tariff-service', 'reporting-service'] as const;
  const dbs = Object.fromEntries(names.map((n) => [n, `csms_test_crash_${n.replace(/-/g, '_')}_${tag}`])) as Record<
    (typeof names)[number],
    string
  >;
  const topics = {
    OCPP_INBOUND_TOPIC: uniqueName('crash.ocpp-inbound'),
    SESSION_EVENTS_TOPIC: uniqueName('crash.session-events'),
    TARIFF_EVENTS_TOPIC: uniqueName('crash.tariff-events'),
    BILLING_EVENTS_TOPIC: uniqueName('crash.billing-events'),
    REGISTRY_STATIONS_TOPIC: uniqueName('crash.registry-stations'),
    REGISTRY_TOKENS_TOPIC: uniqueName('crash.registry-tokens'),
    OCPP_COMMANDS_TOPIC: uniqueName('crash.ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName('crash.ocpp-command-results'),
    MONITORING_EVENTS_TOPIC: uniqueName('crash.monitoring-events'),
    FINANCE_EVENTS_TOPIC: uniqueName('crash.finance-events'),
  };
  const envs = {} as Record<(typeof names)[number], Record<string, string>>;
  const running = {} as Record<(typeof names)[number], ServiceProcess>;
  let ocppPort = 0;
  let tariffDb: Client;

  beforeAll(async () => {
    await createTestTopics(testKafka(), Object.values(topics), 3);
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), API_KEYS: admin.entry, LOG_LEVEL: 'warn', ...topics };
    ocppPort = await freePort();
    envs['ocpp-gateway'] = {
      ...common,
      DATABASE_URL: testDatabaseUrl(dbs['ocpp-gateway']),
      HTTP_PORT: String(await freePort()),
      OCPP_PORT: String(ocppPort),
      OCPP_HOST: '127.0.0.1',
      GATEWAY_INSTANCE: `crash-${tag}`,
    };
    envs['session-service'] = {
      ...common,
      DATABASE_URL: testDatabaseUrl(dbs['session-service']),
      HTTP_PORT: String(await freePort()),
      SESSION_CONSUMER_GROUP: `crash-sessions-${tag}`,
    };
    envs['tariff-service'] = {
      ...common,
      DATABASE_URL: testDatabaseUrl(dbs['tariff-service']),
      HTTP_PORT: String(await freePort()),
      TARIFF_CONSUMER_GROUP: `crash-tariffs-${tag}`,
    };
    // the reporting service reads the tariff service's pricing dead letters (billing completeness)
    envs['reporting-service'] = {
      ...common,
      DATABASE_URL: testDatabaseUrl(dbs['reporting-service']),
      HTTP_PORT: String(await freePort()),
      REPORTING_CONSUMER_GROUP: `crash-reporting-${tag}`,
      TARIFF_CONSUMER_GROUP: `crash-tariffs-${tag}`,
    };
    for (const n of names) running[n] = await startServiceProcess(n, envs[n]);
    tariffDb = new Client({ connectionString: envs['tariff-service'].DATABASE_URL });
    await tariffDb.connect();
  }, 300_000);

  afterAll(async () => {
    await tariffDb?.end();
    for (const s of Object.values(running)) s.kill('SIGKILL');
    await Promise.all(Object.values(running).map((s) => s.exited()));
    await dropTestDatabases(Object.values(dbs));
  }, 120_000);

  const api = async (service: (typeof names)[number], method: string, path: string, body?: unknown) => {
    const r = await fetch(`${running[service].url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  const cdrs = async (): Promise<
    Array<{
      session_id: string;
      cdr_id: string;
      credit: boolean;
      content_hash: string;
      total_excl_vat: string;
      total_incl_vat: string;
      cdr: { total_energy: string; cdr_token: { uid: string } };
    }>
  > =>
    (
      await tariffDb.query(
        'select session_id, cdr_id, credit, content_hash, total_excl_vat::text, total_incl_vat::text, cdr from cdrs order by cdr_id',
      )
    ).rows;

  it('gives every one of 200 sessions exactly one CDR with the undisturbed totals, through a kill -9 of each service, and the same CDRs after a rebuild', async () => {
    const rnd = prng(SEED);
    const stationIds = Array.from({ length: STATIONS }, (_, i) => `CRASH-${tag}-${i}`);
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
      (await api('ocpp-gateway', 'PUT', '/api/v1/tokens/CRASH-TAG', { type: 'ISO14443', status: 'Accepted' })).status,
    ).toBe(200);
    expect((await api('tariff-service', 'PUT', '/api/v1/tariffs/CRASH-AC', TARIFF)).status).toBe(200);
    expect(
      (
        await api('tariff-service', 'POST', '/api/v1/tariff-assignments', {
          tariffId: 'CRASH-AC',
          scope: { kind: 'default' },
        })
      ).status,
    ).toBe(201);
    await waitFor(async () => (await fetch(`${running['ocpp-gateway'].url}/health/ready`)).status === 200, {
      what: 'gateway ready',
    });

    // the plan (same seed, same plan): 200 sessions of 2 to 5 kWh
    const plan: PlannedSession[][] = stationIds.map((stationId, s) =>
      Array.from({ length: SESSIONS_PER_STATION }, (_, index) => ({
        stationId,
        protocol: s % 2 === 0 ? 'ocpp1.6' : 'ocpp2.0.1',
        index,
        energyWh: 2000 + Math.floor(rnd() * 3000),
        idTag: 'CRASH-TAG',
      })),
    );
    const total = STATIONS * SESSIONS_PER_STATION;
    // each service dies once, after a seeded number of completed sessions
    const killAt = new Map(names.map((n) => [n, 20 + Math.floor(rnd() * (total - 60))]));
    let completed = 0;
    const kills: string[] = [];
    const crashes: Promise<void>[] = [];
    const maybeKill = () => {
      for (const [n, at] of killAt) {
        if (completed >= at && !kills.includes(n)) {
          kills.push(n);
          crashes.push(
            (async () => {
              running[n].kill('SIGKILL');
              await running[n].exited();
              running[n] = await startServiceProcess(n, envs[n]);
            })(),
          );
        }
      }
    };

    const stations = await drivePlan(plan, {
      url: `ws://127.0.0.1:${ocppPort}/ocpp`,
      password: PASSWORD,
      startRegisterWh: 100_000,
      afterSession: () => {
        completed++;
        maybeKill();
      },
    });
    await Promise.all(crashes);
    for (const st of stations) await st.close();
    expect(kills.sort()).toEqual([...names].sort());

    // exactly one CDR per session, the undisturbed totals
    await waitFor(async () => (await cdrs()).length >= total, { what: `${total} CDRs`, timeoutMs: 180_000 });
    const got = await cdrs();
    expect(got.filter((c) => c.credit)).toEqual([]);
    expect(got).toHaveLength(total);
    expect(new Set(got.map((c) => c.session_id)).size).toBe(total);
    // each CDR's totals are rounded once, half-up, to the cent; the undisturbed run's are computed the same way
    const unrounded = plan.flat().map((p) => new Decimal(1).plus(new Decimal(p.energyWh).div(1000).times('0.25')));
    const cents = (d: Decimal) => d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    const sum = (xs: Decimal[]) => xs.reduce((a, b) => a.plus(b), new Decimal(0));
    expect(sum(got.map((c) => new Decimal(c.total_excl_vat))).toFixed(2)).toBe(sum(unrounded.map(cents)).toFixed(2));
    expect(sum(got.map((c) => new Decimal(c.total_incl_vat))).toFixed(2)).toBe(
      sum(unrounded.map((e) => cents(e.times('1.21')))).toFixed(2),
    );
    expect(got.map((c) => new Decimal(c.total_excl_vat).toFixed(2)).sort()).toEqual(
      unrounded.map((e) => cents(e).toFixed(2)).sort(),
    );
    expect(got.map((c) => c.cdr.total_energy).sort()).toEqual(
      plan
        .flat()
        .map((p) => new Decimal(p.energyWh).div(1000).toFixed())
        .sort(),
    );
    const retries = stations.reduce((n, s) => n + s.retries, 0);

    // billing completeness, as the reporting service (killed once too) reconciles it: every session ended has
    // exactly one outcome, a CDR; nothing missing, pending, doubled or dead-lettered
    const complete = {
      sessionsEnded: total,
      cdrs: total,
      creditCdrs: 0,
      pricingFailures: 0,
      deadLetters: 0,
      missing: 0,
      pending: 0,
      multipleOutcomes: 0,
      outcomesWithoutSession: 0,
    };
    const completeness = async () =>
      (await api('reporting-service', 'GET', '/api/v1/billing-completeness')).body as {
        complete: boolean;
        totals: unknown;
        missingSessions: unknown[];
        days: Array<{ currency: string | null }>;
      };
    const reconciled = await waitFor(
      async () => {
        const r = await completeness();
        return r.complete && JSON.stringify(r.totals) === JSON.stringify(complete) ? r : undefined;
      },
      { what: 'billing complete: one CDR for each of the sessions ended', timeoutMs: 120_000 },
    );
    expect(reconciled.missingSessions).toEqual([]);
    expect(new Set(reconciled.days.map((d) => d.currency))).toEqual(new Set(['EUR']));

    // replay: stop the services, drop their databases, rebuild from the topics, compare
    for (const n of ['session-service', 'tariff-service'] as const) {
      running[n].kill('SIGTERM');
      expect(await running[n].exited()).toBe(0);
    }
    await tariffDb.end();
    await rebuildSessionStore(loadSessionServiceConfig(envs['session-service']));
    await rebuildTariffService(loadTariffServiceConfig(envs['tariff-service']));
    tariffDb = new Client({ connectionString: envs['tariff-service'].DATABASE_URL });
    await tariffDb.connect();
    expect(await cdrs()).toEqual([]);
    for (const n of ['session-service', 'tariff-service'] as const) running[n] = await startServiceProcess(n, envs[n]);
    await waitFor(async () => (await cdrs()).length >= total, { what: 'the rebuilt CDRs', timeoutMs: 180_000 });
    expect(await cdrs()).toEqual(got);
    // the rebuilt services re-emit the same events (same ids): the reporting service counts each outcome once
    expect((await completeness()).totals).toEqual(complete);
    process.stdout.write(
      `crash-safety: ${total} sessions, kills ${JSON.stringify(Object.fromEntries(killAt))}, charger retries ${retries}\n`,
    );
  }, 600_000);
});
