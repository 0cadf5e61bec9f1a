import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { OCPP_PROTOCOLS, type OcppProtocol } from '@csms/ocpp';
import {
  FailureThrottle,
  OcppSchemaValidator,
  decideUpgrade,
  reportedConnector,
  withConnector,
  type BackoffPolicy,
  type RateLimit,
  type StartTransactionIdentity,
  type UpgradeCredentials,
} from '@csms/ocpp-gateway-core';
import type { Logger } from '@csms/platform';
import type { RegistryCache } from '../registry/registry-cache';
import type { PasswordVerifier } from '../registry/password';
import { CloseCodes, StationConnection, type CallOutcome } from './connection';
import type { InboundRecorder } from './inbound-recorder';
import { ROUTES } from './routing';
import { RemoteStartGrants, type JsonObject } from '@csms/ocpp-gateway-core';

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
  /** throttle of failed authentication per station id (and per remote address with `addressFreeFailures` > 0) */
  authThrottle: BackoffPolicy & { addressFreeFailures: number };
  /** CALLs per connection; null = no limit */
  rateLimit: RateLimit | null;
  /** connections accepted that are not WebSockets yet (HTTP upgrade pending); more are refused with 503 */
  maxPendingUpgrades: number;
  /** a connection that is not a WebSocket by then is closed */
  upgradeTimeoutMs: number;
  /** how long a token this gateway sent in a remote start is accepted from that station before the registry knows it (default 180 s) */
  remoteStartGrantMs?: number;
}

export interface OcppServerDeps {
  registry: RegistryCache;
  passwords: PasswordVerifier;
  recorder: InboundRecorder;
  assignTransactionId: (start: StartTransactionIdentity) => Promise<number>;
  now: () => Date;
  /** a monotonic clock in ms for throttles and rate limits (default performance.now) */
  clockMs?: () => number;
  logger: Logger;
  metrics?: {
    connections(n: number): void;
    badMessage(kind: string): void;
    refused(status: number): void;
    /** an upgrade refused with 401 (its station id and address count a failure) */
    authFailed(): void;
    /** an upgrade refused with 429 because its station id or its address is throttled */
    authThrottled(scope: 'station' | 'address'): void;
    /** a password check answered from the verifications remembered (`hit`) or by scrypt (`miss`) */
    passwordCheck(result: 'hit' | 'miss'): void;
    pendingUpgrades(n: number): void;
    /** a CALL answered: its outcome and the time from its arrival to the answer (incl. the broker ack) */
    callAnswered(protocol: OcppProtocol, action: string, outcome: string, seconds: number): void;
  };
  /** told of every connection and disconnection (the presence table that routes commands) */
  presence?: {
    connected(stationId: string, connectionId: string, at: Date): Promise<void>;
    disconnected(stationId: string, connectionId: string): Promise<void>;
  };
  /** a registered station reported a connector the registry does not list */
  connectorReported?: (stationId: string, evseId: number, connectorId: number) => Promise<void>;
}

const PATH = /^\/ocpp\/([^/?#]+)\/?(?:\?.*)?$/;

/** The subprotocol to use: the first of the station's offers (its preference order) that we speak. */
export function chooseProtocol(header: string | undefined): OcppProtocol | null {
  const offered = (header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return (offered.find((p) => (OCPP_PROTOCOLS as readonly string[]).includes(p)) as OcppProtocol | undefined) ?? null;
}

function basicCredentials(header: string | undefined): UpgradeCredentials['basic'] {
  if (!header || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

function refuse(socket: Duplex, status: number, reason: string, retryAfterS?: number): void {
  const text =
    {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      429: 'Too Many Requests',
      503: 'Service Unavailable',
    }[status] ?? 'Error';
  const extra =
    (status === 401 ? 'WWW-Authenticate: Basic realm="ocpp"\r\n' : '') +
    (retryAfterS !== undefined ? `Retry-After: ${retryAfterS}\r\n` : '');
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
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
  /** sockets accepted that are not WebSockets yet, with the timer of their deadline */
  private readonly pending = new Map<Duplex, NodeJS.Timeout>();
  /** sockets refused at accept time (over the pending cap): an upgrade request read from them is ignored */
  private readonly refusedSockets = new WeakSet<Duplex>();
  /** upgrades refused because their decision outlasted `upgradeTimeoutMs` (a late decision then does nothing) */
  private readonly undecided = new WeakSet<Duplex>();
  private readonly stationFailures: FailureThrottle;
  /** stations whose password is being checked: one check at a time per station (parallel guesses get 429) */
  private readonly checking = new Set<string>();
  private readonly addressFailures: FailureThrottle | null;
  private readonly clockMs: () => number;
  /** tokens sent in remote starts, accepted from their station until the registry has them (see RemoteStartGrants) */
  readonly remoteStarts: RemoteStartGrants;
  private pruneTimer?: NodeJS.Timeout;

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
    const { addressFreeFailures, ...policy } = opts.authThrottle;
    this.stationFailures = new FailureThrottle(policy);
    this.addressFailures =
      addressFreeFailures > 0 ? new FailureThrottle({ ...policy, freeFailures: addressFreeFailures }) : null;
    this.clockMs = deps.clockMs ?? (() => performance.now());
    this.remoteStarts = new RemoteStartGrants(opts.remoteStartGrantMs ?? 180_000);
  }

  /** Connections accepted that are not WebSockets yet. */
  get pendingUpgrades(): number {
    return this.pending.size;
  }

  /**
   * Every accepted socket is pending until it is a WebSocket: at most `maxPendingUpgrades` at once (a new one
   * over the cap gets 503 at once), and each must have sent its whole upgrade request within `upgradeTimeoutMs`
   * of its acceptance, however it trickles its bytes (a slowloris socket is closed), so sockets that never
   * become stations cannot pile up. Once the request is in, it stays pending (and counted) while it is decided,
   * and the decision has `upgradeTimeoutMs` again (then 503 with Retry-After: see `onUpgrade`).
   */
  private accepted(socket: Duplex): void {
    socket.on('error', () => undefined);
    if (this.pending.size >= this.opts.maxPendingUpgrades) {
      this.refusedSockets.add(socket);
      this.deps.metrics?.refused(503);
      this.deps.logger.warn({ pending: this.pending.size }, 'too many pending upgrades: connection refused');
      refuse(socket, 503, 'too many pending connections; retry later', 1);
      // the HTTP server keeps sockets half open: this one is done once the refusal is out
      socket.once('finish', () => socket.destroy());
      return;
    }
    const deadline = setTimeout(() => {
      if (!this.pending.has(socket)) return;
      this.deps.logger.info(
        { address: (socket as Duplex & { remoteAddress?: string }).remoteAddress },
        'no upgrade request within OCPP_UPGRADE_TIMEOUT_MS: connection closed',
      );
      socket.destroy();
    }, this.opts.upgradeTimeoutMs);
    deadline.unref();
    this.pending.set(socket, deadline);
    this.deps.metrics?.pendingUpgrades(this.pending.size);
    socket.once('close', () => this.settled(socket));
  }

  private settled(socket: Duplex): void {
    const deadline = this.pending.get(socket);
    if (deadline === undefined) return;
    clearTimeout(deadline);
    this.pending.delete(socket);
    this.deps.metrics?.pendingUpgrades(this.pending.size);
  }

  get size(): number {
    return this.connections.size;
  }

  /** now on this server's monotonic clock (ms) */
  nowMs(): number {
    return this.clockMs();
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
    const plain = createHttpServer((_req, res) =>
      res.writeHead(426, { 'content-type': 'text/plain' }).end('OCPP-J: upgrade to a WebSocket on /ocpp/{stationId}\n'),
    );
    plain.on('connection', (socket) => this.accepted(socket));
    plain.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) =>
      plain.once('error', reject).listen(this.opts.port, this.opts.host, () => resolve()),
    );
    this.ports.ws = (plain.address() as { port: number }).port;
    this.servers.push(plain);
    if (this.opts.tls) {
      const secure = createHttpsServer(
        {
          cert: this.opts.tls.cert,
          key: this.opts.tls.key,
          ca: this.opts.tls.ca,
          requestCert: this.opts.tls.ca !== undefined,
          rejectUnauthorized: false,
          minVersion: 'TLSv1.2',
          // the TLS handshake is bounded too; a socket counts as pending once it is a TLS connection
          handshakeTimeout: this.opts.upgradeTimeoutMs,
        },
        (_req, res) => res.writeHead(426).end(),
      );
      secure.on('secureConnection', (socket) => this.accepted(socket));
      secure.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
      secure.on('tlsClientError', (err) => this.deps.logger.debug({ err }, 'TLS handshake failed'));
      await new Promise<void>((resolve, reject) =>
        secure.once('error', reject).listen(this.opts.tls!.port, this.opts.host, () => resolve()),
      );
      this.ports.wss = (secure.address() as { port: number }).port;
      this.servers.push(secure);
    }
    if (this.opts.pingIntervalS > 0) {
      this.pingTimer = setInterval(() => this.pingAll(), this.opts.pingIntervalS * 1000);
      this.pingTimer.unref();
    }
    this.pruneTimer = setInterval(() => {
      const now = this.clockMs();
      this.stationFailures.prune(now);
      this.addressFailures?.prune(now);
    }, 60_000);
    this.pruneTimer.unref();
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
    if (this.refusedSockets.has(socket)) {
      socket.destroy();
      return;
    }
    // the request is in: the deadline was for sending it (the station does not pay for our password checks)
    const deadline = this.pending.get(socket);
    if (deadline !== undefined) clearTimeout(deadline);
    // the decision (a credentials read, a password check) is bounded too: a station is never left without an
    // answer, e.g. while the database does not answer; it is refused with 503 and tries again
    const decision = setTimeout(() => {
      this.undecided.add(socket);
      this.deps.metrics?.refused(503);
      this.deps.logger.warn({ url: req.url }, 'upgrade not decided within OCPP_UPGRADE_TIMEOUT_MS: refused');
      refuse(socket, 503, 'connection not decided in time; retry later', 5);
      socket.once('finish', () => socket.destroy());
    }, this.opts.upgradeTimeoutMs);
    decision.unref();
    this.authorizeUpgrade(req, socket, head)
      .catch((e) => {
        if (this.undecided.has(socket)) return;
        this.deps.logger.error({ err: e }, 'upgrade failed');
        refuse(socket, 503, 'internal error');
      })
      .finally(() => {
        clearTimeout(decision);
        this.undecided.delete(socket);
      });
  }

  private async authorizeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const address = (socket as Duplex & { remoteAddress?: string }).remoteAddress ?? 'unknown';
    const fail = (status: number, reason: string, retryAfterS?: number) => {
      if (this.undecided.has(socket)) return; // already refused: the decision came too late
      this.deps.metrics?.refused(status);
      this.deps.logger.info({ url: req.url, address, status, reason }, 'upgrade refused');
      refuse(socket, status, reason, retryAfterS);
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
    const creds: UpgradeCredentials = {
      tls,
      verifiedClientCertCn: certCn,
      basic: basicCredentials(req.headers.authorization),
    };
    let station = this.deps.registry.station(stationId);

    // a throttled station id or address is refused before its credentials are looked at: no scrypt for a guesser
    const at = this.clockMs();
    const throttled = (['station', 'address'] as const)
      .map((scope) => {
        const t = scope === 'station' ? this.stationFailures : this.addressFailures;
        const v = t?.check(scope === 'station' ? stationId : address, at);
        return v && !v.allowed ? { scope, retryAfterMs: v.retryAfterMs } : null;
      })
      .find((v) => v !== null);
    if (station && throttled) {
      this.deps.metrics?.authThrottled(throttled.scope);
      return fail(
        429,
        `too many failed authentications (${throttled.scope}); retry later`,
        Math.ceil(throttled.retryAfterMs / 1000),
      );
    }

    // credentials changed and not re-read yet (or not loaded): the one case in which the upgrade reads the database
    if (station && !this.deps.registry.credentialsReady(stationId)) {
      try {
        await this.deps.registry.loadCredentials(stationId);
      } catch (e) {
        this.deps.logger.warn({ err: e, stationId }, 'station credentials could not be read');
        return fail(503, 'station credentials unavailable; retry later', 5);
      }
      station = this.deps.registry.station(stationId);
    }

    let passwordOk = false;
    if (station?.passwordHash && creds.basic && creds.basic.username === stationId) {
      // a station connects once at a time: parallel attempts are guesses racing the throttle, not scrypts to pay
      if (this.checking.has(stationId)) {
        this.deps.metrics?.authThrottled('station');
        return fail(429, 'an authentication of this station is in progress; retry later', 1);
      }
      this.checking.add(stationId);
      try {
        const check = await this.deps.passwords.verify(stationId, station.passwordHash, creds.basic.password);
        this.deps.metrics?.passwordCheck(check.cached ? 'hit' : 'miss');
        passwordOk = check.ok;
      } finally {
        this.checking.delete(stationId);
      }
    }
    const decision = decideUpgrade(stationId, station, creds, {
      allowProvisional: this.opts.allowProvisional,
      passwordMatches: () => passwordOk,
    });
    if (!decision.ok) {
      if (decision.status === 401) {
        const after = this.clockMs();
        this.stationFailures.fail(stationId, after);
        this.addressFailures?.fail(address, after);
        this.deps.metrics?.authFailed();
      }
      return fail(decision.status, decision.reason);
    }
    if (!decision.provisional) {
      this.stationFailures.succeed(stationId);
      this.addressFailures?.succeed(address);
    }
    if (socket.destroyed || this.undecided.has(socket)) return;

    (req as IncomingMessage & { ocppProtocol?: string }).ocppProtocol = protocol;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.settled(socket);
      this.onConnection(ws, stationId, protocol, decision.provisional);
    });
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
        token: (uid) => registry.token(uid) ?? this.remoteStarts.token(stationId, uid, this.clockMs()),
        assignTransactionId: this.deps.assignTransactionId,
      },
      {
        maxBadMessages: this.opts.maxBadMessages,
        callTimeoutMs: this.opts.callTimeoutMs,
        rateLimit: this.opts.rateLimit,
        clockMs: this.clockMs,
      },
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
          report(stationId, c.evseId, c.connectorId).catch((e) =>
            logger.error({ err: e, stationId }, 'reported connector not recorded'),
          );
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
      errorCode =
        err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
          ? CloseCodes.tooBig
          : err.code === 'WS_ERR_INVALID_UTF8'
            ? 1007
            : CloseCodes.protocolError;
      logger.info({ err, stationId }, 'websocket error');
    });
    ws.on('close', (code, reason) => {
      conn.closedWith();
      if (this.connections.get(stationId) === conn) this.connections.delete(stationId);
      this.deps.metrics?.connections(this.connections.size);
      const why = `${errorCode ?? code} ${reason.toString('utf8') || closeReason}`.trim();
      recorder
        .record(conn, { kind: 'disconnected', reason: why })
        .catch((e) => logger.error({ err: e, stationId }, 'disconnect not recorded'));
      this.deps.presence
        ?.disconnected(stationId, conn.connectionId)
        .catch((e) => logger.error({ err: e, stationId }, 'presence not cleared'));
      if (this.connections.size === 0) for (const w of this.closedWaiters.splice(0)) w();
    });
    this.deps.presence
      ?.connected(stationId, conn.connectionId, conn.connectedAt)
      .catch((e) => logger.error({ err: e, stationId }, 'presence not recorded'));
    recorder
      .record(conn, { kind: 'connected', reason: provisional ? 'provisional' : undefined })
      .catch((e) => logger.error({ err: e, stationId }, 'connect not recorded'));
  }

  /** Stops accepting, closes every station connection (Going Away) and waits for them to close. */
  async close(): Promise<void> {
    this.stopping = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    const closed =
      this.connections.size === 0 ? Promise.resolve() : new Promise<void>((r) => this.closedWaiters.push(r));
    for (const c of this.connections.values()) c.close(CloseCodes.goingAway, 'gateway shutting down');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    for (const c of this.connections.values()) c.terminate();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections?.();
          }),
      ),
    );
  }
}
