import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** A request id a client may choose: 1 to 128 of `A-Z a-z 0-9 . _ : -` (else one is made). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const KEY = Symbol('csms:request-id');

/** The request's id (set by requestIdMiddleware). */
export function requestIdOf(req: Request): string | undefined {
  return (req as unknown as Record<symbol, string | undefined>)[KEY];
}

/**
 * `x-request-id`: taken from the request when well-formed, made (a UUID) otherwise; returned as a response
 * header, in every problem (`requestId`) and in every error log line. `x-correlation-id` likewise (kept for
 * the callers that already send it; it defaults to the request id).
 */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
  (req as unknown as Record<symbol, string>)[KEY] = id;
  req.headers['x-request-id'] = id;
  res.setHeader('x-request-id', id);
  const corr = req.headers['x-correlation-id'];
  const correlation = typeof corr === 'string' && REQUEST_ID_PATTERN.test(corr) ? corr : id;
  req.headers['x-correlation-id'] = correlation;
  res.setHeader('x-correlation-id', correlation);
  next();
}
