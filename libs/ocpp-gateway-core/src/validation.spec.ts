import { OcppSchemaValidator } from './validation';

const v = new OcppSchemaValidator();
const start = { connectorId: 1, idTag: 'ABC', meterStart: 100, timestamp: '2026-01-01T00:00:00Z' };

describe('OcppSchemaValidator', () => {
  it('accepts valid payloads of both versions', () => {
    expect(v.validate('ocpp1.6', 'StartTransaction', 'request', start)).toEqual({ ok: true });
    expect(v.validate('ocpp2.0.1', 'Heartbeat', 'request', {})).toEqual({ ok: true });
  });

  it.each([
    ['ocpp1.6', { ...start, meterStart: '100' }, 'TypeConstraintViolation', '/meterStart'],
    ['ocpp1.6', { connectorId: 1, idTag: 'ABC', meterStart: 100 }, 'OccurenceConstraintViolation', '/timestamp'],
    ['ocpp1.6', { ...start, idTag: 'x'.repeat(21) }, 'PropertyConstraintViolation', '/idTag'],
    ['ocpp1.6', { ...start, timestamp: 'yesterday' }, 'PropertyConstraintViolation', '/timestamp'],
    ['ocpp1.6', { ...start, extra: 1 }, 'FormationViolation', '/extra'],
  ] as const)('1.6 StartTransaction %j -> %s at %s', (protocol, payload, code, field) => {
    expect(v.validate(protocol, 'StartTransaction', 'request', payload)).toEqual(
      expect.objectContaining({ ok: false, errorCode: code, field }),
    );
  });

  it('uses the 2.0.1 codes for 2.0.1', () => {
    expect(v.validate('ocpp2.0.1', 'BootNotification', 'request', { reason: 'PowerUp' })).toEqual(
      expect.objectContaining({ ok: false, errorCode: 'OccurrenceConstraintViolation', field: '/chargingStation' }),
    );
    expect(v.validate('ocpp2.0.1', 'Heartbeat', 'request', { x: 1 })).toEqual(
      expect.objectContaining({ errorCode: 'FormatViolation' }),
    );
    expect(
      v.validate('ocpp2.0.1', 'BootNotification', 'request', {
        reason: 'Sneeze',
        chargingStation: { model: 'm', vendorName: 'v' },
      }),
    ).toEqual(expect.objectContaining({ errorCode: 'PropertyConstraintViolation', field: '/reason' }));
  });

  it('knows which actions a version defines', () => {
    expect(v.has('ocpp1.6', 'StartTransaction', 'request')).toBe(true);
    expect(v.has('ocpp2.0.1', 'StartTransaction', 'request')).toBe(false);
    expect(v.validate('ocpp2.0.1', 'StartTransaction', 'request', start)).toEqual(
      expect.objectContaining({ ok: false, errorCode: 'NotImplemented' }),
    );
  });
});
