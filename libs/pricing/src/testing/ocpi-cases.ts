import * as fs from 'fs';
import * as path from 'path';
import { parseRfc3339 } from '@csms/kernel';
import type { OcpiTariff, PricingDimension, PricingPeriod, PricingSession } from '../types';

/** A worked case of `fixtures/ocpi-tariff-cases.json` (its origin: `fixtures/README.md`). */
export interface OcpiCase {
  name: string;
  confidence: string;
  tariff: OcpiTariff;
  session: {
    start_date_time: string;
    end_date_time: string;
    time_zone: string;
    total_energy_kwh: string;
    periods: {
      start_date_time: string;
      state: 'CHARGING' | 'PARKING' | 'RESERVATION' | 'RESERVATION_EXPIRED';
      energy_kwh?: string;
      min_current_a?: string;
      max_current_a?: string;
      min_power_kw?: string;
      max_power_kw?: string;
    }[];
  };
  expected: Record<string, unknown> & {
    currency: string;
    total_cost: { excl_vat: string; incl_vat: string };
  };
}

/** The worked cases, kept in the repository beside this loader. */
export const CASES_FILE = path.join(__dirname, 'fixtures', 'ocpi-tariff-cases.json');

export function loadOcpiCases(): OcpiCase[] {
  return JSON.parse(fs.readFileSync(CASES_FILE, 'utf8')) as OcpiCase[];
}

/**
 * Map a case session (periods with a state) to a PricingSession: CHARGING -> TIME seconds,
 * PARKING -> PARKING_TIME seconds, RESERVATION(_EXPIRED) -> RESERVATION_TIME seconds, each the
 * period's length by its timestamps; energy, current and power copied.
 */
export function toPricingSession(c: OcpiCase): PricingSession {
  const s = c.session;
  const endMs = parseRfc3339(s.end_date_time) as number;
  let reservation: PricingSession['reservation'];
  const periods: PricingPeriod[] = s.periods.map((p, i) => {
    const startMs = parseRfc3339(p.start_date_time) as number;
    const nextMs = i + 1 < s.periods.length ? (parseRfc3339(s.periods[i + 1].start_date_time) as number) : endMs;
    const seconds = String((nextMs - startMs) / 1000);
    const dims: PricingDimension[] = [];
    if (p.state === 'CHARGING') dims.push({ type: 'TIME', volume: seconds });
    if (p.state === 'PARKING') dims.push({ type: 'PARKING_TIME', volume: seconds });
    if (p.state === 'RESERVATION' || p.state === 'RESERVATION_EXPIRED') {
      dims.push({ type: 'RESERVATION_TIME', volume: seconds });
      reservation = { expired: p.state === 'RESERVATION_EXPIRED' };
    }
    if (p.energy_kwh !== undefined) dims.push({ type: 'ENERGY', volume: p.energy_kwh });
    if (p.min_current_a !== undefined) dims.push({ type: 'MIN_CURRENT', volume: p.min_current_a });
    if (p.max_current_a !== undefined) dims.push({ type: 'MAX_CURRENT', volume: p.max_current_a });
    if (p.min_power_kw !== undefined) dims.push({ type: 'MIN_POWER', volume: p.min_power_kw });
    if (p.max_power_kw !== undefined) dims.push({ type: 'MAX_POWER', volume: p.max_power_kw });
    return { start_date_time: p.start_date_time, dimensions: dims };
  });
  return {
    session_id: c.name,
    start_date_time: s.start_date_time,
    end_date_time: s.end_date_time,
    time_zone: s.time_zone,
    currency: c.tariff.currency,
    total_energy: s.total_energy_kwh,
    charging_periods: periods,
    ...(reservation ? { reservation } : {}),
  };
}
