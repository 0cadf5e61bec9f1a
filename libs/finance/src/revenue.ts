import type { CdrCreatedPayload } from '@csms/contracts';
import { Dec, TimeZones, toPlainString } from '@csms/kernel';
import { findCurrency } from '@csms/money';

/**
 * One CDR as the revenue read model counts it: its dimensions (site, station, EVSE, tariff and version,
 * currency, paying account), the local day it was issued on, and its figures with the sign it counts with.
 *
 * - **Issued on**: the CDR's `last_updated` (OCPI: a CDR is never updated, so it is its creation time; a CDR's
 *   is its session's end, a credit CDR's the end of the corrected session that caused it), as a civil date
 *   in the CDR's own time zone (`audit.timeZone`: the site's zone the registry gave the tariff service when
 *   it priced the session, the same zone its tariff's time-of-day rules used; `UTC`-like default zones when
 *   the station had none). A credit CDR therefore nets against the period it was issued in, never against
 *   the period of the CDR it cancels.
 * - **Sign**: a credit CDR counts -1 session, and minus the energy and times of the CDR it cancels (OCPI
 *   keeps them positive in the credit CDR; only `total_cost` is negative there, and is taken as it is).
 * - **VAT** is gross minus net (`total_cost.incl_vat - total_cost.excl_vat`), exact.
 */
export interface RevenueFact {
  cdrId: string;
  credit: boolean;
  creditReferenceId: string | null;
  sessionId: string;
  stationId: string;
  /** the CDR location id: the site */
  siteId: string;
  evseUid: string;
  connectorId: string;
  tariffId: string;
  tariffVersion: number;
  currency: string;
  /** the billing account that pays (cdr.created v3 `billingAccountId`), null: none */
  accountId: string | null;
  issuedAt: string;
  timeZone: string;
  /** YYYY-MM-DD in `timeZone` */
  day: string;
  sessions: number;
  energyKwh: string;
  chargingHours: string;
  parkingHours: string;
  net: string;
  vat: string;
  gross: string;
}

const neg = (v: string) => toPlainString(new Dec(v).negated());
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The local civil date (YYYY-MM-DD) of an instant in a zone (the caller's TimeZones cache). */
export function localDay(zones: TimeZones, zone: string, instant: string): string {
  const p = zones.localParts(zone, Date.parse(instant));
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** The revenue fact of a cdr.created (v3, or an older version upcast). */
export function revenueFactOf(p: CdrCreatedPayload, zones: TimeZones): RevenueFact {
  const { cdr, audit } = p;
  const credit = cdr.credit === true;
  const parking = cdr.total_parking_time ?? '0';
  const charging = toPlainString(new Dec(cdr.total_time).minus(parking));
  const signed = (v: string) => (credit ? neg(v) : toPlainString(new Dec(v)));
  const zone = zones.isValid(audit.timeZone) ? audit.timeZone : 'UTC';
  return {
    cdrId: cdr.id,
    credit,
    creditReferenceId: cdr.credit_reference_id ?? null,
    sessionId: audit.sessionId,
    stationId: audit.stationId,
    siteId: cdr.cdr_location.id,
    evseUid: cdr.cdr_location.evse_uid,
    connectorId: cdr.cdr_location.connector_id,
    tariffId: audit.tariffId,
    tariffVersion: audit.tariffVersion,
    currency: cdr.currency,
    accountId: p.billingAccountId,
    issuedAt: cdr.last_updated,
    timeZone: zone,
    day: localDay(zones, zone, cdr.last_updated),
    sessions: credit ? -1 : 1,
    energyKwh: signed(cdr.total_energy),
    chargingHours: signed(charging),
    parkingHours: signed(parking),
    net: toPlainString(new Dec(cdr.total_cost.excl_vat)),
    vat: toPlainString(new Dec(cdr.total_cost.incl_vat).minus(cdr.total_cost.excl_vat)),
    gross: toPlainString(new Dec(cdr.total_cost.incl_vat)),
  };
}

/** The dimensions a revenue report can be grouped by (currency always is: amounts of two currencies never add). */
export const REVENUE_DIMENSIONS = ['site', 'station', 'evse', 'tariff', 'account'] as const;
export type RevenueDimension = (typeof REVENUE_DIMENSIONS)[number];

export interface RevenueTotals {
  cdrs: number;
  sessions: number;
  energyKwh: string;
  chargingHours: string;
  parkingHours: string;
  net: string;
  vat: string;
  gross: string;
}

/** Exact totals per currency of a list of facts (the reference the read model's sums are tested against). */
export function totalsByCurrency(facts: readonly RevenueFact[]): Record<string, RevenueTotals> {
  const acc = new Map<string, { cdrs: number; sessions: number; sums: Dec[] }>();
  for (const f of facts) {
    const a = acc.get(f.currency) ?? { cdrs: 0, sessions: 0, sums: [0, 0, 0, 0, 0, 0].map(() => new Dec(0)) };
    a.cdrs += 1;
    a.sessions += f.sessions;
    [f.energyKwh, f.chargingHours, f.parkingHours, f.net, f.vat, f.gross].forEach((v, i) => {
      a.sums[i] = a.sums[i].plus(v);
    });
    acc.set(f.currency, a);
  }
  const out: Record<string, RevenueTotals> = {};
  for (const [currency, a] of [...acc.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const [energyKwh, chargingHours, parkingHours, net, vat, gross] = a.sums.map(toPlainString);
    out[currency] = { cdrs: a.cdrs, sessions: a.sessions, energyKwh, chargingHours, parkingHours, net, vat, gross };
  }
  return out;
}

/**
 * An amount as the reports write it: the exact decimal with at least the currency's minor units ("14" EUR ->
 * "14.00", "-7.5" -> "-7.50"; JPY "1200"); more decimals than that are kept, never rounded away.
 */
export function amountText(value: string, currency: string): string {
  const minor = findCurrency(currency)?.minorUnits ?? 2;
  const [int, frac = ''] = value.split('.');
  if (frac.length >= minor) return value;
  return minor === 0 ? int : `${int}.${frac.padEnd(minor, '0')}`;
}
