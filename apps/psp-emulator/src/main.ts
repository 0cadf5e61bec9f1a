/**
 * `npm run psp-emulator` (tsx apps/psp-emulator/src/main.ts): the local PSP emulator as a process, configured by
 * environment variables (config.ts, README.md). Stops on SIGTERM / SIGINT.
 */
import { createLogger } from '@csms/platform';
import { loadPspEmulatorConfig } from './config';
import { startPspEmulator } from './emulator';

async function main(): Promise<void> {
  const log = createLogger('psp-emulator');
  const c = loadPspEmulatorConfig();
  const emulator = await startPspEmulator({
    host: c.HTTP_HOST,
    port: c.HTTP_PORT,
    publicUrl: c.PSP_EMULATOR_PUBLIC_URL,
    webhookUrl: c.PSP_EMULATOR_WEBHOOK_URL,
    webhookSecret: c.PSP_EMULATOR_WEBHOOK_SECRET,
    apiKey: c.PSP_EMULATOR_API_KEY,
    stateFile: c.PSP_EMULATOR_STATE_FILE,
    holdSeconds: c.PSP_EMULATOR_HOLD_SECONDS,
    feeBps: c.PSP_EMULATOR_FEE_BPS,
    feeFixedMinor: c.PSP_EMULATOR_FEE_FIXED_MINOR,
    webhookMaxAttempts: c.PSP_EMULATOR_WEBHOOK_MAX_ATTEMPTS,
    webhookConcurrency: c.PSP_EMULATOR_WEBHOOK_CONCURRENCY,
  });
  log.info(
    { url: emulator.url, webhookUrl: c.PSP_EMULATOR_WEBHOOK_URL ?? null, stateFile: c.PSP_EMULATOR_STATE_FILE ?? null },
    'psp emulator listening',
  );
  const stop = (signal: string) => {
    log.info({ signal }, 'psp emulator stopping');
    emulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
