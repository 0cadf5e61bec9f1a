import { CdrCreatedV2, CdrCreatedV3, CdrCreatedV4, deriveId, systemCatalogue, type Envelope } from '../index';
import { contractError, specEnvelope } from './spec-helpers';

const catalogue = systemCatalogue();
const v3 = CdrCreatedV3.example;

function envelope(version: number, payload: unknown): Envelope {
  return specEnvelope('cdr.created', version, payload, {
    key: v3.audit.sessionId,
    source: 'tariff-service',
    id: deriveId('billing-spec', version),
  });
}

/** A v2 payload as the tariff service wrote it: v3's CDR and audit without the billing account. */
const { billingAccountId: _account, ...v2Payload } = v3;

describe('cdr.created v2 -> v3 (the billing account that pays)', () => {
  it('reads a v2 record whose contract_id is not the token uid with that contract_id as the billing account', () => {
    const env = catalogue.decode(JSON.stringify(envelope(2, v2Payload)));
    expect(env.version).toBe(4);
    expect(env.payload).toEqual({ ...v2Payload, billingAccountId: 'acct-1001' });
  });

  it('reads a v2 record whose contract_id is the token uid with no billing account (null)', () => {
    const payload = {
      ...v2Payload,
      cdr: { ...v2Payload.cdr, cdr_token: { ...v2Payload.cdr.cdr_token, contract_id: 'ABC123' } },
    };
    expect(catalogue.parse(envelope(2, payload)).payload).toEqual({ ...payload, billingAccountId: null });
  });

  it('reads a v3 record as v4, the same payload; a null billing account is valid', () => {
    const env = envelope(3, { ...v3, billingAccountId: null });
    expect(catalogue.parse(env)).toEqual({ ...env, version: 4 });
  });

  it('v2 still accepts the open fields v3 closes (records already written)', () => {
    const open = {
      ...v2Payload,
      cdr: { ...v2Payload.cdr, cdr_token: { ...v2Payload.cdr.cdr_token, visual_number: 'x' } },
    };
    expect(() => catalogue.check(envelope(2, open))).not.toThrow();
    expect(CdrCreatedV2.version).toBe(2);
  });
});

describe('cdr.created v3 is closed to the last field', () => {
  const cdr = v3.cdr;
  const audit = v3.audit;
  const pricing = audit.pricing;
  it.each<[string, unknown, string]>([
    [
      'an unknown cdr_token field',
      { ...v3, cdr: { ...cdr, cdr_token: { ...cdr.cdr_token, visual_number: 'x' } } },
      '/payload/cdr/cdr_token',
    ],
    [
      'a token type outside OCPI',
      { ...v3, cdr: { ...cdr, cdr_token: { ...cdr.cdr_token, type: 'ISO14443' } } },
      '/payload/cdr/cdr_token/type',
    ],
    [
      'an unknown tariff field',
      { ...v3, cdr: { ...cdr, tariffs: [{ ...cdr.tariffs[0], note: 'x' }] } },
      '/payload/cdr/tariffs/0',
    ],
    [
      'an unknown price component field',
      {
        ...v3,
        cdr: {
          ...cdr,
          tariffs: [
            {
              ...cdr.tariffs[0],
              elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, step_size: 1, x: 1 }] }],
            },
          ],
        },
      },
      '/payload/cdr/tariffs/0/elements/0/price_components/0',
    ],
    [
      'a charging period without dimensions',
      { ...v3, cdr: { ...cdr, charging_periods: [{ start_date_time: '2026-03-01T10:00:00Z', dimensions: [] }] } },
      '/payload/cdr/charging_periods/0/dimensions',
    ],
    [
      'a dimension volume as a number',
      {
        ...v3,
        cdr: {
          ...cdr,
          charging_periods: [{ start_date_time: '2026-03-01T10:00:00Z', dimensions: [{ type: 'ENERGY', volume: 20 }] }],
        },
      },
      '/payload/cdr/charging_periods/0/dimensions/0/volume',
    ],
    [
      'signed data without its values',
      { ...v3, cdr: { ...cdr, signed_data: { encoding_method: 'OCMF' } } },
      '/payload/cdr/signed_data',
    ],
    [
      'an assignment without its scope',
      {
        ...v3,
        audit: { ...audit, assignment: { assignmentId: 'a', level: 'station', effectiveFrom: '2026-01-01T00:00:00Z' } },
      },
      '/payload/audit/assignment',
    ],
    [
      'an unknown pricing section',
      { ...v3, audit: { ...audit, pricing: { ...pricing, extra: {} } } },
      '/payload/audit/pricing',
    ],
    [
      'a line item with an amount as a number',
      {
        ...v3,
        audit: {
          ...audit,
          pricing: {
            ...pricing,
            breakdown: { ...pricing.breakdown, lines: [{ ...pricing.breakdown.lines[0], amount_excl_vat: 7 }] },
          },
        },
      },
      '/payload/audit/pricing/breakdown/lines/0/amount_excl_vat',
    ],
    ['an empty billing account', { ...v3, billingAccountId: '' }, '/payload/billingAccountId'],
    ['no billing account field', { cdr, audit }, '/payload'],
  ])('refuses %s', (_what, payload, field) => {
    const e = contractError(() => catalogue.check(envelope(3, payload)));
    expect(e.code).toBe('INVALID_PAYLOAD');
    expect(e.field?.startsWith(field)).toBe(true);
  });

  it('accepts a price adjustment without `bound` (CDRs priced by engine 1.0) and tariff numbers as decimal strings', () => {
    const { bound: _b, ...adjustment } = pricing.breakdown.price_adjustment;
    const payload = {
      ...v3,
      cdr: {
        ...cdr,
        tariffs: [
          {
            ...cdr.tariffs[0],
            elements: [{ price_components: [{ type: 'ENERGY', price: '0.35', vat: '21', step_size: 1 }] }],
          },
        ],
      },
      audit: { ...audit, pricing: { ...pricing, breakdown: { ...pricing.breakdown, price_adjustment: adjustment } } },
    };
    expect(() => catalogue.check(envelope(3, payload))).not.toThrow();
  });
});

describe('cdr.created v4 (signed meter values checked)', () => {
  const signed = {
    result: 'VERIFIED',
    flags: [],
    policy: { invalidSignature: 'flag', trustStationKeys: false, scope: 'default', sequence: null },
    key: { source: 'registry', keyId: 'k-1', publicKey: '3059', stationKey: null },
    values: [
      {
        at: '2026-03-01T10:00:00.000Z',
        context: 'Transaction.Begin',
        nature: 'Start',
        status: 'VALID',
        reason: 'SIGNATURE_VERIFIED',
        detail: 'verified',
        curve: 'secp256r1',
        meterSerial: 'M1',
        payloadSha256: 'a'.repeat(64),
      },
    ],
    checks: [{ name: 'ALL_VALID', passed: true, detail: 'every record is VALID' }],
    energy: { signedWh: '1000', billedWh: '1000', differenceWh: '0', toleranceWh: '1', result: 'match' },
    omitted: 0,
  };

  it('accepts the audit with its signed meter values and the CDR with OCPI signed_data', () => {
    const payload = {
      ...v3,
      cdr: {
        ...v3.cdr,
        signed_data: {
          encoding_method: 'OCMF',
          public_key: '3059',
          signed_values: [{ nature: 'Start', plain_data: 'B 1.000 kWh', signed_data: 'T0NNRnx7fXx7fQ==' }],
        },
      },
      audit: { ...v3.audit, signedMeterValues: signed },
    };
    expect(() => catalogue.check(envelope(4, payload))).not.toThrow();
    expect(CdrCreatedV4.version).toBe(4);
  });

  it('refuses a field the section does not name, and an unknown flag', () => {
    const extra = { ...v3, audit: { ...v3.audit, signedMeterValues: { ...signed, extra: 1 } } };
    expect(contractError(() => catalogue.check(envelope(4, extra)))).toBeDefined();
    const flag = { ...v3, audit: { ...v3.audit, signedMeterValues: { ...signed, flags: ['LOOKS_FINE'] } } };
    expect(contractError(() => catalogue.check(envelope(4, flag)))).toBeDefined();
  });
});
