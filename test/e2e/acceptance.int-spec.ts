/**
 * The buyer's acceptance workflow, end to end, with every service as its own process on the real Kafka
 * and PostgreSQL: charger boot (and refusals), authorisation (accepted, blocked, expired, unknown), start,
 * meter values, stop, the priced CDR through the API with the exact totals and its full OCPI cdr_location
 * (location and connector types registered through the gateway API), a Faulted connector as an
 * alarm, a remote reset and a firmware update that reach the station and whose status comes back, and a
 * request for diagnostics / logs. For an OCPP 1.6 and an OCPP 2.0.1 station.
 */
import { RPCClient } from 'ocpp-rpc';
import { newApiKey } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  createTestTopics,
  freePort,
  startServiceProcess,
  testKafka,
  uniqueName,
  waitFor,
  type ServiceProcess,
  testDatabaseUrl,
  dropTestDatabases,
} from '@csms/testing';
import { chargeTwelveKwh16 } from './system';

const admin = newApiKey('e2e-admin', 'admin');
const PASSWORD = 'e2e-station-password-1';

interface Json {
  [k: string]: unknown;
}

/** ocpp-rpc's typings list every option as required; its defaults fill what we leave out. */
const clientOptions = (o: Record<string, unknown>) => o as unknown as ConstructorParameters<typeof RPCClient>[0];
const requestIdOf = (params: unknown) => (params as { requestId: number }).requestId;

/** FLAT 1.00 + ENERGY 0.25/kWh, 21 % VAT: the totals depend on energy only, not on how long the test takes. */
const TARIFF = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'E2E-AC',
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

describe('acceptance workflow: chargers to priced CDRs, alarms and remote operations, every service its own process', () => {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const dbs = ['gateway', 'sessions', 'tariffs', 'reporting'].map((s) => `csms_test_e2e_${s}_${tag}`);
  const topics = {
    OCPP_INBOUND_TOPIC: uniqueName('e2e.ocpp-inbound'),
    SESSION_EVENTS_TOPIC: uniqueName('e2e.session-events'),
    TARIFF_EVENTS_TOPIC: uniqueName('e2e.tariff-events'),
    BILLING_EVENTS_TOPIC: uniqueName('e2e.billing-events'),
    REGISTRY_STATIONS_TOPIC: uniqueName('e2e.registry-stations'),
    REGISTRY_TOKENS_TOPIC: uniqueName('e2e.registry-tokens'),
    OCPP_COMMANDS_TOPIC: uniqueName('e2e.ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName('e2e.ocpp-command-results'),
    MONITORING_EVENTS_TOPIC: uniqueName('e2e.monitoring-events'),
    FINANCE_EVENTS_TOPIC: uniqueName('e2e.finance-events'),
  };
  const services: Record<string, ServiceProcess> = {};
  const clients: RPCClient[] = [];
  let ocppPort = 0;

  beforeAll(async () => {
    await createTestTopics(testKafka(), Object.values(topics), 3);
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), API_KEYS: admin.entry, LOG_LEVEL: 'warn', ...topics };
    const tariffGroup = uniqueName('e2e-tariffs');
    ocppPort = await freePort();
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const envs: Record<string, Record<string, string>> = {
      'ocpp-gateway': {
        ...common,
        DATABASE_URL: testDatabaseUrl(dbs[0]),
        HTTP_PORT: String(ports[0]),
        OCPP_PORT: String(ocppPort),
        OCPP_HOST: '127.0.0.1',
        GATEWAY_INSTANCE: `e2e-${tag}`,
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
        TARIFF_CONSUMER_GROUP: tariffGroup,
      },
      // reads the tariff service's pricing dead letters (billing completeness)
      'reporting-service': {
        ...common,
        DATABASE_URL: testDatabaseUrl(dbs[3]),
        HTTP_PORT: String(ports[3]),
        REPORTING_CONSUMER_GROUP: uniqueName('e2e-reporting'),
        TARIFF_CONSUMER_GROUP: tariffGroup,
      },
    };
    // one at a time: four TypeScript start-ups at once starve a 2-core machine
    for (const [name, env] of Object.entries(envs)) services[name] = await startServiceProcess(name, env);
  }, 300_000);

  afterAll(async () => {
    for (const c of clients) await c.close({ force: true }).catch(() => undefined);
    for (const s of Object.values(services)) s.kill('SIGTERM');
    await Promise.all(Object.values(services).map((s) => s.exited()));
    await dropTestDatabases(dbs);
  }, 120_000);

  const api = async <T = Json>(
    service: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${services[service].url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  async function station(
    identity: string,
    protocol: 'ocpp1.6' | 'ocpp2.0.1',
    password: string | null = PASSWORD,
  ): Promise<RPCClient> {
    const c = new RPCClient(
      clientOptions({
        endpoint: `ws://127.0.0.1:${ocppPort}/ocpp`,
        identity,
        protocols: [protocol],
        password,
        reconnect: false,
        strictMode: true,
        callTimeoutMs: 20_000,
      }),
    );
    clients.push(c);
    await c.connect();
    return c;
  }
  async function refused(identity: string, password: string | null): Promise<string> {
    const c = new RPCClient(
      clientOptions({
        endpoint: `ws://127.0.0.1:${ocppPort}/ocpp`,
        identity,
        protocols: ['ocpp1.6'],
        password,
        reconnect: false,
      }),
    );
    try {
      await c.connect();
    } catch (e) {
      return (e as Error).message;
    }
    await c.close({ force: true });
    throw new Error(`${identity} was not refused`);
  }

  /** the site's location as registered (OCPI-shaped; its id defaults to the site id) */
  const LOCATION = {
    name: 'E2E Fast Charging Hub',
    address: 'Stationsplein 1',
    city: 'Utrecht',
    postal_code: '3511 ED',
    country: 'NLD',
    coordinates: { latitude: '52.089444', longitude: '5.110278' },
  };
  const CCS = {
    standard: 'IEC_62196_T2_COMBO',
    format: 'CABLE',
    power_type: 'DC',
    max_voltage: 920,
    max_amperage: 500,
    max_electric_power: 360000,
  };
  /** per station: its EVSEs and connector types (1.6 connector N = EVSE N with connector 1); the first has an eMI3 EVSE ID */
  const evsesOf = (i: number) => [
    { evseId: 1, ...(i === 0 ? { emi3EvseId: 'NL*CSM*E2E16*1' } : {}), connectors: [{ connectorId: 1, ...CCS }] },
  ];

  async function setUpCatalogue(ids: string[]): Promise<void> {
    for (const [i, id] of ids.entries()) {
      const body = {
        securityProfile: 1,
        password: PASSWORD,
        siteId: 'site-e2e',
        timeZone: 'Europe/Amsterdam',
        location: LOCATION,
        evses: evsesOf(i),
      };
      expect((await api('ocpp-gateway', 'PUT', `/api/v1/stations/${id}`, body)).status).toBe(200);
    }
    const tokens: Array<[string, Json]> = [
      ['E2E-OK', { type: 'ISO14443', status: 'Accepted', groupId: 'FLEET-1', billingAccountId: 'acct-1' }],
      ['E2E-BLOCKED', { type: 'ISO14443', status: 'Blocked' }],
      ['E2E-EXPIRED', { type: 'ISO14443', status: 'Accepted', expiresAt: '2020-01-01T00:00:00Z' }],
    ];
    for (const [uid, body] of tokens)
      expect((await api('ocpp-gateway', 'PUT', `/api/v1/tokens/${uid}`, body)).status).toBe(200);
    expect((await api('tariff-service', 'PUT', '/api/v1/tariffs/E2E-AC', TARIFF)).status).toBe(200);
    expect(
      (
        await api('tariff-service', 'POST', '/api/v1/tariff-assignments', {
          tariffId: 'E2E-AC',
          scope: { kind: 'site', siteId: 'site-e2e' },
        })
      ).status,
    ).toBe(201);
  }

  async function remote(stationId: string, action: string, payload: Json): Promise<Json> {
    const sent = await api<Json>('ocpp-gateway', 'POST', `/api/v1/stations/${stationId}/commands`, { action, payload });
    expect(sent.status).toBe(202);
    return waitFor(
      async () => {
        const r = await api<Json>('ocpp-gateway', 'GET', `/api/v1/commands/${sent.body.commandId as string}`);
        return r.body.status !== 'pending' ? r.body : undefined;
      },
      { what: `${action} result` },
    );
  }

  const monitoring = (stationId: string) => api<Json>('reporting-service', 'GET', `/api/v1/stations/${stationId}`);
  const cdrOf = (stationId: string) =>
    waitFor(
      async () => {
        const r = await api<{ items: Json[] }>('tariff-service', 'GET', `/api/v1/cdrs?stationId=${stationId}`);
        return r.body.items[0];
      },
      { what: `the CDR of ${stationId}`, timeoutMs: 60_000 },
    );

  it('runs the workflow for an OCPP 1.6 and an OCPP 2.0.1 station', async () => {
    const id16 = uniqueName('E2E16');
    const id201 = uniqueName('E2E201');
    await setUpCatalogue([id16, id201]);
    // the gateway answers from its in-memory registry, fed by the compacted topics
    await waitFor(async () => (await fetch(`${services['ocpp-gateway'].url}/health/ready`)).status === 200, {
      what: 'gateway ready',
    });

    // refused: an unknown station, a wrong password
    expect(await refused(uniqueName('UNKNOWN'), PASSWORD)).toMatch(/404|Not Found/);
    expect(await refused(id16, 'not-the-right-password')).toMatch(/401|Unauthorized/);

    // ---------------------------------------------------------------- OCPP 1.6
    const cp = await station(id16, 'ocpp1.6');
    const firmwareSteps: string[] = [];
    cp.handle('Reset', async () => ({ status: 'Accepted' }));
    cp.handle('UpdateFirmware', async () => {
      setImmediate(async () => {
        for (const status of ['Downloading', 'Downloaded', 'Installing', 'Installed']) {
          firmwareSteps.push(status);
          await cp.call('FirmwareStatusNotification', { status });
        }
      });
      return {};
    });
    cp.handle('GetDiagnostics', async () => {
      setImmediate(async () => {
        await cp.call('DiagnosticsStatusNotification', { status: 'Uploading' });
        await cp.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
      });
      return { fileName: 'diag-e2e.zip' };
    });
    const boot = await cp.call('BootNotification', {
      chargePointVendor: 'Acme',
      chargePointModel: 'AC22',
      firmwareVersion: '1.0.0',
    });
    expect(boot).toMatchObject({ status: 'Accepted' });
    const at = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString();
    await cp.call('StatusNotification', {
      connectorId: 1,
      status: 'Available',
      errorCode: 'NoError',
      timestamp: at(0),
    });
    expect(await cp.call('Authorize', { idTag: 'E2E-OK' })).toMatchObject({ idTagInfo: { status: 'Accepted' } });
    expect(await cp.call('Authorize', { idTag: 'E2E-BLOCKED' })).toMatchObject({ idTagInfo: { status: 'Blocked' } });
    expect(await cp.call('Authorize', { idTag: 'E2E-EXPIRED' })).toMatchObject({ idTagInfo: { status: 'Expired' } });
    expect(await cp.call('Authorize', { idTag: 'E2E-NOBODY' })).toMatchObject({ idTagInfo: { status: 'Invalid' } });
    await cp.call('StatusNotification', {
      connectorId: 1,
      status: 'Preparing',
      errorCode: 'NoError',
      timestamp: at(0),
    });
    const start = (await cp.call('StartTransaction', {
      connectorId: 1,
      idTag: 'E2E-OK',
      meterStart: 1000,
      timestamp: at(0),
    })) as { transactionId: number; idTagInfo: Json };
    expect(start.idTagInfo).toMatchObject({ status: 'Accepted' });
    // a DC fast charge: 12 kWh in two minutes (360 kW; the session service refuses to bill implausible power)
    await cp.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError', timestamp: at(1) });
    await chargeTwelveKwh16(cp, { transactionId: start.transactionId, at, idTag: 'E2E-OK', powerKw: '360' });
    await cp.call('StatusNotification', {
      connectorId: 1,
      status: 'Finishing',
      errorCode: 'NoError',
      timestamp: at(121),
    });

    // the priced record: 12 kWh -> 1.00 + 12 x 0.25 = 4.00 excl. VAT, 4.84 incl.
    const cdr16 = await cdrOf(id16);
    expect(cdr16).toMatchObject({
      total_energy: '12',
      total_fixed_cost: { excl_vat: '1.00', incl_vat: '1.21' },
      total_energy_cost: { excl_vat: '3.00', incl_vat: '3.63' },
      total_cost: { excl_vat: '4.00', incl_vat: '4.84' },
      currency: 'EUR',
      cdr_token: { uid: 'E2E-OK', contract_id: 'acct-1' },
    });
    // OCPI 2.2.1 CdrLocation, complete, from the location and connector registered through the gateway API
    expect(cdr16.cdr_location).toEqual({
      id: 'site-e2e',
      ...LOCATION,
      evse_uid: `${id16}*1`,
      evse_id: 'NL*CSM*E2E16*1',
      connector_id: '1',
      connector_standard: 'IEC_62196_T2_COMBO',
      connector_format: 'CABLE',
      connector_power_type: 'DC',
    });
    const audit16 = await api<{ audit: Json }>(
      'tariff-service',
      'GET',
      `/api/v1/cdrs/${cdr16.id as string}?include=audit`,
    );
    expect(audit16.body.audit.dataQuality).toBeUndefined();

    // a Faulted connector is an alarm
    await cp.call('StatusNotification', {
      connectorId: 1,
      status: 'Faulted',
      errorCode: 'GroundFailure',
      timestamp: at(125),
    });
    const alarms = await waitFor(
      async () => {
        const r = await api<{ items: Json[] }>('reporting-service', 'GET', `/api/v1/alarms?stationId=${id16}`);
        return r.body.items.length > 0 ? r.body.items : undefined;
      },
      { what: 'the Faulted alarm' },
    );
    expect(alarms[0]).toMatchObject({ kind: 'CONNECTOR_FAULTED', code: 'GroundFailure', status: 'open' });

    // remote operations reach the station and their status comes back
    expect(await remote(id16, 'Reset', { type: 'Soft' })).toMatchObject({ status: 'accepted' });
    expect(
      await remote(id16, 'UpdateFirmware', {
        location: 'https://firmware.example/ac22-1.1.0.bin',
        retrieveDate: at(0),
      }),
    ).toMatchObject({ status: 'accepted' });
    expect(await remote(id16, 'GetDiagnostics', { location: 'ftp://diagnostics.example/' })).toMatchObject({
      status: 'accepted',
      result: { response: { fileName: 'diag-e2e.zip' } },
    });
    const view16 = await waitFor(
      async () => {
        const r = await monitoring(id16);
        const v = r.body as { firmware?: { status: string }; diagnostics?: { status: string } };
        return v.firmware?.status === 'Installed' && v.diagnostics?.status === 'Uploaded' ? v : undefined;
      },
      { what: 'firmware Installed and diagnostics Uploaded in monitoring' },
    );
    expect(view16).toMatchObject({ online: true, vendor: 'Acme', model: 'AC22' });
    expect(firmwareSteps).toEqual(['Downloading', 'Downloaded', 'Installing', 'Installed']);

    // ---------------------------------------------------------------- OCPP 2.0.1
    const cs = await station(id201, 'ocpp2.0.1');
    cs.handle('Reset', async () => ({ status: 'Accepted' }));
    cs.handle('UpdateFirmware', async ({ params }) => {
      setImmediate(async () => {
        for (const status of ['Downloading', 'Downloaded', 'Installing', 'Installed'])
          await cs.call('FirmwareStatusNotification', { status, requestId: requestIdOf(params) });
      });
      return { status: 'Accepted' };
    });
    cs.handle('GetLog', async ({ params }) => {
      setImmediate(async () => {
        await cs.call('LogStatusNotification', { status: 'Uploading', requestId: requestIdOf(params) });
        await cs.call('LogStatusNotification', { status: 'Uploaded', requestId: requestIdOf(params) });
      });
      return { status: 'Accepted', filename: 'log-e2e.tar.gz' };
    });
    expect(
      await cs.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'DC50', vendorName: 'Acme' } }),
    ).toMatchObject({ status: 'Accepted' });
    expect(await cs.call('Authorize', { idToken: { idToken: 'E2E-OK', type: 'ISO14443' } })).toMatchObject({
      idTokenInfo: { status: 'Accepted' },
    });
    expect(await cs.call('Authorize', { idToken: { idToken: 'E2E-BLOCKED', type: 'ISO14443' } })).toMatchObject({
      idTokenInfo: { status: 'Blocked' },
    });
    expect(await cs.call('Authorize', { idToken: { idToken: 'E2E-EXPIRED', type: 'ISO14443' } })).toMatchObject({
      idTokenInfo: { status: 'Expired' },
    });
    expect(await cs.call('Authorize', { idToken: { idToken: 'E2E-NOBODY', type: 'ISO14443' } })).toMatchObject({
      idTokenInfo: { status: 'Unknown' },
    });
    const energy = (value: number, context: string, ts: string) => [
      {
        timestamp: ts,
        sampledValue: [{ value, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }],
      },
    ];
    const tx = { transactionId: uniqueName('TX') };
    await cs.call('StatusNotification', { timestamp: at(0), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
    await cs.call('TransactionEvent', {
      eventType: 'Started',
      timestamp: at(0),
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo: { ...tx, chargingState: 'Charging' },
      idToken: { idToken: 'E2E-OK', type: 'ISO14443' },
      evse: { id: 1, connectorId: 1 },
      meterValue: energy(20000, 'Transaction.Begin', at(0)),
    });
    await cs.call('TransactionEvent', {
      eventType: 'Updated',
      timestamp: at(60),
      triggerReason: 'MeterValuePeriodic',
      seqNo: 1,
      transactionInfo: { ...tx, chargingState: 'Charging' },
      meterValue: energy(25000, 'Sample.Periodic', at(60)),
    });
    await cs.call('TransactionEvent', {
      eventType: 'Ended',
      timestamp: at(120),
      triggerReason: 'StopAuthorized',
      seqNo: 2,
      transactionInfo: { ...tx, chargingState: 'EVConnected', stoppedReason: 'Local' },
      meterValue: energy(30000, 'Transaction.End', at(120)),
    });
    // 10 kWh -> 1.00 + 2.50 = 3.50 excl. VAT; incl. 4.235, rounded once, half-up: 4.24
    const cdr201 = await cdrOf(id201);
    expect(cdr201).toMatchObject({
      total_energy: '10',
      total_cost: { excl_vat: '3.50', incl_vat: '4.24' },
      cdr_token: { uid: 'E2E-OK' },
    });
    expect(cdr201.cdr_location).toEqual({
      id: 'site-e2e',
      ...LOCATION,
      evse_uid: `${id201}*1`,
      evse_id: `${id201}*1`,
      connector_id: '1',
      connector_standard: 'IEC_62196_T2_COMBO',
      connector_format: 'CABLE',
      connector_power_type: 'DC',
    });

    await cs.call('StatusNotification', { timestamp: at(125), connectorStatus: 'Faulted', evseId: 1, connectorId: 1 });
    await waitFor(
      async () =>
        (await api<{ items: Json[] }>('reporting-service', 'GET', `/api/v1/alarms?stationId=${id201}`)).body.items
          .length === 1,
      { what: 'the 2.0.1 Faulted alarm' },
    );
    expect(await remote(id201, 'Reset', { type: 'Immediate' })).toMatchObject({ status: 'accepted' });
    expect(
      await remote(id201, 'UpdateFirmware', {
        requestId: 7,
        firmware: { location: 'https://firmware.example/dc50-2.bin', retrieveDateTime: at(0) },
      }),
    ).toMatchObject({ status: 'accepted' });
    expect(
      await remote(id201, 'GetLog', {
        logType: 'DiagnosticsLog',
        requestId: 8,
        log: { remoteLocation: 'https://logs.example/upload' },
      }),
    ).toMatchObject({ status: 'accepted' });
    await waitFor(
      async () => {
        const v = (await monitoring(id201)).body as {
          firmware?: { status: string };
          diagnostics?: { status: string; kind: string };
        };
        return (
          v.firmware?.status === 'Installed' && v.diagnostics?.status === 'Uploaded' && v.diagnostics.kind === 'log'
        );
      },
      { what: '2.0.1 firmware Installed and log Uploaded in monitoring' },
    );

    // the sessions are there too
    const sessions = await api<{ items: Json[] }>('session-service', 'GET', `/api/v1/sessions?stationId=${id16}`);
    expect(sessions.body.items[0]).toMatchObject({ status: 'ended', energyWh: '12000', idToken: 'E2E-OK' });
  }, 240_000);
});
