import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import {
  getOcppSchema,
  getOcppSchemaForAjv,
  isOcppAction,
  ocppActions,
  OCPP16_ACTIONS,
  OCPP201_ACTIONS,
  requireOcppSchema,
} from './index';
import type { V16, V201 } from './index';

describe('ocpp actions and schemas', () => {
  it('lists the actions of each version', () => {
    expect(OCPP16_ACTIONS).toContain('StartTransaction');
    expect(OCPP16_ACTIONS).not.toContain('TransactionEvent');
    expect(OCPP201_ACTIONS).toContain('TransactionEvent');
    expect(OCPP201_ACTIONS).not.toContain('StartTransaction');
    expect(ocppActions('ocpp1.6')).toHaveLength(39);
    expect(ocppActions('ocpp2.0.1')).toHaveLength(64);
    expect(isOcppAction('ocpp1.6', 'MeterValues')).toBe(true);
    expect(isOcppAction('ocpp2.0.1', 'StopTransaction')).toBe(false);
  });

  it.each([
    ['ocpp1.6', 'StartTransaction', 'request', 'urn:StartTransaction.req'],
    ['ocpp1.6', 'StartTransaction', 'response', 'urn:StartTransaction.conf'],
    ['ocpp2.0.1', 'TransactionEvent', 'request', 'urn:TransactionEvent.req'],
    ['ocpp2.0.1', 'BootNotification', 'response', 'urn:BootNotification.conf'],
  ] as const)('%s %s %s schema is %s', (protocol, action, dir, id) => {
    expect(getOcppSchema(protocol, action, dir)?.$id).toBe(id);
  });

  it('has a request and a response schema for every listed action', () => {
    for (const protocol of ['ocpp1.6', 'ocpp2.0.1'] as const) {
      for (const action of ocppActions(protocol)) {
        expect(getOcppSchema(protocol, action, 'request')).toBeDefined();
        expect(getOcppSchema(protocol, action, 'response')).toBeDefined();
      }
    }
  });

  it('returns undefined for an unknown action and requireOcppSchema throws', () => {
    expect(getOcppSchema('ocpp2.0.1', 'StartTransaction', 'request')).toBeUndefined();
    expect(getOcppSchemaForAjv('ocpp2.0.1', 'StartTransaction', 'request')).toBeUndefined();
    expect(() => requireOcppSchema('ocpp1.6', 'Nope', 'request')).toThrow('no request schema');
  });

  it('compiles every schema of both versions in one ajv instance', () => {
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    for (const protocol of ['ocpp1.6', 'ocpp2.0.1'] as const) {
      for (const action of ocppActions(protocol)) {
        for (const dir of ['request', 'response'] as const) {
          expect(typeof ajv.compile(getOcppSchemaForAjv(protocol, action, dir)!)).toBe('function');
        }
      }
    }
  });

  it('validates payloads typed with the generated types', () => {
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    const start: V16.StartTransactionRequest = {
      connectorId: 1,
      idTag: 'ABC',
      meterStart: 100,
      timestamp: '2026-01-01T00:00:00Z',
    };
    const v16 = ajv.compile(getOcppSchemaForAjv('ocpp1.6', 'StartTransaction', 'request')!);
    expect(v16(start)).toBe(true);
    expect(v16({ ...start, meterStart: '100' })).toBe(false);
    const ev: V201.TransactionEventRequest = {
      eventType: 'Started',
      timestamp: '2026-01-01T00:00:00Z',
      triggerReason: 'CablePluggedIn',
      seqNo: 0,
      transactionInfo: { transactionId: 'tx-1', chargingState: 'EVConnected' },
    };
    const v201 = ajv.compile(getOcppSchemaForAjv('ocpp2.0.1', 'TransactionEvent', 'request')!);
    expect(v201(ev)).toBe(true);
    expect(v201({ ...ev, eventType: 'Begun' })).toBe(false);
  });
});
