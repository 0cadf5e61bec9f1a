/**
 * The console's own small server: serves the built single-page app and forwards `/api/<service>/…` to that
 * service's public REST API, so the browser talks to one origin and the services need no CORS. It forwards
 * the request as it came (method, path below the prefix, query, body, the Authorization header the browser
 * sends) and the answer as it came back; it holds no key and adds no credentials of its own.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import path from 'node:path';

/** The services the console reads, by the prefix the browser uses: `/api/gateway/api/v1/…` → gateway `/api/v1/…`. */
export const CONSOLE_SERVICES = ['gateway', 'sessions', 'tariffs', 'reporting', 'payments'] as const;
export type ConsoleService = (typeof CONSOLE_SERVICES)[number];

export interface ConsoleServerOptions {
  /** the built app (index.html and assets) */
  staticDir: string;
  /** base URL of each service's API, e.g. http://127.0.0.1:3000 */
  upstreams: Partial<Record<ConsoleService, string>> & Record<string, string | undefined>;
  port: number;
  host?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** Request headers passed on; hop-by-hop ones and cookies are not. */
const FORWARDED_REQUEST_HEADERS = ['authorization', 'content-type', 'accept', 'x-request-id', 'content-length'];
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

function problem(res: ServerResponse, status: number, code: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title: code, status, code, detail }));
}

function forward(req: IncomingMessage, res: ServerResponse, upstream: string, rest: string): void {
  const target = new URL(rest, upstream);
  const headers: Record<string, string> = {};
  for (const h of FORWARDED_REQUEST_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const out = httpRequest(target, { method: req.method, headers }, (up) => {
    const back: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) back[k] = v;
    res.writeHead(up.statusCode ?? 502, back);
    up.pipe(res);
  });
  out.on('error', (e) => {
    if (!res.headersSent) problem(res, 502, 'UPSTREAM_UNREACHABLE', `the service did not answer: ${e.message}`);
    else res.destroy();
  });
  req.pipe(out);
}

function serveFile(res: ServerResponse, file: string, cache: boolean): void {
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': cache ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  createReadStream(file).pipe(res);
}

export function consoleHandler(opts: Pick<ConsoleServerOptions, 'staticDir' | 'upstreams'>) {
  const root = path.resolve(opts.staticDir);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://console.local');
    if (url.pathname === '/health/live' || url.pathname === '/health/ready') {
      // ready once listening: a console not built yet says so on every page (NOT_BUILT), it stops nothing
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ status: 'up', built: existsSync(path.join(root, 'index.html')) }));
    }
    const m = /^\/api\/([a-z]+)(\/.*)?$/.exec(url.pathname);
    if (m) {
      const upstream = Object.hasOwn(opts.upstreams, m[1]) ? opts.upstreams[m[1]] : undefined;
      if (typeof upstream !== 'string') return problem(res, 404, 'UNKNOWN_SERVICE', `no service is called ${m[1]}`);
      return forward(req, res, upstream, `${m[2] ?? '/'}${url.search}`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'METHOD_NOT_ALLOWED', 'GET only');
    let file = '';
    try {
      file = path.resolve(root, `.${decodeURIComponent(url.pathname)}`);
    } catch {
      return problem(res, 400, 'BAD_PATH', 'the path is not valid percent-encoding');
    }
    if (file.startsWith(root + path.sep) && existsSync(file) && statSync(file).isFile())
      return serveFile(res, file, url.pathname.startsWith('/assets/'));
    // the app's own routes (/stations, /cdrs/…): the router takes them from index.html
    const index = path.join(root, 'index.html');
    if (!existsSync(index))
      return problem(
        res,
        503,
        'NOT_BUILT',
        'the console is not built: npm run console:build (or tsx apps/console/scripts/build.ts)',
      );
    serveFile(res, index, false);
  };
}

export async function startConsoleServer(opts: ConsoleServerOptions): Promise<{ server: Server; url: string }> {
  const server = createServer(consoleHandler(opts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as { port: number };
  return { server, url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}` };
}
