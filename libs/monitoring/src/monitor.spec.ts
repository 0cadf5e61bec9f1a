import { normaliseOrThrow, type ChargerEvent, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { acknowledge, applyChargerEvent, type StationView } from './monitor';

let n = 0;
/** Charger events as the normaliser makes them from inbound records (given). */
function events(
  protocol: 'ocpp1.6' | 'ocpp2.0.1',
  receivedAt: string,
  rec: Partial<OcppInboundRecord>,
): ChargerEvent[] {
  n++;
  const record = {
    stationId: 'CP1',
    protocol,
    kind: 'call',
    messageId: `m${n}`,
    receivedAt,
    connectionId: 'c1',
    gatewayInstance: 'gw',
    ...rec,
  } as OcppInboundRecord;
  return normaliseOrThrow(record, { eventId: `00000000-0000-5000-8000-${String(n).padStart(12, '0')}` }).events;
}
function fold(view: StationView | undefined, evs: ChargerEvent[]) {
  const opened = [];
  const closed = [];
  for (const e of evs) {
    const r = applyChargerEvent(view, e);
    view = r.view;
    opened.push(...r.opened);
    closed.push(...r.closed);
  }
  return { view: view!, opened, closed };
}
const status16 = (t: string, connectorId: number, status: string, errorCode = 'NoError') =>
  events('ocpp1.6', t, { action: 'StatusNotification', payload: { connectorId, status, errorCode, timestamp: t } });

describe('station monitoring', () => {
  it('given a connect and a boot, the station is online with its identity and last message time', () => {
    const { view } = fold(undefined, [
      ...events('ocpp1.6', '2026-03-10T10:00:00Z', { kind: 'connected' }),
      ...events('ocpp1.6', '2026-03-10T10:00:01Z', {
        action: 'BootNotification',
        payload: { chargePointVendor: 'Acme', chargePointModel: 'AC22', firmwareVersion: '1.2.3' },
        response: { status: 'Accepted', currentTime: '2026-03-10T10:00:01Z', interval: 300 },
      }),
    ]);
    expect(view).toMatchObject({
      online: true,
      vendor: 'Acme',
      model: 'AC22',
      firmwareVersion: '1.2.3',
      registrationStatus: 'Accepted',
      lastMessageAt: '2026-03-10T10:00:01.000Z',
    });
  });

  it('given a disconnect, the station is offline with the reason, and online again at its next message', () => {
    let { view } = fold(undefined, [
      ...events('ocpp1.6', '2026-03-10T10:00:00Z', { kind: 'connected' }),
      ...events('ocpp1.6', '2026-03-10T11:00:00Z', { kind: 'disconnected', reason: 'ping timeout' }),
    ]);
    expect(view).toMatchObject({
      online: false,
      disconnectReason: 'ping timeout',
      lastMessageAt: '2026-03-10T11:00:00.000Z',
    });
    view = fold(view, status16('2026-03-10T12:00:00Z', 1, 'Available')).view;
    expect(view.online).toBe(true);
  });

  it('when a connector reports Faulted an alarm opens once, and closes with its next non-Faulted status', () => {
    const a = fold(undefined, [
      ...status16('2026-03-10T10:00:00Z', 1, 'Faulted', 'GroundFailure'),
      ...status16('2026-03-10T10:01:00Z', 1, 'Faulted', 'GroundFailure'),
    ]);
    expect(a.opened).toHaveLength(1);
    expect(a.opened[0]).toMatchObject({
      kind: 'CONNECTOR_FAULTED',
      connectorId: 1,
      code: 'GroundFailure',
      openedAt: '2026-03-10T10:00:00.000Z',
    });
    expect(a.view.connectors.c1).toMatchObject({ status: 'Faulted', errorCode: 'GroundFailure' });
    const b = fold(a.view, [
      ...status16('2026-03-10T10:30:00Z', 2, 'Available'),
      ...status16('2026-03-10T10:31:00Z', 1, 'Available'),
    ]);
    expect(b.closed).toHaveLength(1);
    expect(b.closed[0]).toMatchObject({ alarmId: a.opened[0].alarmId, closedAt: '2026-03-10T10:31:00.000Z' });
    expect(b.view.openAlarms).toEqual([]);
  });

  it('a 2.0.1 NotifyEvent alert opens a monitoring alarm that closes when cleared', () => {
    const notify = (t: string, cleared: boolean) =>
      events('ocpp2.0.1', t, {
        action: 'NotifyEvent',
        payload: {
          generatedAt: t,
          seqNo: 0,
          eventData: [
            {
              eventId: 1,
              timestamp: t,
              trigger: 'Alerting',
              actualValue: '85',
              component: { name: 'Connector', evse: { id: 1, connectorId: 1 } },
              variable: { name: 'Temperature' },
              eventNotificationType: 'HardWiredMonitor',
              cleared,
            },
          ],
        },
      });
    const a = fold(undefined, notify('2026-03-10T10:00:00Z', false));
    expect(a.opened).toHaveLength(1);
    expect(a.opened[0]).toMatchObject({ kind: 'MONITORING_EVENT', code: 'Alerting' });
    expect(a.opened[0].detail).toContain('Connector.Temperature = 85');
    const b = fold(a.view, notify('2026-03-10T10:10:00Z', true));
    expect(b.closed.map((x) => x.alarmId)).toEqual([a.opened[0].alarmId]);
  });

  it('a security event stays open until an operator acknowledges it', () => {
    const a = fold(
      undefined,
      events('ocpp2.0.1', '2026-03-10T10:00:00Z', {
        action: 'SecurityEventNotification',
        payload: { type: 'TamperDetectionActivated', timestamp: '2026-03-10T10:00:00Z', techInfo: 'lid opened' },
      }),
    );
    expect(a.opened[0]).toMatchObject({
      kind: 'SECURITY_EVENT',
      code: 'TamperDetectionActivated',
      detail: 'lid opened',
    });
    const b = fold(a.view, status16('2026-03-10T10:05:00Z', 1, 'Available'));
    expect(b.view.openAlarms).toHaveLength(1);
    const c = acknowledge(b.view, a.opened[0].alarmId, '2026-03-10T11:00:00Z', 'operator:ops');
    expect(c.closed[0]).toMatchObject({ closedAt: '2026-03-10T11:00:00Z', closedBy: 'operator:ops' });
    expect(c.view.openAlarms).toEqual([]);
  });

  it('tracks firmware and diagnostics/log status', () => {
    const { view } = fold(undefined, [
      ...events('ocpp1.6', '2026-03-10T10:00:00Z', {
        action: 'FirmwareStatusNotification',
        payload: { status: 'Downloading' },
      }),
      ...events('ocpp1.6', '2026-03-10T10:05:00Z', {
        action: 'FirmwareStatusNotification',
        payload: { status: 'Installed' },
      }),
      ...events('ocpp2.0.1', '2026-03-10T10:06:00Z', {
        action: 'LogStatusNotification',
        payload: { status: 'Uploaded', requestId: 7 },
      }),
    ]);
    expect(view.firmware).toMatchObject({ status: 'Installed' });
    expect(view.diagnostics).toMatchObject({ kind: 'log', status: 'Uploaded', requestId: 7 });
  });

  it('is deterministic: the same events give the same alarm ids', () => {
    const evs = status16('2026-03-10T10:00:00Z', 1, 'Faulted', 'OverVoltage');
    expect(fold(undefined, evs).opened).toEqual(fold(undefined, evs).opened);
  });
});
