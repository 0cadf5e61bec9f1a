import { StationRegisteredV3 } from '@csms/contracts';
import { normalise, normaliseOrThrow } from './normalise';
import type { OcppInboundRecord, SourceIdentity } from './inbound-record';
import type { ChargerEvent, MeterSampled, TransactionEnded, TransactionStarted } from './events';

const source: SourceIdentity = { eventId: 'evt-1', topic: 'ocpp.inbound', partition: 3, offset: '42' };

function rec16(action: string, payload: unknown, response?: unknown): OcppInboundRecord {
  return {
    stationId: 'CS-1',
    protocol: 'ocpp1.6',
    kind: 'call',
    messageId: 'm-1',
    action,
    payload,
    response,
    receivedAt: '2026-03-01T10:00:05Z',
    connectionId: 'conn-1',
    gatewayInstance: 'gw-a',
  };
}
function rec201(action: string, payload: unknown, response?: unknown): OcppInboundRecord {
  return { ...rec16(action, payload, response), protocol: 'ocpp2.0.1' };
}
function events(r: OcppInboundRecord): ChargerEvent[] {
  return normaliseOrThrow(r, source).events;
}
function errorCode(r: unknown): string | undefined {
  const res = normalise(r as OcppInboundRecord, source);
  return res.ok ? undefined : res.error.code;
}

describe('normalise: provenance and determinism', () => {
  it('gives every event a name-based id, the station, both times and the source', () => {
    const [e] = events(
      rec16(
        'StartTransaction',
        { connectorId: 1, idTag: 'TAG', meterStart: 100, timestamp: '2026-03-01T10:00:00+01:00' },
        { transactionId: 7, idTagInfo: { status: 'Accepted' } },
      ),
    );
    expect(e).toEqual({
      type: 'transaction.started',
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      stationId: 'CS-1',
      protocol: 'ocpp1.6',
      occurredAt: '2026-03-01T09:00:00.000Z',
      receivedAt: '2026-03-01T10:00:05.000Z',
      source: {
        eventId: 'evt-1',
        topic: 'ocpp.inbound',
        partition: 3,
        offset: '42',
        messageId: 'm-1',
        action: 'StartTransaction',
        connectionId: 'conn-1',
        gatewayInstance: 'gw-a',
      },
      transactionId: '7',
      connectorId: 1,
      idToken: { idToken: 'TAG', type: 'ocpp1.6-idTag' },
      meterStartWh: '100',
      authorizationStatus: 'Accepted',
    });
  });

  it('gives identical output for the same record and different ids for different sources', () => {
    const r = rec16('Heartbeat', {});
    expect(normalise(r, source)).toEqual(normalise(r, source));
    const mv = rec16('MeterValues', {
      connectorId: 1,
      transactionId: 7,
      meterValue: [{ timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: '1' }] }],
    });
    const a = events(mv)[0];
    const b = normaliseOrThrow(mv, { eventId: 'evt-2' }).events[0];
    expect(a.eventId).not.toBe(b.eventId);
    expect(events(mv)[0].eventId).toBe(a.eventId);
  });

  it('flags a timestamp without offset and reads it as UTC', () => {
    const [e] = events(
      rec16('SecurityEventNotification', { type: 'FirmwareUpdated', timestamp: '2026-03-01T10:00:00' }),
    );
    expect(e.occurredAt).toBe('2026-03-01T10:00:00.000Z');
    expect(e.flags).toEqual(['TIMESTAMP_WITHOUT_OFFSET']);
  });

  it('uses the receive time when the message has no timestamp, and says so', () => {
    const [e] = events(rec16('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' }));
    expect(e.occurredAt).toBe('2026-03-01T10:00:05.000Z');
    expect(e.occurredAtIsReceiveTime).toBe(true);
  });
});

describe('normalise: OCPP 1.6', () => {
  it('BootNotification → station.booted with the gateway answer', () => {
    const [e] = events(
      rec16(
        'BootNotification',
        {
          chargePointVendor: 'V',
          chargePointModel: 'M',
          chargePointSerialNumber: 'S',
          firmwareVersion: '1.2',
          iccid: 'I',
          meterType: 'MT',
        },
        { status: 'Accepted', interval: 300, currentTime: '2026-03-01T10:00:05Z' },
      ),
    );
    expect(e).toMatchObject({
      type: 'station.booted',
      vendor: 'V',
      model: 'M',
      serialNumber: 'S',
      firmwareVersion: '1.2',
      registrationStatus: 'Accepted',
      heartbeatIntervalSeconds: 300,
      details: { iccid: 'I', meterType: 'MT' },
    });
  });

  it.each([
    ['Available', 'Idle'],
    ['Preparing', 'EVConnected'],
    ['Charging', 'Charging'],
    ['SuspendedEV', 'SuspendedEV'],
    ['SuspendedEVSE', 'SuspendedEVSE'],
    ['Finishing', 'EVConnected'],
    ['Reserved', undefined],
    ['Unavailable', undefined],
  ])('StatusNotification %s → connector.status.changed with charging state %s', (status, chargingState) => {
    const es = events(
      rec16('StatusNotification', { connectorId: 2, status, errorCode: 'NoError', timestamp: '2026-03-01T10:00:00Z' }),
    );
    expect(es).toHaveLength(1);
    expect(es[0]).toMatchObject({ type: 'connector.status.changed', connectorId: 2, status, errorCode: 'NoError' });
    expect((es[0] as { chargingState?: string }).chargingState).toBe(chargingState);
  });

  it('StatusNotification with an error code also reports a fault', () => {
    const es = events(
      rec16('StatusNotification', {
        connectorId: 1,
        status: 'Faulted',
        errorCode: 'GroundFailure',
        info: 'rcd',
        vendorErrorCode: 'E12',
      }),
    );
    expect(es.map((e) => e.type)).toEqual(['connector.status.changed', 'fault.reported']);
    expect(es[1]).toMatchObject({
      origin: 'status',
      connectorId: 1,
      errorCode: 'GroundFailure',
      info: 'rcd',
      vendorErrorCode: 'E12',
    });
  });

  it('StartTransaction without the gateway response is MISSING_TRANSACTION_ID', () => {
    expect(
      errorCode(
        rec16('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: '2026-03-01T10:00:00Z' }),
      ),
    ).toBe('MISSING_TRANSACTION_ID');
  });

  it('MeterValues → one meter.sampled per meterValue, with transaction and connector', () => {
    const es = events(
      rec16('MeterValues', {
        connectorId: 1,
        transactionId: 7,
        meterValue: [
          {
            timestamp: '2026-03-01T10:00:00Z',
            sampledValue: [
              { value: '1.5', unit: 'kWh' },
              { value: '16', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
            ],
          },
          { timestamp: '2026-03-01T10:15:00Z', sampledValue: [{ value: '3000', context: 'Sample.Clock' }] },
        ],
      }),
    ) as MeterSampled[];
    expect(es.map((e) => [e.type, e.transactionId, e.connectorId, e.occurredAt])).toEqual([
      ['meter.sampled', '7', 1, '2026-03-01T10:00:00.000Z'],
      ['meter.sampled', '7', 1, '2026-03-01T10:15:00.000Z'],
    ]);
    expect(es[0].samples.map((s) => [s.measurand, s.value, s.unit, s.phase])).toEqual([
      ['Energy.Active.Import.Register', '1500', 'Wh', undefined],
      ['Current.Import', '16', 'A', 'L1'],
    ]);
    expect(es[1].samples[0].context).toBe('Sample.Clock');
  });

  it('StopTransaction → transactionData samples then transaction.ended; reason defaults to Local; idTag optional', () => {
    const es = events(
      rec16('StopTransaction', {
        transactionId: 7,
        meterStop: 5000,
        timestamp: '2026-03-01T11:00:00Z',
        transactionData: [
          { timestamp: '2026-03-01T11:00:00Z', sampledValue: [{ value: '5000', context: 'Transaction.End' }] },
        ],
      }),
    );
    expect(es.map((e) => e.type)).toEqual(['meter.sampled', 'transaction.ended']);
    const end = es[1] as TransactionEnded;
    expect(end).toMatchObject({ transactionId: '7', meterStopWh: '5000', stoppedReason: 'Local' });
    expect(end.idToken).toBeUndefined();
  });

  it('samples stamped other than their message carry the message timestamp as messageAt (lateness is judged by it)', () => {
    const stop = events(
      rec16('StopTransaction', {
        transactionId: 7,
        meterStop: 5000,
        timestamp: '2026-03-01T11:00:00Z',
        transactionData: [
          { timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: '1000' }] },
          { timestamp: '2026-03-01T11:00:00Z', sampledValue: [{ value: '5000' }] },
        ],
      }),
    );
    expect(stop.map((e) => e.messageAt)).toEqual(['2026-03-01T11:00:00.000Z', undefined, undefined]);
    // MeterValues has no timestamp of its own: its newest sample stands for it
    const mv = events(
      rec16('MeterValues', {
        connectorId: 1,
        transactionId: 7,
        meterValue: [
          { timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: '1000' }] },
          { timestamp: '2026-03-01T10:15:00Z', sampledValue: [{ value: '2000' }] },
        ],
      }),
    );
    expect(mv.map((e) => e.messageAt)).toEqual(['2026-03-01T10:15:00.000Z', undefined]);
  });

  it.each([
    [
      'FirmwareStatusNotification',
      { status: 'Installed' },
      { type: 'firmware.status.reported', status: 'Installed', origin: 'FirmwareStatusNotification' },
    ],
    [
      'SignedFirmwareStatusNotification',
      { status: 'InvalidSignature', requestId: 4 },
      { type: 'firmware.status.reported', status: 'InvalidSignature', requestId: 4 },
    ],
    [
      'DiagnosticsStatusNotification',
      { status: 'Uploaded' },
      { type: 'diagnostics.status.reported', kind: 'diagnostics', status: 'Uploaded' },
    ],
    [
      'LogStatusNotification',
      { status: 'Uploading', requestId: 2 },
      { type: 'diagnostics.status.reported', kind: 'log', status: 'Uploading', requestId: 2 },
    ],
    [
      'SecurityEventNotification',
      { type: 'TamperDetectionActivated', timestamp: '2026-03-01T09:59:00Z', techInfo: 'lid' },
      {
        type: 'security.event.reported',
        securityEventType: 'TamperDetectionActivated',
        techInfo: 'lid',
        occurredAt: '2026-03-01T09:59:00.000Z',
      },
    ],
  ])('%s → %j', (action, payload, expected) => {
    expect(events(rec16(action, payload))[0]).toMatchObject(expected);
  });

  it.each(['Authorize', 'Heartbeat', 'DataTransfer'])('%s gives no events on purpose', (action) => {
    const res = normaliseOrThrow(rec16(action, {}), source);
    expect(res.events).toEqual([]);
    expect(res.ignored).toContain(action);
  });
});

describe('normalise: OCPP 2.0.1', () => {
  const txInfo = { transactionId: 'TX-9', chargingState: 'Charging' };
  const te = (over: Record<string, unknown>) =>
    rec201('TransactionEvent', {
      eventType: 'Updated',
      timestamp: '2026-03-01T10:00:00Z',
      triggerReason: 'MeterValuePeriodic',
      seqNo: 1,
      transactionInfo: { transactionId: 'TX-9' },
      ...over,
    });

  it('BootNotification → station.booted', () => {
    const [e] = events(
      rec201(
        'BootNotification',
        {
          reason: 'PowerUp',
          chargingStation: {
            vendorName: 'V',
            model: 'M',
            serialNumber: 'S',
            firmwareVersion: '2',
            modem: { iccid: 'I' },
          },
        },
        { status: 'Pending', interval: 60, currentTime: 'x' },
      ),
    );
    expect(e).toMatchObject({
      type: 'station.booted',
      vendor: 'V',
      model: 'M',
      bootReason: 'PowerUp',
      registrationStatus: 'Pending',
      heartbeatIntervalSeconds: 60,
      details: { iccid: 'I' },
    });
  });

  it.each(['Available', 'Occupied', 'Reserved', 'Unavailable', 'Faulted'])(
    'StatusNotification %s → connector.status.changed',
    (connectorStatus) => {
      const es = events(
        rec201('StatusNotification', { timestamp: '2026-03-01T10:00:00Z', connectorStatus, evseId: 1, connectorId: 2 }),
      );
      expect(es[0]).toMatchObject({
        type: 'connector.status.changed',
        evseId: 1,
        connectorId: 2,
        status: connectorStatus,
      });
      expect(es.map((e) => e.type)).toEqual(
        connectorStatus === 'Faulted' ? ['connector.status.changed', 'fault.reported'] : ['connector.status.changed'],
      );
    },
  );

  it('TransactionEvent Started → transaction.started, charging.state.changed, meter.sampled (Transaction.Begin register is meterStart)', () => {
    const es = events(
      te({
        eventType: 'Started',
        seqNo: 0,
        triggerReason: 'Authorized',
        offline: true,
        transactionInfo: { ...txInfo, remoteStartId: 5 },
        evse: { id: 1, connectorId: 1 },
        idToken: { idToken: 'ABC', type: 'ISO14443' },
        meterValue: [
          {
            timestamp: '2026-03-01T10:00:00Z',
            sampledValue: [{ value: 1.234, context: 'Transaction.Begin', unitOfMeasure: { unit: 'kWh' } }],
          },
        ],
      }),
    );
    expect(es.map((e) => e.type)).toEqual(['transaction.started', 'charging.state.changed', 'meter.sampled']);
    const start = es[0] as TransactionStarted;
    expect(start).toMatchObject({
      transactionId: 'TX-9',
      evseId: 1,
      connectorId: 1,
      meterStartWh: '1234',
      remoteStartId: 5,
      chargingState: 'Charging',
      idToken: { idToken: 'ABC', type: 'ISO14443' },
    });
    expect(start.tx).toEqual({ eventType: 'Started', seqNo: 0, triggerReason: 'Authorized', offline: true });
    for (const e of es) expect((e as { tx?: unknown }).tx).toEqual(start.tx);
  });

  it.each(['Charging', 'EVConnected', 'SuspendedEV', 'SuspendedEVSE', 'Idle'])(
    'TransactionEvent Updated with chargingState %s → charging.state.changed',
    (chargingState) => {
      const es = events(
        te({ triggerReason: 'ChargingStateChanged', transactionInfo: { transactionId: 'TX-9', chargingState } }),
      );
      expect(es).toHaveLength(1);
      expect(es[0]).toMatchObject({ type: 'charging.state.changed', chargingState, transactionId: 'TX-9' });
    },
  );

  it('TransactionEvent meter values sampled before the message carry its timestamp as messageAt; the others do not', () => {
    const es = events(
      te({
        meterValue: [
          { timestamp: '2026-03-01T09:40:00Z', sampledValue: [{ value: 1000 }] },
          { timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: 2000 }] },
        ],
      }),
    );
    expect(es.map((e) => [e.occurredAt, e.messageAt])).toEqual([
      ['2026-03-01T09:40:00.000Z', '2026-03-01T10:00:00.000Z'],
      ['2026-03-01T10:00:00.000Z', undefined],
    ]);
  });

  it('TransactionEvent Updated with nothing else → transaction.updated (keeps the seqNo)', () => {
    const es = events(te({ seqNo: 4, triggerReason: 'Authorized', idToken: { idToken: 'A', type: 'Central' } }));
    expect(es).toHaveLength(1);
    expect(es[0]).toMatchObject({
      type: 'transaction.updated',
      idToken: { idToken: 'A', type: 'Central' },
      tx: { seqNo: 4 },
    });
  });

  it('TransactionEvent Ended → samples, then transaction.ended with the Transaction.End register and stoppedReason', () => {
    const es = events(
      te({
        eventType: 'Ended',
        seqNo: 7,
        triggerReason: 'EVCommunicationLost',
        transactionInfo: {
          transactionId: 'TX-9',
          chargingState: 'Idle',
          stoppedReason: 'EVDisconnected',
          timeSpentCharging: 3600,
        },
        meterValue: [
          {
            timestamp: '2026-03-01T11:00:00Z',
            sampledValue: [
              { value: 123456, context: 'Transaction.End', unitOfMeasure: { unit: 'Wh', multiplier: -1 } },
            ],
          },
        ],
      }),
    );
    expect(es.map((e) => e.type)).toEqual(['meter.sampled', 'charging.state.changed', 'transaction.ended']);
    expect(es[2]).toMatchObject({
      meterStopWh: '12345.6',
      stoppedReason: 'EVDisconnected',
      tx: { eventType: 'Ended', seqNo: 7, timeSpentChargingSeconds: 3600 },
    });
  });

  it('MeterValues (outside a transaction) → meter.sampled for the EVSE', () => {
    const [e] = events(
      rec201('MeterValues', {
        evseId: 0,
        meterValue: [{ timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: 5, measurand: 'Voltage' }] }],
      }),
    ) as MeterSampled[];
    expect(e).toMatchObject({
      type: 'meter.sampled',
      evseId: 0,
      samples: [{ measurand: 'Voltage', value: '5', unit: 'V' }],
    });
    expect(e.transactionId).toBeUndefined();
  });

  it('NotifyEvent: alerts and problem variables → fault.reported; other monitoring events are dropped', () => {
    const item = (trigger: string, variable: string, extra = {}) => ({
      eventId: 1,
      timestamp: '2026-03-01T10:00:00Z',
      trigger,
      actualValue: 'true',
      eventNotificationType: 'HardWiredMonitor',
      component: { name: 'EVSE', evse: { id: 1, connectorId: 1 } },
      variable: { name: variable },
      ...extra,
    });
    const es = events(
      rec201('NotifyEvent', {
        generatedAt: '2026-03-01T10:00:01Z',
        seqNo: 0,
        eventData: [
          item('Alerting', 'Temperature'),
          item('Delta', 'Problem', { cleared: true, techCode: 'OT' }),
          item('Periodic', 'Power'),
        ],
      }),
    );
    expect(es.map((e) => [e.type, (e as { variable?: string }).variable])).toEqual([
      ['fault.reported', 'Temperature'],
      ['fault.reported', 'Problem'],
    ]);
    expect(es[1]).toMatchObject({
      origin: 'monitoring',
      evseId: 1,
      connectorId: 1,
      cleared: true,
      techCode: 'OT',
      component: 'EVSE',
    });
  });

  it.each([
    ['FirmwareStatusNotification', { status: 'Downloading', requestId: 1 }, 'firmware.status.reported'],
    ['PublishFirmwareStatusNotification', { status: 'Published' }, 'firmware.status.reported'],
    ['LogStatusNotification', { status: 'Uploaded', requestId: 3 }, 'diagnostics.status.reported'],
    [
      'SecurityEventNotification',
      { type: 'SettingSystemTime', timestamp: '2026-03-01T10:00:00Z' },
      'security.event.reported',
    ],
  ])('%s → %s', (action, payload, type) => {
    expect(events(rec201(action, payload))[0].type).toBe(type);
  });
});

describe('normalise: connection records and errors', () => {
  it('connected and disconnected records', () => {
    const base = rec16('x', undefined);
    expect(events({ ...base, kind: 'connected', action: undefined })[0].type).toBe('station.connected');
    expect(events({ ...base, kind: 'disconnected', action: undefined, reason: 'ping timeout' })[0]).toMatchObject({
      type: 'station.disconnected',
      reason: 'ping timeout',
    });
  });

  it('callresult and callerror records give no events', () => {
    expect(normaliseOrThrow({ ...rec16('Reset', undefined), kind: 'callresult' }, source).events).toEqual([]);
    expect(normaliseOrThrow({ ...rec16('Reset', undefined), kind: 'callerror' }, source).events).toEqual([]);
  });

  it('a frame the gateway rejected is kept in the log but gives no events (not even from a parseable payload)', () => {
    const rejected = {
      ...rec16('StartTransaction', { connectorId: '1', idTag: 'T', meterStart: 1 }),
      kind: 'rejected' as const,
      reason: 'type',
      response: ['TypeConstraintViolation', 'connectorId'],
    };
    expect(normaliseOrThrow(rejected, source).events).toEqual([]);
    expect(
      normaliseOrThrow(
        { ...rec16('x', undefined), action: undefined, kind: 'rejected', frame: '}{', reason: 'json' },
        source,
      ).events,
    ).toEqual([]);
  });

  it.each([
    ['not an object', 'nope', 'INVALID_RECORD'],
    ['unknown protocol', { ...rec16('Heartbeat', {}), protocol: 'ocpp2.1' }, 'UNSUPPORTED_PROTOCOL'],
    ['unknown kind', { ...rec16('Heartbeat', {}), kind: 'weird' }, 'INVALID_PAYLOAD'],
    ['bad receivedAt', { ...rec16('Heartbeat', {}), receivedAt: 'yesterday' }, 'INVALID_TIMESTAMP'],
    [
      'impossible date',
      rec16('SecurityEventNotification', { type: 'x', timestamp: '2026-02-30T10:00:00Z' }),
      'INVALID_TIMESTAMP',
    ],
    ['unknown 1.6 action', rec16('TransactionEvent', {}), 'UNKNOWN_ACTION'],
    ['CSMS action sent by a station', rec16('Reset', { type: 'Hard' }), 'UNKNOWN_ACTION'],
    ['unknown 2.0.1 action', rec201('StartTransaction', {}), 'UNKNOWN_ACTION'],
    ['missing payload', rec16('StatusNotification', undefined), 'INVALID_PAYLOAD'],
    [
      'bad status',
      rec16('StatusNotification', { connectorId: 1, status: 'Sleeping', errorCode: 'NoError' }),
      'INVALID_PAYLOAD',
    ],
    [
      'meterStart not integer',
      {
        ...rec16(
          'StartTransaction',
          { connectorId: 1, idTag: 'T', meterStart: 1.5, timestamp: '2026-03-01T10:00:00Z' },
          { transactionId: 1 },
        ),
      },
      'INVALID_PAYLOAD',
    ],
    [
      'non-numeric 1.6 value',
      rec16('MeterValues', {
        connectorId: 1,
        meterValue: [{ timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: 'n/a' }] }],
      }),
      'INVALID_METER_VALUE',
    ],
    [
      'bad seqNo',
      rec201('TransactionEvent', {
        eventType: 'Updated',
        timestamp: '2026-03-01T10:00:00Z',
        triggerReason: 'x',
        seqNo: 'one',
        transactionInfo: { transactionId: 'T' },
      }),
      'INVALID_PAYLOAD',
    ],
    [
      'bad eventType',
      rec201('TransactionEvent', {
        eventType: 'Paused',
        timestamp: '2026-03-01T10:00:00Z',
        triggerReason: 'x',
        seqNo: 1,
        transactionInfo: { transactionId: 'T' },
      }),
      'INVALID_PAYLOAD',
    ],
  ])('%s → %s (no throw)', (_name, record, code) => {
    expect(errorCode(record)).toBe(code);
  });

  it('errors are typed, non-retriable and name the field', () => {
    const res = normalise(
      rec16('MeterValues', {
        connectorId: 1,
        meterValue: [{ timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: '1' }, { value: 'x' }] }],
      }),
      source,
    );
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.retriable).toBe(false);
      expect(res.error.path).toBe('payload.meterValue[0].sampledValue[1].value');
    }
  });
});

describe("normalise: the registry's facts of a token, as the gateway answered", () => {
  const facts = { revision: 3, groupId: 'FLEET', billingAccountId: 'ACCT-A' };
  const start16 = (tokens?: unknown) => ({
    ...rec16(
      'StartTransaction',
      { connectorId: 1, idTag: 'TAG', meterStart: 100, timestamp: '2026-03-01T10:00:00Z' },
      { transactionId: 7, idTagInfo: { status: 'Accepted' } },
    ),
    ...(tokens === undefined ? {} : { tokens }),
  });
  const tx201 = (eventType: string, tokens: unknown) => ({
    ...rec201('TransactionEvent', {
      eventType,
      timestamp: '2026-03-01T10:00:00Z',
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo: { transactionId: 'TX-1' },
      evse: { id: 1, connectorId: 1 },
      idToken: { idToken: 'TAG', type: 'ISO14443' },
    }),
    tokens,
  });

  it('are carried on the id token they were looked up for (1.6 StartTransaction)', () => {
    const [e] = events(start16([{ uid: 'TAG', ...facts }]) as OcppInboundRecord) as TransactionStarted[];
    expect(e.idToken).toEqual({ idToken: 'TAG', type: 'ocpp1.6-idTag', registry: facts });
  });

  it('say when the registry did not know the token (revision null)', () => {
    const unknown = { revision: null, groupId: null, billingAccountId: null };
    const [e] = events(start16([{ uid: 'TAG', ...unknown }]) as OcppInboundRecord) as TransactionStarted[];
    expect(e.idToken?.registry).toEqual(unknown);
  });

  it('are absent from a record of before they were recorded, and for another token', () => {
    const [a] = events(start16() as OcppInboundRecord) as TransactionStarted[];
    expect(a.idToken).toEqual({ idToken: 'TAG', type: 'ocpp1.6-idTag' });
    const [b] = events(start16([{ uid: 'OTHER', ...facts }]) as OcppInboundRecord) as TransactionStarted[];
    expect(b.idToken).toEqual({ idToken: 'TAG', type: 'ocpp1.6-idTag' });
  });

  it('are carried on the stop token of a 1.6 StopTransaction', () => {
    const r = {
      ...rec16('StopTransaction', {
        transactionId: 7,
        idTag: 'TAG',
        meterStop: 200,
        timestamp: '2026-03-01T11:00:00Z',
      }),
      tokens: [{ uid: 'TAG', ...facts }],
    };
    const ended = events(r as OcppInboundRecord).find((e) => e.type === 'transaction.ended') as TransactionEnded;
    expect(ended.idToken).toEqual({ idToken: 'TAG', type: 'ocpp1.6-idTag', registry: facts });
  });

  it.each(['Started', 'Updated', 'Ended'])('are carried on a 2.0.1 TransactionEvent(%s) id token', (eventType) => {
    const out = events(tx201(eventType, [{ uid: 'TAG', ...facts }]) as OcppInboundRecord);
    const withToken = out.filter((e) => 'idToken' in e && e.idToken !== undefined) as TransactionStarted[];
    expect(withToken).toHaveLength(1);
    expect(withToken[0].idToken).toEqual({ idToken: 'TAG', type: 'ISO14443', registry: facts });
  });

  it('do not change the event ids', () => {
    const [a] = events(start16() as OcppInboundRecord);
    const [b] = events(start16([{ uid: 'TAG', ...facts }]) as OcppInboundRecord);
    expect(b.eventId).toBe(a.eventId);
  });

  it.each([
    ['not a list', { uid: 'TAG' }, 'record.tokens'],
    ['an entry without uid', [{ ...facts }], 'record.tokens[0].uid'],
    ['a negative revision', [{ uid: 'TAG', ...facts, revision: -1 }], 'record.tokens[0].revision'],
    ['a numeric group', [{ uid: 'TAG', ...facts, groupId: 7 }], 'record.tokens[0].groupId'],
    ['an empty account', [{ uid: 'TAG', ...facts, billingAccountId: '' }], 'record.tokens[0].billingAccountId'],
  ])('refuse %s, naming the field', (_, tokens, field) => {
    const res = normalise(start16(tokens) as OcppInboundRecord, source);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.field).toBe(field);
  });
});

describe("normalise: the registry's facts of the station, as the gateway answered the start", () => {
  // the registry's facts of the contracts' example station
  const { revision, siteId, timeZone, location, evses } = StationRegisteredV3.example;
  const station = { revision, siteId, timeZone, location, evses };
  const start16 = (facts?: unknown) => ({
    ...rec16(
      'StartTransaction',
      { connectorId: 1, idTag: 'TAG', meterStart: 100, timestamp: '2026-03-01T10:00:00Z' },
      { transactionId: 7, idTagInfo: { status: 'Accepted' } },
    ),
    ...(facts === undefined ? {} : { station: facts }),
  });
  const started201 = {
    ...rec201('TransactionEvent', {
      eventType: 'Started',
      timestamp: '2026-03-01T10:00:00Z',
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo: { transactionId: 'TX-1' },
      evse: { id: 1, connectorId: 1 },
      meterValue: [{ timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: 100 }] }],
    }),
    station,
  };

  it('are carried on the 1.6 transaction start, and change no event id', () => {
    const [e] = events(start16(station) as OcppInboundRecord) as TransactionStarted[];
    expect(e.type).toBe('transaction.started');
    expect(e.station).toEqual(station);
    const [before] = events(start16() as OcppInboundRecord) as TransactionStarted[];
    expect(before.station).toBeUndefined();
    expect(e.eventId).toBe(before.eventId);
  });

  it('are carried on the 2.0.1 Started transaction start only, not on the samples of the same record', () => {
    const out = events(started201 as OcppInboundRecord);
    expect(out.map((e) => e.type)).toContain('meter.sampled');
    for (const e of out)
      expect((e as TransactionStarted).station).toEqual(e.type === 'transaction.started' ? station : undefined);
  });

  it.each([
    ['not an object', 'x', 'record.station'],
    ['a revision of 0', { ...station, revision: 0 }, 'record.station.revision'],
    ['an empty site', { ...station, siteId: '' }, 'record.station.siteId'],
    ['no time zone', { ...station, timeZone: undefined }, 'record.station.timeZone'],
    ['a location that is a list', { ...station, location: [] }, 'record.station.location'],
    ['evses that are not a list', { ...station, evses: {} }, 'record.station.evses'],
  ])('refuse %s, naming the field', (_, facts, field) => {
    const res = normalise(start16(facts) as OcppInboundRecord, source);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.field).toBe(field);
  });
});
