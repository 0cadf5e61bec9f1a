import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Roles an API key carries (docs/architecture.md, "Service conventions"). `admin` may do everything. */
export const API_ROLES = ['operator', 'finance', 'integration', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiKeyEntry {
  name: string;
  role: ApiRole;
  /** sha256 of the key, hex */
  hash: string;
}

/** Keys are long random strings; storing their SHA-256 is enough (no dictionary to attack). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new key: `csms_<role>_<43 chars of base64url randomness>`, and the config entry holding only its hash. */
export function newApiKey(name: string, role: ApiRole): { key: string; entry: string } {
  const key = `csms_${role}_${randomBytes(32).toString('base64url')}`;
  return { key, entry: `${name}:${role}:${hashApiKey(key)}` };
}

/**
 * `API_KEYS` is a comma-separated list of `name:role:sha256hex`. No key is built in: a service with
 * no keys configured refuses every authenticated request.
 */
export function parseApiKeys(value: string | undefined): ApiKeyEntry[] {
  if (!value || value.trim() === '') return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item, i) => {
      const [name, role, hash, ...rest] = item.split(':');
      if (rest.length > 0 || !name || !role || !hash)
        throw new Error(`API_KEYS entry ${i + 1} must be name:role:sha256hex`);
      if (!(API_ROLES as readonly string[]).includes(role))
        throw new Error(`API_KEYS entry ${i + 1} (${name}): unknown role ${role}; roles: ${API_ROLES.join(', ')}`);
      if (!/^[0-9a-f]{64}$/.test(hash))
        throw new Error(`API_KEYS entry ${i + 1} (${name}): hash must be 64 lower-case hex characters (sha256)`);
      return { name, role: role as ApiRole, hash };
    });
}

export class ApiKeyStore {
  private readonly byHash: Map<string, ApiKeyEntry>;

  constructor(entries: readonly ApiKeyEntry[]) {
    this.byHash = new Map(entries.map((e) => [e.hash, e]));
  }

  /** The entry of a presented key, or undefined. Compares hashes in constant time. */
  lookup(key: string): ApiKeyEntry | undefined {
    const h = hashApiKey(key);
    const found = this.byHash.get(h);
    if (!found) return undefined;
    return timingSafeEqual(Buffer.from(found.hash, 'hex'), Buffer.from(h, 'hex')) ? found : undefined;
  }
}
