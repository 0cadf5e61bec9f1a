import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { OCPP_PROTOCOLS, type OcppProtocol } from '@csms/ocpp';
import { OcppSchemaValidator, decideUpgrade, reportedConnector, withConnector, type StartTransactionIdentity, type UpgradeCredentials } from '@csms/ocpp-gateway-core';
import type { Logger } from '@csms/platform';
import type { RegistryCache } from '../registry/registry-cache';
import type { PasswordVerifier } from '../registry/password';
import { CloseCodes, StationConnection, type CallOutcome } from './connection';
import type { InboundRecorder } from './inbound-recorder';
import { ROUTES } from './routing';
import type { JsonObject } from '@csms/ocpp-gateway-core';

export interface OcppServerOptions {
  host: string;
  port: number;
  tls?: { port: number; cert: Buffer; key: Buffer; ca?: Buffer };
  maxFrameBytes: number;
  maxBadMessages: number;
  callTimeoutMs: number;
  heartbeatIntervalS: number;
  pingIntervalS: number;
  allowProvisional: boolean;
}

export interface OcppServerDeps {
  registry: RegistryCache;
  passwords: PasswordVerifier;
  recorder: InboundRecorder;
  assignTransactionId: (start: StartTransactionIdentity) => Promise<number>;
  now: () => Date;
  logger: Logger;
  metrics?: {
    connections(n: number): void;
    badMessage(kind: string): void;
    refused(status: number): void;
    /** a CALL answered: its outcome and the time from its arrival to the answer (incl. the broker ack) */
    callAnswered(protocol: OcppProtocol, action: string, outcome: string, seconds: number): void;
  };
  /** told of every connection and disconnection (the presence table that routes commands) */
  presence?: { connected(stationId: string, connectionId: string, at: Date): Promise<void>; disconnected(stationId: string, connectionId: string): Promise<void> };
  /** a registered station reported a connector the registry does not list */
  connectorReported?: (stationId: string, evseId: number, connectorId: number) => Promise<void>;
}

const PATH = /^\/ocpp\/([^/?#]+)\/?(?:\?.*)?$/;

/** The subprotocol to use: the first of the station's offers (its preference order) that we speak. */
export function chooseProtocol(header: string | undefined): OcppProtocol | null {
  const offered = (header ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return (offered.find((p) => (OCPP_PROTOCOLS as readonly string[]).includes(p)) as OcppProtocol | undefined) ?? null;
}

function basicCredentials(header: string | undefined): UpgradeCredentials['basic'] {
  if (!header || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

function refuse(socket: Duplex, status: number, reason: string): void {
  const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  const extra = status === 401 ? 'WWW-Authenticate: Basic realm="ocpp"\r\n' : '';
  const body = `${reason}\n`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * The OCPP-J endpoint `ws(s)://HOST:PORT/ocpp/{stationId}`: a raw `ws` server in noServer mode on our own
 * HTTP(S) listeners, so that the upgrade itself can be refused (unknown path, no common subprotocol,
 * credentials, TLS client certificate) before any WebSocket exists.
 */
export class OcppServer {
  private readonly wss: WebSocketServer;
  private readonly servers: Server[] = [];
  private readonly connections = new Map<string, StationConnection>();
  private readonly validator = new OcppSchemaValidator();
  private pingTimer?: NodeJS.Timeout;
  private stopping = false;
  private closedWaiters: Array<() => void> = [];
  readonly ports: { ws?: number; wss?: number } = {};

  constructor(
    private readonly opts: OcppServerOptions,
    private readonly deps: OcppServerDeps,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxFrameBytes,
      // RFC 7692 is REQUIRED of a CSMS by OCPP 2.0.1 part 4 §3.3
      perMessageDeflate: { threshold: 1024, concurrencyLimit: 4 },
      handleProtocols: (_offered, req) => (req as IncomingMessage & { ocppProtocol?: string }).ocppProtocol ?? false,
      clientTracking: false,
    });
  }

  get size(): number {
    return this.connections.size;
  }

  connection(stationId: string): StationConnection | undefined {
    return this.connections.get(stationId);
  }

  /** Sends a CSMS-initiated call to a station connected here. */
  async call(stationId: string, action: string, payload: JsonObject): Promise<CallOutcome> {
    const c = this.connections.get(stationId);
    if (!c) return { status: 'offline' };
    return c.call(action, payload);
  }

  async listen(): Promise<void> {
    const plain = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('OCPP-J: upgrade to a WebSocket on /ocpp/{stationId}\n'));
    plain.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => plain.once('error', reject).listen(this.opts.port, this.opts.host, () => resolve()));
    this.ports.ws = (plain.address() as { port: number }).port;
    this.servers.push(plain);
    if (this.opts.tls) {
      const secure = createHttpsServer(
        { cert: this.opts.tls.cert, key: this.opts.tls.key, ca: this.opts.tls.ca, requestCert: this.opts.tls.ca !== undefined, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
        (_req, res) => res.writeHead(426).end(),
      );
      secure.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
      secure.on('tlsClientError', (err) => this.deps.logger.debug({ err }, 'TLS handshake failed'));
      await new Promise<void>((resolve, reject) => secure.once('error', reject).listen(this.opts.tls!.port, this.opts.host, () => resolve()));
      this.ports.wss = (secure.address() as { port: number }).port;
      this.servers.push(secure);
    }
    if (this.opts.pingIntervalS > 0) {
      this.pingTimer = setInterval(() => this.pingAll(), this.opts.pingIntervalS * 1000);
      this.pingTimer.unref();
    }
  }

  private pingAll(): void {
    for (const c of this.connections.values()) {
      if (!c.alive) {
        c.terminate();
        continue;
      }
      c.alive = false;
      c.ping();
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    this.authorizeUpgrade(req, socket, head).catch((e) => {
      this.deps.logger.error({ err: e }, 'upgrade failed');
      refuse(socket, 503, 'internal error');
    });
  }

  private async authorizeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const fail = (status: number, reason: string) => {
      this.deps.metrics?.refused(status);
      this.deps.logger.info({ url: req.url, status, reason }, 'upgrade refused');
      refuse(socket, status, reason);
    };
    if (this.stopping) return fail(503, 'shutting down');
    const m = PATH.exec(req.url ?? '');
    if (!m) return fail(404, 'the OCPP endpoint is /ocpp/{stationId}');
    let stationId: string;
    try {
      stationId = decodeURIComponent(m[1]);
    } catch {
      return fail(400, 'invalid station id');
    }
    const protocol = chooseProtocol(req.headers['sec-websocket-protocol']);
    if (!protocol) return fail(400, `no supported subprotocol offered (supported: ${OCPP_PROTOCOLS.join(', ')})`);

    const tls = socket instanceof TLSSocket;
    let certCn: string | null = null;
    if (tls && socket.authorized) {
      const cn = socket.getPeerCertificate()?.subject?.CN;
      certCn = typeof cn === 'string' ? cn : Array.isArray(cn) ? (cn[0] ?? null) : null;
    }
    const creds: UpgradeCredentials = { tls, verifiedClientCertCn: certCn, basic: basicCredentials(req.headers.authorization) };
    const station = this.deps.registry.station(stationId);
    let passwordOk = false;
    if (station?.passwordHash && creds.basic && creds.basic.username === stationId) {
      passwordOk = await this.deps.passwords.verify(station.passwordHash, creds.basic.password);
    }
    const decision = decideUpgrade(stationId, station, creds, { allowProvisional: this.opts.allowProvisional, passwordMatches: () => passwordOk });
    if (!decision.ok) return fail(decision.status, decision.reason);
    if (socket.destroyed) return;

    (req as IncomingMessage & { ocppProtocol?: string }).ocppProtocol = protocol;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, stationId, protocol, decision.provisional));
  }

  private onConnection(ws: WebSocket, stationId: string, protocol: OcppProtocol, provisional: boolean): void {
    const { registry, recorder, logger } = this.deps;
    const conn = new StationConnection(
      stationId,
      protocol,
      provisional,
      ws,
      ROUTES[protocol],
      this.validator,
      recorder,
      {
        stationId,
        protocol,
        provisional,
        now: this.deps.now,
        heartbeatIntervalS: this.opts.heartbeatIntervalS,
        station: () => registry.station(stationId),
        token: (uid) => registry.token(uid),
        assignTransactionId: this.deps.assignTransactionId,
      },
      { maxBadMessages: this.opts.maxBadMessages, callTimeoutMs: this.opts.callTimeoutMs },
      logger,
      (kind) => this.deps.metrics?.badMessage(kind),
      (action, outcome, seconds) => this.deps.metrics?.callAnswered(protocol, action, outcome, seconds),
    );
    if (!provisional && this.deps.connectorReported) {
      const report = this.deps.connectorReported;
      conn.afterCall = (action, payload) => {
        const c = reportedConnector(protocol, action, payload);
        const known = registry.station(stationId);
        // only a connector the registry in memory does not list costs a database write
        if (c && known && withConnector(known.evses, c.evseId, c.connectorId)) {
          report(stationId, c.evseId, c.connectorId).catch((e) => logger.error({ err: e, stationId }, 'reported connector not recorded'));
        }
      };
    }
    const previous = this.connections.get(stationId);
    this.connections.set(stationId, conn);
    this.deps.metrics?.connections(this.connections.size);
    // a station has one connection: a new one replaces the old (e.g. after a network change)
    previous?.close(CloseCodes.normal, 'replaced by a new connection');

    let closeReason = '';
    let errorCode: number | undefined;
    ws.on('message', (data, isBinary) => {
      conn.alive = true;
      conn.onMessage(data, isBinary);
    });
    ws.on('pong', () => (conn.alive = true));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself after a protocol error; remember why (its close event says 1006)
      closeReason = err.message;
      errorCode = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? CloseCodes.tooBig : err.code === 'WS_ERR_INVALID_UTF8' ? 1007 : CloseCodes.protocolError;
      logger.info({ err, stationId }, 'websocket error');
    });
    ws.on('close', (code, reason) => {
      conn.closedWith();
      if (this.connections.get(stationId) === conn) this.connections.delete(stationId);
      this.deps.metrics?.connections(this.connections.size);
      const why = `${errorCode ?? code} ${reason.toString('utf8') || closeReason}`.trim();
      recorder.record(conn, { kind: 'disconnected', reason: why }).catch((e) => logger.error({ err: e, stationId }, 'disconnect not recorded'));
      this.deps.presence?.disconnected(stationId, conn.connectionId).catch((e) => logger.error({ err: e, stationId }, 'presence not cleared'));
      if (this.connections.size === 0) for (const w of this.closedWaiters.splice(0)) w();
    });
    this.deps.presence?.connected(stationId, conn.connectionId, conn.connectedAt).catch((e) => logger.error({ err: e, stationId }, 'presence not recorded'));
    recorder.record(conn, { kind: 'connected', reason: provisional ? 'provisional' : undefined }).catch((e) => logger.error({ err: e, stationId }, 'connect not recorded'));
  }

  /** Stops accepting, closes every station connection (Going Away) and waits for them to close. */
  async close(): Promise<void> {
    this.stopping = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    const closed = this.connections.size === 0 ? Promise.resolve() : new Promise<void>((r) => this.closedWaiters.push(r));
    for (const c of this.connections.values()) c.close(CloseCodes.goingAway, 'gateway shutting down');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    for (const c of this.connections.values()) c.terminate();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections?.(); })));
  }
}
