/**
 * The charging curve and the energy register, pure and exact.
 *
 * Time runs in whole seconds since the start of charging. During second k ([k, k+1)) the power is a
 * whole number of watts P(k), so the energy delivered is the exact integer sum of P(k) watt-seconds;
 * the register in Wh is `floor(Ws / 3600)`: integers only, no float accumulation, never decreasing.
 *
 * Curve (a constant-current / constant-voltage caricature of a real EV):
 * - ramp: from 0 to `maxPowerW` linearly over `rampSeconds` of active charging;
 * - constant at `maxPowerW` while the state of charge is below `taperFromSocPct`;
 * - taper: proportional to what is left to reach `targetSocPct`, never below `minPowerW`;
 * - charging ends when the battery reaches the target (`full`) or after `maxChargingSeconds` of active
 *   charging (`time`), whichever comes first; then the EV stays plugged in, SuspendedEV, drawing 0 W.
 * Suspensions (EV or EVSE pauses, 0 W) are placed at seconds since the start of charging; their time does
 * not count as active charging.
 */

export type ChargingState = 'Charging' | 'SuspendedEV' | 'SuspendedEVSE';

export interface Suspension {
  /** second (since charging started) at which the pause begins */
  at: number;
  seconds: number;
  state: 'SuspendedEV' | 'SuspendedEVSE';
}

export interface ChargingSpec {
  maxPowerW: number;
  minPowerW: number;
  rampSeconds: number;
  batteryWh: number;
  startSocPct: number;
  targetSocPct: number;
  taperFromSocPct: number;
  maxChargingSeconds: number;
  suspensions: readonly Suspension[];
  phases: 1 | 3;
  voltageV: number;
}

export interface MeterReading {
  /** seconds since charging started */
  t: number;
  /** exact energy delivered since charging started, watt-seconds */
  energyWs: number;
  /** floor(energyWs / 3600): what the register adds to its start value */
  energyWh: number;
  /** power drawn during second t */
  powerW: number;
  /** current per phase in tenths of an ampere (integer) */
  currentDeciA: number;
  socPct: number;
  state: ChargingState;
  /** seconds of active charging (power flowing) before t */
  chargingSeconds: number;
}

export interface StateChange {
  t: number;
  state: ChargingState;
}

interface Cursor {
  t: number;
  energyWs: number;
  active: number;
  susp: number; // index of the next suspension not yet finished
}

/** Checks a spec and throws a RangeError naming the first bad field. */
export function validateChargingSpec(spec: ChargingSpec): void {
  const int = (name: keyof ChargingSpec, min: number) => {
    const v = spec[name] as number;
    if (!Number.isInteger(v) || v < min)
      throw new RangeError(`charging spec: ${name} must be an integer >= ${min} (got ${v})`);
  };
  int('maxPowerW', 1);
  int('minPowerW', 0);
  int('rampSeconds', 0);
  int('batteryWh', 1);
  int('startSocPct', 0);
  int('targetSocPct', 1);
  int('taperFromSocPct', 0);
  int('maxChargingSeconds', 0);
  int('voltageV', 1);
  if (spec.minPowerW > spec.maxPowerW) throw new RangeError('charging spec: minPowerW must be <= maxPowerW');
  if (spec.targetSocPct > 100) throw new RangeError('charging spec: targetSocPct must be <= 100');
  if (spec.startSocPct > 100) throw new RangeError('charging spec: startSocPct must be <= 100');
  if (spec.phases !== 1 && spec.phases !== 3) throw new RangeError('charging spec: phases must be 1 or 3');
  let end = 0;
  for (const [i, s] of spec.suspensions.entries()) {
    if (!Number.isInteger(s.at) || !Number.isInteger(s.seconds) || s.seconds < 1 || s.at < end) {
      throw new RangeError(`charging spec: suspensions[${i}] must be sorted, non-overlapping, whole seconds`);
    }
    end = s.at + s.seconds;
  }
}

/**
 * Power (W) during one second of active charging, from the active seconds already done and the
 * battery content (Wh). Pure; exported for tests.
 */
export function powerFor(spec: ChargingSpec, activeSeconds: number, socWh: number): number {
  const targetWh = (spec.batteryWh * spec.targetSocPct) / 100;
  if (socWh >= targetWh) return 0;
  let p =
    spec.rampSeconds > 0
      ? Math.floor((spec.maxPowerW * Math.min(activeSeconds + 1, spec.rampSeconds)) / spec.rampSeconds)
      : spec.maxPowerW;
  const taperWh = (spec.batteryWh * Math.min(spec.taperFromSocPct, spec.targetSocPct)) / 100;
  if (socWh > taperWh && targetWh > taperWh) {
    const tapered = Math.floor((spec.maxPowerW * (targetWh - socWh)) / (targetWh - taperWh));
    p = Math.min(p, Math.max(spec.minPowerW, tapered));
  }
  return Math.max(1, p);
}

/**
 * Energy meter of one charging session. `at(t)` is a pure function of the spec and t; readings asked
 * in increasing t are computed incrementally (O(1) amortised per second), earlier ones recomputed.
 */
export class ChargingMeter {
  readonly spec: ChargingSpec;
  /** second at which charging ended (battery full or time limit); the EV is SuspendedEV from then on */
  readonly endSecond: number;
  readonly endReason: 'full' | 'time';
  /** every change of charging state, in order, starting with the state at t = 0 */
  readonly stateChanges: readonly StateChange[];
  private readonly startSocWh: number;
  private cursor: Cursor;

  constructor(spec: ChargingSpec) {
    validateChargingSpec(spec);
    this.spec = spec;
    this.startSocWh = Math.floor((spec.batteryWh * spec.startSocPct) / 100);
    // one pass to find the end and the state changes
    const c: Cursor = { t: 0, energyWs: 0, active: 0, susp: 0 };
    const changes: StateChange[] = [];
    let last: ChargingState | undefined;
    let reason: 'full' | 'time' = 'time';
    for (;;) {
      const st = this.stateDuring(c);
      if (st === 'done') {
        reason = this.isFull(c) ? 'full' : 'time';
        break;
      }
      if (st !== last) changes.push({ t: c.t, state: st });
      last = st;
      this.step(c, st);
    }
    this.endSecond = c.t;
    this.endReason = reason;
    if (last !== 'SuspendedEV') changes.push({ t: c.t, state: 'SuspendedEV' });
    this.stateChanges = changes;
    this.cursor = { t: 0, energyWs: 0, active: 0, susp: 0 };
  }

  /** Total energy delivered when charging ended, Wh. */
  get totalWh(): number {
    return this.at(this.endSecond).energyWh;
  }

  at(t: number): MeterReading {
    if (!Number.isInteger(t) || t < 0)
      throw new RangeError(`meter time must be a whole number of seconds >= 0 (got ${t})`);
    if (t < this.cursor.t) this.cursor = { t: 0, energyWs: 0, active: 0, susp: 0 };
    const c = this.cursor;
    const until = Math.min(t, this.endSecond);
    while (c.t < until) {
      const st = this.stateDuring(c);
      if (st === 'done') break;
      this.step(c, st);
    }
    const st = t >= this.endSecond ? 'done' : this.stateDuring(c);
    const socWh = this.startSocWh + Math.floor(c.energyWs / 3600);
    const powerW = st === 'Charging' ? powerFor(this.spec, c.active, socWh) : 0;
    return {
      t,
      energyWs: c.energyWs,
      energyWh: Math.floor(c.energyWs / 3600),
      powerW,
      currentDeciA: Math.round((powerW * 10) / (this.spec.voltageV * this.spec.phases)),
      socPct: Math.min(100, Math.floor((socWh * 100) / this.spec.batteryWh)),
      state: st === 'done' ? 'SuspendedEV' : st,
      chargingSeconds: c.active,
    };
  }

  private isFull(c: Cursor): boolean {
    const socWh = this.startSocWh + Math.floor(c.energyWs / 3600);
    return socWh * 100 >= this.spec.batteryWh * this.spec.targetSocPct;
  }

  private stateDuring(c: Cursor): ChargingState | 'done' {
    if (c.active >= this.spec.maxChargingSeconds || this.isFull(c)) return 'done';
    const sus = this.spec.suspensions;
    while (c.susp < sus.length && sus[c.susp].at + sus[c.susp].seconds <= c.t) c.susp++;
    const s = sus[c.susp];
    if (s && s.at <= c.t) return s.state;
    return 'Charging';
  }

  private step(c: Cursor, st: ChargingState): void {
    if (st === 'Charging') {
      const socWh = this.startSocWh + Math.floor(c.energyWs / 3600);
      c.energyWs += powerFor(this.spec, c.active, socWh);
      c.active++;
    }
    c.t++;
  }
}

/** "12.3" from 123 tenths: decimal text without floating-point formatting. */
export function deciToDecimal(deci: number): string {
  const sign = deci < 0 ? '-' : '';
  const a = Math.abs(deci);
  return `${sign}${Math.floor(a / 10)}.${a % 10}`;
}
