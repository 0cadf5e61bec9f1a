/**
 * Working on the console: `npx tsx test/e2e/console-dev.ts` starts the whole system with test databases and
 * topics (see console-system.ts), seeds it (console-seed.ts), prints the services' URLs and the API keys as
 * JSON, and stops everything on Ctrl-C (databases dropped).
 */
import { startSystem } from './console-system';
import { seedConsoleData } from './console-seed';

async function main(): Promise<void> {
  const sys = await startSystem('consoledev');
  console.log(JSON.stringify({ urls: sys.urls, ocppUrl: sys.ocppUrl, keys: sys.keys }, null, 2));
  const seeded = await seedConsoleData({
    gatewayUrl: sys.urls['ocpp-gateway'],
    tariffUrl: sys.urls['tariff-service'],
    ocppUrl: sys.ocppUrl,
    adminKey: sys.keys.admin,
  });
  console.error(`seeded: ${seeded.sessionsCompleted} sessions`);
  const stop = () =>
    void seeded
      .stop()
      .then(() => sys.stop())
      .then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
