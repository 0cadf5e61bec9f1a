import { Dec } from '@csms/money';
import { priceSession } from './engine';
import type { TariffErrorCode } from './errors';
import { TARIFF_LIMITS } from './limits';
import { aSession, aTariff, element, energy, flat, time } from './testing/builders';
import type { OcpiTariff, OcpiTariffRestrictions } from './types';
import { tariffIssues } from './validate-tariff';

const component = (c: Record<string, unknown>, currency = 'EUR'): unknown =>
  aTariff({ currency, elements: [{ price_components: [c as never] }] });
const restricted = (r: Record<string, unknown>): unknown =>
  aTariff({ elements: [element([energy(1)], r as OcpiTariffRestrictions)] });
const priced = (extra: Partial<OcpiTariff>): unknown => aTariff(extra);
const C = 'elements[0].price_components[0]';
const R = 'elements[0].restrictions';

describe('every number of a tariff is bounded (TARIFF_LIMITS): a field-level error names the path', () => {
  it.each<[string, unknown, TariffErrorCode, string]>([
    [
      'price 1e308 (JSON number)',
      component({ type: 'ENERGY', price: 1e308, step_size: 1 }),
      'TARIFF_NUMBER_TOO_LARGE',
      `${C}.price`,
    ],
    [
      'price 10^9',
      component({ type: 'TIME', price: '1000000000', step_size: 1 }),
      'TARIFF_NUMBER_TOO_LARGE',
      `${C}.price`,
    ],
    ['FLAT price 10^9', component({ type: 'FLAT', price: 1e9, step_size: 0 }), 'TARIFF_NUMBER_TOO_LARGE', `${C}.price`],
    [
      'EUR price with 7 decimals (2 + 4 = 6 allowed)',
      component({ type: 'ENERGY', price: '0.1234567', step_size: 1 }),
      'TARIFF_TOO_MANY_DECIMALS',
      `${C}.price`,
    ],
    [
      'JPY price with 5 decimals (0 + 4)',
      component({ type: 'ENERGY', price: '35.12345', step_size: 1 }, 'JPY'),
      'TARIFF_TOO_MANY_DECIMALS',
      `${C}.price`,
    ],
    [
      'a float artefact (0.1 + 0.2)',
      component({ type: 'ENERGY', price: 0.1 + 0.2, step_size: 1 }),
      'TARIFF_TOO_MANY_DECIMALS',
      `${C}.price`,
    ],
    [
      'vat above 100 %',
      component({ type: 'ENERGY', price: 1, vat: 100.5, step_size: 1 }),
      'TARIFF_NUMBER_TOO_LARGE',
      `${C}.vat`,
    ],
    [
      'vat 1e308',
      component({ type: 'ENERGY', price: 1, vat: 1e308, step_size: 1 }),
      'TARIFF_NUMBER_TOO_LARGE',
      `${C}.vat`,
    ],
    [
      'vat with 5 decimals',
      component({ type: 'ENERGY', price: 1, vat: '21.00001', step_size: 1 }),
      'TARIFF_TOO_MANY_DECIMALS',
      `${C}.vat`,
    ],
    [
      'step_size above 1,000,000',
      component({ type: 'ENERGY', price: 1, step_size: 1_000_001 }),
      'TARIFF_NUMBER_TOO_LARGE',
      `${C}.step_size`,
    ],
    [
      'step_size 1e308 (an integer to JSON)',
      component({ type: 'TIME', price: 1, step_size: 1e308 }),
      'TARIFF_NUMBER_TOO_LARGE',
      `${C}.step_size`,
    ],
    [
      'FLAT step_size 1e308',
      component({ type: 'FLAT', price: 1, step_size: 1e308 }),
      'TARIFF_NUMBER_TOO_LARGE',
      `${C}.step_size`,
    ],
    [
      'min_price.excl_vat 1e308',
      priced({ min_price: { excl_vat: 1e308 } }),
      'TARIFF_NUMBER_TOO_LARGE',
      'min_price.excl_vat',
    ],
    [
      'min_price.incl_vat 10^9',
      priced({ min_price: { excl_vat: 1, incl_vat: '1000000000' } }),
      'TARIFF_NUMBER_TOO_LARGE',
      'min_price.incl_vat',
    ],
    [
      'max_price.excl_vat 10^12',
      priced({ max_price: { excl_vat: 1e12 } }),
      'TARIFF_NUMBER_TOO_LARGE',
      'max_price.excl_vat',
    ],
    [
      'max_price.incl_vat with 7 decimals',
      priced({ max_price: { excl_vat: 10, incl_vat: '12.1000001' } }),
      'TARIFF_TOO_MANY_DECIMALS',
      'max_price.incl_vat',
    ],
    ['min_kwh 10^9', restricted({ min_kwh: 1e9 }), 'TARIFF_NUMBER_TOO_LARGE', `${R}.min_kwh`],
    ['max_kwh 1e308', restricted({ max_kwh: 1e308 }), 'TARIFF_NUMBER_TOO_LARGE', `${R}.max_kwh`],
    ['max_kwh with 10 decimals', restricted({ max_kwh: '0.0000000001' }), 'TARIFF_TOO_MANY_DECIMALS', `${R}.max_kwh`],
    ['min_current 10^6 A', restricted({ min_current: 1e6 }), 'TARIFF_NUMBER_TOO_LARGE', `${R}.min_current`],
    [
      'max_current with 7 decimals',
      restricted({ max_current: '32.0000001' }),
      'TARIFF_TOO_MANY_DECIMALS',
      `${R}.max_current`,
    ],
    ['max_power 1e308 kW', restricted({ max_power: 1e308 }), 'TARIFF_NUMBER_TOO_LARGE', `${R}.max_power`],
    ['min_power with 7 decimals', restricted({ min_power: '7.4000001' }), 'TARIFF_TOO_MANY_DECIMALS', `${R}.min_power`],
    [
      'min_duration above 10^10 s',
      restricted({ min_duration: 10_000_000_001 }),
      'TARIFF_NUMBER_TOO_LARGE',
      `${R}.min_duration`,
    ],
    [
      'max_duration 1e308 (an integer to JSON)',
      restricted({ max_duration: 1e308 }),
      'TARIFF_NUMBER_TOO_LARGE',
      `${R}.max_duration`,
    ],
  ])('%s', (_name, tariff, code, field) => {
    const issues = tariffIssues(tariff);
    expect(issues).toEqual([expect.objectContaining({ code, field })]);
  });

  it('every bound, in one tariff: one issue per field', () => {
    const t = aTariff({
      min_price: { excl_vat: 1e9 },
      elements: [
        element([{ type: 'ENERGY', price: 1e9, vat: 101, step_size: 2e6 }], { max_kwh: 1e9, max_duration: 1e11 }),
      ],
    });
    expect(tariffIssues(t).map((i) => i.field)).toEqual([
      'min_price.excl_vat',
      'elements[0].restrictions.max_kwh',
      'elements[0].restrictions.max_duration',
      `${C}.price`,
      `${C}.vat`,
      `${C}.step_size`,
    ]);
  });

  it.each<[string, unknown]>([
    ['the largest EUR price: 999999999.999999', component({ type: 'ENERGY', price: '999999999.999999', step_size: 1 })],
    ['KWD price with 7 decimals (3 + 4)', component({ type: 'ENERGY', price: '0.0125001', step_size: 1 }, 'KWD')],
    ['JPY price with 4 decimals', component({ type: 'ENERGY', price: '35.1234', step_size: 1 }, 'JPY')],
    ['trailing zeros do not count as decimals', component({ type: 'ENERGY', price: '0.25000000000', step_size: 1 })],
    ['vat 100 with 4 decimals', component({ type: 'ENERGY', price: 1, vat: '99.9999', step_size: 1 })],
    ['vat exactly 100', component({ type: 'ENERGY', price: 1, vat: 100, step_size: 1 })],
    ['step_size 1,000,000', component({ type: 'TIME', price: 1, step_size: 1_000_000 })],
    [
      'min/max price at the bound',
      priced({
        min_price: { excl_vat: '999999999.99', incl_vat: '999999999.999999' },
        max_price: { excl_vat: '999999999.999999' },
      }),
    ],
    [
      'kWh, current, power and duration at their bounds',
      restricted({
        min_kwh: '0.000000001',
        max_kwh: '999999999.999999999',
        max_current: '999999.999999',
        max_power: '999999.999999',
        max_duration: 10_000_000_000,
      }),
    ],
  ])('accepts %s', (_name, tariff) => {
    expect(tariffIssues(tariff)).toEqual([]);
  });

  it('the bounds are what the README says', () => {
    expect(TARIFF_LIMITS).toEqual({
      amountBelow: '1000000000',
      amountExtraDecimals: 4,
      vatAtMost: '100',
      vatDecimals: 4,
      stepSizeAtMost: 1_000_000,
      kwhBelow: '1000000000',
      kwhDecimals: 9,
      currentPowerBelow: '1000000',
      currentPowerDecimals: 6,
      durationAtMost: 10_000_000_000,
    });
  });

  it('the largest valid prices over a 10,000-year session of 10^9 kWh: every total below 10^19', () => {
    const big = '999999999.999999';
    const t = aTariff({
      elements: [
        element([flat(big, 100), energy(big, 1_000_000, 100), time(big, 1_000_000, 100)]),
        element([flat(big, 100)], { max_kwh: 1 }),
      ],
      min_price: { excl_vat: big, incl_vat: big },
    });
    const s = aSession({
      start: '0000-01-01T00:00:00Z',
      periods: [{ at: '0000-01-01T00:00:00Z', kwh: '999999999.999999' }],
      end: '9999-12-31T23:59:59.999Z',
    });
    const cdr = priceSession(t, s);
    for (const p of [cdr.total_cost, cdr.total_energy_cost, cdr.total_time_cost, cdr.total_fixed_cost]) {
      for (const v of [p.excl_vat, p.incl_vat]) {
        expect(new Dec(v).lt('1e19')).toBe(true);
        expect(`-${v}`.length).toBeLessThanOrEqual(40);
      }
    }
  });
});
