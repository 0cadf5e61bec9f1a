import type { Cdr } from '../api/views';
import { sumDecimals } from '../format';

const negate = (d: string) => (d.startsWith('-') ? d.slice(1) : `-${d}`);

export interface DailyRow {
  day: string;
  currency: string;
  sessions: number;
  energyKwh: string;
  revenueExclVat: string;
  revenueInclVat: string;
}

/**
 * CDRs per UTC day of their end and currency. A credit CDR cancels the CDR it credits (OCPI: the same data with
 * total_cost negated): its amounts count as they are (negative), its energy and its session are taken off.
 */
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
        sessions: list.filter((c) => !c.credit).length - list.filter((c) => c.credit).length,
        energyKwh: sumDecimals(list.map((c) => (c.credit ? negate(c.total_energy) : c.total_energy))),
        revenueExclVat: sumDecimals(list.map((c) => c.total_cost.excl_vat)),
        revenueInclVat: sumDecimals(list.map((c) => c.total_cost.incl_vat ?? '0')),
      };
    })
    .sort((a, b) => a.day.localeCompare(b.day) || a.currency.localeCompare(b.currency));
}
