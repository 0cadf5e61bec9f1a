import 'reflect-metadata';
import { createLogger } from '@csms/platform';
import { runServiceProcess } from '@csms/service-kit';
import { loadReportingServiceConfig } from './config';
import { startReportingService } from './service';

const cfg = loadReportingServiceConfig();
const logger = createLogger('reporting-service', cfg.LOG_LEVEL);
runServiceProcess(() => startReportingService(cfg, logger), logger).catch((e) => {
  logger.error({ err: e }, 'reporting service failed to start');
  process.exit(1);
});
