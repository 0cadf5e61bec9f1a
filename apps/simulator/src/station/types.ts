import type { MeterSigner } from './signing';
/**
 * The station's types: what it reports (events, summary), how it is configured, and the station core the
 * per-concern modules work on (connection, outbox, boot and heartbeat, status, authorize, transactions,
 * meter values, the CSMS-initiated commands). Station (station.ts) implements the core and wires the
 * modules together; the modules call each other through the core (a few use a helper of another module
 * directly: the connection boots and registers the commands, a stop frees the connector).
 */
import type { RPCClient } from 'ocpp-rpc';
import type { Ocpp16Action, Ocpp201Action, OcppRequest, OcppResponse, V16, V201 } from '@csms/ocpp';
import type { SimClock, Scheduler, ScheduledEvent } from '../clock';
import type { ChargingMeter, ChargingState, MeterReading } from '../model/charging';
import type { Identity, Status16, Status201 } from '../model/messages';
import type { ConnectorPlan, PlannedSession, SessionShape, StationPlan } from '../model/plan';
import type { Rng } from '../model/prng';
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
  /** the station's meter signs the transaction's begin and end readings (OCMF) */
  signer?: MeterSigner;
  emit: (e: Omit<SimEvent, 'seq' | 'time' | 'stationId'>, station: StationCore) => void;
}

export type StopReason =
  | 'Local'
  | 'EVDisconnected'
  | 'Remote'
  | 'DeAuthorized'
  | 'SoftReset'
  | 'HardReset'
  | 'ImmediateReset'
  | 'UnlockCommand';
export type Kind = 'tx' | 'status' | 'other';

export interface Outgoing {
  action: string;
  build: () => object | undefined;
  kind: Kind;
  attempts: number;
  resolve: (v: unknown) => void;
}

export interface Session {
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
  /** the meter's signed begin reading (OCMF), when the meter signs */
  signedBegin?: string;
}

export interface Connector {
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

/** A setting of the station (1.6 configuration key; 2.0.1 variables map onto the same settings). */
export interface Setting {
  value: string;
  readonly: boolean;
  numeric?: boolean;
}

/** What starts a transaction: the driver's tag (authorised) or a remote start. */
export type TxTrigger = 'Authorized' | 'RemoteStart';

/** An action a station sends, of either version. */
export type StationAction = Ocpp16Action | Ocpp201Action;
/** Its request: the generated type of the version(s) that define it. */
export type StationRequest<A extends StationAction> =
  | (A extends Ocpp16Action ? OcppRequest<'ocpp1.6', A> : never)
  | (A extends Ocpp201Action ? OcppRequest<'ocpp2.0.1', A> : never);
/** The CSMS's answer to it. */
export type StationResponse<A extends StationAction> =
  | (A extends Ocpp16Action ? OcppResponse<'ocpp1.6', A> : never)
  | (A extends Ocpp201Action ? OcppResponse<'ocpp2.0.1', A> : never);

/**
 * The station core: its state and the operations the modules share. Implemented by Station; each
 * module's functions take it as their first argument.
 */
export interface StationCore {
  readonly id: string;
  readonly protocol: Protocol;
  readonly v16: boolean;
  readonly summary: StationSummary;
  readonly cfg: StationConfig;
  readonly clock: SimClock;
  readonly sched: Scheduler;
  readonly connectors: Connector[];
  readonly backoffRng: Rng;
  readonly config: Map<string, Setting>;
  /** messageId -> action of the calls in flight (for the log) */
  readonly pendingActions: Map<string, string>;
  client?: RPCClient;
  online: boolean;
  stopped: boolean;
  needBoot: boolean;
  booted: boolean;
  bootReason: V201.BootReasonEnumType;
  bootAt: number;
  offlineUntil: number;
  outbox: Outgoing[];
  pumping: boolean;
  heartbeatEvent?: ScheduledEvent;
  heartbeatSeconds: number;
  firmwareStatus: StationRequest<'FirmwareStatusNotification'>['status'];
  diagnosticsStatus: StationRequest<'DiagnosticsStatusNotification'>['status'];
  logStatus: StationRequest<'LogStatusNotification'>['status'];
  firmwareVersion: string;
  localListVersion: number;
  pendingReset: boolean;
  rebooting: boolean;
  eventIds: number;
  connectAttempts: number;
  connectedOnce: boolean;
  wakeConnect?: () => void;

  // time and log
  now(): number;
  ts(at: number): string;
  emit(e: Omit<SimEvent, 'seq' | 'time' | 'stationId'>): void;
  error(message: string): void;
  afterReply(fn: () => void): void;
  at(at: number, label: string, run: () => Promise<void> | void): ScheduledEvent;
  sampleIntervalMs(): number;
  checkDone(): void;
  connector(id: number | undefined): Connector | undefined;

  // connection and outbox
  connectLoop(): Promise<void>;
  goOffline(seconds: number): void;
  send<A extends StationAction>(
    action: A,
    build: () => StationRequest<A> | undefined,
    kind: Kind,
  ): Promise<StationResponse<A> | undefined>;
  pump(): Promise<void>;

  // boot and heartbeat
  identity(): Identity;
  setHeartbeat(seconds: number): void;
  scheduleHeartbeat(): void;
  reboot(reason: StopReason): void;

  // status
  statusPayload(c: Connector, at: number): V16.StatusNotificationRequest | V201.StatusNotificationRequest;
  setStatus(c: Connector, status16: Status16, at: number, errorCode?: V16.StatusNotificationRequest['errorCode']): void;

  // sessions, authorize, transactions, meter values
  scheduleNext(c: Connector, from: number): void;
  plugIn(c: Connector, s: PlannedSession, remote: boolean, remoteStartId?: number): Session;
  authorize(c: Connector, sess: Session, trigger?: TxTrigger): Promise<void>;
  startTransaction(c: Connector, sess: Session, trigger: TxTrigger): void;
  stopTransaction(c: Connector, sess: Session, reason: StopReason): void;
  unplug(c: Connector, sess: Session): void;
  beginCharging(c: Connector, sess: Session): void;
  reading(sess: Session, at: number): MeterReading | undefined;
  chargingState(c: Connector, sess: Session, state: ChargingState): void;
  meterSample(c: Connector, sess: Session, at: number, context: 'Sample.Periodic' | 'Trigger'): void;
  txEvent(
    c: Connector,
    sess: Session,
    at: number,
    eventType: V201.TransactionEventRequest['eventType'],
    triggerReason: V201.TriggerReasonEnumType,
    o: TxEventOptions,
  ): Promise<V201.TransactionEventResponse | undefined>;
}

export interface TxEventOptions {
  chargingState?: V201.ChargingStateEnumType;
  remoteStartId?: number;
  stoppedReason?: V201.ReasonEnumType;
  timeSpentCharging?: number;
  meter?: V201.MeterValueType[];
  extra?: Partial<V201.TransactionEventRequest>;
}
