import fc from 'fast-check';
import { ChargingMeter } from './charging';
import {
  defaultTokens,
  planStation,
  QUICK_SHAPE,
  REALISTIC_SHAPE,
  validateShape,
  type PlanOptions,
  type SessionShape,
} from './plan';

const opts = (o: Partial<PlanOptions> = {}): PlanOptions => ({
  seed: 42,
  stationIndex: 0,
  connectors: 2,
  sessionsPerConnector: 3,
  tokens: ['TAG-A', 'TAG-B', 'TAG-C'],
  shape: REALISTIC_SHAPE,
  ...o,
});

const within = (v: number, [lo, hi]: readonly [number, number]) => v >= lo && v <= hi;

describe('planStation', () => {
  it('property: the same seed and station give a deep-equal plan', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 9999 }),
        fc.constantFrom(REALISTIC_SHAPE, QUICK_SHAPE),
        (seed, idx, shape) => {
          expect(planStation(opts({ seed, stationIndex: idx, shape }))).toEqual(
            planStation(opts({ seed, stationIndex: idx, shape })),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('different seeds or stations give different plans', () => {
    expect(planStation(opts({ seed: 1 }))).not.toEqual(planStation(opts({ seed: 2 })));
    expect(planStation(opts({ stationIndex: 1 })).connectors).not.toEqual(
      planStation(opts({ stationIndex: 2 })).connectors,
    );
  });

  it('a connector plan does not depend on how many sessions or connectors come after it', () => {
    const small = planStation(opts({ connectors: 1, sessionsPerConnector: 2 }));
    const big = planStation(opts({ connectors: 4, sessionsPerConnector: 5 }));
    expect(big.connectors[0].sessions.slice(0, 2)).toEqual(small.connectors[0].sessions);
    expect(big.connectors[0].initialRegisterWh).toBe(small.connectors[0].initialRegisterWh);
  });

  it('property: every drawn value lies within the shape and gives a valid charging spec', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.constantFrom(REALISTIC_SHAPE, QUICK_SHAPE),
        (seed, shape: SessionShape) => {
          const plan = planStation(opts({ seed, shape, sessionsPerConnector: 4 }));
          for (const c of plan.connectors) {
            for (const s of c.sessions) {
              expect(within(s.gapSeconds, shape.gapSeconds)).toBe(true);
              expect(within(s.plugToAuthSeconds, shape.plugToAuthSeconds)).toBe(true);
              expect(within(s.idleSeconds, shape.idleSeconds)).toBe(true);
              expect(within(s.charging.maxPowerW, shape.maxPowerW)).toBe(true);
              expect(within(s.charging.maxChargingSeconds, shape.chargeSeconds)).toBe(true);
              expect(s.charging.targetSocPct).toBeGreaterThan(s.charging.startSocPct);
              expect(['TAG-A', 'TAG-B', 'TAG-C']).toContain(s.idTag);
              expect(() => new ChargingMeter(s.charging)).not.toThrow();
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('draws faults and offline periods when their probability is 1', () => {
    const plan = planStation(opts({ shape: { ...QUICK_SHAPE, faultProbability: 1, offlineProbability: 1 } }));
    for (const s of plan.connectors.flatMap((c) => c.sessions)) {
      expect(s.faultAfter).toBeDefined();
      expect(s.offline).toBeDefined();
    }
    const none = planStation(opts({ shape: QUICK_SHAPE }));
    expect(none.connectors.flatMap((c) => c.sessions).some((s) => s.faultAfter || s.offline)).toBe(false);
  });

  it.each([
    [{ connectors: 0 }, /connectors/],
    [{ sessionsPerConnector: -1 }, /sessionsPerConnector/],
    [{ tokens: [] }, /token/],
    [{ shape: { ...QUICK_SHAPE, gapSeconds: [10, 5] as const } }, /gapSeconds/],
    [{ shape: { ...QUICK_SHAPE, faultProbability: 2 } }, /faultProbability/],
  ])('refuses %j', (o, msg) => {
    expect(() => planStation(opts(o as Partial<PlanOptions>))).toThrow(msg);
  });

  it('the presets are valid and default tokens fit the 1.6 idTag length', () => {
    expect(() => validateShape(REALISTIC_SHAPE)).not.toThrow();
    expect(() => validateShape(QUICK_SHAPE)).not.toThrow();
    for (const t of defaultTokens(2 ** 32 - 1, 12)) expect(t.length).toBeLessThanOrEqual(20);
  });
});
