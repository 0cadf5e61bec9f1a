/**
 * Working on the console: `npx tsx test/e2e/console-dev.ts` starts the whole system with test databases and
 * topics (console-system.ts), seeds it (console-seed.ts), builds the console and serves it at
 * http://127.0.0.1:3010 (`CONSOLE_HTTP_PORT`), and prints the URLs and the API keys of the three roles as JSON.
 * Ctrl-C stops everything (databases dropped). Rebuild the app with `npx tsx apps/console/scripts/build.ts` and
 * reload the page.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startConsoleServer } from '../../apps/console/server';
import { seedConsoleData } from './console-seed';
import { startSystem } from './console-system';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'apps/console/scripts/build.ts'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('console build failed');
  const sys = await startSystem('consoledev');
  const seeded = await seedConsoleData({
    gatewayUrl: sys.urls['ocpp-gateway'],
    tariffUrl: sys.urls['tariff-service'],
    paymentUrl: sys.urls['payment-service'],
    psp: sys.psp,
    ocppUrl: sys.ocppUrl,
    adminKey: sys.keys.admin,
    speed: 60,
  });
  const { url, server } = await startConsoleServer({
    staticDir: path.join(root, 'dist', 'console'),
    port: Number(process.env.CONSOLE_HTTP_PORT ?? 3010),
    upstreams: sys.consoleUpstreams,
  });
  console.log(
    JSON.stringify(
      { console: url, urls: sys.urls, ocppUrl: sys.ocppUrl, keys: sys.keys, sessions: seeded.sessionsCompleted },
      null,
      2,
    ),
  );
  const stop = () =>
    void seeded
      .stop()
      .then(() => server.close())
      .then(() => sys.stop())
      .then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
