import {
  OcpiInputError,
  access,
  authorizationOf,
  cdrAudience,
  mayPullCdr,
  parseCredentials,
  partyEndpointsOf,
  envelopeData,
  tokenOfAuthorization,
  tokenSha256,
  versionDetailsOf,
  versionUrlOf,
  type OcpiAction,
  type PartyRole,
  type TokenKind,
} from './index';

const role = (r: PartyRole['role'], countryCode: string, partyId: string): PartyRole => ({
  role: r,
  countryCode,
  partyId,
  businessName: 'x',
});
const credentials = (over: Record<string, unknown> = {}) => ({
  token: 'b-token-123',
  url: 'https://emsp.example.com/ocpi/versions',
  roles: [{ role: 'EMSP', party_id: 'ems', country_code: 'de', business_details: { name: 'Example eMSP' } }],
  ...over,
});
const fieldOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof OcpiInputError) return `${e.statusCode} ${e.field ?? ''}`.trim();
    throw e;
  }
  return undefined;
};

describe('OCPI 2.2.1 credentials tokens', () => {
  it('reads `Token <base64>` and hashes the token', () => {
    expect(tokenOfAuthorization(authorizationOf('abc-123'))).toBe('abc-123');
    expect(tokenSha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it.each([
    ['missing', undefined],
    ['2.1.1 style (not Base64)', 'Token abc-123!'],
    ['a bearer key', 'Bearer abc'],
    ['Token and nothing', 'Token '],
    ['not canonical Base64', 'Token YWJjZA=x'],
    ['a token with a space', authorizationOf('a b')],
    ['a token over 64 characters', authorizationOf('x'.repeat(65))],
    ['a token with a control character', `Token ${Buffer.from('a\u0000b').toString('base64')}`],
    ['a header of 10,000 characters', `Token ${'A'.repeat(10_000)}`],
  ])('refuses %s', (_what, header) => {
    expect(tokenOfAuthorization(header)).toBeUndefined();
  });
});

describe('parseCredentials', () => {
  it('keeps the token, the URL, and the roles with their CiStrings upper case', () => {
    expect(parseCredentials(credentials())).toEqual({
      token: 'b-token-123',
      url: 'https://emsp.example.com/ocpi/versions',
      roles: [{ role: 'EMSP', countryCode: 'DE', partyId: 'EMS', businessName: 'Example eMSP' }],
    });
  });
  it.each([
    ['not an object', [], '2001 body'],
    ['no token', credentials({ token: undefined }), '2001 body/token'],
    ['a token of 65 characters', credentials({ token: 'x'.repeat(65) }), '2001 body/token'],
    ['a token with whitespace', credentials({ token: 'a b' }), '2001 body/token'],
    ['a relative url', credentials({ url: '/ocpi/versions' }), '2001 body/url'],
    ['a file url', credentials({ url: 'file:///etc/passwd' }), '2001 body/url'],
    ['a url with a password', credentials({ url: 'https://u:p@x.example/ocpi' }), '2001 body/url'],
    ['no roles', credentials({ roles: [] }), '2001 body/roles'],
    [
      'an unknown role',
      credentials({ roles: [{ ...credentials().roles[0], role: 'ROOT' }] }),
      '2001 body/roles/0/role',
    ],
    [
      'a party id of 4',
      credentials({ roles: [{ ...credentials().roles[0], party_id: 'ABCD' }] }),
      '2001 body/roles/0/party_id',
    ],
    [
      'a country code of 3',
      credentials({ roles: [{ ...credentials().roles[0], country_code: 'DEU' }] }),
      '2001 body/roles/0/country_code',
    ],
    [
      'no business details',
      credentials({ roles: [{ ...credentials().roles[0], business_details: undefined }] }),
      '2001 body/roles/0/business_details',
    ],
    [
      'a role twice (case-insensitively)',
      credentials({ roles: [credentials().roles[0], { ...credentials().roles[0], party_id: 'EMS' }] }),
      '2001 body/roles/1',
    ],
  ])('refuses %s with 2001 and the field', (_what, body, expected) => {
    expect(fieldOf(() => parseCredentials(body))).toBe(expected);
  });
});

describe('which CDRs a party may pull', () => {
  const token = (country_code: string, party_id: string) => ({ country_code, party_id });
  it('an eMSP sees the CDRs of its own tokens only (any of its EMSP roles), case-insensitively', () => {
    const a = cdrAudience([role('EMSP', 'DE', 'EMS'), role('EMSP', 'NL', 'ABC'), role('CPO', 'BE', 'CPX')]);
    expect(a).toEqual({
      all: false,
      parties: [
        { countryCode: 'DE', partyId: 'EMS' },
        { countryCode: 'NL', partyId: 'ABC' },
      ],
    });
    expect(mayPullCdr(a, token('DE', 'EMS'))).toBe(true);
    expect(mayPullCdr(a, token('nl', 'abc'))).toBe(true);
    expect(mayPullCdr(a, token('DE', 'ABC'))).toBe(false);
    // its CPO role is not an eMSP's: CDRs of tokens of BE*CPX are not its own
    expect(mayPullCdr(a, token('BE', 'CPX'))).toBe(false);
  });
  it('a hub sees every CDR; a party with neither role none', () => {
    expect(mayPullCdr(cdrAudience([role('HUB', 'NL', 'HUB')]), token('DE', 'EMS'))).toBe(true);
    const none = cdrAudience([role('NSP', 'NL', 'NSP')]);
    expect(none).toEqual({ all: false, parties: [] });
    expect(mayPullCdr(none, token('NL', 'NSP'))).toBe(false);
  });
});

describe('the credentials module: who may do what (OCPI 2.2.1 §7)', () => {
  const actions: OcpiAction[] = [
    'versions',
    'cdrs',
    'credentials.get',
    'credentials.post',
    'credentials.put',
    'credentials.delete',
  ];
  const table: Record<string, Array<number>> = {
    // versions, cdrs, GET, POST, PUT, DELETE: 200 allowed, else the HTTP status
    none: [401, 401, 401, 401, 401, 401],
    A: [200, 401, 405, 200, 405, 405],
    C: [200, 200, 200, 405, 200, 200],
    configured: [200, 200, 200, 405, 405, 405],
  };
  it.each(Object.entries(table))('token %s', (kind, expected) => {
    const got = actions.map((a) => {
      const r = access(kind === 'none' ? undefined : (kind as TokenKind), a);
      return r.allowed ? 200 : r.http;
    });
    expect(got).toEqual(expected);
  });
});

describe('versions', () => {
  it('offers 2.2.1 with credentials as SENDER and RECEIVER and CDRs as SENDER', () => {
    expect(versionDetailsOf('https://cpo.example.com').endpoints).toEqual([
      { identifier: 'credentials', role: 'SENDER', url: 'https://cpo.example.com/ocpi/2.2.1/credentials' },
      { identifier: 'credentials', role: 'RECEIVER', url: 'https://cpo.example.com/ocpi/2.2.1/credentials' },
      { identifier: 'cdrs', role: 'SENDER', url: 'https://cpo.example.com/ocpi/2.2.1/cdrs' },
    ]);
  });
  it("reads a party's versions and details: 3001 unusable, 3002 no 2.2.1, 3003 no credentials endpoint", () => {
    const ok = {
      status_code: 1000,
      data: [
        { version: '2.1.1', url: 'u1' },
        { version: '2.2.1', url: 'u2' },
      ],
    };
    expect(versionUrlOf(envelopeData(ok, 'versions'))).toBe('u2');
    expect(fieldOf(() => envelopeData({ status_code: 2000 }, 'versions'))).toBe('3001');
    expect(fieldOf(() => envelopeData('<html>', 'versions'))).toBe('3001');
    expect(fieldOf(() => versionUrlOf([{ version: '2.1.1', url: 'u1' }]))).toBe('3002');
    const details = (endpoints: unknown[]) => ({ version: '2.2.1', endpoints });
    expect(partyEndpointsOf(details([{ identifier: 'credentials', role: 'SENDER', url: 'c' }, { junk: 1 }]))).toEqual([
      { identifier: 'credentials', role: 'SENDER', url: 'c' },
    ]);
    expect(fieldOf(() => partyEndpointsOf(details([{ identifier: 'cdrs', role: 'RECEIVER', url: 'c' }])))).toBe('3003');
    expect(fieldOf(() => partyEndpointsOf({ version: '2.1.1', endpoints: [] }))).toBe('3001');
  });
});
