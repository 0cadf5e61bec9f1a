/**
 * The parked outbox of a service (records the broker refused for good; libs/messaging), through the service's API:
 *   npm run outbox -- list   --service <name> [--state parked|resent] [--json]
 *   npm run outbox -- show   <eventId> --service <name>
 *   npm run outbox -- resend <eventId> --service <name>
 * Options: --url <base URL> (default: the service's port as `npm start` runs it), --key <admin key> (default:
 * CSMS_API_KEY, else the local admin key `npm start` keeps in ~/.config/csms/local.env).
 * Through the API, not the database: a re-send is the service's own transaction (one code path, idempotent),
 * it nudges the service's relay so the record goes out at once, and it is authorised (admin) and logged there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SERVICES } from './services';

const USAGE = `usage: npm run outbox -- list|show <eventId>|resend <eventId> --service <${SERVICES.map((s) => s.name).join('|')}> [--state parked|resent] [--json] [--url URL] [--key KEY]`;

function adminKey(given: string | undefined): string {
  if (given) return given;
  if (process.env.CSMS_API_KEY) return process.env.CSMS_API_KEY;
  const file = path.join(process.env.XDG_CONFIG_HOME ?? path.join(homedir(), '.config'), 'csms', 'local.env');
  const m = existsSync(file) ? /^CSMS_ADMIN_KEY=(.+)$/m.exec(readFileSync(file, 'utf8')) : null;
  if (!m)
    throw new Error(
      `no admin key: pass --key, set CSMS_API_KEY, or start the system once with npm start (it writes ${file})`,
    );
  return m[1].trim();
}

interface Parked {
  eventId: string;
  state: string;
  topic: string;
  key: string;
  eventType?: string;
  sizeBytes: number;
  error: { code: string; message: string };
  parkedAt: string;
  resends: number;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      state: { type: 'string' },
      json: { type: 'boolean' },
      url: { type: 'string' },
      key: { type: 'string' },
    },
  });
  const [command, eventId] = positionals;
  const service = SERVICES.find((s) => s.name === values.service);
  if (
    !command ||
    !['list', 'show', 'resend'].includes(command) ||
    (command !== 'list' && !eventId) ||
    (!service && !values.url)
  ) {
    console.error(USAGE);
    return 2;
  }
  const base = (values.url ?? `http://127.0.0.1:${service!.httpPort}`).replace(/\/$/, '');
  const key = adminKey(values.key);
  const call = async (method: string, p: string): Promise<unknown> => {
    const r = await fetch(`${base}/api/v1/outbox/parked${p}`, { method, headers: { authorization: `Bearer ${key}` } });
    const body: unknown = await r.json();
    if (!r.ok) throw new Error(`${method} ${p || '/'}: ${r.status} ${JSON.stringify(body)}`);
    return body;
  };

  if (command === 'list') {
    const items: Parked[] = [];
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({
        limit: '500',
        ...(values.state ? { state: values.state } : {}),
        ...(cursor ? { cursor } : {}),
      });
      const page = (await call('GET', `?${q}`)) as { items: Parked[]; nextCursor?: string };
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    if (values.json) console.log(JSON.stringify(items, null, 2));
    else {
      for (const r of items) {
        console.log(
          [
            r.eventId,
            r.state,
            r.topic,
            r.key,
            r.eventType ?? '-',
            `${r.sizeBytes} B`,
            r.error.code,
            r.parkedAt,
            `resends ${r.resends}`,
          ].join('  '),
        );
      }
      console.log(`${items.length} record(s)`);
    }
  } else if (command === 'show') {
    console.log(JSON.stringify(await call('GET', `/${encodeURIComponent(eventId)}`), null, 2));
  } else {
    const r = (await call('POST', `/${encodeURIComponent(eventId)}/resend`)) as { resent: boolean; record: Parked };
    console.log(
      r.resent
        ? `resent ${eventId}: back in the outbox at its old position (${r.record.topic}, key ${r.record.key})`
        : `${eventId} was re-sent already: nothing done`,
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error((e as Error).message);
    process.exit(1);
  },
);
