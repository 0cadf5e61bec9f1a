import { parseRfc3339 } from '@csms/kernel';
import type {
  OcpiNumber,
  OcpiPriceComponent,
  OcpiTariff,
  OcpiTariffElement,
  OcpiTariffRestrictions,
  PricingDimension,
  PricingSession,
} from '../types';

/** Test builders: aTariff(overrides), element(...), energy(...), aSession(...). */

export function energy(price: OcpiNumber, step_size = 1, vat?: OcpiNumber): OcpiPriceComponent {
  return { type: 'ENERGY', price, step_size, ...(vat === undefined ? {} : { vat }) };
}
export function time(price: OcpiNumber, step_size = 1, vat?: OcpiNumber): OcpiPriceComponent {
  return { type: 'TIME', price, step_size, ...(vat === undefined ? {} : { vat }) };
}
export function parking(price: OcpiNumber, step_size = 1, vat?: OcpiNumber): OcpiPriceComponent {
  return { type: 'PARKING_TIME', price, step_size, ...(vat === undefined ? {} : { vat }) };
}
export function flat(price: OcpiNumber, vat?: OcpiNumber): OcpiPriceComponent {
  return { type: 'FLAT', price, step_size: 1, ...(vat === undefined ? {} : { vat }) };
}
export function element(
  price_components: OcpiPriceComponent[],
  restrictions?: OcpiTariffRestrictions,
): OcpiTariffElement {
  return restrictions ? { price_components, restrictions } : { price_components };
}

/** A valid EUR tariff: one unrestricted element, ENERGY 0.25/kWh, step 1 Wh, no VAT. */
export function aTariff(overrides: Partial<OcpiTariff> = {}): OcpiTariff {
  return {
    country_code: 'NL',
    party_id: 'CSM',
    id: 'T1',
    currency: 'EUR',
    elements: [element([energy(0.25)])],
    last_updated: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

export interface PeriodSpec {
  /** RFC 3339 start of the period. */
  at: string;
  kwh?: string;
  /** What the period's time is: charging (TIME), parking (PARKING_TIME), reservation, or none. */
  state?: 'CHARGING' | 'PARKING' | 'RESERVATION' | 'NONE';
  minA?: string;
  maxA?: string;
  minKw?: string;
  maxKw?: string;
}

/**
 * A session from period specs: each period lasts until the next one starts (the last until `end`);
 * its whole length is TIME (CHARGING, the default), PARKING_TIME or RESERVATION_TIME seconds.
 */
export function aSession(spec: {
  start?: string;
  end: string;
  tz?: string;
  currency?: string;
  periods: PeriodSpec[];
  expired?: boolean;
  totalEnergy?: string;
}): PricingSession {
  const endMs = parseRfc3339(spec.end) as number;
  let reservation = false;
  let totalMilli = 0n;
  const charging_periods = spec.periods.map((p, i) => {
    const startMs = parseRfc3339(p.at) as number;
    const nextMs = i + 1 < spec.periods.length ? (parseRfc3339(spec.periods[i + 1].at) as number) : endMs;
    const seconds = String((nextMs - startMs) / 1000);
    const dims: PricingDimension[] = [];
    const state = p.state ?? 'CHARGING';
    if (state === 'CHARGING') dims.push({ type: 'TIME', volume: seconds });
    if (state === 'PARKING') dims.push({ type: 'PARKING_TIME', volume: seconds });
    if (state === 'RESERVATION') {
      dims.push({ type: 'RESERVATION_TIME', volume: seconds });
      reservation = true;
    }
    if (p.kwh !== undefined) {
      dims.push({ type: 'ENERGY', volume: p.kwh });
      const [int, frac = ''] = p.kwh.split('.');
      totalMilli += BigInt(int) * 1_000_000n + BigInt(frac.padEnd(6, '0'));
    }
    if (p.minA !== undefined) dims.push({ type: 'MIN_CURRENT', volume: p.minA });
    if (p.maxA !== undefined) dims.push({ type: 'MAX_CURRENT', volume: p.maxA });
    if (p.minKw !== undefined) dims.push({ type: 'MIN_POWER', volume: p.minKw });
    if (p.maxKw !== undefined) dims.push({ type: 'MAX_POWER', volume: p.maxKw });
    return { start_date_time: p.at, dimensions: dims };
  });
  const whole = totalMilli / 1_000_000n;
  const frac = (totalMilli % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return {
    session_id: 'S1',
    start_date_time: spec.start ?? spec.periods[0].at,
    end_date_time: spec.end,
    time_zone: spec.tz ?? 'Europe/Amsterdam',
    currency: spec.currency ?? 'EUR',
    total_energy: spec.totalEnergy ?? (frac ? `${whole}.${frac}` : `${whole}`),
    charging_periods,
    ...(reservation || spec.expired !== undefined ? { reservation: { expired: spec.expired ?? false } } : {}),
  };
}
