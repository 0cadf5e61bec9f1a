import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { getOcppSchemaForAjv, type OcppProtocol } from '@csms/ocpp';
import { ChargingMeter } from './charging';
import {
  bootNotification16,
  bootNotification201,
  meterValue16,
  meterValue201,
  problemEvent201,
  statusNotification16,
  statusNotification201,
} from './messages';

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
function valid(protocol: OcppProtocol, action: string, payload: unknown): string[] {
  const schema = getOcppSchemaForAjv(protocol, action, 'request')!;
  const v = ajv.getSchema(schema.$id) ?? ajv.compile(schema);
  return v(payload) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

const meter = new ChargingMeter({
  maxPowerW: 22_000,
  minPowerW: 1_000,
  rampSeconds: 10,
  batteryWh: 60_000,
  startSocPct: 30,
  targetSocPct: 90,
  taperFromSocPct: 80,
  maxChargingSeconds: 3600,
  suspensions: [],
  phases: 3,
  voltageV: 230,
});
const reading = meter.at(600);
const ts = '2026-01-02T03:04:05.000Z';
const id = { vendor: 'CSMS-Sim', model: 'Sim-2x22kW', serialNumber: 'SIM-1-0001', firmwareVersion: '1.0.0' };

describe('payloads against the official schemas', () => {
  it.each<[OcppProtocol, string, unknown]>([
    ['ocpp1.6', 'BootNotification', bootNotification16(id)],
    ['ocpp1.6', 'StatusNotification', statusNotification16(1, 'Charging', ts)],
    ['ocpp1.6', 'StatusNotification', statusNotification16(2, 'Faulted', ts, 'GroundFailure')],
    [
      'ocpp1.6',
      'MeterValues',
      {
        connectorId: 1,
        transactionId: 7,
        meterValue: [meterValue16(ts, { registerWh: 1234, reading, phases: 3 }, 'Sample.Periodic')],
      },
    ],
    [
      'ocpp1.6',
      'StopTransaction',
      {
        transactionId: 7,
        meterStop: 4000,
        timestamp: ts,
        reason: 'Local',
        idTag: 'TAG',
        transactionData: [
          meterValue16(ts, { registerWh: 1000, phases: 3 }, 'Transaction.Begin', false),
          meterValue16(ts, { registerWh: 4000, phases: 3 }, 'Transaction.End', false),
        ],
      },
    ],
    ['ocpp2.0.1', 'BootNotification', bootNotification201(id, 'PowerUp')],
    ['ocpp2.0.1', 'StatusNotification', statusNotification201(1, 'Occupied', ts)],
    ['ocpp2.0.1', 'NotifyEvent', problemEvent201(1, 1, ts, true, 'GroundFailure')],
    ['ocpp2.0.1', 'NotifyEvent', problemEvent201(1, 2, ts, false, 'GroundFailure')],
    [
      'ocpp2.0.1',
      'TransactionEvent',
      {
        eventType: 'Updated',
        timestamp: ts,
        triggerReason: 'MeterValuePeriodic',
        seqNo: 3,
        transactionInfo: { transactionId: 'abc-1-1' },
        meterValue: [meterValue201(ts, { registerWh: 1234, reading, phases: 3 }, 'Sample.Periodic')],
      },
    ],
  ])('%s %s', (protocol, action, payload) => {
    expect(valid(protocol, action, payload)).toEqual([]);
  });

  it('1.6 sampled values are decimal text: register in whole Wh, current per phase with one decimal', () => {
    const mv = meterValue16(ts, { registerWh: 1234, reading, phases: 3 }, 'Sample.Periodic');
    const byMeasurand = (m: string) => mv.sampledValue.filter((s) => s.measurand === m);
    expect(byMeasurand('Energy.Active.Import.Register')[0].value).toBe('1234');
    expect(byMeasurand('Current.Import').map((s) => s.phase)).toEqual(['L1', 'L2', 'L3']);
    for (const s of byMeasurand('Current.Import')) expect(s.value).toMatch(/^[0-9]+\.[0-9]$/);
    expect(byMeasurand('Power.Active.Import')[0].value).toBe(String(reading.powerW));
    expect(byMeasurand('SoC')[0]).toMatchObject({ unit: 'Percent', location: 'EV' });
  });
});
