/**
 * `node dist/apps/console/server/main.js` (or `tsx apps/console/server/main.ts`): the console at
 * http://127.0.0.1:3010 (`CONSOLE_HTTP_PORT`), forwarding to the services at their `npm start` ports
 * (`GATEWAY_HTTP_PORT`, `SESSION_HTTP_PORT`, `TARIFF_HTTP_PORT`, `REPORTING_HTTP_PORT`, `PAYMENT_HTTP_PORT`, or full
 * URLs in `CONSOLE_GATEWAY_URL`, `CONSOLE_SESSIONS_URL`, `CONSOLE_TARIFFS_URL`, `CONSOLE_REPORTING_URL`,
 * `CONSOLE_PAYMENTS_URL`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { consoleUpstreams, startConsoleServer } from './index';

/** The repository root (the folder holding package.json), from here or from the compiled dist/apps/console/server. */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

async function main(): Promise<void> {
  const port = Number(process.env.CONSOLE_HTTP_PORT ?? 3010);
  const staticDir = process.env.CONSOLE_STATIC_DIR ?? path.join(repoRoot(), 'dist', 'console');
  const { url } = await startConsoleServer({
    staticDir: path.isAbsolute(staticDir) ? staticDir : path.resolve(process.cwd(), staticDir),
    upstreams: consoleUpstreams(process.env),
    port,
    host: process.env.CONSOLE_HTTP_HOST ?? '127.0.0.1',
  });
  console.log(`console ${url}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
