import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Registry } from 'prom-client';
import type { Logger } from '@csms/platform';
import { ACCESS_OPTIONS, type AccessOptions } from './access';
import { ApiKeyStore, type ApiKeyEntry } from './api-keys';
import { ApiKeyGuard } from './auth.guard';
import { HealthController, HealthRegistry } from './health';
import { MetricsController, createMetricsRegistry } from './metrics';

export const LOGGER = Symbol('csms:logger');

export interface ServiceKitOptions {
  service: string;
  apiKeys: readonly ApiKeyEntry[];
  logger: Logger;
  /** defaults to a new registry with Node.js default metrics */
  metrics?: Registry;
  /** who may read /metrics and the API description (default: open) */
  access?: AccessOptions;
}

/**
 * What every service has: the API-key guard on every route (deny by default), /health/live,
 * /health/ready (checks registered in HealthRegistry), /metrics, and the process logger.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(opts: ServiceKitOptions): DynamicModule {
    return {
      module: ServiceKitModule,
      global: true,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: ApiKeyStore, useValue: new ApiKeyStore(opts.apiKeys) },
        { provide: Registry, useValue: opts.metrics ?? createMetricsRegistry(opts.service) },
        { provide: LOGGER, useValue: opts.logger },
        { provide: ACCESS_OPTIONS, useValue: opts.access ?? {} },
        HealthRegistry,
        { provide: APP_GUARD, useClass: ApiKeyGuard },
      ],
      exports: [ApiKeyStore, Registry, LOGGER, HealthRegistry, ACCESS_OPTIONS],
    };
  }
}
