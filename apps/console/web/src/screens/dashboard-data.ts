/**
 * Sessions, energy and revenue per day, from the reporting service's revenue report (`GET /reports/revenue`, per
 * day x currency x site: days are each site's civil days, credit CDRs count in the period they were issued in, a
 * closed period never changes). The chart and table take a `DailyRow[]`; the CSV download is the service's own
 * CSV of the same query.
 */
import { apiGet, apiGetText } from '../api/client';
import type { RevenueReport } from '../api/views';
import { dailyFromReport, sitesOf, type DailyRow } from './daily';

export type { DailyRow };

/** `from` and `to` are civil days (YYYY-MM-DD), `to` exclusive */
export async function loadDailyRevenue(
  range: { from: string; to: string; site?: string },
  signal?: AbortSignal,
): Promise<{ rows: DailyRow[]; sites: string[]; cdrs: number; closedPeriods: string[] }> {
  const report = await apiGet<RevenueReport, 'reporting', '/api/v1/reports/revenue'>(
    'reporting',
    '/api/v1/reports/revenue',
    { query: { from: range.from, to: range.to, granularity: 'day', groupBy: 'site' }, signal },
  );
  const rows = dailyFromReport(report.rows, range.site);
  return {
    rows,
    sites: sitesOf(report.rows),
    cdrs: rows.reduce((n, r) => n + r.cdrs, 0),
    closedPeriods: report.closedPeriods,
  };
}

/** The revenue report of the range as the service writes it (CSV, RFC 4180, its columns), per day and site. */
export function revenueCsv(range: { from: string; to: string }, signal?: AbortSignal): Promise<string> {
  return apiGetText('reporting', '/api/v1/reports/revenue', {
    query: { from: range.from, to: range.to, granularity: 'day', groupBy: 'site', format: 'csv' },
    signal,
  });
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
