import 'reflect-metadata';
import { createLogger } from '@csms/platform';
import { runServiceProcess } from '@csms/service-kit';
import { loadTariffServiceConfig } from './config';
import { startTariffService } from './service';

const cfg = loadTariffServiceConfig();
const logger = createLogger('tariff-service', cfg.LOG_LEVEL);
runServiceProcess(() => startTariffService(cfg, logger), logger).catch((e) => {
  logger.error({ err: e }, 'tariff service failed to start');
  process.exit(1);
});
