import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { checkSession, verifyOcmf, verifySignedMeterValue } from '@csms/ocmf';
import { getOcppSchemaForAjv, type OcppProtocol } from '@csms/ocpp';
import { meterValue16, meterValue201 } from '../model/messages';
import { MeterSigner, kwhText, ocmfTime } from './signing';

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
function valid(protocol: OcppProtocol, action: string, payload: unknown): string[] {
  const schema = getOcppSchemaForAjv(protocol, action, 'request')!;
  const v = ajv.getSchema(schema.$id) ?? ajv.compile(schema);
  return v(payload) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe('simulated meter signing (OCMF)', () => {
  const signer = new MeterSigner('SIM-1-0001', { tamper: (_s, _c, n) => n === 2 });
  const reading = (tx: 'B' | 'E', wh: number, tamper = false) =>
    signer.sign({ tx, registerWh: wh, at: '2026-03-01T10:00:00.000Z', idTag: 'TAG1', connectorId: 1, tamper });

  it('writes kWh with three decimals exactly and OCMF times', () => {
    expect([kwhText(0), kwhText(7), kwhText(1234), kwhText(20_000_001)]).toEqual([
      '0.000',
      '0.007',
      '1.234',
      '20000.001',
    ]);
    expect(ocmfTime('2026-03-01T10:00:00.000Z')).toBe('2026-03-01T10:00:00,000+0000 S');
    expect(ocmfTime('2026-03-01T10:00:00Z')).toBe('2026-03-01T10:00:00,000+0000 S');
  });

  it('signs begin and end so that they verify with its public key and pair as a session', () => {
    const results = [reading('B', 1200), reading('E', 21_200)].map((r) => verifyOcmf(r, signer.publicKeyHex));
    expect(results.map((r) => r.status)).toEqual(['VALID', 'VALID']);
    const s = checkSession(results);
    expect(s.ok).toBe(true);
    expect(s.energy?.wh).toBe('20000');
    expect(results[0].record?.payload.ID).toBe('TAG1');
  });

  it('a tampered end reading no longer verifies (the reading was raised by 1 kWh after signing)', () => {
    const r = verifyOcmf(reading('E', 21_200, true), signer.publicKeyHex);
    expect(r.status).toBe('INVALID');
    expect(r.record?.payload.RD[0].RV?.text).toBe('22.200');
    expect(signer.tampers(1, 2)).toBe(true);
    expect(signer.tampers(1, 1)).toBe(false);
  });

  it('1.6 SignedData and 2.0.1 signedMeterValue are valid against the official schemas and verify', () => {
    const end = reading('E', 21_200);
    const mv16 = meterValue16('2026-03-01T11:00:00Z', { registerWh: 21_200, phases: 3 }, 'Transaction.End', false);
    const stop = {
      transactionId: 1,
      meterStop: 21_200,
      timestamp: '2026-03-01T11:00:00Z',
      transactionData: [
        { ...mv16, sampledValue: [...mv16.sampledValue, signer.sampledValue16(end, 'Transaction.End')] },
      ],
    };
    expect(valid('ocpp1.6', 'StopTransaction', stop)).toEqual([]);
    const smv = signer.signedMeterValue201(end);
    const mv201 = meterValue201('2026-03-01T11:00:00Z', { registerWh: 21_200, phases: 3 }, 'Transaction.End', false);
    const [register] = mv201.sampledValue;
    const tx = {
      eventType: 'Ended',
      timestamp: '2026-03-01T11:00:00Z',
      triggerReason: 'StopAuthorized',
      seqNo: 2,
      transactionInfo: { transactionId: 'T-1' },
      meterValue: [{ ...mv201, sampledValue: [{ ...register, signedMeterValue: smv }] }],
    };
    expect(valid('ocpp2.0.1', 'TransactionEvent', tx)).toEqual([]);
    // with the key the station sends (OCA-wrapped), and with the operator's key
    expect(verifySignedMeterValue(smv).status).toBe('VALID');
    expect(verifySignedMeterValue(smv, signer.publicKeyHex).status).toBe('VALID');
  });
});
