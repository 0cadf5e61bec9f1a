import { CdrCreatedV4, SessionEndedV2, deriveId, systemCatalogue, type OcpiTariffDocument } from '@csms/contracts';
import { meterKeyPair, parseOcmf, signOcmf } from '@csms/ocmf';
import { VECTORS, vector } from '../../ocmf/src/testing/vectors';
import { buildCdr, type PricingContext } from './cdr';
import {
  SIGNED_METER_VALUES_FAILED,
  checkSignedMeterValues,
  meterKeyFor,
  policyFor,
  type MeterKeyFact,
  type SignaturePolicyFact,
} from './signed-data';
import type { SessionEndedPayload } from './to-pricing-session';

type Signed = SessionEndedPayload['signedMeterValues'][number];

const meter = meterKeyPair('secp256r1');
const other = meterKeyPair('secp256r1');

/** An OCMF record of the example session's meter (20 kWh: 1.200 → 21.200 kWh), signed by `key`. */
function record(tx: 'B' | 'E', kwh: string, o: { key?: typeof meter; id?: string; ms?: string } = {}): string {
  const payload = `{"FV":"1.0","GI":"SIM","GS":"S-1","GV":"1.0","PG":"T${tx === 'B' ? 1 : 2}","MV":"SIM","MM":"SIM-M","MS":"${o.ms ?? 'M-1'}","IS":true,"IT":"ISO14443","ID":"${o.id ?? 'ABC123'}","RD":[{"TM":"2026-03-01T1${tx === 'B' ? 0 : 1}:00:00,000+0000 S","TX":"${tx}","RV":${kwh},"RI":"1-b:1.8.0","RU":"kWh","RT":"AC","ST":"G"}]}`;
  return signOcmf(payload, (o.key ?? meter).privateKey);
}

const v16 = (context: string, data: string, at: string): Signed => ({
  at,
  context,
  measurand: 'Energy.Active.Import.Register',
  signed: { format: 'ocpp1.6-SignedData', data },
});
const v201 = (context: string, ocmf: string, at: string, publicKey = ''): Signed => ({
  at,
  context,
  measurand: 'Energy.Active.Import.Register',
  signed: {
    format: 'ocpp2.0.1-signedMeterValue',
    signedMeterData: Buffer.from(ocmf, 'utf8').toString('base64'),
    signingMethod: '',
    encodingMethod: 'OCMF',
    publicKey,
  },
});

const session = (signed: Signed[], omitted = 0): SessionEndedPayload => ({
  ...SessionEndedV2.example,
  signedMeterValues: signed,
  signedMeterValuesOmitted: omitted,
});
const pair = (begin = record('B', '1.200'), end = record('E', '21.200')) => [
  v16('Transaction.Begin', begin, '2026-03-01T10:00:00Z'),
  v16('Transaction.End', end, '2026-03-01T11:00:00Z'),
];

const key = (o: Partial<MeterKeyFact> = {}): MeterKeyFact => ({
  keyId: 'k-1',
  stationId: 'CP-001',
  evseId: 1,
  publicKey: meter.publicKeyHex,
  meterSerial: null,
  validFrom: '2026-01-01T00:00:00Z',
  status: 'confirmed',
  sequence: 1,
  ...o,
});
const facts = (keys: MeterKeyFact[] = [key()], policies: SignaturePolicyFact[] = []) => ({
  keys,
  policies,
  siteId: 'site-ams',
});

describe('signed meter values of a CDR', () => {
  it('a session with none: nothing (the CDR stays as it was)', () => {
    expect(checkSignedMeterValues(session([]), '20', facts())).toBeUndefined();
  });

  it('begin and end signed by the registered key, 20 kWh billed: VERIFIED, OCPI signed_data Start/End with the signed bytes', () => {
    const begin = record('B', '1.200');
    const end = record('E', '21.200');
    const out = checkSignedMeterValues(session(pair(begin, end)), '20', facts())!;
    expect(out.audit.result).toBe('VERIFIED');
    expect(out.audit.flags).toEqual([]);
    expect(out.audit.key).toEqual({
      source: 'registry',
      keyId: 'k-1',
      publicKey: meter.publicKeyHex,
      stationKey: null,
    });
    expect(out.audit.values.map((v) => [v.nature, v.status, v.curve, v.meterSerial])).toEqual([
      ['Start', 'VALID', 'secp256r1', 'M-1'],
      ['End', 'VALID', 'secp256r1', 'M-1'],
    ]);
    expect(out.audit.checks.every((c) => c.passed)).toBe(true);
    expect(out.audit.checks.map((c) => c.name)).toContain('SESSION_IDENTIFICATION');
    expect(out.audit.energy).toEqual({
      signedWh: '20000',
      billedWh: '20000',
      differenceWh: '0',
      toleranceWh: '1',
      result: 'match',
    });
    expect(out.cdr.encoding_method).toBe('OCMF');
    expect(out.cdr.public_key).toBe(meter.publicKeyHex);
    expect(out.cdr.signed_values.map((v) => v.nature)).toEqual(['Start', 'End']);
    // OCPI signed_data is the base64 of the exact bytes received
    expect(out.cdr.signed_values.map((v) => Buffer.from(v.signed_data, 'base64').toString('utf8'))).toEqual([
      begin,
      end,
    ]);
    expect(out.cdr.signed_values[0].plain_data).toBe('B 1.200 kWh 2026-03-01T10:00:00,000+0000 S');
    expect(out.block).toBeUndefined();
  });

  it('a tampered end reading (the meter signed 21.200, the record says 22.200): FAILED, SIGNATURE_INVALID', () => {
    const end = record('E', '21.200').replace('"RV":21.200', '"RV":22.200');
    const out = checkSignedMeterValues(session(pair(undefined, end)), '21', facts())!;
    expect(out.audit.result).toBe('FAILED');
    expect(out.audit.flags).toEqual(['SIGNATURE_INVALID']);
    expect(out.audit.values.map((v) => v.status)).toEqual(['VALID', 'INVALID']);
    expect(out.block).toBeUndefined(); // the default policy prices with the flag
  });

  it('under a block policy of the site a FAILED check is a pricing failure; of another site it is not', () => {
    const end = record('E', '21.200').replace('"RV":21.200', '"RV":22.200');
    const block: SignaturePolicyFact = {
      scope: { kind: 'site', siteId: 'site-ams' },
      invalidSignature: 'block',
      trustStationKeys: false,
      sequence: 1,
    };
    const out = checkSignedMeterValues(session(pair(undefined, end)), '21', facts([key()], [block]))!;
    expect(out.block?.code).toBe(SIGNED_METER_VALUES_FAILED);
    expect(out.audit.policy).toEqual({
      invalidSignature: 'block',
      trustStationKeys: false,
      scope: 'site',
      sequence: 1,
    });
    const elsewhere = { ...block, scope: { kind: 'site' as const, siteId: 'site-nyc' } };
    expect(
      checkSignedMeterValues(session(pair(undefined, end)), '21', facts([key()], [elsewhere]))!.block,
    ).toBeUndefined();
  });

  it('billed energy that differs from the signed energy by more than the resolution: SIGNED_ENERGY_MISMATCH', () => {
    const out = checkSignedMeterValues(session(pair()), '20.002', facts())!;
    expect(out.audit.result).toBe('FAILED');
    expect(out.audit.flags).toEqual(['SIGNED_ENERGY_MISMATCH']);
    expect(out.audit.energy).toMatchObject({ differenceWh: '2', toleranceWh: '1', result: 'mismatch' });
    // within one unit of the meter's last decimal (1 Wh) it is a match
    expect(checkSignedMeterValues(session(pair()), '20.001', facts())!.audit.result).toBe('VERIFIED');
  });

  it('signed by another key than the registered one: INVALID', () => {
    const out = checkSignedMeterValues(session(pair()), '20', facts([key({ publicKey: other.publicKeyHex })]))!;
    expect(out.audit.values.map((v) => v.status)).toEqual(['INVALID', 'INVALID']);
    expect(out.audit.result).toBe('FAILED');
  });

  it('no registered key: UNVERIFIED (NO_TRUSTED_KEY); a key the station sends is recorded, used only when the policy trusts station keys', () => {
    const stationKey = Buffer.from(`oca:base16:asn1:${meter.publicKeyHex}`).toString('base64');
    const values = [
      v201('Transaction.Begin', record('B', '1.200'), '2026-03-01T10:00:00Z', stationKey),
      v201('Transaction.End', record('E', '21.200'), '2026-03-01T11:00:00Z', stationKey),
    ];
    const untrusted = checkSignedMeterValues(session(values), '20', facts([]))!;
    expect(untrusted.audit.result).toBe('UNVERIFIED');
    expect(untrusted.audit.flags).toEqual(['NO_TRUSTED_KEY']);
    expect(untrusted.audit.key).toEqual({ source: 'none', keyId: null, publicKey: null, stationKey });
    expect(untrusted.cdr.public_key).toBeUndefined();
    // the energy is still compared (the readings are read even without a key)
    expect(untrusted.audit.energy?.result).toBe('match');
    const trust: SignaturePolicyFact = {
      scope: { kind: 'default' },
      invalidSignature: 'flag',
      trustStationKeys: true,
      sequence: 1,
    };
    const trusted = checkSignedMeterValues(session(values), '20', facts([], [trust]))!;
    expect(trusted.audit.result).toBe('VERIFIED');
    expect(trusted.audit.key.source).toBe('station');
    // 2.0.1 signedMeterData is carried as the station sent it (already base64)
    expect(trusted.cdr.signed_values.map((v) => v.signed_data)).toEqual(
      values.map((v) => (v.signed.format === 'ocpp2.0.1-signedMeterValue' ? v.signed.signedMeterData : '')),
    );
  });

  it('pairing: another meter serial, another identification than the session token, a register going backwards', () => {
    const serial = checkSignedMeterValues(
      session(pair(undefined, record('E', '21.200', { ms: 'M-2' }))),
      '20',
      facts(),
    )!;
    expect(serial.audit.flags).toEqual(['PAIRING_FAILED']);
    expect(serial.audit.checks.find((c) => c.name === 'SAME_METER')?.passed).toBe(false);
    const id = checkSignedMeterValues(
      session(pair(record('B', '1.200', { id: 'OTHER' }), record('E', '21.200', { id: 'OTHER' }))),
      '20',
      facts(),
    )!;
    expect(id.audit.flags).toEqual(['PAIRING_FAILED']);
    expect(id.audit.checks.find((c) => c.name === 'SESSION_IDENTIFICATION')?.passed).toBe(false);
    const back = checkSignedMeterValues(session(pair(record('B', '21.200'), record('E', '1.200'))), '-20', facts())!;
    expect(back.audit.result).toBe('FAILED');
    expect(back.audit.checks.find((c) => c.name === 'MONOTONE_REGISTER')?.passed).toBe(false);
  });

  it('the identification is compared only for token types (RFID, eMAID), ignoring case and separators', () => {
    const ok = checkSignedMeterValues(
      { ...session(pair(record('B', '1.200', { id: 'abc-123' }), record('E', '21.200', { id: 'ABC:123' }))) },
      '20',
      facts(),
    )!;
    expect(ok.audit.checks.find((c) => c.name === 'SESSION_IDENTIFICATION')?.passed).toBe(true);
    // NZR writes "IT":"NONE","ID":"": nothing to compare, whatever the session's token
    const nzr = [vector('ts-nzr-brainpool256r1-begin'), vector('ts-nzr-brainpool256r1-end')];
    const none = checkSignedMeterValues(
      session(pair(nzr[0].ocmf, nzr[1].ocmf)),
      '0',
      facts([key({ publicKey: nzr[0].publicKey.value })]),
    )!;
    expect(none.audit.checks.find((c) => c.name === 'SESSION_IDENTIFICATION')).toMatchObject({ passed: true });
    expect(none.audit.result).toBe('VERIFIED');
  });

  it('a registered meter serial the records do not name: METER_NOT_REGISTERED', () => {
    const out = checkSignedMeterValues(session(pair()), '20', facts([key({ meterSerial: 'M-9' })]))!;
    expect(out.audit.flags).toEqual(['METER_NOT_REGISTERED']);
    expect(checkSignedMeterValues(session(pair()), '20', facts([key({ meterSerial: 'M-1' })]))!.audit.result).toBe(
      'VERIFIED',
    );
  });

  it('unreadable values (not OCMF) are MALFORMED; values the session left out are flagged', () => {
    const out = checkSignedMeterValues(
      session([v16('Transaction.End', 'EDL40|vendor|blob', '2026-03-01T11:00:00Z')], 3),
      '20',
      facts(),
    )!;
    expect(out.audit.values[0]).toMatchObject({ status: 'MALFORMED', reason: 'NOT_OCMF' });
    expect(out.audit.flags).toEqual(['SIGNED_DATA_MALFORMED', 'PAIRING_FAILED', 'SIGNED_VALUES_OMITTED']);
    expect(out.audit.omitted).toBe(3);
  });

  it('a 1.6 SignedData value sent as base64 of the OCMF text is read as that text', () => {
    const [b, e] = [record('B', '1.200'), record('E', '21.200')];
    const values = pair(Buffer.from(b).toString('base64'), Buffer.from(e).toString('base64'));
    const out = checkSignedMeterValues(session(values), '20', facts())!;
    expect(out.audit.result).toBe('VERIFIED');
    expect(Buffer.from(out.cdr.signed_values[1].signed_data, 'base64').toString('utf8')).toBe(e);
  });

  it.each(VECTORS.map((v) => [v.id, v] as const))(
    'shared vector %s, as the end reading of a session with its key registered, is %s as expected',
    (_id, v) => {
      const out = checkSignedMeterValues(
        session([v16('Transaction.End', v.ocmf, '2026-03-01T11:00:00Z')]),
        '20',
        facts([key({ publicKey: v.publicKey.value })]),
      )!;
      expect(out.audit.values[0].status).toBe(v.expected === 'valid' ? 'VALID' : 'INVALID');
      expect(out.audit.flags.includes('SIGNATURE_INVALID')).toBe(v.expected !== 'valid');
      expect(Buffer.from(out.cdr.signed_values[0].signed_data, 'base64').toString('utf8')).toBe(v.ocmf);
    },
  );

  it('the real begin/end pairs verify as a session (ebee, NZR, DZG: zero energy)', () => {
    for (const [b, e] of [
      ['ts-ebee-begin', 'ts-ebee-end'],
      ['ts-nzr-brainpool256r1-begin', 'ts-nzr-brainpool256r1-end'],
      ['ts-dzg-secp256k1-begin', 'ts-dzg-secp256k1-end'],
    ]) {
      const begin = vector(b);
      const s = { ...session(pair(begin.ocmf, vector(e).ocmf)), idToken: undefined };
      const out = checkSignedMeterValues(s, '0', facts([key({ publicKey: begin.publicKey.value })]))!;
      expect([b, out.audit.result, out.audit.flags]).toEqual([b, 'VERIFIED', []]);
      expect(parseOcmf(Buffer.from(out.cdr.signed_values[0].signed_data, 'base64')).ok).toBe(true);
    }
  });
});

describe('which key and which policy', () => {
  const s = session([]);
  it("the EVSE's key before the station's (EVSE 0), the latest write valid at the session start, a revoked one is none", () => {
    expect(meterKeyFor([key({ keyId: 'st', evseId: 0 }), key({ keyId: 'ev', sequence: 2 })], s)?.keyId).toBe('ev');
    expect(meterKeyFor([key({ keyId: 'st', evseId: 0 })], s)?.keyId).toBe('st');
    expect(meterKeyFor([key({ keyId: 'a' }), key({ keyId: 'b', sequence: 2 })], s)?.keyId).toBe('b');
    expect(
      meterKeyFor([key({ keyId: 'a' }), key({ keyId: 'b', sequence: 2, validFrom: '2027-01-01T00:00:00Z' })], s)?.keyId,
    ).toBe('a');
    expect(meterKeyFor([key({ keyId: 'a' }), key({ keyId: 'a', sequence: 2, status: 'revoked' })], s)).toBeUndefined();
    expect(meterKeyFor([key({ stationId: 'CP-002' })], s)).toBeUndefined();
  });

  it('station, else site, else default; none set: flag, trust no station key', () => {
    const p = (
      scope: SignaturePolicyFact['scope'],
      sequence: number,
      invalidSignature: 'flag' | 'block' = 'block',
    ) => ({
      scope,
      invalidSignature,
      trustStationKeys: false,
      sequence,
    });
    expect(policyFor([], 'CP-001', 'site-ams')).toEqual({
      invalidSignature: 'flag',
      trustStationKeys: false,
      scope: 'default',
      sequence: null,
    });
    const all = [
      p({ kind: 'default' }, 1),
      p({ kind: 'site', siteId: 'site-ams' }, 2, 'flag'),
      p({ kind: 'station', stationId: 'CP-001' }, 3),
    ];
    expect(policyFor(all, 'CP-001', 'site-ams').scope).toBe('station');
    expect(policyFor(all, 'CP-002', 'site-ams')).toMatchObject({ scope: 'site', invalidSignature: 'flag' });
    expect(policyFor(all, 'CP-002', null)).toMatchObject({ scope: 'default', invalidSignature: 'block' });
    expect(policyFor([...all, p({ kind: 'default' }, 4, 'flag')], 'CP-002', null).invalidSignature).toBe('flag');
  });
});

describe('buildCdr with signed meter values', () => {
  const tariff: OcpiTariffDocument = {
    id: 'AC-1',
    currency: 'EUR',
    elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
  };
  const ctx = (ended: SessionEndedPayload, extra: Partial<PricingContext> = {}): PricingContext => ({
    session: ended,
    source: { eventId: deriveId('src'), topic: 'session.events', partition: 0, offset: '1' },
    assignments: [
      {
        assignmentId: 'a',
        tariffId: 'AC-1',
        scope: { kind: 'default' },
        effectiveFrom: '2026-01-01T00:00:00Z',
        sequence: 1,
        removed: false,
      },
    ],
    versions: [
      {
        tariffId: 'AC-1',
        version: 1,
        effectiveFrom: '2026-01-01T00:00:00Z',
        publishedAt: '2026-01-01T00:00:00Z',
        contentHash: 'a'.repeat(64),
        tariff,
      },
    ],
    cpo: { countryCode: 'NL', partyId: 'CSM' },
    defaultTimeZone: 'UTC',
    rounding: 'HALF_UP',
    meterKeys: [key()],
    ...extra,
  });
  const catalogue = systemCatalogue();
  const asEvent = (out: ReturnType<typeof buildCdr>) => {
    if (out.kind !== 'priced') throw new Error(out.code);
    return catalogue.create(CdrCreatedV4, {
      id: deriveId('e'),
      key: out.cdr.session_id,
      occurredAt: out.cdr.last_updated,
      source: 'tariff-service',
      payload: { cdr: out.cdr, audit: out.audit, billingAccountId: null },
    });
  };

  it('the CDR carries signed_data and the audit the verified check; a valid cdr.created v4', () => {
    const e = asEvent(buildCdr(ctx(session(pair()))));
    expect(e.payload.cdr.signed_data?.signed_values).toHaveLength(2);
    expect(e.payload.audit.signedMeterValues?.result).toBe('VERIFIED');
    expect(e.payload.cdr.total_energy).toBe('20');
  });

  it('the same session without signed values: no signed_data, no section', () => {
    const e = asEvent(buildCdr(ctx(session([]))));
    expect('signed_data' in e.payload.cdr).toBe(false);
    expect('signedMeterValues' in e.payload.audit).toBe(false);
  });

  it('a tampered session under a blocking policy is not priced: SIGNED_METER_VALUES_FAILED', () => {
    const end = record('E', '21.200').replace('"RV":21.200', '"RV":22.200');
    const out = buildCdr(
      ctx(session(pair(undefined, end)), {
        signaturePolicies: [
          { scope: { kind: 'default' }, invalidSignature: 'block', trustStationKeys: false, sequence: 1 },
        ],
      }),
    );
    expect(out).toMatchObject({ kind: 'failed', code: 'SIGNED_METER_VALUES_FAILED' });
  });
});
