import 'reflect-metadata';
import { createLogger } from '@csms/platform';
import { isClusterPrimary, reportWorkerReady, runGatewayPrimary } from './cluster';
import { loadGatewayConfig, type GatewayConfig } from './config';

const logger = createLogger('ocpp-gateway');

async function start(config: GatewayConfig): Promise<{ stop(): Promise<void> }> {
  // loaded here, not at the top: a cluster primary (which only hands connections over) stays small
  const { createHttpService } = await import('@csms/service-kit');
  const { GatewayModule } = await import('./gateway.module');
  const app = await createHttpService(GatewayModule.forRoot(config, logger), {
    service: 'ocpp-gateway',
    title: 'OCPP gateway',
    description: 'Station and id-token registry and remote operations of the OCPP gateway',
    logger,
    maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
  });
  await app.listen(config.HTTP_PORT);
  logger.info({ httpPort: config.HTTP_PORT, instance: config.GATEWAY_INSTANCE }, 'ocpp-gateway ready');
  reportWorkerReady();
  // app.close() runs GatewayLifecycle.onApplicationShutdown: stations get 1001 Going Away, queued records are flushed
  return { stop: () => app.close() };
}

let config: GatewayConfig;
try {
  config = loadGatewayConfig();
} catch (e) {
  logger.error({ err: e }, (e as Error).message);
  process.exit(1);
}
if (isClusterPrimary(config.GATEWAY_WORKERS)) {
  runGatewayPrimary(config.GATEWAY_WORKERS, config.GATEWAY_INSTANCE, logger);
} else {
  void import('@csms/service-kit').then(({ runServiceProcess }) =>
    runServiceProcess(() => start(config), logger).catch((e) => {
      logger.error({ err: e }, 'ocpp-gateway failed to start');
      process.exit(1);
    }),
  );
}
