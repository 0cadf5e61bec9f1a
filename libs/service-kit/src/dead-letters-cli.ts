import type { DeadLetterView, RedriveResult } from '@csms/messaging';

/**
 * The dead-letter tool, as an HTTP client of a running service (`npm run dead-letters -- …` resolves the
 * service's URL and the admin key, then calls this):
 *   list    [--status parked|redriven|all] [--consumer G] [--code C] [--since T]
 *   redrive --id <id> | --all [--consumer G] [--code C]
 * Re-drive runs inside the service (its consumer's apply path): running it again is harmless, every record
 * is applied at most once. `--all` re-drives the parked records in the order they were parked.
 * Returns the process exit code: 0 when everything asked for is applied (or already was), 1 otherwise.
 */
export interface DeadLettersCliIo {
  baseUrl: string;
  apiKey: string;
  print(line: string): void;
}

const USAGE =
  'usage: dead-letters list [--status parked|redriven|all] [--consumer G] [--code C] [--since RFC3339] | redrive (--id <id> | --all) [--consumer G] [--code C]';

export function parseFlags(args: readonly string[]): { command?: string; flags: Record<string, string | true> } {
  const flags: Record<string, string | true> = {};
  let command: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) flags[a.slice(2)] = true;
      else flags[a.slice(2)] = args[++i];
    } else if (command === undefined) command = a;
    else throw new Error(`unexpected argument ${a}\n${USAGE}`);
  }
  return { command, flags };
}

export async function deadLettersCli(args: readonly string[], io: DeadLettersCliIo): Promise<number> {
  const { command, flags } = parseFlags(args);
  const call = async <T>(method: string, path: string): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${io.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${io.apiKey}` },
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const fail = (what: string, r: { status: number; body: unknown }) => {
    const p = r.body as { code?: string; detail?: string } | undefined;
    io.print(`${what}: HTTP ${r.status} ${p?.code ?? ''} ${p?.detail ?? ''}`.trim());
  };
  async function* all(status: string): AsyncGenerator<DeadLetterView> {
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ status, limit: '500' });
      for (const k of ['consumer', 'code', 'since'] as const)
        if (typeof flags[k] === 'string') q.set(k, flags[k] as string);
      if (cursor) q.set('cursor', cursor);
      const r = await call<{ items: DeadLetterView[]; nextCursor?: string }>('GET', `/api/v1/dead-letters?${q}`);
      if (r.status !== 200) {
        fail('listing dead letters', r);
        throw new Error('listing failed');
      }
      yield* r.body.items;
      cursor = r.body.nextCursor;
    } while (cursor);
  }
  const redrive = async (id: string): Promise<boolean> => {
    const r = await call<RedriveResult>('POST', `/api/v1/dead-letters/${encodeURIComponent(id)}/redrive`);
    if (r.status === 200) {
      io.print(`${id} ${r.body.outcome}`);
      return true;
    }
    fail(`${id} not re-driven`, r);
    return false;
  };

  try {
    if (command === 'list') {
      const status = typeof flags.status === 'string' ? flags.status : 'parked';
      let n = 0;
      for await (const d of all(status)) {
        n++;
        io.print(
          `${d.id} ${d.status} ${d.consumer} ${d.source.topic}/${d.source.partition}@${d.source.offset} ${d.eventType ?? '-'} ${d.error.code} ${d.parkedAt} ${d.error.message}`,
        );
      }
      io.print(`${n} dead letter(s)`);
      return 0;
    }
    if (command === 'redrive' && typeof flags.id === 'string') return (await redrive(flags.id)) ? 0 : 1;
    if (command === 'redrive' && flags.all === true) {
      // collected first: a re-driven record leaves the list of parked ones while we page through it
      const ids: string[] = [];
      for await (const d of all('parked')) ids.push(d.id);
      let failed = 0;
      for (const id of ids) if (!(await redrive(id))) failed++;
      io.print(`${ids.length - failed} of ${ids.length} re-driven`);
      return failed === 0 ? 0 : 1;
    }
  } catch (e) {
    if ((e as Error).message !== 'listing failed') throw e;
    return 1;
  }
  io.print(USAGE);
  return 2;
}
