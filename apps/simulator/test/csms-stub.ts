/**
 * A stub CSMS for the simulator's integration tests: an `ocpp-rpc` RPCServer on 127.0.0.1 with strictMode
 * (the official schemas of both versions), recording every CALL each station makes, per connection.
 */
import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';

type ServerClient = {
  identity: string;
  protocol?: string;
  handle: (
    method: string,
    handler: (o: { params: Record<string, unknown> }) => Promise<Record<string, unknown>> | Record<string, unknown>,
  ) => void;
  call: (method: string, params: unknown) => Promise<unknown>;
  close: (o?: Record<string, unknown>) => Promise<unknown>;
  on: (ev: string, fn: (...a: unknown[]) => void) => void;
};

export interface ReceivedCall {
  stationId: string;
  protocol: string;
  connection: number;
  action: string;
  params: Record<string, unknown>;
  /** what the stub answered */
  response: Record<string, unknown>;
}

export class CsmsStub {
  readonly calls: ReceivedCall[] = [];
  readonly validationFailures: unknown[] = [];
  readonly clients = new Map<string, ServerClient>();
  /** refuse WebSocket upgrades (HTTP 503) while true */
  refuse = false;
  heartbeatInterval = 300;
  private connections = 0;
  private nextTx = 1000;
  private server: RPCServer;
  private http?: import('node:http').Server;

  constructor(private readonly password?: string) {
    this.server = new RPCServer({ protocols: ['ocpp1.6', 'ocpp2.0.1'], strictMode: true });
    this.server.auth((accept, reject, handshake) => {
      if (this.refuse) return reject(503, 'Service Unavailable');
      if (this.password !== undefined && handshake.password?.toString('utf8') !== this.password)
        return reject(401, 'Unauthorized');
      accept({});
    });
    this.server.on('client', (raw: unknown) => this.onClient(raw as ServerClient));
  }

  async listen(): Promise<string> {
    this.http = await this.server.listen(0, '127.0.0.1');
    const port = (this.http.address() as AddressInfo).port;
    return `ws://127.0.0.1:${port}/ocpp`;
  }

  async close(): Promise<void> {
    await this.server.close({ force: true, awaitPending: false }).catch(() => undefined);
  }

  of(stationId: string, action?: string): ReceivedCall[] {
    return this.calls.filter((c) => c.stationId === stationId && (!action || c.action === action));
  }

  call(stationId: string, method: string, params: unknown): Promise<unknown> {
    const c = this.clients.get(stationId);
    if (!c) throw new Error(`${stationId} is not connected`);
    return c.call(method, params);
  }

  /** Drops the station's connection from the CSMS side. */
  async drop(stationId: string): Promise<void> {
    const c = this.clients.get(stationId);
    if (c) await c.close({ force: true });
  }

  private onClient(client: ServerClient): void {
    const connection = ++this.connections;
    const stationId = client.identity;
    const protocol = client.protocol ?? '';
    this.clients.set(stationId, client);
    client.on('strictValidationFailure', (e) => this.validationFailures.push(e));
    client.on('close', () => {
      if (this.clients.get(stationId) === client) this.clients.delete(stationId);
    });
    const record = (action: string, params: Record<string, unknown>, response: Record<string, unknown>) =>
      this.calls.push({ stationId, protocol, connection, action, params, response });
    const now = () => new Date().toISOString();
    const answers: Record<string, (p: Record<string, unknown>) => Record<string, unknown>> = {
      BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: this.heartbeatInterval }),
      Heartbeat: () => ({ currentTime: now() }),
      StatusNotification: () => ({}),
      Authorize: () =>
        protocol === 'ocpp1.6' ? { idTagInfo: { status: 'Accepted' } } : { idTokenInfo: { status: 'Accepted' } },
      StartTransaction: () => ({ transactionId: this.nextTx++, idTagInfo: { status: 'Accepted' } }),
      StopTransaction: () => ({ idTagInfo: { status: 'Accepted' } }),
      MeterValues: () => ({}),
      TransactionEvent: () => ({}),
      NotifyEvent: () => ({}),
      FirmwareStatusNotification: () => ({}),
      DiagnosticsStatusNotification: () => ({}),
      LogStatusNotification: () => ({}),
    };
    for (const [action, answer] of Object.entries(answers)) {
      client.handle(action, ({ params }) => {
        const response = answer(params);
        record(action, params, response);
        return response;
      });
    }
  }
}
