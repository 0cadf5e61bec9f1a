import type { Cdr } from '../api/views';
import { dailyFromCdrs } from './daily';

const cdr = (end: string, currency: string, kwh: string, excl: string, incl: string, credit = false) =>
  ({
    end_date_time: end,
    currency,
    total_energy: kwh,
    total_cost: { excl_vat: excl, incl_vat: incl },
    credit,
  }) as unknown as Cdr;

describe('dashboard: CDRs per UTC day of their end and currency', () => {
  it('sums exactly, a credit CDR cancelling its CDR (amounts negative, energy and session taken off), currencies apart, by day', () => {
    const rows = dailyFromCdrs([
      cdr('2026-12-05T23:59:59Z', 'EUR', '4.205', '2.25', '2.72'),
      cdr('2026-12-04T10:00:00Z', 'EUR', '1.1', '0.10', '0.12'),
      cdr('2026-12-05T00:00:00Z', 'EUR', '0.795', '0.20', '0.24'),
      cdr('2026-12-05T08:00:00Z', 'EUR', '4.205', '-2.25', '-2.72', true),
      cdr('2026-12-05T09:00:00Z', 'SEK', '3', '10.00', '12.50'),
    ]);
    expect(rows).toEqual([
      {
        day: '2026-12-04',
        currency: 'EUR',
        sessions: 1,
        energyKwh: '1.1',
        revenueExclVat: '0.10',
        revenueInclVat: '0.12',
      },
      {
        day: '2026-12-05',
        currency: 'EUR',
        sessions: 1,
        energyKwh: '0.795',
        revenueExclVat: '0.20',
        revenueInclVat: '0.24',
      },
      {
        day: '2026-12-05',
        currency: 'SEK',
        sessions: 1,
        energyKwh: '3',
        revenueExclVat: '10.00',
        revenueInclVat: '12.50',
      },
    ]);
  });
});
