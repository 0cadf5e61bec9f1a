import fc from 'fast-check';
import { Dec } from '@csms/money';
import { toCanonicalJson } from './canonical-json';
import { priceSession } from './engine';
import type {
  DayOfWeek,
  OcpiPriceComponent,
  OcpiTariff,
  OcpiTariffElement,
  OcpiTariffRestrictions,
  PricedCdr,
  PricingSession,
} from './types';
import { DAYS_OF_WEEK } from './types';

// ------------------------------------------------------------------ generators

const priceText = fc.integer({ min: 0, max: 5000 }).map((n) => new Dec(n).dividedBy(100).toFixed());
const vat = fc.option(fc.constantFrom(0, 5.2, 9, 21), { nil: undefined });
const step = fc.constantFrom(1, 60, 100, 300, 900, 1000);

function component(type: OcpiPriceComponent['type']): fc.Arbitrary<OcpiPriceComponent> {
  return fc
    .record({ price: priceText, vat, step: type === 'FLAT' ? fc.constant(1) : step })
    .map(({ price, vat: v, step: s }) => ({
      type,
      price,
      step_size: s,
      ...(v === undefined ? {} : { vat: v }),
    }));
}

const components: fc.Arbitrary<OcpiPriceComponent[]> = fc
  .subarray(['FLAT', 'ENERGY', 'TIME', 'PARKING_TIME'] as const, { minLength: 1 })
  .chain((types) => fc.tuple(...types.map((t) => component(t))));

const hhmm = fc.integer({ min: 0, max: 23 }).map((h) => `${String(h).padStart(2, '0')}:00`);

const restrictions: fc.Arbitrary<OcpiTariffRestrictions> = fc
  .record(
    {
      window: fc.tuple(hhmm, hhmm).filter(([a, b]) => a !== b),
      days: fc.subarray([...DAYS_OF_WEEK] as DayOfWeek[], { minLength: 1 }),
      maxPower: fc.integer({ min: 5, max: 100 }),
    },
    { requiredKeys: [] },
  )
  .map((r) => ({
    ...(r.window ? { start_time: r.window[0], end_time: r.window[1] } : {}),
    ...(r.days ? { day_of_week: r.days } : {}),
    ...(r.maxPower ? { max_power: r.maxPower } : {}),
  }));

const restrictedElement: fc.Arbitrary<OcpiTariffElement> = fc.record({ price_components: components, restrictions });

/**
 * Tariffs of up to 3 restricted elements and an unrestricted fallback. With `maxPrice`, a max_price
 * (with incl_vat when `maxIncl` is 'always', as in every OCPI example; optional otherwise).
 */
function tariffArb(opts: { maxPrice?: boolean; maxIncl?: 'always' | 'optional' } = {}): fc.Arbitrary<OcpiTariff> {
  const incl =
    opts.maxIncl === 'always'
      ? fc.integer({ min: 0, max: 60 })
      : fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined });
  return fc
    .record({
      restricted: fc.array(restrictedElement, { maxLength: 3 }),
      fallback: components,
      max: opts.maxPrice ? fc.record({ excl: fc.integer({ min: 0, max: 50 }), incl }) : fc.constant(undefined),
    })
    .map(({ restricted, fallback, max }) => ({
      id: 'PROP',
      currency: 'EUR',
      elements: [...restricted, { price_components: fallback }],
      ...(max ? { max_price: { excl_vat: max.excl, ...(max.incl === undefined ? {} : { incl_vat: max.incl }) } } : {}),
    }));
}

interface PeriodGen {
  seconds: number;
  parking: boolean;
  milliKwh: number;
  kw: number;
}

const periodGen: fc.Arbitrary<PeriodGen> = fc.record({
  seconds: fc.integer({ min: 1, max: 7200 }),
  parking: fc.boolean(),
  milliKwh: fc.integer({ min: 0, max: 40000 }),
  kw: fc.integer({ min: 1, max: 150 }),
});

const sessionGen = fc.record({
  startMinute: fc.integer({ min: 0, max: 365 * 24 * 60 }),
  periods: fc.array(periodGen, { minLength: 1, maxLength: 8 }),
  tz: fc.constantFrom('Europe/Amsterdam', 'UTC', 'America/New_York'),
});

function kwh(milli: number): string {
  return new Dec(milli).dividedBy(1000).toFixed();
}

/** A PricingSession; the last period is always charging with energy (so growth is growth). */
function toSession(g: { startMinute: number; periods: PeriodGen[]; tz: string }): PricingSession {
  let t = Date.UTC(2026, 0, 1) + g.startMinute * 60000;
  const start = t;
  let total = 0;
  const charging_periods = g.periods.map((p, i) => {
    const last = i === g.periods.length - 1;
    const parkingPeriod = p.parking && !last;
    const milli = parkingPeriod ? 0 : Math.max(p.milliKwh, last ? 1 : 0);
    total += milli;
    const period: PricingSession['charging_periods'][number] = {
      start_date_time: new Date(t).toISOString(),
      dimensions: parkingPeriod
        ? [{ type: 'PARKING_TIME', volume: String(p.seconds) }]
        : [
            { type: 'TIME', volume: String(p.seconds) },
            { type: 'ENERGY', volume: kwh(milli) },
            { type: 'MAX_POWER', volume: String(p.kw) },
          ],
    };
    t += p.seconds * 1000;
    return period;
  });
  return {
    session_id: 'prop',
    start_date_time: new Date(start).toISOString(),
    end_date_time: new Date(t).toISOString(),
    time_zone: g.tz,
    currency: 'EUR',
    total_energy: kwh(total),
    charging_periods,
  };
}

const sum = (values: string[]): Dec => values.reduce((a, v) => a.plus(v), new Dec(0));

/**
 * Equal to 25 decimal places. Unrounded figures carry 40 significant digits: a TIME amount is
 * price x seconds / 3600, which need not terminate, so sums taken in a different order may differ
 * in the 40th digit, 20+ orders of magnitude below a cent.
 */
function same(a: Dec | string, b: Dec | string): boolean {
  return new Dec(a).minus(b).abs().lt('1e-25');
}

// ------------------------------------------------------------------ properties

describe('pricing properties (fast-check)', () => {
  it('total = sum of its parts (to 25 decimals, unrounded), and the rounded total is within rounding of the rounded parts', () => {
    fc.assert(
      fc.property(tariffArb({ maxPrice: true }), sessionGen, (tariff, g) => {
        const cdr = priceSession(tariff, toSession(g));
        const u = cdr.audit.unrounded;
        const parts = [
          u.total_fixed_cost,
          u.total_energy_cost,
          u.total_time_cost,
          u.total_parking_cost,
          u.total_reservation_cost,
        ];
        for (const side of ['excl_vat', 'incl_vat'] as const) {
          expect(same(sum(parts.map((p) => p[side])), u.total_cost_before_min_max[side])).toBe(true);
          expect(
            same(
              sum(cdr.breakdown.lines.map((l) => (side === 'excl_vat' ? l.amount_excl_vat : l.amount_incl_vat))),
              u.total_cost_before_min_max[side],
            ),
          ).toBe(true);
          expect(
            same(new Dec(u.total_cost_before_min_max[side]).plus(u.price_adjustment[side]), u.total_cost[side]),
          ).toBe(true);
          const roundedParts = sum(
            [
              cdr.total_fixed_cost,
              cdr.total_energy_cost,
              cdr.total_time_cost,
              cdr.total_parking_cost,
              cdr.total_reservation_cost,
            ].map((p) => p[side]),
          ).plus(new Dec(u.price_adjustment[side]).toDecimalPlaces(2, Dec.ROUND_HALF_UP));
          expect(roundedParts.minus(cdr.total_cost[side]).abs().lte('0.03')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('cost never decreases when the energy or the time of a session grows (fixed tariff)', () => {
    fc.assert(
      fc.property(
        tariffArb({ maxPrice: true, maxIncl: 'always' }),
        sessionGen,
        fc.integer({ min: 1, max: 20000 }),
        fc.integer({ min: 1, max: 3600 }),
        (tariff, g, moreMilliKwh, moreSeconds) => {
          const before = priceSession(tariff, toSession(g));
          const last = g.periods[g.periods.length - 1];
          const moreEnergy = priceSession(
            tariff,
            toSession({
              ...g,
              periods: [...g.periods.slice(0, -1), { ...last, milliKwh: Math.max(last.milliKwh, 1) + moreMilliKwh }],
            }),
          );
          const moreTime = priceSession(
            tariff,
            toSession({ ...g, periods: [...g.periods.slice(0, -1), { ...last, seconds: last.seconds + moreSeconds }] }),
          );
          for (const after of [moreEnergy, moreTime]) {
            for (const side of ['excl_vat', 'incl_vat'] as const) {
              expect(new Dec(after.audit.unrounded.total_cost[side]).gte(before.audit.unrounded.total_cost[side])).toBe(
                true,
              );
              expect(new Dec(after.total_cost[side]).gte(before.total_cost[side])).toBe(true);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('under a max_price without incl_vat, the excl total still never decreases', () => {
    fc.assert(
      fc.property(
        tariffArb({ maxPrice: true }),
        sessionGen,
        fc.integer({ min: 1, max: 20000 }),
        (tariff, g, moreMilliKwh) => {
          const before = priceSession(tariff, toSession(g));
          const last = g.periods[g.periods.length - 1];
          const after = priceSession(
            tariff,
            toSession({
              ...g,
              periods: [...g.periods.slice(0, -1), { ...last, milliKwh: Math.max(last.milliKwh, 1) + moreMilliKwh }],
            }),
          );
          expect(
            new Dec(after.audit.unrounded.total_cost.excl_vat).gte(before.audit.unrounded.total_cost.excl_vat),
          ).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('max_price caps the total (excl, and incl when given)', () => {
    fc.assert(
      fc.property(tariffArb({ maxPrice: true }), sessionGen, (tariff, g) => {
        const cdr = priceSession(tariff, toSession(g));
        const max = tariff.max_price;
        if (!max) return;
        expect(new Dec(cdr.audit.unrounded.total_cost.excl_vat).lte(String(max.excl_vat))).toBe(true);
        expect(new Dec(cdr.total_cost.excl_vat).lte(String(max.excl_vat))).toBe(true);
        if (max.incl_vat !== undefined) expect(new Dec(cdr.total_cost.incl_vat).lte(String(max.incl_vat))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('step_size never bills less than was used, and bills less than one step more', () => {
    fc.assert(
      fc.property(tariffArb(), sessionGen, (tariff, g) => {
        const cdr: PricedCdr = priceSession(tariff, toSession(g));
        for (const line of cdr.breakdown.lines) expect(new Dec(line.billed_quantity).gte(line.quantity)).toBe(true);
        for (const r of cdr.breakdown.step_rounding) {
          const stepInUnit = r.group === 'ENERGY' ? new Dec(r.step_size).dividedBy(1000) : new Dec(r.step_size);
          const extra = new Dec(r.billed_quantity).minus(r.quantity);
          expect(extra.gte(0)).toBe(true);
          expect(extra.lt(stepInUnit)).toBe(true);
          expect(new Dec(r.billed_quantity).mod(stepInUnit).isZero()).toBe(true);
        }
        // Per group, billed quantities add up to the rounded total.
        for (const r of cdr.breakdown.step_rounding) {
          const dim = r.group;
          const lines = cdr.breakdown.lines.filter((l) => l.dimension === dim && l.note === 'PRICED');
          const billed = sum(lines.map((l) => l.billed_quantity));
          if (cdr.audit.policies.parking_step_basis === 'BILLABLE') expect(billed.eq(r.billed_quantity)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('pricing the same session twice gives byte-identical JSON', () => {
    fc.assert(
      fc.property(tariffArb({ maxPrice: true }), sessionGen, (tariff, g) => {
        const session = toSession(g);
        const a = priceSession(tariff, session);
        const b = priceSession(structuredClone(tariff), structuredClone(session));
        expect(JSON.stringify(b)).toBe(JSON.stringify(a));
        expect(toCanonicalJson(b)).toBe(toCanonicalJson(a));
        expect(JSON.parse(JSON.stringify(a))).toEqual(a);
      }),
      { numRuns: 200 },
    );
  });
});
