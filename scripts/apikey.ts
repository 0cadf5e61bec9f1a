/**
 * Creates an API key: prints the key (give it to the client, it is shown once) and the `API_KEYS`
 * entry that holds only its SHA-256 (put it in the services' configuration).
 *   npm run apikey -- <name> <role>        roles: operator, finance, integration, admin
 */
import { API_ROLES, newApiKey, type ApiRole } from '@csms/service-kit';

const [name, role] = process.argv.slice(2);
if (!name || !role || !(API_ROLES as readonly string[]).includes(role) || !/^[A-Za-z0-9_.-]+$/.test(name)) {
  console.error(`usage: npm run apikey -- <name> <role>   (name: [A-Za-z0-9_.-]+, role: ${API_ROLES.join(' | ')})`);
  process.exit(2);
}
const { key, entry } = newApiKey(name, role as ApiRole);
console.log(`key (give to the client, shown once): ${key}`);
console.log(`API_KEYS entry (configuration):      ${entry}`);
