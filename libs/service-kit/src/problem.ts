import { ArgumentsHost, Catch, HttpException, HttpStatus, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CsmsError } from '@csms/contracts';
import type { Logger } from '@csms/platform';
import { requestIdOf } from './request-id';

/** RFC 9457 problem details, with our stable machine `code`, the `field` at fault and the request id. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  field?: string;
  instance?: string;
  requestId?: string;
  errors?: Array<{ field: string; detail: string }>;
  /** 413: the largest size accepted, in bytes (the body limit, or the topic's record limit) */
  limit?: number;
  /** 413: the size refused, in bytes, when known */
  size?: number;
}

/** An error an HTTP handler throws on purpose: becomes a problem+json response. */
export class ApiProblem extends CsmsError {
  constructor(
    readonly status: number,
    code: string,
    detail: string,
    opts: { field?: string; errors?: Array<{ field: string; detail: string }>; limit?: number; size?: number } = {},
  ) {
    super(code, detail, {
      field: opts.field,
      details:
        opts.errors || opts.limit !== undefined
          ? { errors: opts.errors, limit: opts.limit, size: opts.size }
          : undefined,
    });
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemType(code: string): string {
  return `urn:csms:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

const problem = (
  status: number,
  code: string,
  detail: string,
  extra: Partial<ProblemDetails> = {},
): ProblemDetails => ({
  type: problemType(code),
  title: TITLES[status] ?? 'Error',
  status,
  detail,
  code,
  ...extra,
});

/** body-parser's error types (express.json), each the client's fault. */
const BODY_ERRORS: Record<string, { status: number; code: string; field?: string }> = {
  'entity.too.large': { status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'body' },
  'entity.parse.failed': { status: 400, code: 'INVALID_JSON', field: 'body' },
  'entity.verify.failed': { status: 400, code: 'INVALID_JSON', field: 'body' },
  'charset.unsupported': { status: 415, code: 'UNSUPPORTED_CHARSET', field: 'Content-Type' },
  'encoding.unsupported': { status: 415, code: 'UNSUPPORTED_ENCODING', field: 'Content-Encoding' },
  'request.aborted': { status: 400, code: 'REQUEST_ABORTED' },
  'request.size.invalid': { status: 400, code: 'INVALID_CONTENT_LENGTH', field: 'Content-Length' },
  'parameters.too.many': { status: 413, code: 'TOO_MANY_PARAMETERS' },
};

/**
 * PostgreSQL errors a client's value can cause when it slipped past the edge validation (a last line of
 * defence, not the way to validate): SQLSTATE class 22 (data exception: invalid text representation,
 * datetime out of range, character not in repertoire, numeric out of range, …) and 54001 (statement too complex).
 */
function clientDatabaseError(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code =
    typeof e.driverError?.code === 'string' ? e.driverError.code : typeof e.code === 'string' ? e.code : undefined;
  return code && /^(22[0-9A-Z]{3}|54001)$/.test(code) ? code : undefined;
}

/** An http-errors error (express, body-parser, the router) meant for the client: a 4xx `status` with `expose`. */
function clientHttpError(
  err: unknown,
): { status: number; type?: string; message: string; limit?: number; length?: number } | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
    type?: unknown;
    limit?: unknown;
    length?: unknown;
  };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499) return undefined;
  return {
    status,
    type: typeof e.type === 'string' ? e.type : undefined,
    message: e.message,
    limit: typeof e.limit === 'number' ? e.limit : undefined,
    length: typeof e.length === 'number' ? e.length : undefined,
  };
}

/**
 * body-parser's error as the problem it is (Nest would otherwise turn its JSON SyntaxError into a bare 400
 * BAD_REQUEST and the other types into a 500); undefined for any other error. createHttpService installs it
 * as an error middleware right after the JSON parser.
 */
export function bodyParserProblem(err: unknown): ApiProblem | undefined {
  const http = clientHttpError(err);
  if (http && http.status === 400 && /^Z_/.test(String((err as { code?: unknown }).code))) {
    return new ApiProblem(
      400,
      'INVALID_JSON',
      `the body does not inflate as its Content-Encoding says: ${http.message}`,
      { field: 'body' },
    );
  }
  const known = http?.type ? BODY_ERRORS[http.type] : undefined;
  if (!http || !known) return undefined;
  if (known.code === 'PAYLOAD_TOO_LARGE') {
    const detail =
      http.limit === undefined
        ? 'the body is larger than accepted'
        : `request body above the limit of ${http.limit} bytes`;
    return new ApiProblem(413, known.code, detail, { field: known.field, limit: http.limit, size: http.length });
  }
  return new ApiProblem(
    known.status,
    known.code,
    known.code === 'INVALID_JSON' ? `the body is not JSON: ${http.message}` : http.message,
    { field: known.field },
  );
}

export function toProblem(err: unknown): ProblemDetails {
  if (err instanceof ApiProblem) {
    const errors = (err.details?.errors as ProblemDetails['errors']) ?? undefined;
    const limit = err.details?.limit as number | undefined;
    const size = err.details?.size as number | undefined;
    return problem(err.status, err.code, err.message, {
      field: err.field,
      ...(errors ? { errors } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(size !== undefined ? { size } : {}),
    });
  }
  // an event the request would emit is above its topic's record limit (appendToOutbox refused it; nothing was stored)
  if (err instanceof CsmsError && err.code === 'RECORD_TOO_LARGE') {
    const d = err.details as { limit: number; size: number };
    return problem(
      413,
      err.code,
      `the event this request makes would be ${d.size} bytes, above the limit of ${d.limit} bytes per record: nothing was stored`,
      { limit: d.limit, size: d.size },
    );
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code =
      status === 404
        ? 'NOT_FOUND'
        : status === 413
          ? 'PAYLOAD_TOO_LARGE'
          : status === 400
            ? 'BAD_REQUEST'
            : `HTTP_${status}`;
    const body = err.getResponse();
    const detail = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? err.message);
    return problem(status, code, Array.isArray(detail) ? detail.join('; ') : String(detail));
  }
  if (err instanceof CsmsError && err.code === 'INVALID_PAYLOAD')
    return problem(422, err.code, err.message, { field: err.field });
  const body = bodyParserProblem(err);
  if (body) return toProblem(body);
  const http = clientHttpError(err);
  if (http) {
    // e.g. a gzip body that does not inflate (400), a path that is not valid percent-encoding (400)
    return problem(http.status, http.status === 400 ? 'BAD_REQUEST' : `HTTP_${http.status}`, http.message);
  }
  const sqlState = clientDatabaseError(err);
  if (sqlState)
    return problem(400, 'INVALID_VALUE', `a value of the request cannot be stored or compared (SQLSTATE ${sqlState})`);
  return problem(HttpStatus.INTERNAL_SERVER_ERROR, 'INTERNAL', 'internal error');
}

/**
 * Every error of every route becomes an RFC 9457 problem. A 5xx is logged as an error with its stack; a 4xx
 * is the client's business and logged at debug, without a stack. Both carry the request id, also returned in
 * the problem (`requestId`). `instance` is the path only: a query string (`?access_token=…`) is never echoed.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw err;
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const requestId = requestIdOf(req);
    const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
    const p: ProblemDetails = { ...toProblem(err), instance: path, requestId };
    for (const k of Object.keys(p) as Array<keyof ProblemDetails>) if (p[k] === undefined) delete p[k];
    const sqlState = clientDatabaseError(err);
    if (p.status >= 500) this.logger.error({ err, requestId, method: req.method, path }, 'request failed');
    else if (sqlState)
      this.logger.warn(
        { requestId, method: req.method, path, status: p.status, code: p.code, sqlState },
        'a database error caused by a request value slipped past the edge validation',
      );
    else
      this.logger.debug(
        { requestId, method: req.method, path, status: p.status, code: p.code, field: p.field },
        'request refused',
      );
    if (res.headersSent) return;
    res.status(p.status).type('application/problem+json').send(JSON.stringify(p));
  }
}
