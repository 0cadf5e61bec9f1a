import { DomainError, Dec, decimalsOf, isDecimalString, toPlainString } from '@csms/kernel';
import type { OcmfReading, OcmfRecord } from './record';
import type { VerificationStatus } from './verify';

/**
 * Pairing checks over the signed records of one charging session (pure): do they come from one meter,
 * hold a begin and an end reading of one energy register, does that register never go backwards, do they
 * name one identification, and what energy do they prove (end − begin, exact, with its unit).
 */

/** What the checks need of a verified record (a `VerificationResult` is one). */
export interface SessionRecord {
  readonly status: VerificationStatus;
  readonly record: OcmfRecord | null;
}

export type SessionCheckName =
  | 'ALL_VALID'
  | 'SAME_METER'
  | 'BEGIN_READING'
  | 'END_READING'
  | 'MONOTONE_REGISTER'
  | 'SAME_IDENTIFICATION'
  | 'METER_STATUS_OK';

export interface SessionCheck {
  readonly name: SessionCheckName;
  readonly passed: boolean;
  readonly detail: string;
}

export type EnergyUnit = 'Wh' | 'kWh';

/** One reading of the session's energy register. */
export interface RegisterReading {
  /** Index of the record in the list given, and of the reading in its RD. */
  readonly recordIndex: number;
  readonly readingIndex: number;
  /** TX code of the reading (after filling in left-out fields). */
  readonly TX: string | undefined;
  readonly TM: string | undefined;
  /** Register id (OBIS), when the meter gives one. */
  readonly RI: string | undefined;
  readonly unit: EnergyUnit;
  /** RV as the meter wrote it (source text). */
  readonly text: string;
  /** RV as a plain decimal, trailing zeros kept. */
  readonly value: string;
}

export interface SignedEnergy {
  /** end − begin in `unit`, exact, with as many decimals as the finer of the two readings (`"29.500"`). */
  readonly value: string;
  /** The readings' unit (Wh when begin and end differ in unit). */
  readonly unit: EnergyUnit;
  /** The same energy in Wh, exact, without trailing zeros. */
  readonly wh: string;
  /** The meter's resolution in Wh: one unit of the last decimal of the coarser of the two readings. */
  readonly resolutionWh: string;
}

export interface SessionVerification {
  /** True when every check passed. */
  readonly ok: boolean;
  readonly checks: readonly SessionCheck[];
  readonly begin: RegisterReading | null;
  readonly end: RegisterReading | null;
  /** The energy the signed readings prove; null when there is no begin and end of one register. */
  readonly energy: SignedEnergy | null;
}

/** The meter and gateway identity every record of a session must share. */
const METER_FIELDS = ['GI', 'GS', 'MV', 'MM', 'MS', 'MF'] as const;
const ENERGY_UNITS: ReadonlySet<string> = new Set<EnergyUnit>(['Wh', 'kWh']);

/** Runs every check over the session's records, in the order they were produced (begin first). */
export function checkSession(records: readonly SessionRecord[]): SessionVerification {
  const checks: SessionCheck[] = [];
  const parsed = records.flatMap((r, i) => (r.record ? [{ index: i, record: r.record }] : []));

  const notValid = records.map((r, i) => ({ i, status: r.status })).filter((r) => r.status !== 'VALID');
  checks.push({
    name: 'ALL_VALID',
    passed: records.length > 0 && notValid.length === 0,
    detail:
      records.length === 0
        ? 'no signed records'
        : notValid.length === 0
          ? `all ${records.length} records verify`
          : `not verified: ${notValid.map((r) => `record ${r.i} ${r.status}`).join(', ')}`,
  });

  checks.push(sameFields('SAME_METER', parsed, METER_FIELDS, 'one meter'));
  checks.push(sameFields('SAME_IDENTIFICATION', parsed, ['ID', 'IT'], 'one identification'));

  const register = registerReadings(parsed);
  const beginAt = register.findIndex((r) => r.TX === 'B');
  const begin = beginAt < 0 ? null : register[beginAt];
  checks.push({
    name: 'BEGIN_READING',
    passed: begin !== null,
    detail: begin
      ? `begin: record ${begin.recordIndex} reading ${begin.readingIndex}, ${begin.text} ${begin.unit}`
      : 'no reading with TX "B" in Wh or kWh',
  });
  // the same register as the begin reading (its RI and an energy unit), last TX "E" after it
  const series = begin ? register.filter((r, i) => i >= beginAt && r.RI === begin.RI) : [];
  let end: RegisterReading | null = null;
  for (let i = series.length - 1; i > 0 && !end; i--) if (series[i].TX === 'E') end = series[i];
  checks.push({
    name: 'END_READING',
    passed: end !== null,
    detail: end
      ? `end: record ${end.recordIndex} reading ${end.readingIndex}, ${end.text} ${end.unit}`
      : begin
        ? `no reading with TX "E" of register ${begin.RI ?? '(no RI)'} after the begin reading`
        : 'no begin reading to pair an end reading with',
  });

  const upToEnd = end ? series.slice(0, series.indexOf(end) + 1) : series;
  const backwards = upToEnd.findIndex((r, i) => i > 0 && whOf(r).lt(whOf(upToEnd[i - 1])));
  checks.push({
    name: 'MONOTONE_REGISTER',
    passed: upToEnd.length > 0 && backwards < 0,
    detail:
      upToEnd.length === 0
        ? 'no register readings'
        : backwards < 0
          ? `${upToEnd.length} readings of the register, none lower than the one before`
          : `record ${upToEnd[backwards].recordIndex} reading ${upToEnd[backwards].readingIndex} (${upToEnd[backwards].text}) is lower than the reading before it (${upToEnd[backwards - 1].text})`,
  });

  const bad = [begin, end]
    .filter((r): r is RegisterReading => r !== null)
    .filter((r) => statusProblem(readingOf(parsed, r)) !== null);
  checks.push({
    name: 'METER_STATUS_OK',
    passed: begin !== null && end !== null && bad.length === 0,
    detail:
      begin === null || end === null
        ? 'no begin and end reading to check'
        : bad.length === 0
          ? 'begin and end readings have status G and no error flags'
          : bad
              .map((r) => `record ${r.recordIndex} reading ${r.readingIndex}: ${statusProblem(readingOf(parsed, r))}`)
              .join('; '),
  });

  const energy = begin && end ? signedEnergy(begin, end) : null;
  return { ok: checks.every((c) => c.passed), checks, begin, end, energy };
}

export type EnergyComparison = {
  readonly result: 'match' | 'mismatch';
  /** billed − signed, in Wh, exact. */
  readonly differenceWh: string;
  /** The largest difference taken as a match: the meter's resolution. */
  readonly toleranceWh: string;
};

/**
 * Compares the billed energy (Wh, plain decimal text) with the signed energy: a match when they differ by
 * at most the meter's resolution (a reading is cut to its last decimal, so end − begin is known no better).
 */
export function compareBilledEnergy(energy: SignedEnergy, billedWh: string): EnergyComparison {
  if (!isDecimalString(billedWh)) {
    throw new DomainError(
      'OCMF_BILLED_ENERGY_INVALID',
      `billed energy ${JSON.stringify(billedWh)} is not a plain decimal number of Wh`,
      {
        field: 'billedWh',
      },
    );
  }
  const difference = new Dec(billedWh).minus(new Dec(energy.wh));
  const tolerance = new Dec(energy.resolutionWh);
  return {
    result: difference.abs().lte(tolerance) ? 'match' : 'mismatch',
    differenceWh: toPlainString(difference),
    toleranceWh: energy.resolutionWh,
  };
}

function signedEnergy(begin: RegisterReading, end: RegisterReading): SignedEnergy {
  const wh = whOf(end).minus(whOf(begin));
  const finer = Math.max(decimalsOf(begin.value), decimalsOf(end.value));
  const sameUnit = begin.unit === end.unit;
  const resolution = Dec.max(resolutionWh(begin), resolutionWh(end));
  return {
    value: sameUnit ? new Dec(end.value).minus(new Dec(begin.value)).toFixed(finer) : toPlainString(wh),
    unit: sameUnit ? begin.unit : 'Wh',
    wh: toPlainString(wh),
    resolutionWh: toPlainString(resolution),
  };
}

/** One unit of the reading's last decimal, in Wh (a kWh reading to d decimals: 10^(3-d) Wh). */
function resolutionWh(r: RegisterReading): Dec {
  return new Dec(10).pow(-decimalsOf(r.value)).times(r.unit === 'kWh' ? 1000 : 1);
}

function whOf(r: RegisterReading): Dec {
  const v = new Dec(r.value);
  return r.unit === 'kWh' ? v.times(1000) : v;
}

/** Every reading in Wh or kWh with a decimal value, across the records in order. */
function registerReadings(parsed: readonly { index: number; record: OcmfRecord }[]): RegisterReading[] {
  const out: RegisterReading[] = [];
  for (const { index, record } of parsed) {
    record.payload.RD.forEach((r, j) => {
      if (r.RU === undefined || !ENERGY_UNITS.has(r.RU) || !r.RV || r.RV.decimal === null) return;
      out.push({
        recordIndex: index,
        readingIndex: j,
        TX: r.TX,
        TM: r.TM,
        RI: r.RI,
        unit: r.RU as EnergyUnit,
        text: r.RV.text,
        value: r.RV.decimal,
      });
    });
  }
  return out;
}

function readingOf(parsed: readonly { index: number; record: OcmfRecord }[], r: RegisterReading): OcmfReading {
  const rec = parsed.find((p) => p.index === r.recordIndex);
  return (rec as { record: OcmfRecord }).record.payload.RD[r.readingIndex];
}

/** OCMF "Readings": ST "G" is a good meter state; EF lists error flags (E energy, t time). */
function statusProblem(r: OcmfReading): string | null {
  if (r.ST !== 'G') return `meter status ST ${JSON.stringify(r.ST ?? null)} is not "G"`;
  if (r.EF !== undefined && r.EF !== '') return `error flags EF ${JSON.stringify(r.EF)}`;
  return null;
}

function sameFields(
  name: SessionCheckName,
  parsed: readonly { index: number; record: OcmfRecord }[],
  fields: readonly ('GI' | 'GS' | 'MV' | 'MM' | 'MS' | 'MF' | 'ID' | 'IT')[],
  what: string,
): SessionCheck {
  if (parsed.length === 0) return { name, passed: false, detail: 'no readable records' };
  const first = parsed[0].record.payload;
  for (const f of fields) {
    const other = parsed.find((p) => p.record.payload[f] !== first[f]);
    if (other) {
      return {
        name,
        passed: false,
        detail: `${f} differs: record ${parsed[0].index} has ${JSON.stringify(first[f] ?? null)}, record ${other.index} ${JSON.stringify(other.record.payload[f] ?? null)}`,
      };
    }
  }
  return { name, passed: true, detail: `${parsed.length} records of ${what} (${fields.join(', ')} equal)` };
}
