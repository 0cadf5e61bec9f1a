import { priceSession } from './engine';
import { PricingError, PricingErrorCode } from './errors';
import { aSession, aTariff, element, energy, parking, time } from './testing/builders';
import type { PricingSession } from './types';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw, got none');
}

const base = (): PricingSession =>
  aSession({
    periods: [
      { at: '2024-01-15T10:00:00Z', kwh: '5' },
      { at: '2024-01-15T10:30:00Z', kwh: '5' },
    ],
    end: '2024-01-15T11:00:00Z',
  });

function edit(f: (s: PricingSession) => void): PricingSession {
  const s = base();
  f(s);
  return s;
}

describe('PricingSession validation', () => {
  it.each<[string, PricingSession, PricingErrorCode, string]>([
    ['empty session_id', edit((s) => (s.session_id = '')), 'PRICING_INVALID_SESSION', 'session_id'],
    [
      'bad start',
      edit((s) => (s.start_date_time = '2024-01-15 10:00')),
      'PRICING_INVALID_DATE_TIME',
      'start_date_time',
    ],
    [
      'sub-millisecond precision',
      edit((s) => (s.end_date_time = '2024-01-15T11:00:00.0001Z')),
      'PRICING_INVALID_DATE_TIME',
      'end_date_time',
    ],
    [
      'end before start',
      edit((s) => (s.end_date_time = '2024-01-15T09:00:00Z')),
      'PRICING_INVALID_SESSION',
      'end_date_time',
    ],
    ['unknown time zone', edit((s) => (s.time_zone = 'Europe/Atlantis')), 'PRICING_INVALID_TIME_ZONE', 'time_zone'],
    ['bad currency', edit((s) => (s.currency = 'EURO')), 'PRICING_INVALID_SESSION', 'currency'],
    ['currency differs from tariff', edit((s) => (s.currency = 'USD')), 'PRICING_CURRENCY_MISMATCH', 'currency'],
    [
      'total_energy as a number',
      edit((s) => (s.total_energy = 10 as unknown as string)),
      'PRICING_INVALID_DECIMAL',
      'total_energy',
    ],
    ['no periods', edit((s) => (s.charging_periods = [])), 'PRICING_INVALID_SESSION', 'charging_periods'],
    [
      'periods out of order',
      edit((s) => s.charging_periods.reverse()),
      'PRICING_PERIODS_NOT_ORDERED',
      'charging_periods[1].start_date_time',
    ],
    [
      'period after the end',
      edit((s) => (s.charging_periods[1].start_date_time = '2024-01-15T12:00:00Z')),
      'PRICING_PERIOD_AFTER_SESSION_END',
      'charging_periods[1].start_date_time',
    ],
    [
      'negative energy',
      edit((s) => (s.charging_periods[1].dimensions[1].volume = '-1')),
      'PRICING_INVALID_DECIMAL',
      'charging_periods[1].dimensions[1].volume',
    ],
    [
      'energy in exponent notation',
      edit((s) => (s.charging_periods[0].dimensions[1].volume = '1e3')),
      'PRICING_INVALID_DECIMAL',
      'charging_periods[0].dimensions[1].volume',
    ],
    [
      'energy below 1 mWh',
      edit((s) => (s.charging_periods[0].dimensions[1].volume = '0.0000001')),
      'PRICING_INVALID_DECIMAL',
      'charging_periods[0].dimensions[1].volume',
    ],
    [
      'time below 1 ms',
      edit((s) => (s.charging_periods[0].dimensions[0].volume = '1.0001')),
      'PRICING_INVALID_DECIMAL',
      'charging_periods[0].dimensions[0].volume',
    ],
    [
      'unknown dimension',
      edit((s) => s.charging_periods[0].dimensions.push({ type: 'VOLTAGE' as never, volume: '1' })),
      'PRICING_INVALID_SESSION',
      'charging_periods[0].dimensions[2].type',
    ],
    [
      'dimension twice',
      edit((s) => s.charging_periods[0].dimensions.push({ type: 'ENERGY', volume: '1' })),
      'PRICING_INVALID_SESSION',
      'charging_periods[0].dimensions[2].type',
    ],
    [
      'time longer than the period',
      edit((s) => (s.charging_periods[0].dimensions[0].volume = '1801')),
      'PRICING_PERIOD_TIME_EXCEEDS_DURATION',
      'charging_periods[0].dimensions',
    ],
    [
      'reservation time without reservation info',
      edit((s) => (s.charging_periods[0].dimensions = [{ type: 'RESERVATION_TIME', volume: '60' }])),
      'PRICING_RESERVATION_INFO_MISSING',
      'reservation',
    ],
    [
      'reservation mixed with charging',
      edit((s) => {
        s.reservation = { expired: false };
        s.charging_periods[0].dimensions.push({ type: 'RESERVATION_TIME', volume: '60' });
      }),
      'PRICING_RESERVATION_MIXED_PERIOD',
      'charging_periods[0].dimensions',
    ],
  ])('%s', (_name, session, code, field) => {
    const err = thrown(() => priceSession(aTariff(), session));
    expect(err).toBeInstanceOf(PricingError);
    expect({ code: (err as PricingError).code, field: (err as PricingError).field }).toEqual({ code, field });
    expect((err as PricingError).retriable).toBe(false);
  });

  it('accepts offsets and normalises times to UTC', () => {
    const s = edit((x) => {
      x.start_date_time = '2024-01-15T11:00:00+01:00';
      x.charging_periods[0].start_date_time = '2024-01-15T11:00:00.000+01:00';
    });
    const cdr = priceSession(aTariff(), s);
    expect(cdr.start_date_time).toBe('2024-01-15T10:00:00Z');
    expect(cdr.charging_periods[0].start_date_time).toBe('2024-01-15T10:00:00Z');
  });
});

describe('tariff validity (OCPI: the tariff in force at session start)', () => {
  const t = aTariff({ start_date_time: '2024-01-01T00:00:00Z', end_date_time: '2024-02-01T00:00:00Z' });
  it.each<[string, string, boolean]>([
    ['before start_date_time', '2023-12-31T23:59:59Z', false],
    ['at start_date_time', '2024-01-01T00:00:00Z', true],
    ['just before end_date_time', '2024-01-31T23:59:59Z', true],
    ['at end_date_time (exclusive)', '2024-02-01T00:00:00Z', false],
  ])('%s', (_name, start, ok) => {
    const s = aSession({ periods: [{ at: start, kwh: '1' }], end: '2024-02-02T00:00:00Z' });
    if (ok) expect(priceSession(t, s).total_cost.excl_vat).toBe('0.25');
    else expect((thrown(() => priceSession(t, s)) as PricingError).code).toBe('PRICING_TARIFF_NOT_IN_FORCE');
  });
});

describe('consumption that no element prices', () => {
  // Parking is priced only 09:00-18:00 local; the session parks from 17:30 to 18:30 local.
  const tariff = aTariff({
    elements: [
      element([time(2), energy('0.3')]),
      element([parking(6, 60)], { start_time: '09:00', end_time: '18:00' }),
    ],
  });
  const session = aSession({
    periods: [
      { at: '2024-01-15T15:00:00Z', kwh: '10' },
      { at: '2024-01-15T16:30:00Z', state: 'PARKING' },
      { at: '2024-01-15T17:00:00Z', state: 'PARKING' },
    ],
    end: '2024-01-15T17:30:00Z',
  });

  it('FREE (default, OCPI 2.2.1): not billed, but shown as an UNPRICED line and a warning', () => {
    const cdr = priceSession(tariff, session);
    expect(cdr.total_parking_cost.excl_vat).toBe('3.00');
    const unpriced = cdr.breakdown.lines.filter((l) => l.note === 'UNPRICED_NO_APPLICABLE_ELEMENT');
    expect(unpriced).toEqual([
      expect.objectContaining({
        dimension: 'PARKING_TIME',
        element_index: null,
        periods: [2],
        quantity: '1800',
        amount_excl_vat: '0',
      }),
    ]);
    expect(cdr.audit.warnings).toEqual([expect.objectContaining({ code: 'UNPRICED_CONSUMPTION', period_index: 2 })]);
  });

  it('REJECT: throws PRICING_NO_APPLICABLE_ELEMENT with the period', () => {
    const err = thrown(() => priceSession(tariff, session, { unpricedConsumption: 'REJECT' })) as PricingError;
    expect(err.code).toBe('PRICING_NO_APPLICABLE_ELEMENT');
    expect(err.field).toBe('charging_periods[2]');
  });

  it('a dimension the tariff never prices is not an UNPRICED line (the tariff prices it at nothing by design)', () => {
    const cdr = priceSession(aTariff({ elements: [element([time(2)])] }), session);
    expect(cdr.breakdown.lines.map((l) => l.dimension)).toEqual(['TIME']);
    expect(cdr.audit.warnings).toEqual([]);
  });

  it('rejects unknown option values', () => {
    expect((thrown(() => priceSession(tariff, session, { rounding: 'BANKERS' as never })) as PricingError).code).toBe(
      'PRICING_INVALID_OPTIONS',
    );
  });
});
