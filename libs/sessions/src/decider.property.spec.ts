import Decimal from 'decimal.js';
import fc from 'fast-check';
import type { SessionCommand } from './decider';
import { endedOf, run, station } from './spec-helpers';

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
const iso = (min: number): string => new Date(T0 + min * 60_000).toISOString();

/** A 1.6 session with arbitrary (also decreasing, jumping, fractional) registers and status changes. */
const arbSession = fc.record({
  meterStart: fc.integer({ min: 0, max: 2_000_000 }),
  samples: fc.array(
    fc.record({
      minute: fc.integer({ min: 1, max: 239 }),
      wh: fc.oneof(
        fc.integer({ min: 0, max: 2_000_000 }).map(String),
        fc.double({ min: 0, max: 2_000_000, noNaN: true }).map((x) => x.toFixed(6)),
      ),
      status: fc.option(
        fc.constantFrom('Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing', 'Available', 'Preparing'),
        { nil: undefined },
      ),
    }),
    { maxLength: 25 },
  ),
  meterStop: fc.integer({ min: 0, max: 2_000_000 }),
});

function commands(s: {
  meterStart: number;
  samples: Array<{ minute: number; wh: string; status?: string }>;
  meterStop: number;
}): SessionCommand[] {
  const cs = station('CS-PROP');
  const cmds: SessionCommand[] = [...cs.start16({ tx: 1, meterStart: s.meterStart, at: iso(0) })];
  for (const x of s.samples) {
    cmds.push(...cs.wh16({ tx: 1, at: iso(x.minute), wh: x.wh }));
    if (x.status) cmds.push(...cs.status16({ status: x.status, at: iso(x.minute) }));
  }
  cmds.push(...cs.stop16({ tx: 1, meterStop: s.meterStop, at: iso(240) }));
  return cmds;
}

describe('session decider properties', () => {
  it('energy is never negative; periods are never negative and sum exactly to the total; time adds up', () => {
    fc.assert(
      fc.property(arbSession, (s) => {
        const [ended] = endedOf(run(commands(s)).published);
        const p = ended.payload;
        expect(new Decimal(p.totals.energyWh).isNeg()).toBe(false);
        for (const x of p.chargingPeriods) expect(new Decimal(x.energyWh).isNeg()).toBe(false);
        const sum = p.chargingPeriods.reduce((a, x) => a.plus(x.energyWh), new Decimal(0));
        expect(sum.eq(p.totals.energyWh)).toBe(true);
        const dur = p.chargingPeriods.reduce((a, x) => a.plus(x.durationSeconds), new Decimal(0));
        expect(dur.toString()).toBe(p.totals.timeSeconds);
        expect(new Decimal(p.totals.chargingTimeSeconds).plus(p.totals.parkingTimeSeconds).toString()).toBe(
          p.totals.timeSeconds,
        );
      }),
      { numRuns: 200 },
    );
  });

  it('billed energy never exceeds the plausible maximum (400 kW over the session plus slack per interval)', () => {
    fc.assert(
      fc.property(arbSession, (s) => {
        const [ended] = endedOf(run(commands(s)).published);
        const intervals = ended.payload.energyTimeline.length;
        expect(
          new Decimal(ended.payload.totals.energyWh).lte(new Decimal(400_000).times(4).plus(1000 * intervals)),
        ).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('replay is deterministic: the same commands give deep-equal events and state', () => {
    fc.assert(
      fc.property(arbSession, (s) => {
        const a = run(commands(s));
        const b = run(commands(s));
        expect(a.events).toEqual(b.events);
        expect(a.state).toEqual(b.state);
      }),
      { numRuns: 50 },
    );
  });

  it('2.0.1: delivering the same TransactionEvents in any order gives the same final session', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (incs, seed) => {
          const cs = station('CS-PERM', 'ocpp2.0.1');
          let wh = 1000;
          const recs: SessionCommand[][] = [
            cs.tx201({ eventType: 'Started', seqNo: 0, at: iso(0), chargingState: 'Charging', wh }),
          ];
          incs.forEach((inc, i) => {
            wh += inc;
            recs.push(
              cs.tx201({
                eventType: 'Updated',
                seqNo: i + 1,
                at: iso((i + 1) * 10),
                wh,
                ...(i % 3 === 2 ? { chargingState: 'SuspendedEV' } : {}),
              }),
            );
          });
          recs.push(cs.tx201({ eventType: 'Ended', seqNo: incs.length + 1, at: iso(200), wh: wh + 1 }));
          const inOrder = endedOf(run(recs.flat()).published);
          const shuffled = [...recs];
          let r = seed;
          for (let i = shuffled.length - 1; i > 0; i--) {
            r = (r * 1103515245 + 12345) % 2147483648;
            const j = r % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
          }
          const out = endedOf(run(shuffled.flat()).published);
          const last = out[out.length - 1].payload;
          const ref = inOrder[0].payload;
          expect(last.totals).toEqual(ref.totals);
          expect(last.chargingPeriods).toEqual(ref.chargingPeriods);
          expect(last.dataQuality.missingSeqNos).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });
});
