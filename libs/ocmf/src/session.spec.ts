import { DomainError } from '@csms/kernel';
import { parseOcmf } from './record';
import { checkSession, compareBilledEnergy, type SessionCheckName, type SessionRecord } from './session';
import { transactionGroups, vector, type OcmfVector } from './testing/vectors';
import { verifyOcmf } from './verify';

const verified = (...vs: OcmfVector[]) => vs.map((v) => verifyOcmf(v.ocmf, v.publicKey.value));
const failed = (r: ReturnType<typeof checkSession>) => r.checks.filter((c) => !c.passed).map((c) => c.name);

/** A record that is only parsed, declared VALID: for the logic of the checks on readings no meter signed. */
function unsigned(payload: string): SessionRecord {
  const p = parseOcmf(`OCMF|${payload}|{"SD":"00"}`);
  if (!p.ok) throw new Error(p.detail);
  return { status: 'VALID', record: p.record };
}
const meter = '"GI":"G","GS":"1","MS":"M1","IT":"ISO14443","ID":"A1"';

describe('checkSession over the vectors begin/end groups', () => {
  const groups = transactionGroups();

  it('finds the five groups of the vectors', () => {
    expect([...groups.keys()].sort()).toEqual([
      'ts-bauer-error-status',
      'ts-dzg-secp256k1',
      'ts-dzg-secp256k1-b64key',
      'ts-ebee',
      'ts-keba-series',
      'ts-nzr-brainpool256r1',
    ]);
  });

  it.each([
    ['ts-nzr-brainpool256r1', '0', 'Wh', '1'],
    ['ts-dzg-secp256k1', '0.000', 'kWh', '1'],
    ['ts-dzg-secp256k1-b64key', '0.000', 'kWh', '1'],
    ['ts-ebee', '0', 'Wh', '1'],
    ['ts-keba-series', '0.00', 'kWh', '10'],
  ])('%s: every check passes; signed energy %s %s, resolution %s Wh', (group, value, unit, resolutionWh) => {
    const r = checkSession(verified(...groups.get(group)!));
    expect(failed(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.energy).toMatchObject({ value, unit, resolutionWh });
  });

  it('the pairing takes the begin and end of the energy register, not the duration or the other register of the end record', () => {
    const dzg = checkSession(verified(...groups.get('ts-dzg-secp256k1')!));
    expect(dzg.begin).toMatchObject({
      recordIndex: 0,
      readingIndex: 0,
      TX: 'B',
      text: '       3.988',
      value: '3.988',
      unit: 'kWh',
      RI: '01-00:01.08.00.FF',
    });
    expect(dzg.end).toMatchObject({ recordIndex: 1, readingIndex: 0, TX: 'E', RI: '01-00:01.08.00.FF' });
    // KEBA: the third reading inherits TX "E" but is register 1-b:1.9.0
    const keba = checkSession(verified(...groups.get('ts-keba-series')!));
    expect(keba.begin).toMatchObject({ recordIndex: 0, readingIndex: 0, RI: '1-b:1.8.0' });
    expect(keba.end).toMatchObject({ recordIndex: 1, readingIndex: 1, RI: '1-b:1.8.0', text: '1234.56' });
  });

  it('ts-bauer-error-status: the signatures verify, but the meter reports an error: not billable', () => {
    const r = checkSession(verified(...groups.get('ts-bauer-error-status')!));
    expect(failed(r)).toEqual<SessionCheckName[]>(['METER_STATUS_OK']);
    expect(r.checks.find((c) => c.name === 'METER_STATUS_OK')!.detail).toContain('"E"');
    expect(r.ok).toBe(false);
  });

  it('one record holding begin and end: the spec-size example and the vectors', () => {
    const basic = checkSession(verified(vector('rl-secp256r1-basic')));
    expect(basic.ok).toBe(true);
    expect(basic.energy).toEqual({ value: '7.80008', unit: 'kWh', wh: '7800.08', resolutionWh: '0.01' });
    const cp = checkSession(verified(vector('ts-chargepoint-base64-sig')));
    // "0.0" and "1.304": the coarser reading decides the resolution
    expect(cp.energy).toEqual({ value: '1.304', unit: 'kWh', wh: '1304', resolutionWh: '100' });
    expect(checkSession(verified(vector('ts-keba-kcp30'))).energy).toMatchObject({ value: '0.0001', wh: '0.1' });
  });
});

describe('checkSession failures', () => {
  it('a record that does not verify fails ALL_VALID and says which', () => {
    const r = checkSession(verified(vector('ts-keba-kcp30-fail')));
    expect(failed(r)).toEqual(['ALL_VALID']);
    expect(r.checks[0].detail).toBe('not verified: record 0 INVALID');
    const noKey = checkSession([verifyOcmf(vector('ts-ebee-begin').ocmf, null), ...verified(vector('ts-ebee-end'))]);
    expect(failed(noKey)).toEqual(['ALL_VALID']);
  });

  it('records of two meters: SAME_METER and SAME_IDENTIFICATION fail', () => {
    const r = checkSession(verified(vector('ts-dzg-secp256k1-begin'), vector('ts-dzg-secp256k1-b64key-end')));
    expect(failed(r)).toEqual(expect.arrayContaining(['SAME_METER', 'SAME_IDENTIFICATION']));
    expect(r.checks.find((c) => c.name === 'SAME_METER')!.detail).toContain('GS differs');
  });

  it('the end before the begin: no END_READING', () => {
    const r = checkSession(verified(vector('ts-ebee-end'), vector('ts-ebee-begin')));
    expect(failed(r)).toEqual(['END_READING', 'METER_STATUS_OK']);
    expect(r.energy).toBeNull();
  });

  it('no begin reading; no records at all', () => {
    expect(failed(checkSession(verified(vector('ts-ebee-end'))))).toEqual([
      'BEGIN_READING',
      'END_READING',
      'MONOTONE_REGISTER',
      'METER_STATUS_OK',
    ]);
    expect(checkSession([]).ok).toBe(false);
    expect(failed(checkSession([verifyOcmf('OCMF|', 'x')]))).toContain('SAME_METER');
  });

  it('a register that goes backwards fails MONOTONE_REGISTER (compared exactly, across Wh and kWh)', () => {
    const r = checkSession([
      unsigned(`{${meter},"RD":[{"TX":"B","RV":2935.600,"RI":"1-b:1.8.0","RU":"kWh","ST":"G"}]}`),
      unsigned(`{${meter},"RD":[{"TX":"C","RV":2935599.9,"RI":"1-b:1.8.0","RU":"Wh","ST":"G"}]}`),
      unsigned(`{${meter},"RD":[{"TX":"E","RV":2965.100,"RI":"1-b:1.8.0","RU":"kWh","ST":"G"}]}`),
    ]);
    expect(failed(r)).toEqual(['MONOTONE_REGISTER']);
    expect(r.checks.find((c) => c.name === 'MONOTONE_REGISTER')!.detail).toContain('2935599.9');
  });

  it('the spec example: 2935.600 → 2965.100 kWh is exactly 29.500 kWh', () => {
    const r = checkSession([
      unsigned(`{${meter},"RD":[{"TX":"B","RV":2935.600,"RI":"1-b:1.8.0","RU":"kWh","ST":"G"}]}`),
      unsigned(`{${meter},"RD":[{"TX":"E","RV":2965.100,"RI":"1-b:1.8.0","RU":"kWh","ST":"G","EF":""}]}`),
    ]);
    expect(r.ok).toBe(true);
    expect(r.energy).toEqual({ value: '29.500', unit: 'kWh', wh: '29500', resolutionWh: '1' });
  });

  it('begin in kWh and end in Wh: the energy in Wh', () => {
    const r = checkSession([
      unsigned(`{${meter},"RD":[{"TX":"B","RV":1.5,"RU":"kWh","ST":"G"}]}`),
      unsigned(`{${meter},"RD":[{"TX":"E","RV":2250,"RU":"Wh","ST":"G"}]}`),
    ]);
    expect(r.energy).toEqual({ value: '750', unit: 'Wh', wh: '750', resolutionWh: '100' });
  });

  it('another identification fails SAME_IDENTIFICATION', () => {
    const r = checkSession([
      unsigned(`{${meter},"RD":[{"TX":"B","RV":1,"RU":"kWh","ST":"G"}]}`),
      unsigned(`{${meter.replace('"A1"', '"B2"')},"RD":[{"TX":"E","RV":2,"RU":"kWh","ST":"G"}]}`),
    ]);
    expect(failed(r)).toEqual(['SAME_IDENTIFICATION']);
  });
});

describe('compareBilledEnergy', () => {
  const energy = checkSession(verified(vector('rl-secp256r1-basic'))).energy!; // 7800.08 Wh, resolution 0.01 Wh

  it.each([
    ['7800.08', 'match', '0'],
    ['7800.09', 'match', '0.01'],
    ['7800.07', 'match', '-0.01'],
    ['7800.1', 'mismatch', '0.02'],
    ['7800', 'mismatch', '-0.08'],
    ['7801', 'mismatch', '0.92'],
  ])('billed %s Wh: %s (difference %s Wh)', (billed, result, differenceWh) => {
    expect(compareBilledEnergy(energy, billed)).toEqual({ result, differenceWh, toleranceWh: '0.01' });
  });

  it('the tolerance is the coarser reading', () => {
    const cp = checkSession(verified(vector('ts-chargepoint-base64-sig'))).energy!; // 1304 Wh, readings to 0.1 kWh
    expect(compareBilledEnergy(cp, '1404').result).toBe('match');
    expect(compareBilledEnergy(cp, '1404.001').result).toBe('mismatch');
  });

  it('a billed energy that is no plain decimal is a typed error', () => {
    expect(() => compareBilledEnergy(energy, '7.8e3')).toThrow(DomainError);
    let code: string | undefined;
    try {
      compareBilledEnergy(energy, '');
    } catch (err) {
      code = (err as DomainError).code;
    }
    expect(code).toBe('OCMF_BILLED_ENERGY_INVALID');
  });
});
