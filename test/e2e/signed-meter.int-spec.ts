/**
 * Signed meter values end to end, every service as its own process on the real Kafka and PostgreSQL: simulated
 * stations (OCPP 1.6 and 2.0.1) whose meters sign their transaction begin and end readings as OCMF with a key
 * made at simulator start; an operator confirms each meter's key with the tariff service; the CDRs carry OCPI
 * signed_data and an audit that says the signatures verified and the signed energy matches the bill; a station
 * that tampers with its end reading gets a CDR flagged FAILED (the default policy prices with the flag); the
 * transparency export of a CDR gives back the signed records and the key, which verify on their own.
 */
import { verifyOcmf } from '@csms/ocmf';
import { newApiKey } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
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
import { Simulation } from '../../apps/simulator/src';

const admin = newApiKey('e2e-admin', 'admin');
const PASSWORD = 'e2e-signed-station-password';
const TOKEN = 'E2E-SIGNED';

interface Json {
  [k: string]: unknown;
}
interface SignedAudit {
  result: string;
  flags: string[];
  key: { source: string; stationKey: string | null };
  values: Array<{ nature: string; status: string }>;
  energy: { signedWh: string; billedWh: string; result: string } | null;
}
type CdrWithAudit = Json & {
  id: string;
  total_energy: string;
  signed_data?: {
    encoding_method: string;
    public_key?: string;
    signed_values: Array<{ nature: string; signed_data: string }>;
  };
  audit: { signedMeterValues?: SignedAudit };
};

describe('signed meter values: simulated meters to verified CDRs and a transparency export, every service its own process', () => {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const dbs = ['gateway', 'sessions', 'tariffs'].map((s) => `csms_test_e2e_signed_${s}_${tag}`);
  const topics = {
    OCPP_INBOUND_TOPIC: uniqueName('e2e.ocpp-inbound'),
    SESSION_EVENTS_TOPIC: uniqueName('e2e.session-events'),
    TARIFF_EVENTS_TOPIC: uniqueName('e2e.tariff-events'),
    BILLING_EVENTS_TOPIC: uniqueName('e2e.billing-events'),
    REGISTRY_STATIONS_TOPIC: uniqueName('e2e.registry-stations'),
    REGISTRY_TOKENS_TOPIC: uniqueName('e2e.registry-tokens'),
    OCPP_COMMANDS_TOPIC: uniqueName('e2e.ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName('e2e.ocpp-command-results'),
  };
  const services: Record<string, ServiceProcess> = {};
  let ocppPort = 0;
  let sim: Simulation | undefined;

  beforeAll(async () => {
    await createTestTopics(testKafka(), Object.values(topics), 3);
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), API_KEYS: admin.entry, LOG_LEVEL: 'warn', ...topics };
    ocppPort = await freePort();
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const envs: Record<string, Record<string, string>> = {
      'ocpp-gateway': {
        ...common,
        DATABASE_URL: testDatabaseUrl(dbs[0]),
        HTTP_PORT: String(ports[0]),
        OCPP_PORT: String(ocppPort),
        OCPP_HOST: '127.0.0.1',
        GATEWAY_INSTANCE: `e2e-signed-${tag}`,
      },
      'session-service': {
        ...common,
        DATABASE_URL: testDatabaseUrl(dbs[1]),
        HTTP_PORT: String(ports[1]),
        SESSION_CONSUMER_GROUP: uniqueName('e2e-sessions'),
      },
      'tariff-service': {
        ...common,
        DATABASE_URL: testDatabaseUrl(dbs[2]),
        HTTP_PORT: String(ports[2]),
        TARIFF_CONSUMER_GROUP: uniqueName('e2e-tariffs'),
      },
    };
    // one at a time: TypeScript start-ups at once starve a 2-core machine
    for (const [name, env] of Object.entries(envs)) services[name] = await startServiceProcess(name, env);
  }, 300_000);

  afterAll(async () => {
    await sim?.stop().catch(() => undefined);
    for (const s of Object.values(services)) s.kill('SIGTERM');
    await Promise.all(Object.values(services).map((s) => s.exited()));
    await dropTestDatabases(dbs);
  }, 120_000);

  const api = async <T = Json>(service: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${services[service].url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, text, body: (text.startsWith('{') ? JSON.parse(text) : undefined) as T };
  };

  it('signs, verifies, flags the tampered sessions, and exports what an auditor checks', async () => {
    const ids = {
      honest16: uniqueName('SIGN16'),
      tamper16: uniqueName('TAMPER16'),
      honest201: uniqueName('SIGN201'),
      tamper201: uniqueName('TAMPER201'),
    };
    const stationIds = [ids.honest16, ids.honest201, ids.tamper16, ids.tamper201];
    for (const id of stationIds) {
      const body = {
        securityProfile: 1,
        password: PASSWORD,
        siteId: 'site-signed',
        timeZone: 'Europe/Berlin',
        evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }],
      };
      expect((await api('ocpp-gateway', 'PUT', `/api/v1/stations/${id}`, body)).status).toBe(200);
    }
    expect(
      (await api('ocpp-gateway', 'PUT', `/api/v1/tokens/${TOKEN}`, { type: 'ISO14443', status: 'Accepted' })).status,
    ).toBe(200);
    const tariff = {
      id: 'E2E-SIGNED',
      currency: 'EUR',
      elements: [{ price_components: [{ type: 'ENERGY', price: 0.39, vat: 19, step_size: 1 }] }],
    };
    expect((await api('tariff-service', 'PUT', `/api/v1/tariffs/${tariff.id}`, tariff)).status).toBe(200);
    expect(
      (
        await api('tariff-service', 'POST', '/api/v1/tariff-assignments', {
          tariffId: tariff.id,
          scope: { kind: 'site', siteId: 'site-signed' },
        })
      ).status,
    ).toBe(201);

    // stations 0, 1: 1.6, 2.0.1 (mixed); 2, 3: the tampering ones, 1.6 and 2.0.1
    sim = new Simulation({
      url: `ws://127.0.0.1:${ocppPort}/ocpp`,
      stationIds,
      connectors: 1,
      sessions: 1,
      protocol: 'mixed',
      seed: 15,
      password: PASSWORD,
      tokens: [TOKEN],
      shape: {
        base: 'quick',
        chargeSeconds: [60, 60],
        idleSeconds: [5, 5],
        gapSeconds: [0, 0],
        plugToAuthSeconds: [2, 2],
        authToChargeSeconds: [1, 1],
        maxPowerW: [22_000, 22_000],
        faultProbability: 0,
        suspendProbability: 0,
        offlineProbability: 0,
        stopByUnplugProbability: 0,
        unplugAfterStopSeconds: [2, 2],
      },
      speed: 4,
      sampleIntervalSeconds: 20,
      keepLog: false,
      signing: { tamper: (stationId) => stationId.startsWith('TAMPER') },
    });
    // an operator confirms each meter's key (the whole station: EVSE 0), from the simulator's start
    for (const k of sim.meterKeys()) {
      const set = await api<Json>('tariff-service', 'POST', '/api/v1/meter-keys', {
        stationId: k.stationId,
        evseId: 0,
        publicKey: k.publicKeyHex,
        meterSerial: k.meterSerial,
        validFrom: sim.clock.iso(0),
      });
      expect(set.status).toBe(201);
      expect(set.body).toMatchObject({ status: 'confirmed', setBy: { keyName: 'e2e-admin', role: 'admin' } });
    }
    // the gateway answers from its registry copy, fed by the compacted topics
    await waitFor(
      async () => {
        const r = await api<{ items: unknown[] }>('ocpp-gateway', 'GET', '/api/v1/stations?limit=50');
        return r.status === 200;
      },
      { what: 'gateway API' },
    );
    await new Promise((r) => setTimeout(r, 1500));
    sim.start();
    const summary = await sim.whenDone();
    expect(summary.totals.sessionsCompleted).toBe(4);
    expect(summary.totals.errors).toBe(0);

    const cdrOf = (stationId: string) =>
      waitFor(
        async () => {
          const r = await api<{ items: CdrWithAudit[] }>(
            'tariff-service',
            'GET',
            `/api/v1/cdrs?stationId=${stationId}&include=audit`,
          );
          return r.body?.items[0];
        },
        { what: `the CDR of ${stationId}`, timeoutMs: 90_000 },
      );

    for (const id of [ids.honest16, ids.honest201]) {
      const cdr = await cdrOf(id);
      const key = sim.meterKeys().find((k) => k.stationId === id)!;
      expect(cdr.signed_data).toMatchObject({ encoding_method: 'OCMF', public_key: key.publicKeyHex });
      expect(cdr.signed_data!.signed_values.map((v) => v.nature)).toEqual(['Start', 'End']);
      const audit = cdr.audit.signedMeterValues!;
      expect([id, audit.result, audit.flags]).toEqual([id, 'VERIFIED', []]);
      expect(audit.values.map((v) => v.status)).toEqual(['VALID', 'VALID']);
      expect(audit.energy).toMatchObject({ result: 'match' });
      expect(Number(audit.energy!.signedWh)).toBeGreaterThan(0);
      expect(audit.key.source).toBe('registry');
      // the 2.0.1 station sends its key too: recorded, not what was trusted
      expect(audit.key.stationKey === null).toBe(id === ids.honest16);

      // what an auditor gets: the signed records and the key, which verify without us
      const x = await api('tariff-service', 'GET', `/api/v1/cdrs/${cdr.id}/transparency`);
      expect(x.status).toBe(200);
      const records = [...x.text.matchAll(/<signedData format="OCMF" encoding="plain">([^<]*)<\/signedData>/g)].map(
        (m) => m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'),
      );
      const keys = [...x.text.matchAll(/<publicKey encoding="hex">([0-9A-F]+)<\/publicKey>/g)].map((m) => m[1]);
      expect(records).toHaveLength(2);
      expect(records.map((r, i) => verifyOcmf(r, keys[i]).status)).toEqual(['VALID', 'VALID']);
      expect(records.map((r) => Buffer.from(r).toString('base64'))).toEqual(
        cdr.signed_data!.signed_values.map(
          (v) =>
            // 2.0.1 signed_data is the station's base64 as sent; 1.6 the base64 of the SignedData text
            v.signed_data,
        ),
      );
    }

    for (const id of [ids.tamper16, ids.tamper201]) {
      const cdr = await cdrOf(id);
      const audit = cdr.audit.signedMeterValues!;
      expect([id, audit.result]).toEqual([id, 'FAILED']);
      expect(audit.flags).toEqual(expect.arrayContaining(['SIGNATURE_INVALID', 'SIGNED_ENERGY_MISMATCH']));
      expect(audit.values.map((v) => [v.nature, v.status])).toEqual([
        ['Start', 'VALID'],
        ['End', 'INVALID'],
      ]);
      // priced (the default policy flags), never silently: the audit says the signed energy is 1 kWh off the bill
      expect(Number(audit.energy!.signedWh) - Number(audit.energy!.billedWh)).toBe(1000);
    }
  }, 240_000);
});
