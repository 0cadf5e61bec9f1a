/**
 * Session plans: what each connector of a simulated station will do, drawn from a seed. Pure: the same
 * options give a deep-equal plan. Times are seconds of station (simulated) time.
 */
import type { ChargingSpec, Suspension } from './charging';
import { Rng, type Range } from './prng';

/** Ranges the plan draws from (inclusive, whole numbers unless said). */
export interface SessionShape {
  /** before each session: since the start of the run, or since the previous session's connector was free */
  gapSeconds: Range;
  /** plug-in to RFID presentation */
  plugToAuthSeconds: Range;
  /** authorisation to the EV drawing power (EVConnected / Preparing meanwhile) */
  authToChargeSeconds: Range;
  /** longest active charging time (the battery may be full earlier) */
  chargeSeconds: Range;
  /** parking after charging ends (SuspendedEV, 0 W) before the stop */
  idleSeconds: Range;
  maxPowerW: Range;
  minPowerW: number;
  rampSeconds: Range;
  batteryWh: Range;
  startSocPct: Range;
  targetSocPct: Range;
  taperFromSocPct: Range;
  /** probability that a session has one pause (SuspendedEV or SuspendedEVSE) while charging */
  suspendProbability: number;
  suspendSeconds: Range;
  /** probability the driver ends the session by unplugging (EVDisconnected) instead of presenting the card (Local) */
  stopByUnplugProbability: number;
  unplugAfterStopSeconds: Range;
  /** probability of a connector fault after a session */
  faultProbability: number;
  faultSeconds: Range;
  /** probability that the station loses its connection during a session (transaction messages queue) */
  offlineProbability: number;
  offlineSeconds: Range;
  phases: 1 | 3;
  voltageV: number;
}

/** Hours-long AC/DC sessions: what a site sees in a day. */
export const REALISTIC_SHAPE: SessionShape = {
  gapSeconds: [60, 3600],
  plugToAuthSeconds: [5, 40],
  authToChargeSeconds: [2, 15],
  chargeSeconds: [20 * 60, 4 * 3600],
  idleSeconds: [0, 45 * 60],
  maxPowerW: [7_400, 22_000],
  minPowerW: 1_000,
  rampSeconds: [5, 60],
  batteryWh: [40_000, 90_000],
  startSocPct: [10, 60],
  targetSocPct: [80, 100],
  taperFromSocPct: [70, 85],
  suspendProbability: 0.2,
  suspendSeconds: [60, 900],
  stopByUnplugProbability: 0.3,
  unplugAfterStopSeconds: [5, 120],
  faultProbability: 0.03,
  faultSeconds: [60, 1800],
  offlineProbability: 0.02,
  offlineSeconds: [60, 900],
  phases: 3,
  voltageV: 230,
};

/** Minutes of station time; with `speed` 60-600 a session takes a second or a few (tests, demos). */
export const QUICK_SHAPE: SessionShape = {
  gapSeconds: [5, 30],
  plugToAuthSeconds: [2, 10],
  authToChargeSeconds: [1, 5],
  chargeSeconds: [300, 900],
  idleSeconds: [60, 300],
  maxPowerW: [11_000, 50_000],
  minPowerW: 2_000,
  rampSeconds: [5, 20],
  batteryWh: [8_000, 20_000],
  startSocPct: [20, 60],
  targetSocPct: [80, 100],
  taperFromSocPct: [65, 80],
  suspendProbability: 0.3,
  suspendSeconds: [30, 120],
  stopByUnplugProbability: 0.3,
  unplugAfterStopSeconds: [5, 30],
  faultProbability: 0,
  faultSeconds: [30, 120],
  offlineProbability: 0,
  offlineSeconds: [30, 120],
  phases: 3,
  voltageV: 230,
};

export const SHAPES = { realistic: REALISTIC_SHAPE, quick: QUICK_SHAPE } as const;

export type FaultCode16 =
  | 'ConnectorLockFailure'
  | 'EVCommunicationError'
  | 'GroundFailure'
  | 'HighTemperature'
  | 'OverCurrentFailure'
  | 'OverVoltage'
  | 'PowerMeterFailure'
  | 'PowerSwitchFailure'
  | 'ReaderFailure'
  | 'UnderVoltage';
export const FAULT_CODES: readonly FaultCode16[] = [
  'ConnectorLockFailure',
  'EVCommunicationError',
  'GroundFailure',
  'HighTemperature',
  'OverCurrentFailure',
  'OverVoltage',
  'PowerMeterFailure',
  'PowerSwitchFailure',
  'ReaderFailure',
  'UnderVoltage',
];

export interface PlannedFault {
  /** seconds after the connector became free */
  afterSeconds: number;
  seconds: number;
  errorCode: FaultCode16;
}

export interface PlannedSession {
  /** 1-based number of the session on its connector */
  n: number;
  gapSeconds: number;
  plugToAuthSeconds: number;
  authToChargeSeconds: number;
  idTag: string;
  charging: ChargingSpec;
  idleSeconds: number;
  stopBy: 'card' | 'unplug';
  unplugAfterStopSeconds: number;
  /** a connection loss starting this many seconds after charging started */
  offline?: { atChargingSecond: number; seconds: number };
  /** a fault once the connector is free again */
  faultAfter?: PlannedFault;
}

export interface ConnectorPlan {
  connectorId: number;
  /** the register (Wh) before the first session */
  initialRegisterWh: number;
  sessions: PlannedSession[];
}

export interface StationPlan {
  seed: number;
  stationIndex: number;
  connectors: ConnectorPlan[];
}

export interface PlanOptions {
  seed: number;
  stationIndex: number;
  connectors: number;
  sessionsPerConnector: number;
  /** id tags drawn for RFID sessions; 1.6 allows 20 characters, 2.0.1 36 */
  tokens: readonly string[];
  shape: SessionShape;
}

function checkRange(name: string, r: Range, min = 0): void {
  if (
    !Array.isArray(r) ||
    r.length !== 2 ||
    !Number.isFinite(r[0]) ||
    !Number.isFinite(r[1]) ||
    r[0] > r[1] ||
    r[0] < min
  ) {
    throw new RangeError(
      `session shape: ${name} must be [min, max] with ${min} <= min <= max (got ${JSON.stringify(r)})`,
    );
  }
}

export function validateShape(shape: SessionShape): void {
  const ranges: Array<[keyof SessionShape, number]> = [
    ['gapSeconds', 0],
    ['plugToAuthSeconds', 0],
    ['authToChargeSeconds', 0],
    ['chargeSeconds', 1],
    ['idleSeconds', 0],
    ['maxPowerW', 1],
    ['rampSeconds', 0],
    ['batteryWh', 1],
    ['startSocPct', 0],
    ['targetSocPct', 1],
    ['taperFromSocPct', 0],
    ['suspendSeconds', 1],
    ['unplugAfterStopSeconds', 0],
    ['faultSeconds', 1],
    ['offlineSeconds', 1],
  ];
  for (const [k, min] of ranges) checkRange(k, shape[k] as Range, min);
  for (const k of [
    'suspendProbability',
    'stopByUnplugProbability',
    'faultProbability',
    'offlineProbability',
  ] as const) {
    const p = shape[k];
    if (!(p >= 0 && p <= 1)) throw new RangeError(`session shape: ${k} must be in [0, 1] (got ${p})`);
  }
  if (shape.startSocPct[1] > 100 || shape.targetSocPct[1] > 100)
    throw new RangeError('session shape: SoC ranges must be within 0..100');
  if (!(shape.minPowerW >= 0) || shape.minPowerW > shape.maxPowerW[0])
    throw new RangeError('session shape: minPowerW must be within 0..maxPowerW[0]');
}

/** Draws the charging spec of one session (also used for CSMS-initiated remote sessions). */
export function drawCharging(rng: Rng, shape: SessionShape): ChargingSpec {
  const maxPowerW = rng.intIn(shape.maxPowerW);
  const startSocPct = rng.intIn(shape.startSocPct);
  const targetSocPct = Math.max(rng.intIn(shape.targetSocPct), Math.min(100, startSocPct + 1));
  const maxChargingSeconds = rng.intIn(shape.chargeSeconds);
  const suspensions: Suspension[] = [];
  if (rng.chance(shape.suspendProbability) && maxChargingSeconds >= 4) {
    suspensions.push({
      at: rng.int(Math.floor(maxChargingSeconds / 4), Math.floor((maxChargingSeconds * 3) / 4)),
      seconds: rng.intIn(shape.suspendSeconds),
      state: rng.chance(0.5) ? 'SuspendedEVSE' : 'SuspendedEV',
    });
  }
  return {
    maxPowerW,
    minPowerW: Math.min(shape.minPowerW, maxPowerW),
    rampSeconds: rng.intIn(shape.rampSeconds),
    batteryWh: rng.intIn(shape.batteryWh),
    startSocPct,
    targetSocPct,
    taperFromSocPct: rng.intIn(shape.taperFromSocPct),
    maxChargingSeconds,
    suspensions,
    phases: shape.phases,
    voltageV: shape.voltageV,
  };
}

/** The rest of a session around its charging spec. */
export function drawSession(rng: Rng, shape: SessionShape, n: number, tokens: readonly string[]): PlannedSession {
  const gapSeconds = rng.intIn(shape.gapSeconds);
  const plugToAuthSeconds = rng.intIn(shape.plugToAuthSeconds);
  const authToChargeSeconds = rng.intIn(shape.authToChargeSeconds);
  const idTag = rng.pick(tokens);
  const charging = drawCharging(rng, shape);
  const idleSeconds = rng.intIn(shape.idleSeconds);
  const stopBy = rng.chance(shape.stopByUnplugProbability) ? 'unplug' : 'card';
  const unplugAfterStopSeconds = rng.intIn(shape.unplugAfterStopSeconds);
  const session: PlannedSession = {
    n,
    gapSeconds,
    plugToAuthSeconds,
    authToChargeSeconds,
    idTag,
    charging,
    idleSeconds,
    stopBy,
    unplugAfterStopSeconds,
  };
  if (rng.chance(shape.offlineProbability)) {
    session.offline = {
      atChargingSecond: rng.int(1, Math.max(1, Math.floor(charging.maxChargingSeconds / 2))),
      seconds: rng.intIn(shape.offlineSeconds),
    };
  }
  if (rng.chance(shape.faultProbability)) {
    session.faultAfter = {
      afterSeconds: rng.int(1, 60),
      seconds: rng.intIn(shape.faultSeconds),
      errorCode: rng.pick(FAULT_CODES),
    };
  }
  return session;
}

/** The plan of one station: each connector's register start and its sessions, from (seed, station index). */
export function planStation(opts: PlanOptions): StationPlan {
  validateShape(opts.shape);
  if (!Number.isInteger(opts.connectors) || opts.connectors < 1)
    throw new RangeError('plan: connectors must be an integer >= 1');
  if (!Number.isInteger(opts.sessionsPerConnector) || opts.sessionsPerConnector < 0)
    throw new RangeError('plan: sessionsPerConnector must be an integer >= 0');
  if (opts.tokens.length === 0) throw new RangeError('plan: at least one token is needed');
  const connectors: ConnectorPlan[] = [];
  for (let c = 1; c <= opts.connectors; c++) {
    const rng = Rng.derive(opts.seed, 'station', opts.stationIndex, 'connector', c);
    const initialRegisterWh = rng.int(0, 5_000_000);
    const sessions: PlannedSession[] = [];
    for (let n = 1; n <= opts.sessionsPerConnector; n++) sessions.push(drawSession(rng, opts.shape, n, opts.tokens));
    connectors.push({ connectorId: c, initialRegisterWh, sessions });
  }
  return { seed: opts.seed >>> 0, stationIndex: opts.stationIndex, connectors };
}

/** Default id tags: `SIM<seed>T<n>`, at most 20 characters (the 1.6 limit). */
export function defaultTokens(seed: number, count = 8): string[] {
  return Array.from({ length: count }, (_, i) => `SIM${(seed >>> 0).toString(36).toUpperCase()}T${i + 1}`.slice(0, 20));
}
