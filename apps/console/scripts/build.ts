/**
 * `tsx apps/console/scripts/build.ts` (npm run console:build): builds the single-page app with Vite into
 * dist/console (served by apps/console/server). Vite 8 transforms TSX itself (Oxc, the automatic JSX runtime):
 * no React plugin is needed for a production build.
 */
import path from 'node:path';

export const WEB_ROOT = path.resolve(__dirname, '..', 'web');
export const OUT_DIR = path.resolve(__dirname, '..', '..', '..', 'dist', 'console');

interface RolldownLog {
  code?: string;
}
/** the part of Vite's API used here (its types resolve only under 'bundler' resolution, not the repository's 'node') */
interface Vite {
  build(config: Record<string, unknown>): Promise<unknown>;
}
const VITE = 'vite';

export async function buildConsole(outDir = OUT_DIR): Promise<void> {
  const { build } = (await import(VITE)) as Vite;
  await build({
    root: WEB_ROOT,
    configFile: false,
    logLevel: 'warn',
    oxc: { jsx: { runtime: 'automatic' } },
    build: {
      outDir,
      emptyOutDir: true,
      sourcemap: true,
      chunkSizeWarningLimit: 2000,
      rolldownOptions: {
        // TanStack's 'use client' markers mean nothing in a client-only bundle
        onLog(level: string, log: RolldownLog, handler: (level: string, log: RolldownLog) => void) {
          if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
          handler(level, log);
        },
      },
    },
  });
}

if (require.main === module) {
  const t0 = performance.now();
  // --out DIR: build there instead (the browser test builds into a temporary folder)
  const i = process.argv.indexOf('--out');
  const out = i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : OUT_DIR;
  buildConsole(out)
    .then(() =>
      console.log(
        `console built into ${path.relative(process.cwd(), out)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      ),
    )
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
