import { ArgumentsHost, Catch, HttpException, HttpStatus, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CsmsError } from '@csms/contracts';
import type { Logger } from '@csms/platform';

/** RFC 9457 problem details, with our stable machine `code` and the `field` at fault. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  field?: string;
  instance?: string;
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
    super(code, detail, { field: opts.field, details: opts.errors || opts.limit !== undefined ? { errors: opts.errors, limit: opts.limit, size: opts.size } : undefined });
  }
}

/** body-parser's refusal of a body above the limit (`type: 'entity.too.large'`, `limit` and `length` in bytes). */
function isBodyTooLarge(err: unknown): err is { limit: number; length?: number } {
  return typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'entity.too.large';
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
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

function toProblem(err: unknown): ProblemDetails {
  if (err instanceof ApiProblem) {
    const errors = (err.details?.errors as ProblemDetails['errors']) ?? undefined;
    const limit = err.details?.limit as number | undefined;
    const size = err.details?.size as number | undefined;
    return {
      type: problemType(err.code),
      title: TITLES[err.status] ?? 'Error',
      status: err.status,
      detail: err.message,
      code: err.code,
      field: err.field,
      ...(errors ? { errors } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(size !== undefined ? { size } : {}),
    };
  }
  if (isBodyTooLarge(err)) {
    const code = 'PAYLOAD_TOO_LARGE';
    return { type: problemType(code), title: TITLES[413], status: 413, detail: `request body above the limit of ${err.limit} bytes`, code, limit: err.limit, ...(err.length !== undefined ? { size: err.length } : {}) };
  }
  // an event the request would emit is above its topic's record limit (appendToOutbox refused it; nothing was stored)
  if (err instanceof CsmsError && err.code === 'RECORD_TOO_LARGE') {
    const d = err.details as { limit: number; size: number };
    return {
      type: problemType(err.code),
      title: TITLES[413],
      status: 413,
      detail: `the event this request makes would be ${d.size} bytes, above the limit of ${d.limit} bytes per record: nothing was stored`,
      code: err.code,
      limit: d.limit,
      size: d.size,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = status === 404 ? 'NOT_FOUND' : status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 400 ? 'BAD_REQUEST' : `HTTP_${status}`;
    const body = err.getResponse();
    const detail = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? err.message);
    return { type: problemType(code), title: TITLES[status] ?? 'Error', status, detail: Array.isArray(detail) ? detail.join('; ') : String(detail), code };
  }
  if (err instanceof CsmsError && err.code === 'INVALID_PAYLOAD') {
    return { type: problemType(err.code), title: TITLES[422], status: 422, detail: err.message, code: err.code, field: err.field };
  }
  return { type: problemType('INTERNAL'), title: TITLES[500], status: HttpStatus.INTERNAL_SERVER_ERROR, detail: 'internal error', code: 'INTERNAL' };
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw err;
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const problem = { ...toProblem(err), instance: req.originalUrl ?? req.url };
    if (problem.status >= 500) this.logger.error({ err, path: problem.instance }, 'request failed');
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}
