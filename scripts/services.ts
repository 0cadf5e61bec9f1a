/**
 * The services `npm start` runs, their ports and databases. Each service reads DATABASE_URL and its
 * HTTP_PORT; here they get their own from `<PREFIX>_DATABASE_URL` / `<PREFIX>_HTTP_PORT` (or the defaults).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface ServiceDef {
  name: string;
  httpPort: number;
  env: Record<string, string>;
  /** node flags of the service's process */
  nodeArgs: string[];
  describe(): string[];
}

/**
 * The consumers build many short-lived objects per event; a larger young generation halves their GC work
 * (the tariff service: 5-20 % more CDRs/s in runs of bench/tariff-service.ts), at the cost of up to
 * ~200 MB more memory per process.
 */
const CONSUMER_NODE_ARGS = ['--max-semi-space-size=64'];

const pg = (db: string) => `postgres://postgres@127.0.0.1:5432/${db}`;

function def(
  name: string,
  prefix: string,
  port: number,
  db: string,
  describe: (port: number) => string[],
  nodeArgs: string[] = [],
): ServiceDef {
  const httpPort = Number(process.env[`${prefix}_HTTP_PORT`] ?? port);
  return {
    name,
    httpPort,
    env: { HTTP_PORT: String(httpPort), DATABASE_URL: process.env[`${prefix}_DATABASE_URL`] ?? pg(db) },
    nodeArgs,
    describe: () => describe(httpPort),
  };
}

const ALL: ServiceDef[] = [
  def('ocpp-gateway', 'GATEWAY', 3000, 'csms_gateway', (p) => [
    `OCPP endpoint     ws://127.0.0.1:${process.env.OCPP_PORT ?? 9000}/ocpp/{stationId}  (ocpp1.6, ocpp2.0.1)`,
    `gateway API       http://127.0.0.1:${p}/api/v1   docs http://127.0.0.1:${p}/docs`,
  ]),
  def(
    'session-service',
    'SESSION',
    3001,
    'csms_sessions',
    (p) => [`sessions API      http://127.0.0.1:${p}/api/v1   docs http://127.0.0.1:${p}/docs`],
    CONSUMER_NODE_ARGS,
  ),
  def(
    'tariff-service',
    'TARIFF',
    3002,
    'csms_tariffs',
    (p) => [`tariffs/CDRs API  http://127.0.0.1:${p}/api/v1   docs http://127.0.0.1:${p}/docs`],
    CONSUMER_NODE_ARGS,
  ),
  def(
    'reporting-service',
    'REPORTING',
    3003,
    'csms_reporting',
    (p) => [`reporting API     http://127.0.0.1:${p}/api/v1   docs http://127.0.0.1:${p}/docs`],
    CONSUMER_NODE_ARGS,
  ),
];

/** The services whose app exists in this tree. */
export const SERVICES: ServiceDef[] = ALL.filter((s) =>
  existsSync(path.resolve(__dirname, '..', 'apps', s.name, 'src', 'main.ts')),
);
