import { systemCatalogue } from '@csms/contracts';
import { isPublicSessionEvent } from './events';
import { closeStale, run, station } from './spec-helpers';

/** Every public event the decider emits is valid against its schema in libs/contracts. */
describe('session events match their contracts', () => {
  const catalogue = systemCatalogue();
  const cs16 = station('CS-C16');
  const cs201 = station('CS-C201', 'ocpp2.0.1');
  const scenarios = {
    'ocpp1.6 with statuses, phases, signed data, late stop after a timeout': [
      cs16.status16({ status: 'Preparing', at: '2026-03-01T09:59:00Z' }),
      cs16.start16({ tx: 1, meterStart: 0, at: '2026-03-01T10:00:00Z' }),
      cs16.status16({ status: 'Charging', at: '2026-03-01T10:00:01Z' }),
      cs16.meter16({
        tx: 1,
        at: '2026-03-01T10:20:00Z',
        values: [
          { value: '7.5', unit: 'kWh' },
          { value: '22', measurand: 'Power.Active.Import', unit: 'kW' },
          { value: '32', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
        ],
      }),
      cs16.status16({ status: 'SuspendedEV', at: '2026-03-01T10:40:00Z' }),
      closeStale('2026-03-05T00:00:00Z'),
      cs16.stop16({
        tx: 1,
        meterStop: 9000,
        at: '2026-03-01T11:00:00Z',
        receivedAt: '2026-03-05T01:00:00Z',
        transactionData: [
          {
            timestamp: '2026-03-01T11:00:00Z',
            sampledValue: [{ value: 'OCMF|{}|{}', format: 'SignedData', context: 'Transaction.End' }],
          },
        ],
      }),
    ],
    'ocpp2.0.1 with a seqNo gap closed by the grace rule': [
      cs201.tx201({ eventType: 'Started', seqNo: 0, at: '2026-03-01T10:00:00Z', chargingState: 'Charging', wh: 0 }),
      cs201.tx201({ eventType: 'Updated', seqNo: 1, at: '2026-03-01T10:20:00Z', wh: 3000, power: 9000 }),
      cs201.tx201({ eventType: 'Ended', seqNo: 3, at: '2026-03-01T11:00:00Z', wh: 5000 }),
      closeStale('2026-03-03T00:00:00Z'),
    ],
  };
  it.each(Object.entries(scenarios))('%s', (_name, cmds) => {
    const { events } = run(cmds.flat());
    const published = events.filter(isPublicSessionEvent);
    expect(published.map((e) => e.type)).toEqual(
      expect.arrayContaining(['session.started', 'session.updated', 'session.ended']),
    );
    for (const e of published) expect(() => catalogue.check({ ...e, source: 'session-service' })).not.toThrow();
  });
});
