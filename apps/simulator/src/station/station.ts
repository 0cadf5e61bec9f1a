/**
 * One simulated charging station: an `ocpp-rpc` RPCClient per connection, a per-station scheduler in
 * simulated time, connectors that play their planned sessions, an ordered outbox that keeps transaction
 * messages while offline, and handlers for the CSMS-initiated calls.
 *
 * Station holds the state and wires the modules: connection.ts, outbox.ts, boot.ts (boot, heartbeat,
 * reboot), status.ts, sessions.ts (plug-in, unplug, faults), authorize.ts, transactions.ts,
 * meter-values.ts and commands/ (one module per CSMS-initiated concern).
 */
import type { RPCClient } from 'ocpp-rpc';
import type { V16, V201 } from '@csms/ocpp';
import { SimClock, Scheduler, type ScheduledEvent } from '../clock';
import type { ChargingState, MeterReading } from '../model/charging';
import type { Identity, Status16 } from '../model/messages';
import type { PlannedSession } from '../model/plan';
import { Rng } from '../model/prng';
import { authorize } from './authorize';
import { identity, reboot, scheduleHeartbeat, setHeartbeat } from './boot';
import { connectLoop } from './connection';
import { beginCharging, chargingState, meterSample, reading } from './meter-values';
import { pump, send } from './outbox';
import { plugIn, scheduleNext, unplug } from './sessions';
import { initialSettings } from './settings';
import { setStatus, statusPayload } from './status';
import { startTransaction, stopTransaction, txEvent } from './transactions';
import type {
  Connector,
  Kind,
  Outgoing,
  Protocol,
  Session,
  Setting,
  SimEvent,
  StationConfig,
  StationAction,
  StationCore,
  StationRequest,
  StationResponse,
  StationSummary,
  StopReason,
  TxEventOptions,
  TxTrigger,
} from './types';

export class Station implements StationCore {
  readonly id: string;
  readonly protocol: Protocol;
  readonly summary: StationSummary;
  readonly cfg: StationConfig;
  readonly clock: SimClock;
  readonly sched: Scheduler;
  readonly connectors: Connector[];
  readonly backoffRng: Rng;
  readonly config: Map<string, Setting>;
  readonly pendingActions = new Map<string, string>();
  client?: RPCClient;
  online = false;
  stopped = false;
  needBoot = true;
  booted = false;
  bootReason: V201.BootReasonEnumType = 'PowerUp';
  bootAt = 0;
  offlineUntil = 0;
  outbox: Outgoing[] = [];
  pumping = false;
  heartbeatEvent?: ScheduledEvent;
  heartbeatSeconds: number;
  firmwareStatus: StationCore['firmwareStatus'] = 'Idle';
  diagnosticsStatus: StationCore['diagnosticsStatus'] = 'Idle';
  logStatus: StationCore['logStatus'] = 'Idle';
  firmwareVersion: string;
  localListVersion = 0;
  pendingReset = false;
  rebooting = false;
  eventIds = 0;
  connectAttempts = 0;
  connectedOnce = false;
  wakeConnect?: () => void;
  private doneResolve!: (s: StationSummary) => void;
  /** resolves when every planned session has run and every queued message is delivered */
  readonly done: Promise<StationSummary>;

  constructor(cfg: StationConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.protocol = cfg.protocol;
    this.clock = cfg.clock;
    this.backoffRng = Rng.derive(cfg.seed, 'backoff', cfg.index);
    this.heartbeatSeconds = cfg.heartbeatIntervalSeconds;
    this.firmwareVersion = cfg.identity?.firmwareVersion ?? '1.0.0';
    this.sched = new Scheduler(cfg.clock, (label, err) =>
      this.error(`event ${label} failed: ${(err as Error).message}`),
    );
    this.config = initialSettings(cfg);
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

  // ───────────────────────── time and helpers ─────────────────────────

  /** Virtual time of what is happening now: the running event's time, or the clock for CSMS-initiated work. */
  now(): number {
    return Math.max(this.sched.current, this.clock.virtualNow());
  }

  ts(at: number): string {
    return this.clock.iso(at);
  }

  emit(e: Omit<SimEvent, 'seq' | 'time' | 'stationId'>): void {
    this.cfg.emit(e, this);
  }

  error(message: string): void {
    this.summary.errors++;
    if (this.summary.errorMessages.length < 20) this.summary.errorMessages.push(message);
    this.emit({ kind: 'error', detail: { message } });
  }

  /** Runs `fn` after the current CALLRESULT has gone out (ocpp-rpc sends it on the microtask queue). */
  afterReply(fn: () => void): void {
    setImmediate(() => {
      if (!this.stopped) fn();
    });
  }

  /** Schedules work at virtual `at` (never before the running event). */
  at(at: number, label: string, run: () => Promise<void> | void): ScheduledEvent {
    return this.sched.schedule(Math.max(at, this.sched.current), label, run);
  }

  sampleIntervalMs(): number {
    return (
      Math.max(1, Number(this.config.get('MeterValueSampleInterval')?.value ?? this.cfg.sampleIntervalSeconds)) * 1000
    );
  }

  checkDone(): void {
    if (this.summary.done || !this.booted) return;
    const idle = this.connectors.every(
      (c) => !c.session && !c.nextEvent && (c.next >= c.plan.sessions.length || !c.operative),
    );
    if (idle && this.outbox.length === 0 && !this.rebooting) {
      this.summary.done = true;
      this.emit({ kind: 'done' });
      this.doneResolve(this.summary);
    }
  }

  connector(id: number | undefined): Connector | undefined {
    return id === undefined ? undefined : this.connectors.find((c) => c.id === id);
  }

  // ───────────────────────── the modules ─────────────────────────

  connectLoop(): Promise<void> {
    return connectLoop(this);
  }
  send<A extends StationAction>(
    action: A,
    build: () => StationRequest<A> | undefined,
    kind: Kind,
  ): Promise<StationResponse<A> | undefined> {
    return send(this, action, build, kind);
  }
  pump(): Promise<void> {
    return pump(this);
  }
  identity(): Identity {
    return identity(this);
  }
  setHeartbeat(seconds: number): void {
    setHeartbeat(this, seconds);
  }
  scheduleHeartbeat(): void {
    scheduleHeartbeat(this);
  }
  reboot(reason: StopReason): void {
    reboot(this, reason);
  }
  statusPayload(c: Connector, at: number): V16.StatusNotificationRequest | V201.StatusNotificationRequest {
    return statusPayload(this, c, at);
  }
  setStatus(
    c: Connector,
    status16: Status16,
    at: number,
    errorCode?: V16.StatusNotificationRequest['errorCode'],
  ): void {
    setStatus(this, c, status16, at, errorCode);
  }
  scheduleNext(c: Connector, from: number): void {
    scheduleNext(this, c, from);
  }
  plugIn(c: Connector, s: PlannedSession, remote: boolean, remoteStartId?: number): Session {
    return plugIn(this, c, s, remote, remoteStartId);
  }
  unplug(c: Connector, sess: Session): void {
    unplug(this, c, sess);
  }
  authorize(c: Connector, sess: Session, trigger?: TxTrigger): Promise<void> {
    return authorize(this, c, sess, trigger);
  }
  startTransaction(c: Connector, sess: Session, trigger: TxTrigger): void {
    startTransaction(this, c, sess, trigger);
  }
  stopTransaction(c: Connector, sess: Session, reason: StopReason): void {
    stopTransaction(this, c, sess, reason);
  }
  txEvent(
    c: Connector,
    sess: Session,
    at: number,
    eventType: V201.TransactionEventRequest['eventType'],
    triggerReason: V201.TriggerReasonEnumType,
    o: TxEventOptions,
  ): Promise<V201.TransactionEventResponse | undefined> {
    return txEvent(this, c, sess, at, eventType, triggerReason, o);
  }
  beginCharging(c: Connector, sess: Session): void {
    beginCharging(this, c, sess);
  }
  reading(sess: Session, at: number): MeterReading | undefined {
    return reading(sess, at);
  }
  chargingState(c: Connector, sess: Session, state: ChargingState): void {
    chargingState(this, c, sess, state);
  }
  meterSample(c: Connector, sess: Session, at: number, context: 'Sample.Periodic' | 'Trigger'): void {
    meterSample(this, c, sess, at, context);
  }
}
