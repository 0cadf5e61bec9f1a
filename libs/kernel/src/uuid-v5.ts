import { hash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

/** A UUID namespace as the 16 bytes that prefix every name hashed in it (parsed once). */
export function uuidNamespace(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

const HEX = '0123456789abcdef';

/**
 * UUID v5 (RFC 4122/9562: SHA-1 of namespace + UTF-8 name), exactly as `uuid`'s v5 writes it, about four
 * times faster: one-shot `crypto.hash` over one buffer instead of uuid's byte-array copies and Hash
 * object. Names with non-ASCII characters go to the `uuid` package itself (same result, slower).
 */
export function fastUuidV5(name: string, namespace: Buffer): string {
  const n = name.length;
  for (let i = 0; i < n; i++) if (name.charCodeAt(i) > 0x7f) return uuidv5(name, namespace);
  const buf = Buffer.allocUnsafe(16 + n);
  namespace.copy(buf, 0, 0, 16);
  buf.write(name, 16, 'latin1');
  const h = hash('sha1', buf, 'hex');
  // version 5 in the high nibble of byte 6; variant 10xx in the high bits of byte 8
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${HEX[(HEX.indexOf(h[16]) & 0x3) | 0x8]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
