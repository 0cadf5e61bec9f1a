import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileTariff, formatPricingInput, priceSession, toCanonicalJson } from '@csms/pricing';
import type { OcpiTariff, PricingOptions } from '@csms/pricing';
import { type SessionEndedPayload, toPricingSession } from './to-pricing-session';

/**
 * Pins the exact output of billing + pricing: a SHA-256 over the pricing session built from each
 * session.ended of a corpus and the CDR priced from it (or the error thrown), for several tariffs, time
 * zones and rounding rules. Refactoring the exact arithmetic must leave it unchanged. If a change of
 * behaviour is intended, say so in the commit and update the hash.
 *
 * The corpus (fixtures/session-ended-corpus.json): 399 session.ended payloads of the session decider's
 * seeded workloads (libs/sessions decider.golden.spec.ts): every eighth of those at most 7 days long with
 * energy or more than two periods, reduced to the fields billing reads. Each is also priced shifted to the
 * nights of the European DST changes of 2026. (The engine alone has its own golden test in libs/pricing.)
 */
const CORPUS: SessionEndedPayload[] = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'fixtures', 'session-ended-corpus.json'), 'utf8'),
);

const c = (
  type: 'FLAT' | 'ENERGY' | 'TIME' | 'PARKING_TIME',
  price: number | string,
  step_size: number,
  vat?: number | string,
) => ({ type, price, step_size, ...(vat === undefined ? {} : { vat }) });

const TARIFFS: { tariff: OcpiTariff; zone: string; options: PricingOptions }[] = [
  {
    // time of day, steps, VAT, a flat fee
    tariff: {
      id: 'TOD',
      currency: 'EUR',
      elements: [
        {
          price_components: [c('FLAT', 0.5, 1, 21), c('ENERGY', 0.3, 1, 21), c('TIME', 1.2, 60, 21)],
          restrictions: { start_time: '07:00', end_time: '11:30' },
        },
        {
          price_components: [c('ENERGY', 0.4, 100, 21), c('TIME', 2.4, 300, 21), c('PARKING_TIME', 3, 900, 21)],
          restrictions: { start_time: '11:30', end_time: '17:00' },
        },
        {
          price_components: [c('ENERGY', 0.45, 100, 21), c('TIME', 2.4, 300, 21), c('PARKING_TIME', 3, 900, 21)],
          restrictions: { start_time: '17:00', end_time: '23:00' },
        },
        {
          price_components: [c('ENERGY', 0.2, 100, 21), c('PARKING_TIME', 0, 900, 21)],
          restrictions: { start_time: '23:00', end_time: '07:00' },
        },
      ],
    },
    zone: 'Europe/Amsterdam',
    options: {},
  },
  {
    // kWh thresholds with fractions (crossings inside periods), durations, prices that do not terminate per ms
    tariff: {
      id: 'KWH',
      currency: 'EUR',
      elements: [
        { price_components: [c('ENERGY', 0.123456, 1, 19), c('TIME', 0.7, 1, 19)], restrictions: { max_kwh: 0.0375 } },
        { price_components: [c('ENERGY', 0.2871, 1, 19)], restrictions: { min_kwh: 0.0375, max_kwh: 1.2345678 } },
        {
          price_components: [c('ENERGY', 0.31, 10, 19), c('TIME', 1.3, 60, 19)],
          restrictions: { min_kwh: 1.2345678, max_duration: 5400 },
        },
        {
          price_components: [c('ENERGY', 0.29, 10, 19), c('TIME', 0.9, 60, 19), c('PARKING_TIME', 4.8, 300, 19)],
          restrictions: { min_duration: 1200 },
        },
        { price_components: [c('ENERGY', 0.33, 1, 19), c('PARKING_TIME', 1, 60, 19)] },
      ],
    },
    zone: 'America/New_York',
    options: { rounding: 'HALF_EVEN', parkingStepBasis: 'TOTAL' },
  },
  {
    // weekdays, dates, power and current restrictions, caps
    tariff: {
      id: 'POWER',
      currency: 'EUR',
      min_price: { excl_vat: 1.5, incl_vat: 1.8 },
      max_price: { excl_vat: 40, incl_vat: 48 },
      elements: [
        {
          price_components: [c('ENERGY', 0.55, 1, 20)],
          restrictions: { min_power: 11.5, day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] },
        },
        { price_components: [c('ENERGY', 0.45, 1, 20), c('TIME', 0.6, 1, 20)], restrictions: { max_current: 16.5 } },
        {
          price_components: [c('ENERGY', 0.35, 1, 20)],
          restrictions: { start_date: '2026-03-05', end_date: '2026-03-12' },
        },
        {
          price_components: [
            c('FLAT', 0.99, 1, 20),
            c('ENERGY', 0.39, 1, 20),
            c('TIME', 0.45, 1, 20),
            c('PARKING_TIME', 2.5, 600, 20),
          ],
        },
      ],
    },
    zone: 'Australia/Lord_Howe',
    options: { missingMeasurement: 'NOT_SATISFIED', rounding: 'UP' },
  },
  {
    // no decimals in the currency, time-of-day windows around midnight, unpriced consumption refused
    tariff: {
      id: 'JPY',
      currency: 'JPY',
      elements: [
        {
          price_components: [c('ENERGY', 47, 1, 10), c('TIME', 333, 1, 10)],
          restrictions: { start_time: '22:00', end_time: '06:00' },
        },
        {
          price_components: [c('ENERGY', '55.5', 1, 10), c('PARKING_TIME', 1000, 60, 10)],
          restrictions: { start_time: '06:00' },
        },
      ],
    },
    zone: 'Asia/Kolkata',
    options: { rounding: 'HALF_DOWN', unpricedConsumption: 'REJECT' },
  },
];

const SHIFTS = ['2026-03-29T00:00:00Z', '2026-10-25T00:00:00Z'].map(
  (to) => Date.parse(to) - Date.parse('2026-03-01T08:00:00Z'),
);

const shiftText = (text: string, ms: number): string => new Date(Date.parse(text) + ms).toISOString();

function shifted(p: SessionEndedPayload, ms: number): SessionEndedPayload {
  return {
    ...p,
    startedAt: shiftText(p.startedAt, ms),
    endedAt: shiftText(p.endedAt, ms),
    chargingPeriods: p.chargingPeriods.map((q) => ({
      ...q,
      startDateTime: shiftText(q.startDateTime, ms),
      endDateTime: shiftText(q.endDateTime, ms),
    })),
    energyTimeline: p.energyTimeline.map((e) => ({ ...e, at: shiftText(e.at, ms) })),
  };
}

const errorText = (e: unknown): string => {
  const err = e as { name?: string; code?: string; field?: string; message?: string };
  return `! ${err.name} ${err.code} ${err.field} ${err.message}`;
};

describe('billing + pricing output (golden)', () => {
  it('builds and prices the session corpus to byte-identical pricing sessions and CDRs', () => {
    const h = createHash('sha256');
    let priced = 0;
    for (const t of TARIFFS) {
      const compiled = compileTariff(t.tariff);
      for (const base of CORPUS) {
        for (const p of [base, ...SHIFTS.map((ms) => shifted(base, ms))]) {
          try {
            const session = toPricingSession(p, { timeZone: t.zone, currency: t.tariff.currency, tariff: compiled });
            h.update(`${JSON.stringify(formatPricingInput(session))}\n`);
            h.update(`${toCanonicalJson(priceSession(compiled, session, t.options))}\n`);
            priced++;
          } catch (e) {
            h.update(`${errorText(e)}\n`);
          }
        }
      }
    }
    // most of the corpus prices (the rest pins the errors)
    expect(priced).toBeGreaterThan(TARIFFS.length * CORPUS.length * 2);
    expect(h.digest('hex')).toBe('4749e38d7060454e346cf6e38d59551476ce2bee319e6dd4cfbc6b0efecc1458');
  });
});
