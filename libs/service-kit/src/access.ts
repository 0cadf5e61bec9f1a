import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ApiKeyStore } from './api-keys';
import { ApiProblem } from './problem';

/**
 * Who may read what is not the API: `/metrics` and the API description (`/docs`, `/openapi.json`).
 * Both are open by default (a service listens on 127.0.0.1 unless told otherwise). A deployment that exposes
 * them sets `METRICS_TOKEN_SHA256` (the sha256 of a token Prometheus sends as `Authorization: Bearer <token>`;
 * an admin API key is accepted too) and `DOCS_REQUIRE_KEY=true` (any valid API key).
 */
export interface AccessOptions {
  /** sha256 hex of the metrics token; unset: /metrics is open */
  metricsTokenSha256?: string;
  /** true: /docs and /openapi.json need a valid API key */
  docsRequireKey?: boolean;
}

export const ACCESS_OPTIONS = Symbol('csms:access-options');

function bearer(req: Request): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

function sameDigest(token: string, sha256hex: string): boolean {
  const got = createHash('sha256').update(token, 'utf8').digest();
  const want = Buffer.from(sha256hex, 'hex');
  return want.length === got.length && timingSafeEqual(got, want);
}

/** Throws a 401 problem unless the request may read /metrics. */
export function checkMetricsAccess(req: Request, opts: AccessOptions, keys: ApiKeyStore): void {
  if (!opts.metricsTokenSha256) return;
  const token = bearer(req);
  if (token !== undefined && (sameDigest(token, opts.metricsTokenSha256) || keys.lookup(token)?.role === 'admin'))
    return;
  throw new ApiProblem(
    401,
    'UNAUTHENTICATED',
    'the metrics token (or an admin API key) is required: Authorization: Bearer <token>',
    { field: 'Authorization' },
  );
}

/** Express middleware in front of the API description when `docsRequireKey` is set. */
export function docsAccess(opts: AccessOptions, keys: () => ApiKeyStore) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!opts.docsRequireKey) return next();
    const token = bearer(req);
    if (token !== undefined && keys().lookup(token)) return next();
    next(
      new ApiProblem(
        401,
        'UNAUTHENTICATED',
        'an API key is required to read the API description (Authorization: Bearer <key>)',
        { field: 'Authorization' },
      ),
    );
  };
}
