import 'reflect-metadata';
import { createLogger } from '@csms/platform';
import { loadSessionServiceConfig } from './config';
import { startSessionService } from './service';

async function main(): Promise<void> {
  const cfg = loadSessionServiceConfig();
  const logger = createLogger('session-service', cfg.LOG_LEVEL);
  const svc = await startSessionService(cfg, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing the batch in hand');
    svc.stop().then(
      () => process.exit(0),
      (e) => {
        logger.error({ err: e }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
