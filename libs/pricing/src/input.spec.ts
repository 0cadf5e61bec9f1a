import { TimeZones } from '@csms/kernel';
import fc from 'fast-check';
import { priceSession } from './engine';
import { formatPricingInput, parseInput, parseSession } from './session';
import { aTariff, element, energy, parking, time } from './testing/builders';
import type { PricingInput, PricingInputDimension, PricingInputPeriod } from './types';

/** A PricingInput: the exact values a caller (billing) hands the engine instead of the text form. */
const T0 = Date.UTC(2026, 2, 29, 0, 0, 0);

const anInput = fc
  .record({
    sessionId: fc.constantFrom('s-1', 'session-2'),
    zone: fc.constantFrom('Europe/Amsterdam', 'America/New_York', 'Asia/Kolkata'),
    lengths: fc.array(fc.integer({ min: 1, max: 7_200_000 }), { minLength: 1, maxLength: 8 }),
    energies: fc.array(fc.bigInt({ min: 0n, max: 80_000_000n }), { minLength: 8, maxLength: 8 }),
    kinds: fc.array(fc.constantFrom('CHARGING', 'PARKING', 'ENERGY_ONLY'), { minLength: 8, maxLength: 8 }),
    power: fc.array(fc.option(fc.constantFrom('7.4', '11', '22.08', '0.5', '150'), { nil: undefined }), {
      minLength: 8,
      maxLength: 8,
    }),
    current: fc.array(fc.option(fc.constantFrom('6', '16.5', '32', '0.25'), { nil: undefined }), {
      minLength: 8,
      maxLength: 8,
    }),
    startOffset: fc.integer({ min: 0, max: 86_400_000 }),
    texts: fc.boolean(),
    totalDelta: fc.constantFrom(0n, 0n, 0n, 1n),
  })
  .map((r): PricingInput => {
    let t = T0 + r.startOffset;
    const startMs = t;
    let total = 0n;
    const periods: PricingInputPeriod[] = r.lengths.map((len, i) => {
      const dims: PricingInputDimension[] = [];
      if (r.kinds[i] !== 'PARKING') {
        dims.push({ type: 'ENERGY', mwh: r.energies[i] });
        total += r.energies[i];
      }
      if (r.kinds[i] === 'CHARGING') dims.push({ type: 'TIME', ms: BigInt(len) });
      if (r.kinds[i] === 'PARKING') dims.push({ type: 'PARKING_TIME', ms: BigInt(len) });
      if (r.power[i] !== undefined) dims.push({ type: 'MAX_POWER', volume: r.power[i] as string });
      if (r.current[i] !== undefined) dims.push({ type: 'MAX_CURRENT', volume: r.current[i] as string });
      const p = { startMs: t, dimensions: dims };
      t += len;
      return p;
    });
    return {
      sessionId: r.sessionId,
      startMs,
      endMs: t,
      ...(r.texts ? { startText: new Date(startMs).toISOString(), endText: new Date(t).toISOString() } : {}),
      timeZone: r.zone,
      currency: 'EUR',
      totalEnergy: total + r.totalDelta,
      periods,
    };
  });

const TARIFF = aTariff({
  elements: [
    element([energy(0.31, 100, 21), time(1.2, 300, 21)], { start_time: '07:00', end_time: '19:00', max_power: 11 }),
    element([energy('0.2871', 1, 21), time(0.9, 60, 21), parking(3, 900, 21)], { min_current: 16 }),
    element([energy(0.25, 1), parking(1.5, 60)]),
  ],
});

function failure(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    const err = e as { name: string; code: string; field: string; message: string };
    return [err.name, err.code, err.field, err.message];
  }
  return 'no error';
}

describe('PricingInput: a session whose values are already parsed', () => {
  it('parses to exactly what its text form parses to', () => {
    fc.assert(
      fc.property(anInput, (input) => {
        const zones = new TimeZones();
        expect(parseInput(input, zones)).toEqual(parseSession(formatPricingInput(input), zones));
      }),
      { numRuns: 500 },
    );
  });

  it('prices to exactly the CDR of its text form', () => {
    fc.assert(
      fc.property(
        anInput,
        fc.constantFrom('HALF_UP', 'HALF_EVEN', 'FLOOR') as fc.Arbitrary<'HALF_UP' | 'HALF_EVEN' | 'FLOOR'>,
        (input, rounding) => {
          expect(priceSession(TARIFF, input, { rounding })).toEqual(
            priceSession(TARIFF, formatPricingInput(input), { rounding }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  const valid = (): PricingInput => ({
    sessionId: 's',
    startMs: T0,
    endMs: T0 + 3_600_000,
    timeZone: 'Europe/Amsterdam',
    currency: 'EUR',
    totalEnergy: 5_000_000n,
    periods: [
      {
        startMs: T0,
        dimensions: [
          { type: 'ENERGY', mwh: 5_000_000n },
          { type: 'TIME', ms: 1_800_000n },
        ],
      },
      { startMs: T0 + 1_800_000, dimensions: [{ type: 'PARKING_TIME', ms: 1_800_000n }] },
    ],
  });
  const edit = (f: (s: { -readonly [K in keyof PricingInput]: PricingInput[K] }) => void): PricingInput => {
    const s = { ...valid() };
    f(s);
    return s;
  };

  it.each<[string, PricingInput]>([
    ['an empty session id', edit((s) => (s.sessionId = ''))],
    ['an end before the start', edit((s) => (s.endMs = T0 - 1))],
    ['an unknown time zone', edit((s) => (s.timeZone = 'Mars/Olympus'))],
    ['an unknown currency', edit((s) => (s.currency = 'EURO'))],
    ['a negative total energy', edit((s) => (s.totalEnergy = -1n))],
    ['a total energy of 10^9 kWh', edit((s) => (s.totalEnergy = 10n ** 15n))],
    ['no periods', edit((s) => (s.periods = []))],
    ['periods out of order', edit((s) => (s.periods = [s.periods[1], s.periods[0]]))],
    ['a period after the end', edit((s) => (s.periods = [s.periods[0], { startMs: T0 + 3_600_000, dimensions: [] }]))],
    ['a negative energy', edit((s) => (s.periods = [{ startMs: T0, dimensions: [{ type: 'ENERGY', mwh: -5n }] }]))],
    [
      'an energy of 10^9 kWh',
      edit((s) => (s.periods = [{ startMs: T0, dimensions: [{ type: 'ENERGY', mwh: 10n ** 15n }] }])),
    ],
    [
      'a dimension twice',
      edit(
        (s) =>
          (s.periods = [
            {
              startMs: T0,
              dimensions: [
                { type: 'TIME', ms: 1n },
                { type: 'TIME', ms: 2n },
              ],
            },
          ]),
      ),
    ],
    [
      'more time than the period lasts',
      edit(
        (s) =>
          (s.periods = [
            {
              startMs: T0,
              dimensions: [
                { type: 'TIME', ms: 3_000_000n },
                { type: 'PARKING_TIME', ms: 1_000_000n },
              ],
            },
          ]),
      ),
    ],
    [
      'a power that is not a decimal',
      edit((s) => (s.periods = [{ startMs: T0, dimensions: [{ type: 'MAX_POWER', volume: '1e3' }] }])),
    ],
    [
      'a reservation period without reservation info',
      edit((s) => (s.periods = [{ startMs: T0, dimensions: [{ type: 'RESERVATION_TIME', ms: 60_000n }] }])),
    ],
    [
      'a reservation period with energy',
      edit((s) => {
        s.reservation = { expired: false };
        s.periods = [
          {
            startMs: T0,
            dimensions: [
              { type: 'RESERVATION_TIME', ms: 60_000n },
              { type: 'ENERGY', mwh: 1n },
            ],
          },
        ];
      }),
    ],
  ])('refuses %s as its text form is refused (same code, field and message)', (_name, input) => {
    const fromValues = failure(() => priceSession(TARIFF, input));
    expect(fromValues).not.toBe('no error');
    expect(fromValues).toEqual(failure(() => priceSession(TARIFF, formatPricingInput(input))));
  });

  it('refuses values that are not exact (a JS number for energy, a fractional instant)', () => {
    expect(
      failure(() =>
        priceSession(
          TARIFF,
          edit((s) => (s.totalEnergy = 5 as unknown as bigint)),
        ),
      ),
    ).toEqual([
      'PricingError',
      'PRICING_INVALID_DECIMAL',
      'total_energy',
      expect.stringContaining('bigint') as unknown as string,
    ]);
    expect(
      failure(() =>
        priceSession(
          TARIFF,
          edit((s) => (s.startMs = T0 + 0.5)),
        ),
      ),
    ).toEqual([
      'PricingError',
      'PRICING_INVALID_DATE_TIME',
      'start_date_time',
      expect.any(String) as unknown as string,
    ]);
  });

  it('writes its text form: canonical volumes, seconds, the original instants when given', () => {
    const input: PricingInput = {
      ...valid(),
      startText: '2026-03-29T02:00:00+02:00',
      periods: [
        {
          startMs: T0,
          dimensions: [
            { type: 'ENERGY', mwh: 5_000_000n },
            { type: 'TIME', ms: 1_800_500n },
            { type: 'MAX_CURRENT', volume: '16.5' },
          ],
        },
      ],
    };
    expect(formatPricingInput(input)).toEqual({
      session_id: 's',
      start_date_time: '2026-03-29T02:00:00+02:00',
      end_date_time: '2026-03-29T01:00:00Z',
      time_zone: 'Europe/Amsterdam',
      currency: 'EUR',
      total_energy: '5',
      charging_periods: [
        {
          start_date_time: '2026-03-29T00:00:00Z',
          dimensions: [
            { type: 'ENERGY', volume: '5' },
            { type: 'TIME', volume: '1800.5' },
            { type: 'MAX_CURRENT', volume: '16.5' },
          ],
        },
      ],
    });
    // the CDR shows the session start in canonical UTC
    expect(priceSession(TARIFF, input).start_date_time).toBe('2026-03-29T00:00:00Z');
  });
});
