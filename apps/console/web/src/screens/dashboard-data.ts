/**
 * Sessions, energy and revenue per day. Today they are summed here from the CDR list (GET /api/v1/cdrs, every
 * page of the period); the finance reports of the reporting service will serve them per day, site and currency,
 * and `loadDailyRevenue` is the one place to switch to that endpoint when it exists (the chart and table take a
 * `DailyRow[]` and do not care where it came from).
 */
import { stringify } from 'csv-stringify/browser/esm/sync';
import { apiGet } from '../api/client';
import type { Cdr, Page } from '../api/views';
import { dailyFromCdrs, type DailyRow } from './daily';

export type { DailyRow };

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

/** The daily rows as RFC 4180 CSV (amounts as the exact decimal strings), with a header line. */
export function dailyCsv(rows: readonly DailyRow[]): string {
  return stringify(
    rows.map((r) => [r.day, r.currency, r.sessions, r.energyKwh, r.revenueExclVat, r.revenueInclVat]),
    { header: true, columns: ['day', 'currency', 'sessions', 'energy_kwh', 'revenue_excl_vat', 'revenue_incl_vat'] },
  );
}

/** Hands a text to the browser as a file download. */
export function download(filename: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
