/**
 * The ad-hoc (QR) payment's rules outside the decider (pure): the ids derived from a checkout attempt (a double
 * click or a reload gives the same payment), the one-time token the station is started with, the remote start
 * request per OCPP version, what a command result means for the hold, and the tariff in plain words for the
 * driver. The decider's part (start_adhoc_payment, release_unused_hold) is in payment-decider.ts / card.ts.
 */
import { createHash } from 'node:crypto';
import { Dec } from '@csms/kernel';
import { deriveId, type OcpiTariffDocument } from '@csms/contracts';
import { adhocAccountId } from './envelopes';
import { fromMinorUnits } from './minor-units';
import { intentIdOf } from './state';

/** The payment of one checkout attempt on one EVSE (the attempt id is the start page's, sent with the form). */
export function adhocPaymentIdOf(stationId: string, evseId: number, attemptId: string): string {
  return deriveId('adhoc-payment', stationId, evseId, attemptId);
}

/** The source of the payment's `start_adhoc_payment` (so its hold id is derived from the payment id alone). */
export function adhocStartSourceOf(paymentId: string): string {
  return deriveId('adhoc-start', paymentId);
}

/** The hold (and the PSP idempotency key of its hosted page) of an ad-hoc payment. */
export function adhocHoldIdOf(paymentId: string): string {
  return intentIdOf('authorize', adhocStartSourceOf(paymentId));
}

/** The payment id of an `adhoc:<paymentId>` account, or null for any other account. */
export function adhocPaymentOf(accountId: string): string | null {
  const prefix = adhocAccountId('');
  return accountId.startsWith(prefix) && accountId.length > prefix.length ? accountId.slice(prefix.length) : null;
}

/**
 * The one-time token the station is remotely started with: 20 characters (an OCPP 1.6 idTag's limit), `QR` and 18
 * hexadecimal digits of SHA-256 over the hold and the PSP's payment reference. Not guessable from the public
 * payment id (the PSP reference is never shown), the same for the same authorisation (a replayed decision
 * registers the same token).
 */
export function oneTimeTokenOf(holdId: string, paymentRef: string): string {
  return `QR${createHash('sha256').update(`${holdId}|${paymentRef}`).digest('hex').slice(0, 18).toUpperCase()}`;
}

/** A positive 31-bit integer derived from the hold: OCPP 2.0.1's `remoteStartId`. */
export function remoteStartIdOf(holdId: string): number {
  const n = createHash('sha256').update(`remote-start|${holdId}`).digest().readUInt32BE(0) & 0x7fffffff;
  return n === 0 ? 1 : n;
}

export type StationProtocol = 'ocpp1.6' | 'ocpp2.0.1';

/**
 * The remote start of an ad-hoc session: OCPP 1.6 `RemoteStartTransaction { connectorId, idTag }` (a 1.6 EVSE is a
 * connector) or 2.0.1 `RequestStartTransaction { evseId, remoteStartId, idToken: { idToken, type: Central } }`.
 */
export function remoteStartRequest(
  protocol: StationProtocol,
  r: { evseId: number; token: string; holdId: string },
): { action: 'RemoteStartTransaction' | 'RequestStartTransaction'; payload: Record<string, unknown> } {
  return protocol === 'ocpp1.6'
    ? { action: 'RemoteStartTransaction', payload: { connectorId: r.evseId, idTag: r.token } }
    : {
        action: 'RequestStartTransaction',
        payload: {
          evseId: r.evseId,
          remoteStartId: remoteStartIdOf(r.holdId),
          idToken: { idToken: r.token, type: 'Central' },
        },
      };
}

export const otherProtocol = (p: StationProtocol): StationProtocol => (p === 'ocpp1.6' ? 'ocpp2.0.1' : 'ocpp1.6');

/**
 * What the result of the remote start (ocpp.command_completed's status) means for the paid hold:
 * - `wait`: accepted, or the answer was lost (`timed_out`, `interrupted`, `invalid_response`: the station may have
 *   started): the session's start settles it, else the start timeout releases the hold;
 * - `release`: the station refused (`rejected`), answered an error, was offline, or the command expired or was
 *   invalid: it will not start, release the hold now;
 * - `other_protocol`: the station speaks the other OCPP version: send its start instead.
 */
export function startResultVerdict(status: string): 'wait' | 'release' | 'other_protocol' {
  switch (status) {
    case 'accepted':
    case 'timed_out':
    case 'interrupted':
    case 'invalid_response':
      return 'wait';
    case 'not_supported':
      return 'other_protocol';
    default:
      return 'release';
  }
}

/** One line of the tariff in plain words. */
export interface TariffLine {
  /** `start_fee`, `energy`, `time`, `parking`, `cap`, `minimum` */
  kind: string;
  text: string;
}

const DAY_NAMES: Record<string, string> = {
  MONDAY: 'Mon',
  TUESDAY: 'Tue',
  WEDNESDAY: 'Wed',
  THURSDAY: 'Thu',
  FRIDAY: 'Fri',
  SATURDAY: 'Sat',
  SUNDAY: 'Sun',
};

type Element = OcpiTariffDocument['elements'][number];
type Restrictions = NonNullable<Element['restrictions']>;

const num = (v: number | string): InstanceType<typeof Dec> => new Dec(String(v));

/** A price in major units, rounded to the minor unit of the currency (at least 2 decimals for rates). */
function money(v: InstanceType<typeof Dec>, currency: string, minDecimals = 2): string {
  const dp = Math.max(minDecimals, v.decimalPlaces());
  return `${v.toFixed(Math.min(dp, 4))} ${currency}`;
}

function minutes(seconds: number): string {
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The restrictions of an element in words ("Mon–Fri 18:00–22:00, after 120 min"), or '' when none. */
export function restrictionsInWords(r: Restrictions | undefined): string {
  if (!r) return '';
  const parts: string[] = [];
  if (r.day_of_week && r.day_of_week.length > 0 && r.day_of_week.length < 7)
    parts.push(r.day_of_week.map((d) => DAY_NAMES[d] ?? d).join(', '));
  if (r.start_time || r.end_time) parts.push(`${r.start_time ?? '00:00'}–${r.end_time ?? '24:00'}`);
  if (r.start_date || r.end_date) parts.push(`${r.start_date ?? '…'} to ${r.end_date ?? '…'}`);
  if (r.min_duration !== undefined) parts.push(`after ${minutes(r.min_duration)}`);
  if (r.max_duration !== undefined) parts.push(`during the first ${minutes(r.max_duration)}`);
  if (r.min_kwh !== undefined) parts.push(`above ${num(r.min_kwh).toString()} kWh`);
  if (r.max_kwh !== undefined) parts.push(`up to ${num(r.max_kwh).toString()} kWh`);
  if (r.min_power !== undefined) parts.push(`at ${num(r.min_power).toString()} kW or more`);
  if (r.max_power !== undefined) parts.push(`below ${num(r.max_power).toString()} kW`);
  if (r.min_current !== undefined) parts.push(`at ${num(r.min_current).toString()} A or more`);
  if (r.max_current !== undefined) parts.push(`below ${num(r.max_current).toString()} A`);
  if (r.reservation) parts.push('while reserved');
  return parts.join(', ');
}

/**
 * The tariff as a driver reads it before paying: one line per price component (start fee, per kWh, per hour of
 * charging, per hour of parking), each with its VAT and the price with VAT, and its conditions; the minimum and
 * maximum price. Prices as the tariff states them (OCPI: excluding VAT), never rounded up or down silently.
 */
export function tariffInWords(tariff: OcpiTariffDocument): TariffLine[] {
  const cur = tariff.currency;
  const lines: TariffLine[] = [];
  for (const el of tariff.elements) {
    const when = restrictionsInWords(el.restrictions);
    for (const pc of el.price_components) {
      const price = num(pc.price);
      const vat = pc.vat === undefined ? null : num(pc.vat);
      const withVat = vat === null ? null : price.times(vat.dividedBy(100).plus(1));
      const vatText = vat === null ? ' (VAT not stated)' : ` + ${vat.toString()} % VAT = ${money(withVat!, cur)}`;
      const step = pc.step_size > 1 ? `, billed per ${stepText(pc.type, pc.step_size)}` : '';
      const cond = when ? ` (${when})` : '';
      switch (pc.type) {
        case 'FLAT':
          lines.push({ kind: 'start_fee', text: `Start fee: ${money(price, cur)}${vatText}${cond}` });
          break;
        case 'ENERGY':
          lines.push({ kind: 'energy', text: `Energy: ${money(price, cur)} per kWh${vatText}${step}${cond}` });
          break;
        case 'TIME':
          lines.push({
            kind: 'time',
            text: `Charging time: ${money(price, cur)} per hour${vatText}${perMinute(price, withVat, cur)}${step}${cond}`,
          });
          break;
        case 'PARKING_TIME':
          lines.push({
            kind: 'parking',
            text: `Parking (idle) time: ${money(price, cur)} per hour${vatText}${perMinute(price, withVat, cur)}${step}${cond}`,
          });
          break;
      }
    }
  }
  if (tariff.min_price)
    lines.push({ kind: 'minimum', text: `Minimum price: ${priceText(tariff.min_price, cur)} per session` });
  if (tariff.max_price)
    lines.push({ kind: 'cap', text: `Maximum price: ${priceText(tariff.max_price, cur)} per session` });
  return lines;
}

function perMinute(price: InstanceType<typeof Dec>, withVat: InstanceType<typeof Dec> | null, cur: string): string {
  const m = (withVat ?? price).dividedBy(60);
  return ` (${money(m.toDecimalPlaces(4), cur)} per minute${withVat ? ' with VAT' : ''})`;
}

function stepText(type: string, step: number): string {
  if (type === 'ENERGY') return `${new Dec(step).dividedBy(1000).toString()} kWh`;
  return minutes(step);
}

function priceText(p: { excl_vat: number | string; incl_vat?: number | string }, cur: string): string {
  return p.incl_vat !== undefined
    ? `${money(num(p.incl_vat), cur)} with VAT (${money(num(p.excl_vat), cur)} without)`
    : `${money(num(p.excl_vat), cur)} without VAT`;
}

/** The hold in words: what is reserved, and that only the session's price is charged. */
export function holdInWords(holdMinor: bigint, currency: string): string {
  return `${fromMinorUnits(holdMinor, currency)} ${currency} is reserved on your card when you pay; only the price of your session is charged at the end and the rest is released at once. If the charger does not start, the whole reservation is released.`;
}
