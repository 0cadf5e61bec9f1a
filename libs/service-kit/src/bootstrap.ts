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

/**
 * A route that also reads a text body of its own media types (a file as it is exported elsewhere, e.g. a PSP's CSV
 * report): `POST` to exactly `path` (with the /api/v1 prefix), read as a UTF-8 string of at most `limitBytes` into
 * the handler's `@Body()`. Every other route and media type stays JSON only.
 */
export interface TextBodyRoute {
  path: string;
  types: string[];
  limitBytes: number;
}

/**
 * A request that carries a body (not an empty one) of another media type than JSON, or than the text types its
 * route reads (`TextBodyRoute`): 415 (before the body is read). A text body's charset, when named, is UTF-8.
 */
function bodiesOfKnownTypes(textRoutes: readonly TextBodyRoute[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const carriesBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!carriesBody || req.is(JSON_TYPES) !== false) return next();
    // as the router matches: case-insensitive, a trailing slash allowed
    const path = req.path.replace(/\/+$/, '').toLowerCase();
    const text = textRoutes.find((r) => req.method === 'POST' && path === r.path.toLowerCase());
    if (text && req.is(text.types) !== false) {
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
      if (charset === undefined || /^utf-?8$/i.test(charset)) return next();
      const why = `a ${text.types.join(' or ')} body is UTF-8, got charset ${charset}`;
      return next(new ApiProblem(415, 'UNSUPPORTED_CHARSET', why, { field: 'Content-Type' }));
    }
    const accepted = text ? `JSON or ${text.types.join(' or ')}` : 'JSON (Content-Type: application/json)';
    next(
      new ApiProblem(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `bodies are ${accepted}, got ${req.headers['content-type'] ?? 'none'}`,
        { field: 'Content-Type' },
      ),
    );
  };
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
  /** routes that also read a text body (`TextBodyRoute`) */
  textBodies?: TextBodyRoute[];
}

/** Routes outside the /api/v1 prefix. */
export const UNPREFIXED_ROUTES = ['health/live', 'health/ready', 'metrics'];

/** how long an idle HTTP keep-alive connection stays open (above the common 60 s idle limit of load balancers) */
export const HTTP_KEEP_ALIVE_MS = 65_000;

/**
 * Creates a service's HTTP application the way every service does it: API under /api/v1, RFC 9457
 * errors, the edge rules on every input (EdgeInputPipe: depth, characters), JSON bodies only (and the text bodies of
 * `textBodies`' routes), OpenAPI at
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
  const textRoutes = opts.textBodies ?? [];
  app.use(bodiesOfKnownTypes(textRoutes));
  // body-parser's own errors (too large, charset, encoding, bad JSON, bad gzip) become problems in ProblemDetailsFilter
  app.use(express.json({ limit: httpBodyLimit(opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES), type: JSON_TYPES }));
  for (const r of textRoutes)
    app.use(r.path, express.text({ limit: r.limitBytes, type: r.types, defaultCharset: 'utf-8' }));
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
  // a route's text bodies, beside its JSON body: a string of each media type
  for (const r of textRoutes) {
    const post = doc.paths[r.path]?.post;
    if (!post) continue;
    const body = (post.requestBody ?? { required: true, content: {} }) as { content: Record<string, unknown> };
    post.requestBody = body as typeof post.requestBody;
    for (const t of r.types)
      body.content[t] = {
        schema: { type: 'string', description: `the file itself (UTF-8, at most ${r.limitBytes} bytes)` },
      };
  }
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
