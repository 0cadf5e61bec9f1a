import { priceSession } from './engine';
import { TariffErrorCode, TariffValidationError } from './errors';
import { aSession, aTariff, element, energy, flat, parking, time } from './testing/builders';
import { loadOcpiCases } from './testing/ocpi-cases';
import type { OcpiTariff } from './types';
import { compileTariff, tariffIssues, validateTariff } from './validate-tariff';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw, got none');
}

function withRestrictions(restrictions: Record<string, unknown>): unknown {
  return aTariff({ elements: [element([energy(1)], restrictions as OcpiTariff['elements'][number]['restrictions'])] });
}

function withComponent(component: Record<string, unknown>): unknown {
  return aTariff({ elements: [{ price_components: [component as never] }] });
}

describe('validateTariff rejects, with a stable code and the exact field', () => {
  it.each<[string, unknown, TariffErrorCode, string]>([
    ['not an object', 'tariff', 'TARIFF_NOT_AN_OBJECT', '$'],
    ['null', null, 'TARIFF_NOT_AN_OBJECT', '$'],
    [
      'negative price',
      withComponent({ type: 'ENERGY', price: -0.01, step_size: 1 }),
      'TARIFF_NEGATIVE_PRICE',
      'elements[0].price_components[0].price',
    ],
    [
      'negative price as string',
      withComponent({ type: 'TIME', price: '-1', step_size: 1 }),
      'TARIFF_NEGATIVE_PRICE',
      'elements[0].price_components[0].price',
    ],
    [
      'price not a number',
      withComponent({ type: 'ENERGY', price: 'abc', step_size: 1 }),
      'TARIFF_INVALID_TYPE',
      'elements[0].price_components[0].price',
    ],
    [
      'price infinite',
      withComponent({ type: 'ENERGY', price: Infinity, step_size: 1 }),
      'TARIFF_INVALID_NUMBER',
      'elements[0].price_components[0].price',
    ],
    [
      'price missing',
      withComponent({ type: 'ENERGY', step_size: 1 }),
      'TARIFF_MISSING_FIELD',
      'elements[0].price_components[0].price',
    ],
    [
      'step_size 0 on ENERGY',
      withComponent({ type: 'ENERGY', price: 1, step_size: 0 }),
      'TARIFF_INVALID_STEP_SIZE',
      'elements[0].price_components[0].step_size',
    ],
    [
      'step_size 0 on TIME',
      withComponent({ type: 'TIME', price: 1, step_size: 0 }),
      'TARIFF_INVALID_STEP_SIZE',
      'elements[0].price_components[0].step_size',
    ],
    [
      'step_size 0 on PARKING_TIME',
      withComponent({ type: 'PARKING_TIME', price: 1, step_size: 0 }),
      'TARIFF_INVALID_STEP_SIZE',
      'elements[0].price_components[0].step_size',
    ],
    [
      'negative step_size',
      withComponent({ type: 'ENERGY', price: 1, step_size: -100 }),
      'TARIFF_INVALID_STEP_SIZE',
      'elements[0].price_components[0].step_size',
    ],
    [
      'negative step_size on FLAT',
      withComponent({ type: 'FLAT', price: 1, step_size: -1 }),
      'TARIFF_INVALID_STEP_SIZE',
      'elements[0].price_components[0].step_size',
    ],
    [
      'fractional step_size',
      withComponent({ type: 'TIME', price: 1, step_size: 1.5 }),
      'TARIFF_INVALID_STEP_SIZE',
      'elements[0].price_components[0].step_size',
    ],
    [
      'step_size missing',
      withComponent({ type: 'TIME', price: 1 }),
      'TARIFF_MISSING_FIELD',
      'elements[0].price_components[0].step_size',
    ],
    [
      'unknown component type',
      withComponent({ type: 'POWER', price: 1, step_size: 1 }),
      'TARIFF_UNKNOWN_COMPONENT_TYPE',
      'elements[0].price_components[0].type',
    ],
    [
      'lower-case component type',
      withComponent({ type: 'energy', price: 1, step_size: 1 }),
      'TARIFF_UNKNOWN_COMPONENT_TYPE',
      'elements[0].price_components[0].type',
    ],
    [
      'negative vat',
      withComponent({ type: 'ENERGY', price: 1, step_size: 1, vat: -5 }),
      'TARIFF_INVALID_VAT',
      'elements[0].price_components[0].vat',
    ],
    [
      'start_time 25:00',
      withRestrictions({ start_time: '25:00' }),
      'TARIFF_INVALID_TIME',
      'elements[0].restrictions.start_time',
    ],
    [
      'end_time 24:00',
      withRestrictions({ end_time: '24:00' }),
      'TARIFF_INVALID_TIME',
      'elements[0].restrictions.end_time',
    ],
    [
      'start_time without leading zero',
      withRestrictions({ start_time: '9:00' }),
      'TARIFF_INVALID_TIME',
      'elements[0].restrictions.start_time',
    ],
    [
      'start_time 12:60',
      withRestrictions({ start_time: '12:60' }),
      'TARIFF_INVALID_TIME',
      'elements[0].restrictions.start_time',
    ],
    [
      'start_time with seconds',
      withRestrictions({ start_time: '12:00:00' }),
      'TARIFF_INVALID_TIME',
      'elements[0].restrictions.start_time',
    ],
    [
      'empty time window',
      withRestrictions({ start_time: '10:00', end_time: '10:00' }),
      'TARIFF_INVERTED_RANGE',
      'elements[0].restrictions.end_time',
    ],
    [
      'bad start_date',
      withRestrictions({ start_date: '2024-02-30' }),
      'TARIFF_INVALID_DATE',
      'elements[0].restrictions.start_date',
    ],
    [
      'start_date not before end_date',
      withRestrictions({ start_date: '2024-03-01', end_date: '2024-03-01' }),
      'TARIFF_INVERTED_RANGE',
      'elements[0].restrictions.start_date',
    ],
    [
      'min_kwh > max_kwh',
      withRestrictions({ min_kwh: 20, max_kwh: 10 }),
      'TARIFF_INVERTED_RANGE',
      'elements[0].restrictions.min_kwh',
    ],
    [
      'min_kwh = max_kwh (empty range)',
      withRestrictions({ min_kwh: 10, max_kwh: 10 }),
      'TARIFF_INVERTED_RANGE',
      'elements[0].restrictions.min_kwh',
    ],
    [
      'min_current > max_current',
      withRestrictions({ min_current: 32, max_current: 16 }),
      'TARIFF_INVERTED_RANGE',
      'elements[0].restrictions.min_current',
    ],
    [
      'min_power > max_power',
      withRestrictions({ min_power: 50, max_power: 22 }),
      'TARIFF_INVERTED_RANGE',
      'elements[0].restrictions.min_power',
    ],
    [
      'min_duration > max_duration',
      withRestrictions({ min_duration: 3600, max_duration: 1800 }),
      'TARIFF_INVERTED_RANGE',
      'elements[0].restrictions.min_duration',
    ],
    [
      'negative min_kwh',
      withRestrictions({ min_kwh: -1 }),
      'TARIFF_INVALID_NUMBER',
      'elements[0].restrictions.min_kwh',
    ],
    [
      'fractional max_duration',
      withRestrictions({ max_duration: 1.5 }),
      'TARIFF_INVALID_TYPE',
      'elements[0].restrictions.max_duration',
    ],
    [
      'unknown day_of_week',
      withRestrictions({ day_of_week: ['MONDAY', 'FUNDAY'] }),
      'TARIFF_INVALID_DAY_OF_WEEK',
      'elements[0].restrictions.day_of_week[1]',
    ],
    [
      'empty day_of_week',
      withRestrictions({ day_of_week: [] }),
      'TARIFF_INVALID_DAY_OF_WEEK',
      'elements[0].restrictions.day_of_week',
    ],
    [
      'day_of_week not a list',
      withRestrictions({ day_of_week: 'MONDAY' }),
      'TARIFF_INVALID_DAY_OF_WEEK',
      'elements[0].restrictions.day_of_week',
    ],
    [
      'unknown reservation',
      withRestrictions({ reservation: 'MAYBE' }),
      'TARIFF_INVALID_RESERVATION',
      'elements[0].restrictions.reservation',
    ],
    [
      'restrictions not an object',
      withRestrictions([] as unknown as Record<string, unknown>),
      'TARIFF_INVALID_TYPE',
      'elements[0].restrictions',
    ],
    ['bad currency', aTariff({ currency: 'EURO' }), 'TARIFF_UNKNOWN_CURRENCY', 'currency'],
    ['lower-case currency', aTariff({ currency: 'eur' }), 'TARIFF_UNKNOWN_CURRENCY', 'currency'],
    ['missing currency', { ...aTariff(), currency: undefined }, 'TARIFF_MISSING_FIELD', 'currency'],
    ['missing id', { ...aTariff(), id: undefined }, 'TARIFF_MISSING_FIELD', 'id'],
    ['id too long', aTariff({ id: 'x'.repeat(37) }), 'TARIFF_INVALID_FIELD_FORMAT', 'id'],
    ['empty elements', aTariff({ elements: [] }), 'TARIFF_EMPTY_ELEMENTS', 'elements'],
    ['missing elements', { ...aTariff(), elements: undefined }, 'TARIFF_MISSING_FIELD', 'elements'],
    [
      'empty price_components',
      aTariff({ elements: [{ price_components: [] }] }),
      'TARIFF_EMPTY_PRICE_COMPONENTS',
      'elements[0].price_components',
    ],
    [
      'reservation element with ENERGY',
      aTariff({ elements: [element([energy(1)], { reservation: 'RESERVATION' })] }),
      'TARIFF_RESERVATION_COMPONENT_NOT_ALLOWED',
      'elements[0].price_components[0].type',
    ],
    [
      'reservation element with PARKING_TIME',
      aTariff({ elements: [element([flat(1), parking(1)], { reservation: 'RESERVATION_EXPIRES' })] }),
      'TARIFF_RESERVATION_COMPONENT_NOT_ALLOWED',
      'elements[0].price_components[1].type',
    ],
    [
      'two TIME components in one element',
      aTariff({ elements: [element([time(1), time(2)])] }),
      'TARIFF_DUPLICATE_COMPONENT_TYPE',
      'elements[0].price_components[1].type',
    ],
    [
      'min_price above max_price',
      aTariff({ min_price: { excl_vat: 10 }, max_price: { excl_vat: 5 } }),
      'TARIFF_INVERTED_RANGE',
      'min_price.excl_vat',
    ],
    ['negative min_price', aTariff({ min_price: { excl_vat: -1 } }), 'TARIFF_NEGATIVE_PRICE', 'min_price.excl_vat'],
    [
      'max_price without excl_vat',
      aTariff({ max_price: { incl_vat: 5 } as never }),
      'TARIFF_MISSING_FIELD',
      'max_price.excl_vat',
    ],
    ['bad tariff type', aTariff({ type: 'CHEAP' as never }), 'TARIFF_INVALID_TARIFF_TYPE', 'type'],
    [
      'bad end_date_time',
      aTariff({ end_date_time: '2019-06-31T00:00:00Z' }),
      'TARIFF_INVALID_DATE_TIME',
      'end_date_time',
    ],
    [
      'start_date_time after end_date_time',
      aTariff({ start_date_time: '2020-01-01T00:00:00Z', end_date_time: '2019-01-01T00:00:00Z' }),
      'TARIFF_INVERTED_RANGE',
      'start_date_time',
    ],
    ['bad country_code', aTariff({ country_code: 'NLD' }), 'TARIFF_INVALID_FIELD_FORMAT', 'country_code'],
  ])('%s', (_name, tariff, code, field) => {
    const err = thrown(() => validateTariff(tariff));
    expect(err).toBeInstanceOf(TariffValidationError);
    const e = err as TariffValidationError;
    expect({ code: e.code, field: e.field }).toEqual({ code, field });
    expect(e.retriable).toBe(false);
    expect(e.reason.length).toBeGreaterThan(0);
    expect(e.message).toContain(field);
  });

  it('collects every issue, in document order', () => {
    const issues = tariffIssues(
      aTariff({ currency: 'XXX', elements: [element([energy(-1, 0)], { start_time: '25:00' })] }),
    );
    expect(issues.map((i) => `${i.code} ${i.field}`)).toEqual([
      'TARIFF_UNKNOWN_CURRENCY currency',
      'TARIFF_INVALID_TIME elements[0].restrictions.start_time',
      'TARIFF_NEGATIVE_PRICE elements[0].price_components[0].price',
      'TARIFF_INVALID_STEP_SIZE elements[0].price_components[0].step_size',
    ]);
  });

  it('an invalid tariff is never priced (no accept-and-price-as-zero)', () => {
    const session = aSession({ periods: [{ at: '2024-01-15T10:00:00Z', kwh: '10' }], end: '2024-01-15T11:00:00Z' });
    expect(() => priceSession(aTariff({ elements: [element([energy(-0.25)])] }), session)).toThrow(
      TariffValidationError,
    );
  });
});

describe('validateTariff accepts', () => {
  it.each(loadOcpiCases().map((c) => [c.name, c.tariff] as const))('the worked case tariff %s', (_name, tariff) => {
    expect(tariffIssues(tariff)).toEqual([]);
    expect(validateTariff(tariff)).toBe(tariff);
  });

  it.each<[string, unknown]>([
    [
      'FLAT with step_size 0 (step_size has no meaning for FLAT)',
      withComponent({ type: 'FLAT', price: 1, step_size: 0 }),
    ],
    ['prices as decimal strings', withComponent({ type: 'ENERGY', price: '0.2500', vat: '21', step_size: 1 })],
    ['price 0 and vat 0', withComponent({ type: 'ENERGY', price: 0, vat: 0, step_size: 1 })],
    ['00:00-00:00 window', withRestrictions({ start_time: '00:00', end_time: '00:00' })],
    ['window across midnight', withRestrictions({ start_time: '22:00', end_time: '06:00' })],
    ['leap day', withRestrictions({ start_date: '2024-02-29' })],
  ])('%s', (_name, tariff) => {
    expect(tariffIssues(tariff)).toEqual([]);
  });

  it('compileTariff reads OCPI numbers exactly', () => {
    const c = compileTariff(aTariff({ elements: [element([energy(0.1, 1, 5.2)])] }));
    expect(c.elements[0].components.ENERGY?.priceText).toBe('0.1');
    expect(c.elements[0].components.ENERGY?.vatFactor.toFixed()).toBe('1.052');
  });
});

describe('validateTariff closed (the catalogue API): a field outside the OCPI 2.2.1 objects is refused with its path', () => {
  const base = aTariff({ elements: [element([energy(1)], { start_time: '08:00' })] }) as unknown as Record<
    string,
    unknown
  >;
  const el = (base.elements as Array<Record<string, unknown>>)[0];
  it.each<[string, unknown, string]>([
    ['on the tariff', { ...base, colour: 'red' }, 'colour'],
    ['on an element', { ...base, elements: [{ ...el, note: 1 }] }, 'elements[0].note'],
    [
      'on a restriction',
      { ...base, elements: [{ ...el, restrictions: { start_time: '08:00', moon_phase: 'full' } }] },
      'elements[0].restrictions.moon_phase',
    ],
    [
      'on a price component',
      {
        ...base,
        elements: [{ price_components: [{ type: 'ENERGY', price: 1, step_size: 1, discount: { any: [1] } }] }],
      },
      'elements[0].price_components[0].discount',
    ],
    ['on a price', { ...base, min_price: { excl_vat: 1, net: 1 } }, 'min_price.net'],
    [
      'on a display text',
      { ...base, tariff_alt_text: [{ language: 'en', text: 'x', font: 'serif' }] },
      'tariff_alt_text[0].font',
    ],
    [
      'on the energy mix',
      {
        ...base,
        energy_mix: { is_green_energy: true, energy_sources: [{ source: 'SOLAR', percentage: 100, panel: 'x' }] },
      },
      'energy_mix.energy_sources[0].panel',
    ],
  ])('%s', (_what, tariff, field) => {
    const e = thrown(() => validateTariff(tariff, { closed: true })) as TariffValidationError;
    expect(e).toBeInstanceOf(TariffValidationError);
    expect(e.code).toBe('TARIFF_UNKNOWN_FIELD');
    expect(e.field).toBe(field);
    // stored versions are compiled open: a version accepted before the schema was closed still prices
    expect(() => compileTariff(tariff)).not.toThrow();
  });

  it('accepts every OCPI field', () => {
    const full = {
      ...base,
      country_code: 'NL',
      party_id: 'CSM',
      type: 'REGULAR',
      tariff_alt_text: [{ language: 'en', text: 'Standard' }],
      tariff_alt_url: 'https://example.com/tariff',
      min_price: { excl_vat: 0.5, incl_vat: 0.6 },
      max_price: { excl_vat: 50, incl_vat: 60 },
      start_date_time: '2026-01-01T00:00:00Z',
      end_date_time: '2027-01-01T00:00:00Z',
      energy_mix: {
        is_green_energy: true,
        energy_sources: [{ source: 'SOLAR', percentage: 100 }],
        environ_impact: [{ category: 'CARBON_DIOXIDE', amount: 0 }],
        supplier_name: 'S',
        energy_product_name: 'P',
      },
      last_updated: '2026-01-01T00:00:00Z',
    };
    expect(() => validateTariff(full, { closed: true })).not.toThrow();
  });

  it.each(['0000-01-01T00:00:00Z', '2026-01-01T00:00:00+23:59', '2026-12-31T23:59:60Z'])(
    'refuses the date-time %s PostgreSQL or ISO cannot hold',
    (t) => {
      const e = thrown(() => validateTariff({ ...base, start_date_time: t })) as TariffValidationError;
      expect(e.code).toBe('TARIFF_INVALID_DATE_TIME');
      expect(e.field).toBe('start_date_time');
    },
  );
});
