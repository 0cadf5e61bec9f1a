import { Dec } from '@csms/money';
import { priceSession } from './engine';
import { loadOcpiCases, toPricingSession } from './testing/ocpi-cases';
import type { PriceOut, PricedCdr } from './types';

type Expected = { excl_vat: string; incl_vat: string };

const cases = loadOcpiCases();

/** Expected exact value -> rounded to the cent, half-up (the engine's default). */
function cents(v: string): string {
  return new Dec(v).toFixed(2, Dec.ROUND_HALF_UP);
}

function expectPrice(actualRounded: PriceOut, actualExact: PriceOut, expected: Expected): void {
  expect(actualRounded).toEqual({ excl_vat: cents(expected.excl_vat), incl_vat: cents(expected.incl_vat) });
  expect(new Dec(actualExact.excl_vat).eq(expected.excl_vat)).toBe(true);
  expect(new Dec(actualExact.incl_vat).eq(expected.incl_vat)).toBe(true);
}

function billedSeconds(cdr: PricedCdr, dimension: string): Dec {
  return cdr.breakdown.lines
    .filter((l) => l.dimension === dimension && l.note === 'PRICED')
    .reduce((acc, l) => acc.plus(l.billed_quantity), new Dec(0));
}

const SUBTOTALS = [
  ['total_fixed_cost', 'total_fixed_cost'],
  ['total_energy_cost', 'total_energy_cost'],
  ['total_time_cost', 'total_time_cost'],
  ['total_parking_cost', 'total_parking_cost'],
  ['total_reservation_cost', 'total_reservation_cost'],
] as const;

describe('OCPI 2.2.1 worked cases (testing/fixtures/ocpi-tariff-cases.json)', () => {
  it('loads all 28 cases', () => {
    expect(cases).toHaveLength(28);
  });

  describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const cdr = priceSession(c.tariff, toPricingSession(c));
    const e = c.expected;

    it('total_cost matches to the cent, and exactly before rounding', () => {
      expect(cdr.currency).toBe(e.currency);
      expectPrice(cdr.total_cost, cdr.audit.unrounded.total_cost, e.total_cost);
      const rounded2dp = e.total_cost_rounded_2dp as Expected | undefined;
      if (rounded2dp) expect(cdr.total_cost).toEqual(rounded2dp);
    });

    const subtotals = SUBTOTALS.filter(([key]) => e[key] !== undefined);
    if (subtotals.length > 0) {
      it.each(subtotals)('%s matches', (key, field) => {
        expectPrice(cdr[field], cdr.audit.unrounded[field], e[key] as Expected);
      });
    }

    if (e.unclamped_total) {
      it('unclamped total (before min/max price) matches', () => {
        const u = e.unclamped_total as Expected;
        expect(new Dec(cdr.audit.unrounded.total_cost_before_min_max.excl_vat).eq(u.excl_vat)).toBe(true);
        expect(new Dec(cdr.audit.unrounded.total_cost_before_min_max.incl_vat).eq(u.incl_vat)).toBe(true);
      });
    }

    const billed = e.billed as Record<string, string> | undefined;
    if (billed) {
      it.each(Object.entries(billed))('billed %s = %s', (key, value) => {
        const actual: Record<string, () => Dec> = {
          energy_kwh: () => billedSeconds(cdr, 'ENERGY'),
          charging_minutes: () => billedSeconds(cdr, 'TIME').dividedBy(60),
          charging_seconds: () => billedSeconds(cdr, 'TIME'),
          parking_minutes: () => billedSeconds(cdr, 'PARKING_TIME').dividedBy(60),
          reservation_minutes: () => billedSeconds(cdr, 'RESERVATION_TIME').dividedBy(60),
        };
        expect(Object.keys(actual)).toContain(key);
        expect(actual[key]().toFixed()).toBe(new Dec(value).toFixed());
      });
    }

    if (e.total_time_hours) {
      it('total_time in hours', () => {
        const decimals = (e.total_time_hours as string).split('.')[1]?.length ?? 0;
        expect(new Dec(cdr.total_time).toFixed(decimals)).toBe(e.total_time_hours);
      });
    }

    it('every charging period names the tariff', () => {
      expect(cdr.charging_periods).toHaveLength(c.session.periods.length);
      for (const p of cdr.charging_periods) expect(p.tariff_id).toBe(c.tariff.id);
    });
  });

  it('contested case: parking rounded on its TOTAL (tag 2.2.1 / tandemdrive reading) gives 0.78', () => {
    const c = cases.find((x) => x.name === 'step-size-parking-becomes-free-at-20h');
    expect(c).toBeDefined();
    const cdr = priceSession(c!.tariff, toPricingSession(c!), { parkingStepBasis: 'TOTAL' });
    expect(cdr.total_cost).toEqual({ excl_vat: '0.78', incl_vat: '0.78' });
    expect(cdr.total_parking_cost.excl_vat).toBe('0.30');
  });

  it('real-world Amsterdam case evaluated in UTC would give 1.88088 (the time zone matters)', () => {
    const c = cases.find((x) => x.name === 'real-world-hourly-dynamic-price-amsterdam')!;
    const session = { ...toPricingSession(c), time_zone: 'UTC' };
    const cdr = priceSession(c.tariff, session);
    expect(cdr.audit.unrounded.total_cost.excl_vat).toBe('1.88088');
    expect(cdr.audit.warnings.map((w) => w.code)).toContain('PERIOD_BEFORE_SESSION_START');
  });

  it('half-even rounding of the 5.625 case gives 5.62', () => {
    const c = cases.find((x) => x.name === 'alt-url-energy-step-100wh')!;
    expect(priceSession(c.tariff, toPricingSession(c), { rounding: 'HALF_EVEN' }).total_cost).toEqual({
      excl_vat: '5.62',
      incl_vat: '6.24',
    });
  });
});
