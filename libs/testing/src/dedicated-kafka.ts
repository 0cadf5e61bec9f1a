import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './processes';
import { TEST_SLACK } from './env';

const kafkaSh = path.resolve(__dirname, '../../../infra/kafka/kafka.sh');

export interface DedicatedKafkaOptions {
  /** JVM heap of the broker (default `-Xms128m -Xmx256m`) */
  heap?: string;
  /** seconds kafka.sh waits for the broker to answer (default 90) */
  startTimeoutS?: number;
}

/**
 * A single-node broker of its own for one test suite (free ports, a temporary data directory, a small
 * heap), started with `infra/kafka/kafka.sh` and the jars it caches, so that a test can kill, stop and
 * restart the broker without disturbing the shared one at KAFKA_BROKERS.
 */
export interface DedicatedKafka {
  /** `['127.0.0.1:<port>']` */
  readonly brokers: string[];
  readonly dataDir: string;
  /** the broker JVM's pid while it runs */
  pid(): number | undefined;
  /** SIGKILL the JVM (a crash: no clean shutdown, no flush) and wait until the port refuses connections */
  kill(): Promise<void>;
  /** clean stop (`kafka.sh stop`: SIGTERM, the broker closes its logs) */
  stop(): Promise<void>;
  /** start again on the same ports and data (waits until it answers) */
  restart(): Promise<void>;
  /** stop it however it is and delete its data directory */
  destroy(): Promise<void>;
  /** the broker's log (for a failing test's message) */
  log(): string;
}

function answers(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => done(true));
  });
}

/** alive = exists and is not a zombie (a killed broker is reparented and may linger as a zombie) */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function run(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [kafkaSh, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`kafka.sh ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
}

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const limit = timeoutMs * TEST_SLACK;
  const deadline = Date.now() + limit;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limit} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const running = new Set<number>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // the broker is started with setsid and would outlive a test process that dies without its afterAll
  process.once('exit', () => {
    for (const pid of running) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export async function startDedicatedKafka(opts: DedicatedKafkaOptions = {}): Promise<DedicatedKafka> {
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'csms-kafka-'));
  const env = {
    KAFKA_BROKERS: `127.0.0.1:${port}`,
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DATA_DIR: dataDir,
    KAFKA_HEAP_OPTS: opts.heap ?? '-Xms128m -Xmx256m',
    KAFKA_START_TIMEOUT: String(opts.startTimeoutS ?? 90),
  };
  const pidFile = path.join(dataDir, 'broker.pid');
  const pid = (): number | undefined => {
    if (!existsSync(pidFile)) return undefined;
    const n = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(n) && n > 0 && alive(n) ? n : undefined;
  };
  killAllOnExit();
  const start = async () => {
    await run(['start'], env);
    const p = pid();
    if (p === undefined) throw new Error(`the dedicated broker on port ${port} did not leave a pid`);
    running.add(p);
  };
  const kill = async () => {
    const p = pid();
    if (p !== undefined) {
      process.kill(p, 'SIGKILL');
      running.delete(p);
      await until(`broker pid ${p} to die`, () => !alive(p), 30_000);
    }
    await until(`port ${port} to refuse connections`, async () => !(await answers(port)), 30_000);
  };
  const stop = async () => {
    const p = pid();
    await run(['stop'], env);
    if (p !== undefined) running.delete(p);
    await until(`port ${port} to refuse connections`, async () => !(await answers(port)), 30_000);
  };
  await start();
  return {
    brokers: [env.KAFKA_BROKERS],
    dataDir,
    pid,
    kill,
    stop,
    restart: start,
    destroy: async () => {
      await kill().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
    log: () => {
      try {
        return readFileSync(path.join(dataDir, 'broker.log'), 'utf8');
      } catch {
        return '';
      }
    },
  };
}
