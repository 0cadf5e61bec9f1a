/**
 * One simulated charging station: an `ocpp-rpc` RPCClient per connection, a per-station scheduler in
 * simulated time, connectors that play their planned sessions, an ordered outbox that keeps transaction
 * messages while offline, and handlers for the CSMS-initiated calls.
 */
import { RPCClient } from 'ocpp-rpc';
import type { V16, V201 } from '@csms/ocpp';
import { SimClock, Scheduler, type ScheduledEvent } from './clock';
import { ChargingMeter, type ChargingState, type MeterReading } from './model/charging';
import {
  bootNotification16,
  bootNotification201,
  idToken201,
  meterValue16,
  meterValue201,
  problemEvent201,
  statusNotification16,
  statusNotification201,
  type Identity,
  type Status16,
  type Status201,
} from './model/messages';
import { drawSession, type ConnectorPlan, type PlannedFault, type PlannedSession, type SessionShape, type StationPlan } from './model/plan';
import { Rng } from './model/prng';

export type Protocol = 'ocpp1.6' | 'ocpp2.0.1';

export interface BackoffOptions {
  /** first reconnect delay, real ms */
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ± fraction of the delay drawn from the seeded PRNG */
  jitter: number;
}

/** One line of the simulator's log: what a station sent and received, and what happened to it. */
export interface SimEvent {
  seq: number;
  /** real time, RFC 3339 */
  time: string;
  stationId: string;
  kind:
    | 'message'
    | 'connecting'
    | 'connected'
    | 'connect-failed'
    | 'disconnected'
    | 'booted'
    | 'queued'
    | 'dropped'
    | 'session-started'
    | 'session-ended'
    | 'auth-rejected'
    | 'fault'
    | 'offline'
    | 'reboot'
    | 'error'
    | 'done';
  /** for messages: out = station to CSMS */
  direction?: 'out' | 'in';
  frame?: 'call' | 'result' | 'error';
  messageId?: string;
  action?: string;
  payload?: unknown;
  detail?: Record<string, unknown>;
}

export interface SessionRecord {
  connectorId: number;
  n: number;
  remote: boolean;
  idTag: string;
  transactionId?: number | string;
  /** station time */
  startedAt: string;
  endedAt?: string;
  meterStartWh: number;
  meterStopWh?: number;
  energyWh?: number;
  stopReason?: string;
}

export interface StationSummary {
  stationId: string;
  protocol: Protocol;
  sessionsStarted: number;
  sessionsCompleted: number;
  authRejected: number;
  sessions: SessionRecord[];
  energyWh: number;
  errors: number;
  errorMessages: string[];
  reconnects: number;
  connectFailures: number;
  messagesSent: number;
  messagesReceived: number;
  queuedWhileOffline: number;
  done: boolean;
}

export interface StationConfig {
  id: string;
  index: number;
  protocol: Protocol;
  /** base endpoint, e.g. ws://127.0.0.1:9000/ocpp (the station id is appended) */
  url: string;
  password?: string;
  plan: StationPlan;
  /** shape of sessions started by the CSMS (remote start) */
  shape: SessionShape;
  seed: number;
  clock: SimClock;
  sampleIntervalSeconds: number;
  /** heartbeat interval until (or if) the BootNotification answer gives one */
  heartbeatIntervalSeconds: number;
  /** heartbeats never more often than this in real time */
  minHeartbeatRealMs: number;
  backoff: BackoffOptions;
  callTimeoutMs: number;
  strict: boolean;
  onPending: 'wait' | 'proceed';
  /** station seconds between firmware / diagnostics / log status steps */
  opsStepSeconds: number;
  /** station seconds a reset takes before the station connects again */
  rebootSeconds: number;
  /** tag unique to the run, for 2.0.1 transaction ids */
  runTag: string;
  identity?: Partial<Identity>;
  emit: (e: Omit<SimEvent, 'seq' | 'time' | 'stationId'>, station: Station) => void;
}

type StopReason = 'Local' | 'EVDisconnected' | 'Remote' | 'DeAuthorized' | 'SoftReset' | 'HardReset' | 'ImmediateReset' | 'UnlockCommand';
type Kind = 'tx' | 'status' | 'other';

interface Outgoing {
  action: string;
  build: () => object | undefined;
  kind: Kind;
  attempts: number;
  resolve: (v: unknown) => void;
}

interface Session {
  record: SessionRecord;
  planned: PlannedSession;
  remote: boolean;
  remoteStartId?: number;
  meter: ChargingMeter;
  meterStartWh: number;
  txStarted: boolean;
  ended: boolean;
  transactionId?: number | string;
  seqNo: number;
  startAt?: number;
  chargeAt?: number;
  state: ChargingState | 'EVConnected';
  events: ScheduledEvent[];
}

interface Connector {
  id: number;
  plan: ConnectorPlan;
  next: number;
  registerWh: number;
  status16: Status16;
  status201: Status201;
  errorCode: V16.StatusNotificationRequest['errorCode'];
  operative: boolean;
  pendingOperative?: boolean;
  faulted: boolean;
  session?: Session;
  /** a plug-in, fault or recovery waiting */
  nextEvent?: ScheduledEvent;
  remoteCount: number;
}

const CONFIG_DEFAULTS: Record<string, { value: string; readonly: boolean; numeric?: boolean }> = {
  HeartbeatInterval: { value: '300', readonly: false, numeric: true },
  MeterValueSampleInterval: { value: '60', readonly: false, numeric: true },
  ClockAlignedDataInterval: { value: '0', readonly: false, numeric: true },
  ConnectionTimeOut: { value: '60', readonly: false, numeric: true },
  NumberOfConnectors: { value: '1', readonly: true },
  AuthorizeRemoteTxRequests: { value: 'false', readonly: false },
  LocalAuthorizeOffline: { value: 'true', readonly: false },
  LocalPreAuthorize: { value: 'false', readonly: false },
  StopTransactionOnEVSideDisconnect: { value: 'true', readonly: true },
  StopTransactionOnInvalidId: { value: 'true', readonly: false },
  MeterValuesSampledData: { value: 'Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC', readonly: false },
  StopTxnSampledData: { value: 'Energy.Active.Import.Register', readonly: false },
  TransactionMessageAttempts: { value: '3', readonly: false, numeric: true },
  TransactionMessageRetryInterval: { value: '10', readonly: false, numeric: true },
  LocalAuthListEnabled: { value: 'true', readonly: false },
  LocalAuthListMaxLength: { value: '1000', readonly: true },
  SendLocalListMaxLength: { value: '1000', readonly: true },
  SupportedFeatureProfiles: { value: 'Core,FirmwareManagement,LocalAuthListManagement,RemoteTrigger', readonly: true },
};

/** 2.0.1 device-model variables mapped onto the same settings. */
const VARIABLES_201: Record<string, string> = {
  'OCPPCommCtrlr/HeartbeatInterval': 'HeartbeatInterval',
  'SampledDataCtrlr/TxUpdatedInterval': 'MeterValueSampleInterval',
  'SampledDataCtrlr/TxUpdatedMeasurands': 'MeterValuesSampledData',
  'SampledDataCtrlr/TxEndedMeasurands': 'StopTxnSampledData',
  'AlignedDataCtrlr/Interval': 'ClockAlignedDataInterval',
  'TxCtrlr/EVConnectionTimeOut': 'ConnectionTimeOut',
  'AuthCtrlr/AuthorizeRemoteStart': 'AuthorizeRemoteTxRequests',
  'AuthCtrlr/LocalAuthorizeOffline': 'LocalAuthorizeOffline',
  'LocalAuthListCtrlr/Enabled': 'LocalAuthListEnabled',
  'OCPPCommCtrlr/MessageAttempts': 'TransactionMessageAttempts',
  'TxCtrlr/TxStartPoint': 'TxStartPoint',
  'TxCtrlr/TxStopPoint': 'TxStopPoint',
};
const COMPONENTS_201 = new Set(Object.keys(VARIABLES_201).map((k) => k.split('/')[0]));

const rpcClientCtor = RPCClient as unknown as new (opts: Record<string, unknown>) => RPCClient;

export class Station {
  readonly id: string;
  readonly protocol: Protocol;
  readonly summary: StationSummary;
  private readonly cfg: StationConfig;
  private readonly clock: SimClock;
  private readonly sched: Scheduler;
  private readonly connectors: Connector[];
  private readonly backoffRng: Rng;
  private readonly config = new Map<string, { value: string; readonly: boolean; numeric?: boolean }>();
  private client?: RPCClient;
  private online = false;
  private stopped = false;
  private needBoot = true;
  private booted = false;
  private bootReason: V201.BootReasonEnumType = 'PowerUp';
  private bootAt = 0;
  private offlineUntil = 0;
  private outbox: Outgoing[] = [];
  private pumping = false;
  private heartbeatEvent?: ScheduledEvent;
  private heartbeatSeconds: number;
  private firmwareStatus = 'Idle';
  private diagnosticsStatus = 'Idle';
  private logStatus = 'Idle';
  private firmwareVersion: string;
  private localListVersion = 0;
  private pendingReset = false;
  private rebooting = false;
  private eventIds = 0;
  private connectAttempts = 0;
  private connectedOnce = false;
  private wakeConnect?: () => void;
  private doneResolve!: (s: StationSummary) => void;
  /** resolves when every planned session has run and every queued message is delivered */
  readonly done: Promise<StationSummary>;
  private readonly pendingActions = new Map<string, string>();

  constructor(cfg: StationConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.protocol = cfg.protocol;
    this.clock = cfg.clock;
    this.backoffRng = Rng.derive(cfg.seed, 'backoff', cfg.index);
    this.heartbeatSeconds = cfg.heartbeatIntervalSeconds;
    this.firmwareVersion = cfg.identity?.firmwareVersion ?? '1.0.0';
    this.sched = new Scheduler(cfg.clock, (label, err) => this.error(`event ${label} failed: ${(err as Error).message}`));
    for (const [k, v] of Object.entries(CONFIG_DEFAULTS)) this.config.set(k, { ...v });
    this.config.get('NumberOfConnectors')!.value = String(cfg.plan.connectors.length);
    this.config.get('MeterValueSampleInterval')!.value = String(cfg.sampleIntervalSeconds);
    this.config.get('HeartbeatInterval')!.value = String(cfg.heartbeatIntervalSeconds);
    this.config.set('TxStartPoint', { value: 'Authorized', readonly: true });
    this.config.set('TxStopPoint', { value: 'EVConnected,Authorized', readonly: true });
    this.connectors = cfg.plan.connectors.map((plan) => ({
      id: plan.connectorId,
      plan,
      next: 0,
      registerWh: plan.initialRegisterWh,
      status16: 'Available',
      status201: 'Available',
      errorCode: 'NoError',
      operative: true,
      faulted: false,
      remoteCount: 0,
    }));
    this.summary = {
      stationId: cfg.id,
      protocol: cfg.protocol,
      sessionsStarted: 0,
      sessionsCompleted: 0,
      authRejected: 0,
      sessions: [],
      energyWh: 0,
      errors: 0,
      errorMessages: [],
      reconnects: 0,
      connectFailures: 0,
      messagesSent: 0,
      messagesReceived: 0,
      queuedWhileOffline: 0,
      done: false,
    };
    this.done = new Promise((r) => (this.doneResolve = r));
  }

  get v16(): boolean {
    return this.protocol === 'ocpp1.6';
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** Messages waiting in the outbox (queued while offline, or not yet answered). */
  get queued(): number {
    return this.outbox.length;
  }

  /** Connects (retrying with back-off) and, once booted, plays the plan. */
  start(): void {
    void this.connectLoop();
  }

  /** Closes the connection and stops everything; pending messages are abandoned. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sched.stop();
    this.wakeConnect?.();
    const c = this.client;
    this.client = undefined;
    this.online = false;
    for (const o of this.outbox) o.resolve(undefined);
    this.outbox = [];
    if (c) await c.close({ code: 1000, reason: 'simulation ended' }).catch(() => undefined);
  }

  /** Drops the connection at once (as a network failure would); the station reconnects with back-off. */
  dropConnection(): void {
    const c = this.client;
    this.online = false; // what is in flight stays queued (closing rejects it with "Client going away")
    if (c) void c.close({ force: true }).catch(() => undefined);
  }

  /** Loses the network for `seconds` of station time, then reconnects. */
  goOffline(seconds: number): void {
    this.offlineUntil = Math.max(this.offlineUntil, this.now() + seconds * 1000);
    this.emit({ kind: 'offline', detail: { seconds, until: this.clock.iso(this.offlineUntil) } });
    this.dropConnection();
  }

  // ───────────────────────── connection ─────────────────────────

  private async connectLoop(): Promise<void> {
    while (!this.stopped) {
      const wait = this.clock.realDelay(this.offlineUntil);
      if (wait > 0) {
        await this.sleepReal(wait);
        continue;
      }
      const client = new rpcClientCtor({
        identity: this.id,
        endpoint: this.cfg.url.replace(/\/+$/, ''),
        protocols: [this.protocol],
        password: this.cfg.password ?? null,
        reconnect: false,
        callTimeoutMs: this.cfg.callTimeoutMs,
        pingIntervalMs: 0,
        strictMode: this.cfg.strict,
      });
      this.attachLog(client);
      this.registerHandlers(client);
      this.emit({ kind: 'connecting', detail: { attempt: this.connectAttempts + 1 } });
      try {
        await client.connect();
      } catch (err) {
        this.connectAttempts++;
        this.summary.connectFailures++;
        const delay = this.backoffDelay(this.connectAttempts);
        this.emit({ kind: 'connect-failed', detail: { error: (err as Error).message, retryInMs: delay } });
        await this.sleepReal(delay);
        continue;
      }
      if (this.stopped) {
        await client.close({ force: true }).catch(() => undefined);
        return;
      }
      this.connectAttempts = 0;
      if (this.connectedOnce) this.summary.reconnects++;
      this.connectedOnce = true;
      this.client = client;
      client.once('close', () => this.onClose(client));
      this.emit({ kind: 'connected' });
      try {
        await this.afterConnect(client);
      } catch (err) {
        if (this.client === client) {
          this.error(`after connect: ${(err as Error).message}`);
          void client.close({ force: true }).catch(() => undefined);
        }
      }
      return;
    }
  }

  private backoffDelay(attempt: number): number {
    const b = this.cfg.backoff;
    const base = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, attempt - 1));
    return Math.max(0, Math.round(base * (1 + b.jitter * (2 * this.backoffRng.next() - 1))));
  }

  private sleepReal(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeConnect = undefined;
        resolve();
      }, ms);
      this.wakeConnect = () => {
        clearTimeout(t);
        this.wakeConnect = undefined;
        resolve();
      };
    });
  }

  private onClose(client: RPCClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.online = false;
    this.pendingActions.clear();
    // only what must survive an outage stays queued: transaction messages and status notifications
    const keep: Outgoing[] = [];
    for (const o of this.outbox) {
      if (o.kind === 'other') o.resolve(undefined);
      else keep.push(o);
    }
    this.outbox = keep;
    this.emit({ kind: 'disconnected', detail: { queued: keep.length } });
    if (!this.stopped) void this.connectLoop();
  }

  private async afterConnect(client: RPCClient): Promise<void> {
    if (this.needBoot) {
      for (;;) {
        const payload = this.v16
          ? bootNotification16(this.identity())
          : bootNotification201(this.identity(), this.bootReason);
        const res = (await client.call('BootNotification', payload)) as { status: string; interval: number };
        if (res.interval > 0) this.setHeartbeat(res.interval);
        if (res.status === 'Accepted' || (res.status === 'Pending' && this.cfg.onPending === 'proceed')) break;
        // Pending / Rejected: try again after the interval (1.6 §4.2, 2.0.1 B02/B03)
        const retryMs = Math.min(Math.max(res.interval || 10, 1) * 1000, 60_000);
        await new Promise((r) => setTimeout(r, retryMs));
        if (this.client !== client) throw new Error('connection closed during boot');
      }
      this.needBoot = false;
      this.rebooting = false;
      this.emit({ kind: 'booted', detail: { reason: this.bootReason } });
      const at = Math.max(this.bootAt, this.sched.current);
      if (this.v16) await client.call('StatusNotification', statusNotification16(0, 'Available', this.clock.iso(at)));
      for (const c of this.connectors) await client.call('StatusNotification', this.statusPayload(c, at));
    }
    if (this.client !== client) return;
    this.online = true;
    if (!this.booted) {
      this.booted = true;
      for (const c of this.connectors) this.scheduleNext(c, 0);
      this.scheduleHeartbeat();
      this.sched.start();
    }
    void this.pump();
    this.checkDone();
  }

  private identity(): Identity {
    const id = this.cfg.identity ?? {};
    return {
      vendor: id.vendor ?? 'CSMS-Sim',
      model: id.model ?? `Sim-${this.connectors.length}x${Math.round(this.cfg.shape.maxPowerW[1] / 1000)}kW`,
      serialNumber: id.serialNumber ?? this.id.slice(-25),
      firmwareVersion: this.firmwareVersion,
    };
  }

  private attachLog(client: RPCClient): void {
    client.on('message', ({ message, outbound }: { message: string; outbound: boolean }) => {
      let frame: unknown;
      try {
        frame = JSON.parse(message);
      } catch {
        return;
      }
      if (!Array.isArray(frame)) return;
      const [type, messageId] = frame as [number, string];
      const direction = outbound ? 'out' : 'in';
      if (outbound) this.summary.messagesSent++;
      else this.summary.messagesReceived++;
      if (type === 2) {
        const action = frame[2] as string;
        this.pendingActions.set(messageId, action);
        this.emit({ kind: 'message', direction, frame: 'call', messageId, action, payload: frame[3] });
      } else {
        const action = this.pendingActions.get(messageId);
        this.pendingActions.delete(messageId);
        if (type === 3) this.emit({ kind: 'message', direction, frame: 'result', messageId, action, payload: frame[2] });
        else this.emit({ kind: 'message', direction, frame: 'error', messageId, action, payload: { code: frame[2], description: frame[3], details: frame[4] } });
      }
    });
    client.on('strictValidationFailure', (e: { method?: string; error?: Error; outbound?: boolean }) => {
      this.error(`schema validation failed (${e.outbound ? 'outbound' : 'inbound'} ${e.method ?? ''}): ${e.error?.message ?? ''}`);
    });
  }

  // ───────────────────────── outbox ─────────────────────────

  /**
   * Sends a CALL in order with everything sent before it. While offline, transaction messages and status
   * notifications wait in the outbox (with their original timestamps); other messages are dropped and
   * resolve to undefined. Resolves to the CSMS's answer, or undefined when there was none.
   */
  private send(action: string, build: () => object | undefined, kind: Kind): Promise<unknown> {
    return new Promise((resolve) => {
      if (!this.online && kind === 'other') {
        this.emit({ kind: 'dropped', action });
        resolve(undefined);
        return;
      }
      if (!this.online) {
        this.summary.queuedWhileOffline++;
        this.emit({ kind: 'queued', action, detail: { queue: this.outbox.length + 1 } });
      }
      this.outbox.push({ action, build, kind, attempts: 0, resolve });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.online && this.outbox.length && this.client) {
        const item = this.outbox[0];
        const client = this.client;
        const payload = item.build();
        if (payload === undefined) {
          this.outbox.shift();
          item.resolve(undefined);
          continue;
        }
        try {
          const res = await client.call(item.action, payload);
          this.outbox.shift();
          item.resolve(res);
        } catch (err) {
          // connection lost: stays queued (tx/status) for the next connection
          if (!this.online || this.client !== client || client.state !== RPCClient.OPEN) break;
          item.attempts++;
          const attempts = Number(this.config.get('TransactionMessageAttempts')?.value ?? 3);
          this.error(`${item.action} failed (attempt ${item.attempts}): ${(err as Error).message}`);
          if (item.kind === 'tx' && item.attempts < attempts) {
            await new Promise((r) => setTimeout(r, Math.min(this.cfg.backoff.initialMs, 5_000)));
            continue;
          }
          this.outbox.shift();
          item.resolve(undefined);
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.online && this.outbox.length && this.client) void this.pump();
    else this.checkDone();
  }

  // ───────────────────────── time and helpers ─────────────────────────

  /** Virtual time of what is happening now: the running event's time, or the clock for CSMS-initiated work. */
  private now(): number {
    return Math.max(this.sched.current, this.clock.virtualNow());
  }

  private ts(at: number): string {
    return this.clock.iso(at);
  }

  private emit(e: Omit<SimEvent, 'seq' | 'time' | 'stationId'>): void {
    this.cfg.emit(e, this);
  }

  private error(message: string): void {
    this.summary.errors++;
    if (this.summary.errorMessages.length < 20) this.summary.errorMessages.push(message);
    this.emit({ kind: 'error', detail: { message } });
  }

  /** Runs `fn` after the current CALLRESULT has gone out (ocpp-rpc sends it on the microtask queue). */
  private afterReply(fn: () => void): void {
    setImmediate(() => {
      if (!this.stopped) fn();
    });
  }

  /** Schedules work at virtual `at` (never before the running event). */
  private at(at: number, label: string, run: () => Promise<void> | void): ScheduledEvent {
    return this.sched.schedule(Math.max(at, this.sched.current), label, run);
  }

  private sampleIntervalMs(): number {
    return Math.max(1, Number(this.config.get('MeterValueSampleInterval')?.value ?? this.cfg.sampleIntervalSeconds)) * 1000;
  }

  private setHeartbeat(seconds: number): void {
    this.heartbeatSeconds = seconds;
    this.config.get('HeartbeatInterval')!.value = String(seconds);
    if (this.booted) this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    this.sched.cancel(this.heartbeatEvent);
    if (!(this.heartbeatSeconds > 0)) return;
    const every = Math.max(this.heartbeatSeconds * 1000, Math.ceil(this.cfg.minHeartbeatRealMs * this.clock.speed));
    const next = (Math.floor(this.sched.current / every) + 1) * every;
    this.heartbeatEvent = this.at(next, 'heartbeat', () => {
      void this.send('Heartbeat', () => ({}), 'other');
      this.scheduleHeartbeat();
    });
  }

  // ───────────────────────── status ─────────────────────────

  private statusPayload(c: Connector, at: number): object {
    return this.v16 ? statusNotification16(c.id, c.status16, this.ts(at), c.errorCode) : statusNotification201(c.id, c.status201, this.ts(at));
  }

  /** Sets a connector's status and reports it (1.6 status; the 2.0.1 status is derived). */
  private setStatus(c: Connector, status16: Status16, at: number, errorCode: V16.StatusNotificationRequest['errorCode'] = 'NoError'): void {
    const status201: Status201 =
      status16 === 'Available' ? 'Available' : status16 === 'Faulted' ? 'Faulted' : status16 === 'Unavailable' ? 'Unavailable' : status16 === 'Reserved' ? 'Reserved' : 'Occupied';
    const changed16 = c.status16 !== status16 || c.errorCode !== errorCode;
    const changed201 = c.status201 !== status201;
    c.status16 = status16;
    c.status201 = status201;
    c.errorCode = errorCode;
    if (this.v16 ? changed16 : changed201) {
      const payload = this.statusPayload(c, at);
      void this.send('StatusNotification', () => payload, 'status');
    }
  }

  // ───────────────────────── sessions ─────────────────────────

  private scheduleNext(c: Connector, from: number): void {
    if (c.session || c.nextEvent || c.faulted) return;
    const s = c.plan.sessions[c.next];
    if (!s) {
      this.checkDone();
      return;
    }
    c.nextEvent = this.at(from + s.gapSeconds * 1000, `plug-in ${c.id}`, () => {
      c.nextEvent = undefined;
      if (c.session || !c.operative || c.faulted) return; // picked up again when the connector is free
      c.next++;
      this.plugIn(c, s, false);
    });
  }

  private plugIn(c: Connector, s: PlannedSession, remote: boolean, remoteStartId?: number): Session {
    const at = this.sched.current;
    const sess: Session = {
      record: { connectorId: c.id, n: s.n, remote, idTag: s.idTag, startedAt: this.ts(at), meterStartWh: c.registerWh },
      planned: s,
      remote,
      remoteStartId,
      meter: new ChargingMeter(s.charging),
      meterStartWh: c.registerWh,
      txStarted: false,
      ended: false,
      seqNo: 0,
      state: 'EVConnected',
      events: [],
    };
    c.session = sess;
    this.setStatus(c, 'Preparing', at);
    if (!remote) sess.events.push(this.at(at + s.plugToAuthSeconds * 1000, `authorize ${c.id}`, () => this.authorize(c, sess)));
    return sess;
  }

  private async authorize(c: Connector, sess: Session, trigger: 'Authorized' | 'RemoteStart' = 'Authorized'): Promise<void> {
    const idTag = sess.planned.idTag;
    const res = (await this.send('Authorize', () => (this.v16 ? { idTag } : { idToken: idToken201(idTag) }), 'other')) as
      | V16.AuthorizeResponse
      | V201.AuthorizeResponse
      | undefined;
    if (sess.ended || c.session !== sess) return;
    // no answer (offline): LocalAuthorizeOffline, the tag is accepted locally
    const status = res === undefined ? 'Accepted' : 'idTagInfo' in res ? res.idTagInfo.status : res.idTokenInfo.status;
    if (status !== 'Accepted') {
      this.summary.authRejected++;
      this.emit({ kind: 'auth-rejected', detail: { connectorId: c.id, idTag, status } });
      sess.ended = true;
      const at = this.sched.current + 5_000;
      this.at(at, `unplug ${c.id}`, () => this.unplug(c, sess));
      return;
    }
    this.startTransaction(c, sess, trigger);
  }

  private startTransaction(c: Connector, sess: Session, trigger: 'Authorized' | 'RemoteStart'): void {
    const at = this.sched.current;
    sess.txStarted = true;
    sess.startAt = at;
    sess.meterStartWh = c.registerWh;
    sess.record.meterStartWh = c.registerWh;
    sess.record.startedAt = this.ts(at);
    this.summary.sessionsStarted++;
    this.summary.sessions.push(sess.record);
    const idTag = sess.planned.idTag;
    if (this.v16) {
      const payload: V16.StartTransactionRequest = { connectorId: c.id, idTag, meterStart: sess.meterStartWh, timestamp: this.ts(at) };
      void this.send('StartTransaction', () => payload, 'tx').then((r) => {
        const res = r as V16.StartTransactionResponse | undefined;
        if (!res) return;
        sess.transactionId = res.transactionId;
        sess.record.transactionId = res.transactionId;
        this.emit({ kind: 'session-started', detail: { connectorId: c.id, transactionId: res.transactionId, idTag } });
        if (res.idTagInfo.status !== 'Accepted') this.deauthorize(c, sess);
      });
    } else {
      const txId = `${this.cfg.runTag}-${c.id}-${this.summary.sessionsStarted}`;
      sess.transactionId = txId;
      sess.record.transactionId = txId;
      this.txEvent(c, sess, at, 'Started', trigger, {
        chargingState: 'EVConnected',
        ...(sess.remoteStartId !== undefined ? { remoteStartId: sess.remoteStartId } : {}),
        extra: { idToken: idToken201(idTag), evse: { id: c.id, connectorId: 1 }, numberOfPhasesUsed: sess.planned.charging.phases },
        meter: [meterValue201(this.ts(at), { registerWh: sess.meterStartWh, phases: sess.planned.charging.phases }, 'Transaction.Begin', false)],
      });
      this.emit({ kind: 'session-started', detail: { connectorId: c.id, transactionId: txId, idTag } });
    }
    sess.events.push(this.at(at + sess.planned.authToChargeSeconds * 1000, `charge ${c.id}`, () => this.beginCharging(c, sess)));
  }

  private txEvent(
    c: Connector,
    sess: Session,
    at: number,
    eventType: V201.TransactionEventRequest['eventType'],
    triggerReason: V201.TriggerReasonEnumType,
    o: {
      chargingState?: V201.ChargingStateEnumType;
      remoteStartId?: number;
      stoppedReason?: V201.ReasonEnumType;
      timeSpentCharging?: number;
      meter?: V201.MeterValueType[];
      extra?: Partial<V201.TransactionEventRequest>;
    },
  ): Promise<unknown> {
    const offline = !this.online;
    const payload: V201.TransactionEventRequest = {
      eventType,
      timestamp: this.ts(at),
      triggerReason,
      seqNo: sess.seqNo++,
      ...(offline ? { offline: true } : {}),
      transactionInfo: {
        transactionId: String(sess.transactionId),
        ...(o.chargingState ? { chargingState: o.chargingState } : {}),
        ...(o.timeSpentCharging !== undefined ? { timeSpentCharging: o.timeSpentCharging } : {}),
        ...(o.stoppedReason ? { stoppedReason: o.stoppedReason } : {}),
        ...(o.remoteStartId !== undefined ? { remoteStartId: o.remoteStartId } : {}),
      },
      ...(o.meter ? { meterValue: o.meter as [V201.MeterValueType, ...V201.MeterValueType[]] } : {}),
      ...(o.extra ?? {}),
    };
    const p = this.send('TransactionEvent', () => payload, 'tx');
    if (eventType !== 'Ended') {
      void p.then((r) => {
        const res = r as V201.TransactionEventResponse | undefined;
        if (res?.idTokenInfo && res.idTokenInfo.status !== 'Accepted') this.deauthorize(c, sess);
      });
    }
    return p;
  }

  private deauthorize(c: Connector, sess: Session): void {
    if (sess.ended) return;
    this.at(this.now(), `deauthorize ${c.id}`, () => this.stopTransaction(c, sess, 'DeAuthorized'));
  }

  private beginCharging(c: Connector, sess: Session): void {
    if (sess.ended) return;
    const at = this.sched.current;
    sess.chargeAt = at;
    for (const ch of sess.meter.stateChanges) {
      sess.events.push(this.at(at + ch.t * 1000, `state ${c.id}`, () => this.chargingState(c, sess, ch.state)));
    }
    sess.events.push(this.at(at + this.sampleIntervalMs(), `sample ${c.id}`, () => this.sample(c, sess)));
    const stopAt = at + (sess.meter.endSecond + sess.planned.idleSeconds) * 1000;
    const reason: StopReason = sess.planned.stopBy === 'unplug' ? 'EVDisconnected' : 'Local';
    sess.events.push(this.at(stopAt, `stop ${c.id}`, () => this.stopTransaction(c, sess, reason)));
    const off = sess.planned.offline;
    if (off && !sess.remote) sess.events.push(this.at(at + off.atChargingSecond * 1000, `offline`, () => this.goOffline(off.seconds)));
  }

  private reading(sess: Session, at: number): MeterReading | undefined {
    if (sess.chargeAt === undefined) return undefined;
    return sess.meter.at(Math.max(0, Math.floor((at - sess.chargeAt) / 1000)));
  }

  private chargingState(c: Connector, sess: Session, state: ChargingState): void {
    if (sess.ended || sess.state === state) return;
    sess.state = state;
    const at = this.sched.current;
    if (this.v16) this.setStatus(c, state, at);
    else this.txEvent(c, sess, at, 'Updated', 'ChargingStateChanged', { chargingState: state });
  }

  private meterSample(c: Connector, sess: Session, at: number, context: 'Sample.Periodic' | 'Trigger'): void {
    const reading = this.reading(sess, at);
    const registerWh = sess.meterStartWh + (reading?.energyWh ?? 0);
    const sample = { registerWh, reading, phases: sess.planned.charging.phases };
    if (this.v16) {
      const mv = meterValue16(this.ts(at), sample, context);
      void this.send('MeterValues', () => (sess.transactionId === undefined ? { connectorId: c.id, meterValue: [mv] } : { connectorId: c.id, transactionId: sess.transactionId, meterValue: [mv] }), 'tx');
    } else {
      this.txEvent(c, sess, at, 'Updated', context === 'Trigger' ? 'Trigger' : 'MeterValuePeriodic', { meter: [meterValue201(this.ts(at), sample, context)] });
    }
  }

  private sample(c: Connector, sess: Session): void {
    if (sess.ended) return;
    const at = this.sched.current;
    this.meterSample(c, sess, at, 'Sample.Periodic');
    sess.events.push(this.at(at + this.sampleIntervalMs(), `sample ${c.id}`, () => this.sample(c, sess)));
  }

  private stopTransaction(c: Connector, sess: Session, reason: StopReason): void {
    if (sess.ended || c.session !== sess) return;
    sess.ended = true;
    for (const e of sess.events) this.sched.cancel(e);
    sess.events = [];
    const at = this.sched.current;
    const reading = this.reading(sess, at);
    const meterStop = sess.meterStartWh + (reading?.energyWh ?? 0);
    c.registerWh = meterStop;
    const unplugged = reason === 'EVDisconnected';
    Object.assign(sess.record, { endedAt: this.ts(at), meterStopWh: meterStop, energyWh: meterStop - sess.meterStartWh, stopReason: reason });
    const idTag = sess.planned.idTag;
    if (this.v16) {
      const startTs = this.ts(sess.startAt ?? at);
      const phases = sess.planned.charging.phases;
      const reason16 = reason === 'ImmediateReset' ? 'HardReset' : reason;
      const build = (): V16.StopTransactionRequest | undefined =>
        sess.transactionId === undefined
          ? undefined
          : {
              transactionId: sess.transactionId as number,
              ...(reason === 'Local' ? { idTag } : {}),
              meterStop,
              timestamp: this.ts(at),
              reason: reason16,
              transactionData: [
                meterValue16(startTs, { registerWh: sess.meterStartWh, phases }, 'Transaction.Begin', false),
                meterValue16(this.ts(at), { registerWh: meterStop, phases }, 'Transaction.End', false),
              ],
            };
      void this.send('StopTransaction', build, 'tx');
      this.setStatus(c, unplugged ? 'Available' : 'Finishing', at);
    } else {
      const map: Record<StopReason, [V201.TriggerReasonEnumType, V201.ReasonEnumType]> = {
        Local: ['StopAuthorized', 'Local'],
        EVDisconnected: ['EVCommunicationLost', 'EVDisconnected'],
        Remote: ['RemoteStop', 'Remote'],
        DeAuthorized: ['Deauthorized', 'DeAuthorized'],
        SoftReset: ['ResetCommand', 'Reboot'],
        HardReset: ['ResetCommand', 'ImmediateReset'],
        ImmediateReset: ['ResetCommand', 'ImmediateReset'],
        UnlockCommand: ['UnlockCommand', 'Other'],
      };
      const [trigger, stoppedReason] = map[reason];
      this.txEvent(c, sess, at, 'Ended', trigger, {
        chargingState: unplugged ? 'Idle' : 'EVConnected',
        stoppedReason,
        timeSpentCharging: reading?.chargingSeconds ?? 0,
        meter: [meterValue201(this.ts(at), { registerWh: meterStop, phases: sess.planned.charging.phases }, 'Transaction.End', false)],
        extra: reason === 'Local' ? { idToken: idToken201(idTag) } : {},
      });
      if (unplugged) this.setStatus(c, 'Available', at);
    }
    this.summary.sessionsCompleted++;
    this.summary.energyWh += meterStop - sess.meterStartWh;
    this.emit({ kind: 'session-ended', detail: { connectorId: c.id, transactionId: sess.transactionId, reason, energyWh: meterStop - sess.meterStartWh } });
    if (unplugged) this.freeConnector(c, sess, at);
    else this.at(at + sess.planned.unplugAfterStopSeconds * 1000, `unplug ${c.id}`, () => this.unplug(c, sess));
  }

  private unplug(c: Connector, sess: Session): void {
    if (c.session !== sess) return;
    const at = this.sched.current;
    this.setStatus(c, 'Available', at);
    this.freeConnector(c, sess, at);
  }

  private freeConnector(c: Connector, sess: Session, at: number): void {
    if (c.session !== sess) return;
    c.session = undefined;
    if (c.pendingOperative !== undefined) {
      c.operative = c.pendingOperative;
      c.pendingOperative = undefined;
      if (!c.operative) this.setStatus(c, 'Unavailable', at);
    }
    if (this.pendingReset && this.connectors.every((x) => !x.session)) {
      this.pendingReset = false;
      this.at(at, 'reset', () => this.reboot('ImmediateReset'));
    }
    const fault = sess.remote ? undefined : sess.planned.faultAfter;
    if (fault) this.scheduleFault(c, fault, at);
    else this.scheduleNext(c, at);
  }

  private scheduleFault(c: Connector, f: PlannedFault, from: number): void {
    c.nextEvent = this.at(from + f.afterSeconds * 1000, `fault ${c.id}`, () => {
      c.nextEvent = undefined;
      if (c.session) return this.scheduleNext(c, this.sched.current);
      const at = this.sched.current;
      c.faulted = true;
      this.emit({ kind: 'fault', detail: { connectorId: c.id, errorCode: f.errorCode, seconds: f.seconds } });
      this.setStatus(c, 'Faulted', at, f.errorCode);
      if (!this.v16) void this.send('NotifyEvent', () => problemEvent201(c.id, ++this.eventIds, this.ts(at), true, f.errorCode), 'status');
      c.nextEvent = this.at(at + f.seconds * 1000, `recover ${c.id}`, () => {
        c.nextEvent = undefined;
        const t = this.sched.current;
        c.faulted = false;
        this.setStatus(c, c.operative ? 'Available' : 'Unavailable', t);
        if (!this.v16) void this.send('NotifyEvent', () => problemEvent201(c.id, ++this.eventIds, this.ts(t), false, f.errorCode), 'status');
        this.scheduleNext(c, t);
      });
    });
  }

  private checkDone(): void {
    if (this.summary.done || !this.booted) return;
    const idle = this.connectors.every((c) => !c.session && !c.nextEvent && (c.next >= c.plan.sessions.length || !c.operative));
    if (idle && this.outbox.length === 0 && !this.rebooting) {
      this.summary.done = true;
      this.emit({ kind: 'done' });
      this.doneResolve(this.summary);
    }
  }

  // ───────────────────────── CSMS-initiated ─────────────────────────

  private connector(id: number | undefined): Connector | undefined {
    return id === undefined ? undefined : this.connectors.find((c) => c.id === id);
  }

  /** A free connector for a remote start: the one asked for, else the first without a session. */
  private remoteTarget(id: number | undefined): Connector | undefined {
    const candidates = id === undefined ? this.connectors : [this.connector(id)].filter((c): c is Connector => !!c);
    return candidates.find((c) => c.operative && !c.faulted && (!c.session || (!c.session.txStarted && !c.session.ended)));
  }

  private remoteStart(c: Connector, idTag: string, remoteStartId?: number): void {
    this.afterReply(() => {
      this.at(this.now(), `remote-start ${c.id}`, () => {
        let sess = c.session;
        if (sess && (sess.txStarted || sess.ended)) return;
        if (sess) {
          for (const e of sess.events) this.sched.cancel(e);
          sess.events = [];
          sess.planned = { ...sess.planned, idTag };
          sess.remote = true;
          sess.record.remote = true;
          sess.record.idTag = idTag;
          sess.remoteStartId = remoteStartId;
        } else {
          this.sched.cancel(c.nextEvent);
          c.nextEvent = undefined;
          const rng = Rng.derive(this.cfg.seed, 'station', this.cfg.index, 'remote', c.id, ++c.remoteCount);
          const planned = { ...drawSession(rng, this.cfg.shape, c.remoteCount, [idTag]), idTag };
          delete planned.offline;
          delete planned.faultAfter;
          sess = this.plugIn(c, planned, true, remoteStartId);
        }
        // AuthorizeRemoteTxRequests (1.6) / AuthCtrlr.AuthorizeRemoteStart (2.0.1): authorise the remote tag first
        if (this.config.get('AuthorizeRemoteTxRequests')?.value === 'true') return this.authorize(c, sess, 'RemoteStart');
        this.startTransaction(c, sess, 'RemoteStart');
      });
    });
  }

  private findTx(txId: unknown): [Connector, Session] | undefined {
    for (const c of this.connectors) {
      if (c.session && c.session.txStarted && !c.session.ended && String(c.session.transactionId) === String(txId)) return [c, c.session];
    }
    return undefined;
  }

  private remoteStop(txId: unknown): boolean {
    const found = this.findTx(txId);
    if (!found) return false;
    const [c, sess] = found;
    this.afterReply(() => this.at(this.now(), `remote-stop ${c.id}`, () => this.stopTransaction(c, sess, 'Remote')));
    return true;
  }

  private reboot(reason: StopReason): void {
    if (this.rebooting) return;
    this.rebooting = true;
    const at = this.sched.current;
    this.emit({ kind: 'reboot', detail: { reason } });
    for (const c of this.connectors) {
      const s = c.session;
      if (!s) continue;
      if (s.txStarted && !s.ended) this.stopTransaction(c, s, reason);
      else if (!s.txStarted && !s.ended) {
        // plugged in, not yet started: the driver gives up and unplugs
        for (const e of s.events) this.sched.cancel(e);
        s.ended = true;
        this.at(at + s.planned.unplugAfterStopSeconds * 1000, `unplug ${c.id}`, () => this.unplug(c, s));
      }
    }
    this.needBoot = true;
    this.bootReason = 'RemoteReset';
    this.bootAt = at + this.cfg.rebootSeconds * 1000;
    void this.drained(10_000).then(() => {
      this.offlineUntil = Math.max(this.offlineUntil, this.bootAt);
      const c = this.client;
      if (c) void c.close({ code: 1012, reason: 'reset' }).catch(() => undefined);
      else this.wakeConnect?.();
    });
  }

  private async drained(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (this.outbox.length && this.online && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  private opsSequence(action: string, statuses: string[], extra: Record<string, unknown>, setStatus: (s: string) => void, start: number, then?: () => void): void {
    let at = start;
    for (const status of statuses) {
      this.at(at, action, () => {
        setStatus(status);
        void this.send(action, () => ({ status, ...extra }), 'status');
      });
      at += this.cfg.opsStepSeconds * 1000;
    }
    if (then) this.at(at - this.cfg.opsStepSeconds * 1000, `${action} done`, then);
  }

  private registerHandlers(client: RPCClient): void {
    type P = Record<string, unknown>;
    const h = (action: string, fn: (params: P) => unknown) =>
      client.handle(action, async ({ params }) => (await fn((params ?? {}) as P)) as Record<string, unknown>);

    h('Reset', (p) => {
      if (this.v16) {
        const type = (p as unknown as V16.ResetRequest).type;
        this.afterReply(() => this.at(this.now(), 'reset', () => this.reboot(type === 'Hard' ? 'HardReset' : 'SoftReset')));
        return { status: 'Accepted' };
      }
      const req = p as unknown as V201.ResetRequest;
      if (req.evseId !== undefined) return { status: 'Rejected' };
      if (req.type === 'OnIdle' && this.connectors.some((c) => c.session)) {
        this.pendingReset = true;
        return { status: 'Scheduled' };
      }
      this.afterReply(() => this.at(this.now(), 'reset', () => this.reboot('ImmediateReset')));
      return { status: 'Accepted' };
    });

    h('RemoteStartTransaction', (p) => {
      const req = p as unknown as V16.RemoteStartTransactionRequest;
      const c = this.remoteTarget(req.connectorId);
      if (!c) return { status: 'Rejected' };
      this.remoteStart(c, req.idTag);
      return { status: 'Accepted' };
    });
    h('RequestStartTransaction', (p) => {
      const req = p as unknown as V201.RequestStartTransactionRequest;
      const c = this.remoteTarget(req.evseId);
      if (!c) return { status: 'Rejected' };
      this.remoteStart(c, req.idToken.idToken, req.remoteStartId);
      return { status: 'Accepted' };
    });
    h('RemoteStopTransaction', (p) => ({ status: this.remoteStop((p as unknown as V16.RemoteStopTransactionRequest).transactionId) ? 'Accepted' : 'Rejected' }));
    h('RequestStopTransaction', (p) => ({ status: this.remoteStop((p as unknown as V201.RequestStopTransactionRequest).transactionId) ? 'Accepted' : 'Rejected' }));

    h('ChangeAvailability', (p) => {
      let targets: Connector[];
      let operative: boolean;
      if (this.v16) {
        const req = p as unknown as V16.ChangeAvailabilityRequest;
        operative = req.type === 'Operative';
        targets = req.connectorId === 0 ? this.connectors : [this.connector(req.connectorId)].filter((c): c is Connector => !!c);
        if (!targets.length) return { status: 'Rejected' };
      } else {
        const req = p as unknown as V201.ChangeAvailabilityRequest;
        operative = req.operationalStatus === 'Operative';
        targets = req.evse ? [this.connector(req.evse.id)].filter((c): c is Connector => !!c) : this.connectors;
        if (!targets.length) return { status: 'Rejected' };
      }
      let scheduled = false;
      for (const c of targets) {
        if (c.session) {
          c.pendingOperative = operative;
          scheduled = true;
          continue;
        }
        this.afterReply(() =>
          this.at(this.now(), 'availability', () => {
            c.operative = operative;
            if (!c.faulted) this.setStatus(c, operative ? 'Available' : 'Unavailable', this.sched.current);
            if (operative) this.scheduleNext(c, this.sched.current);
            else this.checkDone();
          }),
        );
      }
      return { status: scheduled ? 'Scheduled' : 'Accepted' };
    });

    h('UnlockConnector', (p) => {
      if (this.v16) {
        const c = this.connector((p as unknown as V16.UnlockConnectorRequest).connectorId);
        if (!c) return { status: 'NotSupported' };
        const s = c.session;
        if (s?.txStarted && !s.ended) this.afterReply(() => this.at(this.now(), 'unlock', () => this.stopTransaction(c, s, 'UnlockCommand')));
        return { status: 'Unlocked' };
      }
      const req = p as unknown as V201.UnlockConnectorRequest;
      const c = this.connector(req.evseId);
      if (!c || req.connectorId !== 1) return { status: 'UnknownConnector' };
      if (c.session?.txStarted && !c.session.ended) return { status: 'OngoingAuthorizedTransaction' };
      return { status: 'Unlocked' };
    });

    h('GetConfiguration', (p) => {
      const keys = (p as unknown as V16.GetConfigurationRequest).key;
      const wanted = keys && keys.length ? keys : [...this.config.keys()].filter((k) => k in CONFIG_DEFAULTS);
      const configurationKey = wanted.filter((k) => this.config.has(k)).map((k) => ({ key: k, readonly: this.config.get(k)!.readonly, value: this.config.get(k)!.value }));
      const unknownKey = wanted.filter((k) => !this.config.has(k));
      return { configurationKey, ...(unknownKey.length ? { unknownKey } : {}) };
    });
    h('ChangeConfiguration', (p) => {
      const req = p as unknown as V16.ChangeConfigurationRequest;
      return { status: this.changeSetting(req.key, req.value) };
    });

    h('GetVariables', (p) => {
      const req = p as unknown as V201.GetVariablesRequest;
      return {
        getVariableResult: req.getVariableData.map((d) => {
          const key = VARIABLES_201[`${d.component.name}/${d.variable.name}`];
          const base = { component: d.component, variable: d.variable, ...(d.attributeType ? { attributeType: d.attributeType } : {}) };
          if (!key || !this.config.has(key)) return { ...base, attributeStatus: COMPONENTS_201.has(d.component.name) ? 'UnknownVariable' : 'UnknownComponent' };
          if (d.attributeType && d.attributeType !== 'Actual') return { ...base, attributeStatus: 'NotSupportedAttributeType' };
          return { ...base, attributeStatus: 'Accepted', attributeValue: this.config.get(key)!.value };
        }),
      };
    });
    h('SetVariables', (p) => {
      const req = p as unknown as V201.SetVariablesRequest;
      return {
        setVariableResult: req.setVariableData.map((d) => {
          const key = VARIABLES_201[`${d.component.name}/${d.variable.name}`];
          const base = { component: d.component, variable: d.variable, ...(d.attributeType ? { attributeType: d.attributeType } : {}) };
          if (!key || !this.config.has(key)) return { ...base, attributeStatus: COMPONENTS_201.has(d.component.name) ? 'UnknownVariable' : 'UnknownComponent' };
          if (d.attributeType && d.attributeType !== 'Actual') return { ...base, attributeStatus: 'NotSupportedAttributeType' };
          const s = this.changeSetting(key, d.attributeValue);
          return { ...base, attributeStatus: s === 'Accepted' ? 'Accepted' : 'Rejected' };
        }),
      };
    });

    h('TriggerMessage', (p) => {
      const req = p as { requestedMessage: string; connectorId?: number; evse?: { id: number } };
      const cid = this.v16 ? req.connectorId : req.evse?.id;
      if (cid !== undefined && cid !== 0 && !this.connector(cid)) return { status: 'Rejected' };
      const targets = cid ? [this.connector(cid)!] : this.connectors;
      let act: (() => void) | undefined;
      switch (req.requestedMessage) {
        case 'BootNotification':
          act = () => void this.send('BootNotification', () => (this.v16 ? bootNotification16(this.identity()) : bootNotification201(this.identity(), 'Triggered')), 'other');
          break;
        case 'Heartbeat':
          act = () => void this.send('Heartbeat', () => ({}), 'other');
          break;
        case 'StatusNotification':
          act = () => {
            const at = this.sched.current;
            for (const c of targets) {
              const payload = this.statusPayload(c, at);
              void this.send('StatusNotification', () => payload, 'other');
            }
          };
          break;
        case 'MeterValues':
          act = () => {
            const at = this.sched.current;
            for (const c of targets) {
              const s = c.session;
              if (s?.txStarted && !s.ended && this.v16) this.meterSample(c, s, at, 'Trigger');
              else if (this.v16) void this.send('MeterValues', () => ({ connectorId: c.id, meterValue: [meterValue16(this.ts(at), { registerWh: c.registerWh, phases: 3 }, 'Trigger', false)] }), 'other');
              else void this.send('MeterValues', () => ({ evseId: c.id, meterValue: [meterValue201(this.ts(at), { registerWh: c.registerWh, phases: 3 }, 'Trigger', false)] }), 'other');
            }
          };
          break;
        case 'TransactionEvent':
          if (this.v16) return { status: 'NotImplemented' };
          act = () => {
            const at = this.sched.current;
            for (const c of targets) if (c.session?.txStarted && !c.session.ended) this.meterSample(c, c.session, at, 'Trigger');
          };
          break;
        case 'FirmwareStatusNotification':
          act = () => void this.send('FirmwareStatusNotification', () => ({ status: this.firmwareStatus }), 'other');
          break;
        case 'DiagnosticsStatusNotification':
          act = () => void this.send('DiagnosticsStatusNotification', () => ({ status: this.diagnosticsStatus }), 'other');
          break;
        case 'LogStatusNotification':
          act = () => void this.send('LogStatusNotification', () => ({ status: this.logStatus }), 'other');
          break;
        default:
          return { status: 'NotImplemented' };
      }
      const run = act;
      this.afterReply(() => this.at(this.now(), `trigger ${req.requestedMessage}`, run));
      return { status: 'Accepted' };
    });

    h('UpdateFirmware', (p) => {
      const v16req = p as unknown as V16.UpdateFirmwareRequest;
      const v201req = p as unknown as V201.UpdateFirmwareRequest;
      const location = this.v16 ? v16req.location : v201req.firmware.location;
      const retrieve = this.v16 ? v16req.retrieveDate : v201req.firmware.retrieveDateTime;
      const extra = this.v16 ? {} : { requestId: v201req.requestId };
      const version = /([0-9]+(?:\.[0-9]+)+)/.exec(location)?.[1] ?? `${this.firmwareVersion}+1`;
      this.afterReply(() => {
        const start = Math.max(this.now(), this.clock.virtualOf(retrieve) || 0);
        this.opsSequence('FirmwareStatusNotification', ['Downloading', 'Downloaded', 'Installing', 'Installed'], extra, (s) => (this.firmwareStatus = s), start, () => {
          this.firmwareVersion = version.slice(0, 50);
        });
      });
      return this.v16 ? {} : { status: 'Accepted' };
    });

    h('GetDiagnostics', () => {
      const fileName = `diagnostics-${this.id}-${this.clock.iso(this.now()).replace(/[-:.]/g, '')}.log`;
      this.afterReply(() => this.opsSequence('DiagnosticsStatusNotification', ['Uploading', 'Uploaded'], {}, (s) => (this.diagnosticsStatus = s), this.now()));
      return { fileName: fileName.slice(0, 255) };
    });
    h('GetLog', (p) => {
      const req = p as unknown as V201.GetLogRequest;
      const filename = `${req.logType === 'SecurityLog' ? 'security' : 'diagnostics'}-${this.id}-${req.requestId}.log`;
      this.afterReply(() => this.opsSequence('LogStatusNotification', ['Uploading', 'Uploaded'], { requestId: req.requestId }, (s) => (this.logStatus = s), this.now()));
      return { status: 'Accepted', filename: filename.slice(0, 255) };
    });

    h('ClearCache', () => ({ status: 'Accepted' }));
    h('SendLocalList', (p) => {
      const version = this.v16 ? (p as unknown as V16.SendLocalListRequest).listVersion : (p as unknown as V201.SendLocalListRequest).versionNumber;
      this.localListVersion = version;
      return { status: 'Accepted' };
    });
    h('GetLocalListVersion', () => (this.v16 ? { listVersion: this.localListVersion } : { versionNumber: this.localListVersion }));
  }

  private changeSetting(key: string, value: string): 'Accepted' | 'Rejected' | 'NotSupported' {
    const entry = this.config.get(key);
    if (!entry) return 'NotSupported';
    if (entry.readonly) return 'Rejected';
    if (entry.numeric && !/^[0-9]{1,9}$/.test(value)) return 'Rejected';
    entry.value = value;
    if (key === 'HeartbeatInterval') this.afterReply(() => this.setHeartbeat(Number(value)));
    return 'Accepted';
  }
}
