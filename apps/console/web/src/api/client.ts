/**
 * The one way the console talks to the services: `/api/<service>/api/v1/…` on its own origin (the console's
 * server forwards it), with the API key of the session as a bearer token. Paths, path parameters, query
 * parameters and request bodies are typed from the services' OpenAPI documents (./generated), so a changed or
 * removed endpoint or parameter fails the console's typecheck.
 */
import type { paths as GatewayPaths } from './generated/gateway';
import type { paths as PaymentsPaths } from './generated/payments';
import type { paths as ReportingPaths } from './generated/reporting';
import type { paths as SessionsPaths } from './generated/sessions';
import type { paths as TariffsPaths } from './generated/tariffs';
import type { Problem } from './views';

export interface ServicePaths {
  gateway: GatewayPaths;
  sessions: SessionsPaths;
  tariffs: TariffsPaths;
  reporting: ReportingPaths;
  payments: PaymentsPaths;
}
export type Service = keyof ServicePaths;
type Method = 'get' | 'put' | 'post' | 'delete';

/** The paths of a service that have this method. */
export type PathsWith<S extends Service, M extends Method> = {
  [P in keyof ServicePaths[S]]: ServicePaths[S][P] extends Record<M, infer Op>
    ? Op extends undefined
      ? never
      : P
    : never;
}[keyof ServicePaths[S]] &
  string;
type Op<S extends Service, M extends Method, P extends PathsWith<S, M>> =
  ServicePaths[S][P] extends Record<M, infer O> ? O : never;
type Params<O> = O extends { parameters: infer X } ? X : never;
/** path parameters from the path template (the services' documents do not list them): `/cdrs/{cdrId}` → cdrId */
type PathParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}`
  ? N | PathParamNames<Rest>
  : never;
type PathParams<P extends string> = [PathParamNames<P>] extends [never]
  ? never
  : Record<PathParamNames<P>, string | number>;
type QueryParams<O> = Params<O> extends { query?: infer X } ? X : never;
type Body<O> = O extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : O extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B
    : never;

/** the JSON body an endpoint takes, from its OpenAPI document */
export type RequestBody<S extends Service, M extends Method, P extends PathsWith<S, M>> = Body<Op<S, M, P>>;

export interface RequestOptions<P extends string, O> {
  path?: PathParams<P>;
  query?: QueryParams<O>;
  body?: Body<O>;
  signal?: AbortSignal;
}

/** A refused request: the service's RFC 9457 problem (code, field, requestId) or a network failure. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
    this.name = 'ApiError';
  }
  get status(): number {
    return this.problem.status;
  }
  get field(): string | undefined {
    return this.problem.field;
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

let currentKey: string | undefined;
let onUnauthenticated: (() => void) | undefined;
/** The key requests carry (set by the auth provider from session storage). */
export function setApiKey(key: string | undefined, unauthenticated?: () => void): void {
  currentKey = key;
  onUnauthenticated = unauthenticated;
}

export function buildUrl(service: Service, path: string, params?: { path?: unknown; query?: unknown }): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = (params?.path as Record<string, unknown> | undefined)?.[name];
    if (v === undefined || v === null || v === '') throw new Error(`missing path parameter ${name} of ${path}`);
    return encodeURIComponent(String(v));
  });
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries((params?.query as Record<string, unknown> | undefined) ?? {}))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `/api/${service}${filled}${qs ? `?${qs}` : ''}`;
}

export async function rawRequest<T>(
  method: string,
  url: string,
  body?: unknown,
  signal?: AbortSignal,
  key: string | undefined = currentKey,
): Promise<T> {
  let r: Response;
  try {
    r = await fetch(url, {
      method,
      signal,
      headers: {
        accept: 'application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError({
      status: 0,
      code: 'NETWORK',
      detail: `the console server did not answer: ${(e as Error).message}`,
    });
  }
  const text = await r.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!r.ok) {
    const p = (parsed && typeof parsed === 'object' ? parsed : {}) as Partial<Problem>;
    if (r.status === 401 && key === currentKey) onUnauthenticated?.();
    throw new ApiError({ ...p, status: r.status, detail: p.detail ?? (text.slice(0, 200) || r.statusText) });
  }
  return parsed as T;
}

export function apiGet<T, S extends Service, P extends PathsWith<S, 'get'>>(
  service: S,
  path: P,
  opts: RequestOptions<P, Op<S, 'get', P>> = {},
): Promise<T> {
  return rawRequest<T>('GET', buildUrl(service, path, opts), undefined, opts.signal);
}

export function apiPost<T, S extends Service, P extends PathsWith<S, 'post'>>(
  service: S,
  path: P,
  opts: RequestOptions<P, Op<S, 'post', P>> = {},
): Promise<T> {
  return rawRequest<T>('POST', buildUrl(service, path, opts), opts.body ?? {}, opts.signal);
}

export function apiPut<T, S extends Service, P extends PathsWith<S, 'put'>>(
  service: S,
  path: P,
  opts: RequestOptions<P, Op<S, 'put', P>> = {},
): Promise<T> {
  return rawRequest<T>('PUT', buildUrl(service, path, opts), opts.body, opts.signal);
}

/**
 * A GET whose answer is a file (the reports' `format=csv`): its text, or the service's problem as an ApiError. The
 * key goes in the Authorization header, so a plain link cannot fetch it: the console fetches it and hands the
 * text to the browser as a download.
 */
export async function apiGetText<S extends Service, P extends PathsWith<S, 'get'>>(
  service: S,
  path: P,
  opts: RequestOptions<P, Op<S, 'get', P>> = {},
): Promise<string> {
  let r: Response;
  try {
    r = await fetch(buildUrl(service, path, opts), {
      signal: opts.signal,
      headers: {
        accept: 'text/csv, application/problem+json',
        ...(currentKey ? { authorization: `Bearer ${currentKey}` } : {}),
      },
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError({
      status: 0,
      code: 'NETWORK',
      detail: `the console server did not answer: ${(e as Error).message}`,
    });
  }
  const text = await r.text();
  if (!r.ok) {
    let p: Partial<Problem> = {};
    try {
      p = JSON.parse(text) as Partial<Problem>;
    } catch {
      p = {};
    }
    if (r.status === 401) onUnauthenticated?.();
    throw new ApiError({ ...p, status: r.status, detail: p.detail ?? (text.slice(0, 200) || r.statusText) });
  }
  return text;
}
