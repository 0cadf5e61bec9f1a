/**
 * A fleet of simulated stations against one CSMS endpoint: the library entry point.
 *
 *   const sim = new Simulation({ url: 'ws://127.0.0.1:9000/ocpp', stations: 10, protocol: 'mixed', seed: 42 });
 *   sim.on('event', (e) => ...);           // every message sent/received and what happened, as it happens
 *   const summary = await sim.run();       // start, wait until every plan has played out, disconnect
 */
import { EventEmitter } from 'node:events';
import { SimClock } from './clock';
import { defaultTokens, planStation, SHAPES, validateShape, type SessionShape, type StationPlan } from './model/plan';
import { Station, type BackoffOptions, type Protocol, type SimEvent, type StationSummary } from './station';
import type { Identity } from './model/messages';
import { MeterSigner, type SigningOptions } from './station/signing';

export interface SimulationOptions {
  /** CSMS endpoint without the station id, e.g. ws://127.0.0.1:9000/ocpp */
  url: string;
  /** number of stations (default 1) */
  stations?: number;
  /** connectors (1.6) / EVSEs with one connector (2.0.1) per station (default 2) */
  connectors?: number;
  /** planned RFID sessions per connector (default 1) */
  sessions?: number;
  /** 'mixed' = even stations 1.6, odd stations 2.0.1 (default ocpp1.6) */
  protocol?: Protocol | 'mixed';
  /** PRNG seed (default 1) */
  seed?: number;
  /** station ids are `<prefix><0001..>` (default `SIM-<seed>-`) */
  prefix?: string;
  /** explicit station ids (overrides stations/prefix) */
  stationIds?: string[];
  /** HTTP Basic password (security profile 1): one for all, or per station; none = no Authorization header */
  password?: string | ((stationId: string, index: number) => string | undefined);
  /** id tags for RFID sessions (default `SIM<seed>T1..8`) */
  tokens?: string[];
  /** session shape: a preset name or a preset with overrides (default 'realistic') */
  shape?: 'realistic' | 'quick' | (Partial<SessionShape> & { base?: 'realistic' | 'quick' });
  /** station seconds per real second (default 1) */
  speed?: number;
  /** station time when the run starts (default: now, whole seconds). Fix it to get identical timestamps. */
  startTime?: Date | number | string;
  /** MeterValueSampleInterval / TxUpdatedInterval, station seconds (default 60) */
  sampleIntervalSeconds?: number;
  /** heartbeat interval until the BootNotification answer gives one (default 300) */
  heartbeatIntervalSeconds?: number;
  /** heartbeats at most once per this many real ms, whatever the speed (default 1000) */
  minHeartbeatRealMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** CALL timeout, real ms (default 30000) */
  callTimeoutMs?: number;
  /** validate every frame against the official schemas in the client (default true) */
  strict?: boolean;
  /** BootNotification Pending: 'wait' (spec: retry boot after the interval) or 'proceed' (default 'wait') */
  onPending?: 'wait' | 'proceed';
  /** station seconds between firmware / diagnostics / log status steps (default 10) */
  opsStepSeconds?: number;
  /** station seconds a reset takes (default 10) */
  rebootSeconds?: number;
  /** real ms between station starts, to spread the connection storm (default 0) */
  startIntervalMs?: number;
  /** keep every event in `log` (default true; turn off for big runs and use the 'event' stream) */
  keepLog?: boolean;
  identity?: Partial<Identity>;
  /**
   * the stations' meters sign their transaction begin and end readings (OCMF, a key pair per station made now;
   * `sim.meterKeys()` lists the public keys to confirm in the CSMS); `tamper` picks sessions whose end reading
   * is changed after it was signed
   */
  signing?: boolean | SigningOptions;
}

export interface SimulationSummary {
  stations: StationSummary[];
  totals: {
    stations: number;
    sessionsStarted: number;
    sessionsCompleted: number;
    energyWh: number;
    errors: number;
    reconnects: number;
    messagesSent: number;
    messagesReceived: number;
  };
}

export function resolveShape(shape: SimulationOptions['shape']): SessionShape {
  if (shape === undefined || typeof shape === 'string') return SHAPES[shape ?? 'realistic'];
  const { base, ...overrides } = shape;
  const s = { ...SHAPES[base ?? 'realistic'], ...overrides };
  validateShape(s);
  return s;
}

export function stationIdsFor(opts: Pick<SimulationOptions, 'stationIds' | 'stations' | 'prefix' | 'seed'>): string[] {
  if (opts.stationIds) return opts.stationIds;
  const n = opts.stations ?? 1;
  const prefix = opts.prefix ?? `SIM-${opts.seed ?? 1}-`;
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(4, '0')}`);
}

export class Simulation extends EventEmitter {
  readonly stations: Station[];
  readonly clock: SimClock;
  readonly plans: StationPlan[];
  /** every event, in order (when keepLog) */
  readonly log: SimEvent[] = [];
  private seq = 0;
  private started = false;
  private readonly keepLog: boolean;
  private readonly startIntervalMs: number;

  constructor(opts: SimulationOptions) {
    super();
    const seed = (opts.seed ?? 1) >>> 0;
    const shape = resolveShape(opts.shape);
    const ids = stationIdsFor({ ...opts, seed });
    const tokens = opts.tokens && opts.tokens.length ? opts.tokens : defaultTokens(seed);
    const startTime = opts.startTime === undefined ? undefined : new Date(opts.startTime).getTime();
    if (startTime !== undefined && Number.isNaN(startTime))
      throw new RangeError(`startTime is not a date: ${String(opts.startTime)}`);
    this.clock = new SimClock({ speed: opts.speed ?? 1, startTime });
    this.keepLog = opts.keepLog ?? true;
    this.startIntervalMs = opts.startIntervalMs ?? 0;
    const runTag = Math.floor(this.clock.startTime / 1000).toString(36);
    const backoff: BackoffOptions = { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.2, ...opts.backoff };
    this.plans = ids.map((_, index) =>
      planStation({
        seed,
        stationIndex: index,
        connectors: opts.connectors ?? 2,
        sessionsPerConnector: opts.sessions ?? 1,
        tokens,
        shape,
      }),
    );
    this.stations = ids.map((id, index) => {
      const protocol: Protocol =
        opts.protocol === 'mixed' ? (index % 2 === 0 ? 'ocpp1.6' : 'ocpp2.0.1') : (opts.protocol ?? 'ocpp1.6');
      const password = typeof opts.password === 'function' ? opts.password(id, index) : opts.password;
      return new Station({
        id,
        index,
        protocol,
        url: opts.url,
        password,
        plan: this.plans[index],
        shape,
        seed,
        clock: this.clock,
        sampleIntervalSeconds: opts.sampleIntervalSeconds ?? 60,
        heartbeatIntervalSeconds: opts.heartbeatIntervalSeconds ?? 300,
        minHeartbeatRealMs: opts.minHeartbeatRealMs ?? 1000,
        backoff,
        callTimeoutMs: opts.callTimeoutMs ?? 30_000,
        strict: opts.strict ?? true,
        onPending: opts.onPending ?? 'wait',
        opsStepSeconds: opts.opsStepSeconds ?? 10,
        rebootSeconds: opts.rebootSeconds ?? 10,
        runTag,
        identity: opts.identity,
        ...(opts.signing ? { signer: new MeterSigner(id, opts.signing === true ? {} : opts.signing) } : {}),
        emit: (e, station) =>
          this.record({ ...e, seq: ++this.seq, time: new Date().toISOString(), stationId: station.id }),
      });
    });
  }

  private record(e: SimEvent): void {
    if (this.keepLog) this.log.push(e);
    this.emit('event', e);
  }

  /** The public key of each station's meter (signing on): what an operator confirms in the CSMS (EVSE 0: every EVSE). */
  meterKeys(): Array<{ stationId: string; publicKeyHex: string; meterSerial: string }> {
    return this.stations.flatMap((s) =>
      s.cfg.signer
        ? [{ stationId: s.id, publicKeyHex: s.cfg.signer.publicKeyHex, meterSerial: s.cfg.signer.meterSerial }]
        : [],
    );
  }

  station(id: string): Station | undefined {
    return this.stations.find((s) => s.id === id);
  }

  /** Starts every station (connect, boot, then play the plan). Returns at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stations.forEach((s, i) => {
      if (this.startIntervalMs > 0 && i > 0) setTimeout(() => s.start(), i * this.startIntervalMs);
      else s.start();
    });
  }

  /** Resolves when every station has played its plan and delivered everything it queued. */
  async whenDone(): Promise<SimulationSummary> {
    await Promise.all(this.stations.map((s) => s.done));
    return this.summary();
  }

  /** Disconnects every station. */
  async stop(): Promise<SimulationSummary> {
    await Promise.all(this.stations.map((s) => s.stop()));
    return this.summary();
  }

  /** start, whenDone, stop. */
  async run(): Promise<SimulationSummary> {
    this.start();
    await this.whenDone();
    return this.stop();
  }

  summary(): SimulationSummary {
    const stations = this.stations.map((s) => ({ ...s.summary, sessions: s.summary.sessions.map((r) => ({ ...r })) }));
    const sum = (f: (s: StationSummary) => number) => stations.reduce((a, s) => a + f(s), 0);
    return {
      stations,
      totals: {
        stations: stations.length,
        sessionsStarted: sum((s) => s.sessionsStarted),
        sessionsCompleted: sum((s) => s.sessionsCompleted),
        energyWh: sum((s) => s.energyWh),
        errors: sum((s) => s.errors),
        reconnects: sum((s) => s.reconnects),
        messagesSent: sum((s) => s.messagesSent),
        messagesReceived: sum((s) => s.messagesReceived),
      },
    };
  }
}

/** Runs a whole simulation and returns its summary. */
export function simulate(opts: SimulationOptions, onEvent?: (e: SimEvent) => void): Promise<SimulationSummary> {
  const sim = new Simulation(opts);
  if (onEvent) sim.on('event', onEvent);
  return sim.run();
}
