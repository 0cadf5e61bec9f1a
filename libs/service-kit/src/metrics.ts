import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ACCESS_OPTIONS, checkMetricsAccess, type AccessOptions } from './access';
import { ApiKeyStore } from './api-keys';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { Public } from './auth.guard';

/** One Prometheus registry per service process (default Node.js metrics plus the service's own). */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Open unless `METRICS_TOKEN_SHA256` is set (then the token or an admin API key: see access.ts). */
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(Registry) private readonly registry: Registry,
    @Inject(ACCESS_OPTIONS) private readonly access: AccessOptions,
    @Inject(ApiKeyStore) private readonly keys: ApiKeyStore,
  ) {}

  @Get()
  async metrics(@Req() req: Request, @Res() res: Response): Promise<void> {
    checkMetricsAccess(req, this.access, this.keys);
    res.type(this.registry.contentType).send(await this.registry.metrics());
  }
}
