import { SessionEndedV2 } from '@csms/contracts';
import { formatPricingInput } from '@csms/pricing';
import type { OcpiTariff, OcpiTariffRestrictions, PricingSession } from '@csms/pricing';
import Decimal from 'decimal.js';
import { toPricingSession, type SessionEndedPayload, type ToPricingSessionOptions } from './to-pricing-session';

type Category = SessionEndedPayload['chargingPeriods'][number]['category'];

export interface PeriodSpec {
  to: string;
  category?: Category;
  wh: string;
  maxPowerW?: string;
  maxCurrentA?: string;
}

const STATE: Record<Category, SessionEndedPayload['chargingPeriods'][number]['chargingState']> = {
  CHARGING: 'Charging',
  SUSPENDED_EVSE: 'SuspendedEVSE',
  PREPARING: 'EVConnected',
  PARKING: 'SuspendedEV',
  IDLE: 'Idle',
};

/** A session.ended v1 payload: the contract's example with the given times, periods and timeline. */
export function aSessionEnded(start: string, periods: PeriodSpec[], timeline: [string, string][]): SessionEndedPayload {
  const base = SessionEndedV2.example as SessionEndedPayload;
  let from = start;
  let total = new Decimal(0);
  let parking = new Decimal(0);
  const chargingPeriods = periods.map((p) => {
    const category = p.category ?? 'CHARGING';
    const seconds = new Decimal(Date.parse(p.to) - Date.parse(from)).div(1000);
    total = total.plus(p.wh);
    if (category === 'PARKING') parking = parking.plus(seconds);
    const out: SessionEndedPayload['chargingPeriods'][number] = {
      startDateTime: from,
      endDateTime: p.to,
      chargingState: STATE[category],
      category,
      energyWh: p.wh,
      durationSeconds: seconds.toFixed(),
      dimensions: [],
    };
    if (p.maxPowerW !== undefined) out.maxPowerW = p.maxPowerW;
    if (p.maxCurrentA !== undefined) out.maxCurrentA = p.maxCurrentA;
    from = p.to;
    return out;
  });
  const timeSeconds = new Decimal(Date.parse(from) - Date.parse(start)).div(1000);
  return {
    ...base,
    startedAt: start,
    endedAt: from,
    totals: {
      energyWh: total.toFixed(),
      energyKwh: total.div(1000).toFixed(),
      timeSeconds: timeSeconds.toFixed(),
      chargingTimeSeconds: timeSeconds.minus(parking).toFixed(),
      parkingTimeSeconds: parking.toFixed(),
    },
    chargingPeriods,
    energyTimeline: timeline.map(([at, cumulativeWh]) => ({ at, cumulativeWh })),
  };
}

/** A one-element EUR tariff (ENERGY 0.25/kWh, TIME 1/h, PARKING 2/h) with the given restrictions, plus an unrestricted fallback. */
export function aTariff(restrictions: OcpiTariffRestrictions[]): OcpiTariff {
  return {
    id: 'T',
    currency: 'EUR',
    elements: [
      ...restrictions.map((r) => ({
        price_components: [
          { type: 'ENERGY' as const, price: 0.25, step_size: 1 },
          { type: 'TIME' as const, price: 1, step_size: 1 },
        ],
        restrictions: r,
      })),
      {
        price_components: [
          { type: 'ENERGY' as const, price: 0.3, step_size: 1 },
          { type: 'PARKING_TIME' as const, price: 2, step_size: 1 },
        ],
      },
    ],
  };
}

export const starts = (s: PricingSession): string[] => s.charging_periods.map((p) => p.start_date_time);
export const volumes = (s: PricingSession, type: string): string[] =>
  s.charging_periods.map((p) => p.dimensions.find((d) => d.type === type)?.volume ?? '-');

/** toPricingSession in its text form (formatPricingInput): what the assertions compare. */
export const toPricingText = (ended: SessionEndedPayload, opts: ToPricingSessionOptions): PricingSession =>
  formatPricingInput(toPricingSession(ended, opts));
