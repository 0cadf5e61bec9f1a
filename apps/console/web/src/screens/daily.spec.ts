import type { RevenueRow } from '../api/views';
import { dailyFromReport, sitesOf } from './daily';

const row = (day: string, currency: string, site: string, sessions: number, kwh: string, net: string, gross: string) =>
  ({
    period: day.slice(0, 7),
    day,
    currency,
    site_id: site,
    cdrs: sessions < 0 ? 1 : sessions,
    sessions,
    energy_kwh: kwh,
    net,
    gross,
  }) as unknown as RevenueRow;

describe('revenue per day from the reporting service’s rows', () => {
  const rows = [
    row('2026-03-01', 'EUR', 'site-a', 2, '20.5', '10.00', '12.10'),
    row('2026-03-01', 'EUR', 'site-b', 1, '7.25', '3.505', '4.24'),
    row('2026-03-01', 'USD', 'site-a', 1, '1', '1.00', '1.21'),
    // a day whose credit CDR outweighs: minus a session, negative amounts
    row('2026-03-02', 'EUR', 'site-b', -1, '-7.25', '-3.505', '-4.24'),
  ];

  it('sums the sites of a day and currency exactly', () => {
    expect(dailyFromReport(rows)).toEqual([
      {
        day: '2026-03-01',
        currency: 'EUR',
        cdrs: 3,
        sessions: 3,
        energyKwh: '27.75',
        revenueExclVat: '13.505',
        revenueInclVat: '16.34',
      },
      {
        day: '2026-03-01',
        currency: 'USD',
        cdrs: 1,
        sessions: 1,
        energyKwh: '1',
        revenueExclVat: '1.00',
        revenueInclVat: '1.21',
      },
      {
        day: '2026-03-02',
        currency: 'EUR',
        cdrs: 1,
        sessions: -1,
        energyKwh: '-7.25',
        revenueExclVat: '-3.505',
        revenueInclVat: '-4.24',
      },
    ]);
  });

  it('keeps one site when asked, and lists the sites', () => {
    expect(dailyFromReport(rows, 'site-b').map((r) => [r.day, r.revenueExclVat])).toEqual([
      ['2026-03-01', '3.505'],
      ['2026-03-02', '-3.505'],
    ]);
    expect(sitesOf(rows)).toEqual(['site-a', 'site-b']);
  });
});
