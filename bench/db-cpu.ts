import { readFileSync, readdirSync } from 'node:fs';
import { Client } from 'pg';

/**
 * CPU (user + system, ms) of the PostgreSQL backends serving `poll`'s database, by process id, read from /proc (none
 * where /proc does not show them: a database on another host or in a container). `poll`'s own backend is left out.
 */
export async function dbCpu(poll: Client): Promise<Map<number, number>> {
  const { rows } = await poll.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  return cpuOfPids(rows.map((r) => r.pid));
}

/** CPU (user + system, ms) of processes of this host, by process id (those /proc does not show are left out). */
export function cpuOfPids(pids: Iterable<number>): Map<number, number> {
  const ms = new Map<number, number>();
  for (const pid of pids) {
    const v = procCpuMs(pid);
    if (v !== undefined) ms.set(pid, v);
  }
  return ms;
}

/** CPU (user + system, ms) of a process of this host, from /proc (undefined when it is not readable). */
export function procCpuMs(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * (1000 / 100); // clock ticks of USER_HZ 100
  } catch {
    return undefined; // not on this host, or gone
  }
}

/**
 * The backends' CPU since `before` (a backend started since counts whole). A backend gone since is not counted, unless
 * `seen` is given: each call notes there the CPU of every backend it finds, and a backend gone counts what it had at
 * the last call that found it (call it often, e.g. every second, where connections come and go during a phase).
 */
export async function dbCpuSince(
  poll: Client,
  before: Map<number, number>,
  seen?: Map<number, number>,
): Promise<number> {
  const now = await dbCpu(poll);
  if (seen) for (const [pid, v] of now) seen.set(pid, v);
  let ms = 0;
  for (const [pid, v] of seen ?? now) ms += v - (before.get(pid) ?? 0);
  return ms;
}

/**
 * Starts reading, every second, the CPU (user + system) of the PostgreSQL backends serving the database at `url`
 * (from /proc: 0 where it does not show them); the function returned stops and gives the seconds in all. A backend
 * that closes meanwhile (a pool's idle connection) keeps what it had used at the last reading. Call it once the
 * database is new (e.g. after a rebuild): every backend found counts whole.
 */
export async function watchDbCpu(url: string): Promise<() => Promise<number>> {
  const poll = new Client({ connectionString: url });
  await poll.connect();
  const before = new Map<number, number>();
  const seen = new Map<number, number>();
  const timer = setInterval(() => void dbCpuSince(poll, before, seen).catch(() => undefined), 1000);
  return async () => {
    clearInterval(timer);
    const ms = await dbCpuSince(poll, before, seen);
    await poll.end();
    return Number((ms / 1000).toFixed(1));
  };
}

/** every PostgreSQL and Kafka process with its CPU now: backends by database name, the rest as `postgres` / `kafka` */
export function infraCpu(databases: Map<string, string>): Map<number, { who: string; ms: number }> {
  const out = new Map<number, { who: string; ms: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    let who: string | undefined;
    if (cmd.startsWith('postgres')) {
      who = 'postgres (other)';
      for (const [db, service] of databases) if (cmd.includes(` ${db} `)) who = `postgres: ${service}`;
    } else if (cmd.includes('kafka.Kafka')) who = 'kafka broker';
    if (!who) continue;
    const ms = procCpuMs(pid);
    if (ms !== undefined) out.set(pid, { who, ms });
  }
  return out;
}
