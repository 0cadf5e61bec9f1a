import { StationRegisteredV3 } from '@csms/contracts';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { TopicCollector, createTestDatabase, testKafka, uniqueName, waitFor, type TestDatabase } from '@csms/testing';
import { KafkaRecordPublisher, createKafka } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { gatewayMigrations } from '../src/migrations';
import type { GatewayRuntime } from '../src/runtime';
import {
  api,
  chargePoint,
  makePki,
  refusedWith,
  startTestGateway,
  startTestRuntime,
  type Pki,
  type TestGateway,
} from './harness';

const PASSWORD = 'correct-horse-battery-staple';
const now = '2026-03-01T10:00:00.000Z';
/**
 * A registered location (the contracts' example without its id: the gateway takes the site id) and an AC EVSE with
 * every connector field (the example's).
 */
const { id: _exampleLocationId, ...LOCATION } = StationRegisteredV3.example.location!;
const AC_EVSE = StationRegisteredV3.example.evses[0];

interface Inbound {
  payload: {
    stationId: string;
    kind: string;
    messageId?: string;
    action?: string;
    payload?: unknown;
    response?: unknown;
    reason?: string;
    connectionId: string;
    tokens?: unknown[];
    station?: unknown;
  };
  id: string;
}

describe('ocpp-gateway', () => {
  let db: TestDatabase;
  let kafka: Kafka;
  let gw: TestGateway;
  let pki: Pki;
  let collector: TopicCollector;
  const topics = {
    inbound: uniqueName('ocpp.inbound'),
    stations: uniqueName('registry.stations'),
    tokens: uniqueName('registry.tokens'),
    accounts: uniqueName('registry.accounts'),
    commands: uniqueName('ocpp.commands'),
    results: uniqueName('ocpp.command_results'),
  };
  let env: Record<string, string>;

  const inbound = (): Inbound[] => collector.records.filter((r) => r.value).map((r) => JSON.parse(r.value!) as Inbound);
  const recorded = (stationId: string, messageId: string) =>
    inbound().find((e) => e.payload.stationId === stationId && e.payload.messageId === messageId);

  async function registerStation(
    id: string,
    body: Record<string, unknown> = { securityProfile: 1, password: PASSWORD },
  ) {
    const r = await api(gw, 'PUT', `/api/v1/stations/${id}`, body);
    expect(r.status).toBe(200);
  }

  beforeAll(async () => {
    pki = makePki();
    db = await createTestDatabase('ocpp_gateway', gatewayMigrations);
    await db.dataSource.destroy(); // the gateway opens its own pool on this database
    kafka = testKafka();
    env = {
      DATABASE_URL: db.url,
      OCPP_INBOUND_TOPIC: topics.inbound,
      REGISTRY_STATIONS_TOPIC: topics.stations,
      REGISTRY_TOKENS_TOPIC: topics.tokens,
      REGISTRY_ACCOUNTS_TOPIC: topics.accounts,
      OCPP_COMMANDS_TOPIC: topics.commands,
      OCPP_COMMAND_RESULTS_TOPIC: topics.results,
      OCPP_TLS_CERT_FILE: pki.serverCert,
      OCPP_TLS_KEY_FILE: pki.serverKey,
      OCPP_TLS_CLIENT_CA_FILE: `${pki.dir}/test-ca.crt`,
      OCPP_MAX_BAD_MESSAGES: '5',
      OCPP_MAX_FRAME_BYTES: '4096',
    };
    gw = await startTestGateway(env, { now: () => new Date(now) });
    collector = await new TopicCollector(kafka, [topics.inbound]).start();
    await api(gw, 'PUT', '/api/v1/tokens/TAG-OK', {
      type: 'ISO14443',
      status: 'Accepted',
      expiresAt: '2027-01-01T00:00:00Z',
      groupId: 'FLEET-1',
      billingAccountId: 'acct-1',
    });
    await api(gw, 'PUT', '/api/v1/tokens/TAG-BLOCKED', { type: 'ISO14443', status: 'Blocked' });
  });

  afterAll(async () => {
    await collector?.close();
    await gw?.close();
    await db?.drop();
  });

  describe('OCPP 1.6 happy path', () => {
    it('answers every charger-initiated message and records each call with its answer before replying', async () => {
      const id = uniqueName('CP16');
      await registerStation(id);
      const cp = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD });
      await cp.connect();
      expect(cp.protocol).toBe('ocpp1.6');
      const ids: string[] = [];
      cp.on('call', (c: { outbound: boolean; payload: [number, string] }) => c.outbound && ids.push(c.payload[1]));

      expect(await cp.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X1' })).toEqual({
        status: 'Accepted',
        currentTime: now,
        interval: 300,
      });
      expect(await cp.call('Heartbeat', {})).toEqual({ currentTime: now });
      expect(
        await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }),
      ).toEqual({});
      expect(await cp.call('Authorize', { idTag: 'TAG-OK' })).toEqual({
        idTagInfo: { status: 'Accepted', expiryDate: '2027-01-01T00:00:00.000Z', parentIdTag: 'FLEET-1' },
      });
      expect(await cp.call('Authorize', { idTag: 'TAG-BLOCKED' })).toEqual({ idTagInfo: { status: 'Blocked' } });
      expect(await cp.call('Authorize', { idTag: 'NOBODY' })).toEqual({ idTagInfo: { status: 'Invalid' } });
      const start = (await cp.call('StartTransaction', {
        connectorId: 1,
        idTag: 'TAG-OK',
        meterStart: 1200,
        timestamp: now,
      })) as { transactionId: number; idTagInfo: { status: string } };
      expect(start.idTagInfo.status).toBe('Accepted');
      expect(
        Number.isInteger(start.transactionId) && start.transactionId > 0 && start.transactionId <= 2 ** 31 - 1,
      ).toBe(true);
      expect(
        await cp.call('MeterValues', {
          connectorId: 1,
          transactionId: start.transactionId,
          meterValue: [
            {
              timestamp: now,
              sampledValue: [{ value: '1500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
            },
          ],
        }),
      ).toEqual({});
      expect(
        await cp.call('StopTransaction', {
          transactionId: start.transactionId,
          idTag: 'TAG-OK',
          meterStop: 5200,
          timestamp: now,
          reason: 'Local',
        }),
      ).toEqual({
        idTagInfo: { status: 'Accepted', expiryDate: '2027-01-01T00:00:00.000Z', parentIdTag: 'FLEET-1' },
      });
      expect(
        await cp.call('StopTransaction', { transactionId: start.transactionId, meterStop: 5200, timestamp: now }),
      ).toEqual({});
      expect(await cp.call('DataTransfer', { vendorId: 'ACME', messageId: 'x', data: 'y' })).toEqual({
        status: 'UnknownVendorId',
      });
      expect(await cp.call('DiagnosticsStatusNotification', { status: 'Uploaded' })).toEqual({});
      expect(await cp.call('FirmwareStatusNotification', { status: 'Installed' })).toEqual({});
      await cp.close();

      // every CALLRESULT the station got is backed by a record on ocpp.inbound carrying request and answer
      const records = await waitFor(
        () => {
          const rs = ids.map((m) => recorded(id, m));
          return rs.every(Boolean) && (rs as Inbound[]);
        },
        { what: 'every 1.6 call on ocpp.inbound' },
      );
      const startRecord = records.find((r) => r.payload.action === 'StartTransaction')!;
      expect(startRecord.payload).toEqual(
        expect.objectContaining({
          kind: 'call',
          payload: { connectorId: 1, idTag: 'TAG-OK', meterStart: 1200, timestamp: now },
          response: start,
          // what the registry said of the token when the station was answered (billing reads it from here)
          tokens: [{ uid: 'TAG-OK', revision: expect.any(Number), groupId: 'FLEET-1', billingAccountId: 'acct-1' }],
        }),
      );
      const authorizeOf = (tag: string) =>
        records.find(
          (r) => r.payload.action === 'Authorize' && (r.payload.payload as { idTag: string }).idTag === tag,
        )!;
      expect(authorizeOf('NOBODY').payload.tokens).toEqual([
        { uid: 'NOBODY', revision: null, groupId: null, billingAccountId: null },
      ]);
      expect(records.find((r) => r.payload.action === 'Heartbeat')!.payload.tokens).toBeUndefined();
      expect(records.find((r) => r.payload.action === 'Heartbeat')!.payload.station).toBeUndefined();
      const kinds = await waitFor(
        () => {
          const ks = inbound()
            .filter((e) => e.payload.stationId === id)
            .map((e) => e.payload.kind);
          return ks.includes('disconnected') && ks;
        },
        { what: 'the disconnect record' },
      );
      expect(kinds[0]).toBe('connected');
      // the connector the station reported is now in the registry (1.6 connector 1 = EVSE 1, connector 1)
      await waitFor(
        async () => {
          const st = (await api(gw, 'GET', `/api/v1/stations/${id}`)).body as { evses: unknown };
          return JSON.stringify(st.evses) === JSON.stringify([{ evseId: 1, connectors: [{ connectorId: 1 }] }]);
        },
        { what: 'the reported connector in the registry' },
      );
    });
  });

  describe('billing accounts that cannot pay', () => {
    it('answers Blocked for the tokens of an account the payment service marked as unable to pay, and Accepted again when it can', async () => {
      await api(gw, 'PUT', '/api/v1/tokens/TAG-PAYER', {
        type: 'ISO14443',
        status: 'Accepted',
        billingAccountId: 'acct-wallet-7',
      });
      const id = uniqueName('CPACCT');
      await registerStation(id);
      const cp = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD });
      await cp.connect();
      await cp.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X1' });
      const verdict = async () =>
        ((await cp.call('Authorize', { idTag: 'TAG-PAYER' })) as { idTagInfo: { status: string } }).idTagInfo.status;
      expect(await verdict()).toBe('Accepted');

      // what the payment service writes to registry.accounts (compacted, key = account id)
      const producer = kafka.producer();
      await producer.connect();
      const standing = async (canPay: boolean, revision: number) =>
        producer.send({
          topic: topics.accounts,
          messages: [
            {
              key: 'acct-wallet-7',
              value: JSON.stringify({
                id: randomUUID(),
                type: 'registry.account_standing_changed',
                version: 1,
                occurredAt: now,
                key: 'acct-wallet-7',
                source: 'payment-service',
                causationId: null,
                correlationId: null,
                payload: {
                  accountId: 'acct-wallet-7',
                  canPay,
                  reason: canPay ? null : 'wallet_insufficient',
                  revision,
                },
              }),
            },
          ],
        });
      try {
        await standing(false, 1);
        await waitFor(async () => ((await verdict()) === 'Blocked' ? true : undefined), {
          what: 'Authorize answers Blocked',
        });
        // other accounts' tokens are not affected
        expect(
          ((await cp.call('Authorize', { idTag: 'TAG-OK' })) as { idTagInfo: { status: string } }).idTagInfo.status,
        ).toBe('Accepted');
        await standing(true, 2);
        await waitFor(async () => ((await verdict()) === 'Accepted' ? true : undefined), {
          what: 'Authorize answers Accepted again',
        });
      } finally {
        await producer.disconnect();
        await cp.close();
      }
    });
  });

  describe('OCPP 2.0.1 happy path', () => {
    it('answers every charger-initiated message', async () => {
      const id = uniqueName('CS201');
      await registerStation(id);
      const cs = chargePoint({
        endpoint: gw.wsUrl,
        identity: id,
        protocols: ['ocpp2.0.1', 'ocpp1.6'],
        password: PASSWORD,
      });
      await cs.connect();
      expect(cs.protocol).toBe('ocpp2.0.1');
      const evse = { id: 1, connectorId: 1 };
      expect(
        await cs.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'X2', vendorName: 'ACME' } }),
      ).toEqual({ currentTime: now, interval: 300, status: 'Accepted' });
      expect(await cs.call('Heartbeat', {})).toEqual({ currentTime: now });
      expect(
        await cs.call('StatusNotification', {
          timestamp: now,
          connectorStatus: 'Available',
          evseId: 1,
          connectorId: 1,
        }),
      ).toEqual({});
      expect(await cs.call('Authorize', { idToken: { idToken: 'TAG-OK', type: 'ISO14443' } })).toEqual({
        idTokenInfo: {
          status: 'Accepted',
          cacheExpiryDateTime: '2027-01-01T00:00:00.000Z',
          groupIdToken: { idToken: 'FLEET-1', type: 'Central' },
        },
      });
      expect(await cs.call('Authorize', { idToken: { idToken: 'NOBODY', type: 'ISO14443' } })).toEqual({
        idTokenInfo: { status: 'Unknown' },
      });
      const tx = { transactionId: randomUUID() };
      expect(
        await cs.call('TransactionEvent', {
          eventType: 'Started',
          timestamp: now,
          triggerReason: 'Authorized',
          seqNo: 0,
          transactionInfo: tx,
          idToken: { idToken: 'TAG-BLOCKED', type: 'ISO14443' },
          evse,
        }),
      ).toEqual({ idTokenInfo: { status: 'Blocked' } });
      expect(
        await cs.call('TransactionEvent', {
          eventType: 'Updated',
          timestamp: now,
          triggerReason: 'MeterValuePeriodic',
          seqNo: 1,
          transactionInfo: tx,
        }),
      ).toEqual({});
      expect(
        await cs.call('MeterValues', { evseId: 1, meterValue: [{ timestamp: now, sampledValue: [{ value: 1500 }] }] }),
      ).toEqual({});
      expect(
        await cs.call('NotifyEvent', {
          generatedAt: now,
          seqNo: 0,
          eventData: [
            {
              eventId: 1,
              timestamp: now,
              trigger: 'Alerting',
              actualValue: 'x',
              eventNotificationType: 'HardWiredNotification',
              component: { name: 'Door' },
              variable: { name: 'Open' },
            },
          ],
        }),
      ).toEqual({});
      expect(await cs.call('SecurityEventNotification', { type: 'StartupOfTheDevice', timestamp: now })).toEqual({});
      expect(await cs.call('FirmwareStatusNotification', { status: 'Installed' })).toEqual({});
      expect(await cs.call('LogStatusNotification', { status: 'Uploaded' })).toEqual({});
      expect(await cs.call('NotifyReport', { requestId: 1, generatedAt: now, seqNo: 0 })).toEqual({});
      expect(await cs.call('DataTransfer', { vendorId: 'ACME' })).toEqual({ status: 'UnknownVendorId' });
      await cs.close();
      await waitFor(
        () => inbound().filter((e) => e.payload.stationId === id && e.payload.kind === 'call').length === 14,
        { what: '14 calls recorded' },
      );
      await waitFor(
        () =>
          JSON.stringify(gw.runtime.registryCache.station(id)?.evses) ===
          JSON.stringify([{ evseId: 1, connectors: [{ connectorId: 1 }] }]),
        { what: 'reported EVSE in the registry' },
      );
    });
  });

  describe("the station's registry facts on a transaction start", () => {
    const location = LOCATION;
    const evses = [
      AC_EVSE,
      { evseId: 2, connectors: [{ connectorId: 1, standard: 'IEC_62196_T2_COMBO', power_type: 'DC' }] },
    ];
    /** registers the station; its facts as the registry answers them */
    async function registered(id: string, siteId: string) {
      const put = await api(gw, 'PUT', `/api/v1/stations/${id}`, {
        securityProfile: 1,
        password: PASSWORD,
        siteId,
        timeZone: 'Europe/Amsterdam',
        location,
        evses,
      });
      expect(put.status).toBe(200);
      const v = put.body as Record<string, unknown>;
      const facts = {
        revision: v.revision,
        siteId: v.siteId,
        timeZone: v.timeZone,
        location: v.location,
        evses: v.evses,
      };
      expect(facts).toEqual({
        revision: expect.any(Number),
        siteId,
        timeZone: 'Europe/Amsterdam',
        location: { id: siteId, ...location },
        evses,
      });
      return facts;
    }
    const callsOf = (id: string, n: number) =>
      waitFor(
        () => {
          const calls = inbound().filter((e) => e.payload.stationId === id && e.payload.kind === 'call');
          return calls.length === n && calls;
        },
        { what: `${n} calls of ${id} recorded` },
      );

    it('1.6: a StartTransaction record carries the station as the registry held it then; no other call does', async () => {
      const id = uniqueName('CP16-FACTS');
      const before = await registered(id, 'site-facts-a');
      const cp = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD });
      await cp.connect();
      const startOn = async (connectorId: number) =>
        (
          (await cp.call('StartTransaction', { connectorId, idTag: 'TAG-OK', meterStart: 0, timestamp: now })) as {
            transactionId: number;
          }
        ).transactionId;
      const tx = await startOn(1);
      await cp.call('MeterValues', {
        connectorId: 1,
        transactionId: tx,
        meterValue: [{ timestamp: now, sampledValue: [{ value: '10' }] }],
      });
      await cp.call('Heartbeat', {});
      await cp.call('StopTransaction', { transactionId: tx, meterStop: 10, timestamp: now });
      // the station moves to another site: the next start carries the new facts, the first keeps the old
      const after = await registered(id, 'site-facts-b');
      expect(after.revision).toBeGreaterThan(before.revision as number);
      await startOn(2);
      await cp.close();

      const calls = await callsOf(id, 5);
      const starts = calls.filter((c) => c.payload.action === 'StartTransaction');
      expect(starts.map((c) => c.payload.station)).toEqual([before, after]);
      for (const c of calls.filter((c) => c.payload.action !== 'StartTransaction'))
        expect({ action: c.payload.action, station: c.payload.station }).toEqual({ action: c.payload.action });
    });

    it('2.0.1: a TransactionEvent Started record carries the station; Updated, Ended and other calls do not', async () => {
      const id = uniqueName('CS201-FACTS');
      const facts = await registered(id, 'site-facts-c');
      const cs = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp2.0.1'], password: PASSWORD });
      await cs.connect();
      const transactionInfo = { transactionId: randomUUID() };
      const event = (eventType: string, seqNo: number, more: Record<string, unknown> = {}) =>
        cs.call('TransactionEvent', {
          eventType,
          timestamp: now,
          triggerReason: 'Authorized',
          seqNo,
          transactionInfo,
          ...more,
        });
      await event('Started', 0, { idToken: { idToken: 'TAG-OK', type: 'ISO14443' }, evse: { id: 2, connectorId: 1 } });
      await event('Updated', 1);
      await cs.call('MeterValues', { evseId: 2, meterValue: [{ timestamp: now, sampledValue: [{ value: 10 }] }] });
      await cs.call('Heartbeat', {});
      await event('Ended', 2);
      await cs.close();

      const calls = await callsOf(id, 5);
      const started = calls.filter(
        (c) =>
          c.payload.action === 'TransactionEvent' &&
          (c.payload.payload as { eventType: string }).eventType === 'Started',
      );
      expect(started.map((c) => c.payload.station)).toEqual([facts]);
      expect(calls.filter((c) => c.payload.station !== undefined)).toHaveLength(1);
    });
  });

  describe('bad input', () => {
    async function connected(protocol: 'ocpp1.6' | 'ocpp2.0.1') {
      const id = uniqueName('BAD');
      await registerStation(id);
      const cp = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: [protocol], password: PASSWORD });
      await cp.connect();
      return cp;
    }
    /** sends a raw frame and returns the next frame the gateway sends back */
    async function exchange(cp: ReturnType<typeof chargePoint>, frame: string): Promise<unknown[]> {
      const before = cp.inbound.length;
      cp.sendRaw(frame);
      return JSON.parse(
        await waitFor(() => cp.inbound[before], { what: `an answer to ${frame.slice(0, 60)}` }),
      ) as unknown[];
    }

    const call = (action: string, payload: unknown) => JSON.stringify([2, 'm-1', action, payload]);
    /** a rejected frame is in the log: as received (or as the call it parsed to) with the CALLERROR sent back */
    async function expectRejectedRecorded(stationId: string, frame: string, code: string) {
      const rejected = await waitFor(
        () => inbound().find((e) => e.payload.stationId === stationId && e.payload.kind === 'rejected'),
        { what: `the rejected frame of ${stationId}` },
      );
      const p = rejected.payload as {
        frame?: string;
        messageId?: string;
        action?: string;
        payload?: unknown;
        response?: unknown;
        reason?: string;
      };
      expect(p.frame ?? JSON.stringify([2, p.messageId, p.action, p.payload])).toBe(frame);
      expect(p.response).toEqual([code, expect.any(String)]);
      expect(p.reason).toEqual(expect.any(String));
    }
    const cases16: Array<[string, string, string, string]> = [
      ['non-JSON', '[2, "m-1", "Heartbeat", {', '-1', 'FormationViolation'],
      ['not an array', '{"hello":1}', '-1', 'FormationViolation'],
      ['CALL with 3 elements', '[2,"m-1","Heartbeat"]', 'm-1', 'FormationViolation'],
      ['payload not an object', '[2,"m-1","Heartbeat",[]]', 'm-1', 'FormationViolation'],
      ['unknown action', call('MakeCoffee', {}), 'm-1', 'NotImplemented'],
      ['action the CSMS does not serve', call('Reset', { type: 'Soft' }), 'm-1', 'NotSupported'],
      [
        'wrong type',
        call('StartTransaction', { connectorId: '1', idTag: 'T', meterStart: 1, timestamp: now }),
        'm-1',
        'TypeConstraintViolation',
      ],
      [
        'missing field',
        call('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 1 }),
        'm-1',
        'OccurenceConstraintViolation',
      ],
      [
        'bad enum value',
        call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' }),
        'm-1',
        'PropertyConstraintViolation',
      ],
      ['unknown field', call('Heartbeat', { extra: 1 }), 'm-1', 'FormationViolation'],
    ];
    it.each(cases16)('1.6: %s -> CALLERROR %s %s, connection stays up', async (_name, frame, id, code) => {
      const cp = await connected('ocpp1.6');
      expect(await exchange(cp, frame)).toEqual([4, id, code, expect.any(String), {}]);
      expect(await cp.call('Heartbeat', {})).toEqual({ currentTime: now });
      await cp.close();
      await expectRejectedRecorded(cp.identity!, frame, code);
    });

    const cases201: Array<[string, string, string, string]> = [
      ['non-JSON', 'garbage', '-1', 'RpcFrameworkError'],
      ['unreadable message id', '[2, 17, "Heartbeat", {}]', '-1', 'RpcFrameworkError'],
      ['unknown message type', '[9,"m-1","Heartbeat",{}]', 'm-1', 'MessageTypeNotSupported'],
      ['payload not an object', '[2,"m-1","Heartbeat","x"]', 'm-1', 'FormatViolation'],
      ['unknown action', call('MakeCoffee', {}), 'm-1', 'NotImplemented'],
      ['action the CSMS does not serve', call('Reset', { type: 'Immediate' }), 'm-1', 'NotSupported'],
      ['wrong type', call('Heartbeat', { customData: 5 }), 'm-1', 'TypeConstraintViolation'],
      ['missing field', call('BootNotification', { reason: 'PowerUp' }), 'm-1', 'OccurrenceConstraintViolation'],
      [
        'too long',
        call('Authorize', { idToken: { idToken: 'x'.repeat(37), type: 'ISO14443' } }),
        'm-1',
        'PropertyConstraintViolation',
      ],
    ];
    it.each(cases201)('2.0.1: %s -> CALLERROR %s %s, connection stays up', async (_name, frame, id, code) => {
      const cp = await connected('ocpp2.0.1');
      expect(await exchange(cp, frame)).toEqual([4, id, code, expect.any(String), {}]);
      expect(await cp.call('Heartbeat', {})).toEqual({ currentTime: now });
      await cp.close();
      await expectRejectedRecorded(cp.identity!, frame, code);
    });

    it('1.6: an unknown message type is ignored (the next call is answered first)', async () => {
      const cp = await connected('ocpp1.6');
      cp.sendRaw('[9,"m-9","Heartbeat",{}]');
      expect(await cp.call('Heartbeat', {})).toEqual({ currentTime: now });
      expect(cp.inbound).toHaveLength(1);
      await cp.close();
    });

    it('closes with 1009 on a frame over OCPP_MAX_FRAME_BYTES and records the disconnect', async () => {
      const cp = await connected('ocpp1.6');
      const closed = new Promise<{ code: number }>((r) => cp.once('close', r));
      cp.sendRaw(call('DataTransfer', { vendorId: 'ACME', data: 'x'.repeat(5000) }));
      expect((await closed).code).toBe(1009);
      await waitFor(
        () =>
          inbound().some(
            (e) =>
              e.payload.stationId === cp.identity &&
              e.payload.kind === 'disconnected' &&
              /1009/.test(e.payload.reason ?? ''),
          ),
        { what: 'disconnect with 1009' },
      );
    });

    it('disconnects a station after OCPP_MAX_BAD_MESSAGES bad messages (1008), and keeps serving others', async () => {
      const bad = await connected('ocpp2.0.1');
      const good = await connected('ocpp2.0.1');
      const closed = new Promise<{ code: number }>((r) => bad.once('close', r));
      for (let i = 0; i < 5; i++) bad.sendRaw('}{');
      expect((await closed).code).toBe(1008);
      expect(bad.inbound.filter((m) => m.includes('RpcFrameworkError'))).toHaveLength(5);
      await waitFor(
        () =>
          inbound().filter((e) => e.payload.stationId === bad.identity && e.payload.kind === 'rejected').length === 5,
        { what: 'five rejected frames recorded, with ids of their own' },
      );
      expect(await good.call('Heartbeat', {})).toEqual({ currentTime: now });
      await good.close();
    });
  });

  describe('authentication', () => {
    it('refuses unknown stations (404), wrong or missing passwords (401), and connections offering no OCPP subprotocol (400)', async () => {
      const id = uniqueName('AUTH');
      await registerStation(id);
      expect(
        await refusedWith(
          chargePoint({ endpoint: gw.wsUrl, identity: uniqueName('NOPE'), protocols: ['ocpp1.6'], password: PASSWORD }),
        ),
      ).toBe(404);
      expect(
        await refusedWith(
          chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: 'wrong-password-123' }),
        ),
      ).toBe(401);
      expect(await refusedWith(chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'] }))).toBe(401);
      expect(
        await refusedWith(
          chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.5', 'ocpp2.0'], password: PASSWORD }),
        ),
      ).toBe(400);
      expect(
        await refusedWith(
          chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD }),
        ),
      ).toBe('connected');
    });

    it('profile 2: TLS + Basic; the same station over plain ws is refused (403)', async () => {
      const id = uniqueName('P2');
      await registerStation(id, { securityProfile: 2, password: PASSWORD });
      expect(
        await refusedWith(
          chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD }),
        ),
      ).toBe(403);
      expect(
        await refusedWith(
          chargePoint({
            endpoint: gw.wssUrl!,
            identity: id,
            protocols: ['ocpp1.6'],
            password: 'wrong-password-123',
            wsOpts: { ca: pki.ca },
          }),
        ),
      ).toBe(401);
      const cp = chargePoint({
        endpoint: gw.wssUrl!,
        identity: id,
        protocols: ['ocpp2.0.1'],
        password: PASSWORD,
        wsOpts: { ca: pki.ca },
      });
      await cp.connect();
      expect(await cp.call('Heartbeat', {})).toEqual({ currentTime: now });
      await cp.close();
    });

    it('profile 3: mutual TLS with a certificate bound to the station id; Basic alone, another station certificate or a foreign CA are refused', async () => {
      const id = uniqueName('P3');
      await registerStation(id, { securityProfile: 3, password: PASSWORD });
      const tls = (c: { cert: Buffer; key: Buffer }) => ({ ca: pki.ca, cert: c.cert, key: c.key });
      expect(
        await refusedWith(
          chargePoint({
            endpoint: gw.wssUrl!,
            identity: id,
            protocols: ['ocpp1.6'],
            password: PASSWORD,
            wsOpts: { ca: pki.ca },
          }),
        ),
      ).toBe(403);
      expect(
        await refusedWith(
          chargePoint({
            endpoint: gw.wssUrl!,
            identity: id,
            protocols: ['ocpp1.6'],
            wsOpts: tls(pki.client('SOMEONE-ELSE')),
          }),
        ),
      ).toBe(401);
      expect(
        await refusedWith(
          chargePoint({ endpoint: gw.wssUrl!, identity: id, protocols: ['ocpp1.6'], wsOpts: tls(pki.rogueClient(id)) }),
        ),
      ).toBe(401);
      const cp = chargePoint({
        endpoint: gw.wssUrl!,
        identity: id,
        protocols: ['ocpp1.6'],
        wsOpts: tls(pki.client(id)),
      });
      await cp.connect();
      expect(await cp.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X3' })).toEqual(
        expect.objectContaining({ status: 'Accepted' }),
      );
      await cp.close();
    });

    it('refuses a disabled station (403)', async () => {
      const id = uniqueName('OFF');
      await registerStation(id, { securityProfile: 1, password: PASSWORD, enabled: false });
      expect(
        await refusedWith(
          chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD }),
        ),
      ).toBe(403);
    });
  });

  describe('OCPP 1.6 StartTransaction', () => {
    it('gives a retried StartTransaction the same transactionId, even on another connection, and a new start a new one', async () => {
      const id = uniqueName('TX');
      await registerStation(id);
      const start = { connectorId: 1, idTag: 'TAG-OK', meterStart: 10, timestamp: '2026-03-01T09:00:00Z' };
      const cp = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD });
      await cp.connect();
      const a = (await cp.call('StartTransaction', start)) as { transactionId: number };
      const b = (await cp.call('StartTransaction', { ...start, timestamp: '2026-03-01T09:00:00.000Z' })) as {
        transactionId: number;
      };
      await cp.close();
      const cp2 = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD });
      await cp2.connect();
      const c = (await cp2.call('StartTransaction', start)) as { transactionId: number };
      const d = (await cp2.call('StartTransaction', { ...start, meterStart: 11 })) as { transactionId: number };
      await cp2.close();
      expect(b.transactionId).toBe(a.transactionId);
      expect(c.transactionId).toBe(a.transactionId);
      expect(d.transactionId).not.toBe(a.transactionId);
    });
  });

  describe('with a second gateway instance', () => {
    let second: GatewayRuntime;
    beforeAll(async () => {
      second = await startTestRuntime(
        {
          ...env,
          OCPP_TLS_CERT_FILE: '',
          OCPP_TLS_KEY_FILE: '',
          OCPP_TLS_CLIENT_CA_FILE: '',
          OCPP_ALLOW_PROVISIONAL: 'true',
          OCPP_CALL_TIMEOUT_MS: '1500',
        },
        { now: () => new Date(now) },
      );
    });
    afterAll(async () => {
      await second?.stop();
    });

    it('knows the registry written through the first instance (via the compacted topics) and shares transaction ids', async () => {
      const id = uniqueName('SHARED');
      await registerStation(id);
      const url = `ws://127.0.0.1:${second.server.ports.ws}/ocpp`;
      await waitFor(() => second.registryCache.station(id), { what: 'the station on the second instance' });
      const cp = chargePoint({ endpoint: url, identity: id, protocols: ['ocpp1.6'], password: PASSWORD });
      await cp.connect();
      expect(await cp.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X1' })).toEqual(
        expect.objectContaining({ status: 'Accepted' }),
      );
      expect(await cp.call('Authorize', { idTag: 'TAG-OK' })).toEqual(
        expect.objectContaining({ idTagInfo: expect.objectContaining({ status: 'Accepted' }) }),
      );
      const start = { connectorId: 2, idTag: 'TAG-OK', meterStart: 77, timestamp: '2026-03-01T09:30:00Z' };
      const viaSecond = (await cp.call('StartTransaction', start)) as { transactionId: number };
      await cp.close();
      const cp1 = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD });
      await cp1.connect();
      expect(((await cp1.call('StartTransaction', start)) as { transactionId: number }).transactionId).toBe(
        viaSecond.transactionId,
      );
      await cp1.close();
    });

    it('delivers a command sent through the first instance to a station held by the second, and records its result (1.6 and 2.0.1)', async () => {
      const url = `ws://127.0.0.1:${second.server.ports.ws}/ocpp`;
      const results = await new TopicCollector(kafka, [topics.results]).start();
      try {
        const id16 = uniqueName('RC16');
        const id201 = uniqueName('RC201');
        await registerStation(id16);
        await registerStation(id201);
        await waitFor(() => second.registryCache.station(id16) && second.registryCache.station(id201), {
          what: 'stations on the second instance',
        });
        const cp16 = chargePoint({ endpoint: url, identity: id16, protocols: ['ocpp1.6'], password: PASSWORD });
        const seen: unknown[] = [];
        cp16.handle('RemoteStartTransaction', async ({ params }: { params?: unknown }) => {
          seen.push(params);
          return { status: 'Accepted' };
        });
        cp16.handle('ChangeConfiguration', async () => ({ status: 'Rejected' }));
        let answerLate!: () => void;
        cp16.handle('ClearCache', () => new Promise((r) => (answerLate = () => r({ status: 'Accepted' }))));
        const cs201 = chargePoint({ endpoint: url, identity: id201, protocols: ['ocpp2.0.1'], password: PASSWORD });
        cs201.handle('RequestStartTransaction', async () => ({ status: 'Accepted', transactionId: 'tx-1' }));
        await cp16.connect();
        await cs201.connect();

        const send = async (stationId: string, body: unknown) => {
          const r = await api(gw, 'POST', `/api/v1/stations/${stationId}/commands`, body);
          expect(r.status).toBe(202);
          return (r.body as { commandId: string }).commandId;
        };
        const done = (commandId: string) =>
          waitFor(
            async () => {
              const r = await api(gw, 'GET', `/api/v1/commands/${commandId}`);
              const v = r.body as {
                status: string;
                result: { status: string; response: unknown; gatewayInstance: string } | null;
              };
              return v.status !== 'pending' && v;
            },
            { what: `result of ${commandId}` },
          );

        const c1 = await send(id16, { action: 'RemoteStartTransaction', payload: { idTag: 'TAG-OK', connectorId: 1 } });
        const r1 = await done(c1);
        // who asked: the key's name and role, never the key
        expect((r1 as unknown as { requestedBy: unknown }).requestedBy).toEqual({
          keyName: 'test-operator',
          role: 'operator',
        });
        expect(JSON.stringify(r1)).not.toContain(gw.keys.operator);
        expect(r1).toEqual(
          expect.objectContaining({
            status: 'accepted',
            result: expect.objectContaining({
              response: { status: 'Accepted' },
              gatewayInstance: second.config.GATEWAY_INSTANCE,
            }),
          }),
        );
        expect(seen).toEqual([{ idTag: 'TAG-OK', connectorId: 1 }]);
        expect(
          (
            await done(
              await send(id16, { action: 'ChangeConfiguration', payload: { key: 'HeartbeatInterval', value: '60' } }),
            )
          ).status,
        ).toBe('rejected');
        expect(
          (
            await done(
              await send(id16, {
                action: 'RequestStartTransaction',
                payload: { idToken: { idToken: 'T', type: 'Central' }, remoteStartId: 1 },
              }),
            )
          ).status,
        ).toBe('not_supported');
        expect((await done(await send(id16, { action: 'ClearCache', payload: {} }))).status).toBe('timed_out');
        answerLate(); // a late answer matches no outstanding call and is ignored
        expect(await done(await send(id16, { action: 'UnlockConnector', payload: { connectorId: 1 } }))).toEqual(
          expect.objectContaining({
            status: 'error',
            result: expect.objectContaining({ errorCode: 'NotImplemented' }),
          }),
        );
        const c5 = await send(id201, {
          action: 'RequestStartTransaction',
          payload: { idToken: { idToken: 'TAG-OK', type: 'ISO14443' }, remoteStartId: 7 },
        });
        expect(await done(c5)).toEqual(
          expect.objectContaining({
            status: 'accepted',
            result: expect.objectContaining({
              protocol: 'ocpp2.0.1',
              response: { status: 'Accepted', transactionId: 'tx-1' },
            }),
          }),
        );
        await cp16.close();
        await waitFor(() => !second.server.connection(id16), { what: 'station gone' });
        const c6 = await send(id16, { action: 'Reset', payload: { type: 'Soft' } });
        expect((await done(c6)).status).toBe('offline');
        await cs201.close();

        // every result is on ocpp.command_results once, keyed by station
        const onTopic = await waitFor(
          () => {
            const rs = results.records.map(
              (r) => JSON.parse(r.value!) as { payload: { commandId: string; status: string } },
            );
            return [c1, c5, c6].every((c) => rs.some((r) => r.payload.commandId === c)) && rs;
          },
          { what: 'results on ocpp.command_results' },
        );
        expect(onTopic.filter((r) => r.payload.commandId === c6)).toHaveLength(1);
        expect(onTopic.find((r) => r.payload.commandId === c1)!.payload.status).toBe('accepted');
      } finally {
        await results.close();
      }
    });

    it("accepts a remote start's token from the station it was sent to before the registry knows it; not from another station, not after a rejected start", async () => {
      const url = `ws://127.0.0.1:${second.server.ports.ws}/ocpp`;
      const idA = uniqueName('RSA');
      const idB = uniqueName('RSB');
      await registerStation(idA);
      await registerStation(idB);
      await waitFor(() => second.registryCache.station(idA) && second.registryCache.station(idB), {
        what: 'stations on the second instance',
      });
      const tag = uniqueName('QR').slice(0, 20); // a one-time token no registry topic has announced
      const rejectedTag = uniqueName('QRX').slice(0, 20);
      expect(second.registryCache.token(tag)).toBeUndefined();
      const cpA = chargePoint({ endpoint: url, identity: idA, protocols: ['ocpp1.6'], password: PASSWORD });
      const cpB = chargePoint({ endpoint: url, identity: idB, protocols: ['ocpp1.6'], password: PASSWORD });
      const verdicts: string[] = [];
      cpA.handle('RemoteStartTransaction', async ({ params }: { params?: unknown }) => {
        const { idTag } = params as { idTag: string };
        if (idTag === rejectedTag) return { status: 'Rejected' };
        // the station authorises the tag at once, as chargers with AuthorizeRemoteTxRequests do
        setImmediate(() => {
          void cpA
            .call('Authorize', { idTag })
            .then((r) => verdicts.push((r as { idTagInfo: { status: string } }).idTagInfo.status));
        });
        return { status: 'Accepted' };
      });
      await cpA.connect();
      await cpB.connect();
      try {
        const send = async (body: unknown) => {
          const r = await api(gw, 'POST', `/api/v1/stations/${idA}/commands`, body);
          expect(r.status).toBe(202);
          const commandId = (r.body as { commandId: string }).commandId;
          return waitFor(
            async () => {
              const v = (await api(gw, 'GET', `/api/v1/commands/${commandId}`)).body as { status: string };
              return v.status !== 'pending' && v.status;
            },
            { what: `result of ${commandId}` },
          );
        };
        expect(await send({ action: 'RemoteStartTransaction', payload: { idTag: tag, connectorId: 1 } })).toBe(
          'accepted',
        );
        await waitFor(() => verdicts.length === 1, { what: 'the station authorised the tag' });
        expect(verdicts).toEqual(['Accepted']);
        const start = (await cpA.call('StartTransaction', {
          connectorId: 1,
          idTag: tag,
          meterStart: 0,
          timestamp: '2026-03-01T09:40:00Z',
        })) as { idTagInfo: { status: string } };
        expect(start.idTagInfo.status).toBe('Accepted');
        // another station presenting the same tag: unknown to the registry, not sent to it
        expect(
          ((await cpB.call('Authorize', { idTag: tag })) as { idTagInfo: { status: string } }).idTagInfo.status,
        ).toBe('Invalid');
        // a start the station rejected grants nothing
        expect(await send({ action: 'RemoteStartTransaction', payload: { idTag: rejectedTag, connectorId: 2 } })).toBe(
          'rejected',
        );
        expect(
          ((await cpA.call('Authorize', { idTag: rejectedTag })) as { idTagInfo: { status: string } }).idTagInfo.status,
        ).toBe('Invalid');
      } finally {
        await cpA.close();
        await cpB.close();
      }
    });

    it('refuses a command with an invalid payload (400) or for an unknown station (404)', async () => {
      const bad = await api(gw, 'POST', '/api/v1/stations/whatever/commands', {
        action: 'Reset',
        payload: { type: 'Sideways' },
      });
      expect(bad).toEqual({
        status: 400,
        body: expect.objectContaining({ code: 'INVALID_COMMAND_PAYLOAD', field: 'body/payload/type' }),
      });
      const unknown = await api(gw, 'POST', `/api/v1/stations/${uniqueName('NONE')}/commands`, {
        action: 'Reset',
        payload: { type: 'Soft' },
      });
      expect(unknown).toEqual({ status: 404, body: expect.objectContaining({ code: 'STATION_NOT_FOUND' }) });
      expect(
        (
          await api(
            gw,
            'POST',
            '/api/v1/stations/x/commands',
            { action: 'Reset', payload: { type: 'Soft' } },
            gw.keys.finance,
          )
        ).status,
      ).toBe(403);
    });

    it('accepts unknown stations provisionally (BootNotification Pending) when OCPP_ALLOW_PROVISIONAL is set; their starts carry no station facts', async () => {
      const id = uniqueName('NEW');
      const cp = chargePoint({
        endpoint: `ws://127.0.0.1:${second.server.ports.ws}/ocpp`,
        identity: id,
        protocols: ['ocpp2.0.1'],
      });
      await cp.connect();
      expect(
        await cp.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'm', vendorName: 'v' } }),
      ).toEqual(expect.objectContaining({ status: 'Pending' }));
      await cp.call('TransactionEvent', {
        eventType: 'Started',
        timestamp: now,
        triggerReason: 'CablePluggedIn',
        seqNo: 0,
        transactionInfo: { transactionId: randomUUID() },
      });
      await cp.close();
      // the registry does not know the station: its start carries no station facts
      const start = await waitFor(
        () => inbound().find((e) => e.payload.stationId === id && e.payload.action === 'TransactionEvent'),
        { what: "the provisional station's start" },
      );
      expect(start.payload.kind).toBe('call');
      expect(start.payload.station).toBeUndefined();
    });

    it('holds 1,000 concurrent stations, each answered after its record is durable', async () => {
      const url = `ws://127.0.0.1:${second.server.ports.ws}/ocpp`;
      const prefix = uniqueName('MANY');
      const clients = Array.from({ length: 1000 }, (_, i) =>
        chargePoint({ endpoint: url, identity: `${prefix}-${i}`, protocols: [i % 2 ? 'ocpp1.6' : 'ocpp2.0.1'] }),
      );
      await Promise.all(clients.map((c) => c.connect()));
      expect(second.server.size).toBeGreaterThanOrEqual(1000);
      const answers = await Promise.all(clients.map((c) => c.call('Heartbeat', {})));
      expect(answers.every((a) => (a as { currentTime: string }).currentTime === now)).toBe(true);
      await Promise.all(clients.map((c) => c.close()));
      await waitFor(
        () =>
          inbound().filter((e) => e.payload.stationId.startsWith(prefix) && e.payload.kind === 'call').length === 1000,
        { what: '1000 heartbeats on ocpp.inbound', timeoutMs: 30000 },
      );
    });
  });

  describe('Kafka unavailable', () => {
    it('answers CALLERROR InternalError, never a CALLRESULT, when the record cannot be made durable', async () => {
      const dead = new KafkaRecordPublisher(
        createKafka({ brokers: ['127.0.0.1:1'], clientId: 'dead', logger: silentLogger(), connectionTimeout: 200 }),
      );
      const third = await startTestRuntime(
        {
          ...env,
          OCPP_TLS_CERT_FILE: '',
          OCPP_TLS_KEY_FILE: '',
          OCPP_TLS_CLIENT_CA_FILE: '',
          PUBLISH_TIMEOUT_MS: '1000',
        },
        { inboundPublisher: dead },
      );
      try {
        const id = uniqueName('NOKAFKA');
        await registerStation(id);
        await waitFor(() => third.registryCache.station(id), { what: 'registry on the third instance' });
        const cp = chargePoint({
          endpoint: `ws://127.0.0.1:${third.server.ports.ws}/ocpp`,
          identity: id,
          protocols: ['ocpp1.6'],
          password: PASSWORD,
        });
        await cp.connect();
        await expect(cp.call('Heartbeat', {})).rejects.toMatchObject({ rpcErrorCode: 'InternalError' });
        await expect(
          cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG-OK', meterStart: 1, timestamp: now }),
        ).rejects.toMatchObject({ rpcErrorCode: 'InternalError' });
        expect(cp.inbound.every((m) => JSON.parse(m)[0] === 4)).toBe(true);
        await cp.close();
      } finally {
        await third.stop();
        await dead.disconnect().catch(() => undefined);
      }
    });
  });

  describe('CSMS-initiated calls', () => {
    it('sends one call at a time, validates the CALLRESULT, records it, and reports offline stations', async () => {
      const id = uniqueName('CMD');
      await registerStation(id);
      const cp = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD });
      let concurrent = 0;
      let maxConcurrent = 0;
      let release!: () => void;
      const firstArrived = new Promise<void>((r) => (release = r));
      cp.handle('Reset', async () => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        release();
        await new Promise((r) => setImmediate(r));
        concurrent--;
        return { status: 'Accepted' };
      });
      cp.handle('ClearCache', async () => ({ status: 'Maybe' }));
      await cp.connect();
      await waitFor(() => gw.runtime.server.connection(id), { what: 'connection registered' });
      const [a, b] = await Promise.all([
        gw.runtime.server.call(id, 'Reset', { type: 'Soft' }),
        firstArrived.then(() => gw.runtime.server.call(id, 'Reset', { type: 'Hard' })),
      ]);
      expect(a).toEqual({ status: 'accepted', payload: { status: 'Accepted' } });
      expect(b).toEqual({ status: 'accepted', payload: { status: 'Accepted' } });
      expect(maxConcurrent).toBe(1);
      expect(await gw.runtime.server.call(id, 'ClearCache', {})).toEqual(
        expect.objectContaining({ status: 'invalid_response' }),
      );
      await cp.close();
      expect(await gw.runtime.server.call(id, 'Reset', { type: 'Soft' })).toEqual({ status: 'offline' });
      await waitFor(
        () =>
          inbound().filter(
            (e) => e.payload.stationId === id && e.payload.kind === 'callresult' && e.payload.action === 'Reset',
          ).length === 2,
        { what: 'call results recorded' },
      );
    });
  });

  describe('REST API', () => {
    it('needs a bearer API key with the right role and answers problem details with a code and the field at fault', async () => {
      expect((await api(gw, 'GET', '/api/v1/stations', undefined, null)).status).toBe(401);
      expect(
        (await api(gw, 'PUT', '/api/v1/stations/X1', { securityProfile: 1, password: PASSWORD }, gw.keys.finance))
          .status,
      ).toBe(403);
      const bad = await api(gw, 'PUT', '/api/v1/stations/X1', { securityProfile: 4, password: PASSWORD });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED', field: 'body/securityProfile' }));
      const noPw = await api(gw, 'PUT', '/api/v1/stations/X2', { securityProfile: 1 });
      expect(noPw).toEqual({
        status: 422,
        body: expect.objectContaining({ code: 'PASSWORD_REQUIRED', field: '/password' }),
      });
      const missing = await api(gw, 'GET', '/api/v1/stations/does-not-exist');
      expect(missing).toEqual({ status: 404, body: expect.objectContaining({ code: 'STATION_NOT_FOUND' }) });
    });

    it('registers, lists, reads and deletes stations and tokens; never returns the password', async () => {
      const id = uniqueName('REST');
      const put = await api(gw, 'PUT', `/api/v1/stations/${id}`, {
        securityProfile: 1,
        password: PASSWORD,
        siteId: 'site-1',
        timeZone: 'Europe/Amsterdam',
        evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }],
      });
      expect(put.body).toEqual(
        expect.objectContaining({
          stationId: id,
          hasPassword: true,
          siteId: 'site-1',
          timeZone: 'Europe/Amsterdam',
          revision: expect.any(Number),
          updatedBy: { keyName: 'test-operator', role: 'operator' },
        }),
      );
      // stored (the read comes from the table), and a later write by another key says so
      const [row] = await gw.runtime.dataSource.query(
        'select updated_by, updated_by_role from stations where station_id = $1',
        [id],
      );
      expect(row).toEqual({ updated_by: 'test-operator', updated_by_role: 'operator' });
      expect(JSON.stringify(put.body)).not.toContain(PASSWORD);
      expect((await api(gw, 'GET', `/api/v1/stations/${id}`)).body).toEqual(put.body);
      const list = (await api(gw, 'GET', '/api/v1/stations?limit=500')).body as { items: Array<{ stationId: string }> };
      expect(list.items.map((s) => s.stationId)).toContain(id);
      expect((await api(gw, 'DELETE', `/api/v1/stations/${id}`)).status).toBe(204);
      expect(
        await refusedWith(
          chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD }),
        ),
      ).toBe(404);
      const tok = await api(gw, 'GET', '/api/v1/tokens/TAG-OK', undefined, gw.keys.finance);
      expect(tok.body).toEqual(
        expect.objectContaining({
          uid: 'TAG-OK',
          billingAccountId: 'acct-1',
          groupId: 'FLEET-1',
          updatedBy: { keyName: 'test-operator', role: 'operator' },
        }),
      );
      const tid = uniqueName('TOK').slice(0, 36);
      const written = await api(gw, 'PUT', `/api/v1/tokens/${tid}`, { type: 'ISO14443', status: 'Accepted' });
      expect(written.body).toEqual(
        expect.objectContaining({ uid: tid, updatedBy: { keyName: 'test-operator', role: 'operator' } }),
      );
      const [trow] = await gw.runtime.dataSource.query(
        'select updated_by, updated_by_role from id_tokens where uid = $1',
        [tid],
      );
      expect(trow).toEqual({ updated_by: 'test-operator', updated_by_role: 'operator' });
      expect(JSON.stringify(written.body)).not.toContain(gw.keys.operator);
    });

    it('registers a station location (OCPI-shaped) and connector types, refuses bad fields with the field, publishes registry.station_registered v3', async () => {
      const id = uniqueName('LOC');
      const location = LOCATION;
      const evses = [AC_EVSE];
      const body = {
        securityProfile: 1,
        password: PASSWORD,
        siteId: 'site-loc',
        timeZone: 'Europe/Amsterdam',
        location,
        evses,
      };
      const stations = await new TopicCollector(kafka, [topics.stations]).start();
      try {
        const bad = async (change: Record<string, unknown>, field: string) => {
          const r = await api(gw, 'PUT', `/api/v1/stations/${id}`, { ...body, ...change });
          expect(r).toEqual({ status: 400, body: expect.objectContaining({ code: 'VALIDATION_FAILED', field }) });
        };
        await bad({ location: { ...location, country: 'XYZ' } }, 'body/location/country');
        await bad(
          { location: { ...location, coordinates: { latitude: '95.000000', longitude: '4.900840' } } },
          'body/location/coordinates/latitude',
        );
        await bad(
          { evses: [{ evseId: 1, connectors: [{ connectorId: 1, standard: 'TYPE_2' }] }] },
          'body/evses/0/connectors/0/standard',
        );
        const put = await api(gw, 'PUT', `/api/v1/stations/${id}`, body);
        expect(put.status).toBe(200);
        // the location id defaults to the site id
        expect(put.body).toEqual(
          expect.objectContaining({
            stationId: id,
            siteId: 'site-loc',
            location: { id: 'site-loc', ...location },
            evses,
          }),
        );
        expect((await api(gw, 'GET', `/api/v1/stations/${id}`)).body).toEqual(put.body);
        const event = await waitFor(
          () =>
            stations.records
              .map((r) => JSON.parse(r.value!) as { version: number; payload: Record<string, unknown> })
              .find((e) => e.payload.stationId === id),
          { what: 'the v3 registry event' },
        );
        expect(event.version).toBe(3);
        expect(event.payload).toMatchObject({ location: { id: 'site-loc', ...location }, evses });
        // the in-memory cache keeps what the gateway needs: the ids
        expect(gw.runtime.registryCache.station(id)?.evses).toEqual([{ evseId: 1, connectors: [{ connectorId: 1 }] }]);
        // a record written before locations existed (v1) is still read
        const old = uniqueName('V1');
        const v1 = {
          id: randomUUID(),
          type: 'registry.station_registered',
          version: 1,
          occurredAt: '2026-01-01T00:00:00.000Z',
          key: old,
          source: 'ocpp-gateway',
          causationId: null,
          correlationId: null,
          payload: {
            stationId: old,
            securityProfile: 3,
            passwordHash: null,
            certificateCn: null,
            siteId: null,
            timeZone: 'Europe/Berlin',
            evses: [],
            enabled: true,
            deleted: false,
            revision: 1,
          },
        };
        const publisher = new KafkaRecordPublisher(kafka);
        await publisher.publish([{ topic: topics.stations, key: old, value: JSON.stringify(v1) }]);
        await publisher.disconnect();
        await waitFor(() => gw.runtime.registryCache.station(old)?.timeZone === 'Europe/Berlin', {
          what: 'the v1 station in the cache',
        });
      } finally {
        await stations.close();
      }
    });

    it('serves the OpenAPI document, health and metrics', async () => {
      const id = uniqueName('METRICS');
      await registerStation(id);
      const cp = chargePoint({ endpoint: gw.wsUrl, identity: id, protocols: ['ocpp1.6'], password: PASSWORD });
      await cp.connect();
      await cp.call('Heartbeat', {});
      await cp.close();
      const doc = (await (await fetch(`${gw.httpUrl}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/stations/{stationId}',
          '/api/v1/tokens/{uid}',
          '/api/v1/outbox/parked',
          '/api/v1/outbox/parked/{eventId}/resend',
        ]),
      );
      expect((await fetch(`${gw.httpUrl}/health/live`)).status).toBe(200);
      const ready = await fetch(`${gw.httpUrl}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ok',
        checks: { outbox: { ok: true, degraded: false, detail: { parked: 0, held: 0 } } },
      });
      const metrics = await (await fetch(`${gw.httpUrl}/metrics`)).text();
      expect(metrics).toContain('ocpp_connections');
      expect(metrics).toMatch(/^csms_outbox_parked\{service="ocpp-gateway"\} 0$/m);
      expect(metrics).toMatch(
        /ocpp_call_duration_seconds_count\{[^}]*protocol="ocpp1.6",action="Heartbeat",outcome="result"[^}]*\} [1-9]/,
      );
    });
  });
});
