import { INBOUND_HEADER, inboundHeaders, inboundSummary, type OcppMessageReceived } from './ocpp';

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
const reader = (h: Record<string, string | undefined>) => (name: string) => h[name];

describe('the ocpp.inbound record header', () => {
  it('says what the record is; the summary reads it back', () => {
    const h = inboundHeaders(payload);
    expect(h).toEqual({ [INBOUND_HEADER]: 'call ocpp2.0.1 2026-05-01T08:00:00.120Z MeterValues' });
    expect(inboundSummary('CP-7', reader({ ...envelopeHeaders, ...h }))).toEqual({
      stationId: 'CP-7',
      kind: 'call',
      action: 'MeterValues',
      protocol: 'ocpp2.0.1',
      receivedAt: '2026-05-01T08:00:00.120Z',
    });
    // a connection event has no action
    const connected = inboundHeaders({ ...payload, kind: 'connected', action: undefined, payload: undefined });
    expect(connected).toEqual({ [INBOUND_HEADER]: 'connected ocpp2.0.1 2026-05-01T08:00:00.120Z' });
    expect(inboundSummary('CP-7', reader({ ...envelopeHeaders, ...connected }))).toEqual({
      stationId: 'CP-7',
      kind: 'connected',
      protocol: 'ocpp2.0.1',
      receivedAt: '2026-05-01T08:00:00.120Z',
    });
    // a rejected frame's action may hold spaces: it is the rest of the header
    const odd = inboundHeaders({ ...payload, kind: 'rejected', action: 'Meter Values  x' });
    expect(inboundSummary('CP-7', reader({ ...envelopeHeaders, ...odd }))?.action).toBe('Meter Values  x');
  });

  const good = { ...envelopeHeaders, ...inboundHeaders(payload) };
  const withHeader = (v: string | undefined) => ({ ...good, [INBOUND_HEADER]: v });
  it.each<[string, string | undefined, Record<string, string | undefined>]>([
    ['no header of its own (a record written before it)', 'CP-7', envelopeHeaders],
    ['another event type', 'CP-7', { ...good, 'event-type': 'monitoring.alarm_acknowledged' }],
    ['another version of the event', 'CP-7', { ...good, 'event-version': '2' }],
    ['no key', undefined, good],
    ['an empty key', '', good],
    ['a key over 255 characters', 'x'.repeat(256), good],
    ['an empty header', 'CP-7', withHeader('')],
    ['a kind alone', 'CP-7', withHeader('call')],
    ['no receive time', 'CP-7', withHeader('call ocpp1.6')],
    ['an unknown kind', 'CP-7', withHeader('frame ocpp1.6 2026-05-01T08:00:00.120Z MeterValues')],
    ['an unknown protocol', 'CP-7', withHeader('call ocpp2.1 2026-05-01T08:00:00.120Z MeterValues')],
    ['a receive time not in canonical form', 'CP-7', withHeader('call ocpp1.6 2026-05-01T08:00:00Z MeterValues')],
    ['a receive time with an offset', 'CP-7', withHeader('call ocpp1.6 2026-05-01T10:00:00.120+02:00 MeterValues')],
    ['an impossible date', 'CP-7', withHeader('call ocpp1.6 2026-02-30T08:00:00.120Z MeterValues')],
    ['two spaces before the time', 'CP-7', withHeader('call ocpp1.6  2026-05-01T08:00:00.120Z MeterValues')],
    ['an empty action', 'CP-7', withHeader('call ocpp1.6 2026-05-01T08:00:00.120Z ')],
    ['an action over 100 characters', 'CP-7', withHeader(`call ocpp1.6 2026-05-01T08:00:00.120Z ${'A'.repeat(101)}`)],
  ])('no summary for %s: the record is decoded as usual', (_, key, headers) => {
    expect(inboundSummary(key, reader(headers))).toBeUndefined();
  });
});
