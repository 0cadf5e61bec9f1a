import 'reflect-metadata';
import { createLogger } from '@csms/platform';
import { runServiceProcess } from '@csms/service-kit';
import { loadPaymentServiceConfig } from './config';
import { startPaymentService } from './service';

const cfg = loadPaymentServiceConfig();
const logger = createLogger('payment-service', cfg.LOG_LEVEL);
runServiceProcess(() => startPaymentService(cfg, logger), logger).catch((e) => {
  logger.error({ err: e }, 'payment service failed to start');
  process.exit(1);
});
