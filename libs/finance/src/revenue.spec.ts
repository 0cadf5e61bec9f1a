import { CdrCreatedV3, type CdrCreatedPayload } from '@csms/contracts';
import { creditCdrOf } from '@csms/billing';
import { TimeZones } from '@csms/kernel';
import { revenueFactOf, totalsByCurrency } from './revenue';

const zones = new TimeZones();
const example = CdrCreatedV3.example as CdrCreatedPayload;

function cdr(id: string, lastUpdated: string, excl: string, incl: string, energy = '20'): CdrCreatedPayload {
  return {
    ...example,
    cdr: {
      ...example.cdr,
      id,
      end_date_time: lastUpdated,
      last_updated: lastUpdated,
      total_cost: { excl_vat: excl, incl_vat: incl },
      total_energy: energy,
      total_time: '1.5',
      total_parking_time: '0.25',
    },
  };
}

describe('revenue facts of CDRs', () => {
  it('a CDR: its dimensions, figures, VAT as gross - net, the day in its own time zone', () => {
    // 23:30 UTC on 1 March is 00:30 on 2 March in Amsterdam
    const f = revenueFactOf(cdr('CDR-1', '2026-03-01T23:30:00Z', '7.00', '8.47'), zones);
    expect(f).toMatchObject({
      cdrId: 'CDR-1',
      credit: false,
      siteId: 'site-amsterdam-1',
      stationId: 'CP-001',
      evseUid: 'CP-001*1',
      tariffId: 'AC-STANDARD',
      tariffVersion: 1,
      currency: 'EUR',
      accountId: 'acct-1001',
      timeZone: 'Europe/Amsterdam',
      day: '2026-03-02',
      sessions: 1,
      energyKwh: '20',
      chargingHours: '1.25',
      parkingHours: '0.25',
      net: '7',
      vat: '1.47',
      gross: '8.47',
    });
  });

  it('a credit CDR nets on the day it is issued: -1 session, minus energy and times, its negative cost', () => {
    const original = cdr('CDR-1', '2026-03-01T10:00:00Z', '7.00', '8.47');
    const credit = creditCdrOf(original.cdr, original.audit, '2026-04-02T09:00:00Z');
    const f = revenueFactOf({ ...original, ...credit }, zones);
    expect(f).toMatchObject({
      credit: true,
      creditReferenceId: 'CDR-1',
      day: '2026-04-02',
      sessions: -1,
      energyKwh: '-20',
      chargingHours: '-1.25',
      parkingHours: '-0.25',
      net: '-7',
      vat: '-1.47',
      gross: '-8.47',
    });
    // the CDR and its credit cancel to the cent
    const both = totalsByCurrency([revenueFactOf(original, zones), f]);
    expect(both.EUR).toEqual({
      cdrs: 2,
      sessions: 0,
      energyKwh: '0',
      chargingHours: '0',
      parkingHours: '0',
      net: '0',
      vat: '0',
      gross: '0',
    });
  });

  it('totals are exact to the cent over many CDRs (no floating point: 0.1 + 0.2 is 0.3)', () => {
    const facts = Array.from({ length: 1000 }, (_, i) =>
      revenueFactOf(
        cdr(`CDR-${i}`, '2026-03-01T10:00:00Z', i % 2 ? '0.10' : '0.20', i % 2 ? '0.12' : '0.24', '0.001'),
        zones,
      ),
    );
    expect(totalsByCurrency(facts).EUR).toMatchObject({
      cdrs: 1000,
      sessions: 1000,
      net: '150',
      vat: '30',
      gross: '180',
      energyKwh: '1',
    });
  });

  it('a time zone the kernel does not know counts in UTC', () => {
    const p = cdr('CDR-2', '2026-03-01T23:30:00Z', '1', '1');
    const f = revenueFactOf({ ...p, audit: { ...p.audit, timeZone: 'Nowhere/Atlantis' } }, zones);
    expect([f.timeZone, f.day]).toEqual(['UTC', '2026-03-01']);
  });
});
