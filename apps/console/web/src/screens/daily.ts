import type { RevenueRow } from '../api/views';
import { sumDecimals } from '../format';

export interface DailyRow {
  day: string;
  currency: string;
  cdrs: number;
  sessions: number;
  energyKwh: string;
  revenueExclVat: string;
  revenueInclVat: string;
}

/**
 * The reporting service's revenue rows (per day x currency x site, `GET /reports/revenue?groupBy=site`) as one row
 * per day and currency, of one site or of all (summed exactly). Credit CDRs are in the service's figures already
 * (minus a session, minus their energy, their negative amounts).
 */
export function dailyFromReport(rows: readonly RevenueRow[], site?: string): DailyRow[] {
  const by = new Map<string, RevenueRow[]>();
  for (const r of rows) {
    if (site && r.site_id !== site) continue;
    const k = `${r.day ?? r.period}|${r.currency}`;
    by.set(k, [...(by.get(k) ?? []), r]);
  }
  return [...by.entries()]
    .map(([k, list]) => {
      const [day, currency] = k.split('|');
      return {
        day,
        currency,
        cdrs: list.reduce((n, r) => n + Number(r.cdrs), 0),
        sessions: list.reduce((n, r) => n + Number(r.sessions), 0),
        energyKwh: sumDecimals(list.map((r) => r.energy_kwh)),
        revenueExclVat: sumDecimals(list.map((r) => r.net)),
        revenueInclVat: sumDecimals(list.map((r) => r.gross)),
      };
    })
    .sort((a, b) => a.day.localeCompare(b.day) || a.currency.localeCompare(b.currency));
}

/** the sites the rows name, sorted */
export function sitesOf(rows: readonly RevenueRow[]): string[] {
  return [...new Set(rows.map((r) => r.site_id ?? '').filter(Boolean))].sort();
}
