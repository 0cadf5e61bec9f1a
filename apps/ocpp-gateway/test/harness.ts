import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { RPCClient } from 'ocpp-rpc';
import { createLogger, silentLogger, type Logger } from '@csms/platform';
import { createHttpService, newApiKey } from '@csms/service-kit';
import { TEST_KAFKA_BROKERS, uniqueName } from '@csms/testing';
import { loadGatewayConfig, type GatewayConfig } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { GatewayRuntime, type RuntimeOverrides } from '../src/runtime';

export interface Pki {
  dir: string;
  ca: Buffer;
  serverCert: string;
  serverKey: string;
  client(cn: string): { cert: Buffer; key: Buffer };
  rogueClient(cn: string): { cert: Buffer; key: Buffer };
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1/localhost and client certificates, made with the openssl CLI. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'ocpp-pki-'));
  const ca = (name: string) => {
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    );
  };
  const leaf = (caName: string, name: string, cn: string, ext: string) => {
    openssl(
      dir,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    );
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.crt`,
      '-CAkey',
      `${caName}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  ca('test-ca');
  ca('rogue-ca');
  leaf('test-ca', 'server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const made = new Set<string>();
  const client = (caName: string, cn: string) => {
    const name = `${caName}-client-${cn}`;
    if (!made.has(name)) {
      leaf(caName, name, cn, 'extendedKeyUsage=clientAuth\n');
      made.add(name);
    }
    return { cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) };
  };
  return {
    dir,
    ca: readFileSync(join(dir, 'test-ca.crt')),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    client: (cn) => client('test-ca', cn),
    rogueClient: (cn) => client('rogue-ca', cn),
  };
}

/** Silent unless GATEWAY_TEST_LOG is set to a pino level (debugging a failing test). */
function testLogger(): Logger {
  return process.env.GATEWAY_TEST_LOG
    ? createLogger('ocpp-gateway-test', process.env.GATEWAY_TEST_LOG)
    : silentLogger();
}

export interface TestGateway {
  app: INestApplication;
  runtime: GatewayRuntime;
  httpUrl: string;
  wsUrl: string;
  wssUrl?: string;
  keys: { operator: string; finance: string };
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string>): GatewayConfig {
  return loadGatewayConfig({
    KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
    KAFKA_PARTITIONS: '3',
    HTTP_PORT: '0',
    OCPP_PORT: '0',
    OCPP_TLS_PORT: '0',
    OCPP_HOST: '127.0.0.1',
    OCPP_PING_INTERVAL_S: '0',
    LOG_LEVEL: 'silent',
    GATEWAY_INSTANCE: uniqueName('gw'),
    ...env,
  });
}

/** The whole gateway as main.ts builds it (Nest app, REST API, OCPP listeners), on free ports. */
export async function startTestGateway(
  env: Record<string, string>,
  overrides: RuntimeOverrides = {},
): Promise<TestGateway> {
  const operator = newApiKey('test-operator', 'operator');
  const finance = newApiKey('test-finance', 'finance');
  const config = testConfig({ API_KEYS: `${operator.entry},${finance.entry}`, ...env });
  const logger = testLogger();
  const app = await createHttpService(GatewayModule.forRoot(config, logger, overrides), {
    service: 'ocpp-gateway',
    title: 'OCPP gateway',
    logger,
  });
  await app.listen(0, '127.0.0.1');
  const runtime = app.get(GatewayRuntime);
  const port = (app.getHttpServer().address() as { port: number }).port;
  return {
    app,
    runtime,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${runtime.server.ports.ws}/ocpp`,
    wssUrl: runtime.server.ports.wss ? `wss://127.0.0.1:${runtime.server.ports.wss}/ocpp` : undefined,
    keys: { operator: operator.key, finance: finance.key },
    close: () => app.close(),
  };
}

/** A bare runtime (no HTTP), e.g. a second instance sharing the database and topics. */
export async function startTestRuntime(
  env: Record<string, string>,
  overrides: RuntimeOverrides = {},
): Promise<GatewayRuntime> {
  return GatewayRuntime.start(testConfig(env), testLogger(), overrides);
}

export interface ClientOptions {
  endpoint: string;
  identity: string;
  protocols: string[];
  password?: string;
  wsOpts?: Record<string, unknown>;
}

/** An independent charge point: ocpp-rpc's client, no reconnects, no strict mode (it may send garbage). */
export function chargePoint(o: ClientOptions): RPCClient & { inbound: string[] } {
  const c = new RPCClient({
    endpoint: o.endpoint,
    identity: o.identity,
    protocols: o.protocols,
    password: o.password ?? null,
    wsOpts: o.wsOpts ?? {},
    reconnect: false,
    strictMode: false,
    callTimeoutMs: 20000,
    pingIntervalMs: 0,
  } as never) as RPCClient & { inbound: string[] };
  c.inbound = [];
  c.on('message', (m: { message: string | Buffer; outbound: boolean }) => {
    if (!m.outbound) c.inbound.push(m.message.toString());
  });
  return c;
}

/** The HTTP status of a refused upgrade (ocpp-rpc's UnexpectedHttpResponse carries it as `code`). */
export async function refusedWith(c: RPCClient): Promise<unknown> {
  try {
    await c.connect();
  } catch (e) {
    return (e as { code?: unknown }).code ?? (e as Error).message;
  }
  await c.close({ force: true });
  return 'connected';
}

export async function api(
  gw: TestGateway,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = gw.keys.operator,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gw.httpUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
