import { SessionEndedV2 } from '@csms/contracts';
import { formatPricingInput, priceSession } from '@csms/pricing';
import type { OcpiTariff } from '@csms/pricing';
import { selectTariff } from './select-tariff';
import { type SessionEndedPayload, toPricingSession } from './to-pricing-session';

/**
 * session.ended (the contract's example: 2026-03-01, a Sunday, 10:00-11:00Z = 11:00-12:00 CET,
 * 20 kWh charged until 10:50Z, then 10 min SuspendedEV) -> selectTariff -> toPricingSession ->
 * priceSession, checked against totals computed by hand.
 */
const TOD: OcpiTariff = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'TOD-4',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 0.5, vat: 21, step_size: 1 },
        { type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 },
        { type: 'TIME', price: 1.2, vat: 21, step_size: 60 },
      ],
      restrictions: { start_time: '07:00', end_time: '11:30' },
    },
    {
      price_components: [
        { type: 'ENERGY', price: 0.4, vat: 21, step_size: 100 },
        { type: 'TIME', price: 2.4, vat: 21, step_size: 300 },
        { type: 'PARKING_TIME', price: 3, vat: 21, step_size: 900 },
      ],
      restrictions: { start_time: '11:30', end_time: '17:00' },
    },
    {
      price_components: [
        { type: 'ENERGY', price: 0.45, vat: 21, step_size: 100 },
        { type: 'TIME', price: 2.4, vat: 21, step_size: 300 },
        { type: 'PARKING_TIME', price: 3, vat: 21, step_size: 900 },
      ],
      restrictions: { start_time: '17:00', end_time: '23:00' },
    },
    {
      price_components: [
        { type: 'ENERGY', price: 0.2, vat: 21, step_size: 100 },
        { type: 'PARKING_TIME', price: 0, vat: 21, step_size: 900 },
      ],
      restrictions: { start_time: '23:00', end_time: '07:00' },
    },
  ],
  last_updated: '2026-01-01T00:00:00Z',
};

// The example, with one more register reading: 10 kWh in the first 20 min, 10 kWh in the next 30.
const ended: SessionEndedPayload = {
  ...(SessionEndedV2.example as SessionEndedPayload),
  energyTimeline: [
    { at: '2026-03-01T10:00:00Z', cumulativeWh: '0' },
    { at: '2026-03-01T10:20:00Z', cumulativeWh: '10000' },
    { at: '2026-03-01T10:50:00Z', cumulativeWh: '20000' },
  ],
};

describe('end to end, pure: session.ended -> tariff selection -> pricing session -> priced CDR', () => {
  it('prices the example session with a 4-element time-of-day tariff to the cent', () => {
    const selection = selectTariff(
      [
        {
          assignmentId: 'as-1',
          tariffId: 'TOD-4',
          scope: { kind: 'station', stationId: 'CP-001' },
          effectiveFrom: '2026-01-01T00:00:00Z',
          sequence: 1,
        },
        {
          assignmentId: 'as-0',
          tariffId: 'FLAT-ONLY',
          scope: { kind: 'default' },
          effectiveFrom: '2025-01-01T00:00:00Z',
          sequence: 0,
        },
      ],
      [
        {
          tariffId: 'TOD-4',
          version: 3,
          effectiveFrom: '2026-02-01T00:00:00Z',
          publishedAt: '2026-01-20T00:00:00Z',
          tariff: TOD,
        },
      ],
      { at: ended.startedAt, stationId: ended.stationId, connectorId: ended.connectorId },
    );
    if (!selection.ok) throw new Error(selection.detail);
    expect([selection.level, selection.version.version]).toEqual(['station', 3]);

    const session = toPricingSession(ended, {
      timeZone: 'Europe/Amsterdam',
      currency: 'EUR',
      tariff: selection.version.tariff,
    });
    // 11:30 CET = 10:30Z splits the charging period; the timeline gives 13.333333 kWh before it.
    expect(session.periods[0].dimensions[0]).toEqual({ type: 'ENERGY', mwh: 13_333_333n });
    expect(formatPricingInput(session).charging_periods).toEqual([
      {
        start_date_time: '2026-03-01T10:00:00Z',
        dimensions: [
          { type: 'ENERGY', volume: '13.333333' },
          { type: 'TIME', volume: '1800' },
          { type: 'MAX_POWER', volume: '24' },
          { type: 'MAX_CURRENT', volume: '34.8' },
        ],
      },
      {
        start_date_time: '2026-03-01T10:30:00Z',
        dimensions: [
          { type: 'ENERGY', volume: '6.666667' },
          { type: 'TIME', volume: '1200' },
          { type: 'MAX_POWER', volume: '24' },
          { type: 'MAX_CURRENT', volume: '34.8' },
        ],
      },
      {
        start_date_time: '2026-03-01T10:50:00Z',
        dimensions: [
          { type: 'ENERGY', volume: '0' },
          { type: 'PARKING_TIME', volume: '600' },
        ],
      },
    ]);

    // priced from the exact values (no text in between), as the text form would be
    const cdr = priceSession(selection.version.tariff, session);
    expect(cdr).toEqual(priceSession(selection.version.tariff, formatPricingInput(session)));
    // By hand (excl VAT; incl = x 1.21):
    //   start fee (element 0)                                    0.50
    //   energy 13.333333 kWh x 0.30 + 6.666667 kWh x 0.40         3.9999999 + 2.6666668 = 6.6666667 (20 kWh, step 100 Wh: no extra)
    //   time 1800 s x 1.20/h + 1200 s x 2.40/h                    0.60 + 0.80 = 1.40 (priced parking follows: TIME not rounded)
    //   parking 600 s -> 900 s (step 900) x 3.00/h                0.75
    //   total 9.3166667 -> 9.32; incl 11.273166707 -> 11.27
    expect(cdr.breakdown.periods.map((p) => [p.local_time, p.elements])).toEqual([
      ['2026-03-01T11:00:00', { ENERGY: 0, FLAT: 0, TIME: 0, PARKING_TIME: null }],
      ['2026-03-01T11:30:00', { ENERGY: 1, FLAT: null, TIME: 1, PARKING_TIME: 1 }],
      ['2026-03-01T11:50:00', { ENERGY: 1, FLAT: null, TIME: 1, PARKING_TIME: 1 }],
    ]);
    expect({
      total_cost: cdr.total_cost,
      total_fixed_cost: cdr.total_fixed_cost,
      total_energy: cdr.total_energy,
      total_energy_cost: cdr.total_energy_cost,
      total_time: cdr.total_time,
      total_time_cost: cdr.total_time_cost,
      total_parking_time: cdr.total_parking_time,
      total_parking_cost: cdr.total_parking_cost,
    }).toEqual({
      total_cost: { excl_vat: '9.32', incl_vat: '11.27' },
      total_fixed_cost: { excl_vat: '0.50', incl_vat: '0.61' },
      total_energy: '20',
      total_energy_cost: { excl_vat: '6.67', incl_vat: '8.07' },
      total_time: '1',
      total_time_cost: { excl_vat: '1.40', incl_vat: '1.69' },
      total_parking_time: '0.1667',
      total_parking_cost: { excl_vat: '0.75', incl_vat: '0.91' },
    });
    expect(cdr.audit.unrounded.total_cost).toEqual({ excl_vat: '9.3166667', incl_vat: '11.273166707' });
    expect(cdr.audit.warnings).toEqual([]);
  });

  it('without the bridge the same session is priced at the 11:00 CET price throughout (why the split matters)', () => {
    const unsplit = priceSession(TOD, {
      session_id: ended.sessionId,
      start_date_time: ended.startedAt,
      end_date_time: ended.endedAt,
      time_zone: 'Europe/Amsterdam',
      currency: 'EUR',
      total_energy: '20',
      charging_periods: [
        {
          start_date_time: '2026-03-01T10:00:00Z',
          dimensions: [
            { type: 'ENERGY', volume: '20' },
            { type: 'TIME', volume: '3000' },
          ],
        },
        { start_date_time: '2026-03-01T10:50:00Z', dimensions: [{ type: 'PARKING_TIME', volume: '600' }] },
      ],
    });
    // 20 x 0.30 + 3000 s x 1.20/h + 0.50 + 0.75 = 6 + 1 + 0.5 + 0.75
    expect(unsplit.total_cost.excl_vat).toBe('8.25');
  });
});
