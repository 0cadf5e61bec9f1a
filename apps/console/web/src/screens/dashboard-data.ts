/**
 * Sessions, energy and revenue per day. Today they are summed here from the CDR list (GET /api/v1/cdrs, every
 * page of the period); the finance reports of the reporting service will serve them per day, site and currency,
 * and `loadDailyRevenue` is the one place to switch to that endpoint when it exists (the chart and table take a
 * `DailyRow[]` and do not care where it came from).
 */
import { apiGet } from '../api/client';
import type { Cdr, Page } from '../api/views';
import { sumDecimals } from '../format';

export interface DailyRow {
  day: string;
  currency: string;
  sessions: number;
  energyKwh: string;
  revenueExclVat: string;
  revenueInclVat: string;
}

/** CDRs per UTC day of their end and currency (credit CDRs count with their negative amounts). */
export function dailyFromCdrs(cdrs: readonly Cdr[]): DailyRow[] {
  const by = new Map<string, Cdr[]>();
  for (const c of cdrs) {
    const k = `${c.end_date_time.slice(0, 10)}|${c.currency}`;
    by.set(k, [...(by.get(k) ?? []), c]);
  }
  return [...by.entries()]
    .map(([k, list]) => {
      const [day, currency] = k.split('|');
      return {
        day,
        currency,
        sessions: list.filter((c) => !c.credit).length,
        energyKwh: sumDecimals(list.map((c) => c.total_energy)),
        revenueExclVat: sumDecimals(list.map((c) => c.total_cost.excl_vat)),
        revenueInclVat: sumDecimals(list.map((c) => c.total_cost.incl_vat ?? '0')),
      };
    })
    .sort((a, b) => a.day.localeCompare(b.day) || a.currency.localeCompare(b.currency));
}

export const MAX_CDR_PAGES = 40;

export async function loadDailyRevenue(
  range: { from: string; to: string; site?: string },
  onProgress: (read: number) => void,
  signal?: AbortSignal,
): Promise<{ rows: DailyRow[]; sites: string[]; truncated: boolean; cdrs: number }> {
  const all: Cdr[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page: Page<Cdr> = await apiGet<Page<Cdr>, 'tariffs', '/api/v1/cdrs'>('tariffs', '/api/v1/cdrs', {
      query: { from: range.from, to: range.to, limit: '500', cursor },
      signal,
    });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    pages++;
    onProgress(all.length);
  } while (cursor && pages < MAX_CDR_PAGES);
  const sites = [...new Set(all.map((c) => c.cdr_location.id ?? '').filter(Boolean))].sort();
  const mine = range.site ? all.filter((c) => c.cdr_location.id === range.site) : all;
  return { rows: dailyFromCdrs(mine), sites, truncated: !!cursor, cdrs: mine.length };
}
