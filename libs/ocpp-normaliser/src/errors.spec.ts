import { DomainError } from '@csms/kernel';
import { OcppNormaliseError } from './errors';
import { normalise } from './normalise';

describe('OcppNormaliseError', () => {
  it('is a domain error: its code, never retriable, the path also as field', () => {
    const e = new OcppNormaliseError(
      'INVALID_TIMESTAMP',
      'payload.timestamp is not a valid date-time: x',
      'payload.timestamp',
    );
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({
      name: 'OcppNormaliseError',
      code: 'INVALID_TIMESTAMP',
      retriable: false,
      path: 'payload.timestamp',
      field: 'payload.timestamp',
    });
    expect(new OcppNormaliseError('UNKNOWN_ACTION', 'no mapping')).not.toHaveProperty('field');
  });

  it('is what normalise reports for a bad timestamp (shape, then range)', () => {
    const rec = (timestamp: string) => ({
      stationId: 'CS-1',
      protocol: 'ocpp1.6' as const,
      kind: 'call' as const,
      messageId: 'm1',
      action: 'StatusNotification',
      payload: { connectorId: 1, status: 'Available', errorCode: 'NoError', timestamp },
      receivedAt: '2026-03-01T10:00:00Z',
      connectionId: 'c1',
      gatewayInstance: 'gw',
    });
    const source = { eventId: 'e1', topic: 'ocpp.inbound', partition: 0, offset: '1' };
    const shape = normalise(rec('yesterday'), source);
    const range = normalise(rec('2026-02-30T10:00:00Z'), source);
    expect(shape.ok ? null : shape.error).toMatchObject({
      code: 'INVALID_TIMESTAMP',
      field: 'payload.timestamp',
      message: 'payload.timestamp is not an RFC 3339 date-time: yesterday',
    });
    expect(range.ok ? null : range.error).toMatchObject({
      code: 'INVALID_TIMESTAMP',
      field: 'payload.timestamp',
      message: 'payload.timestamp is not a valid date-time: 2026-02-30T10:00:00Z',
    });
  });
});
