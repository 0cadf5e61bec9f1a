import 'reflect-metadata';
import { createLogger } from '@csms/platform';
import { runServiceProcess } from '@csms/service-kit';
import { loadSessionServiceConfig } from './config';
import { startSessionService } from './service';

const cfg = loadSessionServiceConfig();
const logger = createLogger('session-service', cfg.LOG_LEVEL);
runServiceProcess(() => startSessionService(cfg, logger), logger).catch((e) => {
  logger.error({ err: e }, 'session service failed to start');
  process.exit(1);
});
