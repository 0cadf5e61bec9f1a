import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { getOcppSchemaForAjv, type OcppProtocol } from '@csms/ocpp';
import { commandFor, type CommandKind } from './web/src/screens/commands';

// the console's remote operations are valid OCPP requests in both protocols (the gateway would refuse them otherwise)
describe('console remote commands: payloads valid against the official OCPP schemas', () => {
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  const fields = {
    resetType: 'Soft',
    evseId: 2,
    connectorId: 1,
    location: 'https://firmware.example.com/fw-2.0.bin',
    retrieveAt: '2026-12-05T10:00:00Z',
    requestId: 42,
  };
  const cases: Array<[OcppProtocol, CommandKind, string, string]> = [
    ['ocpp1.6', 'reset', 'Soft', 'Reset'],
    ['ocpp1.6', 'reset', 'Hard', 'Reset'],
    ['ocpp1.6', 'unlock', 'Soft', 'UnlockConnector'],
    ['ocpp1.6', 'firmware', 'Soft', 'UpdateFirmware'],
    ['ocpp1.6', 'diagnostics', 'Soft', 'GetDiagnostics'],
    ['ocpp2.0.1', 'reset', 'Soft', 'Reset'],
    ['ocpp2.0.1', 'reset', 'Hard', 'Reset'],
    ['ocpp2.0.1', 'unlock', 'Soft', 'UnlockConnector'],
    ['ocpp2.0.1', 'firmware', 'Soft', 'UpdateFirmware'],
    ['ocpp2.0.1', 'diagnostics', 'Soft', 'GetLog'],
  ];
  it.each(cases)('%s %s (%s) is a valid %s request', (protocol, kind, resetType, action) => {
    const c = commandFor(kind, protocol, { ...fields, resetType });
    expect(c.action).toBe(action);
    const validate =
      ajv.getSchema(`urn:ocpp:${protocol}:${action}.req`) ??
      ajv.compile(getOcppSchemaForAjv(protocol, action, 'request')!);
    expect({ payload: c.payload, errors: validate(c.payload) ? null : validate.errors }).toEqual({
      payload: c.payload,
      errors: null,
    });
  });
});
