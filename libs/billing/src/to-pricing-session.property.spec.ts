import { formatUtc, parseRfc3339, TimeZones } from '@csms/kernel';
import { priceSession } from '@csms/pricing';
import type { DayOfWeek, OcpiTariff, OcpiTariffRestrictions } from '@csms/pricing';
import Decimal from 'decimal.js';
import fc from 'fast-check';
import { aSessionEnded, type PeriodSpec, toPricingText as toPricingSession } from './spec-helpers';

const ZONES = ['Europe/Amsterdam', 'America/New_York', 'Australia/Sydney', 'UTC'];
const HOUR = 3_600_000;
// Around the 2026 DST changes of the zones above, and anywhere in the year.
const DST_DAYS = [
  '2026-03-29T00:00:00Z',
  '2026-10-25T00:00:00Z',
  '2026-03-08T06:00:00Z',
  '2026-11-01T05:00:00Z',
  '2026-04-04T14:00:00Z',
  '2026-10-03T14:00:00Z',
].map((t) => parseRfc3339(t)!);
const startArb = fc.oneof(
  fc.tuple(fc.constantFrom(...DST_DAYS), fc.integer({ min: -12 * 60, max: 12 * 60 })).map(([d, m]) => d + m * 60_000),
  fc.integer({ min: 0, max: 364 * 24 * 60 }).map((m) => parseRfc3339('2026-01-01T00:00:00Z')! + m * 60_000),
);
const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
  .map(([h, m]) => `${`${h}`.padStart(2, '0')}:${`${m}`.padStart(2, '0')}`);
const restrictionArb: fc.Arbitrary<OcpiTariffRestrictions> = fc
  .record(
    {
      start_time: hhmm,
      end_time: hhmm,
      day_of_week: fc.constantFrom<DayOfWeek[]>(['MONDAY'], ['SATURDAY', 'SUNDAY']),
      min_duration: fc.integer({ min: 1, max: 4 * 3600 }),
      max_kwh: fc.integer({ min: 1, max: 80_000 }).map((w) => w / 1000),
      min_kwh: fc.integer({ min: 0, max: 80_000 }).map((w) => `${w / 1000}`),
    },
    { requiredKeys: [] },
  )
  .filter((r) => r.start_time === undefined || r.start_time !== r.end_time)
  .filter((r) => r.min_kwh === undefined || r.max_kwh === undefined || Number(r.min_kwh) < r.max_kwh);

function tariffOf(restrictions: OcpiTariffRestrictions[]): OcpiTariff {
  return {
    id: 'P',
    currency: 'EUR',
    elements: [
      ...restrictions.map((r) => ({
        price_components: [
          { type: 'ENERGY' as const, price: 0.2, step_size: 1 },
          { type: 'TIME' as const, price: 1, step_size: 1 },
        ],
        restrictions: r,
      })),
      {
        price_components: [
          { type: 'ENERGY' as const, price: 0.3, step_size: 100 },
          { type: 'PARKING_TIME' as const, price: 2, step_size: 300 },
        ],
      },
    ],
  };
}

const CATEGORIES = ['CHARGING', 'CHARGING', 'SUSPENDED_EVSE', 'PREPARING', 'PARKING', 'IDLE'] as const;
const sessionArb = fc.record({
  start: startArb,
  periods: fc.array(
    fc.record({
      ms: fc.integer({ min: 1, max: 3 * HOUR }),
      category: fc.constantFrom(...CATEGORIES),
      // Wh with up to 3 decimals (the session service's resolution)
      mwh: fc.integer({ min: 0, max: 30_000_000 }),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  // readings: fraction of the session and an increment in mWh
  readings: fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 9_000_000 })), {
    maxLength: 12,
  }),
  zone: fc.constantFrom(...ZONES),
  restrictions: fc.array(restrictionArb, { minLength: 1, maxLength: 4 }),
});

function build(input: {
  start: number;
  periods: { ms: number; category: (typeof CATEGORIES)[number]; mwh: number }[];
  readings: [number, number][];
}) {
  const { start, periods, readings } = input;
  let t = start;
  const specs: PeriodSpec[] = periods.map((p) => {
    t += p.ms;
    return { to: formatUtc(t), category: p.category, wh: new Decimal(p.mwh).div(1000).toFixed(), maxPowerW: '7400' };
  });
  const end = t;
  const sorted = [...readings].sort((a, b) => a[0] - b[0]);
  let cum = new Decimal(0);
  const timeline: [string, string][] = [[formatUtc(start), '0']];
  for (const [frac, inc] of sorted) {
    cum = cum.plus(new Decimal(inc).div(1000));
    timeline.push([formatUtc(start + Math.floor(((end - start) * frac) / 1000)), cum.toFixed()]);
  }
  return { payload: aSessionEnded(formatUtc(start), specs, timeline), specs, start, end };
}

describe('toPricingSession properties', () => {
  it('conserves energy exactly: pieces sum to their period and to the total; never negative; strictly increasing; priced without mismatch', () => {
    fc.assert(
      fc.property(sessionArb, (input) => {
        const { payload } = build(input);
        const tariff = tariffOf(input.restrictions);
        const s = toPricingSession(payload, { timeZone: input.zone, currency: 'EUR', tariff });
        const startsMs = s.charging_periods.map((p) => parseRfc3339(p.start_date_time)!);
        for (let i = 1; i < startsMs.length; i++) expect(startsMs[i]).toBeGreaterThan(startsMs[i - 1]);
        let total = new Decimal(0);
        // Oracle: cumulative Wh of the timeline at t (linear between readings, last reading of an instant).
        const D = Decimal.clone({ precision: 60 });
        const pts = payload.energyTimeline.map((e) => ({ ms: parseRfc3339(e.at)!, wh: new D(e.cumulativeWh) }));
        const interp = (ms: number): Decimal => {
          let value = new D(0);
          for (let k = 0; k < pts.length; k++) {
            if (pts[k].ms <= ms) value = pts[k].wh;
            else {
              if (k > 0 && pts[k - 1].ms < ms)
                value = value.plus(
                  pts[k].wh
                    .minus(value)
                    .times(ms - pts[k - 1].ms)
                    .div(pts[k].ms - pts[k - 1].ms),
                );
              break;
            }
          }
          return value;
        };
        let before = new D(0);
        payload.chargingPeriods.forEach((parent) => {
          const from = parseRfc3339(parent.startDateTime)!;
          const to = parseRfc3339(parent.endDateTime)!;
          let sum = new Decimal(0);
          s.charging_periods.forEach((p, i) => {
            if (startsMs[i] < from || startsMs[i] >= to) return;
            const e = p.dimensions.find((d) => d.type === 'ENERGY')!.volume;
            expect(e).toMatch(/^\d+(\.\d{1,6})?$/);
            // a cut inside the parent: cumulative energy there = the timeline's share of the parent's energy, floored to 1 mWh
            if (startsMs[i] > from) {
              const energy = new D(parent.energyWh).div(1000);
              const rise = interp(to).minus(interp(from));
              const share = rise.gt(0)
                ? interp(startsMs[i]).minus(interp(from)).div(rise)
                : new D(startsMs[i] - from).div(to - from);
              const exact = before.plus(energy.times(share));
              const reported = before.plus(sum);
              expect(reported.lte(exact.plus('1e-40'))).toBe(true);
              expect(exact.minus(reported).lt('0.000001')).toBe(true);
            }
            sum = sum.plus(e);
          });
          before = before.plus(new D(parent.energyWh).div(1000));
          expect(sum.toFixed()).toBe(new Decimal(parent.energyWh).div(1000).toFixed());
          total = total.plus(sum);
        });
        expect(total.toFixed()).toBe(s.total_energy);
        expect(s.total_energy).toBe(payload.totals.energyKwh);
        const cdr = priceSession(tariff, s);
        expect(cdr.audit.warnings.filter((w) => w.code === 'ENERGY_TOTAL_MISMATCH')).toEqual([]);
        expect(cdr.total_energy).toBe(payload.totals.energyKwh);
      }),
      { numRuns: 150 },
    );
  });

  it('cuts at every restriction flip: within a piece, time of day, date and session age restrictions never change', () => {
    fc.assert(
      fc.property(sessionArb, (input) => {
        const { payload, start } = build(input);
        const s = toPricingSession(payload, {
          timeZone: input.zone,
          currency: 'EUR',
          tariff: tariffOf(input.restrictions),
        });
        const zones = new TimeZones();
        const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
        const sec = (v: string | undefined, end: boolean): number | undefined =>
          v === undefined
            ? undefined
            : end && v === '00:00'
              ? 86_400
              : (Number(v.slice(0, 2)) * 60 + Number(v.slice(3))) * 60;
        // An independent statement of the OCPI restriction semantics the engine applies at a period start.
        const signature = (ms: number): string => {
          const lp = zones.localParts(input.zone, ms);
          const t = lp.secondOfDay;
          return input.restrictions
            .map((r) => {
              const st = sec(r.start_time, false);
              const en = sec(r.end_time, true);
              const tod =
                st !== undefined && en !== undefined
                  ? st < en
                    ? t >= st && t < en
                    : t >= st || t < en
                  : st !== undefined
                    ? t >= st
                    : en !== undefined
                      ? t < en
                      : true;
              const day = r.day_of_week === undefined || r.day_of_week.includes(DAYS[lp.weekday] as 'MONDAY');
              const age = r.min_duration === undefined || ms - start >= r.min_duration * 1000;
              return `${tod}${day}${age}`;
            })
            .join();
        };
        const startsMs = s.charging_periods.map((p) => parseRfc3339(p.start_date_time)!);
        const endMs = parseRfc3339(s.end_date_time)!;
        startsMs.forEach((from, i) => {
          const to = i + 1 < startsMs.length ? startsMs[i + 1] : endMs;
          const expected = signature(from);
          for (let t = from; t < to; t += 60_000) expect(signature(t)).toBe(expected);
          if (to > from) expect(signature(to - 1)).toBe(expected);
        });
      }),
      { numRuns: 100 },
    );
  });
});
