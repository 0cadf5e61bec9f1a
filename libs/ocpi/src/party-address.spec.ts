import {
  EMPTY_ALLOW_LIST,
  addressKind,
  ocpiHttpStatus,
  parsePartyUrlAllowList,
  partyAddressRefusal,
  partyUrlRefusal,
} from './index';

describe('OCPI party URLs: the guard against server-side request forgery', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['169.254.169.254', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2606:4700:4700::1111', 'public'],
  ])('%s is %s', (ip, kind) => {
    expect(addressKind(ip)).toBe(kind);
  });

  it.each([
    'example.com',
    'localhost',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1::2::3',
    '::g',
    'fe80::1%eth0',
  ])('%s is not an IP literal', (s) => {
    expect(addressKind(s)).toBeUndefined();
  });

  it('refuses non-http(s) schemes, user information and non-public IP literals without the allow-list', () => {
    const refused = (url: string) => partyUrlRefusal(url, EMPTY_ALLOW_LIST);
    expect(refused('https://emsp.example.com/ocpi/versions')).toBeUndefined();
    expect(refused('http://8.8.8.8/ocpi/versions')).toBeUndefined();
    expect(refused('file:///etc/passwd')).toMatch(/scheme file:/);
    expect(refused('gopher://emsp.example.com/')).toMatch(/scheme gopher:/);
    expect(refused('ftp://emsp.example.com/')).toMatch(/scheme ftp:/);
    expect(refused('http://a:b@emsp.example.com/')).toMatch(/user information/);
    expect(refused('../versions')).toMatch(/absolute/);
    expect(refused('http://127.0.0.1:9/ocpi/versions')).toMatch(/loopback address \(127\.0\.0\.1\)/);
    expect(refused('http://169.254.169.254/latest/meta-data/')).toMatch(/link-local/);
    expect(refused('http://10.0.0.5/')).toMatch(/private/);
    expect(refused('http://[::1]:8080/')).toMatch(/loopback/);
    expect(refused('http://[::ffff:127.0.0.1]/')).toMatch(/loopback/);
    expect(refused('http://0.0.0.0/')).toMatch(/unspecified/);
    // the URL parser's other spellings of an address are the address
    expect(refused('http://2130706433/')).toMatch(/loopback/);
    expect(refused('http://0x7f.1/')).toMatch(/loopback/);
    expect(refused('http://127.1/')).toMatch(/loopback/);
    // a host name passes here: its addresses are checked when it is resolved
    expect(refused('http://localhost:9/')).toBeUndefined();
    expect(partyAddressRefusal('localhost', '127.0.0.1', EMPTY_ALLOW_LIST)).toMatch(/localhost is a loopback address/);
    expect(partyAddressRefusal('emsp.example.com', '93.184.216.34', EMPTY_ALLOW_LIST)).toBeUndefined();
    expect(partyAddressRefusal('rebind.example.com', '10.0.0.1', EMPTY_ALLOW_LIST)).toMatch(/private/);
  });

  it('the allow-list lets named hosts, addresses and ranges through, and nothing else', () => {
    const allow = parsePartyUrlAllowList(' localhost, 127.0.0.1 ,10.20.0.0/16, fd00::/8, EMSP.Internal ');
    expect(partyUrlRefusal('http://127.0.0.1:9/ocpi/versions', allow)).toBeUndefined();
    expect(partyUrlRefusal('http://127.0.0.2/', allow)).toMatch(/loopback/);
    expect(partyUrlRefusal('http://10.20.3.4/', allow)).toBeUndefined();
    expect(partyUrlRefusal('http://10.21.0.1/', allow)).toMatch(/private/);
    expect(partyUrlRefusal('http://[fd00::5]/', allow)).toBeUndefined();
    expect(partyUrlRefusal('http://[fe80::1]/', allow)).toMatch(/link-local/);
    expect(partyUrlRefusal('file:///etc/passwd', allow)).toMatch(/scheme/);
    expect(partyAddressRefusal('localhost', '127.0.0.1', allow)).toBeUndefined();
    expect(partyAddressRefusal('localhost', '::1', allow)).toBeUndefined();
    expect(partyAddressRefusal('emsp.internal', '192.168.7.7', allow)).toBeUndefined();
    expect(partyAddressRefusal('other.internal', '192.168.7.7', allow)).toMatch(/private/);
    expect(partyAddressRefusal('other.internal', '10.20.9.9', allow)).toBeUndefined();
    expect(parsePartyUrlAllowList(undefined)).toEqual(EMPTY_ALLOW_LIST);
    expect(parsePartyUrlAllowList('')).toEqual(EMPTY_ALLOW_LIST);
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/x', '10.0.0.0/8/8', 'http://x', 'a b', '-bad-.example', '*.example.com'])(
    'refuses the allow-list entry %s',
    (entry) => {
      expect(() => parsePartyUrlAllowList(entry)).toThrow(/OCPI_PARTY_URL_ALLOW entry 1/);
    },
  );
});

describe('OCPI 2.2.1: the HTTP status of an answer that reached the OCPI layer', () => {
  it.each([1000, 2001, 2002, 2003, 2004, 3000, 3001, 3002, 3003, 4001])('%s comes with HTTP 200', (code) => {
    expect(ocpiHttpStatus(code)).toBe(200);
  });
  it('2000 (the token) is the refusal’s own status (401, 405); other numbers are not status codes', () => {
    expect(() => ocpiHttpStatus(2000)).toThrow(/401 or 405/);
    expect(() => ocpiHttpStatus(400)).toThrow(/not an OCPI status code/);
    expect(() => ocpiHttpStatus(5000)).toThrow(/not an OCPI status code/);
  });
});
