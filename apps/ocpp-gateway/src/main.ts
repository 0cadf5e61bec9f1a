import 'reflect-metadata';
import { createLogger } from '@csms/platform';
import { createHttpService, runServiceProcess } from '@csms/service-kit';
import { loadGatewayConfig, type GatewayConfig } from './config';
import { GatewayModule } from './gateway.module';

const logger = createLogger('ocpp-gateway');

async function start(config: GatewayConfig): Promise<{ stop(): Promise<void> }> {
  const app = await createHttpService(GatewayModule.forRoot(config, logger), {
    service: 'ocpp-gateway',
    title: 'OCPP gateway',
    description: 'Station and id-token registry and remote operations of the OCPP gateway',
    logger,
  });
  await app.listen(config.HTTP_PORT);
  logger.info({ httpPort: config.HTTP_PORT }, 'ocpp-gateway ready');
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
runServiceProcess(() => start(config), logger).catch((e) => {
  logger.error({ err: e }, 'ocpp-gateway failed to start');
  process.exit(1);
});
