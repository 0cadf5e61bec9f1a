import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { DEFAULT_MAX_MESSAGE_BYTES, httpBodyLimit } from '@csms/messaging';
import type { Logger } from '@csms/platform';
import { ProblemDetailsFilter } from './problem';

/** Nest's own log lines, as pino JSON lines. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  // Nest's own start-up chatter (modules, routes) is debug; warnings and errors keep their level
  log(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
}

export interface HttpServiceOptions {
  service: string;
  title: string;
  description?: string;
  version?: string;
  logger: Logger;
  /**
   * The topics' `max.message.bytes` (KAFKA_MAX_MESSAGE_BYTES, default 1 MiB). The largest JSON body accepted is
   * derived from it (`httpBodyLimit`: minus the envelope margin), so a body that is accepted fits in a record;
   * a bigger one is a 413 problem `PAYLOAD_TOO_LARGE` with the `limit` in bytes.
   */
  maxMessageBytes?: number;
}

/** Routes outside the /api/v1 prefix. */
export const UNPREFIXED_ROUTES = ['health/live', 'health/ready', 'metrics'];

/**
 * Creates a service's HTTP application the way every service does it: API under /api/v1, RFC 9457
 * errors, OpenAPI at /docs and /openapi.json, a correlation id per request (x-correlation-id, echoed),
 * JSON logs. Signals are the service's own `main.ts` business (it stops consuming, commits, then closes
 * the app); Nest's shutdown hooks are not enabled because they would exit before that finishes.
 */
export async function createHttpService(module: unknown, opts: HttpServiceOptions): Promise<INestApplication> {
  const app = await NestFactory.create(module as never, { logger: new PinoNestLogger(opts.logger), bodyParser: false });
  const express = await import('express');
  app.use(express.json({ limit: httpBodyLimit(opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES), type: ['application/json', 'application/*+json'] }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    const id = (req.headers['x-correlation-id'] as string | undefined) ?? randomUUID();
    req.headers['x-correlation-id'] = id;
    res.setHeader('x-correlation-id', id);
    next();
  });
  app.setGlobalPrefix('api/v1', { exclude: UNPREFIXED_ROUTES });
  app.useGlobalFilters(new ProblemDetailsFilter(opts.logger));
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(opts.title)
      .setDescription(opts.description ?? '')
      .setVersion(opts.version ?? '1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key; roles: operator, finance, integration, admin' })
      .addSecurityRequirements('bearer')
      .build(),
  );
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'openapi.json' });
  return app;
}
