import fc from 'fast-check';
import { normaliseOrThrow, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { applyChargerEvent, applyHeardFrom, type StationView } from './monitor';

// A MeterValues applied from its record's headers (`applyHeardFrom`, the reporting service's light path) must leave a
// station's view as folding its normalised events does, whatever came before and after it.

type Step = { kind: 'meterValues' | 'connected' | 'disconnected' | 'status' | 'boot'; v2: boolean; s: number };

const at = (s: number) => new Date(Date.parse('2026-05-01T08:00:00Z') + s * 1000).toISOString();

function record(step: Step, i: number): OcppInboundRecord {
  const protocol = step.v2 ? 'ocpp2.0.1' : 'ocpp1.6';
  const base = {
    stationId: 'CP-H',
    protocol,
    messageId: `m${i}`,
    receivedAt: at(step.s),
    connectionId: 'c1',
    gatewayInstance: 'gw',
  } as const;
  switch (step.kind) {
    case 'connected':
    case 'disconnected':
      return { ...base, kind: step.kind } as OcppInboundRecord;
    case 'boot':
      return {
        ...base,
        kind: 'call',
        action: 'BootNotification',
        payload: step.v2
          ? { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } }
          : { chargePointModel: 'M', chargePointVendor: 'V' },
        response: { status: 'Accepted', currentTime: at(step.s), interval: 60 },
      } as OcppInboundRecord;
    case 'status':
      return {
        ...base,
        kind: 'call',
        action: 'StatusNotification',
        payload: step.v2
          ? { timestamp: at(step.s), connectorStatus: i % 2 ? 'Faulted' : 'Available', evseId: 1, connectorId: 1 }
          : { connectorId: 1, status: i % 2 ? 'Faulted' : 'Available', errorCode: 'NoError', timestamp: at(step.s) },
        response: {},
      } as OcppInboundRecord;
    case 'meterValues':
      return {
        ...base,
        kind: 'call',
        action: 'MeterValues',
        payload: step.v2
          ? { evseId: 1, meterValue: [{ timestamp: at(step.s), sampledValue: [{ value: 1000 + i }] }] }
          : { connectorId: 1, meterValue: [{ timestamp: at(step.s), sampledValue: [{ value: String(1000 + i) }] }] },
        response: {},
      } as OcppInboundRecord;
  }
}

function fold(steps: Step[], light: boolean): StationView | undefined {
  let view: StationView | undefined;
  steps.forEach((step, i) => {
    const r = record(step, i);
    if (light && step.kind === 'meterValues') {
      view = applyHeardFrom(view, { stationId: r.stationId, protocol: r.protocol, receivedAt: r.receivedAt });
      return;
    }
    const id = `00000000-0000-5000-8000-${String(i).padStart(12, '0')}`;
    for (const e of normaliseOrThrow(r, { eventId: id }).events) view = applyChargerEvent(view, e).view;
  });
  return view;
}

describe('applyHeardFrom: a MeterValues from its headers', () => {
  it('leaves the same view as folding its meter.sampled events, in any history (receive times out of order too)', () => {
    const step = fc.record({
      kind: fc.constantFrom<Step['kind']>('meterValues', 'meterValues', 'connected', 'disconnected', 'status', 'boot'),
      v2: fc.boolean(),
      s: fc.integer({ min: 0, max: 600 }),
    });
    let withMeterValues = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        if (steps.some((s) => s.kind === 'meterValues')) withMeterValues++;
        expect(fold(steps, true)).toEqual(fold(steps, false));
      }),
      { numRuns: 500, seed: 20261207 },
    );
    expect(withMeterValues).toBeGreaterThan(400);
  });

  it('marks a station heard from: online, its protocol, the later receive time', () => {
    const v = applyHeardFrom(undefined, { stationId: 'CP-H', protocol: 'ocpp2.0.1', receivedAt: at(5) });
    expect(v).toEqual({
      stationId: 'CP-H',
      online: true,
      protocol: 'ocpp2.0.1',
      lastMessageAt: at(5),
      connectors: {},
      openAlarms: [],
    });
    const offline = { ...v, online: false, protocol: 'ocpp1.6' as const };
    expect(applyHeardFrom(offline, { stationId: 'CP-H', protocol: 'ocpp2.0.1', receivedAt: at(3) })).toEqual(v);
    expect(applyHeardFrom(v, { stationId: 'CP-H', protocol: 'ocpp2.0.1', receivedAt: at(9) }).lastMessageAt).toBe(
      at(9),
    );
  });
});
