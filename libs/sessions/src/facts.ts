/** Reading charger events (`@csms/ocpp-normaliser` facts): keys, transaction info and meter totals. */
import * as kernel from '@csms/kernel';
import type { ChargerEvent, NormalisedSample, TransactionEventInfo } from '@csms/ocpp-normaliser';
import type { SourceRef } from './events';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { decimalsOf, formatScaled, toScaled } = kernel;

/** The transaction info of a charger event, if it has one (no `in`: facts come in many shapes). */
export const txOf = (e: ChargerEvent): TransactionEventInfo | undefined => (e as { tx?: TransactionEventInfo }).tx;
export const connectorIdOf = (e: ChargerEvent): number | undefined => (e as { connectorId?: number }).connectorId;
export const evseIdOf = (e: ChargerEvent): number | undefined => (e as { evseId?: number }).evseId;

/** The connector a fact is about: the 1.6 connector or the 2.0.1 EVSE (0 = the whole station: none). */
export function connectorKeyOf(e: {
  stationId: string;
  protocol: string;
  evseId?: number;
  connectorId?: number;
}): string | undefined {
  if (e.protocol === 'ocpp1.6')
    return e.connectorId === undefined || e.connectorId === 0 ? undefined : `${e.stationId}|c${e.connectorId}`;
  return e.evseId === undefined || e.evseId === 0 ? undefined : `${e.stationId}|e${e.evseId}`;
}

/** A 1.6 StartTransaction's business identity (station + connector + meterStart + timestamp): a retry has the same. */
export function startIdentityOf(e: ChargerEvent): string | undefined {
  if (
    e.type !== 'transaction.started' ||
    e.protocol !== 'ocpp1.6' ||
    e.meterStartWh === undefined ||
    e.connectorId === undefined
  )
    return undefined;
  return `${e.stationId}|${e.connectorId}|${e.meterStartWh}|${e.occurredAt}`;
}

export function sourceOf(e: ChargerEvent): SourceRef {
  const { eventId, topic, partition, offset } = e.source;
  const ref: SourceRef = { eventId };
  if (topic !== undefined) ref.topic = topic;
  if (partition !== undefined) ref.partition = partition;
  if (offset !== undefined) ref.offset = offset;
  return ref;
}

const LINE_PHASES = new Set(['L1', 'L2', 'L3', 'L1-N', 'L2-N', 'L3-N']);

/** Total of a quantity at one instant: the phase-less value, else the sum of L1, L2, L3 (or L1-N...). */
export function totalOf(samples: NormalisedSample[], measurand: string, unit: string): string | undefined {
  // no list for the usual single value
  let first: string | undefined;
  let parts: string[] | undefined;
  for (const x of samples) {
    if (x.measurand !== measurand || x.unit !== unit || x.value === undefined || x.unitMismatch) continue;
    if (x.location !== 'Outlet' && measurand.startsWith('Energy')) continue;
    if (x.phase === undefined) return x.value;
    if (LINE_PHASES.has(x.phase)) {
      if (first === undefined) first = x.value;
      else (parts ??= [first]).push(x.value);
    }
  }
  return parts === undefined ? first : sumOf(parts);
}

/** totalOf() active-import energy (Wh), power (W) and current (A), in one pass over the samples. */
export function meterTotals(samples: NormalisedSample[]): [string | undefined, string | undefined, string | undefined] {
  // per quantity: the phase-less value (which wins, as in totalOf()), else the line phases in order
  let e: string | undefined;
  let p: string | undefined;
  let c: string | undefined;
  let eLines: string[] | undefined;
  let pLines: string[] | undefined;
  let cLines: string[] | undefined;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    const m = x.measurand;
    const value = x.value;
    if (value === undefined || x.unitMismatch) continue;
    if (m === 'Energy.Active.Import.Register') {
      if (e !== undefined || x.unit !== 'Wh' || x.location !== 'Outlet') continue;
      if (x.phase === undefined) e = value;
      else if (LINE_PHASES.has(x.phase)) (eLines ??= []).push(value);
    } else if (m === 'Power.Active.Import') {
      if (p !== undefined || x.unit !== 'W') continue;
      if (x.phase === undefined) p = value;
      else if (LINE_PHASES.has(x.phase)) (pLines ??= []).push(value);
    } else if (m === 'Current.Import') {
      if (c !== undefined || x.unit !== 'A') continue;
      if (x.phase === undefined) c = value;
      else if (LINE_PHASES.has(x.phase)) (cLines ??= []).push(value);
    }
  }
  return [e ?? sumOf(eLines), p ?? sumOf(pLines), c ?? sumOf(cLines)];
}

/** The reading context of the energy register among the samples (Sample.Periodic when none says). */
export function registerContextOf(samples: NormalisedSample[]): string {
  for (const x of samples) if (x.measurand === 'Energy.Active.Import.Register') return x.context;
  return 'Sample.Periodic';
}

/** Exact decimal sum of phase values (one value: itself). */
function sumOf(parts: string[] | undefined): string | undefined {
  if (parts === undefined) return undefined;
  if (parts.length === 1) return parts[0];
  let scale = 0;
  for (const p of parts) scale = Math.max(scale, decimalsOf(p));
  let sum = 0n;
  for (const p of parts) sum += toScaled(p, scale);
  return formatScaled(sum, scale);
}
