import Decimal from 'decimal.js';
import {
  CdrCreatedV4,
  SESSION_ENDED_LIMITS,
  deriveId,
  systemCatalogue,
  type OcpiTariffDocument,
} from '@csms/contracts';
import { endedOf, longSession16, run } from '../../sessions/src/spec-helpers';
import { buildCdr, type PricingContext } from './cdr';
import type { StationFacts } from './facts';
import type { SessionEndedPayload } from './to-pricing-session';

/**
 * A 24-hour OCPP 1.6 session sampled every 5 seconds (17,280 MeterValues) through the session decider and the
 * CDR builder: session.ended v2 and cdr.created v2 stay under the bound, and the resampled energy timeline
 * prices to the cent (here: to the byte) like the exact one for time-of-day boundaries.
 */
const catalogue = systemCatalogue();
const KB = 1024;

const tariffOf = (id: string, elements: OcpiTariffDocument['elements']): OcpiTariffDocument => ({
  country_code: 'NL',
  party_id: 'CSM',
  id,
  currency: 'EUR',
  elements,
  last_updated: '2026-01-01T00:00:00Z',
});

// energy dearer 18:00-22:00 and cheaper 07:30-09:15 (local time), parking billed
const timeOfDay = tariffOf('TOD', [
  {
    price_components: [{ type: 'ENERGY', price: 0.45, vat: 21, step_size: 1 }],
    restrictions: { start_time: '18:00', end_time: '22:00' },
  },
  {
    price_components: [{ type: 'ENERGY', price: 0.2, vat: 21, step_size: 1 }],
    restrictions: { start_time: '07:30', end_time: '09:15' },
  },
  {
    price_components: [
      { type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 },
      { type: 'PARKING_TIME', price: 2, vat: 21, step_size: 60 },
    ],
  },
]);
// energy dearer after the first 100 kWh: the crossing instant is interpolated inside a grid step
const byEnergy = tariffOf('KWH', [
  { price_components: [{ type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 }], restrictions: { max_kwh: 100 } },
  { price_components: [{ type: 'ENERGY', price: 0.4, vat: 21, step_size: 1 }] },
]);

const station: StationFacts = {
  siteId: 'site-ams',
  timeZone: 'Europe/Amsterdam',
  location: null,
  evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }],
};

function price(session: SessionEndedPayload, tariff: OcpiTariffDocument) {
  const ctx: PricingContext = {
    session,
    source: { eventId: deriveId('src'), topic: 'session.events', partition: 0, offset: '1' },
    station,
    assignments: [
      {
        assignmentId: 'asg',
        tariffId: tariff.id,
        scope: { kind: 'default' },
        effectiveFrom: '2026-01-01T00:00:00Z',
        sequence: 1,
        removed: false,
      },
    ],
    versions: [
      {
        tariffId: tariff.id,
        version: 1,
        effectiveFrom: '2026-01-01T00:00:00Z',
        publishedAt: '2026-01-01T00:00:00Z',
        contentHash: 'a'.repeat(64),
        tariff,
      },
    ],
    cpo: { countryCode: 'NL', partyId: 'CSM' },
    defaultTimeZone: 'UTC',
    rounding: 'HALF_UP',
  };
  const out = buildCdr(ctx);
  if (out.kind !== 'priced') throw new Error(`not priced: ${out.code} ${out.detail}`);
  return out;
}

describe('a 24-hour session sampled every 5 seconds, priced', () => {
  // 06:00Z = 07:00 in Amsterdam: the session crosses 07:30, 09:15, 18:00 and 22:00 local; parking periods from status changes
  const s = longSession16({
    stationId: 'CP-LONG',
    from: '2026-03-10T06:00:00Z',
    samples: 17_280,
    intervalSeconds: 5,
    flipEverySamples: 2_000,
    signedEverySamples: 100,
  });
  const ended = endedOf(run(s.commands).events)[0];
  const p = ended.payload as SessionEndedPayload;
  // the same session with the exact timeline (every reading), as session.ended v1 carried it
  const exact: SessionEndedPayload = {
    ...p,
    energyTimeline: s.timeline,
    energyTimelineResolution: { mode: 'exact', points: s.timeline.length },
  };

  it('session.ended v2 is resampled and under the bound', () => {
    expect(p.energyTimelineResolution).toEqual({ mode: 'resampled', gridSeconds: 60, points: 17_282 });
    expect(Buffer.byteLength(catalogue.encode(catalogue.check({ ...ended, source: 'session-service' })))).toBeLessThan(
      256 * KB,
    );
  });

  it('cdr.created v4 is under the bound, its audit naming the source ranges and the timeline resolution', () => {
    const out = price(p, timeOfDay);
    const env = catalogue.create(CdrCreatedV4, {
      id: deriveId('cdr', out.cdr.id),
      key: p.sessionId,
      occurredAt: p.endedAt,
      source: 'test',
      payload: { cdr: out.cdr, audit: out.audit, billingAccountId: null },
    });
    expect(Buffer.byteLength(catalogue.encode(env))).toBeLessThan(256 * KB);
    expect(out.audit.inboundRecords).toEqual(p.sources);
    expect(out.audit.inboundRecords[0].count).toBe(s.commands.length - 1);
    expect(out.audit.energyTimeline).toEqual({ mode: 'resampled', gridSeconds: 60, points: 17_282 });
    expect(out.audit.inboundRecords.length).toBeLessThanOrEqual(SESSION_ENDED_LIMITS.sourceRanges);
  });

  it('with time-of-day energy boundaries, the resampled timeline prices exactly like the exact one (the boundaries are on the minute grid)', () => {
    const a = price(p, timeOfDay).cdr;
    const b = price(exact, timeOfDay).cdr;
    expect(a.total_cost).toEqual(b.total_cost);
    expect(a.total_energy_cost).toEqual(b.total_energy_cost);
    expect(a.total_parking_cost).toEqual(b.total_parking_cost);
    // not only to the cent: every priced period has the same energy
    expect(a.charging_periods).toEqual(b.charging_periods);
    expect(a.charging_periods.length).toBeGreaterThan(p.chargingPeriods.length);
  });

  it('with a kWh restriction the crossing falls inside a grid step: the price differs by at most the energy of one step at the price difference', () => {
    const a = price(p, byEnergy).cdr;
    const b = price(exact, byEnergy).cdr;
    const diff = new Decimal(a.total_cost.excl_vat).minus(b.total_cost.excl_vat).abs();
    // at most 12 increments of at most 17 Wh in a 60 s step, at 0.15 EUR/kWh between the elements: < 0.031 EUR
    expect(diff.lte('0.031')).toBe(true);
    expect(a.total_energy).toBe(b.total_energy);
  });
});
