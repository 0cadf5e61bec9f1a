import { createHash } from 'node:crypto';
import { ocpiJson, ocpiPartyOf, parseOcpiDateTime, parseOcpiTokens } from './ocpi';

const parties = parseOcpiTokens(`hub:${createHash('sha256').update('secret-token').digest('hex')}`);

describe('OCPI 2.2.1 credentials: Authorization: Token <base64 token>', () => {
  it.each([
    ['the token, Base64-encoded', `Token ${Buffer.from('secret-token').toString('base64')}`, 'hub'],
    ['the token as it is (2.1.1 style): refused', 'Token secret-token', undefined],
    ['another token', `Token ${Buffer.from('other').toString('base64')}`, undefined],
    ['Bearer', `Bearer ${Buffer.from('secret-token').toString('base64')}`, undefined],
    ['nothing', undefined, undefined],
    ['not Base64', 'Token ***', undefined],
  ])('%s', (_what, header, party) => {
    expect(ocpiPartyOf(header, parties)?.name).toBe(party);
  });

  it('refuses a malformed OCPI_TOKENS entry', () => {
    expect(() => parseOcpiTokens('hub:abc')).toThrow(/name:sha256hex/);
  });
});

describe('OCPI DateTime', () => {
  it.each([
    ['2026-11-01T00:00:00Z', Date.UTC(2026, 10, 1)],
    ['2026-11-01T00:00:00', Date.UTC(2026, 10, 1)],
    ['2026-11-01T00:00:00.250Z', Date.UTC(2026, 10, 1) + 250],
    ['2026-02-30T00:00:00Z', null],
    ['2026-11-01T24:00:00Z', null],
    ['2026-11-01T00:00:00+01:00', null],
    ['0000-01-01T00:00:00Z', null],
    ['yesterday', null],
  ])('%s', (text, ms) => expect(parseOcpiDateTime(text)).toBe(ms));
});

describe('OCPI JSON: decimal texts OCPI types as numbers are written as numbers, digit for digit', () => {
  it('amounts, energy, times and volumes', () => {
    expect(
      ocpiJson({
        total_cost: { excl_vat: '7.10', incl_vat: '-8.59' },
        total_energy: '20.000',
        charging_periods: [{ dimensions: [{ type: 'ENERGY', volume: '0.0001' }] }],
        id: '12.5',
        remark: '7.10',
      }),
    ).toBe(
      '{"total_cost":{"excl_vat":7.10,"incl_vat":-8.59},"total_energy":20.000,"charging_periods":[{"dimensions":[{"type":"ENERGY","volume":0.0001}]}],"id":"12.5","remark":"7.10"}',
    );
  });
});
