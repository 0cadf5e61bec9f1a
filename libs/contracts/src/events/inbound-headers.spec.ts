import { INBOUND_HEADERS, inboundHeaders, inboundSummary, type OcppMessageReceived } from './ocpp';

const payload: OcppMessageReceived['payload'] = {
  stationId: 'CP-7',
  protocol: 'ocpp2.0.1',
  kind: 'call',
  messageId: 'm1',
  action: 'MeterValues',
  payload: { evseId: 1, meterValue: [] },
  receivedAt: '2026-05-01T08:00:00.120Z',
  connectionId: 'c1',
  gatewayInstance: 'gw',
};
const envelopeHeaders = {
  'event-id': '7d2b1d3e-0000-5000-8000-000000000001',
  'event-type': 'ocpp.message_received',
  'event-version': '1',
};
const reader = (h: Record<string, string>) => (name: string) => h[name];

describe('ocpp.inbound record headers', () => {
  it('say what the record is; the summary reads them back', () => {
    const h = inboundHeaders(payload);
    expect(h).toEqual({
      [INBOUND_HEADERS.kind]: 'call',
      [INBOUND_HEADERS.action]: 'MeterValues',
      [INBOUND_HEADERS.protocol]: 'ocpp2.0.1',
      [INBOUND_HEADERS.receivedAt]: '2026-05-01T08:00:00.120Z',
    });
    expect(inboundSummary('CP-7', reader({ ...envelopeHeaders, ...h }))).toEqual({
      stationId: 'CP-7',
      kind: 'call',
      action: 'MeterValues',
      protocol: 'ocpp2.0.1',
      receivedAt: '2026-05-01T08:00:00.120Z',
    });
    // a connection event has no action
    const connected = inboundHeaders({ ...payload, kind: 'connected', action: undefined, payload: undefined });
    expect(connected[INBOUND_HEADERS.action]).toBeUndefined();
    expect(inboundSummary('CP-7', reader({ ...envelopeHeaders, ...connected }))).toEqual({
      stationId: 'CP-7',
      kind: 'connected',
      protocol: 'ocpp2.0.1',
      receivedAt: '2026-05-01T08:00:00.120Z',
    });
  });

  const good = { ...envelopeHeaders, ...inboundHeaders(payload) };
  it.each<[string, string | undefined, Record<string, string | undefined>]>([
    ['no headers of its own (a record written before them)', 'CP-7', envelopeHeaders],
    ['another event type', 'CP-7', { ...good, 'event-type': 'monitoring.alarm_acknowledged' }],
    ['another version of the event', 'CP-7', { ...good, 'event-version': '2' }],
    ['no key', undefined, good],
    ['an empty key', '', good],
    ['a key over 255 characters', 'x'.repeat(256), good],
    ['an unknown kind', 'CP-7', { ...good, [INBOUND_HEADERS.kind]: 'frame' }],
    ['an unknown protocol', 'CP-7', { ...good, [INBOUND_HEADERS.protocol]: 'ocpp2.1' }],
    ['no receive time', 'CP-7', { ...good, [INBOUND_HEADERS.receivedAt]: undefined }],
    ['a receive time not in canonical form', 'CP-7', { ...good, [INBOUND_HEADERS.receivedAt]: '2026-05-01T08:00:00Z' }],
    [
      'a receive time with an offset',
      'CP-7',
      { ...good, [INBOUND_HEADERS.receivedAt]: '2026-05-01T10:00:00.120+02:00' },
    ],
    ['an impossible date', 'CP-7', { ...good, [INBOUND_HEADERS.receivedAt]: '2026-02-30T08:00:00.120Z' }],
    ['an empty action', 'CP-7', { ...good, [INBOUND_HEADERS.action]: '' }],
    ['an action over 100 characters', 'CP-7', { ...good, [INBOUND_HEADERS.action]: 'A'.repeat(101) }],
  ])('no summary for %s: the record is decoded as usual', (_, key, headers) => {
    expect(inboundSummary(key, (name) => headers[name])).toBeUndefined();
  });
});
