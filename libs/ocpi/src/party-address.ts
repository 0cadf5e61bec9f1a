/**
 * Where the credentials handshake may call a party: the guard against server-side request forgery. A party hands
 * us a versions URL (and, in its answer, the URL of its version details); calling it blindly would let whoever
 * holds a token A make this service reach its own loopback, the private network it runs in or a cloud metadata
 * address. Pure: the app's adapter resolves the host name and asks these rules about every address it got.
 */

/** What an IP address is, by the IANA special-purpose registries; only `public` is called without the allow-list. */
export type AddressKind =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'multicast'
  | 'documentation'
  | 'reserved';

/** The allow-list (`OCPI_PARTY_URL_ALLOW`): host names called whatever they resolve to, and address ranges. */
export interface PartyUrlAllowList {
  hosts: ReadonlySet<string>;
  ranges: ReadonlyArray<{ bytes: Uint8Array; prefix: number; text: string }>;
}

export const EMPTY_ALLOW_LIST: PartyUrlAllowList = { hosts: new Set(), ranges: [] };

/** The 4 bytes of a dotted-decimal IPv4 address, or undefined. */
function ipv4Bytes(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(0|[1-9]\d{0,2})$/.test(parts[i]) || Number(parts[i]) > 255) return undefined;
    out[i] = Number(parts[i]);
  }
  return out;
}

/** The 16 bytes of an IPv6 address (with or without brackets, a trailing dotted IPv4 allowed, no zone), or undefined. */
function ipv6Bytes(input: string): Uint8Array | undefined {
  const s = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  if (!s.includes(':') || s.includes('%') || s.split('::').length > 2) return undefined;
  const groups: number[] = [];
  const read = (part: string, last: boolean): boolean => {
    if (part === '') return true;
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (last && i === items.length - 1 && item.includes('.')) {
        const v4 = ipv4Bytes(item);
        if (!v4) return false;
        groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return false;
        groups.push(parseInt(item, 16));
      }
    }
    return true;
  };
  const [head, tail] = s.split('::');
  if (tail === undefined) {
    if (!read(head, true) || groups.length !== 8) return undefined;
  } else {
    if (!read(head, false)) return undefined;
    const before = groups.length;
    if (!read(tail, true)) return undefined;
    const after = groups.splice(before);
    if (before + after.length > 7) return undefined;
    groups.push(...new Array<number>(8 - before - after.length).fill(0), ...after);
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** An IP address's bytes (4 or 16), or undefined when it is not an IP literal (a host name). */
export function ipBytes(s: string): Uint8Array | undefined {
  return ipv4Bytes(s) ?? ipv6Bytes(s);
}

const inRange = (a: Uint8Array, range: Uint8Array, prefix: number): boolean => {
  if (a.length !== range.length) return false;
  for (let bit = 0; bit < prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((a[bit >> 3] & mask) !== (range[bit >> 3] & mask)) return false;
  }
  return true;
};

const V4: Array<[string, number, AddressKind]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6: Array<[string, number, AddressKind]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['2001::', 23, 'reserved'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'],
  ['ff00::', 8, 'multicast'],
];
const V4_RANGES = V4.map(([a, p, k]) => [ipv4Bytes(a)!, p, k] as const);
const V6_RANGES = V6.map(([a, p, k]) => [ipv6Bytes(a)!, p, k] as const);
/** IPv6 forms that carry an IPv4 address: classified by it (::ffff:127.0.0.1 is loopback) */
const EMBEDS_V4: Array<[Uint8Array, number, number]> = [
  [ipv6Bytes('::ffff:0:0')!, 96, 12], // IPv4-mapped
  [ipv6Bytes('::')!, 96, 12], // IPv4-compatible (deprecated)
  [ipv6Bytes('64:ff9b::')!, 96, 12], // NAT64
  [ipv6Bytes('2002::')!, 16, 2], // 6to4
];

/** What kind of address an IP literal is; undefined for a host name. */
export function addressKind(ip: string): AddressKind | undefined {
  const b = ipBytes(ip);
  if (!b) return undefined;
  if (b.length === 4) return V4_RANGES.find(([r, p]) => inRange(b, r, p))?.[2] ?? 'public';
  const exact = V6_RANGES.find(([r, p]) => p === 128 && inRange(b, r, p));
  if (exact) return exact[2];
  for (const [r, p, at] of EMBEDS_V4)
    if (inRange(b, r, p)) return addressKind(Array.from(b.subarray(at, at + 4)).join('.'));
  return V6_RANGES.find(([r, p]) => inRange(b, r, p))?.[2] ?? 'public';
}

/**
 * `OCPI_PARTY_URL_ALLOW`: a comma-separated list of host names (`localhost`, `emsp.internal`; compared case-
 * insensitively, as the URL's host), IP addresses (`127.0.0.1`, `::1`) and CIDR ranges (`10.0.0.0/8`,
 * `fd00::/8`). Throws on an entry that is none of these.
 */
export function parsePartyUrlAllowList(value: string | undefined): PartyUrlAllowList {
  const hosts = new Set<string>();
  const ranges: Array<{ bytes: Uint8Array; prefix: number; text: string }> = [];
  for (const [i, raw] of (value ?? '').split(',').entries()) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    const [addr, prefixText, ...rest] = entry.split('/');
    const bytes = ipBytes(addr);
    if (bytes) {
      const max = bytes.length * 8;
      const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
      if (rest.length > 0 || prefix < 0 || prefix > max)
        throw new Error(`OCPI_PARTY_URL_ALLOW entry ${i + 1}: a CIDR prefix from 0 to ${max}`);
      ranges.push({ bytes, prefix, text: entry });
    } else if (/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(entry))
      hosts.add(entry);
    else throw new Error(`OCPI_PARTY_URL_ALLOW entry ${i + 1}: a host name, an IP address or a CIDR range`);
  }
  return { hosts, ranges };
}

const allowedAddress = (ip: string, allow: PartyUrlAllowList): boolean => {
  const b = ipBytes(ip);
  return b !== undefined && allow.ranges.some((r) => inRange(b, r.bytes, r.prefix));
};

/**
 * Why a party's URL may not be called, before any name is resolved, or undefined: not http(s) (nothing else
 * speaks OCPI; the allow-list does not change that), user information in it, or a host that is an IP literal of
 * a non-public kind (loopback, private, link-local, …) not on the allow-list. A host name passes here; its
 * addresses are checked by `partyAddressRefusal` when it is resolved.
 */
export function partyUrlRefusal(url: string, allow: PartyUrlAllowList): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not an absolute URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `the scheme ${u.protocol} is not http or https`;
  if (u.username !== '' || u.password !== '') return 'a URL with user information';
  return partyAddressRefusal(u.hostname, u.hostname, allow);
}

/**
 * Why `address` (an IP the host `host` resolved to, or the host itself when it is an IP literal) may not be
 * called, or undefined: any kind but public is refused unless the host name or a range holding the address is on
 * the allow-list.
 */
export function partyAddressRefusal(host: string, address: string, allow: PartyUrlAllowList): string | undefined {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (allow.hosts.has(name)) return undefined;
  const kind = addressKind(address);
  if (kind === undefined) return undefined; // a host name: its addresses are checked once resolved
  if (kind === 'public' || allowedAddress(address, allow)) return undefined;
  return `${name} is a ${kind} address (${address.replace(/^\[|\]$/g, '')}), refused: not on OCPI_PARTY_URL_ALLOW`;
}
