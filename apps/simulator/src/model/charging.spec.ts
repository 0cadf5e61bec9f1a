import fc from 'fast-check';
import { ChargingMeter, deciToDecimal, powerFor, validateChargingSpec, type ChargingSpec } from './charging';

const aSpec = (o: Partial<ChargingSpec> = {}): ChargingSpec => ({
  maxPowerW: 11_000,
  minPowerW: 1_000,
  rampSeconds: 0,
  batteryWh: 50_000,
  startSocPct: 20,
  targetSocPct: 100,
  taperFromSocPct: 100,
  maxChargingSeconds: 3600,
  suspensions: [],
  phases: 3,
  voltageV: 230,
  ...o,
});

describe('ChargingMeter', () => {
  it.each([
    // [name, spec, t, energyWs, energyWh, powerW]
    ['constant 11 kW for one hour', aSpec(), 3600, 11_000 * 3600, 11_000, 0],
    ['constant 3.6 kW for 10 s', aSpec({ maxPowerW: 3600, minPowerW: 0 }), 10, 36_000, 10, 3600],
    ['7 W for 1000 s: 7000 Ws = 1 Wh (floor)', aSpec({ maxPowerW: 7, minPowerW: 0 }), 1000, 7000, 1, 7],
    [
      'ramp 0 → 10 kW over 10 s',
      aSpec({ maxPowerW: 10_000, rampSeconds: 10 }),
      10,
      1000 + 2000 + 3000 + 4000 + 5000 + 6000 + 7000 + 8000 + 9000 + 10_000,
      15,
      10_000,
    ],
  ])('%s', (_name, spec, t, energyWs, energyWh, powerW) => {
    const r = new ChargingMeter(spec).at(t);
    expect(r.energyWs).toBe(energyWs);
    expect(r.energyWh).toBe(energyWh);
    expect(r.powerW).toBe(powerW);
  });

  it('ends by time with the EV still below target, then SuspendedEV at 0 W', () => {
    const m = new ChargingMeter(aSpec({ maxChargingSeconds: 600 }));
    expect(m.endSecond).toBe(600);
    expect(m.endReason).toBe('time');
    expect(m.stateChanges).toEqual([
      { t: 0, state: 'Charging' },
      { t: 600, state: 'SuspendedEV' },
    ]);
    const after = m.at(900);
    expect(after).toMatchObject({ powerW: 0, state: 'SuspendedEV', energyWs: 11_000 * 600, currentDeciA: 0 });
  });

  it('tapers above taperFromSocPct and ends full at the target', () => {
    const m = new ChargingMeter(
      aSpec({ batteryWh: 10_000, startSocPct: 70, targetSocPct: 90, taperFromSocPct: 80, maxChargingSeconds: 100_000 }),
    );
    expect(m.endReason).toBe('full');
    const end = m.at(m.endSecond);
    expect(end.socPct).toBe(90);
    expect(end.energyWh).toBeGreaterThanOrEqual(2000);
    // power at 85 % is below the maximum, never below the floor
    let t = 0;
    while (m.at(t).socPct < 85) t += 10;
    const mid = m.at(t);
    expect(mid.powerW).toBeLessThan(11_000);
    expect(mid.powerW).toBeGreaterThanOrEqual(1_000);
  });

  it('draws nothing during a suspension and reports the state changes in order', () => {
    const m = new ChargingMeter(
      aSpec({ maxChargingSeconds: 100, suspensions: [{ at: 30, seconds: 20, state: 'SuspendedEVSE' }] }),
    );
    expect(m.stateChanges).toEqual([
      { t: 0, state: 'Charging' },
      { t: 30, state: 'SuspendedEVSE' },
      { t: 50, state: 'Charging' },
      { t: 120, state: 'SuspendedEV' },
    ]);
    expect(m.at(40)).toMatchObject({ powerW: 0, state: 'SuspendedEVSE', energyWs: 30 * 11_000, chargingSeconds: 30 });
    expect(m.endSecond).toBe(120);
    expect(m.at(120).energyWs).toBe(100 * 11_000);
  });

  it('reports the current per phase from the power (tenths of an ampere)', () => {
    const r = new ChargingMeter(aSpec({ maxPowerW: 11_040 })).at(5);
    expect(r.currentDeciA).toBe(160); // 11040 / (3 × 230) = 16.0 A
    expect(deciToDecimal(r.currentDeciA)).toBe('16.0');
    expect(deciToDecimal(7)).toBe('0.7');
    expect(deciToDecimal(1234)).toBe('123.4');
  });

  it('is already done when the battery starts at the target', () => {
    const m = new ChargingMeter(aSpec({ startSocPct: 100, targetSocPct: 100 }));
    expect(m.endSecond).toBe(0);
    expect(m.stateChanges).toEqual([{ t: 0, state: 'SuspendedEV' }]);
    expect(m.totalWh).toBe(0);
  });

  it.each([
    [{ maxPowerW: 0 }, /maxPowerW/],
    [{ minPowerW: 20_000 }, /minPowerW/],
    [{ targetSocPct: 101 }, /targetSocPct/],
    [{ rampSeconds: 1.5 }, /rampSeconds/],
    [
      {
        suspensions: [
          { at: 10, seconds: 5, state: 'SuspendedEV' as const },
          { at: 12, seconds: 5, state: 'SuspendedEV' as const },
        ],
      },
      /suspensions\[1\]/,
    ],
  ])('refuses a bad spec %j', (o, msg) => {
    expect(() => validateChargingSpec(aSpec(o))).toThrow(msg);
  });

  const arbSpec = fc
    .record({
      maxPowerW: fc.integer({ min: 1_000, max: 350_000 }),
      minFrac: fc.double({ min: 0, max: 1, noNaN: true }),
      rampSeconds: fc.integer({ min: 0, max: 120 }),
      batteryWh: fc.integer({ min: 5_000, max: 120_000 }),
      startSocPct: fc.integer({ min: 0, max: 99 }),
      targetExtra: fc.integer({ min: 1, max: 100 }),
      taperFromSocPct: fc.integer({ min: 0, max: 100 }),
      maxChargingSeconds: fc.integer({ min: 0, max: 3 * 3600 }),
      susp: fc.option(
        fc.record({
          at: fc.integer({ min: 0, max: 3600 }),
          seconds: fc.integer({ min: 1, max: 900 }),
          ev: fc.boolean(),
        }),
      ),
      phases: fc.constantFrom(1 as const, 3 as const),
    })
    .map((r): ChargingSpec => ({
      maxPowerW: r.maxPowerW,
      minPowerW: Math.floor(r.maxPowerW * r.minFrac * 0.5),
      rampSeconds: r.rampSeconds,
      batteryWh: r.batteryWh,
      startSocPct: r.startSocPct,
      targetSocPct: Math.min(100, r.startSocPct + r.targetExtra),
      taperFromSocPct: r.taperFromSocPct,
      maxChargingSeconds: r.maxChargingSeconds,
      suspensions: r.susp
        ? [{ at: r.susp.at, seconds: r.susp.seconds, state: r.susp.ev ? 'SuspendedEV' : 'SuspendedEVSE' }]
        : [],
      phases: r.phases,
      voltageV: 230,
    }));

  it('property: the register never decreases, integrates the power exactly, and power stays within bounds', () => {
    fc.assert(
      fc.property(arbSpec, fc.integer({ min: 1, max: 97 }), (spec, stride) => {
        const m = new ChargingMeter(spec);
        let prev = m.at(0);
        for (let t = stride; t <= m.endSecond + stride; t += stride) {
          const r = m.at(t);
          expect(r.energyWs).toBeGreaterThanOrEqual(prev.energyWs);
          expect(r.energyWh).toBe(Math.floor(r.energyWs / 3600));
          expect(r.powerW).toBeLessThanOrEqual(spec.maxPowerW);
          expect(Number.isInteger(r.powerW)).toBe(true);
          prev = r;
        }
        // exact integration, second by second, over a window
        const t0 = Math.floor(m.endSecond / 2);
        for (let t = t0; t < Math.min(m.endSecond, t0 + 50); t++) {
          const a = m.at(t);
          expect(m.at(t + 1).energyWs - a.energyWs).toBe(a.powerW);
        }
        expect(m.at(m.endSecond + 1000).energyWs).toBe(m.at(m.endSecond).energyWs);
      }),
      { numRuns: 60 },
    );
  });

  it('property: a reading depends only on the spec and t (not on earlier queries)', () => {
    fc.assert(
      fc.property(
        arbSpec,
        fc.array(fc.integer({ min: 0, max: 4 * 3600 }), { minLength: 1, maxLength: 8 }),
        (spec, ts) => {
          const m = new ChargingMeter(spec);
          for (const t of ts) expect(m.at(t)).toEqual(new ChargingMeter(spec).at(t));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('property: charging stops at the target SoC or at the time limit', () => {
    fc.assert(
      fc.property(arbSpec, (spec) => {
        const m = new ChargingMeter(spec);
        const end = m.at(m.endSecond);
        if (m.endReason === 'full') expect(end.socPct).toBeGreaterThanOrEqual(spec.targetSocPct);
        else expect(end.chargingSeconds).toBe(spec.maxChargingSeconds);
        expect(powerFor(spec, 0, spec.batteryWh)).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});
