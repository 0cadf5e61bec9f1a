/**
 * `npm start`: runs the whole CSMS on this machine.
 * - starts Kafka with infra/kafka/kafka.sh if none answers at KAFKA_BROKERS (its data survives restarts);
 * - builds the apps (tsc) and starts each service as its own process, logs prefixed and readable;
 * - each service creates its database and runs its migrations at start-up;
 * - waits until every /health/ready answers 200, then prints where the OCPP endpoint and the APIs are;
 * - Ctrl-C stops every service gracefully (SIGTERM, then SIGKILL after 20 s) and the Kafka it started.
 * On first run it creates a local admin API key and keeps it in ~/.config/csms/local.env (never in the repo).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { localEnv, localEnvCreatedNow } from './local-env';
import { withNice } from '@csms/platform';
import { PROCESSES as SERVICES, type ServiceDef } from './services';

const root = path.resolve(__dirname, '..');
const COLORS = [36, 35, 33, 32, 34, 31];
const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

function pretty(name: string, color: number, line: string): string {
  const tag = `\x1b[${color}m${name.padEnd(18)}\x1b[0m`;
  try {
    const j = JSON.parse(line) as Record<string, unknown>;
    const { level, time, msg, service: _s, pid: _p, hostname: _h, ...rest } = j;
    const t = typeof time === 'string' ? time.slice(11, 23) : '';
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${tag} ${t} ${levelNames[level as number] ?? level} ${msg ?? ''}${extra.length > 400 ? extra.slice(0, 400) + '…' : extra}`;
  } catch {
    return `${tag} ${line}`;
  }
}

async function waitReady(svc: ServiceDef, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${svc.name} exited with code ${child.exitCode} during start-up`);
    try {
      const r = await fetch(`http://127.0.0.1:${svc.httpPort}/health/ready`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${svc.name} was not ready within ${timeoutMs / 1000} s`);
}

async function main(): Promise<void> {
  const env = { ...localEnv(), ...process.env } as Record<string, string>;
  const kafkaWasUp = spawnSync('bash', ['infra/kafka/kafka.sh', 'status'], { cwd: root, env }).status === 0;
  if (!kafkaWasUp) {
    const k = spawnSync('bash', ['infra/kafka/kafka.sh', 'start'], { cwd: root, env, stdio: 'inherit' });
    if (k.status !== 0) throw new Error('could not start Kafka (see above)');
  }
  if (!process.argv.includes('--no-build')) {
    console.log('building…');
    const b = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, env, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('build failed');
    // the console's single-page app (Vite) into dist/console
    const c = spawnSync(process.execPath, ['--import', 'tsx', 'apps/console/scripts/build.ts'], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    if (c.status !== 0) throw new Error('console build failed');
  }

  const children: Array<{ svc: ServiceDef; child: ChildProcess }> = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping services…');
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
    const deadline = Date.now() + 20_000;
    while (children.some(({ child }) => child.exitCode === null && child.signalCode === null) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (!kafkaWasUp) spawnSync('bash', ['infra/kafka/kafka.sh', 'stop'], { cwd: root, env, stdio: 'inherit' });
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  SERVICES.forEach((svc, i) => {
    const main = path.join(root, 'dist', 'apps', svc.name, 'src', 'main.js');
    // the consumers at a lower CPU priority than the gateway (CONSUMER_NICE)
    const run = withNice(svc.nice, process.execPath, ['--enable-source-maps', ...svc.nodeArgs, main]);
    const child = spawn(run.command, run.args, {
      cwd: root,
      env: {
        ...env,
        ...svc.env,
        // the payment service reads tariffs (ad-hoc payment pages) with the local admin key unless given one
        ...(svc.name === 'payment-service' && !env.TARIFF_API_KEY && env.CSMS_ADMIN_KEY
          ? { TARIFF_API_KEY: env.CSMS_ADMIN_KEY }
          : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const color = COLORS[i % COLORS.length];
    for (const stream of [child.stdout!, child.stderr!])
      readline.createInterface({ input: stream }).on('line', (l) => console.log(pretty(svc.name, color, l)));
    child.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`${svc.name} exited (${signal ?? code}); stopping everything`);
        void stopAll(1);
      }
    });
    children.push({ svc, child });
  });

  // the console (apps/console): the built app and a same-origin proxy to each service's API
  const consolePort = Number(process.env.CONSOLE_HTTP_PORT ?? 3010);
  const port = (name: string) => String(SERVICES.find((s) => s.name === name)?.httpPort ?? '');
  const consoleSvc: ServiceDef = {
    name: 'console',
    httpPort: consolePort,
    env: {
      CONSOLE_HTTP_PORT: String(consolePort),
      GATEWAY_HTTP_PORT: port('ocpp-gateway'),
      SESSION_HTTP_PORT: port('session-service'),
      TARIFF_HTTP_PORT: port('tariff-service'),
      REPORTING_HTTP_PORT: port('reporting-service'),
      PAYMENT_HTTP_PORT: port('payment-service'),
    },
    nodeArgs: [],
    nice: 0,
    describe: () => [`console           http://127.0.0.1:${consolePort}   (sign in with an API key)`],
  };
  const consoleMain = path.join(root, 'dist', 'apps', 'console', 'server', 'main.js');
  if (existsSync(consoleMain)) {
    const consoleChild = spawn(process.execPath, [consoleMain], {
      cwd: root,
      env: { ...env, ...consoleSvc.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [consoleChild.stdout!, consoleChild.stderr!])
      readline.createInterface({ input: stream }).on('line', (l) => console.log(pretty('console', 37, l)));
    children.push({ svc: consoleSvc, child: consoleChild });
  } else console.log('the console is not built (npm start without --no-build builds it)');

  try {
    await Promise.all(children.map(({ svc, child }) => waitReady(svc, child, 180_000)));
  } catch (e) {
    console.error((e as Error).message);
    await stopAll(1);
    return;
  }
  console.log('\n\x1b[1mCSMS is running\x1b[0m');
  for (const svc of children.map((c) => c.svc)) for (const line of svc.describe()) console.log(`  ${line}`);
  if (localEnvCreatedNow() && env.CSMS_ADMIN_KEY) {
    console.log(
      `  admin API key (created now, shown this once): ${env.CSMS_ADMIN_KEY}   (kept in ~/.config/csms/local.env as CSMS_ADMIN_KEY)`,
    );
  } else {
    console.log('  admin API key: CSMS_ADMIN_KEY in ~/.config/csms/local.env (not printed again)');
  }
  console.log('  Ctrl-C stops everything.\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
