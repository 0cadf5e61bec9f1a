import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { declarePathParameters } from './openapi-path-params';
import type { NextFunction, Request, Response } from 'express';
import { DEFAULT_MAX_MESSAGE_BYTES, httpBodyLimit } from '@csms/messaging';
import type { Logger } from '@csms/platform';
import { ACCESS_OPTIONS, docsAccess, type AccessOptions } from './access';
import { ApiKeyStore } from './api-keys';
import { EdgeInputPipe } from './edge';
import { ApiProblem, ProblemDetailsFilter, bodyParserProblem } from './problem';
import { requestIdMiddleware } from './request-id';

/** The JSON media types the APIs read. */
const JSON_TYPES = ['application/json', 'application/*+json'];

/** A request that carries a body (not an empty one) of another media type than JSON: 415 (before the body is read). */
function jsonBodiesOnly(req: Request, _res: Response, next: NextFunction): void {
  const carriesBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (carriesBody && req.is(JSON_TYPES) === false) {
    next(
      new ApiProblem(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `bodies are JSON (Content-Type: application/json), got ${req.headers['content-type'] ?? 'none'}`,
        { field: 'Content-Type' },
      ),
    );
    return;
  }
  next();
}

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
  /** routes of the service's own outside the /api/v1 prefix (a standard's path, e.g. OCPI's `ocpi/2.2.1/cdrs`) */
  unprefixedRoutes?: string[];
}

/** Routes outside the /api/v1 prefix. */
export const UNPREFIXED_ROUTES = ['health/live', 'health/ready', 'metrics'];

/** how long an idle HTTP keep-alive connection stays open (above the common 60 s idle limit of load balancers) */
export const HTTP_KEEP_ALIVE_MS = 65_000;

/**
 * Creates a service's HTTP application the way every service does it: API under /api/v1, RFC 9457
 * errors, the edge rules on every input (EdgeInputPipe: depth, characters), JSON bodies only, OpenAPI at
 * /docs and /openapi.json, a request id per request (x-request-id, taken if well-formed or made, echoed,
 * logged with every error and returned in every problem), JSON logs. Signals are the service's own `main.ts` business (it stops consuming, commits, then closes
 * the app); Nest's shutdown hooks are not enabled because they would exit before that finishes.
 */
export async function createHttpService(
  module: Type<unknown> | DynamicModule,
  opts: HttpServiceOptions,
): Promise<INestApplication> {
  const app = await NestFactory.create(module, { logger: new PinoNestLogger(opts.logger), bodyParser: false });
  const express = await import('express');
  app.use(requestIdMiddleware);
  app.use(jsonBodiesOnly);
  // body-parser's own errors (too large, charset, encoding, bad JSON, bad gzip) become problems in ProblemDetailsFilter
  app.use(express.json({ limit: httpBodyLimit(opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES), type: JSON_TYPES }));
  app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => next(bodyParserProblem(err) ?? err));
  app.setGlobalPrefix('api/v1', { exclude: [...UNPREFIXED_ROUTES, ...(opts.unprefixedRoutes ?? [])] });
  app.useGlobalFilters(new ProblemDetailsFilter(opts.logger));
  app.useGlobalPipes(new EdgeInputPipe());
  const doc = declarePathParameters(
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle(opts.title)
        .setDescription(opts.description ?? '')
        .setVersion(opts.version ?? '1')
        .addBearerAuth({
          type: 'http',
          scheme: 'bearer',
          description: 'API key; roles: operator, finance, integration, admin',
        })
        .addSecurityRequirements('bearer')
        .build(),
    ),
  );
  // the API description is open unless DOCS_REQUIRE_KEY (ServiceKitModule's access options) says otherwise
  const access = app.get<AccessOptions>(ACCESS_OPTIONS, { strict: false });
  const guardDocs = docsAccess(access ?? {}, () => app.get(ApiKeyStore, { strict: false }));
  app.use(['/docs', '/openapi.json'], guardDocs);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'openapi.json' });
  // Idle keep-alive connections stay open longer than a load balancer's or client's idle limit (commonly 60 s),
  // so the client, not this server, closes them: a request sent on a connection the server has just closed would
  // fail with ECONNRESET. Node's default (5 s) loses that race on a busy machine.
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = HTTP_KEEP_ALIVE_MS;
  server.headersTimeout = HTTP_KEEP_ALIVE_MS + 1000;
  return app;
}
