import { deriveId, type OcppMessageReceived } from '@csms/contracts';
import type { OcppInboundRecord } from '@csms/ocpp-normaliser';

/**
 * Recorded charger conversations, as the gateway publishes them on ocpp.inbound (one envelope per frame).
 * Times are station and gateway times from the recording, never the test's clock.
 */
export interface Recording {
  stationId: string;
  records: OcppMessageReceived[];
}

function builder(stationId: string, protocol: 'ocpp1.6' | 'ocpp2.0.1', connectionId: string) {
  let seq = 0;
  const records: OcppMessageReceived[] = [];
  const push = (receivedAt: string, rec: Partial<OcppInboundRecord>) => {
    seq++;
    const payload = {
      stationId,
      protocol,
      connectionId,
      gatewayInstance: 'gw-test',
      receivedAt,
      kind: 'call',
      ...rec,
    } as OcppInboundRecord;
    records.push({
      id: deriveId('recording', stationId, connectionId, seq),
      type: 'ocpp.message_received',
      version: 1,
      occurredAt: receivedAt,
      key: stationId,
      source: 'ocpp-gateway',
      causationId: null,
      correlationId: `${connectionId}:${seq}`,
      payload: payload as OcppMessageReceived['payload'],
    });
  };
  const call = (receivedAt: string, action: string, payload: unknown, response?: unknown) =>
    push(receivedAt, {
      kind: 'call',
      messageId: `m${seq + 1}`,
      action,
      payload,
      ...(response === undefined ? {} : { response }),
    });
  return { records, push, call };
}

/**
 * OCPP 1.6: boot, Preparing, StartTransaction (meterStart 100 000 Wh), Charging, two periodic samples,
 * SuspendedEV at 10:40 (parking from there), StopTransaction at 11:00 (meterStop 108 000 Wh).
 * Expected: 8 000 Wh; 3 595 s; parking 1 200 s.
 */
export function ocpp16Session(
  stationId: string,
  day = '2026-03-10',
  transactionId = 1001,
  idTag = 'TAG-16',
): Recording {
  const b = builder(stationId, 'ocpp1.6', `conn-${stationId}`);
  const t = (hms: string) => `${day}T${hms}Z`;
  b.push(t('09:59:00.000'), { kind: 'connected' });
  b.call(
    t('09:59:00.100'),
    'BootNotification',
    { chargePointVendor: 'Acme', chargePointModel: 'AC22' },
    { status: 'Accepted', currentTime: t('09:59:00.100'), interval: 300 },
  );
  b.call(t('09:59:01.000'), 'StatusNotification', {
    connectorId: 1,
    status: 'Available',
    errorCode: 'NoError',
    timestamp: t('09:59:01'),
  });
  b.call(t('10:00:00.000'), 'StatusNotification', {
    connectorId: 1,
    status: 'Preparing',
    errorCode: 'NoError',
    timestamp: t('10:00:00'),
  });
  b.call(t('10:00:04.000'), 'Authorize', { idTag }, { idTagInfo: { status: 'Accepted' } });
  b.call(
    t('10:00:05.200'),
    'StartTransaction',
    { connectorId: 1, idTag, meterStart: 100000, timestamp: t('10:00:05') },
    { transactionId, idTagInfo: { status: 'Accepted' } },
  );
  b.call(t('10:00:10.000'), 'StatusNotification', {
    connectorId: 1,
    status: 'Charging',
    errorCode: 'NoError',
    timestamp: t('10:00:10'),
  });
  b.call(t('10:15:00.300'), 'MeterValues', {
    connectorId: 1,
    transactionId,
    meterValue: [
      {
        timestamp: t('10:15:00'),
        sampledValue: [
          { value: '103000', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic' },
          { value: '11.5', measurand: 'Power.Active.Import', unit: 'kW', context: 'Sample.Periodic' },
          { value: '16.6', measurand: 'Current.Import', unit: 'A', phase: 'L1', context: 'Sample.Periodic' },
        ],
      },
    ],
  });
  b.call(t('10:30:00.300'), 'MeterValues', {
    connectorId: 1,
    transactionId,
    meterValue: [
      {
        timestamp: t('10:30:00'),
        sampledValue: [
          { value: '106.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh', context: 'Sample.Periodic' },
          { value: '11000', measurand: 'Power.Active.Import', unit: 'W', context: 'Sample.Periodic' },
        ],
      },
    ],
  });
  b.call(t('10:40:00.000'), 'StatusNotification', {
    connectorId: 1,
    status: 'SuspendedEV',
    errorCode: 'NoError',
    timestamp: t('10:40:00'),
  });
  b.call(t('10:45:00.300'), 'MeterValues', {
    connectorId: 1,
    transactionId,
    meterValue: [
      {
        timestamp: t('10:45:00'),
        sampledValue: [{ value: '108000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
      },
    ],
  });
  b.call(
    t('11:00:00.400'),
    'StopTransaction',
    {
      transactionId,
      idTag,
      meterStop: 108000,
      timestamp: t('11:00:00'),
      reason: 'Local',
      transactionData: [
        {
          timestamp: t('11:00:00'),
          sampledValue: [
            { value: '108000', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Transaction.End' },
          ],
        },
      ],
    },
    { idTagInfo: { status: 'Accepted' } },
  );
  b.call(t('11:00:01.000'), 'StatusNotification', {
    connectorId: 1,
    status: 'Finishing',
    errorCode: 'NoError',
    timestamp: t('11:00:01'),
  });
  b.call(t('11:02:00.000'), 'StatusNotification', {
    connectorId: 1,
    status: 'Available',
    errorCode: 'NoError',
    timestamp: t('11:02:00'),
  });
  return { stationId, records: b.records };
}

/**
 * OCPP 2.0.1: TransactionEvent Started (seqNo 0, register 5.0 kWh as unitOfMeasure kWh), Updated samples
 * in Wh with multiplier, SuspendedEV at 12:45, Ended at 13:00 with register 27 kWh.
 * Expected: 22 000 Wh; 3 600 s; parking 900 s.
 */
export function ocpp201Session(stationId: string, day = '2026-03-10', transactionId = 'TX-201-A'): Recording {
  const b = builder(stationId, 'ocpp2.0.1', `conn-${stationId}`);
  const t = (hms: string) => `${day}T${hms}Z`;
  const evse = { id: 1, connectorId: 1 };
  const energy = (ts: string, value: number, context: string, unit: { unit: string; multiplier?: number }) => ({
    timestamp: ts,
    sampledValue: [{ value, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: unit }],
  });
  b.push(t('11:58:00.000'), { kind: 'connected' });
  b.call(
    t('11:58:00.100'),
    'BootNotification',
    { reason: 'PowerUp', chargingStation: { model: 'DC50', vendorName: 'Acme' } },
    { status: 'Accepted', currentTime: t('11:58:00.100'), interval: 300 },
  );
  b.call(t('11:58:01.000'), 'StatusNotification', {
    timestamp: t('11:58:01'),
    connectorStatus: 'Available',
    evseId: 1,
    connectorId: 1,
  });
  b.call(
    t('12:00:00.500'),
    'TransactionEvent',
    {
      eventType: 'Started',
      timestamp: t('12:00:00'),
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo: { transactionId, chargingState: 'Charging' },
      idToken: { idToken: 'RFID-201', type: 'ISO14443' },
      evse,
      meterValue: [energy(t('12:00:00'), 5, 'Transaction.Begin', { unit: 'kWh' })],
    },
    { idTokenInfo: { status: 'Accepted' } },
  );
  b.call(t('12:20:00.500'), 'TransactionEvent', {
    eventType: 'Updated',
    timestamp: t('12:20:00'),
    triggerReason: 'MeterValuePeriodic',
    seqNo: 1,
    transactionInfo: { transactionId, chargingState: 'Charging' },
    meterValue: [
      {
        timestamp: t('12:20:00'),
        sampledValue: [
          {
            value: 15,
            context: 'Sample.Periodic',
            measurand: 'Energy.Active.Import.Register',
            unitOfMeasure: { unit: 'Wh', multiplier: 3 },
          },
          { value: 30000, context: 'Sample.Periodic', measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
        ],
      },
    ],
  });
  b.call(t('12:45:00.500'), 'TransactionEvent', {
    eventType: 'Updated',
    timestamp: t('12:45:00'),
    triggerReason: 'ChargingStateChanged',
    seqNo: 2,
    transactionInfo: { transactionId, chargingState: 'SuspendedEV' },
    meterValue: [energy(t('12:45:00'), 27000, 'Sample.Periodic', { unit: 'Wh' })],
  });
  b.call(t('13:00:00.500'), 'TransactionEvent', {
    eventType: 'Ended',
    timestamp: t('13:00:00'),
    triggerReason: 'EVCommunicationLost',
    seqNo: 3,
    transactionInfo: { transactionId, chargingState: 'EVConnected', stoppedReason: 'EVDisconnected' },
    meterValue: [energy(t('13:00:00'), 27, 'Transaction.End', { unit: 'kWh' })],
  });
  b.call(t('13:00:02.000'), 'StatusNotification', {
    timestamp: t('13:00:02'),
    connectorStatus: 'Available',
    evseId: 1,
    connectorId: 1,
  });
  return { stationId, records: b.records };
}

/**
 * A long OCPP 1.6 session: StartTransaction at 00:00 (meterStart 0), `samples` MeterValues every
 * `intervalSeconds` (increments of 5 to 17 Wh), StopTransaction one interval after the last sample.
 * Expected energy: `energyWh`.
 */
export function ocpp16LongSession(
  stationId: string,
  samples: number,
  intervalSeconds: number,
  day = '2026-03-10',
): Recording & { energyWh: number } {
  const b = builder(stationId, 'ocpp1.6', `conn-${stationId}`);
  const t0 = Date.parse(`${day}T00:00:00Z`);
  const iso = (ms: number) => new Date(ms).toISOString();
  const transactionId = 7001;
  b.push(iso(t0 - 2000), { kind: 'connected' });
  b.call(iso(t0 - 1000), 'StatusNotification', {
    connectorId: 1,
    status: 'Preparing',
    errorCode: 'NoError',
    timestamp: iso(t0 - 1000),
  });
  b.call(
    iso(t0 + 200),
    'StartTransaction',
    { connectorId: 1, idTag: 'TAG-LONG', meterStart: 0, timestamp: iso(t0) },
    { transactionId, idTagInfo: { status: 'Accepted' } },
  );
  b.call(iso(t0 + 300), 'StatusNotification', {
    connectorId: 1,
    status: 'Charging',
    errorCode: 'NoError',
    timestamp: iso(t0),
  });
  let wh = 0;
  for (let k = 1; k <= samples; k++) {
    const at = t0 + k * intervalSeconds * 1000;
    wh += 5 + ((k * 7919) % 13);
    b.call(iso(at + 100), 'MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [
        {
          timestamp: iso(at),
          sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        },
      ],
    });
  }
  const stop = t0 + (samples + 1) * intervalSeconds * 1000;
  b.call(
    iso(stop + 100),
    'StopTransaction',
    { transactionId, meterStop: wh, timestamp: iso(stop), reason: 'Local' },
    { idTagInfo: { status: 'Accepted' } },
  );
  return { stationId, records: b.records, energyWh: wh };
}
