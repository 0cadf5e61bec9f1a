import { Dec } from '@csms/money';
import { priceSession } from './engine';
import { aSession, aTariff, element, energy, flat, parking, time } from './testing/builders';
import type { OcpiTariff, PricedCdr, PricingOptions } from './types';

const START = '2024-01-15T10:00:00Z';

function priceEnergy(kwh: string, step: number, price: number | string = 1): PricedCdr {
  return priceSession(
    aTariff({ elements: [element([energy(price, step)])] }),
    aSession({ periods: [{ at: START, kwh }], end: '2024-01-15T11:00:00Z' }),
  );
}

function priceChargingSeconds(seconds: number, step: number, price: number | string = 3600): PricedCdr {
  const end = new Date(Date.parse(START) + seconds * 1000).toISOString();
  return priceSession(
    aTariff({ elements: [element([time(price, step)])] }),
    aSession({ periods: [{ at: START }], end }),
  );
}

describe('ENERGY step_size (Wh, rounds the session total up)', () => {
  it.each<[string, string, number, string]>([
    ['1 Wh step, 0.1152 kWh -> 116 Wh', '0.1152', 1, '0.116'],
    ['1 Wh step, exact Wh', '0.116', 1, '0.116'],
    ['1 Wh step, 1 mWh over', '0.116001', 1, '0.117'],
    ['25 Wh step', '0.1152', 25, '0.125'],
    ['500 Wh step', '0.1152', 500, '0.5'],
    ['100 Wh step, exact multiple', '20.5', 100, '20.5'],
    ['100 Wh step, 1 mWh over a multiple', '20.500001', 100, '20.6'],
    ['1000 Wh step, just over', '1.000001', 1000, '2'],
    ['huge step', '0.001', 100000, '100'],
  ])('%s', (_name, kwh, step, billed) => {
    const cdr = priceEnergy(kwh, step);
    expect(cdr.breakdown.lines[0].billed_quantity).toBe(billed);
    expect(cdr.audit.unrounded.total_energy_cost.excl_vat).toBe(billed);
    expect(cdr.breakdown.step_rounding).toEqual([
      expect.objectContaining({ group: 'ENERGY', quantity: kwh, step_size: step }),
    ]);
  });

  it('no energy, no ENERGY line and no step rounding', () => {
    const cdr = priceEnergy('0', 500);
    expect(cdr.breakdown.lines).toEqual([]);
    expect(cdr.breakdown.step_rounding).toEqual([]);
    expect(cdr.total_cost.excl_vat).toBe('0.00');
  });
});

describe('TIME step_size (seconds)', () => {
  it.each<[string, number, number, string, string]>([
    ['59 s at 60 s step -> 60 s', 59, 60, '60', '60'],
    ['60 s at 60 s step', 60, 60, '60', '60'],
    ['61 s at 60 s step -> 120 s', 61, 60, '120', '120'],
    ['1 s step never rounds whole seconds', 61, 1, '61', '61'],
    ['0.5 s at 1 s step -> 1 s', 0.5, 1, '1', '1'],
    ['7103 s at 300 s step -> 7200 s (OCPI CDR example)', 7103, 300, '7200', '7200'],
  ])('%s', (_name, seconds, step, billed, amount) => {
    // price 3600/h = 1 per second, so the amount equals the billed seconds.
    const cdr = priceChargingSeconds(seconds, step);
    expect(cdr.breakdown.lines[0].billed_quantity).toBe(billed);
    expect(cdr.audit.unrounded.total_time_cost.excl_vat).toBe(amount);
  });

  it('a TIME price per hour is exact for any number of seconds (7 min at 1.00/h = 0.11666..., rounded once)', () => {
    const cdr = priceChargingSeconds(420, 1, 1);
    expect(cdr.audit.unrounded.total_time_cost.excl_vat.startsWith('0.116666666666')).toBe(true);
    expect(cdr.total_time_cost.excl_vat).toBe('0.12');
  });
});

describe('PARKING_TIME step_size and the TIME + PARKING rule', () => {
  const tariff = aTariff({ elements: [element([time(60, 600), parking(60, 900)])] });
  it('charging followed by priced parking: only parking is rounded', () => {
    const cdr = priceSession(
      tariff,
      aSession({
        periods: [{ at: START }, { at: '2024-01-15T10:21:00Z', state: 'PARKING' }],
        end: '2024-01-15T10:37:00Z',
      }),
    );
    expect(cdr.breakdown.lines.map((l) => [l.dimension, l.quantity, l.billed_quantity])).toEqual([
      ['TIME', '1260', '1260'],
      ['PARKING_TIME', '960', '1800'],
    ]);
    expect(cdr.breakdown.step_rounding.map((s) => s.group)).toEqual(['PARKING_TIME']);
  });

  it('without parking, TIME is rounded', () => {
    const cdr = priceSession(tariff, aSession({ periods: [{ at: START }], end: '2024-01-15T10:21:00Z' }));
    expect(cdr.breakdown.lines[0].billed_quantity).toBe('1800');
    expect(cdr.total_time_cost.excl_vat).toBe('30.00');
  });

  it('the step of the LAST component applies and its price bills the extra', () => {
    const t = aTariff({
      elements: [element([time(1, 1800)], { start_time: '00:00', end_time: '11:00' }), element([time(2, 900)])],
    });
    // 10:50-11:00 local (Amsterdam = UTC+1): 10 min at 1/h; 11:00-11:05: 5 min at 2/h; 15 min total -> 15 min.
    const cdr = priceSession(
      t,
      aSession({
        periods: [{ at: '2024-01-15T09:50:00Z' }, { at: '2024-01-15T10:00:00Z' }],
        end: '2024-01-15T10:05:00Z',
      }),
    );
    expect(cdr.breakdown.step_rounding).toEqual([
      expect.objectContaining({
        group: 'TIME',
        step_size: 900,
        quantity: '900',
        billed_quantity: '900',
        element_index: 1,
      }),
    ]);
    const cdr2 = priceSession(
      t,
      aSession({
        periods: [{ at: '2024-01-15T09:50:00Z' }, { at: '2024-01-15T10:00:00Z' }],
        end: '2024-01-15T10:06:00Z',
      }),
    );
    expect(cdr2.breakdown.lines.map((l) => l.billed_quantity)).toEqual(['600', '1200']);
  });
});

describe('FLAT', () => {
  it('is billed once per distinct component, in the first period it is active', () => {
    const t = aTariff({ elements: [element([flat('0.50')]), element([energy(1)])] });
    const cdr = priceSession(
      t,
      aSession({
        periods: [
          { at: START, kwh: '1' },
          { at: '2024-01-15T10:30:00Z', kwh: '1' },
          { at: '2024-01-15T10:45:00Z', kwh: '1' },
        ],
        end: '2024-01-15T11:00:00Z',
      }),
    );
    expect(cdr.breakdown.lines.filter((l) => l.dimension === 'FLAT')).toEqual([
      expect.objectContaining({ periods: [0], note: 'FLAT_ONCE', amount_excl_vat: '0.5' }),
    ]);
    expect(cdr.total_fixed_cost.excl_vat).toBe('0.50');
  });

  it('two distinct FLAT components that become active at different times are both billed', () => {
    const t = aTariff({
      elements: [
        element([flat(1), energy(1)], { start_time: '00:00', end_time: '11:30' }),
        element([flat(2), energy(1)]),
      ],
    });
    const cdr = priceSession(
      t,
      aSession({
        periods: [
          { at: START, kwh: '1' },
          { at: '2024-01-15T10:30:00Z', kwh: '1' },
        ],
        end: '2024-01-15T11:00:00Z',
      }),
    );
    expect(cdr.audit.unrounded.total_fixed_cost.excl_vat).toBe('3');
  });
});

describe('VAT per component', () => {
  it.each<[string, number | undefined, string]>([
    ['absent: no VAT applicable, incl = excl', undefined, '10'],
    ['0 %: incl = excl', 0, '10'],
    ['21 %', 21, '12.1'],
    ['5.2 %', 5.2, '10.52'],
  ])('%s', (_name, vat, incl) => {
    const t = aTariff({ elements: [element([energy(1, 1, vat)])] });
    const cdr = priceSession(t, aSession({ periods: [{ at: START, kwh: '10' }], end: '2024-01-15T11:00:00Z' }));
    expect(cdr.audit.unrounded.total_cost.incl_vat).toBe(incl);
    expect(cdr.breakdown.lines[0].vat).toBe(vat === undefined ? null : String(vat));
  });

  it('different rates in one session: flat 15 %, time 20 %, parking 10 %', () => {
    const t = aTariff({ elements: [element([flat(1, 15), time(1, 1, 20), parking(1, 1, 10)])] });
    const cdr = priceSession(
      t,
      aSession({
        periods: [{ at: START }, { at: '2024-01-15T11:00:00Z', state: 'PARKING' }],
        end: '2024-01-15T12:00:00Z',
      }),
    );
    expect(cdr.audit.unrounded.total_cost).toEqual({ excl_vat: '3', incl_vat: '3.45' });
  });
});

describe('min_price / max_price', () => {
  const session = (kwh: string) => aSession({ periods: [{ at: START, kwh }], end: '2024-01-15T11:00:00Z' });
  const tariff = (extra: Partial<OcpiTariff>) => aTariff({ elements: [element([energy(1, 1, 10)])], ...extra });
  it.each<[string, Partial<OcpiTariff>, string, { excl_vat: string; incl_vat: string }, string]>([
    [
      'below min_price: raised, excl and incl separately',
      { min_price: { excl_vat: 5, incl_vat: 5.4 } },
      '4',
      { excl_vat: '5.00', incl_vat: '5.40' },
      'MIN_PRICE',
    ],
    [
      'incl already above min incl',
      { min_price: { excl_vat: 5, incl_vat: 4.2 } },
      '4',
      { excl_vat: '5.00', incl_vat: '4.40' },
      'MIN_PRICE',
    ],
    [
      'exactly at min_price: no adjustment',
      { min_price: { excl_vat: 4, incl_vat: 4.4 } },
      '4',
      { excl_vat: '4.00', incl_vat: '4.40' },
      'NONE',
    ],
    [
      'min_price without incl_vat: incl scaled like excl',
      { min_price: { excl_vat: 8 } },
      '4',
      { excl_vat: '8.00', incl_vat: '8.80' },
      'MIN_PRICE',
    ],
    [
      'min_price on an empty session',
      { min_price: { excl_vat: 1, incl_vat: 1.1 } },
      '0',
      { excl_vat: '1.00', incl_vat: '1.10' },
      'MIN_PRICE',
    ],
    [
      'above max_price: capped',
      { max_price: { excl_vat: 10, incl_vat: 11 } },
      '50',
      { excl_vat: '10.00', incl_vat: '11.00' },
      'MAX_PRICE',
    ],
    [
      'exactly at max_price',
      { max_price: { excl_vat: 10, incl_vat: 11 } },
      '10',
      { excl_vat: '10.00', incl_vat: '11.00' },
      'NONE',
    ],
    [
      'max_price without incl_vat: incl scaled like excl',
      { max_price: { excl_vat: 10 } },
      '50',
      { excl_vat: '10.00', incl_vat: '11.00' },
      'MAX_PRICE',
    ],
  ])('%s', (_name, extra, kwh, total, rule) => {
    const cdr = priceSession(tariff(extra), session(kwh));
    expect(cdr.total_cost).toEqual(total);
    expect(cdr.breakdown.price_adjustment.rule).toBe(rule);
    // Subtotals keep what was consumed; the adjustment closes the gap.
    expect(cdr.audit.unrounded.total_energy_cost.excl_vat).toBe(kwh);
  });
});

describe('min_price / max_price: four independent limits (excl and incl VAT, each on its own)', () => {
  // ENERGY 1/kWh at 10 % VAT: a session of x kWh costs x excl, 1.1x incl.
  const session = (kwh: string) => aSession({ periods: [{ at: START, kwh }], end: '2024-01-15T11:00:00Z' });
  const tariff = (extra: Partial<OcpiTariff>) => aTariff({ elements: [element([energy(1, 1, 10)])], ...extra });
  type Bound = { limit: 'MIN_PRICE' | 'MAX_PRICE'; value: string; derived: boolean } | null;
  const min = (value: string, derived = false): Bound => ({ limit: 'MIN_PRICE', value, derived });
  const max = (value: string, derived = false): Bound => ({ limit: 'MAX_PRICE', value, derived });
  it.each<[string, Partial<OcpiTariff>, string, [string, string], string, [Bound, Bound]]>([
    // both bind at once, on different sides
    [
      'excl capped by max, incl raised by min',
      { min_price: { excl_vat: 1, incl_vat: 12 }, max_price: { excl_vat: 10, incl_vat: 20 } },
      '10.5',
      ['10', '12'],
      'MIN_AND_MAX_PRICE',
      [max('10'), min('12')],
    ],
    [
      'excl raised by min, incl capped by max',
      { min_price: { excl_vat: 10, incl_vat: 1 }, max_price: { excl_vat: 50, incl_vat: 10.5 } },
      '9.8',
      ['10', '10.5'],
      'MIN_AND_MAX_PRICE',
      [min('10'), max('10.5')],
    ],
    // the same limit on both sides
    [
      'both sides capped',
      { min_price: { excl_vat: 1, incl_vat: 1.1 }, max_price: { excl_vat: 10, incl_vat: 11 } },
      '50',
      ['10', '11'],
      'MAX_PRICE',
      [max('10'), max('11')],
    ],
    [
      'both sides raised',
      { min_price: { excl_vat: 5, incl_vat: 5.4 }, max_price: { excl_vat: 10, incl_vat: 11 } },
      '4',
      ['5', '5.4'],
      'MIN_PRICE',
      [min('5'), min('5.4')],
    ],
    [
      'within both limits',
      { min_price: { excl_vat: 1, incl_vat: 1.1 }, max_price: { excl_vat: 10, incl_vat: 11 } },
      '5',
      ['5', '5.5'],
      'NONE',
      [null, null],
    ],
    // only the incl side binds
    [
      'incl-only minimum (excl_vat 0)',
      { min_price: { excl_vat: 0, incl_vat: 5 } },
      '4',
      ['4', '5'],
      'MIN_PRICE',
      [null, min('5')],
    ],
    [
      'incl-only cap (excl limit far above)',
      { max_price: { excl_vat: 1000, incl_vat: 11 } },
      '10.5',
      ['10.5', '11'],
      'MAX_PRICE',
      [null, max('11')],
    ],
    [
      'incl raised by min while excl stays under an excl-only max',
      { min_price: { excl_vat: 0, incl_vat: 5 }, max_price: { excl_vat: 10 } },
      '4',
      ['4', '5'],
      'MIN_PRICE',
      [null, min('5')],
    ],
    // only the excl side is given: the incl limit is derived (excl_vat x incl/excl), binding when the excl one does
    [
      'excl-only min: incl raised by the same factor',
      { min_price: { excl_vat: 8 } },
      '4',
      ['8', '8.8'],
      'MIN_PRICE',
      [min('8'), min('8.8', true)],
    ],
    [
      'excl-only max: incl capped by the same factor',
      { max_price: { excl_vat: 10 } },
      '50',
      ['10', '11'],
      'MAX_PRICE',
      [max('10'), max('11', true)],
    ],
    [
      'excl-only min and max, below',
      { min_price: { excl_vat: 8 }, max_price: { excl_vat: 10 } },
      '4',
      ['8', '8.8'],
      'MIN_PRICE',
      [min('8'), min('8.8', true)],
    ],
    [
      'excl-only min and max, above',
      { min_price: { excl_vat: 8 }, max_price: { excl_vat: 10 } },
      '50',
      ['10', '11'],
      'MAX_PRICE',
      [max('10'), max('11', true)],
    ],
    [
      'excl-only min on an empty session: no VAT to keep, incl = excl',
      { min_price: { excl_vat: 1 } },
      '0',
      ['1', '1'],
      'MIN_PRICE',
      [min('1'), min('1', true)],
    ],
    // contradictory limits for this session: the cap wins
    [
      'excl-only min raises incl past an explicit incl cap: the cap wins',
      { min_price: { excl_vat: 10 }, max_price: { excl_vat: 50, incl_vat: 10.5 } },
      '4',
      ['10', '10.5'],
      'MIN_AND_MAX_PRICE',
      [min('10'), max('10.5')],
    ],
    [
      'explicit incl min above the derived incl cap: the cap wins',
      { min_price: { excl_vat: 0, incl_vat: 12 }, max_price: { excl_vat: 10 } },
      '20',
      ['10', '11'],
      'MAX_PRICE',
      [max('10'), max('11', true)],
    ],
  ])('%s', (_name, extra, kwh, [excl, incl], rule, [exclBound, inclBound]) => {
    const cdr = priceSession(tariff(extra), session(kwh));
    const u = cdr.audit.unrounded;
    expect(u.total_cost).toEqual({ excl_vat: excl, incl_vat: incl });
    expect(cdr.breakdown.price_adjustment).toEqual({
      rule,
      excl_vat: new Dec(excl).minus(kwh).toFixed(),
      incl_vat: new Dec(incl).minus(new Dec(kwh).times('1.1')).toFixed(),
      bound: { excl_vat: exclBound, incl_vat: inclBound },
    });
    expect(u.price_adjustment).toBe(cdr.breakdown.price_adjustment);
    // every limit holds, each on its own (a cap always; a minimum unless it contradicts a cap)
    for (const side of ['excl_vat', 'incl_vat'] as const) {
      const limit = (p: OcpiTariff['max_price']) =>
        p === undefined ? undefined : side === 'excl_vat' ? p.excl_vat : p.incl_vat;
      const cap = limit(extra.max_price);
      if (cap !== undefined) expect(new Dec(u.total_cost[side]).lte(String(cap))).toBe(true);
    }
    expect(new Dec(u.total_cost.excl_vat).gte(String(extra.min_price?.excl_vat ?? 0))).toBe(true);
    // subtotals keep what was consumed
    expect(u.total_energy_cost.excl_vat).toBe(kwh);
  });

  it('without min_price and max_price: rule NONE, nothing bound', () => {
    const cdr = priceSession(tariff({}), session('4'));
    expect(cdr.breakdown.price_adjustment).toEqual({
      rule: 'NONE',
      excl_vat: '0',
      incl_vat: '0',
      bound: { excl_vat: null, incl_vat: null },
    });
  });
});

describe('currencies and rounding', () => {
  const session = (kwh: string, currency: string) =>
    aSession({ periods: [{ at: START, kwh }], end: '2024-01-15T11:00:00Z', currency });
  it.each<[string, string, string | number, string, PricingOptions, string]>([
    ['JPY has no minor unit: 12.5 kWh x 35 = 437.5 -> 438', 'JPY', 35, '12.5', {}, '438'],
    ['JPY half-even: 437.5 -> 438 (8 is even)', 'JPY', 35, '12.5', { rounding: 'HALF_EVEN' }, '438'],
    ['JPY half-even: 402.5 -> 402', 'JPY', 35, '11.5', { rounding: 'HALF_EVEN' }, '402'],
    ['JPY down', 'JPY', 35, '12.5', { rounding: 'DOWN' }, '437'],
    ['KWD has 3 decimals: 12.345 kWh x 0.0125 = 0.1543125 -> 0.154', 'KWD', '0.0125', '12.345', {}, '0.154'],
    ['KWD up', 'KWD', '0.0125', '12.345', { rounding: 'UP' }, '0.155'],
    ['EUR half-up 5.625 -> 5.63', 'EUR', '0.25', '22.5', {}, '5.63'],
    ['EUR half-even 5.625 -> 5.62', 'EUR', '0.25', '22.5', { rounding: 'HALF_EVEN' }, '5.62'],
  ])('%s', (_name, currency, price, kwh, options, expected) => {
    const t = aTariff({ currency, elements: [element([energy(price)])] });
    const cdr = priceSession(t, session(kwh, currency), options);
    expect(cdr.total_cost.excl_vat).toBe(expected);
    expect(cdr.total_energy_cost.excl_vat).toBe(expected);
    expect(cdr.audit.rounding).toBe(options.rounding ?? 'HALF_UP');
  });
});
