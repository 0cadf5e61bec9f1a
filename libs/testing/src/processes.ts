import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { withNice } from '@csms/platform';
import { TEST_SLACK } from './env';

const repoRoot = path.resolve(__dirname, '../../..');

/** the ports `freePort` has handed out in this process */
const handedOut = new Set<number>();

/**
 * A TCP port free right now on 127.0.0.1 (the OS picks it), never one this process was given before: the OS may pick a
 * port it just gave back, and two services of one system started on the same port leave one of them unreachable (the
 * other answers its requests: a 404 from the wrong service, seen once in CI).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await osPort();
    if (!handedOut.has(port) || attempt >= 50) {
      handedOut.add(port);
      return port;
    }
  }
}

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The CPU priority (nice) of each thread of a running process (Linux: field 19 of /proc/<pid>/task/<tid>/stat). */
export function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // the fields after the command's parentheses start at field 3
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

export interface ServiceProcess {
  name: string;
  url: string;
  env: Record<string, string>;
  child: ChildProcess;
  /** what the process wrote to stderr and stdout (last 200 lines) */
  output(): string;
  /** every log line at level error or fatal (pino level >= 50) the process wrote since it started, in full */
  errorLines(): string[];
  /** resolves with the exit code (null when killed by a signal) */
  exited(): Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * How a service's process starts: its TypeScript through the tsx loader (the tests, and the benchmarks by default), or,
 * with `SERVICES_FROM_DIST=1`, the compiled `dist/apps/<name>/src/main.js` as `npm start` runs it (`npm run build`
 * first). tsx compiles with esbuild's `keepNames`, which wraps every named closure made at run time in an
 * `Object.defineProperty`, and maps stack traces through source maps: a benchmark of the compiled code measures what
 * a deployment runs.
 */
export function serviceMain(name: string): string[] {
  if (process.env.SERVICES_FROM_DIST !== '1') return ['--import', 'tsx', `apps/${name}/src/main.ts`];
  const main = path.join(repoRoot, 'dist', 'apps', name, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`SERVICES_FROM_DIST=1: ${main} is missing (npm run build)`);
  return [main];
}

/**
 * Runs `apps/<name>/src/main.ts` as its own process (Node + tsx loader; the compiled service: `serviceMain`), with `env` on top of this
 * process's environment, and waits until its `/health/ready` answers 200 on `HTTP_PORT`. `nodeArgs`: Node flags of
 * the process (e.g. the young-generation size `npm start` gives the consumers, or `--cpu-prof`); `nice`: its CPU
 * priority, set through `nice(1)` so that every thread of it has it (the priority `npm start` gives the consumers).
 */
export async function startServiceProcess(
  name: string,
  env: Record<string, string>,
  readyTimeoutMs = 90_000,
  nodeArgs: readonly string[] = [],
  nice = 0,
): Promise<ServiceProcess> {
  const run = withNice(nice, process.execPath, [...nodeArgs, ...serviceMain(name)]);
  const child = spawn(run.command, run.args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const errors: string[] = [];
  const isError = (line: string) => {
    if (!line.startsWith('{')) return false;
    try {
      return ((JSON.parse(line) as { level?: unknown }).level as number) >= 50;
    } catch {
      return false;
    }
  };
  // a chunk may end in the middle of a line: keep the rest until the next one
  const keeper = () => {
    let rest = '';
    return (d: Buffer) => {
      const parts = (rest + d.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      const complete = parts.filter(Boolean);
      lines.push(...complete);
      errors.push(...complete.filter(isError));
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    };
  };
  child.stdout!.on('data', keeper());
  child.stderr!.on('data', keeper());
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${env.HTTP_PORT}`;
  const deadline = Date.now() + readyTimeoutMs * TEST_SLACK;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited during start-up:\n${lines.join('\n')}`);
    try {
      const r = await fetch(`${url}/health/ready`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within ${readyTimeoutMs * TEST_SLACK} ms:\n${lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name,
    url,
    env,
    child,
    output: () => lines.join('\n'),
    errorLines: () => [...errors],
    exited: () => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : exit),
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
