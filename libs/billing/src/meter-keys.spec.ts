import { systemCatalogue } from '@csms/contracts';
import { handleAll } from '@csms/kernel';
import { meterKeyPair } from '@csms/ocmf';
import { vector } from '../../ocmf/src/testing/vectors';
import { MeterKeyError, curveOfKeyText, meterKeyDecider, type MeterKeyCommand } from './meter-keys';

const decider = meterKeyDecider({ catalogue: systemCatalogue(), source: 'tariff-service' });
const by = { keyName: 'ops', role: 'operator' } as const;
const NOW = '2026-03-01T12:00:00.000Z';
const key = meterKeyPair('brainpool256r1').publicKeyHex;
const set = (o: Partial<Extract<MeterKeyCommand, { type: 'SetMeterKey' }>> = {}): MeterKeyCommand => ({
  type: 'SetMeterKey',
  stationId: 'CP-1',
  evseId: 1,
  publicKey: key,
  meterSerial: null,
  revoked: false,
  now: NOW,
  by,
  ...o,
});

describe('meter key registry rules', () => {
  it('numbers writes, keeps who made them, valid from now by default', () => {
    const { events } = handleAll(decider, [set(), set({ evseId: 0, revoked: true, meterSerial: 'M-1' })]);
    expect(events.map((e) => e.payload)).toEqual([
      expect.objectContaining({ sequence: 1, status: 'confirmed', validFrom: NOW, setAt: NOW, setBy: by, evseId: 1 }),
      expect.objectContaining({ sequence: 2, status: 'revoked', meterSerial: 'M-1', evseId: 0 }),
    ]);
    expect(events[0].type).toBe('meter.key_set');
  });

  it('refuses a validFrom in the past, and a key that is none on an OCMF curve', () => {
    expect(() => decider.decide(set({ validFrom: '2026-02-01T00:00:00Z' }), decider.initialState())).toThrow(
      MeterKeyError,
    );
    expect(() => decider.decide(set({ publicKey: 'not a key' }), decider.initialState())).toThrow(
      expect.objectContaining({ code: 'METER_KEY_UNREADABLE', field: 'publicKey' }),
    );
    expect(() => decider.decide(set({ publicKey: '3059301306' }), decider.initialState())).toThrow(
      expect.objectContaining({ code: 'METER_KEY_UNREADABLE' }),
    );
  });

  it('reads keys as meters print them (hex SPKI, spaced hex, base64, raw X‖Y)', () => {
    expect(curveOfKeyText(key)).toEqual({ ok: true, curve: 'brainpool256r1' });
    expect(curveOfKeyText(vector('ts-ebee-begin').publicKey.value)).toEqual({ ok: true, curve: 'secp256r1' });
    expect(curveOfKeyText(vector('ts-dzg-secp256k1-b64key-begin').publicKey.value)).toEqual({
      ok: true,
      curve: 'secp256k1',
    });
    expect(curveOfKeyText(vector('ts-isa-raw-rs').publicKey.value).ok).toBe(true);
  });

  it('signature policies are numbered on their own', () => {
    const { events } = handleAll(decider, [
      set(),
      {
        type: 'SetSignaturePolicy',
        scope: { kind: 'default' },
        invalidSignature: 'block',
        trustStationKeys: false,
        now: NOW,
        by,
      },
    ]);
    expect(events[1]).toMatchObject({
      type: 'meter.signature_policy_set',
      payload: { sequence: 1, invalidSignature: 'block' },
    });
  });
});
